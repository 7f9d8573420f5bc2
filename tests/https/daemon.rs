//! The real binary as a child process: SIGHUP reloads the certificate
//! files (a broken file keeps the good pair), SIGHUP without HTTPS does not
//! stop the daemon, half-sent requests do not hold up a stop, and half a
//! certificate pair is refused at start.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{cert_of, get, https, plain, write_pair};

/// A `queueless serve` child with its log lines.
struct Daemon {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    http: SocketAddr,
    https: Option<SocketAddr>,
}

fn queueless(data: &Path) -> Command {
    let mut c = Command::new(crate::common::binary());
    // Only what the test gives: no QUEUELESS_* or NOTIFY_SOCKET from outside.
    c.env_clear()
        .env("QUEUELESS_LOG", "info")
        .arg("--data-dir")
        .arg(data);
    c
}

impl Daemon {
    /// Starts `serve` with `args` on ports the kernel picks, and waits for
    /// its "serving" line to learn them.
    fn start(data: &Path, args: &[&std::ffi::OsStr]) -> Daemon {
        let mut child = queueless(data)
            .arg("serve")
            .args(["--http", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the daemon starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        // Keeps draining stderr so the daemon never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().expect("log lock").push(line);
            }
        });
        let mut d = Daemon {
            child,
            log,
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
            https: None,
        };
        let serving = d.wait_for_log("queueless serving");
        let field = |name: &str| {
            serving
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        d.http = field("http=")
            .and_then(|a| a.parse().ok())
            .expect("the HTTP address in the log");
        d.https = field("https=").and_then(|a| a.parse().ok());
        d
    }

    /// The first log line containing `needle`, waiting for it.
    fn wait_for_log(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self
                .log
                .lock()
                .expect("log lock")
                .iter()
                .find(|l| l.contains(needle))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("the daemon exited ({status}): {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// Sends `signal` (like `HUP`) to this child only.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            assert!(Instant::now() < deadline, "the daemon does not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // After a failed assertion: never leave the child running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_serves_replaced_certificate_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (c, k) = write_pair(dir.path(), &["localhost"]);
    let mut daemon = Daemon::start(
        &dir.path().join("data"),
        &[
            "--https".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--tls-cert".as_ref(),
            c.as_os_str(),
            "--tls-key".as_ref(),
            k.as_os_str(),
        ],
    );
    let addr = daemon.https.expect("https in the log");
    let old = cert_of(&c);
    let x = https(
        addr,
        "localhost",
        std::slice::from_ref(&old),
        &get("/", "l"),
    )
    .await
    .expect("the configured certificate is served");
    assert_eq!(x.cert, old);

    write_pair(dir.path(), &["localhost"]);
    let new = cert_of(&c);
    assert_ne!(old, new);
    // Until the signal the old pair stays: replacing files changes nothing.
    let x = https(
        addr,
        "localhost",
        &[old.clone(), new.clone()],
        &get("/", "l"),
    )
    .await
    .expect("exchange");
    assert_eq!(x.cert, old, "no reload without SIGHUP");
    daemon.signal("HUP");
    daemon.wait_for_log("certificate reloaded");
    let x = https(
        addr,
        "localhost",
        std::slice::from_ref(&new),
        &get("/", "l"),
    )
    .await
    .expect("new connections get the new certificate");
    assert_eq!(x.cert, new);
    assert_eq!(x.reply.status, 200);

    // A broken file: an error in the log, and the good pair stays in service.
    std::fs::write(&c, "not a certificate").expect("break the file");
    daemon.signal("HUP");
    daemon.wait_for_log("certificate reload failed");
    let x = https(
        addr,
        "localhost",
        std::slice::from_ref(&new),
        &get("/", "l"),
    )
    .await
    .expect("still served");
    assert_eq!(x.cert, new);
    assert!(daemon.stop().success(), "a clean exit on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_without_https_keeps_the_daemon_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut daemon = Daemon::start(&dir.path().join("data"), &[]);
    assert_eq!(daemon.https, None);
    daemon.signal("HUP");
    daemon.wait_for_log("nothing to reload");
    let reply = plain(daemon.http, &get("/api/shops", "127.0.0.1")).await;
    assert_eq!(reply.status, 200, "still serving after SIGHUP");
    assert!(daemon.stop().success(), "a clean exit on SIGTERM");
}

/// A client that sent half a request, or never began its TLS handshake,
/// does not hold up a stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_do_not_hold_up_a_stop() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = Daemon::start(
        &dir.path().join("data"),
        &["--https".as_ref(), "127.0.0.1:0".as_ref()],
    );
    let mut redirect = tokio::net::TcpStream::connect(daemon.http)
        .await
        .expect("redirect port");
    redirect
        .write_all(b"GET /generate_204 HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a request");
    let _silent = tokio::net::TcpStream::connect(daemon.https.expect("https"))
        .await
        .expect("https port");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    assert!(daemon.stop().success(), "a clean exit on SIGTERM");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "stopped within the grace time: {:?}",
        started.elapsed()
    );
}

#[test]
fn half_a_certificate_pair_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let out = queueless(&data)
        .args(["serve", "--https", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .env("QUEUELESS_TLS_CERT", dir.path().join("cert.pem"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tls_cert and tls_key go together"),
        "a clear error: {err}"
    );
    let out = queueless(&data)
        .args(["serve", "--https", "127.0.0.1:0", "--tls-cert", "c.pem"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key"), "the flag is named: {err}");
    assert!(!data.exists(), "nothing started");
}
