//! ACME against Pebble, through the real binary: HTTP-01 on the daemon's
//! plain port and DNS-01 through TSIG-signed updates to BIND's `named`.
//! The daemon obtains a certificate, restarts its listeners so guests go
//! to HTTPS, serves it (verified by a client trusting only Pebble's root),
//! renews it at two thirds of its (short) life without a restart, and
//! `queueless check` reports it, or the last error.

mod lab;

use std::net::SocketAddr;
use std::time::Duration;

use lab::{Proc, free_port, have, queueless};
use queueless::acme::x509;

const LIMIT: Duration = Duration::from_secs(60);

fn ready() -> bool {
    have("pebble", "pebble") && have("named", "bind9") && have("dig", "bind9-dnsutils")
}

/// The daemon's config: both listeners on fixed loopback ports (they
/// stay the same across the in-place restart), `[acme]` from `acme`.
fn write_config(path: &std::path::Path, http: u16, https: u16, acme: &str) {
    std::fs::write(
        path,
        format!(
            "http = \"127.0.0.1:{http}\"\nhttps = \"127.0.0.1:{https}\"\n\
             portal_host = \"portal.test\"\n\n[acme]\n{acme}"
        ),
    )
    .expect("config");
}

fn serve(config: &std::path::Path, data: &std::path::Path) -> Proc {
    let mut cmd = queueless(config, data);
    cmd.arg("serve");
    Proc::start("queueless", cmd)
}

fn check(config: &std::path::Path, data: &std::path::Path) -> String {
    let out = queueless(config, data)
        .arg("check")
        .output()
        .expect("check runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The served leaf, verified against Pebble's root for `portal.test`.
async fn served_leaf(
    https: SocketAddr,
    root: &rustls_pki_types::CertificateDer<'static>,
) -> x509::CertInfo {
    let (chain, _) = lab::get(https, "portal.test", std::slice::from_ref(root), "/").await;
    x509::parse(&chain[0]).expect("the leaf parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_01_obtains_serves_renews_and_reports_the_certificate() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let (dns, http, https) = (free_port(), free_port(), free_port());
    let _named = lab::named(dir.path(), dns);
    // 24 s of life: renewal is due 16 s after issue.
    let pebble = lab::pebble(dir.path(), http, dns, 24);
    let config = dir.path().join("queueless.toml");
    write_config(
        &config,
        http,
        https,
        &format!(
            "challenge = \"http-01\"\ndirectory = \"{}\"\nca_bundle = \"{}\"\ncontact = \"ops@portal.test\"\n",
            pebble.directory,
            pebble.tls_cert.display()
        ),
    );
    let data = dir.path().join("data");
    let mut daemon = serve(&config, &data);
    daemon.wait_for("ACME: certificate obtained", 1, LIMIT);
    // The first certificate restarts the listeners: guests now go to HTTPS.
    daemon.wait_for("queueless serving", 2, LIMIT);
    assert!(
        daemon.count("answered the HTTP-01 challenge") >= 1,
        "{}",
        daemon.text()
    );
    let https_addr = SocketAddr::from(([127, 0, 0, 1], https));
    let root = pebble.root().await;
    let first = served_leaf(https_addr, &root).await;
    assert_eq!(first.names, ["portal.test"]);
    assert!(first.issuer.contains("Pebble"), "{first:?}");
    let head = lab::plain_head(SocketAddr::from(([127, 0, 0, 1], http)), "portal.test", "/").await;
    assert!(
        head.starts_with("HTTP/1.1 302")
            && head.contains(&format!("location: https://portal.test:{https}/")),
        "guests are sent to HTTPS once the certificate is trusted: {head}"
    );
    // Files are private.
    for f in ["cert.pem", "key.pem", "account.json", "state.json"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("acme").join(f))
            .expect(f)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    // Renewal at two thirds of the life, through the reload path.
    daemon.wait_for("ACME: certificate obtained", 2, LIMIT);
    daemon.wait_for("certificate reloaded", 1, LIMIT);
    let second = served_leaf(https_addr, &root).await;
    assert!(
        second.not_before > first.not_before,
        "{first:?} then {second:?}"
    );
    assert_eq!(
        daemon.count("queueless serving"),
        2,
        "renewal restarts nothing"
    );
    let report = check(&config, &data);
    eprintln!("queueless check after the renewal:\n{report}");
    assert!(
        report.contains("ACME http-01 for portal.test")
            && report.contains("ACME certificate from Pebble")
            && report.contains("for portal.test, valid until")
            && report.contains("last ACME certificate obtained"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_01_updates_the_zone_with_tsig_and_reports_a_refused_key() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let (dns, http, https) = (free_port(), free_port(), free_port());
    let _named = lab::named(dir.path(), dns);
    let pebble = lab::pebble(dir.path(), free_port(), dns, 3600);
    let secret = dir.path().join("tsig.key");
    // A wrong secret first: the server refuses, check says why.
    std::fs::write(&secret, "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=\n").expect("key");
    let config = dir.path().join("queueless.toml");
    write_config(
        &config,
        http,
        https,
        &format!(
            "challenge = \"dns-01\"\ndirectory = \"{}\"\nca_bundle = \"{}\"\n\
             dns_server = \"127.0.0.1:{dns}\"\ndns_zone = \"test\"\ntsig_key_name = \"queueless\"\n\
             tsig_secret_file = \"{}\"\n",
            pebble.directory,
            pebble.tls_cert.display(),
            secret.display()
        ),
    );
    let data = dir.path().join("data");
    let mut daemon = serve(&config, &data);
    let failed = daemon.wait_for("ACME: no certificate", 1, LIMIT);
    assert!(failed.contains("NOTAUTH"), "{failed}");
    let report = check(&config, &data);
    eprintln!("queueless check with a refused TSIG key:\n{report}");
    assert!(
        report.contains("no ACME certificate yet")
            && report.contains("last ACME attempt")
            && report.contains("NOTAUTH"),
        "{report}"
    );
    drop(daemon);
    // The right key, as `tsig-keygen` writes it.
    std::fs::write(
        &secret,
        format!(
            "key \"queueless\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{}\";\n}};\n",
            lab::SECRET
        ),
    )
    .expect("key");
    let mut daemon = serve(&config, &data);
    daemon.wait_for("ACME: DNS-01 record set", 1, LIMIT);
    daemon.wait_for("ACME: certificate obtained", 1, LIMIT);
    daemon.wait_for("queueless serving", 2, LIMIT);
    let root = pebble.root().await;
    let leaf = served_leaf(SocketAddr::from(([127, 0, 0, 1], https)), &root).await;
    assert_eq!(leaf.names, ["portal.test"]);
    // The challenge record is gone again.
    let dig = std::process::Command::new("dig")
        .args(["+short", "-p", &dns.to_string(), "@127.0.0.1"])
        .args(["_acme-challenge.portal.test", "TXT"])
        .output()
        .expect("dig runs");
    assert!(dig.status.success());
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "",
        "record removed"
    );
    let report = check(&config, &data);
    assert!(
        report.contains("ACME dns-01 for portal.test")
            && report.contains("ACME certificate from Pebble")
            && !report.contains("NOTAUTH"),
        "{report}"
    );
}
