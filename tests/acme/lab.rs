//! The parts the ACME tests run for real, all on loopback: BIND's `named`
//! (the zone `test.`, updatable with a TSIG key), Pebble (the ACME test CA,
//! resolving through that `named`, validating HTTP-01 on the daemon's
//! plain port), the `queueless` binary, and a TLS client that trusts only
//! what it is given.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The TSIG secret `named` accepts (base64 of 32 bytes).
pub const SECRET: &str = "cXVldWVsZXNzLWFjbWUtdGVzdC1rZXktMzItYnl0ZXM=";

/// Whether `tool` is installed; without it the test fails under CI and is
/// skipped elsewhere.
pub fn have(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing: install the Debian package {package} (listed in .ci/apt-packages)"
        );
        eprintln!("skipped: {tool} is missing (apt-get install {package})");
    }
    found
}

/// A free loopback port (TCP; the UDP one of the same number is free too
/// on a quiet test machine).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A child process with its output lines; killed when dropped.
pub struct Proc {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    what: String,
}

impl Proc {
    /// Starts `cmd`, collecting stdout and stderr.
    pub fn start(what: &str, mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what} starts: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        for stream in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err) as Box<dyn std::io::Read + Send>,
        ] {
            let lines = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().expect("log").push(line);
                }
            });
        }
        Proc {
            child,
            log,
            what: what.to_owned(),
        }
    }

    /// How many lines contain `needle` so far.
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until `n` lines contain `needle`; returns the last of them.
    pub fn wait_for(&mut self, needle: &str, n: usize, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let found: Vec<String> = self
                .log
                .lock()
                .expect("log")
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if let Some(status) = self.child.try_wait().expect("status") {
                panic!("{} exited ({status}):\n{}", self.what, self.text());
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {n} lines with {needle:?} within {limit:?}:\n{}",
                self.what,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything it printed.
    pub fn text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `named` serving `test.` on `port`: `portal.test` is 127.0.0.1, and the
/// key `queueless` may update the zone.
pub fn named(dir: &Path, port: u16) -> Proc {
    let d = dir.join("named");
    std::fs::create_dir_all(&d).expect("named dir");
    std::fs::write(
        d.join("test.zone"),
        "$TTL 60\n@ IN SOA ns.test. admin.test. 1 60 60 600 60\n@ IN NS ns.test.\n\
         ns IN A 127.0.0.1\nportal IN A 127.0.0.1\n",
    )
    .expect("zone");
    let conf = format!(
        "options {{ directory \"{d}\"; pid-file \"{d}/named.pid\"; session-keyfile \"{d}/session.key\"; listen-on port {port} {{ 127.0.0.1; }};\n\
         listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; allow-query {{ any; }}; }};\n\
         controls {{ }};\n\
         key \"queueless\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n\
         zone \"test\" {{ type primary; file \"{d}/test.zone\"; allow-update {{ key \"queueless\"; }}; }};\n",
        d = d.display()
    );
    std::fs::write(d.join("named.conf"), conf).expect("conf");
    let mut cmd = Command::new("named");
    cmd.arg("-g").arg("-c").arg(d.join("named.conf"));
    let mut p = Proc::start("named", cmd);
    p.wait_for("running", 1, Duration::from_secs(30));
    p
}

/// Pebble and where it listens.
pub struct Pebble {
    pub _proc: Proc,
    /// The ACME directory URL.
    pub directory: String,
    /// Pebble's own TLS certificate (PEM), to trust for its HTTPS.
    pub tls_cert: PathBuf,
    management: SocketAddr,
}

/// Pebble on loopback, validating HTTP-01 on `http_port`, resolving
/// through `dns_port`, issuing certificates valid `validity` seconds.
pub fn pebble(dir: &Path, http_port: u16, dns_port: u16, validity: u64) -> Pebble {
    let d = dir.join("pebble");
    std::fs::create_dir_all(&d).expect("pebble dir");
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("pebble's certificate");
    let tls_cert = d.join("cert.pem");
    std::fs::write(&tls_cert, ck.cert.pem()).expect("cert");
    std::fs::write(d.join("key.pem"), ck.signing_key.serialize_pem()).expect("key");
    let (acme, mgmt) = (free_port(), free_port());
    let config = serde_json::json!({"pebble": {
        "listenAddress": format!("127.0.0.1:{acme}"),
        "managementListenAddress": format!("127.0.0.1:{mgmt}"),
        "certificate": tls_cert,
        "privateKey": d.join("key.pem"),
        "httpPort": http_port,
        "tlsPort": free_port(),
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
        "certificateValidityPeriod": validity,
    }});
    std::fs::write(d.join("pebble.json"), config.to_string()).expect("config");
    let mut cmd = Command::new("pebble");
    cmd.arg("-config")
        .arg(d.join("pebble.json"))
        .arg("-dnsserver")
        .arg(format!("127.0.0.1:{dns_port}"))
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0");
    let mut proc = Proc::start("pebble", cmd);
    proc.wait_for("Listening on", 1, Duration::from_secs(30));
    Pebble {
        _proc: proc,
        directory: format!("https://127.0.0.1:{acme}/dir"),
        tls_cert,
        management: SocketAddr::from(([127, 0, 0, 1], mgmt)),
    }
}

impl Pebble {
    /// The root that Pebble's issued chains lead to, from its management
    /// interface (verified against Pebble's own TLS certificate).
    pub async fn root(&self) -> CertificateDer<'static> {
        let trust = CertificateDer::from_pem_file(&self.tls_cert).expect("pebble cert");
        let (_, body) = get(self.management, "127.0.0.1", &[trust], "/roots/0").await;
        CertificateDer::from_pem_slice(body.as_bytes()).expect("a PEM root")
    }
}

/// GET `path` over TLS at `addr` for `name`, trusting only `roots`:
/// the server's chain and the response's body.
pub async fn get(
    addr: SocketAddr,
    name: &str,
    roots: &[CertificateDer<'static>],
    path: &str,
) -> (Vec<CertificateDer<'static>>, String) {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let server = ServerName::try_from(name.to_owned()).expect("name");
    let mut tls = tokio::time::timeout(Duration::from_secs(10), connector.connect(server, tcp))
        .await
        .expect("handshake in time")
        .unwrap_or_else(|e| panic!("the certificate at {addr} verifies for {name}: {e}"));
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("a chain")
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.expect("request");
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (chain, body)
}

/// A plain HTTP GET with `Host: host`: the status line and headers.
pub async fn plain_head(addr: SocketAddr, host: &str, path: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("request");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    text.split_once("\r\n\r\n")
        .map_or(text.clone(), |(h, _)| h.to_owned())
}

/// `queueless` with only the environment the test gives.
pub fn queueless(config: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_queueless"));
    c.env_clear()
        .env("QUEUELESS_LOG", "info")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data);
    c
}
