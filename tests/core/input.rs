//! Refused checkouts write nothing: malformed or out-of-range input gets a
//! 4xx in the one error shape, and a paused shop, a closed shop or a shop
//! at its open-order limit answers 409 with a message a guest understands.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{Client, DUMPLINGS, JUICE, JUICE_SHOP, ORANGE, PORK, TestServer};

/// POSTs raw bytes to `/api/orders`; returns the status and error code.
async fn checkout(guest: &mut Client, body: &[u8], content_type: Option<&str>) -> (u16, String) {
    let headers: Vec<(&str, &str)> = content_type
        .map(|c| ("content-type", c))
        .into_iter()
        .collect();
    let r = guest
        .raw("POST", "/api/orders", &headers, Some(body.to_vec()))
        .await;
    let code = r.error(r.status).to_owned();
    (r.status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_checkouts_are_refused_and_write_nothing() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    let menu_before = server.item(PORK).await;
    let dump = server.dump().await;
    let mut guest = server.guest();

    let line = |quantity: &str| {
        format!(
            r#"{{"items":[{{"item_id":{pork},"quantity":{quantity}}}],"idempotency_key":"test-checkout-key"}}"#
        )
    };
    let order =
        |items: Value| json!({"items": items, "idempotency_key": "test-checkout-key"}).to_string();
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"item_id": pork, "quantity": 1 + i % 2}))
        .collect();
    let json_cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", "{\"items\": [".into(), "invalid_body"),
        ("not an object", "[1, 2]".into(), "invalid_body"),
        ("null", "null".into(), "invalid_body"),
        ("empty body", String::new(), "invalid_body"),
        ("quantity as text", line("\"two\""), "invalid_body"),
        ("quantity as float", line("1.5"), "invalid_body"),
        ("negative quantity", line("-1"), "invalid_body"),
        ("huge quantity", line("1e12"), "invalid_body"),
        ("quantity past u32", line("1000000000000"), "invalid_body"),
        ("zero quantity", line("0"), "invalid_input"),
        ("quantity 100", line("100"), "invalid_input"),

        ("item id as text", order(json!([{"item_id": "4", "quantity": 1}])), "invalid_body"),
        ("negative item id", order(json!([{"item_id": -4, "quantity": 1}])), "invalid_body"),

        ("no items", order(json!([])), "invalid_input"),
        ("51 lines", order(json!(many)), "invalid_input"),
        ("missing quantity", order(json!([{"item_id": pork}])), "invalid_body"),
        (
            "unknown field in a line",
            order(json!([{"item_id": pork, "quantity": 1, "price_cents": 1}])),
            "invalid_body",
        ),
        (
            "unknown top-level field",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "test-checkout-key", "total_cents": 1}).to_string(),
            "invalid_body",
        ),
        (
            "missing idempotency key",
            json!({"items": [{"item_id": pork, "quantity": 1}]}).to_string(),
            "invalid_body",
        ),
        (
            "empty idempotency key",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": ""}).to_string(),
            "invalid_input",
        ),
        (
            "guessable idempotency key of 15 characters",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "k".repeat(15)}).to_string(),
            "invalid_input",
        ),
        (
            "idempotency key of 101 characters",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "test-checkout-key".repeat(101)}).to_string(),
            "invalid_input",
        ),
        (
            "unknown payment method",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "test-checkout-key", "payment_method": "gold"}).to_string(),
            "invalid_body",
        ),
        (
            "unknown table code",
            json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "test-checkout-key", "session": "nope"}).to_string(),
            "invalid_input",
        ),
    ];
    for (what, body, code) in &json_cases {
        let (status, got) = checkout(&mut guest, body.as_bytes(), Some("application/json")).await;
        assert_eq!((status, got.as_str()), (422, *code), "{what}");
    }
    // Well-formed, but at odds with the menu: not malformed input.
    let refused: Vec<(&str, String, u16, &str)> = vec![
        (
            "lines of one item summing past 99",
            order(json!([{"item_id": pork, "quantity": 60}, {"item_id": pork, "quantity": 40}])),
            409,
            "conflict",
        ),
        (
            "unknown item",
            order(json!([{"item_id": 999_999, "quantity": 1}])),
            404,
            "not_found",
        ),
    ];
    for (what, body, want, code) in &refused {
        let (status, got) = checkout(&mut guest, body.as_bytes(), Some("application/json")).await;
        assert_eq!((status, got.as_str()), (*want, *code), "{what}");
    }

    let valid = line("1");
    let (status, code) = checkout(&mut guest, valid.as_bytes(), Some("text/plain")).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    let (status, code) = checkout(&mut guest, valid.as_bytes(), None).await;
    assert_eq!(
        (status, code.as_str()),
        (415, "unsupported_media_type"),
        "no type"
    );
    let oversized = format!(
        r#"{{"items":[{{"item_id":{pork},"quantity":1}}],"idempotency_key":"test-checkout-key","note":"{}"}}"#,
        "x".repeat(65 * 1024)
    );
    let (status, code) = checkout(&mut guest, oversized.as_bytes(), Some("application/json")).await;
    assert_eq!((status, code.as_str()), (413, "body_too_large"));
    let long_note = json!({"items": [{"item_id": pork, "quantity": 1}], "idempotency_key": "test-checkout-key", "note": "x".repeat(501)});
    let r = guest.post("/api/orders", long_note).await;
    assert_eq!(r.error(422), "invalid_input", "a note has a length limit");

    dump.assert_same(&server.dump().await, "refused checkouts");
    assert_eq!(server.item(PORK).await, menu_before, "no stock moved");
    assert_eq!(keeper.shop_orders().await, Vec::<Value>::new());
    assert_eq!(guest.get("/api/me/orders").await.expect(200), json!([]));
    // The same guest's valid checkout then works, under the same key.
    let order = guest.place(&[(pork, 40)], "k").await;
    assert_eq!(order["number"], 1);
    assert_eq!(server.stock_left(PORK).await, 0);
    server.stop().await;
}

/// Today's weekday in UTC (the test venue's time), Monday = 0.
fn weekday_today() -> u64 {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 86_400;
    (days + 3) % 7 // 1970-01-01 was a Thursday
}

/// A checkout the juice bar refuses for `reason`, writing nothing.
async fn refused(server: &TestServer, guest: &mut Client, reason: &str) {
    let dump = server.dump().await;
    let r = guest.order(&[(server.item_id(ORANGE), 1)], reason).await;
    assert_eq!(r.error(409), "shop_not_accepting", "{reason}");
    assert!(r.message().contains(JUICE_SHOP), "{}", r.body);
    assert!(r.message().contains(reason), "{reason}: {}", r.body);
    dump.assert_same(&server.dump().await, reason);
}

async fn patch_shop(keeper: &mut Client, body: Value) -> Value {
    keeper
        .send("PATCH", "/api/shop", Some(body))
        .await
        .expect(200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_closed_and_busy_shops_refuse_orders_and_write_nothing() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();

    let shop = patch_shop(&mut keeper, json!({"paused": true})).await;
    assert_eq!(shop["accepting_orders"], false);
    refused(&server, &mut guest, "paused").await;
    patch_shop(&mut keeper, json!({"paused": false})).await;

    // Open only three days from now: closed now, even across midnight.
    let day = (weekday_today() + 3) % 7;
    let hours = json!({"hours": [{"weekday": day, "open": 0, "close": 1440}]});
    let shop = patch_shop(&mut keeper, hours).await;
    let why = shop["not_accepting_reason"].as_str().expect("a reason");
    assert!(why.contains("closed"), "{shop}");
    refused(&server, &mut guest, "closed").await;
    patch_shop(&mut keeper, json!({"hours": []})).await;

    // One open order at a limit of one: busy until it is done.
    patch_shop(&mut keeper, json!({"open_order_limit": 1})).await;
    let first = guest.place(&[(orange, 1)], "the-one").await;
    refused(&server, &mut guest, "busy").await;
    for stage in ["accepted", "preparing", "ready"] {
        keeper.set_status(&first, stage).await.expect(200);
    }
    refused(&server, &mut guest, "busy").await;
    keeper.set_status(&first, "completed").await.expect(200);
    let second = guest.place(&[(orange, 1)], "after-the-one").await;
    assert_eq!(second["number"], 2, "refusals took no number");
    patch_shop(&mut keeper, json!({"open_order_limit": 0})).await;
    guest.place(&[(orange, 1)], "no-limit").await;

    let orders = keeper.shop_orders().await;
    assert_eq!(orders.len(), 3, "only the accepted checkouts");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_open_order_limit_holds_under_a_rush() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    patch_shop(&mut keeper, json!({"open_order_limit": 5})).await;
    let rush: Vec<_> = (0..40)
        .map(|i| {
            let mut guest = server.guest();
            tokio::spawn(async move { guest.order(&[(orange, 1)], &format!("r{i}")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in rush {
        let r = r.await.expect("guest task");
        if r.status == 409 {
            assert_eq!(r.error(409), "shop_not_accepting");
            assert!(r.message().contains("busy"), "{}", r.body);
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 35);
    assert_eq!(keeper.shop_orders().await.len(), 5);
    server.stop().await;
}

/// Every field a stock policy does not have is refused, as the document's
/// `additionalProperties: false` says, for every kind of policy.
#[tokio::test]
async fn stock_policies_refuse_fields_they_do_not_have() {
    let server = TestServer::start().await;
    let mut keeper = server.login(DUMPLINGS).await;
    let dump = server.dump().await;
    for stock in [
        json!({"kind": "unlimited", "lines": []}),
        json!({"kind": "unlimited", "left": 3}),
        json!({"kind": "counted", "left": 3, "lines": []}),
    ] {
        let item = json!({"name": "Odd", "price_cents": 100, "stock": stock});
        let r = keeper.post("/api/shop/items", item).await;
        assert_eq!(r.error(422), "invalid_body", "{stock}");
    }
    dump.assert_same(&server.dump().await, "refused items");
}

/// One text rule: a cancel reason with control characters is refused like
/// any other field (it reached the guest's page raw), and names and e-mail
/// addresses refuse what hides or reorders characters.
#[tokio::test]
async fn control_and_invisible_characters_are_refused_everywhere() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    let order = guest.place(&[(pork, 1)], "reasons").await;
    let status = format!("/api/shop/orders/{}/status", order["id"]);
    let dump = server.dump().await;
    for reason in [
        "sold\u{0} out",
        "\u{1b}[2Jsold out",
        "sold out\r\nX-Injected: 1",
    ] {
        let r = keeper
            .post(&status, json!({"status": "cancelled", "reason": reason}))
            .await;
        assert_eq!(r.error(422), "invalid_input", "{reason:?}");
    }
    for (field, value) in [
        ("shop_name", "Bubble\u{200b} Lab"),
        ("shop_name", "Tea \u{202e}baL"),
        ("email", "tea\u{200b}@demo.queueless"),
        ("email", "ｔｅａ@demo.queueless"),
        ("email", "tеa@demo.queueless"),
    ] {
        let mut body = json!({"shop_name": "New Stall", "name": "Kim", "email": "kim@example.org",
            "password": "long enough"});
        body[field] = json!(value);
        let r = server.guest().post("/api/shops/register", body).await;
        assert_eq!(r.error(422), "invalid_input", "{field} {value:?}");
    }
    dump.assert_same(&server.dump().await, "refused text");
    let r = keeper
        .post(
            &status,
            json!({"status": "cancelled", "reason": "sold out,\nsorry"}),
        )
        .await;
    assert_eq!(r.expect(200)["cancel_reason"], "sold out,\nsorry");
}
