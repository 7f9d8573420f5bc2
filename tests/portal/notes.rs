//! Notes at checkout in real headless Chromium: a cart with items of two
//! shops shows a note field in each shop's section, and each shop's order
//! carries only the note typed in its own section. Screenshot at 390 px.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::support::{Api, Driver, Server, browser_available, screenshot, wait_for, wait_text};

/// The id of the item named `name` on any shop's menu, and its shop.
async fn item(api: &mut Api, name: &str) -> (u64, u64) {
    let (_, shops) = api.send("GET", "/api/shops", None).await;
    for s in shops.as_array().expect("shops") {
        let (_, menu) = api
            .send("GET", &format!("/api/shops/{}/menu", s["id"]), None)
            .await;
        if let Some(i) = menu["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["name"] == name)
        {
            return (
                i["id"].as_u64().expect("id"),
                i["shop_id"].as_u64().expect("shop"),
            );
        }
    }
    panic!("no {name} on the demo menus");
}

async fn add(guest: &Client, server: &Server, shop: u64, item: u64) {
    guest
        .goto(&server.url(&format!("/shops/{shop}")))
        .await
        .expect("menu");
    let add = format!("li[data-item=\"{item}\"] button.add");
    wait_for(guest, &add).await;
    guest
        .find(Locator::Css(&add))
        .await
        .expect("add button")
        .click()
        .await
        .expect("click add");
    wait_text(
        guest,
        &format!("li[data-item=\"{item}\"] .incart"),
        "1 in cart",
    )
    .await;
}

async fn newest_note(server: &Server, keeper: &str) -> Value {
    let mut k = Api::new(server);
    k.login(keeper).await;
    let (status, orders) = k.send("GET", "/api/shop/orders", None).await;
    assert_eq!(status, 200, "{orders}");
    let newest = orders
        .as_array()
        .expect("orders")
        .iter()
        .max_by_key(|o| o["id"].as_u64())
        .cloned()
        .expect("an order");
    newest["note"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shop_section_of_the_cart_takes_its_own_note() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let mut api = Api::new(&server);
    let (pork, dumplings) = item(&mut api, "Pork dumplings (6)").await;
    let (orange, juice) = item(&mut api, "Orange juice").await;
    let driver = Driver::start().await;
    let guest = driver.phone("notes", &[]).await;
    add(&guest, &server, dumplings, pork).await;
    add(&guest, &server, juice, orange).await;
    guest.goto(&server.url("/cart")).await.expect("cart");
    for (shop, note) in [(dumplings, "No coriander please"), (juice, "Less ice")] {
        guest
            .find(Locator::Css(&format!("input[name=\"note_{shop}\"]")))
            .await
            .unwrap_or_else(|e| panic!("a note field for shop {shop}: {e}"))
            .send_keys(note)
            .await
            .expect("type the note");
    }
    assert!(
        guest
            .find(Locator::Css("input[name=\"note\"]"))
            .await
            .is_err(),
        "one note field per shop, none for all"
    );
    screenshot(&guest, "guest-cart-notes").await;
    guest
        .find(Locator::Css("#checkout button"))
        .await
        .expect("place button")
        .click()
        .await
        .expect("place");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while guest.current_url().await.expect("url").path() != "/orders" {
        assert!(std::time::Instant::now() < deadline, "not on /orders");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        newest_note(&server, "dumplings@demo.queueless").await,
        "No coriander please"
    );
    assert_eq!(
        newest_note(&server, "juice@demo.queueless").await,
        "Less ice"
    );
    server.stop().await;
}
