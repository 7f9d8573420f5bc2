//! Running it: the OpenAPI document, surviving a SIGKILL mid-load with
//! nothing lost, the CLI beside a running daemon (backup, shop list, admin
//! create), and login rate limiting.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_names_the_public_routes() {
    let server = Server::start().await;
    let mut a = Api::new(&server);
    let (status, doc) = a.send("GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/shops",
        "/api/shops/{shop_id}/menu",
        "/api/orders",
        "/api/orders/{token}",
        "/api/orders/{token}/cancel",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/shops/register",
        "/api/admin/shops/{shop_id}/approve",
        "/api/shop/orders",
        "/api/shop/orders/{order_id}/status",
        "/api/shop/items/{item_id}/stock",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["PlaceOrderRequest"].is_object());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_limited() {
    let server = Server::start().await;
    let mut a = Api::new(&server);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (s, _) = a
            .send(
                "POST",
                "/api/auth/login",
                Some(json!({"email": "tea@demo.queueless", "password": "wrong-guess"})),
            )
            .await;
        statuses.push(s);
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[11], 429, "{statuses:?}");
    server.stop().await;
}

struct Daemon {
    child: Child,
    base: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_queueless"))
}

async fn spawn(dir: &std::path::Path) -> Daemon {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("a")
        .port();
    let child = bin()
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--demo", "--http", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("daemon");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/api/shops"))
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "daemon did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Daemon { child, base }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_confirmed_is_lost_when_the_daemon_is_killed() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let d = spawn(&data).await;
    let client = reqwest::Client::new();
    let menu: Value = client
        .get(format!("{}/api/shops/2/menu", d.base))
        .send()
        .await
        .expect("m")
        .json()
        .await
        .expect("j");
    let item = menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| !i["stock_left"].is_null())
        .expect("counted")
        .clone();
    let id = item["id"].as_u64().expect("id");
    let initial = item["stock_left"].as_u64().expect("n");

    // Guests order in a loop; the daemon is killed while they do.
    let mut tasks = Vec::new();
    for g in 0..16 {
        let base = d.base.clone();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut confirmed = Vec::new();
            for i in 0..1000 {
                let r = client
                    .post(format!("{base}/api/orders"))
                    .json(&json!({"items": [{"item_id": id, "quantity": 1}], "idempotency_key": format!("{g}-{i}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = r.json().await.expect("json");
                        confirmed.push(v["orders"][0]["token"].as_str().expect("t").to_owned());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            confirmed
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let status = Command::new("kill")
        .args(["-KILL", &d.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut confirmed = Vec::new();
    for t in tasks {
        confirmed.extend(t.await.expect("task"));
    }
    drop(d);
    assert!(
        !confirmed.is_empty(),
        "some orders went through before the kill"
    );

    let d = spawn(&data).await;
    for token in &confirmed {
        let r = client
            .get(format!("{}/api/orders/{token}", d.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "a confirmed order was lost: {token}");
    }
    let menu: Value = client
        .get(format!("{}/api/shops/2/menu", d.base))
        .send()
        .await
        .expect("m")
        .json()
        .await
        .expect("j");
    let left = menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .expect("item")["stock_left"]
        .as_u64()
        .expect("n");
    // Every stored order holds its stock: stored + left = initial.
    let mut keeper = reqwest::Client::new()
        .post(format!("{}/api/auth/login", d.base))
        .json(&json!({"email": "dumplings@demo.queueless", "password": "queueless-demo"}))
        .send()
        .await
        .expect("login");
    assert_eq!(keeper.status(), 200);
    let cookie = keeper.headers_mut().remove("set-cookie").expect("cookie");
    let cookie = cookie
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let orders: Value = client
        .get(format!("{}/api/shop/orders?open=false&limit=500", d.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("orders")
        .json()
        .await
        .expect("json");
    let stored = orders.as_array().expect("orders").len() as u64;
    assert!(stored >= confirmed.len() as u64);
    assert_eq!(stored + left, initial, "no unit lost or counted twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_beside_a_running_daemon() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let d = spawn(&data).await;
    let out = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["shop", "list"])
        .output()
        .expect("cli");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for shop in ["Bubble Lab", "Dumpling House", "Fresh Press"] {
        assert!(text.contains(shop), "{text}");
    }
    let out = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["shop", "list", "--json"])
        .output()
        .expect("cli");
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list.as_array().expect("list").len(), 3);

    let backup = dir.path().join("copy.redb");
    let out = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .expect("cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .expect("cli");
    assert!(!again.status.success(), "never overwrites a backup");
    // The copy is a whole database: a daemon starts on it.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).expect("dir");
    std::fs::copy(&backup, restored.join("queueless.redb")).expect("copy");
    let r = spawn(&restored).await;
    let shops: Value = reqwest::get(format!("{}/api/shops", r.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(shops.as_array().expect("shops").len(), 3);
    drop(r);

    let mut child = bin()
        .arg("--data-dir")
        .arg(&data)
        .args([
            "admin",
            "create",
            "--email",
            "boss@example.org",
            "--name",
            "Boss",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long password\n")
        .expect("write");
    let out = child.wait_with_output().expect("done");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server_base = d.base.clone();
    let r = reqwest::Client::new()
        .post(format!("{server_base}/api/auth/login"))
        .json(&json!({"email": "boss@example.org", "password": "a long password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.expect("json");
    assert_eq!(me["role"], "admin");
    drop(d);
    let out = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["status"])
        .output()
        .expect("cli");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
}
