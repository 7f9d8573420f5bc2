//! Languages in real headless Chromium: a phone whose browser asks for
//! German (`--lang=de`, `--accept-lang=de-DE,de`) gets the guest pages in
//! German, prices as `4,50 €` (also the chooser's live total, written by
//! the script), the script's live words in German; the "English ·
//! Deutsch" switch changes to English and the choice sticks across pages.
//! Screenshots at 390 px wide. Over plain HTTP: the switch is a form like
//! every other (its token, its `back` kept on this site).

use fantoccini::{Client, Locator};

use crate::support::{
    Api, Driver, Server, advance, browser_available, click, screenshot, wait_for, wait_text,
};

/// The `<html lang>` a page is drawn with.
fn lang_of(page: &str) -> &str {
    page.split("<html lang=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
}

/// Demo ids: Classic milk tea (€4.50) and Taro milk tea (€4.80, options).
const MILK_TEA: u64 = 1;
const TARO: u64 = 10;
/// Taro's "Large" size (+€0.80).
const LARGE: u64 = 2;

async fn html_lang(c: &Client) -> String {
    c.find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang attribute")
        .unwrap_or_default()
}

/// Waits until the page is in `lang` (a form's answer loads a new page).
async fn wait_lang(c: &Client, lang: &str) {
    wait_for(c, &format!("html[lang=\"{lang}\"]")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_phone_reads_german_and_the_switch_makes_it_english() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver
        .phone("german", &["--lang=de", "--accept-lang=de-DE,de"])
        .await;

    // The menu: German words, German prices, German allergen names.
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    wait_for(&guest, "ul.items").await;
    assert_eq!(
        html_lang(&guest).await,
        "de",
        "the browser asked for German"
    );
    let item = format!("li[data-item=\"{MILK_TEA}\"]");
    wait_text(&guest, &format!("{item} .price"), "4,50 €").await;
    wait_text(&guest, &format!("{item} button.add"), "Hinzufügen").await;
    wait_text(&guest, &format!("{item} .allergens"), "Enthält: Milch").await;
    wait_text(&guest, "header nav", "Warenkorb").await;
    wait_text(&guest, "#lang-switch", "English").await;
    screenshot(&guest, "guest-menu-de").await;

    // "Add" in the background: the script's count is German too.
    click(&guest, &format!("{item} button.add")).await;
    wait_text(&guest, &format!("{item} .incart"), "1 im Warenkorb").await;

    // The chooser's live total is written by the script the German way.
    guest
        .goto(&server.url(&format!("/shops/1/items/{TARO}")))
        .await
        .expect("chooser");
    wait_text(&guest, "#total", "4,80 €").await;
    click(&guest, &format!("label[data-option=\"{LARGE}\"] input")).await;
    wait_text(&guest, "#total", "5,60 €").await;
    wait_text(&guest, "#chooser button.primary", "In den Warenkorb").await;
    screenshot(&guest, "guest-chooser-de").await;

    // The cart and the order page.
    guest.goto(&server.url("/cart")).await.expect("cart");
    wait_text(&guest, "h1", "Ihr Warenkorb").await;
    wait_text(&guest, "p.total", "Summe 4,50 €").await;
    wait_text(&guest, "#checkout button", "Bestellung absenden").await;
    screenshot(&guest, "guest-cart-de").await;
    click(&guest, "#checkout button").await;
    wait_for(&guest, "#stage").await;
    wait_text(&guest, "#stage", "An den Stand geschickt").await;
    wait_text(&guest, ".pickup", "Abholcode").await;
    wait_text(&guest, "#paid", "Summe 4,50 €").await;
    let call = guest
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .attr("data-call")
        .await
        .expect("data-call")
        .unwrap_or_default();
    let token = guest
        .current_url()
        .await
        .expect("url")
        .path()
        .trim_start_matches("/o/")
        .to_owned();

    // The shop accepts: the script says so in German, live.
    let mut tea = Api::new(&server);
    tea.login("tea@demo.queueless").await;
    let (_, list) = tea.send("GET", "/api/shop/orders", None).await;
    let id = list[0]["id"].as_u64().expect("the order");
    advance(&mut tea, id, "accepted").await;
    wait_text(&guest, "#stage", "Angenommen").await;
    let title = guest.title().await.expect("title");
    assert!(
        title.starts_with(&format!("{call} · Angenommen")),
        "the title follows in German: {title}"
    );
    screenshot(&guest, "guest-order-de").await;

    // The switch: English, on this page and every page after it.
    click(&guest, "#lang-switch button[value=en]").await;
    wait_lang(&guest, "en").await;
    assert!(
        guest
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with(&token),
        "the switch comes back to the same page"
    );
    wait_text(&guest, "#stage", "Accepted").await;
    wait_text(&guest, "#paid", "Total €4.50").await;
    guest.goto(&server.url("/cart")).await.expect("cart");
    wait_text(&guest, "h1", "Your cart").await;
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    wait_text(&guest, &format!("{item} .price"), "€4.50").await;
    assert_eq!(html_lang(&guest).await, "en", "the choice sticks");
    screenshot(&guest, "guest-menu-switched-en").await;

    // And back to German with the same switch.
    click(&guest, "#lang-switch button[value=de]").await;
    wait_lang(&guest, "de").await;
    wait_text(&guest, &format!("{item} .price"), "4,50 €").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switch_works_without_javascript() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.phone_without_scripts("german-no-js").await;
    guest.goto(&server.url("/")).await.expect("landing");
    wait_for(&guest, "#lang-switch").await;
    click(&guest, "#lang-switch button[value=de]").await;
    wait_lang(&guest, "de").await;
    wait_text(&guest, "h1", "Bestellen Sie an jedem Stand").await;
    guest.goto(&server.url("/orders")).await.expect("my orders");
    wait_text(&guest, "h1", "Meine Bestellungen").await;
    screenshot(&guest, "guest-my-orders-de").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switch_is_a_form_like_every_other() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    // Without the device's form token: refused, nothing set.
    let (status, _, _) = guest.form("/lang", &[("lang", "de"), ("back", "/")]).await;
    assert_eq!(status, 403);
    assert_eq!(guest.cookie("ql_lang"), None);
    let csrf = guest.csrf().await;
    for (back, expected) in [
        ("/shops/1?hide=milk", "/shops/1?hide=milk"),
        ("", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let (status, page, location) = guest
            .form("/lang", &[("_csrf", &csrf), ("lang", "de"), ("back", back)])
            .await;
        assert_eq!(status, 303, "{back:?}: {page}");
        assert_eq!(location, expected, "{back:?}");
    }
    assert_eq!(guest.cookie("ql_lang").as_deref(), Some("de"));
    let (_, page, _) = guest.page("/").await;
    assert_eq!(lang_of(&page), "de", "the cookie speaks");
    assert!(page.contains("Bestellen Sie an jedem Stand"), "{page}");

    // A language the portal does not speak: refused in the reader's own.
    let (status, page, _) = guest
        .form("/lang", &[("_csrf", &csrf), ("lang", "fr"), ("back", "/")])
        .await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(lang_of(&page), "de");
    assert!(page.contains("Die Seite gibt es nicht auf fr"), "{page}");
    assert_eq!(guest.cookie("ql_lang").as_deref(), Some("de"), "kept");
    // A field no switch has: refused, as on every form.
    let (status, _, _) = guest
        .form("/lang", &[("_csrf", &csrf), ("lang", "en"), ("evil", "1")])
        .await;
    assert_eq!(status, 422);
    assert_eq!(guest.cookie("ql_lang").as_deref(), Some("de"));

    // Error pages speak the language too; a fresh client without a
    // cookie gets the venue's default (English).
    let (status, page, _) = guest.page("/o/not-a-token").await;
    assert_eq!(status, 404);
    assert!(
        page.contains("Unter diesem Link gibt es keine Bestellung."),
        "{page}"
    );
    let mut stranger = Api::new(&server);
    let (_, page, _) = stranger.page("/").await;
    assert_eq!(lang_of(&page), "en");
    server.stop().await;
}
