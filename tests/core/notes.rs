//! Notes at checkout: a multi-shop checkout carries a note per shop, and a
//! shop's note reaches only that shop's order and ticket; the plain `note`
//! still goes to every shop without one of its own.

use serde_json::json;
use tokio::net::TcpListener;

use crate::printer::{next_ticket, printer, set_printer, text};
use crate::support::{DUMPLING_SHOP, DUMPLINGS, JUICE, JUICE_SHOP, ORANGE, PORK, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shop_gets_only_its_own_note() {
    let server = TestServer::start().await;
    let (dumplings, juice) = (server.shop_id(DUMPLING_SHOP), server.shop_id(JUICE_SHOP));
    let (pork, orange) = (server.item_id(PORK), server.item_id(ORANGE));
    let mut printers = Vec::new();
    for email in [DUMPLINGS, JUICE] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let mut keeper = server.login(email).await;
        set_printer(&mut keeper, &address, "placed").await;
        printers.push(printer(listener));
    }
    // A note to a shop with nothing in the checkout reaches nobody: refused,
    // nothing written.
    let mut guest = server.guest();
    let before = server.dump().await;
    let body = json!({"items": [{"item_id": orange, "quantity": 1}],
        "idempotency_key": "notes-two-shops-0003",
        "notes": {dumplings.to_string(): "nobody reads this"}});
    let r = guest.post("/api/orders", body).await;
    r.error(422);
    assert!(
        r.message().contains("no items in this checkout"),
        "{}",
        r.message()
    );
    let bad = json!({"items": [{"item_id": orange, "quantity": 1}],
        "idempotency_key": "notes-two-shops-0004", "notes": {juice.to_string(): "\u{7}bell"}});
    guest.post("/api/orders", bad).await.error(422);
    let bad = json!({"items": [{"item_id": orange, "quantity": 1}],
        "idempotency_key": "notes-two-shops-0005", "notes": {"juice": "hi"}});
    guest.post("/api/orders", bad).await.error(422);
    before.assert_same(&server.dump().await, "refused notes");

    let (dumpling_note, juice_note) = ("No coriander please", "Less ice, no straw");
    let body = json!({"items": [{"item_id": pork, "quantity": 1}, {"item_id": orange, "quantity": 2}],
        "idempotency_key": "notes-two-shops-0001", "note": "for the shop without one",
        "notes": {dumplings.to_string(): dumpling_note, juice.to_string(): juice_note}});
    let placed = guest.post("/api/orders", body).await.expect(201);
    let orders = placed["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2, "{placed}");
    for (shop, own) in [(dumplings, dumpling_note), (juice, juice_note)] {
        let order = orders
            .iter()
            .find(|o| o["shop_id"] == shop)
            .expect("an order per shop");
        let view = guest.view(order).await;
        assert_eq!(view["note"], own, "{view}");
        let keeper_email = if shop == dumplings { DUMPLINGS } else { JUICE };
        let mut keeper = server.login(keeper_email).await;
        let listed = keeper.shop_orders().await;
        let theirs = listed
            .iter()
            .find(|o| o["id"] == order["id"])
            .expect("the shop sees its order");
        assert_eq!(theirs["note"], own);
    }
    // Each printer gets one ticket, with its own note and not the other's.
    for (rx, own, other) in printers
        .iter_mut()
        .zip([(dumpling_note, juice_note), (juice_note, dumpling_note)])
        .map(|(rx, (own, other))| (rx, own, other))
    {
        let t = text(&next_ticket(rx).await.bytes);
        assert!(t.contains(own), "{own} on {t:?}");
        assert!(!t.contains(other), "{other} not on {t:?}");
        assert!(!t.contains("for the shop without one"), "{t:?}");
    }

    // `note` alone still goes to every shop; `notes` overrides it per shop.
    let body = json!({"items": [{"item_id": pork, "quantity": 1}, {"item_id": orange, "quantity": 1}],
        "idempotency_key": "notes-two-shops-0002", "note": "Birthday!",
        "notes": {juice.to_string(): "Juice only"}});
    let placed = guest.post("/api/orders", body).await.expect(201);
    for o in placed["orders"].as_array().expect("orders") {
        let want = if o["shop_id"] == juice {
            "Juice only"
        } else {
            "Birthday!"
        };
        assert_eq!(guest.view(o).await["note"], want);
    }

    server.stop().await;
}
