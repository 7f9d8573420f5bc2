//! OpenWrt's procd, told when the first ACME certificate is in service.
//! The init script announces DHCP option 114 only once phones can trust
//! the portal's certificate, so it must run again after the first
//! issuance. It asks for that itself: it names a procd event in
//! `QUEUELESS_PROCD_EVENT` and registers a trigger that reloads the
//! service on that event; this module sends the event
//! (`ubus call service event`), nothing more. Without the variable
//! (systemd, a shell) nothing is sent. A failure is logged, never fatal:
//! the next reload (any UCI change, a reboot) announces the option anyway.

use std::ffi::OsString;
use std::time::Duration;

/// The variable the OpenWrt init script sets for the daemon.
pub const VARIABLE: &str = "QUEUELESS_PROCD_EVENT";

/// How long `ubus` may wait for procd.
const UBUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the event goes: the `ubus` command and the event's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procd {
    /// The program and its leading arguments (`ubus`; a script in tests).
    command: Vec<OsString>,
    /// The event's type, as the init script's trigger names it.
    event: String,
}

/// The event type named by the variable's value: `None` when unset; an
/// error (the fix named) for a value procd's trigger could not match.
pub fn event_type(value: Option<OsString>) -> Result<Option<String>, String> {
    let Some(value) = value else { return Ok(None) };
    let text = value
        .into_string()
        .map_err(|v| format!("{VARIABLE} {v:?} is not UTF-8"))?;
    let fine = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if fine {
        Ok(Some(text))
    } else {
        Err(format!(
            "{VARIABLE} {text:?} is no procd event type (letters, digits, '.', '_', '-')"
        ))
    }
}

impl Procd {
    /// From `QUEUELESS_PROCD_EVENT`, when the init script set it.
    pub fn from_env() -> Option<Procd> {
        match event_type(std::env::var_os(VARIABLE)) {
            Ok(event) => event.map(|event| Procd {
                command: vec!["ubus".into()],
                event,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "procd will not be told about the certificate");
                None
            }
        }
    }

    /// `ubus`'s arguments: the event with the certificate's name as data
    /// (procd refuses an event without `data`).
    fn args(&self, name: &str) -> Vec<OsString> {
        let message = serde_json::json!({ "type": self.event, "data": { "name": name } });
        [
            "-t",
            &UBUS_TIMEOUT.as_secs().to_string(),
            "call",
            "service",
            "event",
            &message.to_string(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect()
    }

    /// Sends the event; the error says what `ubus` said.
    pub async fn send(&self, name: &str) -> Result<(), String> {
        let mut command = self.command.iter();
        let program = command.next().cloned().unwrap_or_else(|| "ubus".into());
        let args: Vec<OsString> = command.cloned().chain(self.args(name)).collect();
        let shown = program.to_string_lossy().into_owned();
        // `ubus -t` bounds the wait; the blocking pool keeps it off the runtime.
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::null())
                .output()
        })
        .await
        .map_err(|e| format!("running {shown}: {e}"))?
        .map_err(|e| format!("running {shown}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{shown} {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

/// After the listeners restarted with the first certificate: tells procd
/// when running under OpenWrt's init script, and logs the outcome.
pub async fn first_certificate(name: String) {
    let Some(procd) = Procd::from_env() else {
        return;
    };
    match procd.send(&name).await {
        Ok(()) => tracing::info!(
            event = %procd.event,
            "ACME: told procd; the init script now announces the captive-portal API (DHCP option 114)"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "ACME: procd not told; DHCP option 114 follows at the next `/etc/init.d/queueless reload`"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::{Procd, event_type};

    const EVENT: &str = "queueless.certificate";

    #[test]
    fn the_variable_names_an_event_procd_can_match() {
        assert_eq!(event_type(None), Ok(None), "unset: not under procd");
        assert_eq!(event_type(Some(EVENT.into())), Ok(Some(EVENT.to_owned())));
        for bad in ["", "queueless certificate", "a\"b", "x*"] {
            let err = event_type(Some(bad.into())).expect_err(bad);
            assert!(err.contains("QUEUELESS_PROCD_EVENT"), "{err}");
        }
        use std::os::unix::ffi::OsStringExt;
        let err = event_type(Some(OsString::from_vec(vec![0xff]))).expect_err("not UTF-8");
        assert!(err.contains("UTF-8"), "{err}");
    }

    /// A stand-in for `ubus`: a script run by `sh` (not executed itself,
    /// so no "text file busy" while tests fork), recording its arguments.
    fn fake_ubus(dir: &std::path::Path, body: &str) -> Procd {
        let script = dir.join("ubus.sh");
        std::fs::write(&script, body).expect("script");
        Procd {
            command: vec!["sh".into(), script.into()],
            event: EVENT.to_owned(),
        }
    }

    #[tokio::test]
    async fn sends_the_event_procd_expects() {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("args");
        let procd = fake_ubus(
            dir.path(),
            &format!(
                "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\n",
                log.display()
            ),
        );
        procd.send("portal.example.com").await.expect("sent");
        let text = std::fs::read_to_string(&log).expect("args");
        let args: Vec<&str> = text.lines().collect();
        assert_eq!(args[..5], ["-t", "10", "call", "service", "event"]);
        let message: serde_json::Value = serde_json::from_str(args[5]).expect("JSON");
        assert_eq!(
            message,
            serde_json::json!({ "type": EVENT, "data": { "name": "portal.example.com" } })
        );
        assert_eq!(args.len(), 6);
    }

    #[tokio::test]
    async fn a_failing_ubus_is_an_error_with_its_words() {
        let dir = tempfile::tempdir().expect("dir");
        let procd = fake_ubus(dir.path(), "echo 'Command failed: Not found' >&2\nexit 4\n");
        let err = procd.send("portal.example.com").await.expect_err("fails");
        assert!(err.contains("Not found"), "{err}");
        let missing = Procd {
            command: vec!["/nonexistent/ubus".into()],
            event: EVENT.to_owned(),
        };
        let err = missing.send("p.example.com").await.expect_err("no ubus");
        assert!(err.contains("/nonexistent/ubus"), "{err}");
    }
}
