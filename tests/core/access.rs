//! Who may do what: every staff route (taken from the OpenAPI document, so
//! a new route is covered at once) refuses guests, other roles and other
//! shops, writing nothing; guests' lists are per device while status links
//! are capabilities; cross-site posts are refused; logins are rate-limited.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};

use crate::support::{
    ADMIN, CLASSIC, Client, DUMPLING_SHOP, DUMPLINGS, JUICE, ORANGE, PASSWORD, PORK, TEA, TEA_SHOP,
    TestServer,
};

/// Every staff route `(method, path template)` in the OpenAPI document.
async fn staff_routes(server: &TestServer) -> Vec<(String, String)> {
    let doc = server.guest().get("/api/openapi.json").await.expect(200);
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let staff = path == "/api/shop"
            || path.starts_with("/api/shop/")
            || path.starts_with("/api/admin/");
        if staff {
            for method in ops.as_object().expect("operations").keys() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(
        out.len() >= 20,
        "the document lists the staff routes: {out:?}"
    );
    out
}

/// A body each route accepts, so that only access decides the answer.
fn body_for(method: &str, template: &str) -> Option<Value> {
    Some(match (method, template) {
        ("POST", "/api/shop/orders/{order_id}/status") => json!({"status": "accepted"}),
        ("POST", "/api/shop/orders/{order_id}/payment") => json!({"status": "successful"}),
        ("PATCH", "/api/shop/items/{item_id}") => json!({"name": "Mine now"}),
        ("POST", "/api/shop/items/{item_id}/stock") => json!({"set": 0}),
        ("POST", "/api/shop/ingredients/{ingredient_id}/stock") => json!({"set": 0}),
        ("PATCH", "/api/shop") => json!({"paused": true}),
        ("POST", "/api/shop/categories") => json!({"name": "Stolen"}),
        ("POST", "/api/shop/items") => {
            json!({"name": "Stolen", "price_cents": 1, "stock": {"kind": "unlimited"}})
        }
        ("POST", "/api/shop/ingredients") => json!({"name": "salt", "unit": "g"}),
        ("POST", "/api/shop/tables") => json!({"label": "Table 9"}),
        ("POST", "/api/shop/option-groups") => json!({"name": "Stolen", "max": 1}),
        ("PATCH", "/api/shop/option-groups/{group_id}") => json!({"name": "Mine now"}),
        ("POST", "/api/shop/option-groups/{group_id}/options") => json!({"name": "Stolen"}),
        ("PATCH", "/api/shop/options/{option_id}") => json!({"name": "Mine now"}),
        ("POST", "/api/shop/options/{option_id}/stock") => json!({"set": 0}),
        _ => return None,
    })
}

/// The template with ids filled in.
fn fill(template: &str, ids: &[(&str, &Value)]) -> String {
    ids.iter().fold(template.to_owned(), |p, (name, id)| {
        p.replace(&format!("{{{name}}}"), &id.to_string())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_routes_refuse_guests_and_the_wrong_role() {
    let server = TestServer::start().await;
    let routes = staff_routes(&server).await;
    let mut keeper = server.login(TEA).await;
    let mut admin = server.login(ADMIN).await;
    let mut gone = server.login(TEA).await;
    let old = gone.cookie("ql_session").expect("a session").to_owned();
    assert_eq!(
        gone.send("POST", "/api/auth/logout", None).await.status,
        204
    );
    assert_eq!(gone.cookie("ql_session"), None, "the cookie is cleared");
    let order = server
        .guest()
        .place(&[(server.item_id(CLASSIC), 1)], "x")
        .await;
    let ids = [
        ("order_id", &order["id"]),
        ("item_id", &json!(server.item_id(CLASSIC))),
        ("ingredient_id", &json!(1)),
        ("table_id", &json!(1)),
        ("shop_id", &json!(server.shop_id(TEA_SHOP))),
        ("group_id", &json!(1)),
        ("option_id", &json!(1)),
    ];
    let dump = server.dump().await;
    let mut guest = server.guest();
    for (method, template) in &routes {
        let path = fill(template, &ids);
        let body = body_for(method, template);
        let r = guest.send(method, &path, body.clone()).await;
        assert_eq!(
            r.error(401),
            "login_required",
            "{method} {path} without login"
        );
        if template.starts_with("/api/admin/") {
            let r = keeper.send(method, &path, body.clone()).await;
            assert_eq!(r.error(403), "forbidden", "{method} {path} as a shopkeeper");
        } else {
            let r = admin.send(method, &path, body.clone()).await;
            assert_eq!(r.error(403), "forbidden", "{method} {path} as the admin");
        }
        // A made-up session, or one that logged out, is no login.
        for token in ["0".repeat(32), old.clone()] {
            let cookie = format!("ql_session={token}");
            let r = server
                .guest()
                .raw(method, &path, &[("cookie", &cookie)], None)
                .await;
            assert_eq!(
                r.error(401),
                "login_required",
                "{method} {path} with {cookie}"
            );
        }
    }
    dump.assert_same(&server.dump().await, "refused staff requests");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopkeeper_cannot_touch_another_shops_things() {
    let server = TestServer::start().await;
    // Bubble Lab (tea) has orders, items, ingredients and a table;
    // the Dumpling House shopkeeper tries them all.
    let mut tea = server.login(TEA).await;
    let mut other = server.login(DUMPLINGS).await;
    let order = server
        .guest()
        .place(&[(server.item_id(CLASSIC), 1)], "tea")
        .await;
    let table = tea
        .post("/api/shop/tables", json!({"label": "Table 1"}))
        .await
        .expect(201);
    let cup = tea.ingredient("cup").await;
    let category = tea.get("/api/shop/menu").await.expect(200)["categories"][0]["id"].clone();
    let group = tea
        .post(
            "/api/shop/option-groups",
            json!({"name": "Sugar", "max": 1}),
        )
        .await
        .expect(201);
    let option = tea
        .post(
            &format!("/api/shop/option-groups/{}/options", group["id"]),
            json!({"name": "50 %", "stock": {"kind": "counted", "left": 3}}),
        )
        .await
        .expect(201);
    let tea_login = tea.get("/api/shop/staff").await.expect(200)[0]["user_id"].clone();
    let ids = [
        ("order_id", &order["id"]),
        ("item_id", &json!(server.item_id(CLASSIC))),
        ("ingredient_id", &cup["id"]),
        ("table_id", &table["id"]),
        ("group_id", &group["id"]),
        ("option_id", &option["id"]),
        ("user_id", &tea_login),
    ];
    let routes = staff_routes(&server).await;
    let targeted: Vec<&(String, String)> = routes
        .iter()
        .filter(|(_, t)| t.starts_with("/api/shop/") && t.contains('{'))
        .collect();
    let mut names: Vec<String> = targeted.iter().map(|(m, t)| format!("{m} {t}")).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "DELETE /api/shop/items/{item_id}",
            "DELETE /api/shop/items/{item_id}/option-groups/{group_id}",
            "DELETE /api/shop/option-groups/{group_id}",
            "DELETE /api/shop/options/{option_id}",
            "DELETE /api/shop/staff/{user_id}",
            "GET /api/shop/tables/{table_id}/orders",
            "PATCH /api/shop/items/{item_id}",
            "PATCH /api/shop/option-groups/{group_id}",
            "PATCH /api/shop/options/{option_id}",
            "POST /api/shop/ingredients/{ingredient_id}/stock",
            "POST /api/shop/items/{item_id}/stock",
            "POST /api/shop/option-groups/{group_id}/options",
            "POST /api/shop/options/{option_id}/stock",
            "POST /api/shop/orders/{order_id}/payment",
            "POST /api/shop/orders/{order_id}/print",
            "POST /api/shop/orders/{order_id}/status",
            "POST /api/shop/orders/{order_id}/undo",
            "POST /api/shop/tables/{table_id}/close",
            "PUT /api/shop/items/{item_id}/option-groups/{group_id}",
            "PUT /api/shop/items/{item_id}/photo",
        ],
        "a new route that names a shop's thing needs a case here"
    );

    let dump = server.dump().await;
    for (method, template) in targeted {
        let path = fill(template, &ids);
        let r = other.send(method, &path, body_for(method, template)).await;
        assert_eq!(r.error(404), "not_found", "{method} {path}");
    }
    // Nor may its own items use the other shop's ingredient or category.
    let recipe = json!({"name": "Stolen tea", "price_cents": 100,
        "stock": {"kind": "recipe", "lines": [{"ingredient_id": cup["id"], "quantity": 1}]}});
    let r = other.post("/api/shop/items", recipe).await;
    assert_eq!(r.error(404), "not_found", "another shop's ingredient");
    let filed = json!({"name": "Stolen", "price_cents": 100, "category_id": category,
        "stock": {"kind": "unlimited"}});
    let r = other.post("/api/shop/items", filed).await;
    assert_eq!(r.error(404), "not_found", "another shop's category");
    dump.assert_same(&server.dump().await, "another shop's requests");

    // Its lists show only its own.
    assert!(other.shop_orders().await.is_empty());
    assert_eq!(other.get("/api/shop/tables").await.expect(200), json!([]));
    let menu = other.get("/api/shop/menu").await.expect(200);
    let dumplings = server.shop_id(DUMPLING_SHOP);
    assert!(
        menu["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["shop_id"] == dumplings)
    );
    assert_eq!(menu["ingredients"], json!([]));
    // Only its own option group (the demo's spice level), none of the tea's.
    let groups = other.get("/api/shop/option-groups").await.expect(200);
    let names: Vec<&str> = groups
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Spice level"], "{groups}");
    assert_eq!(tea.shop_orders().await.len(), 1);
    // A guest at the tea table cannot order dumplings into it: the
    // dumplings are a plain order, the table stays the tea shop's.
    let mut guest = server.guest();
    let placed = guest
        .post(
            "/api/orders",
            json!({"items": [{"item_id": server.item_id(PORK), "quantity": 1}],
                "idempotency_key": "test-checkout-table", "session": table["code"]}),
        )
        .await
        .expect(201);
    let view = guest.view(&placed["orders"][0]).await;
    assert_eq!(view["table_id"], Value::Null, "{view}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_see_their_own_orders_and_status_links_are_capabilities() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut a = server.guest();
    let mut b = server.guest();
    let order = a.place(&[(orange, 1)], "mine").await;
    let token = order["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 32, "128 random bits: {token}");
    assert_ne!(a.cookie("ql_device"), None);

    let mine = a.get("/api/me/orders").await.expect(200);
    assert_eq!(mine.as_array().expect("list").len(), 1);
    assert_eq!(mine[0]["id"], order["id"]);
    assert_eq!(b.get("/api/me/orders").await.expect(200), json!([]));
    assert_ne!(a.cookie("ql_device"), b.cookie("ql_device"));
    let notes = a.get("/api/me/notifications").await.expect(200);
    assert_eq!(b.get("/api/me/notifications").await.expect(200), json!([]));
    let note = notes[0]["id"].clone();
    let r = b
        .send("POST", &format!("/api/me/notifications/{note}/read"), None)
        .await;
    assert_eq!(r.error(404), "not_found", "another device's notification");
    let r = a
        .send("POST", &format!("/api/me/notifications/{note}/read"), None)
        .await;
    assert_eq!(r.status, 204);

    // Whoever holds the link sees the order: the guest's real browser
    // after the captive-portal window closed is another device.
    assert_eq!(
        b.get(&format!("/api/orders/{token}")).await.expect(200)["id"],
        order["id"]
    );
    let mut forged = token.clone().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).expect("ascii");
    for bad in [forged.as_str(), "nope", "0"] {
        let r = b.get(&format!("/api/orders/{bad}")).await;
        assert_eq!(r.error(404), "not_found", "{bad}");
        let r = b
            .send("POST", &format!("/api/orders/{bad}/cancel"), None)
            .await;
        assert_eq!(r.error(404), "not_found", "{bad}");
    }
    // … and may cancel it while placed (the link is the capability).
    let view = b
        .send("POST", &format!("/api/orders/{token}/cancel"), None)
        .await
        .expect(200);
    assert_eq!(view["status"], "cancelled");
    assert_eq!(
        a.get("/api/me/orders").await.expect(200)[0]["status"],
        "cancelled"
    );
    assert_eq!(
        b.get("/api/me/orders").await.expect(200),
        json!([]),
        "still not b's"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused_and_write_nothing() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();
    let order = json!({"items": [{"item_id": orange, "quantity": 1}], "idempotency_key": "test-checkout-csrf"});
    let body = serde_json::to_vec(&order).expect("json");
    let host = server.base.trim_start_matches("http://").to_owned();
    let other_port = format!("http://127.0.0.1:{}", server.port() + 1);
    let lookalike = format!("https://{host}.evil.example");
    let dump = server.dump().await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("origin", other_port.as_str()),
        ("origin", lookalike.as_str()),
    ] {
        let headers = [("content-type", "application/json"), (name, value)];
        let r = guest
            .raw("POST", "/api/orders", &headers, Some(body.clone()))
            .await;
        assert_eq!(r.error(403), "forbidden", "{name}: {value}");
        let r = keeper
            .raw(
                "PATCH",
                "/api/shop",
                &headers,
                Some(br#"{"paused":true}"#.to_vec()),
            )
            .await;
        assert_eq!(
            r.error(403),
            "forbidden",
            "a logged-in shop too: {name}: {value}"
        );
        let login =
            serde_json::to_vec(&json!({"email": ADMIN, "password": PASSWORD})).expect("json");
        let r = guest
            .raw("POST", "/api/auth/login", &headers, Some(login))
            .await;
        assert_eq!(r.error(403), "forbidden", "login: {name}: {value}");
        assert_eq!(guest.cookie("ql_session"), None);
    }
    dump.assert_same(&server.dump().await, "cross-site posts");
    assert_eq!(keeper.get("/api/shop").await.expect(200)["paused"], false);

    // Reads stay open, and this site's own pages may post.
    let r = guest
        .raw(
            "GET",
            "/api/shops",
            &[("sec-fetch-site", "cross-site")],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let same_site = format!("http://{host}");
    for (name, value) in [
        ("origin", same_site.as_str()),
        ("sec-fetch-site", "same-origin"),
    ] {
        let headers = [("content-type", "application/json"), (name, value)];
        let mut fresh = server.guest();
        // A checkout of its own (the same key and body would be a replay).
        let own = json!({"items": [{"item_id": orange, "quantity": 1}],
            "idempotency_key": format!("test-checkout-csrf-{name}")});
        let r = fresh
            .raw(
                "POST",
                "/api/orders",
                &headers,
                Some(own.to_string().into_bytes()),
            )
            .await;
        assert_eq!(r.status, 201, "{name}: {value}: {}", r.body);
    }
    assert_eq!(keeper.shop_orders().await.len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_limited_per_address() {
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 3).await;
    let mut a = server.guest();
    let wrong = json!({"email": TEA, "password": "not the password"});
    for i in 0..3 {
        let r = a.post("/api/auth/login", wrong.clone()).await;
        assert_eq!(r.error(401), "bad_credentials", "attempt {i}");
    }
    let r = a.post("/api/auth/login", wrong.clone()).await;
    assert_eq!(r.error(429), "too_many_attempts");
    let right = json!({"email": TEA, "password": PASSWORD});
    let r = a.post("/api/auth/login", right.clone()).await;
    assert_eq!(
        r.error(429),
        "too_many_attempts",
        "even with the right password"
    );
    assert_eq!(a.cookie("ql_session"), None);
    let spoofed = serde_json::to_vec(&right).expect("json");
    let headers = [
        ("content-type", "application/json"),
        ("x-forwarded-for", "192.0.2.7"),
        ("x-real-ip", "192.0.2.7"),
    ];
    let r = a
        .raw("POST", "/api/auth/login", &headers, Some(spoofed))
        .await;
    assert_eq!(
        r.error(429),
        "too_many_attempts",
        "headers do not change the address"
    );
    let register = json!({"shop_name": "Tacos", "name": "T", "email": "t@example.org",
        "password": "long enough password"});
    let r = a.post("/api/shops/register", register).await;
    assert_eq!(
        r.error(429),
        "too_many_attempts",
        "registration shares the limit"
    );

    // Another address has its own allowance.
    let elsewhere =
        reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    let mut b = Client::with_http(&server.base, elsewhere);
    b.login(TEA, PASSWORD).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shops_never_get_a_guests_status_link() {
    let server = TestServer::start().await;
    let mut guest = server.guest();
    let placed = guest
        .place(&[(server.item_id(CLASSIC), 1)], "token-hidden")
        .await;
    let token = placed["token"]
        .as_str()
        .expect("the guest gets its token")
        .to_owned();
    let id = placed["id"].clone();
    let mut tea = server.login(TEA).await;
    let table = tea
        .post("/api/shop/tables", json!({"label": "Table 9"}))
        .await
        .expect(201);
    // Every view the shop has of the order: the list, the order, a table's.
    let views = [
        tea.get("/api/shop/orders?open=false&limit=500")
            .await
            .expect(200),
        tea.get(&format!("/api/shop/tables/{}/orders", table["id"]))
            .await
            .expect(200),
    ];
    for v in &views {
        let text = v.to_string();
        assert!(!text.contains(&token), "the guest's token leaked: {text}");
        assert!(!text.contains("\"token\""), "{text}");
    }
    assert!(
        views[0]
            .as_array()
            .expect("list")
            .iter()
            .any(|o| o["id"] == id),
        "the shop still sees its order"
    );
    server.stop().await;
}
