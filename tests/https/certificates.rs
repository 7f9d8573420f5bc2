//! The certificate the server presents, HSTS, the API over TLS, and the
//! listener's behaviour with slow clients and at shutdown.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use queueless::app;
use tokio::io::AsyncWriteExt;

use std::net::SocketAddr;

use crate::{cert_of, config, get, https, https_on, plain, write_pair};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_is_made_once_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_dir = dir.path().join("data/tls");
    let (cert_file, key_file) = (tls_dir.join("cert.pem"), tls_dir.join("key.pem"));

    let running = app::start(config(dir.path())).await.expect("starts");
    let first = (
        std::fs::read(&cert_file).expect("certificate kept in the data dir"),
        std::fs::read(&key_file).expect("key kept in the data dir"),
    );
    assert_eq!(mode(&key_file), 0o600, "the key is the owner's only");
    assert_eq!(mode(&tls_dir), 0o700, "and so is its directory");
    let kept = cert_of(&cert_file);
    let addr = running.https_addr.expect("https is on");
    // Trusting only the kept file: the handshake proves it is what is served,
    // and that it is valid for these names.
    for name in ["localhost", "127.0.0.1"] {
        let x = https(addr, name, std::slice::from_ref(&kept), &get("/", name))
            .await
            .unwrap_or_else(|e| panic!("the kept certificate is valid for {name}: {e}"));
        assert_eq!(x.cert, kept, "the kept certificate is the one served");
    }
    let x = https(addr, "localhost", &[kept], &get("/api/shops", "localhost"))
        .await
        .expect("exchange");
    assert_eq!(x.reply.status, 200);
    assert_eq!(
        x.reply.header("strict-transport-security"),
        None,
        "no HSTS with a self-signed certificate"
    );
    running.shutdown().await.expect("stops");

    let running = app::start(config(dir.path())).await.expect("starts again");
    let again = (
        std::fs::read(&cert_file).expect("still there"),
        std::fs::read(&key_file).expect("still there"),
    );
    assert!(again == first, "the pair is reused, not made anew");
    let kept = cert_of(&cert_file);
    let x = https(
        running.https_addr.expect("https"),
        "localhost",
        std::slice::from_ref(&kept),
        &get("/", "localhost"),
    )
    .await
    .expect("the same certificate is trusted after a restart");
    assert_eq!(x.cert, kept);
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_names_the_portal_host() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = config(dir.path());
    c.portal_host = Some("order.venue.example".into());
    let running = app::start(c).await.expect("starts");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));
    let addr = running.https_addr.expect("https");
    for name in ["order.venue.example", "localhost", "::1"] {
        https(addr, name, std::slice::from_ref(&kept), &get("/", "x"))
            .await
            .unwrap_or_else(|e| panic!("valid for {name}: {e}"));
    }
    let err = https(addr, "elsewhere.example", &[kept], &get("/", "x"))
        .await
        .expect_err("not valid for other names");
    assert!(err.to_string().contains("certificate"), "{err}");
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_certificate_is_served_with_hsts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (c, k) = write_pair(dir.path(), &["localhost"]);
    let mut cfg = config(dir.path());
    cfg.tls = Some((c.clone(), k));
    let running = app::start(cfg).await.expect("starts");
    let configured = cert_of(&c);
    let x = https(
        running.https_addr.expect("https"),
        "localhost",
        std::slice::from_ref(&configured),
        &get("/api/shops", "localhost"),
    )
    .await
    .expect("the configured certificate is trusted");
    assert_eq!(x.cert, configured, "the configured certificate is served");
    assert_eq!(x.reply.status, 200);
    assert_eq!(
        x.reply.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert!(
        !dir.path().join("data/tls").exists(),
        "no self-signed pair is made"
    );
    let redirect = plain(running.http_addr, &get("/", "localhost")).await;
    assert_eq!(redirect.status, 302);
    assert_eq!(
        redirect.header("strict-transport-security"),
        None,
        "HSTS only over HTTPS"
    );
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_api_answers_over_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = config(dir.path());
    cfg.demo = true;
    let running = app::start(cfg).await.expect("starts");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));
    let x = https(
        running.https_addr.expect("https"),
        "localhost",
        &[kept],
        &get("/api/shops", "localhost"),
    )
    .await
    .expect("exchange");
    assert_eq!(
        x.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "HTTP/1.1 is chosen over h2"
    );
    assert_eq!(x.reply.status, 200, "{}", x.reply.body);
    assert!(
        x.reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        x.reply
    );
    let shops: serde_json::Value = serde_json::from_str(&x.reply.body).expect("JSON body");
    let shops = shops.as_array().expect("a list of shops");
    assert!(
        shops.iter().any(|s| s["name"] == "Bubble Lab"),
        "the demo venue's shops: {shops:?}"
    );
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_does_not_hold_up_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let addr = running.https_addr.expect("https");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));
    // Clients that connect and never finish: silent, and half a ClientHello.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
    }
    let mut half = tokio::net::TcpStream::connect(addr).await.expect("connect");
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("partial hello");
    stalled.push(half);
    let started = Instant::now();
    let x = https(addr, "localhost", &[kept], &get("/api/shops", "localhost"))
        .await
        .expect("served beside the stalled clients");
    assert_eq!(x.reply.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "not queued behind them: {:?}",
        started.elapsed()
    );
    // A client that is not TLS at all gets nothing and holds nothing up.
    let junk = plain_text_on_tls(addr).await;
    assert!(junk.is_empty() || !junk.starts_with(b"HTTP/"), "{junk:?}");
    drop(stalled);
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_silent_connections_from_one_address_stops_nobody_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let addr = running.https_addr.expect("https");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));
    let from = |ip: [u8; 4]| {
        let s = tokio::net::TcpSocket::new_v4().expect("socket");
        s.bind(SocketAddr::from((ip, 0))).expect("bind on loopback");
        s
    };
    // One address opens 1,000 connections and never says a word.
    let mut silent = Vec::new();
    for _ in 0..1000 {
        match from([127, 0, 0, 1]).connect(addr).await {
            Ok(s) => silent.push(s),
            Err(e) => panic!("connect {} failed: {e}", silent.len()),
        }
    }
    // Another address is still served at once, again and again.
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let tcp = from([127, 0, 0, 2]).connect(addr).await.expect("connect");
        let x = https_on(
            tcp,
            "localhost",
            std::slice::from_ref(&kept),
            &get("/api/shops", "localhost"),
        )
        .await
        .expect("served beside the flood");
        assert_eq!(x.reply.status, 200);
        times.push(started.elapsed());
    }
    let slowest = times.iter().max().expect("five exchanges");
    eprintln!("exchanges beside 1,000 silent connections: {times:?}");
    assert!(
        *slowest < Duration::from_millis(100),
        "answered within 100 ms beside the flood: {times:?}"
    );
    drop(silent);
    running.shutdown().await.expect("stops");
}

/// Plain HTTP sent to the TLS port: what comes back before the close.
async fn plain_text_on_tls(addr: std::net::SocketAddr) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(get("/", "localhost").as_bytes())
        .await
        .expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_frees_the_https_port() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let addr = running.https_addr.expect("https");
    running.shutdown().await.expect("stops");
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(e) = std::net::TcpListener::bind(addr) {
        assert!(
            Instant::now() < deadline,
            "the HTTPS port stays taken after shutdown: {e}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
