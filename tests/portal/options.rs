//! Item options in real headless Chromium: the chooser (radio buttons and
//! checkboxes, defaults preselected, the live total), adding that returns
//! to the item with its in-cart count, − / + in the cart, an option that
//! runs out greying on an open chooser, options switched off or run out
//! (count or ingredient) greying on open menus and choosers without a
//! reload, and the same order placed with
//! JavaScript switched off. Screenshots at 390 px wide.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::support::{
    Api, Driver, Server, browser_available, click, screenshot, wait_for, wait_text,
};

/// Demo ids (seeded in this order): Taro milk tea, its options.
const TARO: u64 = 10;
const LARGE: u64 = 2;
const PEARLS: u64 = 11;
const JELLY: u64 = 12;

async fn checked(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .prop("checked")
        .await
        .expect("checked")
        .as_deref()
        == Some("true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_chooses_options_with_a_live_total_and_changes_the_cart() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.phone("chooser", &[]).await;
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    click(&guest, &format!("li[data-item=\"{TARO}\"] a.choose")).await;
    wait_for(&guest, "#chooser").await;
    // Defaults are preselected: Regular, 50 %, normal ice.
    assert!(checked(&guest, "label[data-option=\"1\"] input").await);
    assert!(checked(&guest, "label[data-option=\"5\"] input").await);
    assert!(checked(&guest, "label[data-option=\"10\"] input").await);
    wait_text(&guest, "#total", "€4.80").await;
    click(&guest, &format!("label[data-option=\"{LARGE}\"] input")).await;
    wait_text(&guest, "#total", "€5.60").await;
    click(&guest, &format!("label[data-option=\"{PEARLS}\"] input")).await;
    click(&guest, &format!("label[data-option=\"{JELLY}\"] input")).await;
    wait_text(&guest, "#total", "€6.70").await;
    screenshot(&guest, "guest-chooser").await;

    // Grass jelly runs out while the guest looks: it greys out and unticks.
    let mut keeper = Api::new(&server);
    keeper.login("tea@demo.queueless").await;
    let (status, body) = keeper
        .send(
            "POST",
            &format!("/api/shop/options/{JELLY}/stock"),
            Some(json!({"set": 0})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for(&guest, &format!("label[data-option=\"{JELLY}\"].soldout")).await;
    wait_text(
        &guest,
        &format!("label[data-option=\"{JELLY}\"] .left"),
        "Sold out",
    )
    .await;
    wait_text(&guest, "#total", "€6.20").await;
    assert!(!checked(&guest, &format!("label[data-option=\"{JELLY}\"] input")).await);

    click(&guest, "#chooser button.primary").await;
    // Back on the menu at the item, which shows how many are in the cart.
    wait_text(
        &guest,
        &format!("li[data-item=\"{TARO}\"] .incart"),
        "1 in cart",
    )
    .await;
    let url = guest.current_url().await.expect("url");
    assert_eq!(url.fragment(), Some(&*format!("item-{TARO}")), "{url}");

    guest.goto(&server.url("/cart")).await.expect("cart");
    wait_text(
        &guest,
        "ul.lines .opts",
        "Large (+€0.80), 50 % sugar, Normal ice, Tapioca pearls (+€0.60)",
    )
    .await;
    click(&guest, "button.step[aria-label^=\"One more\"]").await;
    wait_text(&guest, "ul.lines .count", "2").await;
    wait_text(&guest, "p.total", "€12.40").await;
    screenshot(&guest, "guest-cart-options").await;
    click(&guest, "button.step[aria-label^=\"One fewer\"]").await;
    wait_text(&guest, "ul.lines .count", "1").await;
    click(&guest, "#checkout button").await;
    wait_text(
        &guest,
        "ul.lines .opts",
        "Large (+€0.80), 50 % sugar, Normal ice, Tapioca pearls (+€0.60)",
    )
    .await;
    screenshot(&guest, "guest-order-options").await;

    // "Add" on the menu (the defaults) stays on the page: no reload, no
    // jump, the item and the header count go up.
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    wait_for(&guest, "li[data-item=\"1\"] button.add").await;
    guest
        .execute(
            "window.scrollTo(0, document.body.scrollHeight); window.stayed = window.scrollY; return window.scrollY;",
            vec![],
        )
        .await
        .expect("mark the page");
    assert!(
        guest
            .execute("return window.scrollY", vec![])
            .await
            .expect("y")
            .as_f64()
            > Some(0.0)
    );
    // Clicked from the page itself, so the driver does not scroll first.
    guest
        .execute(
            "document.querySelector('li[data-item=\"1\"] button.add').click()",
            vec![],
        )
        .await
        .expect("click Add");
    wait_text(&guest, "li[data-item=\"1\"] .incart", "1 in cart").await;
    wait_text(&guest, "#cart-count", "1").await;
    let same = guest
        .execute("return [window.stayed, window.scrollY];", vec![])
        .await
        .expect("check the page");
    assert!(same[0].is_number(), "the menu was reloaded");
    assert_eq!(same[0], same[1], "the menu scrolled");
    screenshot(&guest, "guest-menu-options").await;
    guest.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chooser_works_without_javascript() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.phone_without_scripts("no-js").await;
    guest
        .goto(&server.url(&format!("/shops/1/items/{TARO}")))
        .await
        .expect("chooser");
    // The total is the server's: the price with the defaults.
    wait_text(&guest, "#total", "€4.80").await;
    click(&guest, &format!("label[data-option=\"{LARGE}\"] input")).await;
    click(&guest, &format!("label[data-option=\"{PEARLS}\"] input")).await;
    // Without scripts the total stays as rendered.
    wait_text(&guest, "#total", "€4.80").await;
    let ran = guest
        .find(Locator::Css("#chooser"))
        .await
        .expect("chooser")
        .attr("data-seen")
        .await
        .expect("attr");
    assert_eq!(ran, None, "guest.js ran");
    click(&guest, "#chooser button.primary").await;
    wait_text(
        &guest,
        &format!("li[data-item=\"{TARO}\"] .incart"),
        "1 in cart",
    )
    .await;
    guest.goto(&server.url("/cart")).await.expect("cart");
    wait_text(
        &guest,
        "ul.lines .opts",
        "Large (+€0.80), 50 % sugar, Normal ice, Tapioca pearls (+€0.60)",
    )
    .await;
    wait_text(&guest, "p.total", "€6.20").await;
    click(&guest, "#checkout button").await;
    // The order page (the cart has no pickup code).
    wait_for(&guest, ".order .code").await;
    wait_text(&guest, "p.total", "€6.20").await;
    wait_text(&guest, "ul.lines .opts", "Tapioca pearls").await;
    guest.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allergens_are_shown_and_items_with_one_can_be_hidden() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.phone("allergens", &[]).await;
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    wait_text(&guest, "li[data-item=\"1\"] .allergens", "Contains: Milk").await;
    guest
        .goto(&server.url(&format!("/shops/1/items/{TARO}")))
        .await
        .expect("chooser");
    wait_text(&guest, "p .allergens", "Contains: Milk").await;

    // Hide milk: the milk teas go, the mango tea (no allergens) stays.
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    click(&guest, "details.allergen-filter summary").await;
    click(&guest, "details.allergen-filter input[value=\"milk\"]").await;
    click(&guest, "details.allergen-filter button").await;
    wait_text(&guest, "details.allergen-filter summary", "hidden").await;
    let url = guest.current_url().await.expect("url");
    assert_eq!(url.query(), Some("hide=milk"), "{url}");
    assert!(
        guest
            .find(Locator::Css("li[data-item=\"1\"]"))
            .await
            .is_err(),
        "the classic milk tea is still listed"
    );
    wait_for(&guest, "li.item").await;
    screenshot(&guest, "guest-menu-allergens").await;
    guest.close().await.expect("close");
    server.stop().await;
}

/// Whether the page is the one `mark` was set on (no reload since).
async fn not_reloaded(c: &Client) -> bool {
    c.execute("return window.stayedPut === true;", vec![])
        .await
        .expect("check the page")
        == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_switched_off_or_run_out_grey_out_on_open_pages_without_a_reload() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let menu = driver.phone("live-menu", &[]).await;
    menu.goto(&server.url("/shops/1")).await.expect("menu");
    wait_for(
        &menu,
        &format!("li[data-item=\"{TARO}\"] button.add:enabled"),
    )
    .await;
    let chooser = driver.phone("live-chooser", &[]).await;
    chooser
        .goto(&server.url(&format!("/shops/1/items/{TARO}")))
        .await
        .expect("chooser");
    wait_for(
        &chooser,
        &format!("label[data-option=\"{PEARLS}\"]:not(.soldout)"),
    )
    .await;
    for c in [&menu, &chooser] {
        c.execute("window.stayedPut = true;", vec![])
            .await
            .expect("mark the page");
    }
    let mut keeper = Api::new(&server);
    keeper.login("tea@demo.queueless").await;

    // Regular size (preselected for every drink) is switched off: the menu's
    // quick "Add" (which would choose it) is disabled, the chooser greys it.
    let (status, body) = keeper
        .send(
            "PATCH",
            "/api/shop/options/1",
            Some(json!({"available": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for(
        &menu,
        &format!("li[data-item=\"{TARO}\"] button.add:disabled"),
    )
    .await;
    wait_for(&chooser, "label[data-option=\"1\"].soldout input:disabled").await;
    screenshot(&menu, "guest-menu-option-off").await;
    let (status, body) = keeper
        .send(
            "PATCH",
            "/api/shop/options/1",
            Some(json!({"available": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for(
        &menu,
        &format!("li[data-item=\"{TARO}\"] button.add:enabled"),
    )
    .await;
    wait_for(
        &chooser,
        "label[data-option=\"1\"]:not(.soldout) input:enabled",
    )
    .await;

    // The tapioca runs out (a stock-take of the ingredient): the pearls
    // topping, made from it, greys out on the open chooser.
    let (_, shop_menu) = keeper.send("GET", "/api/shop/menu", None).await;
    let tapioca = shop_menu["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|i| i["name"] == "tapioca pearls")
        .expect("tapioca")["id"]
        .clone();
    let (status, body) = keeper
        .send(
            "POST",
            &format!("/api/shop/ingredients/{tapioca}/stock"),
            Some(json!({"set": 0})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for(
        &chooser,
        &format!("label[data-option=\"{PEARLS}\"].soldout"),
    )
    .await;
    wait_text(
        &chooser,
        &format!("label[data-option=\"{PEARLS}\"] .left"),
        "Sold out",
    )
    .await;
    screenshot(&chooser, "guest-chooser-option-sold-out").await;
    for c in [&menu, &chooser] {
        assert!(not_reloaded(c).await, "the page was reloaded");
    }
    menu.close().await.expect("close");
    chooser.close().await.expect("close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_shows_the_demo_photos_and_weighs_little() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let driver = Driver::start().await;
    let guest = driver.phone("photos", &[]).await;
    guest.goto(&server.url("/shops/1")).await.expect("menu");
    wait_for(&guest, "li[data-item=\"1\"] img.photo").await;
    let loaded = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute(
                "const i = document.querySelector('li[data-item=\"1\"] img.photo');
                 return i.complete && i.naturalWidth === 96 && i.getBoundingClientRect().width === 64;",
                vec![],
            )
            .await
            .expect("check the photo")
                == json!(true)
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !loaded(&guest).await {
        assert!(
            std::time::Instant::now() < deadline,
            "the photo did not load"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    screenshot(&guest, "guest-menu-photos").await;
    // The page weight, as the browser transferred it (headers included),
    // with an empty cache.
    let weight = guest
        .execute(
            "const all = performance.getEntriesByType('navigation')
                 .concat(performance.getEntriesByType('resource'))
                 .filter(e => !e.name.includes('/events/'));
             return all.map(e => [e.name.replace(location.origin, ''), e.transferSize, e.encodedBodySize]);",
            vec![],
        )
        .await
        .expect("resource timing");
    let rows = weight.as_array().expect("entries");
    let total: u64 = rows.iter().map(|r| r[1].as_u64().unwrap_or(0)).sum();
    let photos: u64 = rows
        .iter()
        .filter(|r| r[0].as_str().is_some_and(|n| n.starts_with("/photos/")))
        .map(|r| r[1].as_u64().unwrap_or(0))
        .sum();
    eprintln!("menu page weight: {total} bytes transferred ({photos} of them photos): {weight}");
    assert!(photos > 0, "{weight}");
    assert!(total < 100_000, "{total}");
    guest.close().await.expect("close");
    server.stop().await;
}
