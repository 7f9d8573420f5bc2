//! An order's life: idempotent placement, every stage change the machine
//! allows and refuses, cancelling (stock comes back), and auto-cancel.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::concurrency::{counted_item, item, menu};
use crate::support::{Api, Server};

/// Fresh Press: no stock limit.
const JUICE: u64 = 9;

async fn place(guest: &mut Api, item: u64, quantity: u32, key: &str) -> Value {
    let (status, body) = guest
        .send(
            "POST",
            "/api/orders",
            Some(
                json!({"items": [{"item_id": item, "quantity": quantity}], "idempotency_key": key}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["orders"][0].clone()
}

async fn to(keeper: &mut Api, id: u64, status: &str) -> (u16, Value) {
    let mut body = json!({"status": status});
    if status == "cancelled" {
        body["reason"] = json!("sold out, sorry");
    }
    keeper
        .send("POST", &format!("/api/shop/orders/{id}/status"), Some(body))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_checkout_returns_the_same_orders() {
    let server = Server::start().await;
    let counted = counted_item(&server, 2).await;
    let before = item(&menu(&server, 2).await, counted)["stock_left"]
        .as_u64()
        .expect("n");
    let mut guest = Api::new(&server);
    let body = json!({"items": [{"item_id": counted, "quantity": 2}, {"item_id": JUICE, "quantity": 1}], "idempotency_key": "retry-me"});
    let (s1, first) = guest.send("POST", "/api/orders", Some(body.clone())).await;
    let (s2, second) = guest.send("POST", "/api/orders", Some(body)).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(first, second, "same ids, numbers, codes and tokens");
    assert_eq!(
        first["orders"].as_array().expect("orders").len(),
        2,
        "one order per shop"
    );
    let after = item(&menu(&server, 2).await, counted)["stock_left"]
        .as_u64()
        .expect("n");
    assert_eq!(before - after, 2, "stock taken once");
    // The same key for a different checkout is a mistake, not a replay.
    let (status, err) = guest
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": JUICE, "quantity": 5}], "idempotency_key": "retry-me"})),
        )
        .await;
    assert!(status == 409 || status == 422, "{status} {err}");
    // Another guest may use the same key for their own order.
    let mut other = Api::new(&server);
    let o = place(&mut other, JUICE, 1, "retry-me").await;
    assert_ne!(o["id"], first["orders"][0]["id"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stage_change_is_allowed_or_refused_as_the_rules_say() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let path: &[(&str, &[&str])] = &[
        ("placed", &[]),
        ("accepted", &["accepted"]),
        ("preparing", &["accepted", "preparing"]),
        ("ready", &["accepted", "preparing", "ready"]),
        (
            "completed",
            &["accepted", "preparing", "ready", "completed"],
        ),
        ("cancelled", &["cancelled"]),
    ];
    let allowed = [
        ("placed", "accepted"),
        ("placed", "cancelled"),
        ("accepted", "preparing"),
        ("accepted", "cancelled"),
        ("preparing", "ready"),
        ("ready", "completed"),
    ];
    let mut n = 0;
    for (from, steps) in path {
        for target in ["accepted", "preparing", "ready", "completed", "cancelled"] {
            n += 1;
            let o = place(&mut guest, JUICE, 1, &format!("t{n}")).await;
            let id = o["id"].as_u64().expect("id");
            for s in *steps {
                assert_eq!(to(&mut keeper, id, s).await.0, 200, "{from}: step {s}");
            }
            let (status, body) = to(&mut keeper, id, target).await;
            if allowed.contains(&(*from, target)) {
                assert_eq!(status, 200, "{from} → {target}: {body}");
                assert_eq!(body["status"], target);
            } else {
                assert_eq!(status, 409, "{from} → {target} must be refused: {body}");
                assert_eq!(body["error"], "invalid_transition");
                assert!(body["message"].as_str().expect("m").contains(from));
            }
        }
    }
    // Every stage is recorded with its time.
    let o = place(&mut guest, JUICE, 1, "events").await;
    let id = o["id"].as_u64().expect("id");
    for s in ["accepted", "preparing", "ready", "completed"] {
        to(&mut keeper, id, s).await;
    }
    let (_, view) = guest
        .send(
            "GET",
            &format!("/api/orders/{}", o["token"].as_str().expect("t")),
            None,
        )
        .await;
    let stages: Vec<&str> = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["status"].as_str().expect("s"))
        .collect();
    assert_eq!(
        stages,
        ["placed", "accepted", "preparing", "ready", "completed"]
    );
    assert!(
        view["events"]
            .as_array()
            .expect("e")
            .iter()
            .all(|e| e["at_ms"].as_u64().is_some())
    );
    // A shop cancels only with a reason.
    let o = place(&mut guest, JUICE, 1, "no-reason").await;
    let (status, body) = keeper
        .send(
            "POST",
            &format!("/api/shop/orders/{}/status", o["id"]),
            Some(json!({"status": "cancelled"})),
        )
        .await;
    assert!(status == 409 || status == 422, "{status} {body}");
    assert!(body["message"].as_str().expect("m").contains("reason"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_returns_the_stock() {
    let server = Server::start().await;
    let counted = counted_item(&server, 2).await;
    let left = || async {
        item(&menu(&server, 2).await, counted)["stock_left"]
            .as_u64()
            .expect("n")
    };
    let start = left().await;
    let mut guest = Api::new(&server);
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;

    let o = place(&mut guest, counted, 3, "c1").await;
    assert_eq!(left().await, start - 3);
    let (status, body) = guest
        .send(
            "POST",
            &format!("/api/orders/{}/cancel", o["token"].as_str().expect("t")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(left().await, start, "the guest's cancel returned it");

    let o = place(&mut guest, counted, 2, "c2").await;
    let id = o["id"].as_u64().expect("id");
    to(&mut keeper, id, "accepted").await;
    let (status, body) = guest
        .send(
            "POST",
            &format!("/api/orders/{}/cancel", o["token"].as_str().expect("t")),
            None,
        )
        .await;
    assert_eq!(status, 409, "too late for the guest: {body}");
    assert_eq!(to(&mut keeper, id, "cancelled").await.0, 200);
    assert_eq!(left().await, start, "the shop's cancel returned it");
    let (_, view) = guest
        .send(
            "GET",
            &format!("/api/orders/{}", o["token"].as_str().expect("t")),
            None,
        )
        .await;
    assert_eq!(view["cancel_reason"], "sold out, sorry");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_nobody_accepts_are_cancelled_and_their_stock_returned() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = queueless::config::defaults();
    config.data_dir = dir.path().join("data");
    config.http = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.demo = true;
    config.auto_cancel_seconds = 1;
    let running = queueless::app::start(config).await.expect("starts");
    let base = format!("http://{}", running.http_addr);
    let client = reqwest::Client::new();
    let menu = || async {
        let m: Value = client
            .get(format!("{base}/api/shops/2/menu"))
            .send()
            .await
            .expect("menu")
            .json()
            .await
            .expect("json");
        m
    };
    let m = menu().await;
    let counted = m["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| !i["stock_left"].is_null())
        .expect("counted")
        .clone();
    let id = counted["id"].as_u64().expect("id");
    let start = counted["stock_left"].as_u64().expect("n");
    let r: Value = client
        .post(format!("{base}/api/orders"))
        .json(&json!({"items": [{"item_id": id, "quantity": 2}], "idempotency_key": "late"}))
        .send()
        .await
        .expect("order")
        .json()
        .await
        .expect("json");
    let token = r["orders"][0]["token"].as_str().expect("token").to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v: Value = client
            .get(format!("{base}/api/orders/{token}"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if v["status"] == "cancelled" {
            let by: Vec<&Value> = v["events"]
                .as_array()
                .expect("e")
                .iter()
                .map(|e| &e["by"])
                .collect();
            assert_eq!(by.last().map(|b| b.as_str()), Some(Some("system")));
            break;
        }
        assert!(Instant::now() < deadline, "never auto-cancelled: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = menu().await;
    let now = m["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .expect("item")["stock_left"]
        .as_u64()
        .expect("n");
    assert_eq!(now, start, "stock returned");
    running.shutdown().await.expect("stops");
}
