//! The pickup board in real Chromium at TV sizes (1920×1080, 1280×720):
//! the identifier the phone shows big is the one on the board, the numbers
//! fill the screen, a newly ready number is highlighted and chimes once the
//! board's sound is on, and without JavaScript the board refreshes itself;
//! the shop sets its prefix and usual preparation time by form.
//! Screenshots go to docs/screenshots when QUEUELESS_SCREENSHOTS says so.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::support::{
    Api, Driver, Server, advance, body_attr, browser_available, place, screenshot, wait_attr,
    wait_for, wait_text,
};

/// A browser whose page is exactly `w` × `h` CSS pixels (a TV), with
/// `extra` switches.
async fn open_tv(driver: &Driver, name: &str, (w, h): (u32, u32), extra: &[&str]) -> Client {
    let size = format!("--window-size={w},{h}");
    let mut args = vec![size.as_str()];
    args.extend_from_slice(extra);
    let c = driver.browser_with(name, &args).await;
    // The window's size includes the browser's own frame: add it.
    let (vw, vh) = viewport(&c).await;
    let grow = |want: u32, got: f64| want + (f64::from(want) - got).max(0.0) as u32;
    c.set_window_size(grow(w, vw), grow(h, vh))
        .await
        .expect("window resized");
    c
}

/// One item of each demo shop: Bubble Lab (B), Dumpling House (D), Fresh Press (F).
const ITEMS: [(u64, &str); 3] = [
    (1, "tea@demo.queueless"),
    (5, "dumplings@demo.queueless"),
    (9, "juice@demo.queueless"),
];

async fn keepers(server: &Server) -> Vec<Api> {
    let mut out = Vec::new();
    for (_, email) in ITEMS {
        let mut k = Api::new(server);
        k.login(email).await;
        out.push(k);
    }
    out
}

/// Heights in CSS pixels of the board's numbers in one column.
async fn heights(c: &Client, column: &str) -> Vec<f64> {
    let js = format!(
        "return Array.from(document.querySelectorAll('#{column} b')).map(b => b.getBoundingClientRect().height)"
    );
    let v = c.execute(&js, vec![]).await.expect("script");
    v.as_array()
        .expect("list")
        .iter()
        .map(|h| h.as_f64().expect("number"))
        .collect()
}

/// The identifiers in one column (none found while the page reloads).
async fn calls(c: &Client, column: &str) -> Vec<String> {
    let mut out = Vec::new();
    let found = c
        .find_all(Locator::Css(&format!("#{column} b")))
        .await
        .unwrap_or_default();
    for b in found {
        if let Ok(t) = b.text().await {
            out.push(t);
        }
    }
    out
}

async fn viewport(c: &Client) -> (f64, f64) {
    let v: Value = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .expect("script");
    (
        v[0].as_f64().expect("width"),
        v[1].as_f64().expect("height"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_matches_the_phone_and_fills_a_tv() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut guest = Api::new(&server);
    let mut keepers = keepers(&server).await;
    // Two ready and three being made, across the three shops.
    let mut orders = Vec::new();
    for (i, (item, _)) in ITEMS.iter().enumerate() {
        for n in 0..2 {
            let o = place(&mut guest, *item, &format!("{i}-{n}")).await;
            orders.push((i, o));
        }
    }
    for (k, (i, (id, _))) in orders.iter().enumerate().take(5) {
        advance(&mut keepers[*i], *id, "accepted").await;
        if k < 2 {
            advance(&mut keepers[*i], *id, "preparing").await;
            advance(&mut keepers[*i], *id, "ready").await;
        }
    }

    // The phone of the first order: its big identifier.
    let phone = driver.browser("phone").await;
    phone
        .goto(&server.url(&format!("/o/{}", orders[0].1.1)))
        .await
        .expect("order page");
    wait_for(&phone, "#call").await;
    let big = phone
        .find(Locator::Css("#call"))
        .await
        .expect("call")
        .text()
        .await
        .expect("text");
    assert_eq!(big, "B1");
    let code = phone
        .find(Locator::Css(".pickup b"))
        .await
        .expect("code")
        .text()
        .await
        .expect("text");

    for (w, h) in [(1920u32, 1080u32), (1280, 720)] {
        let tv = open_tv(&driver, &format!("tv-{w}"), (w, h), &[]).await;
        tv.goto(&server.url("/board")).await.expect("board");
        wait_for(&tv, "#ready b").await;
        let (vw, vh) = viewport(&tv).await;
        assert_eq!((vw, vh), (f64::from(w), f64::from(h)), "the TV's size");
        let ready = calls(&tv, "ready").await;
        assert!(
            ready.contains(&big),
            "the phone's {big} is on the board: {ready:?}"
        );
        let page = tv.source().await.expect("source");
        assert!(!page.contains(&code), "never the pickup code on the board");
        // Two ready numbers: each at least a fifth of the screen's height;
        // the three being made smaller, but still readable across a room.
        let r = heights(&tv, "ready").await;
        assert!(r.iter().all(|&x| x > vh / 5.0), "ready {r:?} of {vh}");
        let p = heights(&tv, "preparing").await;
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|&x| x > vh / 10.0), "preparing {p:?} of {vh}");
        // Nothing scrolls: the board fits the screen.
        let scroll: Value = tv
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(
            (scroll[0].as_f64(), scroll[1].as_f64()),
            (Some(vw), Some(vh))
        );
        eprintln!("board {w}×{h}: ready numbers {r:?} px, preparing {p:?} px tall");
        screenshot(&tv, &format!("board-{w}x{h}")).await;
        tv.close().await.expect("close");
    }

    // Sound on, then one more ready: highlighted, chimes, and many fit.
    let tv = open_tv(
        &driver,
        "tv-sound",
        (1920, 1080),
        &[crate::alerts::TAP_FOR_SOUND],
    )
    .await;
    tv.goto(&server.url("/board")).await.expect("board");
    wait_for(&tv, "#sound").await;
    tv.find(Locator::Css("#sound"))
        .await
        .expect("sound button")
        .click()
        .await
        .expect("tap");
    wait_attr(&tv, "data-alerts", "on").await;
    wait_text(&tv, "#sound-state", "Sound on").await;
    let (i, (id, _)) = &orders[2];
    advance(&mut keepers[*i], *id, "preparing").await;
    advance(&mut keepers[*i], *id, "ready").await;
    wait_attr(&tv, "data-alert", "fired").await;
    assert_eq!(
        body_attr(&tv, "data-alert-sound").await.as_deref(),
        Some("played")
    );
    wait_for(&tv, "#ready li.fresh").await;
    assert_eq!(calls(&tv, "ready").await.len(), 3);
    // A rush: twelve more ready orders still fit on the screen.
    for n in 0..12 {
        let (oid, _) = place(&mut guest, 9, &format!("rush-{n}")).await;
        for s in ["accepted", "preparing", "ready"] {
            advance(&mut keepers[2], oid, s).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls(&tv, "ready").await.len() < 15 {
        assert!(Instant::now() < deadline, "the rush never showed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = heights(&tv, "ready").await;
    assert!(r.iter().all(|&x| x > 1080.0 / 12.0), "{r:?}");
    let scroll: Value = tv
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .expect("script");
    assert_eq!(scroll.as_f64(), Some(1080.0), "still no scrolling");
    screenshot(&tv, "board-1920x1080-rush").await;
    tv.close().await.expect("close");

    // A kiosk TV whose browser may play without a tap: sound turned on
    // once stays on after a restart of the page.
    let kiosk = open_tv(&driver, "kiosk", (1280, 720), &[]).await;
    kiosk.goto(&server.url("/board")).await.expect("board");
    wait_for(&kiosk, "#sound").await;
    assert_eq!(
        body_attr(&kiosk, "data-alerts").await.as_deref(),
        Some("off")
    );
    kiosk
        .find(Locator::Css("#sound"))
        .await
        .expect("sound button")
        .click()
        .await
        .expect("tap");
    wait_attr(&kiosk, "data-alerts", "on").await;
    kiosk.refresh().await.expect("reload");
    wait_for(&kiosk, "#ready b").await;
    wait_attr(&kiosk, "data-alerts", "on").await;
    wait_text(&kiosk, "#sound-state", "Sound on").await;
    kiosk.close().await.expect("close");
    phone.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_board_refreshes() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let mut guest = Api::new(&server);
    let mut keepers = keepers(&server).await;
    let (id, _) = place(&mut guest, 9, "no-js-board").await;
    let tv = open_tv(
        &driver,
        "tv-no-js",
        (1280, 720),
        &["--blink-settings=scriptEnabled=false"],
    )
    .await;
    tv.goto(&server.url("/board")).await.expect("board");
    wait_for(&tv, "#h-ready").await;
    let started = Instant::now();
    for s in ["accepted", "preparing", "ready"] {
        advance(&mut keepers[2], id, s).await;
    }
    let deadline = started + Duration::from_secs(25);
    while !calls(&tv, "ready").await.contains(&"F1".to_owned()) {
        assert!(Instant::now() < deadline, "no refresh within 25 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("no-JS board showed F1 after {:?}", started.elapsed());
    // Sized by the stylesheet alone (the CSP allows no inline style).
    let r = heights(&tv, "ready").await;
    assert!(r.iter().all(|&x| x > 720.0 / 5.0), "{r:?}");
    screenshot(&tv, "board-1280x720-no-js").await;
    tv.close().await.expect("close");
    server.stop().await;
}

/// Posts the shop settings' pickup form: status and redirect.
async fn pickup_form(a: &mut Api, csrf: &str, prefix: &str, minutes: &str) -> (u16, String) {
    let fields = [
        ("_csrf", csrf),
        ("prefix", prefix),
        ("prep_minutes", minutes),
    ];
    let (status, _, location) = a.form("/shop/pickup", &fields).await;
    (status, location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_sets_its_prefix_and_usual_time_in_its_settings() {
    let server = Server::start().await;
    let mut juice = Api::new(&server);
    juice.login("juice@demo.queueless").await;
    let (_, page, _) = juice.page("/shop/settings").await;
    assert!(page.contains("called and shown on the pickup board as <b>F</b>"));
    // The dashboard's ticket shows what the shop calls out.
    let mut guest = Api::new(&server);
    place(&mut guest, 9, "dashboard").await;
    let (_, dash, _) = juice.page("/shop").await;
    assert!(dash.contains("<b class=\"num\">F1</b>"), "{dash}");
    let csrf = juice.csrf().await;
    // "B" is Bubble Lab's; digits are no prefix.
    assert_eq!(pickup_form(&mut juice, &csrf, "b", "4").await.0, 409);
    assert_eq!(pickup_form(&mut juice, &csrf, "F1", "4").await.0, 422);
    assert_eq!(
        pickup_form(&mut juice, &csrf, " jp ", "4").await,
        (303, "/shop/settings".to_owned())
    );
    let (_, p) = juice.send("GET", "/api/shop/pickup", None).await;
    assert_eq!(
        (&p["prefix"], &p["default_prep_seconds"]),
        (&json!("JP"), &json!(240))
    );
    // Empty fields go back to the defaults.
    assert_eq!(pickup_form(&mut juice, &csrf, "", "").await.0, 303);
    let (_, p) = juice.send("GET", "/api/shop/pickup", None).await;
    assert_eq!(
        (&p["prefix"], &p["typical_prep_seconds"]),
        (&json!("F"), &json!(300))
    );
    server.stop().await;
}
