//! Item options through the API: stock of options (counted and through
//! ingredients shared with the drink) under a rush of 200 guests, every
//! refusal of a choice writing nothing, totals with price changes, merging
//! of equal lines, and orders keeping options as they were when ordered.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::support::{Client, TEA, TEA_SHOP, TestServer};

/// A drink with Size (exactly one), Toppings (0–2) and an unattached group,
/// made by the tea shop's keeper through the staff API.
pub struct Drink {
    pub keeper: Client,
    pub item: u64,
    size: u64,
    toppings: u64,
    regular: u64,
    pub large: u64,
    pearls: u64,
    jelly: u64,
    pudding: u64,
    /// An option of a group the drink does not offer.
    stranger: u64,
    tapioca: u64,
}

/// Creates the drink; `drink_tapioca` grams of tapioca go into the drink
/// itself (0: the drink has no stock limit); pearls take 30 g.
pub async fn drink(server: &TestServer, drink_tapioca: u32) -> Drink {
    let mut keeper = server.login(TEA).await;
    let tapioca = keeper.ingredient("tapioca pearls").await["id"]
        .as_u64()
        .expect("id");
    let stock = if drink_tapioca == 0 {
        json!({"kind": "unlimited"})
    } else {
        json!({"kind": "recipe", "lines": [{"ingredient_id": tapioca, "quantity": drink_tapioca}]})
    };
    let item = keeper
        .post(
            "/api/shop/items",
            json!({"name": "Jasmine tea", "price_cents": 450, "stock": stock}),
        )
        .await
        .expect(201)["id"]
        .as_u64()
        .expect("id");
    let size = group(&mut keeper, "Size", 1, 1).await;
    let toppings = group(&mut keeper, "Toppings", 0, 2).await;
    let other = group(&mut keeper, "Cutlery", 0, 1).await;
    let mut option = async |group: u64, body: Value| {
        keeper
            .post(&format!("/api/shop/option-groups/{group}/options"), body)
            .await
            .expect(201)["id"]
            .as_u64()
            .expect("id")
    };
    let regular = option(size, json!({"name": "Regular", "default": true})).await;
    let large = option(size, json!({"name": "Large", "price_delta_cents": 80})).await;
    let pearls = option(
        toppings,
        json!({"name": "Tapioca pearls", "price_delta_cents": 60,
               "stock": {"kind": "recipe", "lines": [{"ingredient_id": tapioca, "quantity": 30}]}}),
    )
    .await;
    let jelly = option(
        toppings,
        json!({"name": "Grass jelly", "price_delta_cents": 50, "stock": {"kind": "counted", "left": 5}}),
    )
    .await;
    let pudding = option(
        toppings,
        json!({"name": "Pudding", "price_delta_cents": 70}),
    )
    .await;
    let stranger = option(other, json!({"name": "Chopsticks"})).await;
    for g in [size, toppings] {
        keeper
            .send(
                "PUT",
                &format!("/api/shop/items/{item}/option-groups/{g}"),
                None,
            )
            .await
            .expect(204);
    }
    Drink {
        keeper,
        item,
        size,
        toppings,
        regular,
        large,
        pearls,
        jelly,
        pudding,
        stranger,
        tapioca,
    }
}

async fn group(keeper: &mut Client, name: &str, min: u8, max: u8) -> u64 {
    keeper
        .post(
            "/api/shop/option-groups",
            json!({"name": name, "min": min, "max": max}),
        )
        .await
        .expect(201)["id"]
        .as_u64()
        .expect("id")
}

/// One checkout line with options.
pub fn line(item: u64, quantity: u32, options: &[u64]) -> Value {
    json!({"item_id": item, "quantity": quantity, "options": options})
}

/// Places `lines`; `key` is made unique and long enough for any key rule.
async fn checkout(guest: &mut Client, lines: Vec<Value>, key: &str) -> crate::client::Reply {
    guest
        .post(
            "/api/orders",
            json!({"items": lines, "idempotency_key": format!("options-test-key-{key}")}),
        )
        .await
}

async fn set_tapioca(d: &mut Drink, grams: u64) {
    d.keeper
        .post(
            &format!("/api/shop/ingredients/{}/stock", d.tapioca),
            json!({"set": grams}),
        )
        .await
        .expect(200);
}

/// 200 guests order the drink with pearls at once while tapioca allows
/// exactly 37 portions.
async fn pearls_rush(drink_tapioca: u32) {
    let server = TestServer::start().await;
    let mut d = drink(&server, drink_tapioca).await;
    set_tapioca(&mut d, 37 * (30 + u64::from(drink_tapioca))).await;
    let start = Arc::new(Barrier::new(200));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut guest = server.guest();
        let start = Arc::clone(&start);
        let l = line(d.item, 1, &[d.regular, d.pearls]);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let r = checkout(&mut guest, vec![l], &format!("pearls-{i}")).await;
            (r.status, r.body)
        }));
    }
    let mut won = 0;
    for t in tasks {
        let (status, body) = t.await.expect("guest task");
        match status {
            201 => won += 1,
            409 => {
                assert_eq!(body["error"], "out_of_stock", "{body}");
                assert_eq!(body["option_id"], d.pearls, "names the option: {body}");
                assert!(
                    body["message"]
                        .as_str()
                        .expect("message")
                        .contains("Tapioca pearls")
                );
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won, 37, "exactly the tapioca's portions are sold");
    assert_eq!(d.keeper.ingredient("tapioca pearls").await["stock"], 0);
    let orders = d.keeper.shop_orders().await;
    assert_eq!(orders.len(), 37, "one order per success");
    let menu = server.menu(server.shop_id(TEA_SHOP)).await;
    let item = crate::support::find(&menu["items"], d.item);
    let pearls = item["option_groups"][1]["options"][0].clone();
    assert_eq!(pearls["id"], d.pearls);
    assert_eq!(pearls["stock_left"], 0);
    assert_eq!(pearls["available"], false);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_guests_race_for_thirty_seven_portions_of_pearls() {
    pearls_rush(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pearls_and_the_drink_share_tapioca_and_still_never_oversell() {
    pearls_rush(10).await;
}

/// A refused choice: what, options, quantity, status, code, the field
/// naming the culprit, and its id.
type Refusal = (
    &'static str,
    Vec<u64>,
    u32,
    u16,
    &'static str,
    &'static str,
    u64,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_choice_names_the_option_or_group_and_writes_nothing() {
    let server = TestServer::start().await;
    let mut d = drink(&server, 0).await;
    d.keeper
        .send(
            "PATCH",
            &format!("/api/shop/options/{}", d.pudding),
            Some(json!({"available": false})),
        )
        .await
        .expect(200);
    d.keeper
        .post(
            &format!("/api/shop/options/{}/stock", d.jelly),
            json!({"set": 1}),
        )
        .await
        .expect(200);
    let mut guest = server.guest();
    let cases: Vec<Refusal> = vec![
        (
            "below min",
            vec![d.pearls],
            1,
            422,
            "invalid_options",
            "group_id",
            d.size,
        ),
        (
            "above max",
            vec![d.regular, d.large],
            1,
            422,
            "invalid_options",
            "group_id",
            d.size,
        ),
        (
            "too many toppings",
            vec![d.regular, d.pearls, d.jelly, d.pudding],
            1,
            422,
            "invalid_options",
            "group_id",
            d.toppings,
        ),
        (
            "twice",
            vec![d.regular, d.pearls, d.pearls],
            1,
            422,
            "invalid_options",
            "option_id",
            d.pearls,
        ),
        (
            "foreign",
            vec![d.regular, d.stranger],
            1,
            422,
            "invalid_options",
            "option_id",
            d.stranger,
        ),
        (
            "switched off",
            vec![d.regular, d.pudding],
            1,
            409,
            "option_unavailable",
            "option_id",
            d.pudding,
        ),
        (
            "sold out",
            vec![d.regular, d.jelly],
            2,
            409,
            "out_of_stock",
            "option_id",
            d.jelly,
        ),
    ];
    for (what, options, quantity, status, code, field, id) in cases {
        let before = server.dump().await;
        let r = checkout(
            &mut guest,
            vec![line(d.item, quantity, &options)],
            &what.replace(' ', "-"),
        )
        .await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(r.body["error"], code, "{what}: {}", r.body);
        assert_eq!(r.body[field], id, "{what} names it: {}", r.body);
        server.dump().await.assert_same(&before, what);
    }
    // The same choices, fixed, go through.
    let r = checkout(
        &mut guest,
        vec![line(d.item, 1, &[d.regular, d.jelly])],
        "fine",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_merging_and_orders_keep_options_as_ordered() {
    let server = TestServer::start().await;
    let mut d = drink(&server, 0).await;
    let mut guest = server.guest();
    let body = checkout(
        &mut guest,
        vec![
            line(d.item, 2, &[d.large, d.pearls, d.jelly]),
            line(d.item, 1, &[d.regular]),
            // The same options in another order: merged with the first line.
            line(d.item, 1, &[d.jelly, d.large, d.pearls]),
        ],
        "totals",
    )
    .await
    .expect(201);
    let order = body["orders"][0].clone();
    // (450 + 80 + 60 + 50) × 3 + 450 × 1
    assert_eq!(order["total_cents"], 640 * 3 + 450);
    let view = guest.view(&order).await;
    let lines = view["lines"].as_array().expect("lines");
    assert_eq!(
        lines.len(),
        2,
        "equal lines merge, other options stay apart: {view}"
    );
    assert_eq!(lines[0]["quantity"], 3);
    assert_eq!(lines[0]["unit_price_cents"], 640);
    assert_eq!(lines[0]["line_total_cents"], 1920);
    let names: Vec<&str> = lines[0]["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Large", "Tapioca pearls", "Grass jelly"]);
    assert_eq!(lines[0]["options"][0]["group"], "Size");
    assert_eq!(lines[1]["quantity"], 1);
    assert_eq!(lines[1]["unit_price_cents"], 450);
    // Jelly was counted: 5 − 3.
    let menu = server.menu(server.shop_id(TEA_SHOP)).await;
    let item = crate::support::find(&menu["items"], d.item);
    assert_eq!(item["option_groups"][1]["options"][1]["stock_left"], 2);

    // Merged lines over 99 are a conflict (each line alone is valid).
    let r = checkout(
        &mut guest,
        vec![
            line(d.item, 60, &[d.regular]),
            line(d.item, 40, &[d.regular]),
        ],
        "too-many",
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Rename and reprice: the placed order keeps what was ordered.
    d.keeper
        .send(
            "PATCH",
            &format!("/api/shop/options/{}", d.large),
            Some(json!({"name": "Huge", "price_delta_cents": 300})),
        )
        .await
        .expect(200);
    let again = guest.view(&order).await;
    assert_eq!(again["lines"][0]["options"][0]["name"], "Large");
    assert_eq!(again["lines"][0]["options"][0]["price_delta_cents"], 80);
    assert_eq!(again["total_cents"], 640 * 3 + 450);
    let shop_view = d.keeper.shop_orders().await;
    assert_eq!(shop_view[0]["lines"][0]["options"][0]["name"], "Large");

    // A negative change never takes a unit price below 0.
    let own_cup = d
        .keeper
        .post(
            &format!("/api/shop/option-groups/{}/options", d.toppings),
            json!({"name": "Own cup discount", "price_delta_cents": -5000}),
        )
        .await
        .expect(201)["id"]
        .as_u64()
        .expect("id");
    let cheap = checkout(
        &mut guest,
        vec![line(d.item, 2, &[d.regular, own_cup])],
        "cheap",
    )
    .await
    .expect(201);
    assert_eq!(cheap["orders"][0]["total_cents"], 0);

    // Cancelling gives the jelly back.
    guest
        .post(
            &format!(
                "/api/orders/{}/cancel",
                order["token"].as_str().expect("token")
            ),
            json!({}),
        )
        .await
        .expect(200);
    let menu = server.menu(server.shop_id(TEA_SHOP)).await;
    let item = crate::support::find(&menu["items"], d.item);
    assert_eq!(item["option_groups"][1]["options"][1]["stock_left"], 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_venue_currency_is_on_shops_orders_and_pages() {
    let server = TestServer::start_with(|c| c.currency = "JPY".parse().expect("known")).await;
    let mut d = drink(&server, 0).await;
    let menu = server.menu(server.shop_id(TEA_SHOP)).await;
    assert_eq!(menu["shop"]["currency"], "JPY");
    let mut guest = server.guest();
    let body = checkout(&mut guest, vec![line(d.item, 1, &[d.large])], "yen")
        .await
        .expect(201);
    assert_eq!(body["orders"][0]["currency"], "JPY");
    let view = guest.view(&body["orders"][0]).await;
    assert_eq!(view["currency"], "JPY");
    // 450 + 80 minor units of a currency without decimals.
    let token = body["orders"][0]["token"].as_str().expect("token");
    let html = reqwest::get(format!("{}/o/{token}", server.base))
        .await
        .expect("the order page answers")
        .text()
        .await
        .expect("html");
    assert!(html.contains("¥530"), "the order page shows yen: {html}");
    assert!(
        html.contains("Large (+¥80)"),
        "with the option's change: {html}"
    );
    let orders = d.keeper.shop_orders().await;
    assert_eq!(orders[0]["currency"], "JPY");
    server.stop().await;
}
