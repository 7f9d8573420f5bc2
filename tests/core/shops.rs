//! Shops joining the venue: registration makes a pending shop that takes no
//! orders until the operator approves it; rejection unlists it. Also the
//! OpenAPI document's public routes, and a database from a newer queueless
//! refused at start.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ADMIN, Client, DUMPLINGS, PATIENCE, TEA_SHOP, TestServer, cli, find};

async fn register(guest: &mut Client, shop: &str, email: &str) -> Value {
    let body = json!({"shop_name": shop, "location": "Stall 20", "contact": "+1 555 0120",
        "name": "Sam", "email": email, "password": "tacos al pastor"});
    guest.post("/api/shops/register", body).await.expect(201)
}

fn listed(shops: &Value, id: &Value) -> bool {
    shops
        .as_array()
        .expect("shops")
        .iter()
        .any(|s| s["id"] == *id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_shop_takes_orders_only_once_approved() {
    let server = TestServer::start().await;
    let mut newcomer = server.guest();
    let reg = register(&mut newcomer, "Taco Stand", "sam@tacos.example").await;
    assert_eq!(reg["approval"], "pending");
    let shop = reg["shop_id"].clone();

    // Refused: the same email however it is typed, a short password.
    let mut again = server.guest();
    let dup = json!({"shop_name": "Taco Stand 2", "name": "Sam", "email": " Sam@Tacos.Example",
        "password": "another long one"});
    assert_eq!(
        again.post("/api/shops/register", dup).await.error(409),
        "conflict"
    );
    let short =
        json!({"shop_name": "Tiny", "name": "T", "email": "t@tiny.example", "password": "short"});
    assert_eq!(
        again.post("/api/shops/register", short).await.error(422),
        "invalid_input"
    );

    // Pending: not listed, no menu, but the shopkeeper can set up.
    let mut guest = server.guest();
    assert!(!listed(&guest.get("/api/shops").await.expect(200), &shop));
    let r = guest.get(&format!("/api/shops/{shop}/menu")).await;
    assert_eq!(r.error(404), "not_found");
    let mut keeper = server.guest();
    keeper.login("sam@tacos.example", "tacos al pastor").await;
    let own = keeper.get("/api/shop").await.expect(200);
    assert_eq!(own["approval"], "pending");
    assert_eq!(own["accepting_orders"], false);
    let item = keeper
        .post(
            "/api/shop/items",
            json!({"name": "Taco", "price_cents": 300, "stock": {"kind": "counted", "left": 10}}),
        )
        .await
        .expect(201);
    let taco = item["id"].as_u64().expect("id");
    let dump = server.dump().await;
    // To guests a pending shop's item is as unknown as no item.
    let r = guest.order(&[(taco, 1)], "too-early").await;
    assert_eq!(r.error(404), "not_found");
    assert!(r.message().contains("menu may have changed"), "{}", r.body);
    dump.assert_same(&server.dump().await, "an order to a pending shop");
    let r = keeper
        .post(&format!("/api/admin/shops/{shop}/approve"), json!({}))
        .await;
    assert_eq!(r.error(403), "forbidden", "no shop approves itself");

    // The operator approves.
    let mut admin = server.login(ADMIN).await;
    let all = admin.get("/api/admin/shops").await.expect(200);
    let pending = all
        .as_array()
        .expect("shops")
        .iter()
        .find(|s| s["id"] == shop)
        .expect("the operator sees pending shops");
    assert_eq!(pending["approval"], "pending");
    assert_eq!(pending["owner_user_id"], reg["user_id"]);
    let approved = admin
        .send("POST", &format!("/api/admin/shops/{shop}/approve"), None)
        .await
        .expect(200);
    assert_eq!(approved["approval"], "approved");
    assert_eq!(approved["accepting_orders"], true);
    assert!(listed(&guest.get("/api/shops").await.expect(200), &shop));
    let order = guest.place(&[(taco, 2)], "now").await;
    assert_eq!(order["number"], 1);
    assert_eq!(menu_left(&mut guest, &shop, taco).await, 8);

    // Rejected: unlisted and refusing again; unknown shops are 404.
    admin
        .send("POST", &format!("/api/admin/shops/{shop}/reject"), None)
        .await
        .expect(200);
    assert!(!listed(&guest.get("/api/shops").await.expect(200), &shop));
    let r = guest.order(&[(taco, 1)], "after-reject").await;
    assert_eq!(r.error(404), "not_found");
    let r = admin
        .send("POST", "/api/admin/shops/999/approve", None)
        .await;
    assert_eq!(r.error(404), "not_found");
    server.stop().await;
}

async fn menu_left(guest: &mut Client, shop: &Value, item: u64) -> u64 {
    let menu = guest
        .get(&format!("/api/shops/{shop}/menu"))
        .await
        .expect(200);
    find(&menu["items"], item)["stock_left"]
        .as_u64()
        .expect("counted")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_approval_lists_a_new_shop_at_once() {
    let server = TestServer::start_with(|c| c.auto_approve_shops = true).await;
    let mut guest = server.guest();
    let reg = register(&mut guest, "Crepes", "crepes@example.org").await;
    assert_eq!(reg["approval"], "approved");
    assert!(listed(
        &guest.get("/api/shops").await.expect(200),
        &reg["shop_id"]
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_names_the_public_routes() {
    let server = TestServer::start().await;
    let doc = server.guest().get("/api/openapi.json").await.expect(200);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for (method, path) in [
        ("get", "/api/shops"),
        ("get", "/api/shops/{shop_id}/menu"),
        ("post", "/api/orders"),
        ("get", "/api/orders/{token}"),
        ("post", "/api/orders/{token}/cancel"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/logout"),
        ("post", "/api/shops/register"),
        ("post", "/api/admin/shops/{shop_id}/approve"),
        ("get", "/api/shop/orders"),
        ("post", "/api/shop/orders/{order_id}/status"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        assert!(op["responses"].is_object(), "{method} {path} has responses");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in ["PlaceOrderRequest", "OrderDto", "ErrorBody", "MenuDto"] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_queueless_is_refused_untouched() {
    use queueless::store::{SCHEMA_VERSION, tables::META};
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let file = data.join("queueless.redb");
    let newer = SCHEMA_VERSION + 1;
    {
        let db = redb::Database::create(&file).expect("db");
        let txn = db.begin_write().expect("write");
        txn.open_table(META)
            .expect("meta")
            .insert("schema_version", newer)
            .expect("insert");
        txn.commit().expect("commit");
    }
    let mut config = queueless::config::defaults();
    config.data_dir = data.clone();
    config.http = "127.0.0.1:0".parse().expect("address");
    config.demo = true;
    let err = queueless::app::start(config).await.expect_err("refused");
    let text = format!("{err:#}");
    assert!(
        text.contains(&file.display().to_string()),
        "names the file: {text}"
    );
    assert!(
        text.contains(&format!("schema version {newer}")) && text.contains("upgrade queueless"),
        "says what to do: {text}"
    );

    // The binary says the same and exits with failure (were it to serve
    // instead, the deadline ends the test, and Drop kills it).
    let log = dir.path().join("serve.log");
    let mut child = ChildGuard(
        cli(&data)
            .args(["serve", "--demo", "--http", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("runs"),
    );
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("child state") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not refuse the file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!status.success());
    let stderr = std::fs::read_to_string(&log).expect("log");
    assert!(stderr.contains("upgrade queueless"), "{stderr}");

    // The file is as it was: no demo seeded, the version kept.
    let db = redb::Database::create(&file).expect("reopens");
    let txn = redb::ReadableDatabase::begin_read(&db).expect("read");
    let meta = txn.open_table(META).expect("meta");
    let version = redb::ReadableTable::get(&meta, "schema_version")
        .expect("get")
        .expect("set")
        .value();
    assert_eq!(version, newer);
    let shops = txn.open_table(queueless::store::tables::ID_TO_SHOP);
    assert!(shops.is_err(), "no tables were created");
}

/// Kills (SIGKILL) and reaps our child if a test ends while it runs.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_shop_can_take_another_shops_name() {
    let server = TestServer::start().await;
    let tea = server.shop_id(TEA_SHOP);
    let dump = server.dump().await;

    // Registration: the same name however it is typed is taken.
    let mut newcomer = server.guest();
    for name in [
        "Bubble Lab",
        "bubble  LAB",
        "\u{ff22}\u{ff55}\u{ff42}\u{ff42}\u{ff4c}\u{ff45} Lab",
    ] {
        let body = json!({"shop_name": name, "location": "Stall 30", "contact": "",
            "name": "Mallory", "email": "mallory@tea.example", "password": "a long password"});
        let r = newcomer.post("/api/shops/register", body).await;
        assert_eq!(r.error(409), "conflict", "{name:?}");
        assert!(r.message().contains("Bubble Lab"), "{}", r.body);
    }
    dump.assert_same(&server.dump().await, "refused registrations");

    // An approved shop cannot rename itself to another's name, nor to any
    // other name (the operator approved it under its own): only case and
    // spacing may change.
    let mut keeper = server.login(DUMPLINGS).await;
    let dump = server.dump().await;
    for name in ["Bubble Lab", "Dumpling Palace"] {
        let r = keeper
            .send("PATCH", "/api/shop", Some(json!({"name": name})))
            .await;
        assert_eq!(r.error(409), "conflict", "{name:?}");
    }
    dump.assert_same(&server.dump().await, "refused renames");
    let own = keeper
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"name": "DUMPLING house"})),
        )
        .await
        .expect(200);
    assert_eq!(own["name"], "DUMPLING house");

    // The operator renames, and the name must be free there too.
    let mut admin = server.login(ADMIN).await;
    let r = admin
        .send(
            "PATCH",
            &format!("/api/admin/shops/{tea}"),
            Some(json!({"name": "dumpling HOUSE"})),
        )
        .await;
    assert_eq!(r.error(409), "conflict");
    let renamed = admin
        .send(
            "PATCH",
            &format!("/api/admin/shops/{tea}"),
            Some(json!({"name": "Bubble Lab Express"})),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Bubble Lab Express");
    let r = keeper
        .send(
            "PATCH",
            &format!("/api/admin/shops/{tea}"),
            Some(json!({"name": "Mine now"})),
        )
        .await;
    assert_eq!(
        r.error(403),
        "forbidden",
        "shopkeepers cannot use the operator's rename"
    );

    // A pending shop may still fix its name, but not to a taken one.
    let reg = register(&mut newcomer, "Taco Stand", "sam@tacos.example").await;
    assert_eq!(reg["approval"], "pending");
    let mut sam = server.guest();
    sam.login("sam@tacos.example", "tacos al pastor").await;
    let r = sam
        .send("PATCH", "/api/shop", Some(json!({"name": "Fresh press"})))
        .await;
    assert_eq!(r.error(409), "conflict");
    let fixed = sam
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"name": "Taco Stand of Sam"})),
        )
        .await
        .expect(200);
    assert_eq!(fixed["name"], "Taco Stand of Sam");
    server.stop().await;
}
