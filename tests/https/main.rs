//! HTTPS through the real server on `127.0.0.1:0` over a temp dir: the
//! certificate (self-signed and kept, or configured), HSTS, the JSON API
//! over TLS, the plain-HTTP redirect, and — through the real binary —
//! SIGHUP reloads and config errors.
//!
//! The TLS client trusts exactly the certificate a test expects (a root
//! store holding only it), so a handshake that succeeds also proves the
//! certificate is valid for the name asked for.

mod certificates;
#[path = "../common/mod.rs"]
#[expect(dead_code, reason = "each suite uses part of the shared support")]
mod common;
mod cookies;
mod daemon;
mod redirect;
mod streams;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use queueless::config::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// No single exchange in these tests takes longer.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// Settings for a server on loopback, both listeners on port 0.
pub fn config(dir: &Path) -> Config {
    let mut c = common::loopback_config(dir);
    c.https = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    c.secure_cookies = true;
    c
}

/// The first certificate of a PEM file.
pub fn cert_of(pem: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(pem).expect("a PEM certificate")
}

/// Writes a fresh certificate for `names` and its key as `cert.pem` and
/// `key.pem` in `dir` (replacing what is there).
pub fn write_pair(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let ck = rcgen::generate_simple_self_signed(names).expect("certificate");
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&k, ck.signing_key.serialize_pem()).expect("key written");
    std::fs::write(&c, ck.cert.pem()).expect("certificate written");
    (c, k)
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Reply {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// A header's value (the name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A GET request that closes the connection after the answer.
pub fn get(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// A client that trusts exactly `trusted` and offers h2 and http/1.1.
fn client(trusted: &[CertificateDer<'static>]) -> tokio_rustls::TlsConnector {
    client_for(trusted, rustls::DEFAULT_VERSIONS)
}

/// The same, speaking only the TLS `versions` given.
pub fn client_for(
    trusted: &[CertificateDer<'static>],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in trusted {
        roots.add(c.clone()).expect("usable as a trust anchor");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// What one HTTPS exchange showed.
#[derive(Debug)]
pub struct Exchange {
    /// The certificate the server presented.
    pub cert: CertificateDer<'static>,
    /// The protocol agreed by ALPN.
    pub alpn: Option<Vec<u8>>,
    pub reply: Reply,
}

/// Connects to `addr` as `name` trusting only `trusted`, sends `request`,
/// reads the answer. Err when the handshake fails (an untrusted
/// certificate, or one not valid for `name`).
pub async fn https(
    addr: SocketAddr,
    name: &str,
    trusted: &[CertificateDer<'static>],
    request: &str,
) -> std::io::Result<Exchange> {
    let tcp = tokio::time::timeout(IO_LIMIT, tokio::net::TcpStream::connect(addr))
        .await
        .expect("connects in time")?;
    https_on(tcp, name, trusted, request).await
}

/// [`https`] over a connection already made (from a chosen address).
pub async fn https_on(
    tcp: tokio::net::TcpStream,
    name: &str,
    trusted: &[CertificateDer<'static>],
    request: &str,
) -> std::io::Result<Exchange> {
    let exchange = async {
        let name = ServerName::try_from(name.to_owned()).expect("a server name");
        let mut tls = client(trusted).connect(name, tcp).await?;
        let (_, session) = tls.get_ref();
        let cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .expect("the server presents a certificate")
            .clone()
            .into_owned();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        tls.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        tls.read_to_end(&mut raw).await?;
        Ok(Exchange {
            cert,
            alpn,
            reply: Reply::parse(&raw),
        })
    };
    tokio::time::timeout(IO_LIMIT, exchange)
        .await
        .expect("the HTTPS exchange finishes in time")
}

/// Sends raw bytes over plain TCP and reads the answer until the server
/// closes.
pub async fn plain(addr: SocketAddr, request: &str) -> Reply {
    let exchange = async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await?;
        std::io::Result::Ok(raw)
    };
    let raw = tokio::time::timeout(IO_LIMIT, exchange)
        .await
        .expect("the HTTP exchange finishes in time")
        .expect("HTTP exchange");
    Reply::parse(&raw)
}
