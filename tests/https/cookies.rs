//! Cookies over HTTPS travel as `__Host-` cookies, which nobody on the open
//! Wi-Fi can plant through a plain-HTTP answer; plain-named ones are
//! ignored there.

use queueless::app;

use crate::{cert_of, config, get, https};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_over_https_are_host_prefixed_and_planted_ones_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = config(dir.path());
    cfg.demo = true;
    let running = app::start(cfg).await.expect("starts");
    let addr = running.https_addr.expect("https");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));

    let first = https(
        addr,
        "localhost",
        std::slice::from_ref(&kept),
        &get("/", "localhost"),
    )
    .await
    .expect("exchange");
    assert_eq!(first.reply.status, 200);
    let set = first.reply.header("set-cookie").expect("a device cookie");
    assert!(set.starts_with("__Host-ql_device="), "{set}");
    for flag in ["; Secure", "; Path=/", "; HttpOnly"] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let value = set
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("value");

    // The issued cookie is kept: no new one.
    let with = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nCookie: __Host-ql_device={value}\r\nConnection: close\r\n\r\n"
    );
    let again = https(addr, "localhost", std::slice::from_ref(&kept), &with)
        .await
        .expect("exchange");
    assert_eq!(again.reply.status, 200);
    assert_eq!(
        again.reply.header("set-cookie"),
        None,
        "the device is known"
    );

    // The same value under the plain name (as a cookie planted over HTTP
    // would arrive) is not taken: a new device is issued.
    let planted = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nCookie: ql_device={value}\r\nConnection: close\r\n\r\n"
    );
    let x = https(addr, "localhost", &[kept], &planted)
        .await
        .expect("exchange");
    let set = x.reply.header("set-cookie").expect("a new device cookie");
    assert!(set.starts_with("__Host-ql_device="), "{set}");
    assert!(!set.contains(&value), "a new id, not the planted one");
    running.shutdown().await.expect("stops");
}
