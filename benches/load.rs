//! Load benchmarks against the real release binary over loopback: startup
//! time, idle memory, the captive redirect, durable orders (group commit on
//! and off, then the oversell check), and live-update fan-out to many SSE
//! streams. Prints a table; `--smoke` runs everything briefly (CI).
//!
//!     cargo build --release && cargo bench --bench load [-- --smoke]
//!
//! Raise the open-file limit first for the SSE part (`ulimit -n 10240`);
//! with a lower limit the stream count is cut to fit and the table says so.
//! Parts alone, for profiling: `-- --redirect N [RATE]`, `-- --sse N`,
//! `-- --orders RUNS` (plain orders and orders with options, in turns).

#[path = "common/http.rs"]
#[expect(dead_code, reason = "the load bench sends its own headers")]
mod http;
#[path = "common/measure.rs"]
mod measure;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use http::{Conn, request_with};
use measure::{ms, percentile, rss_kib};

struct Daemon {
    child: Child,
    http: u16,
    https: u16,
    /// Trusts the daemon's own self-signed certificate (and nothing
    /// else), once it has made one.
    tls: Option<tokio_rustls::TlsConnector>,
    _dir: tempfile::TempDir,
    started_in: Duration,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("QUEUELESS_BIN") {
        return PathBuf::from(p);
    }
    // Cargo builds the binary for the bench (release settings) and names
    // it here, in whatever target directory is in use.
    let p = PathBuf::from(env!("CARGO_BIN_EXE_queueless"));
    assert!(p.exists(), "build the daemon first: cargo build --release");
    p
}

async fn start(extra_config: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let (http, https) = (free_port(), free_port());
    let config = dir.path().join("queueless.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nhttp = \"127.0.0.1:{http}\"\nhttps = \"127.0.0.1:{https}\"\ndemo = true\n{extra_config}",
            dir.path().join("data").display()
        ),
    )
    .expect("config");
    let cert = dir.path().join("data/tls/cert.pem");
    let t0 = Instant::now();
    let child = Command::new(binary())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        // As systemd/queueless.service runs it (large blocks go back to
        // the system when freed).
        .env("MALLOC_MMAP_THRESHOLD_", "262144")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("daemon starts");
    let mut d = Daemon {
        child,
        http,
        https,
        tls: None,
        _dir: dir,
        started_in: Duration::ZERO,
    };
    loop {
        if d.tls.is_none() && cert.exists() {
            d.tls = Some(tls(&cert));
        }
        if d.tls.is_some()
            && let Ok(mut c) = connect(&d, true).await
            && let Ok((200, _)) = request_with(&mut c, "GET", "/api/shops", "", &[]).await
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "daemon did not start"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    d.started_in = t0.elapsed();
    d
}

/// A client that trusts only `cert`, as a tablet does once its owner
/// installed the router's certificate.
fn tls(cert: &std::path::Path) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(
            rustls_pki_types::CertificateDer::from_pem_file(cert)
                .expect("the daemon's certificate"),
        )
        .expect("usable as a trust anchor");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn connect(d: &Daemon, secure: bool) -> std::io::Result<Conn> {
    let port = if secure { d.https } else { d.http };
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    let io: http::Io = if secure {
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let tls = d.tls.as_ref().expect("the daemon's certificate is trusted");
        Box::new(tls.connect(name, tcp).await?)
    } else {
        Box::new(tcp)
    };
    Ok(Conn::new(io))
}

/// `conns` connections hammering `path` for `secs`; (requests/s, p50, p99).
///
/// Without `rate` each connection sends its next request as soon as the
/// last is answered (closed loop: the maximum rate, and at many
/// connections the latency is mostly the wait for a turn on the cores).
/// With `rate` (requests/s over all connections) requests go out on a
/// schedule, as independent guests would send them (open loop, as `wrk2`
/// does): a request whose turn came while its connection was still busy
/// is timed from its turn, so a slow server cannot hide its queue.
async fn hammer(
    d: &Daemon,
    conns: usize,
    secs: f64,
    rate: Option<f64>,
    path: &'static str,
    expect: u16,
) -> (f64, Duration, Duration) {
    let mut open = Vec::with_capacity(conns);
    for _ in 0..conns {
        open.push(connect(d, false).await.expect("connect"));
    }
    // The clock starts once every connection is open: no turn is missed
    // while the others connect.
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let every = rate.map(|r| Duration::from_secs_f64(conns as f64 / r));
    let mut tasks = Vec::new();
    for (k, mut c) in open.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            // Connections take their turns spread over one interval.
            let offset = every.map(|e| e.mul_f64(k as f64 / conns as f64));
            for i in 0u32.. {
                let t = match (every, offset) {
                    (Some(e), Some(o)) => {
                        let turn = start + o + e * i;
                        if Instant::now() < turn {
                            tokio::time::sleep_until(turn.into()).await;
                            Instant::now()
                        } else {
                            turn
                        }
                    }
                    _ => Instant::now(),
                };
                if t >= deadline {
                    break;
                }
                let (status, _) = request_with(&mut c, "GET", path, "", &[])
                    .await
                    .expect("request");
                assert_eq!(status, expect);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let took = start.elapsed().as_secs_f64().max(secs);
    all.sort_unstable();
    (
        all.len() as f64 / took,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
    )
}

/// One line of Fresh Press (item 9): no stock limit, no options.
const PLAIN_LINE: &str = r#"{"item_id":9,"quantity":1}"#;

/// Durable orders/s with `clients` HTTPS clients for `secs`, each order
/// one `line`.
async fn orders(d: &Daemon, clients: usize, secs: f64, line: &str) -> f64 {
    // Keys name a checkout across the venue: each run has its own.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..clients {
        let mut c = connect(d, true).await.expect("connect");
        let done = Arc::clone(&done);
        let line = line.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let body = format!(
                    r#"{{"items":[{line}],"idempotency_key":"bench-{run:02}-{n:04}-{i:06}"}}"#
                );
                let (status, text) = request_with(&mut c, "POST", "/api/orders", &body, &[])
                    .await
                    .expect("order");
                assert_eq!(status, 201, "{text}");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t0 = Instant::now();
    for t in tasks {
        t.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64()
}

/// A Bubble Lab drink as guests order it: the preselected Size, Sugar and
/// Ice, plus the first topping (tapioca pearls, taken from the ingredient
/// stock the drinks share). Its counts and ingredients are restocked first,
/// so the run measures ordering, not selling out. Returns the order line.
async fn drink_with_options(d: &Daemon) -> String {
    let mut keeper = login(d, "tea@demo.queueless").await;
    let (_, text) = request_with(&mut keeper, "GET", "/api/shop/menu", "", &[])
        .await
        .expect("menu");
    let menu: serde_json::Value = serde_json::from_str(&text).expect("menu json");
    for i in menu["ingredients"].as_array().into_iter().flatten() {
        let path = format!("/api/shop/ingredients/{}/stock", i["id"]);
        let (s, t) = request_with(&mut keeper, "POST", &path, r#"{"set":1000000000}"#, &[])
            .await
            .expect("restock");
        assert_eq!(s, 200, "{t}");
    }
    let item = menu["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["option_groups"].as_array().is_some_and(|g| g.len() >= 3))
        .expect("a drink with options in the demo");
    if item["stock"]["kind"] == "counted" {
        let path = format!("/api/shop/items/{}/stock", item["id"]);
        request_with(&mut keeper, "POST", &path, r#"{"set":1000000}"#, &[])
            .await
            .expect("restock");
    }
    let mut chosen = Vec::new();
    for g in item["option_groups"].as_array().into_iter().flatten() {
        let options: Vec<&serde_json::Value> =
            g["options"].as_array().into_iter().flatten().collect();
        let mut picked: Vec<&serde_json::Value> = options
            .iter()
            .copied()
            .filter(|o| o["default"] == true)
            .collect();
        let min = g["min"].as_u64().unwrap_or(0) as usize;
        if picked.len() < min || (picked.is_empty() && g["max"].as_u64().unwrap_or(0) > 0) {
            picked.extend(
                options
                    .iter()
                    .copied()
                    .filter(|o| o["default"] != true)
                    .take(min.max(1) - picked.len()),
            );
        }
        for o in picked {
            if o["stock"]["kind"] == "counted" {
                let path = format!("/api/shop/options/{}/stock", o["id"]);
                request_with(&mut keeper, "POST", &path, r#"{"set":1000000}"#, &[])
                    .await
                    .expect("restock");
            }
            chosen.push(o["id"].as_u64().expect("option id"));
        }
    }
    format!(
        r#"{{"item_id":{},"quantity":1,"options":{chosen:?}}}"#,
        item["id"]
    )
}

async fn login(d: &Daemon, email: &str) -> Conn {
    let mut c = connect(d, true).await.expect("connect");
    let body = format!(r#"{{"email":"{email}","password":"queueless-demo"}}"#);
    let (status, text) = request_with(&mut c, "POST", "/api/auth/login", &body, &[])
        .await
        .expect("login");
    assert_eq!(status, 200, "{text}");
    c
}

/// Concurrent orders for a counted item: sold + left must equal the stock.
async fn oversell(d: &Daemon, stock: u32, clients: usize) -> (u64, u64, i64) {
    let mut keeper = login(d, "dumplings@demo.queueless").await;
    let body = format!(r#"{{"set":{stock}}}"#);
    let (s, t) = request_with(&mut keeper, "POST", "/api/shop/items/5/stock", &body, &[])
        .await
        .expect("stock");
    assert_eq!(s, 200, "{t}");
    let mut tasks = Vec::new();
    for n in 0..clients {
        let mut c = connect(d, true).await.expect("connect");
        tasks.push(tokio::spawn(async move {
            let mut won = 0u64;
            for i in 0..4 {
                let body = format!(
                    r#"{{"items":[{{"item_id":5,"quantity":1}}],"idempotency_key":"bench-single-{n:04}-{i:06}"}}"#
                );
                let (status, _) = request_with(&mut c, "POST", "/api/orders", &body, &[])
                    .await
                    .expect("order");
                if status == 201 {
                    won += 1;
                }
            }
            won
        }));
    }
    let mut sold = 0;
    for t in tasks {
        sold += t.await.expect("task");
    }
    let (_, menu) = request_with(&mut keeper, "GET", "/api/shops/2/menu", "", &[])
        .await
        .expect("menu");
    let v: serde_json::Value = serde_json::from_str(&menu).expect("json");
    let left = v["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == 5))
        .and_then(|i| i["stock_left"].as_u64())
        .unwrap_or(0);
    (sold, left, i64::from(stock) - sold as i64 - left as i64)
}

/// CPU time process `pid` has used so far, all threads (the scheduler's
/// nanosecond counts in `/proc/PID/task/*/schedstat`; zero when unreadable).
fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

fn fd_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

/// What one fan-out showed (the round with the median p99).
struct Fanout {
    /// Streams the change reached in time.
    reached: usize,
    p50: Duration,
    p99: Duration,
    /// Resident memory per open stream, in bytes.
    per_stream: u64,
    /// The daemon's own CPU time from the change to the last arrival.
    cpu: Duration,
}

/// Opens `n` menu streams, then `rounds` times changes stock and times the
/// arrival at each stream.
async fn fanout(d: &Daemon, n: usize, rounds: usize) -> Fanout {
    let pid = d.child.id();
    let before = rss_kib(pid);
    // Guests' pages subscribe over HTTPS, as in the venue.
    let mut readers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = connect(d, true).await.expect("connect");
        c.io.get_mut()
            .write_all(b"GET /events/menu/2 HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            .await
            .expect("subscribe");
        readers.push(c.io);
    }
    // Wait until every stream got its first bytes (headers + hello).
    for s in &mut readers {
        let mut buf = [0u8; 512];
        let k = s.read(&mut buf).await.expect("hello");
        assert!(
            buf[..k].starts_with(b"HTTP/1.1 200"),
            "stream refused: {}",
            String::from_utf8_lossy(&buf[..k])
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let opened = rss_kib(pid);
    let per_stream = opened.saturating_sub(before) * 1024 / n.max(1) as u64;
    eprintln!("  RSS before the streams {before} KiB, with them open {opened} KiB");
    let mut keeper = login(d, "dumplings@demo.queueless").await;
    let mut results = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        // The readers wait before the clock starts: the window holds the
        // change and its delivery, not the bench spawning its own tasks.
        let mut tasks = Vec::with_capacity(readers.len());
        for mut s in readers.drain(..) {
            tasks.push(tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let mut seen = Vec::new();
                loop {
                    let k = s.read(&mut buf).await.unwrap_or(0);
                    if k == 0 {
                        return None;
                    }
                    seen.extend_from_slice(&buf[..k]);
                    let needle: &[u8] = b"event: availability";
                    if seen.windows(needle.len()).any(|w| w == needle) {
                        return Some((s, Instant::now()));
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cpu_before = cpu_time(pid);
        let t0 = Instant::now();
        // A change every subscriber hears (restocking always changes the count).
        let (s, t) = request_with(
            &mut keeper,
            "POST",
            "/api/shop/items/5/stock",
            r#"{"delta":5}"#,
            &[],
        )
        .await
        .expect("stock");
        assert_eq!(s, 200, "{t}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut lat = Vec::with_capacity(n);
        for t in tasks {
            if let Ok(Ok(Some((s, at)))) = tokio::time::timeout_at(deadline, t).await {
                lat.push(at - t0);
                readers.push(s);
            }
        }
        let cpu = cpu_time(pid).saturating_sub(cpu_before);
        lat.sort_unstable();
        eprintln!(
            "  fan-out round: {} reached, p50 {}, p99 {}, daemon CPU {}, RSS {} KiB",
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(cpu),
            rss_kib(pid)
        );
        results.push(Fanout {
            reached: lat.len(),
            p50: percentile(&lat, 0.5),
            p99: percentile(&lat, 0.99),
            per_stream,
            cpu,
        });
    }
    results.sort_by_key(|r| r.p99);
    results.swap_remove(results.len() / 2)
}

/// The fan-out's rows: latency, the daemon's CPU for it, memory per stream.
fn fanout_rows(f: &Fanout, n: usize, note: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("SSE fan-out to {n} streams{note}"),
            format!(
                "{} reached, p50 {}, p99 {}",
                f.reached,
                ms(f.p50),
                ms(f.p99)
            ),
        ),
        (
            "  daemon CPU for it (all cores)".into(),
            format!(
                "{} ({:.1} µs per stream)",
                ms(f.cpu),
                f.cpu.as_secs_f64() * 1e6 / f.reached.max(1) as f64
            ),
        ),
        (
            "memory per open stream".into(),
            format!("{} bytes", f.per_stream),
        ),
    ]
}

/// Durable orders/s, plain and with options, in turns on one daemon, so
/// the database's growth weighs on both alike. Two rows: the medians.
async fn order_rows(d: &Daemon, clients: usize, secs: f64, runs: usize) -> Vec<(String, String)> {
    let drink = drink_with_options(d).await;
    let (mut plain, mut options) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        plain.push(orders(d, clients, secs, PLAIN_LINE).await);
        options.push(orders(d, clients, secs, &drink).await);
    }
    plain.sort_by(f64::total_cmp);
    options.sort_by(f64::total_cmp);
    vec![
        (
            format!("orders/s, group commit, {clients} clients"),
            format!("{:.0}", plain[plain.len() / 2]),
        ),
        (
            format!(
                "orders/s with options (a drink, 4 options, one from ingredients), group commit, {clients} clients"
            ),
            format!("{:.0}", options[options.len() / 2]),
        ),
    ]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    // `--redirect N [R]`: only the redirect at N connections (for profiling).
    if let Some(conns) = std::env::args()
        .skip_while(|a| a != "--redirect")
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
    {
        // `--redirect N R`: at R requests/s, on a schedule.
        let rate = std::env::args()
            .skip_while(|a| a != "--redirect")
            .nth(2)
            .and_then(|a| a.parse::<f64>().ok());
        let d = start("").await;
        for _ in 0..3 {
            let (rps, p50, p99) = hammer(&d, conns, 3.0, rate, "/generate_204", 302).await;
            println!(
                "redirect, {conns} connections: {rps:.0} req/s, p50 {}, p99 {}",
                ms(p50),
                ms(p99)
            );
        }
        return;
    }
    // `--orders N`: only the order runs, N of each in turns (for profiling).
    if let Some(runs) = std::env::args()
        .skip_while(|a| a != "--orders")
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
    {
        let d = start("").await;
        for (k, v) in order_rows(&d, 64, 5.0, runs).await {
            println!("{k}: {v}");
        }
        return;
    }
    // `--sse N`: only the fan-out to N streams (for profiling).
    if let Some(n) = std::env::args()
        .skip_while(|a| a != "--sse")
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
    {
        let d = start("max_streams_per_client = 100000\n").await;
        let idle = rss_kib(d.child.id());
        let f = fanout(&d, n, 3).await;
        for (k, v) in fanout_rows(&f, n, "") {
            println!("{k}: {v}");
        }
        println!(
            "RSS idle {idle} KiB, with streams {} KiB",
            rss_kib(d.child.id())
        );
        return;
    }
    let secs = if smoke { 0.3 } else { 5.0 };
    let runs = if smoke { 1 } else { 3 };
    let mut rows: Vec<(String, String)> = Vec::new();

    // Startup and idle memory.
    let mut starts = Vec::new();
    for _ in 0..runs {
        let d = start("").await;
        starts.push(d.started_in);
    }
    starts.sort_unstable();
    rows.push((
        "startup to first served request (median)".into(),
        ms(percentile(&starts, 0.5)),
    ));
    let d = start("max_streams_per_client = 100000\n").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    rows.push(("RSS idle".into(), format!("{} KiB", rss_kib(d.child.id()))));

    // Captive redirect: plain HTTP answers a probe with 302 to the portal.
    for conns in [1usize, 16, 256] {
        let mut results = Vec::new();
        for _ in 0..runs {
            results.push(hammer(&d, conns, secs, None, "/generate_204", 302).await);
        }
        results.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (rps, p50, p99) = results[results.len() / 2];
        rows.push((
            format!("redirect, {conns} connections"),
            format!("{rps:.0} req/s, p50 {}, p99 {}", ms(p50), ms(p99)),
        ));
    }
    // The target's load on a schedule: 20,000 req/s from 256 guests.
    let mut results = Vec::new();
    for _ in 0..runs {
        results.push(hammer(&d, 256, secs, Some(20_000.0), "/generate_204", 302).await);
    }
    results.sort_by_key(|r| r.2);
    let (rps, p50, p99) = results[results.len() / 2];
    rows.push((
        "redirect, 256 connections at 20,000 req/s (open loop)".into(),
        format!("{rps:.0} req/s, p50 {}, p99 {}", ms(p50), ms(p99)),
    ));

    // Durable orders over HTTPS, 64 clients.
    let clients = if smoke { 8 } else { 64 };
    rows.extend(order_rows(&d, clients, secs, runs).await);
    let single = start("group_commit = false\n").await;
    let mut without = Vec::new();
    for _ in 0..runs {
        without.push(orders(&single, clients, secs, PLAIN_LINE).await);
    }
    without.sort_by(f64::total_cmp);
    rows.push((
        format!("orders/s, one commit each, {clients} clients"),
        format!("{:.0}", without[without.len() / 2]),
    ));
    drop(single);
    rows.push((
        "RSS after the order runs (database cache limit 16 MiB)".into(),
        format!("{} KiB", rss_kib(d.child.id())),
    ));
    let (sold, left, off) =
        oversell(&d, u32::try_from(clients * 2).unwrap_or(u32::MAX), clients).await;
    rows.push((
        "oversell check (stock - sold - left)".into(),
        format!("{off} (sold {sold}, left {left})"),
    ));

    // SSE fan-out.
    let want = if smoke { 200 } else { 10_000 };
    // One socket per stream on each side, each side its own process (the
    // daemon inherits this limit), and some to spare.
    let fit = fd_limit().saturating_sub(200);
    let n = want.min(fit);
    let f = fanout(&d, n, runs).await;
    let note = if n < want {
        format!(" (cut from {want}: raise ulimit -n)")
    } else {
        String::new()
    };
    rows.extend(fanout_rows(&f, n, &note));
    rows.push((
        format!("RSS with {n} streams"),
        format!("{} KiB", rss_kib(d.child.id())),
    ));
    let size = std::fs::metadata(binary()).map(|m| m.len()).unwrap_or(0);
    rows.push((
        "binary size (release, stripped)".into(),
        format!("{size} bytes"),
    ));

    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    println!("\n| {:width$} | result |", "measure");
    println!("|{}|--------|", "-".repeat(width + 2));
    for (k, v) in rows {
        println!("| {k:width$} | {v} |");
    }
}
