//! The kitchen's corrections through the API: undo of the shop's last
//! step (the guest is told of the correction), recall of a finished order,
//! cancelling a prepared order with the shop's choice of restocking, "not
//! collected" by hand, and the shop's not-collected time in its settings.

use serde_json::json;

use crate::support::{DUMPLINGS, PORK, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_recall_and_not_collected_through_the_api() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    let order = guest.place(&[(pork, 1)], "kitchen-undo-0001").await;
    let undo = format!("/api/shop/orders/{}/undo", order["id"]);

    let r = keeper.post(&undo, json!({})).await;
    assert_eq!(
        r.error(409),
        "invalid_transition",
        "nothing of the shop's to undo"
    );
    for step in ["accepted", "preparing", "ready"] {
        keeper.set_status(&order, step).await.expect(200);
    }
    let back = keeper.post(&undo, json!({})).await.expect(200);
    assert_eq!(back["status"], "preparing");
    let events = back["events"].as_array().expect("events");
    assert_eq!(events.last().expect("one")["status"], "preparing");
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["at_ms"].as_u64().expect("at_ms"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(events.len(), 5, "placed, 3 steps, the undo: {events:?}");
    // The guest sees the order back and is told it was a correction.
    assert_eq!(guest.view(&order).await["status"], "preparing");
    let notes = guest.get("/api/me/notifications").await.expect(200);
    let last = notes.as_array().expect("list").last().expect("one").clone();
    assert!(
        last["message"]
            .as_str()
            .expect("text")
            .contains("Correction"),
        "{last}"
    );
    let token = order["token"].as_str().expect("token");
    let page = reqwest::get(format!("http://127.0.0.1:{}/o/{token}", server.port()))
        .await
        .expect("the order page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Correction: your order is still being prepared."),
        "the guest's page shows the correction"
    );
    let r = keeper.post(&undo, json!({})).await;
    assert_eq!(r.error(409), "invalid_transition", "an undo is not undone");

    // Not collected by hand, then recalled to ready, then picked up.
    keeper.set_status(&order, "ready").await.expect(200);
    let missed = keeper.set_status(&order, "not_collected").await.expect(200);
    assert_eq!(missed["status"], "not_collected");
    assert!(
        !keeper
            .get("/api/shop/orders")
            .await
            .expect(200)
            .as_array()
            .expect("list")
            .iter()
            .any(|o| o["id"] == order["id"]),
        "closed orders leave the open list"
    );
    let recalled = keeper.set_status(&order, "ready").await.expect(200);
    assert_eq!(recalled["status"], "ready");
    assert!(
        keeper
            .get("/api/shop/orders")
            .await
            .expect(200)
            .as_array()
            .expect("list")
            .iter()
            .any(|o| o["id"] == order["id"]),
        "a recalled order is open again"
    );
    keeper.set_status(&order, "completed").await.expect(200);

    // A prepared order: cancelled with a reason; its stock comes back only
    // when the shop says so.
    let start = server.stock_left(PORK).await;
    let made = guest.place(&[(pork, 2)], "kitchen-made-0001").await;
    let kept = guest.place(&[(pork, 3)], "kitchen-kept-0001").await;
    for o in [&made, &kept] {
        for step in ["accepted", "preparing"] {
            keeper.set_status(o, step).await.expect(200);
        }
    }
    assert_eq!(server.stock_left(PORK).await, start - 5);
    let status = |o: &serde_json::Value| format!("/api/shop/orders/{}/status", o["id"]);
    keeper
        .post(
            &status(&made),
            json!({"status": "cancelled", "reason": "dropped the tray"}),
        )
        .await
        .expect(200);
    assert_eq!(
        server.stock_left(PORK).await,
        start - 5,
        "made food does not go back"
    );
    keeper
        .post(
            &status(&kept),
            json!({"status": "cancelled", "reason": "not started after all", "restock": true}),
        )
        .await
        .expect(200);
    assert_eq!(
        server.stock_left(PORK).await,
        start - 2,
        "the shop chose to restock"
    );
    let r = keeper
        .post(&format!("/api/shop/orders/{}/undo", made["id"]), json!({}))
        .await;
    assert_eq!(
        r.error(409),
        "invalid_transition",
        "a cancellation is final"
    );

    // The shop's not-collected time: set, read back, bounded.
    let shop = keeper
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"not_collected_after_minutes": 20})),
        )
        .await
        .expect(200);
    assert_eq!(shop["not_collected_after_minutes"], 20);
    assert_eq!(
        keeper.get("/api/shop").await.expect(200)["not_collected_after_minutes"],
        20
    );
    let r = keeper
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"not_collected_after_minutes": 1441})),
        )
        .await;
    assert_eq!(r.error(422), "invalid_input");
    server.stop().await;
}
