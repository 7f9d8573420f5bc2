//! The shopkeeper's option pages in real headless Chromium: a shopkeeper
//! creates a group with two options (one with a price change and a count),
//! offers it with an item on the item's page, and a guest's menu offers
//! the choice; a shopkeeper uploads a photo on the item page (a file that
//! is not an image is refused with its reason) and the menu shows it.
//! Screenshots of the staff pages at 768 px.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::support::{Driver, Server, browser_available, click, screenshot, wait_for, wait_text};

/// The demo photos' drawing (build time), for a fresh PNG to upload.
#[expect(dead_code, reason = "the suite uses the drawing, not the demo table")]
#[path = "../../build/demo_art.rs"]
mod demo_art;

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// Sets the viewport (not the window) to `w` × `h`.
async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.expect("size");
    let inner = js(c, "return [window.innerWidth, window.innerHeight];").await;
    let (iw, ih) = (inner[0].as_u64().expect("w"), inner[1].as_u64().expect("h"));
    c.set_window_size(w + (w - iw as u32), h + (h - ih as u32))
        .await
        .expect("size");
}

/// Logs the Dumpling House shopkeeper in through the login page.
async fn login(c: &Client, server: &Server) {
    c.goto(&server.url("/staff/login"))
        .await
        .expect("login page");
    fill(c, "input[name=email]", "dumplings@demo.queueless").await;
    fill(c, "input[name=password]", "queueless-demo").await;
    click(c, "form button").await;
    wait_for(c, "#queue").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopkeeper_adds_a_group_with_options_and_guests_can_choose_it() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let keeper = driver
        .browser_with("options-keeper", &["--window-size=768,1024"])
        .await;
    viewport(&keeper, 768, 1024).await;
    login(&keeper, &server).await;
    keeper
        .goto(&server.url("/shop/menu"))
        .await
        .expect("menu page");
    click(&keeper, "a[href=\"/shop/menu/options\"]").await;

    fill(&keeper, "#add-group input[name=name]", "Dipping sauce").await;
    fill(&keeper, "#add-group input[name=min]", "0").await;
    fill(&keeper, "#add-group input[name=max]", "2").await;
    click(&keeper, "#add-group button").await;
    let group = js(
        &keeper,
        "const s = [...document.querySelectorAll('section[data-group]')]
           .find(s => s.querySelector('h2').textContent === 'Dipping sauce');
         return s ? Number(s.dataset.group) : null;",
    )
    .await
    .as_u64()
    .expect("the group's section");
    for (name, delta, stock, default) in [
        ("Black vinegar", "", "", true),
        ("Chili oil", "0.30", "5", false),
    ] {
        let form = format!("form[data-add-option=\"{group}\"]");
        click(
            &keeper,
            &format!("section[data-group=\"{group}\"] > details:first-of-type > summary"),
        )
        .await;
        fill(&keeper, &format!("{form} input[name=name]"), name).await;
        fill(&keeper, &format!("{form} input[name=price_delta]"), delta).await;
        fill(&keeper, &format!("{form} input[name=stock]"), stock).await;
        if default {
            click(&keeper, &format!("{form} input[name=default]")).await;
        }
        click(&keeper, &format!("{form} button")).await;
        wait_text(
            &keeper,
            &format!("section[data-group=\"{group}\"] ul"),
            name,
        )
        .await;
    }
    wait_text(
        &keeper,
        &format!("section[data-group=\"{group}\"] ul"),
        "Chili oil +€0.30 · 5 left",
    )
    .await;
    screenshot(&keeper, "shop-options-768").await;
    wait_text(
        &keeper,
        &format!("section[data-group=\"{group}\"] ul"),
        "Black vinegar · preselected · no limit",
    )
    .await;

    // Offer it with pork dumplings on the item's page.
    keeper
        .goto(&server.url("/shop/menu"))
        .await
        .expect("menu page");
    let pork = js(
        &keeper,
        "const r = [...document.querySelectorAll('tr[data-row]')]
           .find(r => r.textContent.includes('Pork dumplings'));
         return Number(r.dataset.row);",
    )
    .await
    .as_u64()
    .expect("pork's row");
    keeper
        .goto(&server.url(&format!("/shop/menu/items/{pork}")))
        .await
        .expect("item page");
    click(
        &keeper,
        &format!("#item-groups input[name=group][value=\"{group}\"]"),
    )
    .await;
    screenshot(&keeper, "shop-item-options-768").await;
    click(&keeper, "#item-groups button.primary").await;
    wait_for(
        &keeper,
        &format!("#item-groups input[name=group][value=\"{group}\"]:checked"),
    )
    .await;
    keeper
        .goto(&server.url("/shop/menu/options"))
        .await
        .expect("options page");
    wait_text(
        &keeper,
        &format!("section[data-group=\"{group}\"] p.fine"),
        "Offered with Pork dumplings (6).",
    )
    .await;

    // A guest's menu now offers the choice, the default preselected.
    let guest = driver.phone("options-guest", &[]).await;
    guest
        .goto(&server.url("/shops/2"))
        .await
        .expect("guest menu");
    click(&guest, &format!("li[data-item=\"{pork}\"] a.choose")).await;
    wait_for(&guest, "#chooser").await;
    wait_text(
        &guest,
        &format!("fieldset[data-group=\"{group}\"] legend"),
        "Dipping sauce",
    )
    .await;
    wait_text(
        &guest,
        &format!("fieldset[data-group=\"{group}\"]"),
        "Chili oil\n+€0.30\nOnly 5 left",
    )
    .await;
    let pre = js(
        &guest,
        &format!(
            "return [...document.querySelectorAll('fieldset[data-group=\"{group}\"] input:checked')]
               .map(i => i.closest('label').textContent.trim().split(/\\s+/).slice(0, 2).join(' '));"
        ),
    )
    .await;
    assert_eq!(pre, serde_json::json!(["Black vinegar"]), "{pre}");
    click(&guest, "fieldset input[type=checkbox]:not(:checked)").await;
    wait_text(&guest, "#total", "€6.80").await;
    screenshot(&guest, "guest-chooser-new-group").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopkeeper_uploads_a_photo_and_the_menu_shows_it() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let keeper = driver
        .browser_with("photo-keeper", &["--window-size=768,1024"])
        .await;
    viewport(&keeper, 768, 1024).await;
    login(&keeper, &server).await;
    let files = tempfile::tempdir().expect("temp dir");
    let good = files.path().join("pork.png");
    std::fs::write(
        &good,
        demo_art::draw([250, 240, 230], [190, 150, 90]).expect("PNG"),
    )
    .expect("write");
    let bad = files.path().join("not-a-photo.png");
    std::fs::write(&bad, b"GIF89a, whatever its name says").expect("write");
    // Pork dumplings is the fourth demo item.
    keeper
        .goto(&server.url("/shop/menu/items/4"))
        .await
        .expect("item page");
    wait_text(&keeper, "h1", "Pork dumplings").await;
    for (file, says) in [
        (&bad, "must be a JPEG, PNG or WebP image"),
        (&good, "Photo saved."),
    ] {
        keeper
            .find(Locator::Css("#item-photo input[type=file]"))
            .await
            .expect("file field")
            .send_keys(file.to_str().expect("path"))
            .await
            .expect("choose the file");
        click(&keeper, "#item-photo button").await;
        wait_text(&keeper, "#photo-state", says).await;
    }
    wait_for(&keeper, "#photo-now:not([hidden])").await;
    screenshot(&keeper, "shop-item-photo-768").await;

    let guest = driver.phone("photo-guest", &[]).await;
    guest
        .goto(&server.url("/shops/2"))
        .await
        .expect("guest menu");
    wait_for(&guest, "li[data-item=\"4\"] img.photo").await;
    let src = js(
        &guest,
        "return document.querySelector('li[data-item=\"4\"] img.photo').getAttribute('src');",
    )
    .await;
    assert!(
        src.as_str()
            .is_some_and(|s| s.starts_with("/photos/") && s.ends_with(".png")),
        "{src}"
    );
    server.stop().await;
}
