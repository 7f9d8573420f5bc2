//! Cancelling gives the stock back, exactly once: the guest while the order
//! is placed, the shop with a reason after accepting; a shop cancel without
//! a reason is refused; orders nobody accepts are cancelled by the system.

use serde_json::json;

use crate::support::{BROWN_SUGAR, DUMPLINGS, PORK, TEA, TestServer, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_returns_counted_stock_once() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let start = server.stock_left(PORK).await;
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();

    // The guest, while placed.
    let order = guest.place(&[(pork, 3)], "guest-cancel").await;
    assert_eq!(server.stock_left(PORK).await, start - 3);
    let cancel = format!("/api/orders/{}/cancel", order["token"].as_str().expect("t"));
    guest.send("POST", &cancel, None).await.expect(200);
    assert_eq!(server.stock_left(PORK).await, start, "the guest's cancel");
    let r = guest.send("POST", &cancel, None).await;
    assert_eq!(r.error(409), "invalid_transition", "cancelled once only");
    assert_eq!(server.stock_left(PORK).await, start, "returned once only");

    // The shop, after accepting, must say why.
    let order = guest.place(&[(pork, 2)], "shop-cancel").await;
    keeper.set_status(&order, "accepted").await.expect(200);
    let status = format!("/api/shop/orders/{}/status", order["id"]);
    let dump = server.dump().await;
    for body in [
        json!({"status": "cancelled"}),
        json!({"status": "cancelled", "reason": "   "}),
        json!({"status": "cancelled", "reason": null}),
    ] {
        let r = keeper.post(&status, body.clone()).await;
        assert_eq!(r.error(409), "invalid_transition", "{body}");
        assert!(r.message().contains("why"), "{}", r.body);
    }
    let r = keeper
        .post(
            &status,
            json!({"status": "cancelled", "reason": "x".repeat(201)}),
        )
        .await;
    assert_eq!(
        r.error(422),
        "invalid_input",
        "a reason of at most 200 characters"
    );
    dump.assert_same(&server.dump().await, "a refused cancel");
    assert_eq!(server.stock_left(PORK).await, start - 2);

    let view = keeper
        .post(
            &status,
            json!({"status": "cancelled", "reason": "  the steamer broke  "}),
        )
        .await
        .expect(200);
    assert_eq!(view["cancel_reason"], "the steamer broke");
    assert_eq!(server.stock_left(PORK).await, start, "the shop's cancel");
    let r = keeper
        .post(&status, json!({"status": "cancelled", "reason": "again"}))
        .await;
    assert_eq!(r.error(409), "invalid_transition");
    assert_eq!(server.stock_left(PORK).await, start);

    // The guest sees the reason, in the order and in the notification.
    assert_eq!(
        guest.view(&order).await["cancel_reason"],
        "the steamer broke"
    );
    let notes = guest.get("/api/me/notifications").await.expect(200);
    let last = notes.as_array().expect("list").last().expect("one").clone();
    assert_eq!(last["status"], "cancelled");
    assert!(
        last["message"]
            .as_str()
            .expect("message")
            .contains("the steamer broke"),
        "{last}"
    );
    let call = guest.view(&order).await["call"].clone();
    let called = format!("Order {} (pickup code ", call.as_str().expect("call"));
    assert!(
        last["message"]
            .as_str()
            .expect("message")
            .starts_with(&called),
        "called as on the board: {last}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_returns_every_ingredient() {
    let server = TestServer::start().await;
    let brown = server.item_id(BROWN_SUGAR);
    let mut keeper = server.login(TEA).await;
    let names = ["cup", "tapioca pearls", "milk"];
    let mut before = Vec::new();
    for n in names {
        before.push(keeper.ingredient(n).await["stock"].as_u64().expect("stock"));
    }
    let mut guest = server.guest();
    let order = guest.place(&[(brown, 3)], "boba").await;
    // 1 cup, 80 g tapioca, 250 ml milk each.
    for (n, (b, per)) in names.iter().zip(before.iter().zip([1, 80, 250])) {
        let now = keeper.ingredient(n).await["stock"].as_u64().expect("stock");
        assert_eq!(now, b - 3 * per, "{n} taken");
    }
    // A new recipe meanwhile: the cancel returns what the order took.
    let cup = keeper.ingredient("cup").await["id"].clone();
    keeper
        .send(
            "PATCH",
            &format!("/api/shop/items/{brown}"),
            Some(json!({"stock": {"kind": "recipe", "lines": [{"ingredient_id": cup, "quantity": 2}]}})),
        )
        .await
        .expect(200);
    keeper.set_status(&order, "cancelled").await.expect(200);
    for (n, b) in names.iter().zip(&before) {
        assert_eq!(keeper.ingredient(n).await["stock"], *b, "{n} returned");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_nobody_accepts_are_cancelled_and_their_stock_returned() {
    let server = TestServer::start_with(|c| c.auto_cancel_seconds = 1).await;
    let pork = server.item_id(PORK);
    let start = server.stock_left(PORK).await;
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    let kept = guest.place(&[(pork, 1)], "accepted-in-time").await;
    keeper.set_status(&kept, "accepted").await.expect(200);
    let late = guest.place(&[(pork, 2)], "never-accepted").await;
    assert_eq!(server.stock_left(PORK).await, start - 3);

    let (g, l) = (guest.clone(), late.clone());
    eventually("the unaccepted order is auto-cancelled", move || {
        let mut g = g.clone();
        let l = l.clone();
        async move { g.view(&l).await["status"] == "cancelled" }
    })
    .await;
    let view = guest.view(&late).await;
    let last = view["events"]
        .as_array()
        .expect("events")
        .last()
        .expect("an event")
        .clone();
    assert_eq!(last["by"], "system");
    assert!(
        view["cancel_reason"]
            .as_str()
            .expect("reason")
            .contains("No shop accepted"),
        "{view}"
    );
    assert_eq!(server.stock_left(PORK).await, start - 1, "its two returned");
    assert_eq!(
        guest.view(&kept).await["status"],
        "accepted",
        "an accepted order stays"
    );
    let notes = guest.get("/api/me/notifications").await.expect(200);
    assert_eq!(
        notes.as_array().expect("list").last().expect("one")["status"],
        "cancelled",
        "the guest is told"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_cancel_racing_the_shops_accept_has_one_winner() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let start = server.stock_left(PORK).await;
    let keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    let mut orders = Vec::new();
    for i in 0..20 {
        orders.push(guest.place(&[(pork, 1)], &format!("race-{i}")).await);
    }
    assert_eq!(server.stock_left(PORK).await, start - 20);
    let mut races = Vec::new();
    for order in &orders {
        let (mut g, mut k, o) = (guest.clone(), keeper.clone(), order.clone());
        races.push(tokio::spawn(async move {
            let cancel = format!("/api/orders/{}/cancel", o["token"].as_str().expect("t"));
            let (c, a) = tokio::join!(g.send("POST", &cancel, None), k.set_status(&o, "accepted"));
            (c.status, a.status)
        }));
    }
    let mut cancelled = 0;
    for (order, race) in orders.iter().zip(races) {
        let (c, a) = race.await.expect("race task");
        assert!(
            (c, a) == (200, 409) || (c, a) == (409, 200),
            "exactly one wins: cancel {c}, accept {a}"
        );
        let status = guest.view(order).await["status"].clone();
        assert_eq!(status, if c == 200 { "cancelled" } else { "accepted" });
        cancelled += u64::from(c == 200);
    }
    assert_eq!(server.stock_left(PORK).await, start - 20 + cancelled);
    server.stop().await;
}
