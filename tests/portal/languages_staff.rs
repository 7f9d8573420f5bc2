//! The shopkeeper's kitchen display and the pickup board in German, in
//! real headless Chromium whose browser asks for German (`--lang=de`,
//! `--accept-lang=de-DE,de`): the login page, the display's columns and
//! buttons (also the label the script writes when a ticket moves on, and its
//! sound button), the board's headings and what it tells screen readers.
//! Screenshots: the display 768 px wide (a tablet), the board at 1920×1080.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::support::{Api, Driver, Server, advance, browser_available, click, place, screenshot};
use crate::support::{wait_for, wait_text};

/// Dumpling House's first item (the demo's shop "D").
const DUMPLINGS: u64 = 5;
const GERMAN: [&str; 2] = ["--lang=de", "--accept-lang=de-DE,de"];

/// Waits until `css` shows `text`, in whatever case the stylesheet sets.
async fn wait_words(c: &Client, css: &str, text: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen.to_lowercase().contains(&text.to_lowercase()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {css:?} with {text:?} within 10 s (it says {seen:?})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Makes the page (the window less the browser's frame) `w` × `h`.
async fn size_page(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.expect("size");
    let v: Value = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .expect("script");
    let (iw, ih) = (
        v[0].as_u64().expect("width") as u32,
        v[1].as_u64().expect("height") as u32,
    );
    c.set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
        .await
        .expect("size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_tablet_and_tv_read_the_display_and_the_board_in_german() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let (first, _) = place(&mut guest, DUMPLINGS, "german-kds-1").await;
    let (second, _) = place(&mut guest, DUMPLINGS, "german-kds-2").await;
    let (third, _) = place(&mut guest, DUMPLINGS, "german-kds-3").await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    advance(&mut keeper, second, "accepted").await;
    advance(&mut keeper, third, "accepted").await;
    advance(&mut keeper, third, "preparing").await;
    advance(&mut keeper, third, "ready").await;

    let driver = Driver::start().await;
    let mut args = vec!["--window-size=768,1024"];
    args.extend_from_slice(&GERMAN);
    let kds = driver.browser_with("kds-de", &args).await;

    // The login page.
    kds.goto(&server.url("/staff/login")).await.expect("login");
    wait_text(&kds, "h1", "Anmeldung für Standbetreiber").await;
    wait_text(&kds, "#login button", "Anmelden").await;
    for (field, value) in [
        ("email", "dumplings@demo.queueless"),
        ("password", "queueless-demo"),
    ] {
        kds.find(Locator::Css(&format!("input[name={field}]")))
            .await
            .expect("field")
            .send_keys(value)
            .await
            .expect("type");
    }
    click(&kds, "#login button").await;
    wait_for(&kds, "#kds").await;
    size_page(&kds, 768, 1024).await;

    // The display: German columns, buttons, navigation, the script's words.
    wait_for(&kds, "html[lang=\"de\"]").await;
    wait_words(&kds, ".col-new h2", "Neu").await;
    wait_words(&kds, ".col-cooking h2", "In Zubereitung").await;
    wait_words(&kds, ".col-ready h2", "Abholbereit").await;
    let new = format!(".ticket[data-order=\"{first}\"]");
    wait_text(&kds, &format!("{new} button.bump"), "Annehmen").await;
    wait_text(
        &kds,
        &format!(".ticket[data-order=\"{second}\"] button.bump"),
        "Starten",
    )
    .await;
    wait_text(
        &kds,
        &format!(".ticket[data-order=\"{third}\"] button.bump"),
        "Abgeholt",
    )
    .await;
    wait_text(&kds, "header nav", "Speisekarte").await;
    wait_text(&kds, "header nav", "abmelden").await;
    wait_text(&kds, "#sound", "Ton").await;
    let title = kds.title().await.expect("title");
    assert!(title.contains("Bestellungen · "), "{title}");
    screenshot(&kds, "kds-768x1024-de").await;

    // Accepted without a reload: the script labels the next step in German.
    click(&kds, &format!("{new} button.bump")).await;
    wait_text(
        &kds,
        &format!(".col-cooking .ticket[data-order=\"{first}\"] button.bump"),
        "Starten",
    )
    .await;

    // Every other shop page: a German heading, and no key left as it is.
    for (path, heading) in [
        ("/shop/menu", "Speisekarte und Lager"),
        ("/shop/menu/options", "Optionen und Extras"),
        (
            &format!("/shop/menu/items/{DUMPLINGS}"),
            "Vegetable dumplings",
        ),
        ("/shop/settings", "Einstellungen des Stands"),
        ("/shop/tables", "Tische"),
        ("/shop/report", "Bericht"),
    ] {
        kds.goto(&server.url(path)).await.expect("page");
        wait_text(&kds, "h1", heading).await;
        let text = kds
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .html(false)
            .await
            .expect("html");
        assert!(
            !text.contains("staff.") && !text.contains("common."),
            "{path} shows a key instead of words"
        );
    }
    wait_text(&kds, "#payments", "Zahlungsart").await;

    // The board on a German TV.
    let mut args = vec!["--window-size=1920,1080"];
    args.extend_from_slice(&GERMAN);
    let tv = driver.browser_with("tv-de", &args).await;
    size_page(&tv, 1920, 1080).await;
    tv.goto(&server.url("/board")).await.expect("board");
    wait_for(&tv, "html[lang=\"de\"]").await;
    wait_words(&tv, "#h-preparing", "In Zubereitung").await;
    wait_words(&tv, "#h-ready", "Abholbereit").await;
    wait_text(&tv, "#sound", "Ton einschalten").await;
    let title = tv.title().await.expect("title");
    assert!(title.starts_with("Abholung · "), "{title}");
    wait_text(&tv, "#ready", "D").await;
    screenshot(&tv, "board-1920x1080-de").await;

    // A number becomes ready: screen readers hear it in German.
    advance(&mut keeper, second, "preparing").await;
    advance(&mut keeper, second, "ready").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let news = tv
            .find(Locator::Css("#board-news"))
            .await
            .expect("news")
            .html(true)
            .await
            .expect("text");
        if news.starts_with("Abholbereit: D") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the board says what became ready, in German: {news:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
