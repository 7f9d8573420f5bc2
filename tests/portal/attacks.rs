//! Attacks from the outside, each refused: planted or made-up device
//! cookies, forms replayed across logins, lenient parsing, open redirects,
//! cookies on static files.

use serde_json::json;

use crate::support::{Api, Server, encode};

fn device_of(api: &Api) -> String {
    api.cookie("ql_device").expect("a device cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_or_made_up_device_cookie_is_not_a_device() {
    let server = Server::start().await;
    let mut victim = Api::new(&server);
    let (status, body) = victim
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": 5, "quantity": 1}], "idempotency_key": "test-checkout-victim"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let issued = device_of(&victim);
    let (id, mac) = issued.split_once('.').expect("an id and its signature");
    assert_eq!((id.len(), mac.len()), (32, 32), "{issued}");

    // Any 32-hex value used to be a device. A made-up one, or the victim's
    // bare id without the signature, is a new device with no orders.
    for planted in [
        id.to_owned(),
        "0".repeat(32),
        format!("{id}.{}", "0".repeat(32)),
    ] {
        let mut attacker = Api::new(&server);
        attacker.plant_cookie("ql_device", &planted);
        let (status, mine) = attacker.send("GET", "/api/me/orders", None).await;
        assert_eq!(status, 200);
        assert_eq!(mine.as_array().map(Vec::len), Some(0), "{planted}: {mine}");
        assert_ne!(device_of(&attacker), planted, "a new id is issued");
    }
    // The victim still sees their own order.
    let (_, mine) = victim.send("GET", "/api/me/orders", None).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_form_token_is_bound_to_its_login() {
    let server = Server::start().await;
    // The attacker gets a device and its form token, then plants that
    // device on a shopkeeper's browser (or copies it): the shopkeeper's
    // forms carry their login, so the attacker's token does not pass.
    let mut attacker = Api::new(&server);
    let token = attacker.csrf().await;
    let device = device_of(&attacker);
    let mut keeper = Api::new(&server);
    keeper.plant_cookie("ql_device", &device);
    keeper.login("dumplings@demo.queueless").await;
    let (status, _, _) = keeper
        .form("/shop/pause", &[("_csrf", &token), ("paused", "true")])
        .await;
    assert_eq!(status, 403, "a token made without the login");
    let (_, shop) = keeper.send("GET", "/api/shop", None).await;
    assert_eq!(shop["paused"], false, "nothing changed");
    // The keeper's own page token works.
    let own = keeper.csrf().await;
    assert_ne!(own, token);
    let (status, _, _) = keeper
        .form("/shop/pause", &[("_csrf", &own), ("paused", "true")])
        .await;
    assert_eq!(status, 303);
    // And after logging out, that token is no longer good.
    let (status, _) = keeper.send("POST", "/api/auth/logout", None).await;
    assert_eq!(status, 204);
    let (status, _, _) = keeper
        .form(
            "/cart/set",
            &[("_csrf", &own), ("item_id", "5"), ("quantity", "1")],
        )
        .await;
    assert_eq!(status, 403, "a form rendered for the login, sent after it");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parsing_is_strict() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let csrf = guest.csrf().await;

    // Sec-Fetch-Site in any case.
    for site in ["cross-site", "Cross-Site", "CROSS-SITE"] {
        let r = reqwest::Client::new()
            .post(server.url("/api/orders"))
            .header("sec-fetch-site", site)
            .json(&json!({"items": [{"item_id": 5, "quantity": 1}], "idempotency_key": format!("test-checkout-{site}")}))
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status().as_u16(), 403, "{site}");
    }

    // Only the form content type itself.
    let body = encode(&[
        ("_csrf", &csrf),
        ("item_id", "5"),
        ("quantity", "1"),
        ("back", "/"),
    ]);
    for kind in [
        "application/x-www-form-urlencoded-evil",
        "application/x-www-form-urlencodedx",
        "application/x-www-form-urlencoded; charset=latin1",
        "text/plain",
    ] {
        let (status, _, _) = guest
            .post_raw("/cart/add", kind, body.clone().into_bytes())
            .await;
        assert_eq!(status, 415, "{kind}");
    }
    assert_eq!(guest.cookie("ql_cart"), None, "nothing added");

    // Invalid UTF-8 in a form is refused, not stored as U+FFFD.
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let token = keeper.csrf().await;
    let mut raw = format!("_csrf={token}&name=").into_bytes();
    raw.extend_from_slice(b"%FF%FEJuice&price=3.50");
    let (status, page, _) = keeper
        .post_raw("/shop/menu/items", "application/x-www-form-urlencoded", raw)
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("UTF-8"), "{page}");
    let (_, items) = keeper.send("GET", "/api/shop/items", None).await;
    assert!(
        !items.to_string().contains('\u{fffd}'),
        "no replacement character stored: {items}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_after_adding_to_the_cart_stays_on_this_site() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let csrf = guest.csrf().await;
    for (back, expected) in [
        ("/shops/1", "/shops/1"),
        ("/\t/evil.example", "/cart"),
        ("/\n/x", "/cart"),
        ("//evil.example", "/cart"),
        ("https://evil.example/", "/cart"),
        ("/\\evil.example", "/cart"),
    ] {
        let (status, page, location) = guest
            .form(
                "/cart/add",
                &[
                    ("_csrf", &csrf),
                    ("item_id", "5"),
                    ("quantity", "1"),
                    ("back", back),
                ],
            )
            .await;
        assert_eq!(status, 303, "{back:?}: {page}");
        assert_eq!(location, expected, "{back:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_set_no_cookie() {
    let server = Server::start().await;
    for path in [
        "/static/app.css",
        "/static/guest.js",
        "/static/shop.js",
        "/static/board.js",
    ] {
        let r = reqwest::get(server.url(path)).await.expect("sent");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(r.headers().get("set-cookie").is_none(), "{path}");
    }
    // Pages still give a device.
    let r = reqwest::get(server.url("/")).await.expect("sent");
    assert!(r.headers().get("set-cookie").is_some());
    server.stop().await;
}
