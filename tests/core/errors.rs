//! Bad input gets a clear error with the right status and writes nothing;
//! staff routes refuse guests and other shops; cross-site posts are refused.

use serde_json::{Value, json};

use crate::concurrency::{counted_item, item, menu};
use crate::support::{Api, Server};

async fn raw(server: &Server, body: &str, content_type: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.url("/api/orders"))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_orders_are_refused_and_write_nothing() {
    let server = Server::start().await;
    let counted = counted_item(&server, 2).await;
    let before = menu(&server, 2).await;
    let line = |q: &str| {
        format!(r#"{{"items":[{{"item_id":{counted},"quantity":{q}}}],"idempotency_key":"k"}}"#)
    };
    let huge = format!(
        r#"{{"items":[],"idempotency_key":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"item_id": 9, "quantity": 1 + i % 2}))
        .collect();
    let cases: Vec<(String, &str, u16, &str)> = vec![
        ("{not json".into(), "application/json", 422, "malformed"),
        (line("\"two\""), "application/json", 422, "wrong type"),
        (line("-1"), "application/json", 422, "negative"),
        (line("0"), "application/json", 422, "zero"),
        (line("100"), "application/json", 422, "more than 99"),
        (line("1000000000000"), "application/json", 422, "huge"),
        (
            r#"{"items":[{"item_id":999999,"quantity":1}],"idempotency_key":"k"}"#.into(),
            "application/json",
            422,
            "unknown item",
        ),
        (
            r#"{"items":[],"idempotency_key":"k"}"#.into(),
            "application/json",
            422,
            "empty",
        ),
        (
            json!({"items": many, "idempotency_key": "k"}).to_string(),
            "application/json",
            422,
            "too many lines",
        ),
        (
            format!(
                r#"{{"items":[{{"item_id":{counted},"quantity":1}}],"idempotency_key":"k","tip":5}}"#
            ),
            "application/json",
            422,
            "unknown field",
        ),
        (line("1"), "text/plain", 415, "wrong content type"),
        (huge, "application/json", 413, "oversized body"),
    ];
    for (body, ct, want, what) in cases {
        let (status, err) = raw(&server, &body, ct).await;
        assert_eq!(status, want, "{what}: {err}");
        assert!(
            err["error"].is_string() && err["message"].is_string(),
            "{what}: one error shape: {err}"
        );
    }
    assert_eq!(menu(&server, 2).await, before, "no stock moved");
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let (_, orders) = keeper.send("GET", "/api/shop/orders", None).await;
    assert_eq!(orders, json!([]), "no order written");
    let _ = item(&before, counted);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_routes_are_closed_to_guests_and_to_other_shops() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let (_, placed) = guest
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": 9, "quantity": 1}], "idempotency_key": "x"})),
        )
        .await;
    let order = placed["orders"][0]["id"].as_u64().expect("id");
    let shop_routes = [
        ("GET", "/api/shop/orders".to_owned()),
        ("POST", format!("/api/shop/orders/{order}/status")),
        ("GET", "/api/shop".to_owned()),
        ("GET", "/api/shop/menu".to_owned()),
        ("POST", "/api/shop/items/9/stock".to_owned()),
        ("GET", "/api/shop/report".to_owned()),
        ("GET", "/api/shop/tables".to_owned()),
        ("GET", "/api/admin/shops".to_owned()),
        ("POST", "/api/admin/shops/1/approve".to_owned()),
    ];
    for (m, p) in &shop_routes {
        let (status, body) = guest
            .send(m, p, Some(json!({"status": "accepted", "set": 1})))
            .await;
        assert_eq!(status, 401, "{m} {p} without login: {body}");
    }
    let mut tea = Api::new(&server);
    tea.login("tea@demo.queueless").await;
    for (m, p) in &shop_routes[7..] {
        let (status, _) = tea.send(m, p, None).await;
        assert_eq!(status, 403, "{m} {p} is for the operator");
    }
    // Another shop's order, item, ingredient and table do not exist for Bubble Lab.
    let (status, _) = tea
        .send(
            "POST",
            &format!("/api/shop/orders/{order}/status"),
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = tea
        .send("POST", "/api/shop/items/9/stock", Some(json!({"set": 0})))
        .await;
    assert_eq!(status, 404);
    let (status, _) = tea
        .send("PATCH", "/api/shop/items/9", Some(json!({"name": "mine"})))
        .await;
    assert_eq!(status, 404);
    let (status, _) = tea.send("DELETE", "/api/shop/items/9", None).await;
    assert_eq!(status, 404);
    let mut juice = Api::new(&server);
    juice.login("juice@demo.queueless").await;
    let (_, table) = juice
        .send("POST", "/api/shop/tables", Some(json!({"label": "T1"})))
        .await;
    let t = table["id"].as_u64().expect("table");
    let (status, _) = tea
        .send("POST", &format!("/api/shop/tables/{t}/close"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = tea
        .send("GET", &format!("/api/shop/tables/{t}/orders"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = juice
        .send(
            "POST",
            "/api/shop/ingredients/1/stock",
            Some(json!({"set": 0})),
        )
        .await;
    assert_eq!(status, 404, "Bubble Lab's cups are not Fresh Press's");
    let (_, orders) = tea.send("GET", "/api/shop/orders", None).await;
    assert_eq!(
        orders,
        json!([]),
        "Bubble Lab sees none of Fresh Press's orders"
    );
    // A guest's order list is per device.
    let mut other = Api::new(&server);
    let (_, theirs) = other.send("GET", "/api/me/orders", None).await;
    assert_eq!(theirs, json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    let body = json!({"items": [{"item_id": 9, "quantity": 1}], "idempotency_key": "csrf"});
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "http://evil.example"),
    ] {
        let r = client
            .post(server.url("/api/orders"))
            .header(name, value)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 403, "{name}: {value}");
    }
    let r = client
        .post(server.url("/api/orders"))
        .header("origin", server.base.clone())
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 201, "same-origin passes");
    let mut juice = Api::new(&server);
    juice.login("juice@demo.queueless").await;
    let (_, orders) = juice.send("GET", "/api/shop/orders", None).await;
    assert_eq!(
        orders.as_array().expect("orders").len(),
        1,
        "only the same-origin order"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_closed_and_busy_shops_refuse_orders() {
    let server = Server::start().await;
    let mut juice = Api::new(&server);
    juice.login("juice@demo.queueless").await;
    let mut guest = Api::new(&server);
    let order =
        |key: &str| json!({"items": [{"item_id": 9, "quantity": 1}], "idempotency_key": key});
    juice
        .send("PATCH", "/api/shop", Some(json!({"paused": true})))
        .await;
    let (status, body) = guest.send("POST", "/api/orders", Some(order("p"))).await;
    assert_eq!(status, 409);
    assert!(
        body["message"].as_str().expect("m").contains("paused"),
        "{body}"
    );
    juice
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"paused": false, "open_order_limit": 1})),
        )
        .await;
    let (status, _) = guest.send("POST", "/api/orders", Some(order("one"))).await;
    assert_eq!(status, 201);
    let (status, body) = guest.send("POST", "/api/orders", Some(order("two"))).await;
    assert_eq!(status, 409, "busy: {body}");
    // Open only tomorrow (venue time is UTC here): closed now.
    juice
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"open_order_limit": null})),
        )
        .await;
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 86_400;
    let today = (days + 3) % 7; // 1970-01-01 was a Thursday; Monday = 0
    let tomorrow = (today + 1) % 7;
    let (status, body) = juice
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"hours": [{"weekday": tomorrow, "open": 0, "close": 1440}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = guest
        .send("POST", "/api/orders", Some(order("closed")))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().expect("m").contains("closed"),
        "{body}"
    );
    let (_, orders) = juice.send("GET", "/api/shop/orders", None).await;
    assert_eq!(
        orders.as_array().expect("orders").len(),
        1,
        "only the one accepted order"
    );
    server.stop().await;
}
