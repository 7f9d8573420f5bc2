//! An order's life: idempotent placement (retries, double taps, a reused
//! key), every stage change the machine allows and refuses for the shop
//! and for the guest, and the stored stage events with their times.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{Client, DUMPLINGS, JUICE, ORANGE, PORK, TestServer, units_sold};

fn now_ms() -> u64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(d.as_millis()).expect("fits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_checkout_returns_the_same_orders() {
    let server = TestServer::start().await;
    let (pork, orange) = (server.item_id(PORK), server.item_id(ORANGE));
    let before = server.stock_left(PORK).await;
    let mut guest = server.guest();
    let lines = [(pork, 2), (orange, 1)];

    let first = guest.order(&lines, "retry-me").await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None, "a new checkout");
    let dump = server.dump().await;
    let second = guest.order(&lines, "retry-me").await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.body, first.body, "same ids, numbers, codes, tokens");
    assert_eq!(first.body["orders"].as_array().expect("orders").len(), 2);
    dump.assert_same(&server.dump().await, "a replay");
    assert_eq!(
        server.stock_left(PORK).await,
        before - 2,
        "stock taken once"
    );

    // The same key for a different checkout is a mistake, not a replay.
    let r = guest.order(&[(orange, 5)], "retry-me").await;
    assert_eq!(r.error(409), "conflict");
    assert!(r.message().contains("idempotency_key"), "{}", r.body);
    let r = guest.order(&[(pork, 1), (orange, 1)], "retry-me").await;
    assert_eq!(r.error(409), "conflict", "a changed quantity too");
    dump.assert_same(&server.dump().await, "a reused key");

    // A retry whose first answer (and so its device cookie) was lost comes
    // from a new device: the key and body still name the same checkout.
    let mut lost = server.guest();
    let again = lost.order(&lines, "retry-me").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the same orders");
    assert_eq!(server.stock_left(PORK).await, before - 2);
    dump.assert_same(&server.dump().await, "a replay from another device");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_after_a_lost_response_without_a_cookie_orders_once() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let before = server.stock_left(PORK).await;
    let body = serde_json::json!({
        "items": [{"item_id": pork, "quantity": 2}],
        "idempotency_key": "3f2b9c1e-lost-response-retry",
    });
    // Two clients that never send a cookie: the first answer is "lost".
    let mut first = server.guest();
    let a = first.post("/api/orders", body.clone()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let dump = server.dump().await;
    let mut retry = server.guest();
    let b = retry.post("/api/orders", body.clone()).await;
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    assert_eq!(b.body, a.body, "the same orders, not a second set");
    assert_eq!(
        server.stock_left(PORK).await,
        before - 2,
        "stock taken once"
    );
    dump.assert_same(&server.dump().await, "the retry");

    // The key stays bound to its body, and short keys are refused.
    let mut other = server.guest();
    let changed = serde_json::json!({
        "items": [{"item_id": pork, "quantity": 3}],
        "idempotency_key": "3f2b9c1e-lost-response-retry",
    });
    assert_eq!(
        other.post("/api/orders", changed).await.error(409),
        "conflict"
    );
    let short = serde_json::json!({
        "items": [{"item_id": pork, "quantity": 1}],
        "idempotency_key": "guessable",
    });
    let r = other.post("/api/orders", short).await;
    assert_eq!(r.error(422), "invalid_input");
    assert!(r.message().contains("16"), "{}", r.body);
    dump.assert_same(&server.dump().await, "refusals");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_tap_places_one_order() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let before = server.stock_left(PORK).await;
    let mut guest = server.guest();
    // The device cookie first, so every tap comes from the same device.
    guest.get("/api/me/orders").await.expect(200);
    let taps: Vec<_> = (0..12)
        .map(|_| {
            let mut g = guest.clone();
            tokio::spawn(async move { g.order(&[(pork, 3)], "tap").await })
        })
        .collect();
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for t in taps {
        let r = t.await.expect("tap task");
        assert_eq!(r.status, 201, "{}", r.body);
        replayed += usize::from(r.header("idempotent-replayed") == Some("true"));
        bodies.push(r.body);
    }
    assert_eq!(replayed, 11, "one placement, eleven replays");
    assert!(bodies.iter().all(|b| *b == bodies[0]), "the same order");
    assert_eq!(server.stock_left(PORK).await, before - 3);
    let mine = guest.get("/api/me/orders").await.expect(200);
    assert_eq!(mine.as_array().expect("list").len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_item_sold_out_is_still_a_replay() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    keeper
        .post(&format!("/api/shop/items/{pork}/stock"), json!({"set": 2}))
        .await
        .expect(200);
    let mut guest = server.guest();
    let first = guest.order(&[(pork, 2)], "last-two").await.expect(201);
    assert_eq!(server.stock_left(PORK).await, 0);
    let retry = guest.order(&[(pork, 2)], "last-two").await;
    assert_eq!(
        retry.status, 201,
        "the guest already has them: {}",
        retry.body
    );
    assert_eq!(retry.body, first);
    let r = guest.order(&[(pork, 2)], "new-key").await;
    assert_eq!(r.error(409), "out_of_stock");
    assert_eq!(units_sold(&keeper.shop_orders().await, pork), 2);
    server.stop().await;
}

/// The stages, and the shop's steps from `placed` to reach each.
const PATHS: [(&str, &[&str]); 7] = [
    ("placed", &[]),
    ("accepted", &["accepted"]),
    ("preparing", &["accepted", "preparing"]),
    ("ready", &["accepted", "preparing", "ready"]),
    (
        "completed",
        &["accepted", "preparing", "ready", "completed"],
    ),
    ("cancelled", &["cancelled"]),
    (
        "not_collected",
        &["accepted", "preparing", "ready", "not_collected"],
    ),
];

/// What the shop may do (src/domain/order.rs, `check_transition`).
const SHOP_MAY: [(&str, &str); 11] = [
    ("placed", "accepted"),
    ("placed", "cancelled"),
    ("accepted", "preparing"),
    ("accepted", "cancelled"),
    ("preparing", "ready"),
    ("preparing", "cancelled"),
    ("ready", "completed"),
    ("ready", "cancelled"),
    ("ready", "not_collected"),
    ("completed", "ready"),
    ("not_collected", "ready"),
];

/// A new order of one pork portion, moved by the shop to `stage`.
async fn order_at(
    guest: &mut Client,
    keeper: &mut Client,
    pork: u64,
    stage: &str,
    key: &str,
) -> Value {
    let order = guest.place(&[(pork, 1)], key).await;
    let (_, steps) = PATHS.iter().find(|(s, _)| *s == stage).expect("a stage");
    for step in *steps {
        keeper.set_status(&order, step).await.expect(200);
    }
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_may_make_exactly_the_allowed_stage_changes() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    keeper
        .post(
            &format!("/api/shop/items/{pork}/stock"),
            json!({"set": 500}),
        )
        .await
        .expect(200);
    let mut guest = server.guest();
    let mut orders = Vec::new();
    for (from, _) in PATHS {
        for (to, _) in PATHS {
            let key = format!("{from}-{to}");
            let order = order_at(&mut guest, &mut keeper, pork, from, &key).await;
            let before = guest.view(&order).await;
            let r = keeper.set_status(&order, to).await;
            if SHOP_MAY.contains(&(from, to)) {
                let after = r.expect(200);
                assert_eq!(after["status"], to, "{from} → {to}");
                assert_eq!(
                    after["events"].as_array().expect("events").len(),
                    before["events"].as_array().expect("events").len() + 1
                );
            } else {
                assert_eq!(r.error(409), "invalid_transition", "{from} → {to}");
                assert!(r.message().contains(from), "{from} → {to}: {}", r.body);
                assert_eq!(
                    guest.view(&order).await,
                    before,
                    "{from} → {to} changed nothing"
                );
            }
            orders.push(order);
        }
    }
    // Not a stage at all.
    let r = keeper.set_status(&orders[0], "eaten").await;
    assert_eq!(r.error(422), "invalid_input");
    // Stock follows: only the orders cancelled before they were being made
    // gave theirs back (a prepared order's food does not go back unless the
    // shop says so).
    let all = keeper.shop_orders().await;
    assert_eq!(all.len(), 49);
    let cancelled = all.iter().filter(|o| o["status"] == "cancelled").count() as u64;
    // Reached as a stage (7 orders) or by an allowed cancel (placed,
    // accepted, preparing, ready).
    assert_eq!(cancelled, 11);
    let restocked = 7 + 2;
    assert_eq!(server.stock_left(PORK).await, 500 - (49 - restocked));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_cancels_only_while_placed() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let start = server.stock_left(PORK).await;
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    for (stage, _) in PATHS {
        let order = order_at(&mut guest, &mut keeper, pork, stage, stage).await;
        let token = order["token"].as_str().expect("token");
        let r = guest
            .send("POST", &format!("/api/orders/{token}/cancel"), None)
            .await;
        match stage {
            "placed" => {
                let view = r.expect(200);
                assert_eq!(view["status"], "cancelled");
                assert_eq!(view["cancel_reason"], "cancelled by the guest");
            }
            "accepted" => {
                assert_eq!(r.error(409), "invalid_transition");
                assert!(r.message().contains("already accepted"), "{}", r.body);
            }
            _ => assert_eq!(r.error(409), "invalid_transition", "{stage}"),
        }
    }
    // Two orders ended cancelled (by the guest, and the one cancelled by the shop).
    assert_eq!(server.stock_left(PORK).await, start - 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stage_is_stored_with_who_and_when() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();
    let t0 = now_ms();
    let order = guest.place(&[(orange, 1)], "events").await;
    assert_eq!(order["status"], "placed");
    assert_eq!(order["number"], 1);
    for s in ["accepted", "preparing", "ready", "completed"] {
        keeper.set_status(&order, s).await.expect(200);
    }
    let t1 = now_ms();
    let view = guest.view(&order).await;
    let events = view["events"].as_array().expect("events");
    let stages: Vec<&str> = events
        .iter()
        .map(|e| e["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        stages,
        ["placed", "accepted", "preparing", "ready", "completed"]
    );
    let by: Vec<&str> = events
        .iter()
        .map(|e| e["by"].as_str().expect("by"))
        .collect();
    assert_eq!(by, ["guest", "shop", "shop", "shop", "shop"]);
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["at_ms"].as_u64().expect("time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in order: {times:?}"
    );
    assert!(t0 <= times[0] && times[4] <= t1, "{t0} ≤ {times:?} ≤ {t1}");
    assert_eq!(view["updated_at_ms"], times[4]);
    assert_eq!(
        view["queue_position"],
        Value::Null,
        "done: out of the queue"
    );

    // The guest was told at every stage.
    let notes = guest.get("/api/me/notifications").await.expect(200);
    let told: Vec<&str> = notes
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["status"].as_str().expect("status"))
        .collect();
    assert_eq!(told, stages);

    // A cancellation stores its reason.
    let order = guest.place(&[(orange, 1)], "cancel-events").await;
    keeper.set_status(&order, "cancelled").await.expect(200);
    let view = guest.view(&order).await;
    assert_eq!(view["events"][1]["status"], "cancelled");
    assert_eq!(view["events"][1]["by"], "shop");
    assert_eq!(view["events"][1]["reason"], "sold out, sorry");
    assert_eq!(view["cancel_reason"], "sold out, sorry");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_order_into_a_table_until_it_closes() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let table = keeper
        .post("/api/shop/tables", json!({"label": "Table 2"}))
        .await
        .expect(201);
    let code = table["code"].as_str().expect("code").to_owned();
    let mut guest = server.guest();
    assert_eq!(
        guest.get(&format!("/api/tables/{code}")).await.expect(200)["label"],
        "Table 2"
    );
    let at_table = |key: &str| {
        json!({"items": [{"item_id": orange, "quantity": 1}], "idempotency_key": key,
            "session": code})
    };
    let placed = guest
        .post("/api/orders", at_table("test-checkout-t1"))
        .await
        .expect(201);
    let id = placed["orders"][0]["id"].clone();
    let listed = keeper
        .get(&format!("/api/shop/tables/{}/orders", table["id"]))
        .await
        .expect(200);
    assert_eq!(listed.as_array().expect("orders").len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["table_id"], table["id"]);

    let closed = keeper
        .send(
            "POST",
            &format!("/api/shop/tables/{}/close", table["id"]),
            None,
        )
        .await
        .expect(200);
    assert_eq!(closed["open"], false);
    let r = keeper
        .send(
            "POST",
            &format!("/api/shop/tables/{}/close", table["id"]),
            None,
        )
        .await;
    assert_eq!(r.error(409), "conflict", "closed once");
    let dump = server.dump().await;
    let r = guest
        .post("/api/orders", at_table("test-checkout-t2"))
        .await;
    assert_eq!(r.error(409), "conflict");
    assert!(r.message().contains("Table 2 is closed"), "{}", r.body);
    let unknown = json!({"items": [{"item_id": orange, "quantity": 1}], "idempotency_key": "test-checkout-t3",
        "session": "0".repeat(32)});
    assert_eq!(
        guest.post("/api/orders", unknown).await.error(404),
        "not_found"
    );
    dump.assert_same(
        &server.dump().await,
        "orders into a closed or unknown table",
    );
    server.stop().await;
}
