//! Plain HTTP with HTTPS on. With the operator's certificate: `302` to the
//! HTTPS portal for every request, answered from memory; the `Host` header
//! is never reflected. With the self-signed one: guests stay on plain HTTP
//! and only staff paths go to HTTPS.

use std::path::Path;

use queueless::app;
use queueless::config::Config;

use crate::{config, get, plain, write_pair};

/// Settings with a configured certificate (one phones would trust).
fn trusted(dir: &Path) -> Config {
    let mut c = config(dir);
    let (cert, key) = write_pair(dir, &["localhost", "127.0.0.1"]);
    c.tls = Some((cert, key));
    c
}

/// A request with any method, path and `Host`.
fn request(method: &str, path: &str, host: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

fn assert_redirect(reply: &crate::Reply, want: &str, what: &str) {
    assert_eq!(reply.status, 302, "{what}: {reply:?}");
    assert_eq!(reply.header("location"), Some(want), "{what}");
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_redirects_every_request_to_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(trusted(dir.path())).await.expect("starts");
    let http = running.http_addr;
    let port = running.https_addr.expect("https").port();
    let own = format!("127.0.0.1:{}", http.port());
    for (method, path, host, want) in [
        ("GET", "/", own.as_str(), "/"),
        ("GET", "/shops/1?x=1&y=2", own.as_str(), "/shops/1?x=1&y=2"),
        ("HEAD", "/o/abc", own.as_str(), "/o/abc"),
        ("POST", "/api/orders", own.as_str(), "/api/orders"),
        ("DELETE", "/no/such/page", "127.0.0.1", "/no/such/page"),
        ("OPTIONS", "/api/shops", own.as_str(), "/api/shops"),
    ] {
        let reply = plain(http, &request(method, path, host)).await;
        let to = format!("https://127.0.0.1:{port}{want}");
        assert_redirect(&reply, &to, &format!("{method} {host}{path}"));
        if method == "HEAD" {
            assert_eq!(reply.body, "", "HEAD has no body");
        } else {
            assert!(
                reply
                    .body
                    .contains(&format!("<a href=\"{}\">", to.replace('&', "&amp;"))),
                "{method} {path}: a link in the body: {}",
                reply.body
            );
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8")
            );
        }
    }
    // The name the client used for us is kept, with the HTTPS port.
    let reply = plain(http, &get("/x", &format!("localhost:{}", http.port()))).await;
    assert_redirect(&reply, &format!("https://localhost:{port}/x"), "localhost");
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_and_malicious_hosts_are_never_reflected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(trusted(dir.path())).await.expect("starts");
    let http = running.http_addr;
    let front = format!(
        "https://127.0.0.1:{}/",
        running.https_addr.expect("https").port()
    );
    for (host, path) in [
        // Phones' connectivity probes: to the portal's front page.
        ("connectivitycheck.gstatic.com", "/generate_204"),
        ("captive.apple.com", "/hotspot-detect.html"),
        ("www.msftconnecttest.com", "/connecttest.txt"),
        ("evil.example", "/steal?next=/"),
        ("evil.example:8080", "/"),
        ("\"><script>alert(1)</script>", "/"),
        ("127.0.0.1@evil.example", "/x"),
        ("127.0.0.1:80/evil.example", "/x"),
        ("[127.0.0.1]", "/x"),
        ("evil.example%0d%0aSet-Cookie:x=1", "/x"),
        // Our own address with a path that would leave it.
        ("127.0.0.1", "//evil.example/"),
    ] {
        for method in ["GET", "HEAD"] {
            let reply = plain(http, &request(method, path, host)).await;
            assert_redirect(&reply, &front, &format!("{method} Host {host:?}"));
            let all = format!("{reply:?}").to_ascii_lowercase();
            assert!(!all.contains("evil"), "{host:?} reflected: {all}");
            assert!(!all.contains("<script"), "{host:?} reflected: {all}");
        }
    }
    // No Host at all (HTTP/1.0).
    let reply = plain(http, "GET /x HTTP/1.0\r\n\r\n").await;
    assert_redirect(&reply, &front, "no Host");
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_host_is_the_redirect_target() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = trusted(dir.path());
    c.portal_host = Some("order.venue.example".into());
    let running = app::start(c).await.expect("starts");
    let http = running.http_addr;
    let portal = format!(
        "https://order.venue.example:{}",
        running.https_addr.expect("https").port()
    );
    for (host, path, want) in [
        ("order.venue.example", "/o/abc", "/o/abc"),
        ("ORDER.venue.example:80", "/shops/2", "/shops/2"),
        ("127.0.0.1", "/o/abc", "/o/abc"),
        ("captive.apple.com", "/hotspot-detect.html", "/"),
        ("evil.example", "/o/abc", "/"),
    ] {
        let reply = plain(http, &get(path, host)).await;
        assert_redirect(&reply, &format!("{portal}{want}"), host);
    }
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_self_signed_certificate_guests_stay_on_plain_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let http = running.http_addr;
    let port = running.https_addr.expect("https").port();
    let own = format!("127.0.0.1:{}", http.port());
    // A probe: to the portal's front page over plain HTTP.
    let reply = plain(http, &get("/generate_204", "connectivitycheck.gstatic.com")).await;
    assert_redirect(&reply, &format!("http://{own}/"), "probe");
    // A guest's page is served here; its cookie loses Secure.
    let reply = plain(http, &get("/", &own)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let cookie = reply.header("set-cookie").expect("a cookie");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_eq!(reply.header("strict-transport-security"), None);
    let reply = plain(http, &get("/api/shops", &own)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Staff pages stay on HTTPS.
    for path in [
        "/staff/login",
        "/shop",
        "/admin",
        "/api/auth/me",
        "/api/shop/orders",
    ] {
        let reply = plain(http, &get(path, &own)).await;
        assert_redirect(&reply, &format!("https://127.0.0.1:{port}{path}"), path);
    }
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_https_plain_http_serves_the_full_router() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = config(dir.path());
    c.https = None;
    c.secure_cookies = false;
    let running = app::start(c).await.expect("starts");
    assert_eq!(running.https_addr, None);
    let reply = plain(running.http_addr, &get("/api/shops", "127.0.0.1")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "[]");
    assert!(
        !dir.path().join("data/tls").exists(),
        "no certificate without HTTPS"
    );
    running.shutdown().await.expect("stops");
}
