//! The real binary: SIGKILL in the middle of a rush loses no confirmed
//! order and no unit of stock; the command line works beside a running
//! daemon (backup, shop list, admin create) and without one.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::{
    ADMIN, DUMPLINGS, Daemon, PASSWORD, PORK, TestServer, cli, eventually, units_sold,
};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The id and units left of the pork dumplings, via the public menu.
async fn pork(d: &Daemon) -> (u64, u64) {
    let mut guest = d.client();
    let shops = guest.get("/api/shops").await.expect(200);
    for s in shops.as_array().expect("shops") {
        let menu = guest
            .get(&format!("/api/shops/{}/menu", s["id"]))
            .await
            .expect(200);
        if let Some(i) = menu["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["name"] == PORK)
        {
            return (
                i["id"].as_u64().expect("id"),
                i["stock_left"].as_u64().expect("left"),
            );
        }
    }
    panic!("no {PORK} on any menu");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_mid_rush_loses_nothing_that_was_confirmed() {
    const INITIAL: u64 = 300;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut daemon = Daemon::spawn(&data).await;
    let (item, _) = pork(&daemon).await;
    let mut keeper = daemon.client();
    keeper.login(DUMPLINGS, PASSWORD).await;
    keeper
        .post(
            &format!("/api/shop/items/{item}/stock"),
            json!({"set": INITIAL}),
        )
        .await
        .expect(200);

    // Sixteen guests order 1–3 portions in a loop until the daemon dies.
    let confirmed = Arc::new(AtomicUsize::new(0));
    let mut guests = Vec::new();
    for g in 0..16u32 {
        let mut guest = daemon.client();
        let count = Arc::clone(&confirmed);
        guests.push(tokio::spawn(async move {
            let mut mine: Vec<(String, u32)> = Vec::new();
            for i in 0..200u32 {
                let quantity = 1 + (g + i) % 3;
                let body = json!({"items": [{"item_id": item, "quantity": quantity}],
                    "idempotency_key": format!("test-checkout-{g}-{i}")});
                match guest.try_send("POST", "/api/orders", Some(body)).await {
                    Some(r) if r.status == 201 => {
                        let token = r.body["orders"][0]["token"].as_str().expect("token");
                        mine.push((token.to_owned(), quantity));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(r) => assert_eq!(r.status, 409, "{}", r.body),
                    None => break, // the daemon is gone
                }
            }
            mine
        }));
    }
    let seen = Arc::clone(&confirmed);
    eventually("40 confirmed orders before the kill", move || {
        let n = seen.load(Ordering::SeqCst);
        async move { n >= 40 }
    })
    .await;
    daemon.sigkill();
    let mut confirmed = Vec::new();
    for g in guests {
        confirmed.extend(g.await.expect("guest task"));
    }
    assert!(confirmed.len() >= 40);

    let daemon = Daemon::spawn(&data).await;
    let mut guest = daemon.client();
    for (token, quantity) in &confirmed {
        let view = guest.get(&format!("/api/orders/{token}")).await;
        assert_eq!(view.status, 200, "a confirmed order was lost: {token}");
        assert_eq!(view.body["status"], "placed");
        assert_eq!(view.body["lines"][0]["quantity"], *quantity);
    }
    let (_, left) = pork(&daemon).await;
    let mut keeper = daemon.client();
    keeper.login(DUMPLINGS, PASSWORD).await;
    let stored = keeper.shop_orders().await;
    assert!(
        stored.len() >= confirmed.len(),
        "stored {} < confirmed {}",
        stored.len(),
        confirmed.len()
    );
    assert_eq!(
        left + units_sold(&stored, item),
        INITIAL,
        "every unit is on the shelf or in exactly one stored order"
    );
    // Every stored order, confirmed or caught in flight, is whole: listed
    // as open, with its lines and its stock taken (the confirmed ones were
    // found by their links above; shops never see the links).
    let open = keeper.get("/api/shop/orders").await.expect(200);
    assert_eq!(open.as_array().expect("open").len(), stored.len());
    for o in &stored {
        assert_eq!(o["status"], "placed", "{o}");
        assert!(
            o["lines"][0]["quantity"].as_u64().is_some_and(|q| q >= 1),
            "{o}"
        );
    }
    // Numbers went on without a gap or a repeat, and still do.
    let mut numbers: Vec<u64> = stored
        .iter()
        .map(|o| o["number"].as_u64().expect("n"))
        .collect();
    numbers.sort_unstable();
    let n = numbers.len() as u64;
    assert_eq!(numbers, (1..=n).collect::<Vec<u64>>());
    let next = guest.place(&[(item, 1)], "after-restart").await;
    assert_eq!(next["number"], n + 1);
}

fn run_with_stdin(data: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = cli(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cli runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("cli ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_works_beside_the_daemon_and_without_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut daemon = Daemon::spawn(&data).await;
    let (item, _) = pork(&daemon).await;
    let order = daemon.client().place(&[(item, 2)], "before-backup").await;
    let token = order["token"].as_str().expect("token").to_owned();

    let status = cli(&data).arg("status").output().expect("cli");
    assert!(status.status.success(), "{}", text(&status));

    let list = cli(&data).args(["shop", "list"]).output().expect("cli");
    assert!(list.status.success(), "{}", text(&list));
    for shop in ["Bubble Lab", "Dumpling House", "Fresh Press"] {
        assert!(text(&list).contains(shop), "{}", text(&list));
    }
    let json_list = cli(&data)
        .args(["shop", "list", "--json"])
        .output()
        .expect("cli");
    let shops: Value = serde_json::from_slice(&json_list.stdout).expect("JSON");
    assert_eq!(shops.as_array().expect("list").len(), 3);

    // Backup while it runs: a whole database, never over an existing file.
    let backup = dir.path().join("backup.redb");
    let out = cli(&data)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .expect("cli");
    assert!(out.status.success(), "{}", text(&out));
    let mode = std::fs::metadata(&backup)
        .expect("backup")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "it holds password hashes: owner only");
    // The demo's photos (files beside the database) go beside the copy.
    let photos = std::fs::read_dir(dir.path().join("backup.redb.photos"))
        .expect("photos beside the backup")
        .count();
    assert_eq!(photos, 4, "the demo's four photos");
    let again = cli(&data)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .expect("cli");
    assert!(!again.status.success(), "never overwrites");
    assert!(text(&again).contains("exists"), "{}", text(&again));
    let copy = backup.clone();
    let (version, shop_count, found) = tokio::task::spawn_blocking(move || {
        use queueless::store::{Store, StoreSettings, catalog, orders};
        let store = Store::open(&copy, StoreSettings::default()).expect("the backup opens");
        let version = queueless::store::schema_version(&store).expect("version");
        let token: queueless::domain::Token = token.parse().expect("token");
        store
            .read_blocking(|r| {
                let shops = catalog::shops(r, false)?.len();
                let order = orders::order_by_token(r, token)?;
                Ok((version, shops, order.lines[0].quantity))
            })
            .expect("reads")
    })
    .await
    .expect("blocking task");
    assert_eq!(version, queueless::store::SCHEMA_VERSION);
    assert_eq!(
        (shop_count, found),
        (3, 2),
        "the shops and the order are in it"
    );
    // The app serves a copy of it.
    let restored = TestServer::start_with(|c| {
        std::fs::create_dir_all(&c.data_dir).expect("dir");
        std::fs::copy(&backup, c.data_dir.join("queueless.redb")).expect("copy");
    })
    .await;
    let r = restored.guest().view(&order).await;
    assert_eq!(r["lines"][0]["quantity"], 2);
    assert_eq!(restored.stock_left(PORK).await, pork(&daemon).await.1);
    restored.stop().await;

    // A new admin, password on stdin, logs in to the running daemon.
    let out = run_with_stdin(
        &data,
        &["admin", "create", "--email", "boss@example.org"],
        "a long password\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut boss = daemon.client();
    boss.login("boss@example.org", "a long password").await;
    assert_eq!(boss.get("/api/auth/me").await.expect(200)["role"], "admin");
    boss.get("/api/admin/shops").await.expect(200);
    let out = run_with_stdin(
        &data,
        &["admin", "create", "--email", ADMIN],
        "a long password\n",
    );
    assert!(!out.status.success(), "the email is taken: {}", text(&out));
    let out = run_with_stdin(
        &data,
        &["admin", "create", "--email", "x@example.org"],
        "short\n",
    );
    assert!(!out.status.success(), "too short: {}", text(&out));

    // Stopped cleanly, the daemon is gone; the CLI opens the file itself.
    daemon.stop().await;
    let status = cli(&data).arg("status").output().expect("cli");
    assert!(!status.status.success());
    assert!(text(&status).contains("not running"), "{}", text(&status));
    let list = cli(&data).args(["shop", "list"]).output().expect("cli");
    assert!(list.status.success(), "{}", text(&list));
    assert!(text(&list).contains("Fresh Press"));
    let out = run_with_stdin(
        &data,
        &["admin", "create", "--email", "night@example.org"],
        "a long password\n",
    );
    assert!(out.status.success(), "offline: {}", text(&out));
    let daemon = Daemon::spawn(&data).await;
    daemon
        .client()
        .login("night@example.org", "a long password")
        .await;
}

/// Runs the binary to its end, or fails after a few seconds (a start that
/// should have been refused would serve forever).
fn run_briefly(mut cmd: std::process::Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "it kept running: {}",
                text(&child.wait_with_output().expect("output"))
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_misspelt_variable_stops_the_start_and_names_the_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let mut serve = cli(dir.path());
    serve
        .env("QUEUELESS_HTPS", "127.0.0.1:0")
        .args(["serve", "--http", "127.0.0.1:0"]);
    let out = run_briefly(serve);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(
            "unknown environment variable QUEUELESS_HTPS (did you mean QUEUELESS_HTTPS?)"
        ),
        "{}",
        text(&out)
    );
    assert!(
        !dir.path().join("queueless.redb").exists(),
        "refused before opening"
    );

    // A [gateway] setting has its variable too: `check` reads it.
    let mut check = cli(dir.path());
    check
        .env(
            "QUEUELESS_GATEWAY_GUEST_INTERFACES",
            "wlan1,this-name-is-far-too-long",
        )
        .arg("check");
    let out = run_briefly(check);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("\"this-name-is-far-too-long\" is not an interface name"),
        "{}",
        text(&out)
    );

    // Variables that are no settings (the log filter) still pass.
    let mut status = cli(dir.path());
    status.env("QUEUELESS_LOG", "warn").arg("status");
    let out = run_briefly(status);
    assert!(text(&out).contains("not running"), "{}", text(&out));
}
