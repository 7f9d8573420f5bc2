//! Stock under concurrency: exactly as many orders succeed as there is
//! stock, per item and through ingredients shared by two drinks; restocking
//! during a rush loses no unit; a multi-shop checkout is all or nothing.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::support::{
    BROWN_SUGAR, CLASSIC, Client, DUMPLING_SHOP, DUMPLINGS, Dump, JUICE, JUICE_SHOP, ORANGE, PORK,
    TEA, TEA_SHOP, TestServer, VEGGIE, units_sold,
};

/// `n` different guests (each its own device) check out at once; the
/// answers in the order the guests were made.
async fn rush(server: &TestServer, n: usize, lines: impl Fn(usize) -> (u64, u32)) -> Vec<Value> {
    let start = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut guest = server.guest();
        let (item, quantity) = lines(i);
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let r = guest.order(&[(item, quantity)], &format!("rush-{i}")).await;
            json!({"status": r.status, "body": r.body, "item": item})
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("guest task"));
    }
    out
}

fn with_status(results: &[Value], status: u16) -> Vec<&Value> {
    results.iter().filter(|r| r["status"] == status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_guests_race_for_thirty_seven_units() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    keeper
        .post(&format!("/api/shop/items/{pork}/stock"), json!({"set": 37}))
        .await
        .expect(200);

    let results = rush(&server, 200, |_| (pork, 1)).await;
    let won = with_status(&results, 201);
    let lost = with_status(&results, 409);
    assert_eq!(won.len(), 37, "exactly the stock is sold");
    assert_eq!(lost.len(), 163, "everyone else is told it ran out");
    for r in &lost {
        assert_eq!(r["body"]["error"], "out_of_stock", "{r}");
        assert_eq!(r["body"]["item_id"], pork, "the error names the item");
        assert!(
            r["body"]["message"]
                .as_str()
                .expect("message")
                .contains(PORK)
        );
    }

    let item = server.item(PORK).await;
    assert_eq!(item["stock_left"], 0);
    assert_eq!(item["available"], false);
    let orders = keeper.shop_orders().await;
    assert_eq!(orders.len(), 37, "one order per success, no more");
    assert_eq!(units_sold(&orders, pork), 37);
    let mut numbers: Vec<u64> = orders
        .iter()
        .map(|o| o["number"].as_u64().expect("number"))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=37).collect::<Vec<u64>>(), "no number twice");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_drinks_sharing_cups_never_oversell_them() {
    let server = TestServer::start().await;
    let (classic, brown) = (server.item_id(CLASSIC), server.item_id(BROWN_SUGAR));
    let mut keeper = server.login(TEA).await;
    // Both drinks take one cup; every other ingredient suffices for more.
    let cup = keeper.ingredient("cup").await["id"].clone();
    keeper
        .post(
            &format!("/api/shop/ingredients/{cup}/stock"),
            json!({"set": 29}),
        )
        .await
        .expect(200);
    assert_eq!(server.stock_left(CLASSIC).await, 29);
    assert_eq!(server.stock_left(BROWN_SUGAR).await, 29);

    let results = rush(&server, 120, |i| {
        (if i % 2 == 0 { classic } else { brown }, 1)
    })
    .await;
    assert_eq!(with_status(&results, 201).len(), 29);
    assert_eq!(with_status(&results, 409).len(), 91);
    for r in with_status(&results, 409) {
        assert_eq!(r["body"]["error"], "out_of_stock");
        assert_eq!(r["body"]["item_id"], r["item"], "names the drink asked for");
    }
    assert_eq!(keeper.ingredient("cup").await["stock"], 0);
    for drink in [CLASSIC, BROWN_SUGAR] {
        let item = server.item(drink).await;
        assert_eq!(item["available"], false, "{drink} without cups");
        assert_eq!(item["stock_left"], 0);
    }
    let orders = keeper.shop_orders().await;
    assert_eq!(
        units_sold(&orders, classic) + units_sold(&orders, brown),
        29
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tapioca_taken_in_different_amounts_is_accounted_to_the_gram() {
    let server = TestServer::start().await;
    let (classic, brown) = (server.item_id(CLASSIC), server.item_id(BROWN_SUGAR));
    let mut keeper = server.login(TEA).await;
    // Classic takes 40 g, brown sugar 80 g: 1000 g make at most 25 drinks.
    let tapioca = keeper.ingredient("tapioca pearls").await["id"].clone();
    keeper
        .post(
            &format!("/api/shop/ingredients/{tapioca}/stock"),
            json!({"set": 1000}),
        )
        .await
        .expect(200);
    let cups_before = keeper.ingredient("cup").await["stock"]
        .as_u64()
        .expect("cups");

    let results = rush(&server, 80, |i| {
        (if i % 3 == 0 { brown } else { classic }, 1)
    })
    .await;
    let sold = |item: u64| {
        results
            .iter()
            .filter(|r| r["status"] == 201 && r["item"] == item)
            .count() as u64
    };
    let (c, b) = (sold(classic), sold(brown));
    assert_eq!(
        with_status(&results, 201).len() + with_status(&results, 409).len(),
        80
    );
    let left = keeper.ingredient("tapioca pearls").await["stock"]
        .as_u64()
        .expect("grams");
    assert_eq!(left, 1000 - 40 * c - 80 * b, "every gram accounted for");
    // 53 classics (40 g) alone would need 2120 g, so one failed: at that
    // moment, and so at the end, less than 40 g were left.
    assert!(left < 40, "a drink failed only when short: {left} g left");
    assert!(
        c + b >= 13,
        "more than 960 g went into drinks of at most 80 g"
    );
    assert_eq!(
        keeper.ingredient("cup").await["stock"],
        cups_before - c - b,
        "one cup per drink"
    );
    let orders = keeper.shop_orders().await;
    assert_eq!(units_sold(&orders, classic), c);
    assert_eq!(units_sold(&orders, brown), b);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restocking_during_a_rush_loses_no_unit() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    keeper
        .post(&format!("/api/shop/items/{pork}/stock"), json!({"set": 20}))
        .await
        .expect(200);
    let restocks: Vec<_> = (0..30)
        .map(|_| {
            let mut k = keeper.clone();
            tokio::spawn(async move {
                k.post(
                    &format!("/api/shop/items/{pork}/stock"),
                    json!({"delta": 1}),
                )
                .await
                .status
            })
        })
        .collect();
    let results = rush(&server, 100, |_| (pork, 1)).await;
    for r in restocks {
        assert_eq!(r.await.expect("restock task"), 200);
    }
    let sold = with_status(&results, 201).len() as u64;
    assert_eq!(with_status(&results, 409).len() as u64, 100 - sold);
    assert!(sold >= 20, "at least the first 20 were there: {sold}");
    assert_eq!(
        server.stock_left(PORK).await,
        20 + 30 - sold,
        "a relative restock never overwrites units that orders took"
    );
    assert_eq!(units_sold(&keeper.shop_orders().await, pork), sold);
    server.stop().await;
}

/// What the shops show of their orders and stock, and every table.
async fn world(server: &TestServer, keepers: &mut [Client]) -> (Value, Dump) {
    let mut seen = Vec::new();
    for k in keepers.iter_mut() {
        seen.push(json!({
            "orders": k.shop_orders().await,
            "menu": k.get("/api/shop/menu").await.expect(200),
        }));
    }
    (json!(seen), server.dump().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_with_one_shop_short_creates_no_order_anywhere() {
    let server = TestServer::start().await;
    let (classic, pork, veggie, orange) = (
        server.item_id(CLASSIC),
        server.item_id(PORK),
        server.item_id(VEGGIE),
        server.item_id(ORANGE),
    );
    let mut keepers = [
        server.login(TEA).await,
        server.login(DUMPLINGS).await,
        server.login(JUICE).await,
    ];
    keepers[1]
        .post(&format!("/api/shop/items/{pork}/stock"), json!({"set": 1}))
        .await
        .expect(200);
    keepers[1]
        .send(
            "PATCH",
            &format!("/api/shop/items/{veggie}"),
            Some(json!({"available": false})),
        )
        .await
        .expect(200);
    let (shown, dump) = world(&server, &mut keepers).await;
    let mut guest = server.guest();

    // Tea and juice could be made; the dumplings are one short.
    let r = guest
        .order(&[(classic, 2), (orange, 1), (pork, 2)], "three-shops")
        .await;
    assert_eq!(r.error(409), "out_of_stock");
    assert_eq!(r.body["item_id"], pork);
    assert!(r.message().contains("only 1 left"), "{}", r.body);
    // The short item first: the same.
    let r = guest.order(&[(pork, 5), (classic, 1)], "short-first").await;
    assert_eq!(r.error(409), "out_of_stock");
    // A switched-off item in the second shop.
    let r = guest
        .order(&[(classic, 1), (veggie, 1)], "switched-off")
        .await;
    assert_eq!(r.error(409), "item_unavailable");
    assert_eq!(r.body["item_id"], veggie);

    let (shown_after, dump_after) = world(&server, &mut keepers).await;
    assert_eq!(shown_after, shown, "no order, no stock moved");
    dump.assert_same(&dump_after, "a refused checkout");
    assert_eq!(guest.get("/api/me/orders").await.expect(200), json!([]));
    assert_eq!(server.stock_left(PORK).await, 1);

    // A paused second shop.
    keepers[2]
        .send("PATCH", "/api/shop", Some(json!({"paused": true})))
        .await
        .expect(200);
    let (_, dump) = world(&server, &mut keepers).await;
    let r = guest.order(&[(classic, 1), (orange, 1)], "paused").await;
    assert_eq!(r.error(409), "shop_not_accepting");
    assert!(r.message().contains(JUICE_SHOP), "{}", r.body);
    dump.assert_same(
        &world(&server, &mut keepers).await.1,
        "a checkout with a paused shop",
    );
    keepers[2]
        .send("PATCH", "/api/shop", Some(json!({"paused": false})))
        .await
        .expect(200);

    // Once it can be made, the same checkout makes one order per shop,
    // numbered from 1: the refused ones used up nothing.
    let placed = guest
        .order(&[(classic, 2), (orange, 1), (pork, 1)], "three-shops-ok")
        .await
        .expect(201);
    let orders = placed["orders"].as_array().expect("orders");
    let mut shops: Vec<u64> = orders
        .iter()
        .map(|o| o["shop_id"].as_u64().expect("shop"))
        .collect();
    shops.sort_unstable();
    let mut expected = vec![
        server.shop_id(TEA_SHOP),
        server.shop_id(DUMPLING_SHOP),
        server.shop_id(JUICE_SHOP),
    ];
    expected.sort_unstable();
    assert_eq!(shops, expected, "one order per shop");
    assert!(orders.iter().all(|o| o["number"] == 1), "{placed}");
    assert_eq!(server.stock_left(PORK).await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_changes_stay_in_range() {
    let server = TestServer::start().await;
    let (pork, orange) = (server.item_id(PORK), server.item_id(ORANGE));
    let mut keeper = server.login(DUMPLINGS).await;
    let mut tea = server.login(TEA).await;
    let mut juice = server.login(JUICE).await;
    let cup = tea.ingredient("cup").await;
    let item_stock = format!("/api/shop/items/{pork}/stock");
    let cup_stock = format!("/api/shop/ingredients/{}/stock", cup["id"]);
    let dump = server.dump().await;
    for body in [json!({"delta": -41}), json!({"set": 1_000_001})] {
        let r = keeper.post(&item_stock, body.clone()).await;
        assert_eq!(r.error(409), "conflict", "{body}: out of range");
    }
    for body in [
        json!({"set": -1}),
        json!({"set": null}),
        json!({}),
        json!({"delta": 1, "set": 1}),
        json!({"delta": "1"}),
    ] {
        let r = keeper.post(&item_stock, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    let below = json!({"delta": -(cup["stock"].as_i64().expect("cups") + 1)});
    assert_eq!(tea.post(&cup_stock, below).await.error(409), "conflict");
    let r = juice
        .post(
            &format!("/api/shop/items/{orange}/stock"),
            json!({"set": 5}),
        )
        .await;
    assert_eq!(r.error(409), "conflict", "an unlimited item has no count");
    dump.assert_same(&server.dump().await, "refused stock changes");

    let item = keeper
        .post(&item_stock, json!({"delta": -40}))
        .await
        .expect(200);
    assert_eq!(
        (item["stock_left"].clone(), item["available"].clone()),
        (json!(0), json!(false))
    );
    let item = keeper
        .post(&item_stock, json!({"delta": 5}))
        .await
        .expect(200);
    assert_eq!(
        (item["stock_left"].clone(), item["available"].clone()),
        (json!(5), json!(true))
    );
    let cups = tea.post(&cup_stock, json!({"set": 0})).await.expect(200);
    assert_eq!(cups["stock"], 0);
    assert_eq!(
        server.item(CLASSIC).await["available"],
        false,
        "no cup, no tea"
    );
    server.stop().await;
}
