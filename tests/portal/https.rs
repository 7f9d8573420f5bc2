//! HTTPS: the self-signed certificate is made once and reused, a configured
//! one is served (with HSTS), SIGHUP picks up replaced files, and plain
//! HTTP redirects to the HTTPS portal.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use queueless::app;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts any certificate and remembers the one it was shown.
#[derive(Debug, Default)]
struct Recorder(Mutex<Option<Vec<u8>>>);

impl rustls::client::danger::ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.0.lock().expect("lock") = Some(end_entity.to_vec());
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One HTTPS GET: the certificate shown and the raw response.
async fn get(addr: SocketAddr, path: &str) -> (Vec<u8>, String) {
    let recorder = Arc::new(Recorder::default());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .dangerous()
    .with_custom_certificate_verifier(recorder.clone())
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake");
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("request");
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await.expect("response");
    let cert = recorder
        .0
        .lock()
        .expect("lock")
        .clone()
        .expect("a certificate");
    (cert, String::from_utf8_lossy(&out).into_owned())
}

fn der_of(pem: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(pem).expect("pem").to_vec()
}

fn config(dir: &Path) -> queueless::config::Config {
    let mut c = queueless::config::defaults();
    c.data_dir = dir.join("data");
    c.http = SocketAddr::from(([127, 0, 0, 1], 0));
    c.https = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    c.demo = true;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_is_made_once_and_reused() {
    let dir = tempfile::tempdir().expect("dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let cert_file = dir.path().join("data/tls/cert.pem");
    let first = std::fs::read(&cert_file).expect("certificate kept in the data dir");
    let (shown, response) = get(running.https_addr.expect("https"), "/api/shops").await;
    assert_eq!(
        shown,
        der_of(&cert_file),
        "the kept certificate is the one served"
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Bubble Lab"));
    assert!(
        !response
            .to_ascii_lowercase()
            .contains("strict-transport-security"),
        "no HSTS with a self-signed certificate"
    );
    running.shutdown().await.expect("stops");

    let running = app::start(config(dir.path())).await.expect("starts again");
    assert_eq!(
        std::fs::read(&cert_file).expect("still there"),
        first,
        "not made anew"
    );
    let (shown, _) = get(running.https_addr.expect("https"), "/").await;
    assert_eq!(shown, der_of(&cert_file));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("data/tls/key.pem"))
            .expect("key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the key is the owner's only");
    running.shutdown().await.expect("stops");
}

fn write_pair(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("cert");
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, ck.cert.pem()).expect("cert");
    std::fs::write(&k, ck.signing_key.serialize_pem()).expect("key");
    (c, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_certificate_is_served_with_hsts() {
    let dir = tempfile::tempdir().expect("dir");
    let (c, k) = write_pair(dir.path(), "portal.example");
    let mut cfg = config(dir.path());
    cfg.tls = Some((c.clone(), k));
    let running = app::start(cfg).await.expect("starts");
    let (shown, response) = get(running.https_addr.expect("https"), "/").await;
    assert_eq!(shown, der_of(&c));
    assert!(
        response
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{response}"
    );
    assert!(
        !dir.path().join("data/tls/cert.pem").exists(),
        "no self-signed pair made"
    );
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_redirects_to_the_portal() {
    let dir = tempfile::tempdir().expect("dir");
    let running = app::start(config(dir.path())).await.expect("starts");
    let https = running.https_addr.expect("https").port();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("http://{}", running.http_addr);
    for (method, host, path, want) in [
        (
            "GET",
            "connectivitycheck.gstatic.com",
            "/generate_204",
            "/".to_owned(),
        ),
        (
            "HEAD",
            "captive.apple.com",
            "/hotspot-detect.html",
            "/".to_owned(),
        ),
        (
            "GET",
            "127.0.0.1",
            "/shops/1?x=1",
            "/shops/1?x=1".to_owned(),
        ),
        ("POST", "evil.example\r\nX: y", "/", "/".to_owned()),
        ("GET", "127.0.0.1", "//evil.example/", "/".to_owned()),
    ] {
        let r = client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("m"),
                format!("{base}{path}"),
            )
            .header("host", host.split("\r\n").next().expect("host"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 302, "{method} {host}{path}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(
            r.headers()["location"].to_str().expect("ascii"),
            format!("https://127.0.0.1:{https}{want}"),
            "{method} {host}{path}"
        );
    }
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_picks_up_a_replaced_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let (c, k) = write_pair(dir.path(), "old.example");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let http = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_queueless"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args([
            "serve",
            "--http",
            &format!("127.0.0.1:{http}"),
            "--https",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
        ])
        .arg(&c)
        .arg("--tls-key")
        .arg(&k)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(15);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "daemon did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (old, _) = get(addr, "/").await;
    assert_eq!(old, der_of(&c));
    write_pair(dir.path(), "new.example");
    let new = der_of(&c);
    assert_ne!(old, new);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (shown, _) = get(addr, "/").await;
        if shown == new {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A broken file keeps the good pair in service.
    std::fs::write(&c, "not a certificate").expect("break");
    std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (shown, _) = get(addr, "/").await;
    assert_eq!(shown, new);
    let _ = child.kill();
    let _ = child.wait();
}
