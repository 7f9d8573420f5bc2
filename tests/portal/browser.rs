//! Guests and shopkeepers in real headless Chromium: a two-shop checkout,
//! the dashboard and the order page updating without reload, a sold-out
//! item greying out on another guest's open menu (over plain HTTP and over
//! HTTPS, where a live stream keeps only its TLS sending key), a closed
//! table, and hostile names shown as text. Screenshots of each main page
//! are saved.

use fantoccini::{Client, Locator};
use queueless::domain::menu::StockChange;
use queueless::domain::{ItemId, ShopId};
use queueless::store::catalog;
use serde_json::json;

use crate::support::{
    Api, Driver, Server, browser_available, click, screenshot, wait_for, wait_text,
};

async fn add_to_cart(c: &Client, server: &Server, shop: u64, item: u64) {
    c.goto(&server.url(&format!("/shops/{shop}")))
        .await
        .expect("menu opens");
    click(c, &format!("li[data-item=\"{item}\"] button.add")).await;
    wait_for(c, "#cart-count").await;
}

async fn staff_login(c: &Client, server: &Server, email: &str) {
    c.goto(&server.url("/staff/login"))
        .await
        .expect("login page");
    c.find(Locator::Css("input[name=email]"))
        .await
        .expect("email field")
        .send_keys(email)
        .await
        .expect("type email");
    c.find(Locator::Css("input[name=password]"))
        .await
        .expect("password field")
        .send_keys("queueless-demo")
        .await
        .expect("type password");
    click(c, "form button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_orders_from_two_shops_and_sees_ready_live() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.browser("guest").await;
    let keeper = driver.browser("keeper").await;

    // The shopkeeper's dashboard is open before the order exists.
    staff_login(&keeper, &server, "tea@demo.queueless").await;
    wait_for(&keeper, "#queue").await;

    guest.goto(&server.url("/")).await.expect("landing");
    wait_text(&guest, "ul.shops", "Bubble Lab").await;
    screenshot(&guest, "guest-landing").await;
    add_to_cart(&guest, &server, 1, 1).await;
    screenshot(&guest, "guest-menu").await;
    add_to_cart(&guest, &server, 2, 5).await;
    guest.goto(&server.url("/cart")).await.expect("cart");
    wait_text(&guest, "main", "Dumpling House").await;
    guest
        .find(Locator::Css("input[name=pickup_name]"))
        .await
        .expect("name field")
        .send_keys("Ada")
        .await
        .expect("type name");
    screenshot(&guest, "guest-cart").await;
    click(&guest, "#checkout button").await;

    // One checkout, two shops: two orders on "my orders".
    wait_text(&guest, "h1", "My orders").await;
    let cards = guest
        .find_all(Locator::Css("ul.orders li"))
        .await
        .expect("orders");
    assert_eq!(cards.len(), 2, "one order per shop");
    let mut tea = Api::new(&server);
    tea.login("tea@demo.queueless").await;
    let (_, list) = tea.send("GET", "/api/shop/orders", None).await;
    let id = list[0]["id"].as_u64().expect("id");
    // The status link is the guest's own (shops never get it).
    let link = guest
        .find(Locator::Css(&format!("li[data-order=\"{id}\"] a")))
        .await
        .expect("the order's card")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    let token = link.trim_start_matches("/o/").to_owned();

    // The dashboard shows it without a reload.
    wait_for(&keeper, &format!(".ticket[data-order=\"{id}\"]")).await;
    screenshot(&keeper, "shop-dashboard").await;

    guest
        .goto(&server.url(&format!("/o/{token}")))
        .await
        .expect("order page");
    wait_text(&guest, "#stage", "Sent to the shop").await;
    screenshot(&guest, "guest-order").await;

    for (from, label) in [
        ("placed", "Accepted"),
        ("accepted", "Being prepared"),
        ("preparing", "Ready for pickup!"),
    ] {
        let css = format!(".ticket[data-order=\"{id}\"][data-status={from}] button.bump");
        wait_for(&keeper, &css).await;
        click(&keeper, &css).await;
        // The guest's page follows without a reload.
        wait_text(&guest, "#stage", label).await;
    }
    let status = guest
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .attr("data-status")
        .await
        .expect("attr");
    assert_eq!(status.as_deref(), Some("ready"));
    let title = guest.title().await.expect("title");
    assert!(
        title.starts_with("READY · "),
        "the tab title shouts: {title}"
    );
    screenshot(&guest, "guest-order-ready").await;

    guest.close().await.expect("close");
    keeper.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sold_out_item_greys_out_on_an_open_menu() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.browser("other-guest").await;
    guest.goto(&server.url("/shops/2")).await.expect("menu");
    wait_for(&guest, "li[data-item=\"5\"]:not(.soldout)").await;

    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let (status, body) = keeper
        .send("POST", "/api/shop/items/5/stock", Some(json!({"set": 0})))
        .await;
    assert_eq!(status, 200, "{body}");

    wait_for(&guest, "li[data-item=\"5\"].soldout").await;
    let button = guest
        .find(Locator::Css("li[data-item=\"5\"] button.add"))
        .await
        .expect("button");
    assert!(
        !button.is_enabled().await.expect("enabled?"),
        "sold out cannot be added"
    );
    wait_text(&guest, "li[data-item=\"5\"] .left", "Sold out").await;

    // And back: a restock shows up the same way.
    keeper
        .send("POST", "/api/shop/items/5/stock", Some(json!({"delta": 3})))
        .await;
    wait_for(&guest, "li[data-item=\"5\"]:not(.soldout)").await;
    guest.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_menu_follows_stock_over_https() {
    if !browser_available() {
        return;
    }
    let server = Server::start_https().await;
    let driver = Driver::start().await;
    // The certificate is the self-signed one a venue starts with.
    let guest = driver
        .browser_with("https-guest", &["--ignore-certificate-errors"])
        .await;
    guest.goto(&server.url("/shops/2")).await.expect("menu");
    wait_for(&guest, "li[data-item=\"5\"]:not(.soldout)").await;
    let stock = |change| {
        let store = server.running.store.clone();
        async move {
            store
                .write(move |tx| catalog::change_item_stock(tx, ShopId(2), ItemId(5), change))
                .await
                .expect("stock changes");
        }
    };
    // Several events on the one stream: each record must open in order.
    for _ in 0..3 {
        stock(StockChange::Set(0)).await;
        wait_for(&guest, "li[data-item=\"5\"].soldout").await;
        stock(StockChange::Delta(2)).await;
        wait_text(&guest, "li[data-item=\"5\"] .left", "2").await;
    }
    screenshot(&guest, "menu-over-https").await;
    guest.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_table_is_seen_by_its_guest() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.browser("table-guest").await;
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let (status, table) = keeper
        .send(
            "POST",
            "/api/shop/tables",
            Some(json!({"label": "Table 4"})),
        )
        .await;
    assert_eq!(status, 201, "{table}");
    let code = table["code"].as_str().expect("code");
    guest
        .goto(&server.url(&format!("/t/{code}")))
        .await
        .expect("table page");
    wait_text(&guest, "#table-state", "You are ordering at Table 4").await;
    // Wait until the page's stream is connected before closing.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let id = table["id"].as_u64().expect("id");
    let (status, _) = keeper
        .send("POST", &format!("/api/shop/tables/{id}/close"), None)
        .await;
    assert_eq!(status, 200);
    wait_text(&guest, "#table-state", "This table is closed").await;
    guest.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_render_as_text() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.browser("xss-guest").await;
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let evil = "<script>alert(1)</script>";
    let (status, item) = keeper
        .send(
            "POST",
            "/api/shop/items",
            Some(json!({"name": evil, "description": "<img src=x onerror=alert(2)>", "price_cents": 100, "stock": {"kind": "unlimited"}})),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    // An approved shop's name is the operator's to change.
    let mut admin = Api::new(&server);
    admin.login("admin@demo.queueless").await;
    let (status, body) = admin
        .send("PATCH", "/api/admin/shops/3", Some(json!({"name": evil})))
        .await;
    assert_eq!(status, 200, "{body}");
    for path in ["/", "/shops/3", "/board?shop=3"] {
        guest.goto(&server.url(path)).await.expect("page");
        wait_text(&guest, "body", evil).await;
        assert!(
            guest.get_alert_text().await.is_err(),
            "no script ran on {path}"
        );
    }
    guest.close().await.expect("close");
    server.stop().await;
}
