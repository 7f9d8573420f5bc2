//! The guest's order page in real Chromium with the browser's own autoplay
//! rule (sound only after a tap): "Turn on alerts" unlocks sound, and the
//! ready alert then plays; without the tap the page says the browser
//! blocked it. Live updates carry the cancel reason; finished and
//! cancelled orders read right; without JavaScript the page refreshes
//! itself until the order is finished.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::support::{
    Api, Driver, Server, advance, body_attr, browser_available, place, screenshot, wait_attr,
    wait_for, wait_text,
};

/// Juice (shop 3, "Fresh Press": called F…), made without stock limits.
const JUICE_ITEM: u64 = 9;
/// Classic milk tea (shop 1, "Bubble Lab": called B…).
const TEA_ITEM: u64 = 1;

/// Chromium's autoplay rule for the web (an AudioContext stays suspended
/// until the page has had a tap); headless Chromium plays anything unless
/// told. (`user-gesture-required` does not suspend audio contexts.)
pub const TAP_FOR_SOUND: &str = "--autoplay-policy=document-user-activation-required";

/// A phone-sized browser that keeps Chromium's real autoplay rule.
async fn phone(driver: &Driver, name: &str) -> Client {
    driver.browser_with(name, &[TAP_FOR_SOUND]).await
}

/// The text of `css`, or nothing while the page is reloading.
async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn keeper(server: &Server, email: &str) -> Api {
    let mut k = Api::new(server);
    k.login(email).await;
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tap_unlocks_sound_and_the_ready_alert_plays() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut guest = Api::new(&server);
    let mut juice = keeper(&server, "juice@demo.queueless").await;
    let (tapped_id, tapped) = place(&mut guest, JUICE_ITEM, "tapped").await;
    let (untapped_id, untapped) = place(&mut guest, JUICE_ITEM, "untapped").await;

    let a = phone(&driver, "tapper").await;
    a.goto(&server.url(&format!("/o/{tapped}")))
        .await
        .expect("order page");
    wait_for(&a, "#alerts-on").await;
    assert_eq!(body_attr(&a, "data-alerts").await.as_deref(), Some("off"));
    assert_eq!(body_attr(&a, "data-audio").await.as_deref(), Some("none"));
    wait_text(&a, "#alerts-state", "Get a sound").await;
    a.find(Locator::Css("#alerts-on"))
        .await
        .expect("button")
        .click()
        .await
        .expect("tap");
    wait_attr(&a, "data-alerts", "on").await;
    assert_eq!(
        body_attr(&a, "data-audio").await.as_deref(),
        Some("running")
    );
    wait_text(&a, "#alerts-state", "Alerts on").await;
    screenshot(&a, "guest-alerts-on").await;

    // The other phone never taps: its browser keeps the sound off.
    let b = phone(&driver, "no-tap").await;
    b.goto(&server.url(&format!("/o/{untapped}")))
        .await
        .expect("order page");
    wait_for(&b, "#alerts-on").await;

    for s in ["accepted", "preparing", "ready"] {
        advance(&mut juice, tapped_id, s).await;
        advance(&mut juice, untapped_id, s).await;
    }
    wait_attr(&a, "data-alert", "fired").await;
    assert_eq!(
        body_attr(&a, "data-alert-sound").await.as_deref(),
        Some("played"),
        "the alert played its sound"
    );
    assert_eq!(
        body_attr(&a, "data-audio").await.as_deref(),
        Some("running")
    );
    let title = a.title().await.expect("title");
    assert!(title.starts_with("READY · F1"), "{title}");
    wait_for(&a, "#order.alert.status-ready").await;
    screenshot(&a, "guest-order-ready").await;

    wait_attr(&b, "data-alert", "fired").await;
    assert_eq!(
        body_attr(&b, "data-alert-sound").await.as_deref(),
        Some("blocked")
    );
    wait_text(&b, "#alerts-state", "blocked the sound").await;
    assert!(b.title().await.expect("title").starts_with("READY · F2"));

    // Remembered: a new page load turns them on again where the browser
    // allows it (Chromium does after a tap on the site), else asks for the
    // one tap it needs, and any tap on the page will do.
    a.refresh().await.expect("reload");
    wait_for(&a, "#stage").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let state = loop {
        let s = body_attr(&a, "data-alerts").await;
        if matches!(s.as_deref(), Some("on" | "asked")) {
            break s;
        }
        assert!(Instant::now() < deadline, "alerts state {s:?} after reload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("after a reload the alerts were {state:?}");
    if state.as_deref() == Some("asked") {
        wait_text(&a, "#alerts-on", "Turn alerts back on").await;
        a.find(Locator::Css("#stage"))
            .await
            .expect("stage")
            .click()
            .await
            .expect("tap");
    }
    wait_attr(&a, "data-alerts", "on").await;
    assert_eq!(
        body_attr(&a, "data-audio").await.as_deref(),
        Some("running")
    );

    // A phone that chose alerts but never tapped this site: asked, and a
    // tap anywhere unlocks them.
    b.execute("localStorage.setItem('queueless-alerts', 'on')", vec![])
        .await
        .expect("script");
    b.refresh().await.expect("reload");
    wait_attr(&b, "data-alerts", "asked").await;
    wait_text(&b, "#alerts-on", "Turn alerts back on").await;
    assert_ne!(
        body_attr(&b, "data-audio").await.as_deref(),
        Some("running")
    );
    b.find(Locator::Css("#stage"))
        .await
        .expect("stage")
        .click()
        .await
        .expect("tap");
    wait_attr(&b, "data-alerts", "on").await;
    assert_eq!(
        body_attr(&b, "data-audio").await.as_deref(),
        Some("running")
    );

    a.close().await.expect("close");
    b.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_arrive_live_and_finished_orders_read_right() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut guest = Api::new(&server);
    let mut tea = keeper(&server, "tea@demo.queueless").await;
    let (cancel_id, cancelled) = place(&mut guest, TEA_ITEM, "to-cancel").await;
    let (done_id, done) = place(&mut guest, TEA_ITEM, "to-collect").await;
    let c = phone(&driver, "reasons").await;

    c.goto(&server.url(&format!("/o/{cancelled}")))
        .await
        .expect("order page");
    wait_text(&c, "#pay-hint", "pay at the counter").await;
    assert!(
        c.title()
            .await
            .expect("title")
            .starts_with("B1 · Sent to the shop")
    );
    advance(&mut tea, cancel_id, "cancelled").await;
    wait_text(&c, "#reason", "Out of tapioca today").await;
    wait_text(&c, "#stage", "Cancelled").await;
    wait_for(&c, "#order.status-cancelled").await;
    wait_text(&c, "#pay-hint", "nothing to pay").await;
    assert!(
        c.title()
            .await
            .expect("title")
            .starts_with("B1 · Cancelled")
    );
    let alerts = c.find(Locator::Css("#alerts")).await.expect("alerts");
    assert!(
        !alerts.is_displayed().await.expect("shown?"),
        "no alerts offer"
    );
    screenshot(&c, "guest-order-cancelled").await;

    c.goto(&server.url(&format!("/o/{done}")))
        .await
        .expect("order page");
    wait_for(&c, "#alerts-on").await;
    for s in ["accepted", "preparing", "ready", "completed"] {
        advance(&mut tea, done_id, s).await;
    }
    wait_text(&c, "#stage", "Picked up").await;
    let title = c.title().await.expect("title");
    assert!(title.starts_with("B2 · Picked up"), "{title}");
    assert!(!title.contains("READY"), "{title}");
    c.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_order_page_refreshes_until_finished() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut guest = Api::new(&server);
    let mut juice = keeper(&server, "juice@demo.queueless").await;
    let (id, token) = place(&mut guest, JUICE_ITEM, "no-js").await;
    let c = driver
        .browser_with("no-js", &["--blink-settings=scriptEnabled=false"])
        .await;
    c.goto(&server.url(&format!("/o/{token}")))
        .await
        .expect("order page");
    wait_text(&c, "#stage", "Sent to the shop").await;
    assert_eq!(
        body_attr(&c, "data-alerts").await,
        None,
        "no script ran (the alerts script marks <body>)"
    );
    let button = c.find(Locator::Css("#alerts-on")).await.expect("button");
    assert!(
        !button.is_displayed().await.expect("shown?"),
        "no dead button"
    );
    let started = Instant::now();
    advance(&mut juice, id, "accepted").await;
    // The page reloads itself (every 20 s) and shows the new stage.
    let deadline = started + Duration::from_secs(30);
    while !text_of(&c, "#stage").await.contains("Accepted") {
        assert!(Instant::now() < deadline, "no refresh within 30 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "no-JS page showed the new stage after {:?}",
        started.elapsed()
    );
    // Finished: no more refreshing.
    for s in ["preparing", "ready", "completed"] {
        advance(&mut juice, id, s).await;
    }
    let html = reqwest::get(server.url(&format!("/o/{token}")))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Picked up") && !html.contains("http-equiv=\"refresh\""));
    let (_, open_token) = place(&mut guest, JUICE_ITEM, "open").await;
    let html = reqwest::get(server.url(&format!("/o/{open_token}")))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"20\"></noscript>"));
    c.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_orders_offers_alerts_and_rings_when_one_is_ready() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut juice = keeper(&server, "juice@demo.queueless").await;
    let c = phone(&driver, "my-orders").await;
    c.goto(&server.url("/")).await.expect("landing");
    // Ordered from this browser (its device cookie), as the cart would.
    let placed = c
        .execute(
            "return fetch('/api/orders', {method: 'POST', headers: {'content-type': 'application/json'}, \
             body: JSON.stringify({items: [{item_id: 9, quantity: 1}], idempotency_key: 'test-checkout-of-mine'})}) \
             .then(r => r.json())",
            vec![],
        )
        .await
        .expect("order placed");
    let id = placed["orders"][0]["id"].as_u64().expect("id");
    c.goto(&server.url("/orders")).await.expect("my orders");
    wait_text(&c, ".orders .code", "F1").await;
    wait_for(&c, "#alerts-on").await;
    c.find(Locator::Css("#alerts-on"))
        .await
        .expect("button")
        .click()
        .await
        .expect("tap");
    wait_attr(&c, "data-alerts", "on").await;
    for s in ["accepted", "preparing", "ready"] {
        advance(&mut juice, id, s).await;
    }
    wait_attr(&c, "data-alert", "fired").await;
    assert_eq!(
        body_attr(&c, "data-alert-sound").await.as_deref(),
        Some("played")
    );
    wait_text(&c, ".orders .stage", "Ready for pickup!").await;
    assert!(c.title().await.expect("title").starts_with("READY · F1"));
    c.close().await.expect("close");
    server.stop().await;
}
