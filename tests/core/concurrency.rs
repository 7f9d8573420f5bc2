//! Stock under concurrency: exactly as many orders succeed as there is
//! stock, per item and through ingredients shared by two drinks, and a
//! multi-shop checkout is all or nothing.

use serde_json::{Value, json};

use crate::support::{Api, Server};

pub async fn menu(server: &Server, shop: u64) -> Value {
    let mut a = Api::new(server);
    let (status, m) = a
        .send("GET", &format!("/api/shops/{shop}/menu"), None)
        .await;
    assert_eq!(status, 200);
    m
}

pub fn item(menu: &Value, id: u64) -> &Value {
    menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .expect("item on the menu")
}

/// The first item of a shop whose stock is counted per item.
pub async fn counted_item(server: &Server, shop: u64) -> u64 {
    let m = menu(server, shop).await;
    m["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| !i["stock_left"].is_null())
        .and_then(|i| i["id"].as_u64())
        .expect("a counted item")
}

/// `n` different guests order at once; returns (status, body) of each.
async fn rush(server: &Server, n: usize, items: impl Fn(usize) -> Value) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut guest = Api::new(server);
        let body = json!({"items": items(i), "idempotency_key": format!("rush-{i}")});
        tasks.push(tokio::spawn(async move {
            guest.send("POST", "/api/orders", Some(body)).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_guests_race_for_thirty_seven_units() {
    let server = Server::start().await;
    let id = counted_item(&server, 2).await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let (status, _) = keeper
        .send(
            "POST",
            &format!("/api/shop/items/{id}/stock"),
            Some(json!({"set": 37})),
        )
        .await;
    assert_eq!(status, 200);

    let results = rush(&server, 200, |_| json!([{"item_id": id, "quantity": 1}])).await;
    let won = results.iter().filter(|(s, _)| *s == 201).count();
    let lost: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won, 37, "exactly the stock");
    assert_eq!(lost.len(), 163, "everyone else is told it ran out");
    assert!(
        lost.iter()
            .all(|b| b["error"] == "out_of_stock" && b["item_id"] == id)
    );

    let m = menu(&server, 2).await;
    assert_eq!(item(&m, id)["stock_left"], 0);
    assert_eq!(item(&m, id)["available"], false);
    let (_, orders) = keeper.send("GET", "/api/shop/orders", None).await;
    let sold: u64 = orders
        .as_array()
        .expect("orders")
        .iter()
        .flat_map(|o| o["lines"].as_array().expect("lines").iter())
        .filter(|l| l["item_id"] == id)
        .map(|l| l["quantity"].as_u64().expect("quantity"))
        .sum();
    assert_eq!(
        sold, 37,
        "no order without its stock, no stock without its order"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drinks_sharing_an_ingredient_never_oversell_it() {
    let server = Server::start().await;
    let mut keeper = Api::new(&server);
    keeper.login("tea@demo.queueless").await;
    // Ingredient 1 is the cup; both milk teas take one.
    let (status, body) = keeper
        .send(
            "POST",
            "/api/shop/ingredients/1/stock",
            Some(json!({"set": 37})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let results = rush(
        &server,
        200,
        |i| json!([{"item_id": 1 + (i % 2) as u64, "quantity": 1}]),
    )
    .await;
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 37);
    assert_eq!(results.iter().filter(|(s, _)| *s == 409).count(), 163);
    let (_, m) = keeper.send("GET", "/api/shop/menu", None).await;
    let cups = m["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|g| g["id"] == 1)
        .expect("cup");
    assert_eq!(cups["stock"], 0);
    let guest_menu = menu(&server, 1).await;
    assert_eq!(item(&guest_menu, 1)["available"], false);
    assert_eq!(item(&guest_menu, 2)["available"], false);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_with_one_shop_out_of_stock_creates_nothing() {
    let server = Server::start().await;
    let counted = counted_item(&server, 2).await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    keeper
        .send(
            "POST",
            &format!("/api/shop/items/{counted}/stock"),
            Some(json!({"set": 1})),
        )
        .await;
    let cups_before = {
        let mut tea = Api::new(&server);
        tea.login("tea@demo.queueless").await;
        let (_, m) = tea.send("GET", "/api/shop/menu", None).await;
        m["ingredients"][0]["stock"].clone()
    };
    let mut guest = Api::new(&server);
    let (status, body) = guest
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": 1, "quantity": 2}, {"item_id": counted, "quantity": 2}], "idempotency_key": "both"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["item_id"], counted);
    assert!(body["message"].as_str().expect("message").contains("left"));
    let (_, mine) = guest.send("GET", "/api/me/orders", None).await;
    assert_eq!(mine, json!([]), "no order in either shop");
    let (_, shop_orders) = keeper.send("GET", "/api/shop/orders", None).await;
    assert_eq!(shop_orders, json!([]));
    let mut tea = Api::new(&server);
    tea.login("tea@demo.queueless").await;
    let (_, m) = tea.send("GET", "/api/shop/menu", None).await;
    assert_eq!(
        m["ingredients"][0]["stock"], cups_before,
        "the first shop's stock is untouched"
    );
    assert_eq!(item(&menu(&server, 2).await, counted)["stock_left"], 1);
    server.stop().await;
}
