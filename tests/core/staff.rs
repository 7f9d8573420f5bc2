//! Staff logins: the owner adds a login for the shop, the new login runs
//! the counter, only the owner adds or removes, removal logs it out at
//! once; the operator resets a shopkeeper's password to a one-time password.

use serde_json::json;

use crate::support::{ADMIN, DUMPLINGS, PASSWORD, TEA, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_adds_and_removes_staff_logins() {
    let server = TestServer::start().await;
    let mut owner = server.login(DUMPLINGS).await;
    let list = owner.get("/api/shop/staff").await.expect(200);
    assert_eq!(list.as_array().expect("list").len(), 1);
    assert_eq!(list[0]["owner"], true);

    let body = json!({"email": "Mei@Stall.example", "name": "Mei", "password": "wok-and-roll"});
    let added = owner
        .post("/api/shop/staff", body.clone())
        .await
        .expect(201);
    assert_eq!(added["email"], "mei@stall.example");
    assert_eq!(added["owner"], false);
    let again = owner.post("/api/shop/staff", body).await;
    assert_eq!(again.error(409), "conflict");
    let short = json!({"email": "x@stall.example", "name": "X", "password": "short"});
    assert_eq!(
        owner.post("/api/shop/staff", short).await.error(422),
        "invalid_input"
    );

    // The new login runs the same counter, but cannot manage staff.
    let mut mei = server.guest();
    mei.login("mei@stall.example", "wok-and-roll").await;
    let shop = mei.get("/api/shop").await.expect(200);
    assert_eq!(shop["id"], server.shop_id(crate::support::DUMPLING_SHOP));
    let by_staff = json!({"email": "y@stall.example", "name": "Y", "password": "long enough"});
    assert_eq!(
        mei.post("/api/shop/staff", by_staff).await.error(403),
        "forbidden"
    );
    let owner_id = list[0]["user_id"].clone();
    let r = mei
        .send("DELETE", &format!("/api/shop/staff/{owner_id}"), None)
        .await;
    assert_eq!(r.error(403), "forbidden");

    // Another shop's owner cannot remove Mei; the owner cannot remove themself.
    let mut tea = server.login(TEA).await;
    let mei_path = format!("/api/shop/staff/{}", added["user_id"]);
    assert_eq!(
        tea.send("DELETE", &mei_path, None).await.error(404),
        "not_found"
    );
    let r = owner
        .send("DELETE", &format!("/api/shop/staff/{owner_id}"), None)
        .await;
    assert_eq!(r.error(409), "conflict");

    // Removed: logged out at once, and the login is gone.
    owner.send("DELETE", &mei_path, None).await.expect(204);
    assert_eq!(mei.get("/api/shop").await.error(401), "login_required");
    let relogin = server
        .guest()
        .post(
            "/api/auth/login",
            json!({"email": "mei@stall.example", "password": "wok-and-roll"}),
        )
        .await;
    assert_eq!(relogin.status, 401, "{}", relogin.body);
    assert_eq!(
        owner
            .get("/api/shop/staff")
            .await
            .expect(200)
            .as_array()
            .expect("list")
            .len(),
        1
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_resets_a_shopkeepers_password_to_a_one_time_password() {
    let server = TestServer::start().await;
    let mut keeper = server.login(DUMPLINGS).await;
    let me = keeper.get("/api/shop/staff").await.expect(200)[0].clone();
    let path = format!("/api/admin/users/{}/password-reset", me["user_id"]);
    // Only the admin.
    assert_eq!(keeper.post(&path, json!({})).await.error(403), "forbidden");
    let mut admin = server.login(ADMIN).await;
    let reset = admin.post(&path, json!({})).await.expect(200);
    let otp = reset["one_time_password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert!(otp.len() >= 12, "{otp}");
    assert_eq!(reset["email"], DUMPLINGS);
    // The old password and the old session are gone; the new one works.
    assert_eq!(keeper.get("/api/shop").await.error(401), "login_required");
    let old = server
        .guest()
        .post(
            "/api/auth/login",
            json!({"email": DUMPLINGS, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status, 401);
    let mut fresh = server.guest();
    fresh.login(DUMPLINGS, &otp).await;
    fresh.get("/api/shop").await.expect(200);
    // Each reset gives a different password; unknown users and admins are not found.
    let second = admin.post(&path, json!({})).await.expect(200);
    assert_ne!(second["one_time_password"], reset["one_time_password"]);
    let missing = admin
        .post("/api/admin/users/999999/password-reset", json!({}))
        .await;
    assert_eq!(missing.error(404), "not_found");
    server.stop().await;
}
