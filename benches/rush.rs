//! The lunch rush on a small router's resources: the release daemon in a
//! cgroup v1 with half of one core (CPU quota 50 ms per 100 ms) and 64 MiB
//! of memory; 2,000 guests arrive within 60 s. Each opens a shop's menu
//! and its live stream, places an order and keeps the order page's
//! stream; three shops' staff accept, prepare, ready and hand over every
//! order; the pickup board is open. Prints per-step p50/p99 and errors,
//! OOM kills, peak memory, the daemon's CPU time and bytes written.
//!
//!     cargo bench --bench rush [-- --smoke]
//!
//! Needs root and the cgroup v1 `cpu` and `memory` controllers: skipped
//! with a message otherwise, failed when `CI` is set. `--smoke`: 150
//! guests in 10 s (CI).

#[path = "common/cgroup.rs"]
mod cgroup;
#[path = "common/disk.rs"]
mod disk;
#[path = "common/http.rs"]
mod http;
#[path = "common/measure.rs"]
mod measure;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use http::{Conn, request, send};
use measure::{ms, percentile};

const STAFF: [&str; 3] = [
    "tea@demo.queueless",
    "dumplings@demo.queueless",
    "juice@demo.queueless",
];
const STAGES: [&str; 4] = ["accepted", "preparing", "ready", "completed"];

struct Daemon {
    child: Child,
    port: u16,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("QUEUELESS_BIN") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_BIN_EXE_queueless"))
}

async fn start(router: &cgroup::Router) -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let data = dir.path().join("data");
    let config = dir.path().join("queueless.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nhttp = \"127.0.0.1:{port}\"\ndemo = true\nmax_streams_per_client = 100000\n",
            data.display()
        ),
    )
    .expect("config");
    disk::settle();
    let [cpu, memory] = router.procs();
    // The shell joins both groups, then becomes the daemon: every thread
    // it ever starts is inside.
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {} && echo $$ > {} && exec \"$0\" \"$@\"",
            cpu.display(),
            memory.display()
        ))
        .arg(binary())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("MALLOC_MMAP_THRESHOLD_", "262144")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("daemon starts");
    let d = Daemon {
        child,
        port,
        data,
        _dir: dir,
    };
    let t0 = Instant::now();
    loop {
        if let Ok(mut c) = http::plain(d.port).await
            && let Ok((200, _)) = request(&mut c, "GET", "/api/shops", "").await
        {
            return d;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "daemon did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Latencies and errors of one step.
#[derive(Default)]
struct Step {
    lat: Vec<Duration>,
    errors: u64,
}

#[derive(Default)]
struct Results {
    steps: BTreeMap<&'static str, Step>,
    /// When staff sent a stage change: (order, stage) → instant.
    sent: BTreeMap<(u64, usize), Instant>,
    /// When the guest's page got it.
    seen: BTreeMap<(u64, usize), Instant>,
    first_error: Option<String>,
}

impl Results {
    fn ok(&mut self, step: &'static str, d: Duration) {
        self.steps.entry(step).or_default().lat.push(d);
    }
    fn err(&mut self, step: &'static str, what: String) {
        self.steps.entry(step).or_default().errors += 1;
        self.first_error.get_or_insert(format!("{step}: {what}"));
    }
}

type Shared = Arc<Mutex<Results>>;

/// One guest: menu, its stream, the order, the order page's stream until
/// the order is handed over (or `until`).
async fn guest(
    d: Arc<Daemon>,
    shop: u64,
    item: u64,
    options: String,
    n: usize,
    r: Shared,
    until: Instant,
) {
    let t = Instant::now();
    let Ok(mut c) = http::plain(d.port).await else {
        return r.lock().await.err("menu", "connect".into());
    };
    match request(&mut c, "GET", &format!("/api/shops/{shop}/menu"), "").await {
        Ok((200, _)) => r.lock().await.ok("menu", t.elapsed()),
        other => return r.lock().await.err("menu", format!("{other:?}")),
    }
    let t = Instant::now();
    let menu_stream = match http::plain(d.port).await {
        Ok(mut s) => match send(&mut s, "GET", &format!("/events/menu/{shop}"), "").await {
            Ok((200, _)) => {
                r.lock().await.ok("menu stream open", t.elapsed());
                Some(s)
            }
            other => {
                r.lock().await.err("menu stream open", format!("{other:?}"));
                None
            }
        },
        Err(e) => {
            r.lock().await.err("menu stream open", e.to_string());
            None
        }
    };
    let body = format!(
        r#"{{"items":[{{"item_id":{item},"quantity":1,"options":{options}}}],"idempotency_key":"rush-guest-{n:08}"}}"#
    );
    let t = Instant::now();
    let placed: Value = match request(&mut c, "POST", "/api/orders", &body).await {
        Ok((201, text)) => {
            r.lock().await.ok("place order", t.elapsed());
            serde_json::from_str(&text).unwrap_or_default()
        }
        other => return r.lock().await.err("place order", format!("{other:?}")),
    };
    drop(menu_stream);
    let order = &placed["orders"][0];
    let (Some(id), Some(token)) = (order["id"].as_u64(), order["token"].as_str()) else {
        return r
            .lock()
            .await
            .err("place order", format!("no order in {placed}"));
    };
    let t = Instant::now();
    let Ok(mut s) = http::plain(d.port).await else {
        return r.lock().await.err("order stream open", "connect".into());
    };
    s.cookie.clone_from(&c.cookie);
    drop(c);
    match send(&mut s, "GET", &format!("/events/order/{token}"), "").await {
        Ok((200, _)) => r.lock().await.ok("order stream open", t.elapsed()),
        other => {
            return r
                .lock()
                .await
                .err("order stream open", format!("{other:?}"));
        }
    }
    let mut text = String::new();
    let mut buf = vec![0u8; 2048];
    let mut next = 0;
    while next < STAGES.len() {
        let k = match tokio::time::timeout_at(until.into(), s.io.read(&mut buf)).await {
            Ok(Ok(k)) if k > 0 => k,
            _ => break,
        };
        text.push_str(&String::from_utf8_lossy(&buf[..k]));
        let now = Instant::now();
        while next < STAGES.len() && text.contains(&format!("\"status\":\"{}\"", STAGES[next])) {
            r.lock().await.seen.insert((id, next), now);
            next += 1;
        }
        if text.len() > 8192 {
            text.drain(..text.len() - 1024);
        }
    }
}

/// One shop's staff: polls the open orders and moves each one stage per
/// round until `done` and nothing is left.
async fn staff(mut c: Conn, r: Shared, done: Arc<AtomicBool>, handed: Arc<AtomicUsize>) {
    loop {
        let t = Instant::now();
        let list: Vec<Value> = match request(&mut c, "GET", "/api/shop/orders", "").await {
            Ok((200, text)) => {
                r.lock().await.ok("staff order list", t.elapsed());
                serde_json::from_str(&text).unwrap_or_default()
            }
            other => {
                r.lock().await.err("staff order list", format!("{other:?}"));
                Vec::new()
            }
        };
        if list.is_empty() && done.load(Ordering::Acquire) {
            return;
        }
        for o in &list {
            let Some(id) = o["id"].as_u64() else { continue };
            let status = o["status"].as_str().unwrap_or_default();
            let next = match status {
                "placed" => 0,
                "accepted" => 1,
                "preparing" => 2,
                "ready" => 3,
                _ => continue,
            };
            let body = format!(r#"{{"status":"{}"}}"#, STAGES[next]);
            let t = Instant::now();
            match request(
                &mut c,
                "POST",
                &format!("/api/shop/orders/{id}/status"),
                &body,
            )
            .await
            {
                Ok((200, _)) => {
                    let mut g = r.lock().await;
                    g.sent.insert((id, next), t);
                    g.ok("staff stage change", t.elapsed());
                    if next == 3 {
                        handed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                other => r
                    .lock()
                    .await
                    .err("staff stage change", format!("{other:?}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn proc_field(pid: u32, file: &str, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == name).then(|| v.split_whitespace().next()?.parse().ok())?
        })
        .unwrap_or(0)
}

/// User + system CPU time of the whole process (exited threads included).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, s)| s);
    // Every field counts (the state letter too): fields 14 and 15 (utime,
    // stime) are the 12th and 13th after the name.
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|s| s.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Restocks every counted item, option and ingredient, so the rush never sells out.
async fn restock(c: &mut Conn) {
    let (_, text) = request(c, "GET", "/api/shop/menu", "").await.expect("menu");
    let menu: Value = serde_json::from_str(&text).expect("menu json");
    for i in menu["items"].as_array().into_iter().flatten() {
        let path = format!("/api/shop/items/{}/stock", i["id"]);
        let _ = request(c, "POST", &path, r#"{"set":1000000}"#).await;
        for g in i["option_groups"].as_array().into_iter().flatten() {
            for o in g["options"].as_array().into_iter().flatten() {
                if o["stock"]["kind"] == "counted" {
                    let path = format!("/api/shop/options/{}/stock", o["id"]);
                    let _ = request(c, "POST", &path, r#"{"set":100000}"#).await;
                }
            }
        }
    }
    for i in menu["ingredients"].as_array().into_iter().flatten() {
        let path = format!("/api/shop/ingredients/{}/stock", i["id"]);
        let _ = request(c, "POST", &path, r#"{"set":1000000000}"#).await;
    }
}

#[tokio::main]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (guests, window) = if smoke {
        (150usize, 10.0)
    } else {
        (2000usize, 60.0)
    };
    let router = match cgroup::Router::create("rush", 50, 64) {
        Ok(r) => r,
        Err(why) => {
            let message = format!("rush bench needs root and cgroup v1 cpu+memory: {why}");
            assert!(std::env::var_os("CI").is_none(), "{message}");
            eprintln!("SKIPPED: {message}");
            return;
        }
    };
    let d = Arc::new(start(&router).await);
    let pid = d.child.id();
    let results: Shared = Arc::default();

    // Staff log in one after another (each login hashes a password with
    // 12 MiB) and restock; the shops' first orderable items.
    let shops: Value = {
        let mut c = http::plain(d.port).await.expect("connect");
        let (_, text) = request(&mut c, "GET", "/api/shops", "")
            .await
            .expect("shops");
        serde_json::from_str(&text).expect("shops json")
    };
    let mut staff_conns = Vec::new();
    for email in STAFF {
        let mut c = http::plain(d.port).await.expect("connect");
        let body = format!(r#"{{"email":"{email}","password":"queueless-demo"}}"#);
        let (s, t) = request(&mut c, "POST", "/api/auth/login", &body)
            .await
            .expect("login");
        assert_eq!(s, 200, "{t}");
        restock(&mut c).await;
        staff_conns.push(c);
    }
    let mut menu_items = Vec::new();
    for s in shops.as_array().expect("shops") {
        let shop = s["id"].as_u64().expect("shop id");
        let mut c = http::plain(d.port).await.expect("connect");
        let (_, text) = request(&mut c, "GET", &format!("/api/shops/{shop}/menu"), "")
            .await
            .expect("menu");
        let menu: Value = serde_json::from_str(&text).expect("menu json");
        // Guests order an item with options where the shop has one (the
        // demo's Bubble Lab drinks: Size, Sugar and Ice are required).
        let items: Vec<&Value> = menu["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|i| i["available"] != false)
            .collect();
        let with_options = items
            .iter()
            .find(|i| i["option_groups"].as_array().is_some_and(|g| !g.is_empty()));
        let item = with_options.or(items.first()).expect("an orderable item");
        let mut choices = Vec::new();
        for g in item["option_groups"].as_array().into_iter().flatten() {
            if let Some(o) = g["options"]
                .as_array()
                .and_then(|o| o.iter().find(|o| o["available"] != false))
            {
                choices.push(o["id"].as_u64().expect("option id"));
            }
        }
        let options = serde_json::to_string(&choices).expect("json");
        menu_items.push((shop, item["id"].as_u64().expect("item id"), options));
    }

    let rss_before = measure::rss_kib(pid);
    let cpu_before = cpu_time(pid);
    let written_before = proc_field(pid, "io", "write_bytes");
    let mut board = http::plain(d.port).await.expect("connect");
    send(&mut board, "GET", "/events/board", "")
        .await
        .expect("board");
    let board_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let mut bytes = 0u64;
        while let Ok(k) = board.io.read(&mut buf).await {
            if k == 0 {
                break;
            }
            bytes += k as u64;
        }
        bytes
    });
    let done = Arc::new(AtomicBool::new(false));
    let handed = Arc::new(AtomicUsize::new(0));
    let mut staff_tasks = Vec::new();
    for c in staff_conns {
        staff_tasks.push(tokio::spawn(staff(
            c,
            Arc::clone(&results),
            Arc::clone(&done),
            Arc::clone(&handed),
        )));
    }

    let probe = disk::FsyncProbe::start(d.data.parent().expect("temp dir"));
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs_f64(window + 60.0);
    let mut tasks = Vec::with_capacity(guests);
    for n in 0..guests {
        let at = t0 + Duration::from_secs_f64(window * n as f64 / guests as f64);
        tokio::time::sleep_until(at.into()).await;
        let (shop, item, options) = &menu_items[n % menu_items.len()];
        tasks.push(tokio::spawn(guest(
            Arc::clone(&d),
            *shop,
            *item,
            options.clone(),
            n,
            Arc::clone(&results),
            until,
        )));
    }
    for t in tasks {
        let _ = t.await;
    }
    done.store(true, Ordering::Release);
    for t in staff_tasks {
        let _ = t.await;
    }
    let took = t0.elapsed();
    let fsyncs = probe.finish();
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    let written = proc_field(pid, "io", "write_bytes").saturating_sub(written_before);
    let hwm = proc_field(pid, "status", "VmHWM");
    let alive = std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("State:") && !l.contains('Z'))
    });
    board_task.abort();
    let db_bytes = std::fs::metadata(d.data.join("queueless.redb")).map_or(0, |m| m.len());

    let mut r = results.lock().await;
    let mut changes = Vec::new();
    let mut missed = 0u64;
    for (key, sent) in &r.sent {
        match r.seen.get(key) {
            Some(seen) => changes.push(seen.saturating_duration_since(*sent)),
            None => missed += 1,
        }
    }
    r.steps.insert(
        "stage change → guest page",
        Step {
            lat: changes,
            errors: missed,
        },
    );
    println!(
        "\nrush: {guests} guests in {window:.0} s on 50 ms/100 ms CPU and 64 MiB (took {:.1} s to hand every order over)\n",
        took.as_secs_f64()
    );
    println!("| step | count | p50 | p99 | errors |\n|---|---|---|---|---|");
    let mut errors = 0;
    for (name, s) in r.steps.iter_mut() {
        s.lat.sort_unstable();
        errors += s.errors;
        println!(
            "| {name} | {} | {} | {} | {} |",
            s.lat.len(),
            ms(percentile(&s.lat, 0.5)),
            ms(percentile(&s.lat, 0.99)),
            s.errors
        );
    }
    let (throttled, throttled_ms) = router.throttled();
    let oom = router.oom_kills();
    println!(
        "\norders handed over {}; OOM kills {oom}; daemon alive {alive}\n\
         RSS before the rush {rss_before} KiB, peak (VmHWM) {hwm} KiB; cgroup peak {:.1} MiB (page cache included)\n\
         daemon CPU {:.1} s over {:.1} s ({:.0}% of the 0.5-core quota); throttled {throttled} times, {throttled_ms} ms\n\
         bytes written {:.1} MiB ({:.0} bytes per order); database file {:.1} MiB",
        handed.load(Ordering::Relaxed),
        router.peak_bytes() as f64 / 1048576.0,
        cpu.as_secs_f64(),
        took.as_secs_f64(),
        cpu.as_secs_f64() / took.as_secs_f64() / 0.5 * 100.0,
        written as f64 / 1048576.0,
        written as f64 / guests.max(1) as f64,
        db_bytes as f64 / 1048576.0,
    );
    println!(
        "this disk's fsync during the rush (a probe: 4 KiB and fdatasync every 100 ms, {} times): \
         p50 {}, p99 {}, max {}, {} over 100 ms",
        fsyncs.len(),
        ms(percentile(&fsyncs, 0.5)),
        ms(percentile(&fsyncs, 0.99)),
        ms(fsyncs.last().copied().unwrap_or_default()),
        fsyncs
            .iter()
            .filter(|l| **l > Duration::from_millis(100))
            .count()
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    let place = r
        .steps
        .get("place order")
        .map(|s| percentile(&s.lat, 0.99))
        .unwrap_or_default();
    let stage = r
        .steps
        .get("stage change → guest page")
        .map(|s| percentile(&s.lat, 0.99))
        .unwrap_or_default();
    println!(
        "aim: no error ({}), no OOM ({}), placement p99 < 300 ms ({}), stage change p99 < 1 s ({})",
        errors == 0,
        oom == 0,
        place < Duration::from_millis(300),
        stage < Duration::from_secs(1)
    );
    drop(r);
    drop(d);
    assert_eq!(oom, 0, "the daemon was OOM-killed");
    assert!(alive, "the daemon died during the rush");
    if smoke {
        assert_eq!(errors, 0, "errors in the smoke run");
    }
}
