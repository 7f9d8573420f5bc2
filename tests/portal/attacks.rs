//! Attacks from the outside, each refused: planted or made-up device
//! cookies, forms replayed across logins, lenient parsing, open redirects,
//! cookies on static files.

use serde_json::json;

use crate::support::{Api, Server, encode};

fn device_of(api: &Api) -> String {
    api.cookie("ql_device").expect("a device cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_or_made_up_device_cookie_is_not_a_device() {
    let server = Server::start().await;
    let mut victim = Api::new(&server);
    let (status, body) = victim
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": 5, "quantity": 1}], "idempotency_key": "test-checkout-victim"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let issued = device_of(&victim);
    let (id, mac) = issued.split_once('.').expect("an id and its signature");
    assert_eq!((id.len(), mac.len()), (32, 32), "{issued}");

    // Any 32-hex value used to be a device. A made-up one, or the victim's
    // bare id without the signature, is a new device with no orders.
    for planted in [
        id.to_owned(),
        "0".repeat(32),
        format!("{id}.{}", "0".repeat(32)),
    ] {
        let mut attacker = Api::new(&server);
        attacker.plant_cookie("ql_device", &planted);
        let (status, mine) = attacker.send("GET", "/api/me/orders", None).await;
        assert_eq!(status, 200);
        assert_eq!(mine.as_array().map(Vec::len), Some(0), "{planted}: {mine}");
        assert_ne!(device_of(&attacker), planted, "a new id is issued");
    }
    // The victim still sees their own order.
    let (_, mine) = victim.send("GET", "/api/me/orders", None).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_form_token_is_bound_to_its_login() {
    let server = Server::start().await;
    // The attacker gets a device and its form token, then plants that
    // device on a shopkeeper's browser (or copies it): the shopkeeper's
    // forms carry their login, so the attacker's token does not pass.
    let mut attacker = Api::new(&server);
    let token = attacker.csrf().await;
    let device = device_of(&attacker);
    let mut keeper = Api::new(&server);
    keeper.plant_cookie("ql_device", &device);
    keeper.login("dumplings@demo.queueless").await;
    let (status, _, _) = keeper
        .form("/shop/pause", &[("_csrf", &token), ("paused", "true")])
        .await;
    assert_eq!(status, 403, "a token made without the login");
    let (_, shop) = keeper.send("GET", "/api/shop", None).await;
    assert_eq!(shop["paused"], false, "nothing changed");
    // The keeper's own page token works.
    let own = keeper.csrf().await;
    assert_ne!(own, token);
    let (status, _, _) = keeper
        .form("/shop/pause", &[("_csrf", &own), ("paused", "true")])
        .await;
    assert_eq!(status, 303);
    // And after logging out, that token is no longer good.
    let (status, _) = keeper.send("POST", "/api/auth/logout", None).await;
    assert_eq!(status, 204);
    let (status, _, _) = keeper
        .form(
            "/cart/set",
            &[("_csrf", &own), ("item_id", "5"), ("quantity", "1")],
        )
        .await;
    assert_eq!(status, 403, "a form rendered for the login, sent after it");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parsing_is_strict() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let csrf = guest.csrf().await;

    // Sec-Fetch-Site in any case.
    for site in ["cross-site", "Cross-Site", "CROSS-SITE"] {
        let r = reqwest::Client::new()
            .post(server.url("/api/orders"))
            .header("sec-fetch-site", site)
            .json(&json!({"items": [{"item_id": 5, "quantity": 1}], "idempotency_key": format!("test-checkout-{site}")}))
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status().as_u16(), 403, "{site}");
    }

    // Only the form content type itself.
    let body = encode(&[
        ("_csrf", &csrf),
        ("item_id", "5"),
        ("quantity", "1"),
        ("back", "/"),
    ]);
    for kind in [
        "application/x-www-form-urlencoded-evil",
        "application/x-www-form-urlencodedx",
        "application/x-www-form-urlencoded; charset=latin1",
        "text/plain",
    ] {
        let (status, _, _) = guest
            .post_raw("/cart/add", kind, body.clone().into_bytes())
            .await;
        assert_eq!(status, 415, "{kind}");
    }
    assert_eq!(guest.cookie("ql_cart"), None, "nothing added");

    // Invalid UTF-8 in a form is refused, not stored as U+FFFD.
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let token = keeper.csrf().await;
    let mut raw = format!("_csrf={token}&name=").into_bytes();
    raw.extend_from_slice(b"%FF%FEJuice&price=3.50");
    let (status, page, _) = keeper
        .post_raw("/shop/menu/items", "application/x-www-form-urlencoded", raw)
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("UTF-8"), "{page}");
    let (_, items) = keeper.send("GET", "/api/shop/items", None).await;
    assert!(
        !items.to_string().contains('\u{fffd}'),
        "no replacement character stored: {items}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_after_adding_to_the_cart_stays_on_this_site() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let csrf = guest.csrf().await;
    for (back, expected) in [
        ("/shops/1", "/shops/1"),
        ("/\t/evil.example", "/cart"),
        ("/\n/x", "/cart"),
        ("//evil.example", "/cart"),
        ("https://evil.example/", "/cart"),
        ("/\\evil.example", "/cart"),
    ] {
        let (status, page, location) = guest
            .form(
                "/cart/add",
                &[
                    ("_csrf", &csrf),
                    ("item_id", "5"),
                    ("quantity", "1"),
                    ("back", back),
                ],
            )
            .await;
        assert_eq!(status, 303, "{back:?}: {page}");
        assert_eq!(location, expected, "{back:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_set_no_cookie() {
    let server = Server::start().await;
    for path in [
        "/static/app.css",
        "/static/guest.js",
        "/static/shop.js",
        "/static/board.js",
    ] {
        let r = reqwest::get(server.url(path)).await.expect("sent");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(r.headers().get("set-cookie").is_none(), "{path}");
    }
    // Pages still give a device.
    let r = reqwest::get(server.url("/")).await.expect("sent");
    assert!(r.headers().get("set-cookie").is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_shop_looks_exactly_like_an_unknown_one() {
    let server = Server::start().await;
    let mut sam = Api::new(&server);
    let (status, reg) = sam
        .send(
            "POST",
            "/api/shops/register",
            Some(
                json!({"shop_name": "Secret Tacos", "location": "Stall 20", "contact": "",
                "name": "Sam", "email": "sam@tacos.example", "password": "tacos al pastor"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["approval"], "pending");
    let shop = reg["shop_id"].as_u64().expect("shop id");
    let (status, _) = sam
        .send(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "sam@tacos.example", "password": "tacos al pastor"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, item) = sam
        .send(
            "POST",
            "/api/shop/items",
            Some(
                json!({"name": "Secret taco", "price_cents": 300, "stock": {"kind": "unlimited"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    let item = item["id"].as_u64().expect("item id");
    let unknown_shop = 9_999u64;
    let unknown_item = 99_999u64;

    let mut guest = Api::new(&server);
    let csrf = guest.csrf().await;
    // Each way in answers for the pending shop as for a shop that never was.
    for (pending, unknown) in [
        (
            format!("/board?shop={shop}"),
            format!("/board?shop={unknown_shop}"),
        ),
        (format!("/shops/{shop}"), format!("/shops/{unknown_shop}")),
    ] {
        let (a, page, _) = guest.page(&pending).await;
        let (b, _, _) = guest.page(&unknown).await;
        assert_eq!((a, b), (404, 404), "{pending}");
        assert!(!page.contains("Secret Tacos"), "{pending}: the name leaked");
    }
    for (pending, unknown) in [
        (
            format!("/api/board?shop={shop}"),
            format!("/api/board?shop={unknown_shop}"),
        ),
        (
            format!("/api/shops/{shop}/menu"),
            format!("/api/shops/{unknown_shop}/menu"),
        ),
        (
            format!("/events/menu/{shop}"),
            format!("/events/menu/{unknown_shop}"),
        ),
        (
            format!("/events/board?shop={shop}"),
            format!("/events/board?shop={unknown_shop}"),
        ),
    ] {
        let (a, body_a) = guest.send("GET", &pending, None).await;
        let (b, body_b) = guest.send("GET", &unknown, None).await;
        assert_eq!((a, b), (404, 404), "{pending}: {body_a}");
        assert_eq!(body_a["error"], body_b["error"], "{pending}");
        assert!(
            !body_a.to_string().contains("Secret"),
            "{pending}: {body_a}"
        );
    }
    // Its item cannot go into the cart, nor be ordered: as an unknown item.
    for id in [item, unknown_item] {
        let (status, _, _) = guest
            .form(
                "/cart/add",
                &[
                    ("_csrf", &csrf),
                    ("item_id", &id.to_string()),
                    ("quantity", "1"),
                    ("back", "/"),
                ],
            )
            .await;
        assert_eq!(status, 404, "item {id}");
        let (status, body) = guest
            .send(
                "POST",
                "/api/orders",
                Some(json!({"items": [{"item_id": id, "quantity": 1}],
                    "idempotency_key": format!("test-checkout-pending-{id}")})),
            )
            .await;
        assert_eq!(status, 404, "item {id}: {body}");
        assert!(!body.to_string().contains("Secret"), "{body}");
    }
    // A cart cookie naming it (made by hand) shows nothing of it.
    guest.plant_cookie("ql_cart", &format!("{item}x1"));
    let (status, page, _) = guest.page("/cart").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("Secret"),
        "the cart shows a pending shop's item"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_come_from_the_portal_address_not_the_host_header() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let (_, token) = crate::support::place(&mut guest, 5, "host-header").await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let (status, table) = keeper
        .send(
            "POST",
            "/api/shop/tables",
            Some(json!({"label": "Table 7"})),
        )
        .await;
    assert_eq!(status, 201, "{table}");
    let http = reqwest::Client::new();
    for (path, cookies) in [
        (format!("/o/{token}"), guest.cookies()),
        (
            format!("/shop/tables/{}/print", table["id"]),
            keeper.cookies(),
        ),
    ] {
        let page = http
            .get(server.url(&path))
            .header("host", "evil.example")
            .header("cookie", cookies)
            .send()
            .await
            .expect("sent");
        assert_eq!(page.status().as_u16(), 200, "{path}");
        let body = page.text().await.expect("body");
        assert!(
            !body.contains("evil.example"),
            "{path}: a link from the Host header"
        );
        assert!(
            body.contains(&server.base),
            "{path}: a link from the portal address"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_link_from_anywhere_holds_no_guest_at_other_shops() {
    let server = Server::start().await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let (status, table) = keeper
        .send(
            "POST",
            "/api/shop/tables",
            Some(json!({"label": "Table 3"})),
        )
        .await;
    assert_eq!(status, 201, "{table}");
    let code = table["code"].as_str().expect("code").to_owned();

    // A link from another site puts the phone at the dumpling stall's table.
    let mut guest = Api::new(&server);
    let (status, _, _) = guest.page(&format!("/t/{code}")).await;
    assert_eq!(status, 200);
    assert_eq!(guest.cookie("ql_table").as_deref(), Some(code.as_str()));

    // Ordering a juice (another shop) still works: the table is only the
    // dumpling stall's, so the juice order is a plain order.
    let (status, body) = guest
        .send(
            "POST",
            "/api/orders",
            Some(
                json!({"items": [{"item_id": 9, "quantity": 1}], "session": code,
                "idempotency_key": "test-checkout-table-elsewhere"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, orders) = keeper
        .send(
            "GET",
            &format!("/api/shop/tables/{}/orders", table["id"]),
            None,
        )
        .await;
    assert_eq!(orders.as_array().map(Vec::len), Some(0), "{orders}");

    // And the guest can leave the table.
    let csrf = guest.csrf().await;
    let (_, cart, _) = guest.page("/cart").await;
    assert!(cart.contains("Leave the table"), "{cart}");
    let (status, _, location) = guest.form("/table/leave", &[("_csrf", &csrf)]).await;
    assert_eq!((status, location.as_str()), (303, "/cart"));
    assert_eq!(
        guest.cookie("ql_table").as_deref(),
        Some(""),
        "the table cookie is cleared"
    );
    let (_, cart, _) = guest.page("/cart").await;
    assert!(!cart.contains("Ordering to"), "{cart}");
    server.stop().await;
}
