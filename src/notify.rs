//! systemd readiness (`Type=notify`) without libsystemd: one datagram,
//! `READY=1`, to the socket systemd names in `NOTIFY_SOCKET`. Does nothing
//! when not started by systemd.

use std::os::unix::net::UnixDatagram;

/// Tells systemd the daemon is serving; returns whether a message was sent.
pub fn ready() -> bool {
    send("READY=1\nSTATUS=serving")
}

/// Tells systemd the daemon is reloading or stopping.
pub fn status(text: &str) -> bool {
    send(&format!("STATUS={text}"))
}

fn send(msg: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let path = path.to_string_lossy().into_owned();
    // An abstract socket is written with a leading '@'.
    if let Some(name) = path.strip_prefix('@') {
        return send_abstract(name, msg);
    }
    UnixDatagram::unbound()
        .and_then(|s| s.send_to(msg.as_bytes(), &path))
        .map_err(|e| tracing::warn!(error = %e, "cannot notify systemd"))
        .is_ok()
}

fn send_abstract(name: &str, msg: &str) -> bool {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .and_then(|addr| UnixDatagram::unbound()?.send_to_addr(msg.as_bytes(), &addr))
        .map_err(|e| tracing::warn!(error = %e, "cannot notify systemd"))
        .is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ready_reaches_the_notify_socket() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notify");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        // A child process gets NOTIFY_SOCKET, so no other test sees it.
        let got = {
            let status = std::process::Command::new(std::env::current_exe().expect("exe"))
                .args(["--exact", "notify::tests::child_sends_ready", "--nocapture"])
                .env("NOTIFY_SOCKET", &path)
                .env("QUEUELESS_NOTIFY_CHILD", "1")
                .status()
                .expect("child runs");
            assert!(status.success());
            let mut buf = [0u8; 128];
            let n = sock.recv(&mut buf).expect("message");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert!(got.starts_with("READY=1"), "{got}");
    }

    #[test]
    fn child_sends_ready() {
        if std::env::var_os("QUEUELESS_NOTIFY_CHILD").is_some() {
            assert!(super::ready());
        }
    }
}
