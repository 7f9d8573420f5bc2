//! Staff pages over HTTP: login by form, CSRF on every form, shop and role
//! isolation, admin approval, price input, and hostile names escaped on
//! every page that shows them.

use serde_json::json;

use crate::support::{Api, Server};

async fn staff(server: &Server, email: &str) -> Api {
    let mut a = Api::new(server);
    let csrf = a.csrf().await;
    let (status, _, location) = a
        .form(
            "/staff/login",
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", "queueless-demo"),
                ("next", ""),
            ],
        )
        .await;
    assert_eq!(status, 303, "login of {email}");
    assert!(location == "/shop" || location == "/admin", "{location}");
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_form_and_wrong_password() {
    let server = Server::start().await;
    let mut a = Api::new(&server);
    let csrf = a.csrf().await;
    let (status, body, _) = a
        .form(
            "/staff/login",
            &[
                ("_csrf", &csrf),
                ("email", "tea@demo.queueless"),
                ("password", "nope-nope"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(body.contains("wrong email or password"));
    let (status, _, location) = a.page("/shop").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/staff/login?next=/shop")
    );
    let mut tea = staff(&server, "tea@demo.queueless").await;
    let (status, body, _) = tea.page("/shop").await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"queue\""));
    let (status, _, _) = tea.page("/admin").await;
    assert_eq!(status, 403, "a shopkeeper is not the operator");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_token_and_shops_stay_apart() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let (status, body) = guest
        .send(
            "POST",
            "/api/orders",
            Some(json!({"items": [{"item_id": 5, "quantity": 1}], "idempotency_key": "test-checkout-key"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let order = body["orders"][0]["id"].as_u64().expect("id");
    let mut dumplings = staff(&server, "dumplings@demo.queueless").await;
    let path = format!("/shop/orders/{order}/status");
    let (status, _, _) = dumplings.form(&path, &[("status", "accepted")]).await;
    assert_eq!(status, 403, "no token");
    let (status, _, _) = dumplings
        .form(&path, &[("_csrf", "0000"), ("status", "accepted")])
        .await;
    assert_eq!(status, 403, "wrong token");
    let (_, o) = guest
        .send(
            "GET",
            &format!(
                "/api/orders/{}",
                body["orders"][0]["token"].as_str().expect("t")
            ),
            None,
        )
        .await;
    assert_eq!(o["status"], "placed", "nothing changed");

    let mut tea = staff(&server, "tea@demo.queueless").await;
    let csrf = tea.csrf().await;
    let (status, _, _) = tea
        .form(&path, &[("_csrf", &csrf), ("status", "accepted")])
        .await;
    assert_eq!(
        status, 404,
        "another shop's order does not exist for this shop"
    );
    let (status, _, _) = tea
        .form(
            "/shop/menu/items/5/stock",
            &[("_csrf", &csrf), ("set", "0")],
        )
        .await;
    assert_eq!(status, 404, "nor its items");

    let csrf = dumplings.csrf().await;
    let (status, _, location) = dumplings
        .form(&path, &[("_csrf", &csrf), ("status", "accepted")])
        .await;
    assert_eq!((status, location.as_str()), (303, "/shop"));
    let (status, _, _) = dumplings
        .form(&path, &[("_csrf", &csrf), ("status", "completed")])
        .await;
    assert_eq!(status, 409, "accepted cannot jump to completed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_approves_a_registered_shop() {
    let server = Server::start().await;
    let mut newbie = Api::new(&server);
    let csrf = newbie.csrf().await;
    let (status, body, location) = newbie
        .form(
            "/staff/register",
            &[
                ("_csrf", &csrf),
                ("shop_name", "Taco Cart"),
                ("location", "Gate B"),
                ("contact", ""),
                ("name", "Rosa"),
                ("email", "rosa@example.org"),
                ("password", "correct horse"),
            ],
        )
        .await;
    // POST → 303 → GET, so a reload does not register twice.
    assert_eq!(status, 303, "{body}");
    assert_eq!(location, "/staff/register?registered=true");
    let (_, page, _) = newbie.page(&location).await;
    assert!(page.contains("awaits the venue's approval"), "{page}");
    let (_, shops) = newbie.send("GET", "/api/shops", None).await;
    assert!(
        !shops.to_string().contains("Taco Cart"),
        "pending shops are not listed"
    );
    let mut admin = staff(&server, "admin@demo.queueless").await;
    let (_, page, _) = admin.page("/admin").await;
    assert!(page.contains("Taco Cart") && page.contains("pending"));
    let csrf = admin.csrf().await;
    let (status, _, _) = admin
        .form("/admin/shops/4/approve", &[("_csrf", &csrf)])
        .await;
    assert_eq!(status, 303);
    let (_, shops) = newbie.send("GET", "/api/shops", None).await;
    assert!(shops.to_string().contains("Taco Cart"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_and_hostile_names_from_the_menu_form() {
    let server = Server::start().await;
    let mut juice = staff(&server, "juice@demo.queueless").await;
    let csrf = juice.csrf().await;
    for bad in ["4.555", "-1", "abc"] {
        let (status, body, _) = juice
            .form(
                "/shop/menu/items",
                &[("_csrf", &csrf), ("name", "Bad"), ("price", bad)],
            )
            .await;
        assert_eq!(status, 422, "{bad}");
        assert!(body.contains("is not a price"), "{body}");
    }
    let evil = "<script>alert(1)</script>";
    let (status, _, _) = juice
        .form(
            "/shop/menu/items",
            &[
                ("_csrf", &csrf),
                ("name", evil),
                ("price", "4.50"),
                ("stock", "3"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, menu) = juice.send("GET", "/api/shops/3/menu", None).await;
    let item = menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"] == evil)
        .expect("created");
    assert_eq!(item["price_cents"], 450);
    assert_eq!(item["stock_left"], 3);
    let id = item["id"].as_u64().expect("id");

    let mut guest = Api::new(&server);
    let gcsrf = guest.csrf().await;
    guest
        .form(
            "/cart/add",
            &[
                ("_csrf", &gcsrf),
                ("item_id", &id.to_string()),
                ("back", "/cart"),
            ],
        )
        .await;
    let (_, cart, _) = guest.page("/cart").await;
    let key = cart
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("key")
        .to_owned();
    let (status, _, _) = guest
        .form(
            "/checkout",
            &[
                ("_csrf", &gcsrf),
                ("idempotency_key", &key),
                ("pickup_name", evil),
                ("note", evil),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, dash, _) = juice.page("/shop").await;
    let (_, shop_menu, _) = juice.page("/shop/menu").await;
    let (_, guest_menu, _) = guest.page("/shops/3").await;
    let (_, mine, _) = guest.page("/orders").await;
    for (name, html) in [
        ("dashboard", dash),
        ("shop menu", shop_menu),
        ("guest menu", guest_menu),
        ("my orders", cart),
        ("orders", mine),
    ] {
        assert!(
            !html.contains("<script>alert(1)"),
            "{name} shows the raw tag"
        );
    }
    let (_, dash, _) = juice.page("/shop").await;
    assert!(
        dash.contains("&#60;script&#62;alert(1)"),
        "escaped on the dashboard: {dash}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_is_edited_on_the_item_page() {
    let server = Server::start().await;
    let mut tea = staff(&server, "tea@demo.queueless").await;
    let (_, menu, _) = tea.page("/shop/menu").await;
    let at = menu.find("/shop/menu/items/").expect("an item link");
    let id: String = menu[at + "/shop/menu/items/".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let path = format!("/shop/menu/items/{id}");
    let (status, before, _) = tea.page(&path).await;
    assert_eq!(status, 200);
    assert!(before.contains("cup x 1"), "{before}");

    let csrf = tea.csrf().await;
    let policy = format!("{path}/policy");
    let (status, body, _) = tea
        .form(
            &policy,
            &[("_csrf", &csrf), ("stock", ""), ("recipe", "sugar x 3")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("there is no ingredient"), "{body}");
    let (_, unchanged, _) = tea.page(&path).await;
    assert!(
        unchanged.contains("cup x 1"),
        "a refused recipe changes nothing"
    );

    let (status, _, _) = tea
        .form(
            &policy,
            &[
                ("_csrf", &csrf),
                ("stock", ""),
                ("recipe", "cup x 1\nMilk x 250\n"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, after, _) = tea.page(&path).await;
    assert!(after.contains("milk x 250"), "{after}");

    // Another shop's item is not there for this shopkeeper.
    let mut juice = staff(&server, "juice@demo.queueless").await;
    let (status, _, _) = juice.page(&path).await;
    assert_eq!(status, 404);
    let csrf = juice.csrf().await;
    let (status, _, _) = juice
        .form(&policy, &[("_csrf", &csrf), ("stock", "5"), ("recipe", "")])
        .await;
    assert_eq!(status, 404);
    let (_, still, _) = tea.page(&path).await;
    assert!(still.contains("milk x 250"));
    server.stop().await;
}

#[tokio::test]
async fn allergens_and_tags_are_set_on_the_item_page() {
    let server = Server::start().await;
    let mut tea = staff(&server, "tea@demo.queueless").await;
    let path = "/shop/menu/items/3";
    let (status, before, _) = tea.page(path).await;
    assert_eq!(status, 200);
    assert!(before.contains("value=\"milk\">"), "{before}");
    let csrf = tea.csrf().await;
    let labels = format!("{path}/labels");
    let (status, body, _) = tea
        .form(
            &labels,
            &[("_csrf", &csrf), ("allergen", "vegan"), ("tags", "")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("not one of the 14 allergens"), "{body}");
    let (status, _, _) = tea
        .form(
            &labels,
            &[
                ("_csrf", &csrf),
                ("allergen", "sesame"),
                ("allergen", "milk"),
                ("tags", "vegan, cold"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let menu: serde_json::Value = reqwest::get(server.url("/api/shops/1/menu"))
        .await
        .expect("menu")
        .json()
        .await
        .expect("json");
    let item = menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == 3)
        .expect("item 3")
        .clone();
    assert_eq!(item["allergens"], serde_json::json!(["milk", "sesame"]));
    assert_eq!(item["tags"], serde_json::json!(["vegan", "cold"]));
}
