//! Every page for everyone: each page of the portal (guest, shop, admin,
//! board), in the states a real evening leaves it in, checked by axe-core
//! in real Chromium at the width it is used at (a 390 px phone, a 768 px
//! tablet, a 1920 px screen), failing on any serious or critical
//! violation, and walked with the Tab key (every visible control reached,
//! the focus always shown). A page added later is one line in [`PAGES`].

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::axe::{audit, axe_source, keyboard};
use crate::guests::Fake;
use crate::support::{
    Api, Driver, Server, advance, browser_available, click, place, screenshot, wait_for,
};

/// Who looks at a page: each is one browser, logged in as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// A guest's phone (390 px wide), with a cart, orders and a table.
    Guest,
    /// A staff browser before anyone logs in.
    Visitor,
    /// The Bubble Lab shopkeeper.
    Shop,
    /// The venue's operator.
    Admin,
}

/// One page in one state: a name (for screenshots and the report), who
/// opens it, its address (`{key}` is filled from the setup), a button to
/// press there first (for a form's answer), what shows it is drawn, and
/// the widths it is checked at (0: the phone's own).
struct Page {
    name: &'static str,
    who: Who,
    path: &'static str,
    click: Option<&'static str>,
    ready: &'static str,
    widths: &'static [u32],
}

const PHONE: &[u32] = &[0];
const STAFF: &[u32] = &[768, 1920];
const TV: &[u32] = &[1920, 1280];

/// Every page the router serves, in the order the browsers visit them.
#[rustfmt::skip]
const PAGES: &[Page] = &[
    // Guests (the phone), not yet through the captive portal. Fresh Press is
    // paused and the dumplings sold out: its card, menu and cart lines say so.
    Page { name: "landing", who: Who::Guest, path: "/", click: None, ready: "#join", widths: PHONE },
    Page { name: "menu", who: Who::Guest, path: "/shops/1", click: None, ready: "ul.items", widths: PHONE },
    Page { name: "menu-sold-out", who: Who::Guest, path: "/shops/2", click: None, ready: "li.item.soldout", widths: PHONE },
    Page { name: "menu-paused", who: Who::Guest, path: "/shops/3", click: None, ready: "ul.items", widths: PHONE },
    Page { name: "chooser", who: Who::Guest, path: "/shops/1/items/10", click: None, ready: "#chooser", widths: PHONE },
    Page { name: "cart", who: Who::Guest, path: "/cart", click: None, ready: "#checkout", widths: PHONE },
    Page { name: "order-placed", who: Who::Guest, path: "/o/{placed}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-accepted", who: Who::Guest, path: "/o/{accepted}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-preparing", who: Who::Guest, path: "/o/{preparing}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-ready", who: Who::Guest, path: "/o/{ready}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-completed", who: Who::Guest, path: "/o/{completed}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-not-collected", who: Who::Guest, path: "/o/{not_collected}", click: None, ready: "#stage", widths: PHONE },
    Page { name: "order-cancelled", who: Who::Guest, path: "/o/{cancelled}", click: None, ready: "#reason", widths: PHONE },
    Page { name: "order-pay-qr", who: Who::Guest, path: "/o/{pay_qr}", click: None, ready: ".card.pay", widths: PHONE },
    Page { name: "my-orders", who: Who::Guest, path: "/orders", click: None, ready: "ul.orders li", widths: PHONE },
    Page { name: "table-closed", who: Who::Guest, path: "/t/{closed_table}", click: None, ready: "#table-state", widths: PHONE },
    Page { name: "table", who: Who::Guest, path: "/t/{table}", click: None, ready: "#table-state", widths: PHONE },
    Page { name: "cart-refused", who: Who::Guest, path: "/cart", click: Some("#checkout button"), ready: ".notice.error[role=alert]", widths: PHONE },
    Page { name: "cart-at-table", who: Who::Guest, path: "/cart", click: None, ready: "form[action=\"/table/leave\"]", widths: PHONE },
    Page { name: "board-phone", who: Who::Guest, path: "/board", click: None, ready: "#ready li", widths: PHONE },
    Page { name: "not-found", who: Who::Guest, path: "/no-such-page", click: None, ready: "main h1", widths: PHONE },
    // The same phone switched to German at the foot of the menu: longer
    // words, the same rules (and `lang` says which language is read).
    Page { name: "menu-de", who: Who::Guest, path: "/shops/1", click: Some("#lang-switch button[value=de]"), ready: "html[lang=de] ul.items", widths: PHONE },
    Page { name: "chooser-de", who: Who::Guest, path: "/shops/1/items/10", click: None, ready: "html[lang=de] #chooser", widths: PHONE },
    Page { name: "cart-de", who: Who::Guest, path: "/cart", click: None, ready: "html[lang=de] #checkout", widths: PHONE },
    Page { name: "order-ready-de", who: Who::Guest, path: "/o/{ready}", click: None, ready: "html[lang=de] #stage", widths: PHONE },
    Page { name: "my-orders-de", who: Who::Guest, path: "/orders", click: None, ready: "html[lang=de] ul.orders li", widths: PHONE },
    Page { name: "not-found-de", who: Who::Guest, path: "/no-such-page", click: None, ready: "html[lang=de] main h1", widths: PHONE },
    // Staff, before logging in.
    Page { name: "staff-login", who: Who::Visitor, path: "/staff/login", click: None, ready: "#login", widths: STAFF },
    Page { name: "staff-register", who: Who::Visitor, path: "/staff/register", click: None, ready: "#register", widths: STAFF },
    Page { name: "staff-registered", who: Who::Visitor, path: "/staff/register?registered=true", click: None, ready: "#registered", widths: STAFF },
    // The Bubble Lab shopkeeper.
    Page { name: "kitchen", who: Who::Shop, path: "/shop", click: None, ready: ".ticket[data-status=ready]", widths: STAFF },
    Page { name: "shop-menu", who: Who::Shop, path: "/shop/menu", click: None, ready: "#add-item", widths: STAFF },
    Page { name: "shop-item", who: Who::Shop, path: "/shop/menu/items/10", click: None, ready: "#edit-item", widths: STAFF },
    Page { name: "shop-options", who: Who::Shop, path: "/shop/menu/options", click: None, ready: "#add-group", widths: STAFF },
    Page { name: "shop-settings", who: Who::Shop, path: "/shop/settings", click: None, ready: "#pickup", widths: STAFF },
    Page { name: "shop-tables", who: Who::Shop, path: "/shop/tables", click: None, ready: "#open-table", widths: STAFF },
    Page { name: "shop-table-print", who: Who::Shop, path: "/shop/tables/{table_id}/print", click: None, ready: ".qr svg", widths: STAFF },
    Page { name: "shop-report", who: Who::Shop, path: "/shop/report", click: None, ready: "#payments", widths: STAFF },
    // The venue's operator, and the pickup board on its screen.
    Page { name: "admin", who: Who::Admin, path: "/admin", click: None, ready: "h2 + table", widths: STAFF },
    Page { name: "board", who: Who::Admin, path: "/board", click: None, ready: "#ready li", widths: TV },
    Page { name: "board-one-shop", who: Who::Admin, path: "/board?shop=1", click: None, ready: "#ready li", widths: TV },
];

async fn fill(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(text)
        .await
        .expect("typing");
}

async fn log_in(c: &Client, server: &Server, email: &str) {
    c.goto(&server.url("/staff/login")).await.expect("login");
    fill(c, "input[name=email]", email).await;
    fill(c, "input[name=password]", "queueless-demo").await;
    click(c, "#login button").await;
    wait_for(c, "header form[action=\"/staff/logout\"]").await;
}

/// The evening the pages show: a guest with orders in every stage (one at
/// a shop with a payment QR), a cart across shops with options, a table
/// (and a closed one), a sold-out line, a shop waiting for approval, a
/// paused shop. Returns the `{key}` values of [`PAGES`].
async fn set_up(server: &Server, guest: &Client) -> HashMap<&'static str, String> {
    let mut keys = HashMap::new();
    let mut tea = Api::new(server);
    tea.login("tea@demo.queueless").await;
    let mut dumplings = Api::new(server);
    dumplings.login("dumplings@demo.queueless").await;
    let mut juice = Api::new(server);
    juice.login("juice@demo.queueless").await;

    // The guest's orders, placed with the phone's own cookies.
    guest.goto(&server.url("/")).await.expect("landing");
    wait_for(guest, "ul.shops").await;
    let mut phone = Api::new(server);
    for cookie in guest.get_all_cookies().await.expect("cookies") {
        phone.plant_cookie(cookie.name(), cookie.value());
    }
    let stages: [(&str, &[&str]); 7] = [
        ("placed", &[]),
        ("accepted", &["accepted"]),
        ("preparing", &["accepted", "preparing"]),
        ("ready", &["accepted", "preparing", "ready"]),
        (
            "completed",
            &["accepted", "preparing", "ready", "completed"],
        ),
        (
            "not_collected",
            &["accepted", "preparing", "ready", "not_collected"],
        ),
        ("cancelled", &["cancelled"]),
    ];
    for (key, steps) in stages {
        let (id, token) = place(&mut phone, 1, key).await;
        for step in steps {
            advance(&mut tea, id, step).await;
        }
        keys.insert(key, token);
    }
    let pix = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
    let (status, body) = dumplings
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"payment_qr": {"format": "emvco", "payload": pix}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, token) = place(&mut phone, 5, "pay-qr").await;
    keys.insert("pay_qr", token);

    // Tables at Bubble Lab: one open, one closed.
    for (label, key) in [("Table 9", "closed_table"), ("Table 4", "table")] {
        let (status, t) = tea
            .send("POST", "/api/shop/tables", Some(json!({"label": label})))
            .await;
        assert_eq!(status, 201, "{t}");
        keys.insert(key, t["code"].as_str().expect("code").to_owned());
        if key == "closed_table" {
            let id = t["id"].as_u64().expect("id");
            let (status, _) = tea
                .send("POST", &format!("/api/shop/tables/{id}/close"), None)
                .await;
            assert_eq!(status, 200);
        } else {
            keys.insert("table_id", t["id"].to_string());
        }
    }

    // A cart across three shops, one line with options.
    for (shop, item) in [(1, 1), (2, 5)] {
        guest
            .goto(&server.url(&format!("/shops/{shop}")))
            .await
            .expect("menu");
        click(guest, &format!("li[data-item=\"{item}\"] button.add")).await;
        wait_for(guest, "#cart-count").await;
    }
    let (_, menu) = juice.send("GET", "/api/shops/3/menu", None).await;
    let pressed = menu["items"][0]["id"].as_u64().expect("a juice");
    guest.goto(&server.url("/shops/3")).await.expect("menu");
    click(guest, &format!("li[data-item=\"{pressed}\"] button.add")).await;
    guest
        .goto(&server.url("/shops/1/items/10"))
        .await
        .expect("chooser");
    click(guest, "#chooser button.primary").await;
    wait_for(guest, "li.item .incart").await;

    // The dumplings in the cart sell out.
    let (status, body) = dumplings
        .send("POST", "/api/shop/items/5/stock", Some(json!({"set": 0})))
        .await;
    assert_eq!(status, 200, "{body}");

    // A shop waiting for the venue's approval; Fresh Press pauses.
    let mut newcomer = Api::new(server);
    let (status, body) = newcomer
        .send(
            "POST",
            "/api/shops/register",
            Some(json!({"shop_name": "Crêpe Corner", "location": "By the door", "contact": "", "name": "Camille", "email": "crepes@example.org", "password": "crepes-crepes"})),
        )
        .await;
    assert!(status == 201 || status == 200, "{status}: {body}");
    let (status, body) = juice
        .send("PATCH", "/api/shop", Some(json!({"paused": true})))
        .await;
    assert_eq!(status, 200, "{body}");
    keys
}

fn fill_in(path: &str, keys: &HashMap<&str, String>) -> String {
    let mut out = path.to_owned();
    for (k, v) in keys {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    assert!(!out.contains('{'), "no value for a key in {path}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_its_widths() {
    if !browser_available() {
        return;
    }
    let Some(axe) = axe_source() else { return };
    let started = Instant::now();
    // Behind the captive gateway (a fake one): the landing page offers to
    // join, the admin page lists Wi-Fi clients. Loopback is the guest
    // network only while the guest looks (staff are refused from it).
    let gateway = Fake::new();
    gateway.guest.store(false, Ordering::SeqCst);
    let server = Server::start_with_guests(gateway.clone()).await;
    let driver = Driver::start().await;
    let guest = driver.phone("a11y-guest", &[]).await;
    let staff = driver.browser("a11y-staff").await;
    let keys = set_up(&server, &guest).await;
    eprintln!("axe: set up in {:.1} s", started.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut lesser = 0;
    for who in [Who::Guest, Who::Visitor, Who::Shop, Who::Admin] {
        let c = if who == Who::Guest { &guest } else { &staff };
        gateway.guest.store(who == Who::Guest, Ordering::SeqCst);
        match who {
            Who::Shop => log_in(c, &server, "tea@demo.queueless").await,
            Who::Admin => {
                click(c, "header form[action=\"/staff/logout\"] button").await;
                wait_for(c, "header a[href=\"/orders\"]").await;
                log_in(c, &server, "admin@demo.queueless").await;
            }
            _ => {}
        }
        for page in PAGES.iter().filter(|p| p.who == who) {
            let url = server.url(&fill_in(page.path, &keys));
            for &width in page.widths {
                if width > 0 {
                    c.set_window_size(width, if width > 1280 { 1080 } else { 1024 })
                        .await
                        .expect("window size");
                }
                let at = Instant::now();
                c.goto(&url).await.expect("page opens");
                if let Some(button) = page.click {
                    click(c, button).await;
                }
                let opened = at.elapsed().as_secs_f64();
                // A page left with its live stream open (kept in the
                // back-forward cache) holds one of the browser's six
                // connections to the server: after six, pages stall.
                assert!(opened < 10.0, "{} took {opened:.1} s to open", page.name);
                wait_for(c, page.ready).await;
                let label = if width > 0 {
                    format!("{}-{width}", page.name)
                } else {
                    format!("{}-390", page.name)
                };
                let drawn = at.elapsed().as_secs_f64();
                screenshot(c, &format!("a11y-{label}")).await;
                let (mut serious, minor) = audit(c, &axe).await;
                serious.extend(keyboard(c).await);
                eprintln!(
                    "axe: {label} ({}): {} serious or critical, opened {opened:.1} s, drawn {drawn:.1} s, checked {:.1} s",
                    page.path,
                    serious.len(),
                    at.elapsed().as_secs_f64()
                );
                checked += 1;
                lesser += minor;
                failures.extend(serious.into_iter().map(|v| format!("{label}: {v}")));
            }
        }
    }
    eprintln!(
        "axe: {checked} page views in {:.1} s, {} serious or critical, {lesser} moderate or minor",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "serious or critical accessibility violations:\n  {}",
        failures.join("\n  ")
    );
    guest.close().await.expect("close");
    staff.close().await.expect("close");
    server.stop().await;
}

/// Waits until the text of `css` (read from the DOM, as a screen reader
/// would, though it is drawn 1 px small) contains `text`.
async fn wait_spoken(c: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let said = c
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await
            .expect("script runs");
        if said.as_str().is_some_and(|s| s.contains(text)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never said {text:?} (it says {said})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_regions_announce_only_the_news() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let kitchen = driver.browser("live-kitchen").await;
    let board = driver.browser("live-board").await;
    log_in(&kitchen, &server, "tea@demo.queueless").await;
    kitchen.goto(&server.url("/shop")).await.expect("kitchen");
    wait_for(&kitchen, "#kds").await;
    board.goto(&server.url("/board")).await.expect("board");
    wait_for(&board, "#ready").await;
    // Both pages' streams are connected before anything happens.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for (c, css) in [(&kitchen, "#kds-news"), (&board, "#board-news")] {
        let role = c
            .find(Locator::Css(css))
            .await
            .expect("a live region")
            .attr("role")
            .await
            .expect("attr");
        assert_eq!(
            role.as_deref(),
            Some("status"),
            "{css} is a polite live region"
        );
        wait_spoken(c, css, "").await;
    }

    let mut guest = Api::new(&server);
    let (id, _) = place(&mut guest, 1, "live-news").await;
    wait_spoken(&kitchen, "#kds-news", "New order: B1").await;
    let mut tea = Api::new(&server);
    tea.login("tea@demo.queueless").await;
    for step in ["accepted", "preparing", "ready"] {
        advance(&mut tea, id, step).await;
    }
    wait_spoken(&board, "#board-news", "Ready: B1").await;
    // A second order is news; the first is not said again.
    let (_, _) = place(&mut guest, 1, "live-news-2").await;
    wait_spoken(&kitchen, "#kds-news", "New order: B2").await;
    let said = kitchen
        .execute(
            "return document.querySelector('#kds-news').textContent;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(said, json!("New order: B2"), "only the new one");
    kitchen.close().await.expect("close");
    board.close().await.expect("close");
    server.stop().await;
}
