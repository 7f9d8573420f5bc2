//! ACME (RFC 8555): the portal's certificate from a CA, for `portal_host`.
//! Everything lives in `<data_dir>/acme/` (0700; files 0600): the account,
//! `cert.pem` and `key.pem`, and `state.json` with the last attempt and
//! its error, which `queueless check` reports.
//!
//! [`maintain`] runs beside the server: it orders a certificate when there
//! is none (or it is for another name), renews at two thirds of its life,
//! retries failures with backoff (1 minute doubling to 6 hours), and puts
//! a new certificate in service through [`Tls::reload`] (the SIGHUP path).
//! The first certificate changes what guests are sent to (HTTPS, HSTS):
//! then it asks the daemon to restart its listeners in place, and [`procd`]
//! tells OpenWrt's init script, which then announces DHCP option 114.

#[cfg(feature = "acme")]
pub mod client;
pub mod dns;
#[cfg(feature = "acme")]
pub mod issue;
pub mod procd;
pub mod settings;
pub mod x509;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::config::Config;
use crate::tls::Tls;
use settings::{AcmeSettings, Challenge};

const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";
const FIRST_RETRY: Duration = Duration::from_secs(60);
const LAST_RETRY: Duration = Duration::from_secs(6 * 3600);
/// The longest single wait: the clock may jump (routers boot in 1970).
const LONGEST_SLEEP: Duration = Duration::from_secs(3600);
/// One order may take no longer.
const ORDER_LIMIT: Duration = Duration::from_secs(600);

/// HTTP-01 answers being offered: token → key authorization.
#[derive(Clone, Debug, Default)]
pub struct Challenges(Arc<RwLock<HashMap<String, String>>>);

impl Challenges {
    #[cfg(feature = "acme")]
    fn insert(&self, token: String, answer: String) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, answer);
    }

    #[cfg(feature = "acme")]
    fn remove(&self, token: &str) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    fn get(&self, token: &str) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }
}

/// Middleware for the plain HTTP listener: answers
/// `/.well-known/acme-challenge/<token>` before anything else (redirects,
/// the guest guard) sees the request.
pub async fn answer(State(challenges): State<Challenges>, req: Request, next: Next) -> Response {
    let Some(token) = req.uri().path().strip_prefix(CHALLENGE_PREFIX) else {
        return next.run(req).await;
    };
    match challenges.get(token) {
        Some(answer) => {
            tracing::info!(%token, "ACME: answered the HTTP-01 challenge");
            ([(axum::http::header::CONTENT_TYPE, "text/plain")], answer).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// `<data_dir>/acme`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("acme")
}

/// The certificate and key files.
pub fn files(data_dir: &Path) -> (PathBuf, PathBuf) {
    let d = dir(data_dir);
    (d.join("cert.pem"), d.join("key.pem"))
}

/// The kept certificate's facts, if there is one for `name`.
fn current(data_dir: &Path, name: &str) -> Option<x509::CertInfo> {
    x509::read_pem(&files(data_dir).0).filter(|i| i.names.iter().any(|n| n == name))
}

/// The ACME pair to serve, when ACME is on and a certificate for the
/// portal's name that has not expired is kept.
pub fn usable(config: &Config) -> Option<(PathBuf, PathBuf)> {
    let a = config.acme.as_ref()?;
    let info = current(&config.data_dir, &a.name)?;
    (info.not_after > SystemTime::now()).then(|| files(&config.data_dir))
}

/// Writes `bytes` to `path` (0600) through a temporary file renamed into
/// place, synced: a router losing power keeps the old file or the new one.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let tmp = path.with_extension("partial");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.sync_all()
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The last attempt, kept for `queueless check`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attempts {
    /// Seconds since 1970 of the last attempt.
    pub last_attempt: u64,
    /// Its error, if it failed.
    pub last_error: Option<String>,
    /// Seconds since 1970 of the last certificate obtained.
    pub last_success: Option<u64>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn when(secs: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

impl Attempts {
    fn read(data_dir: &Path) -> Attempts {
        std::fs::read_to_string(dir(data_dir).join("state.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn write(&self, data_dir: &Path) {
        let path = dir(data_dir).join("state.json");
        let text = serde_json::to_vec(self).unwrap_or_default();
        if let Err(e) = write_private(&path, &text) {
            tracing::warn!(error = %format!("{e:#}"), "ACME: cannot record the attempt");
        }
    }
}

fn create_dir(data_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let d = dir(data_dir);
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", d.display()))
}

/// A new certificate chain and its key, both PEM.
#[derive(Debug)]
pub struct Issued {
    /// The chain, leaf first.
    pub chain: String,
    /// The leaf's private key.
    pub key: String,
}

#[cfg(feature = "acme")]
async fn order(s: &AcmeSettings, dir: &Path, challenges: &Challenges) -> anyhow::Result<Issued> {
    issue::order(s, dir, challenges).await
}

/// Built without the `acme` feature, settings with `[acme]` are refused,
/// so this never runs.
#[cfg(not(feature = "acme"))]
async fn order(_: &AcmeSettings, _: &Path, _: &Challenges) -> anyhow::Result<Issued> {
    anyhow::bail!("this queueless was built without ACME")
}

/// What [`maintain`] works with.
#[derive(Debug, Clone)]
pub struct Maintainer {
    /// The `[acme]` settings.
    pub settings: AcmeSettings,
    /// The data directory.
    pub data_dir: PathBuf,
    /// HTTP-01 answers, read by the plain listener.
    pub challenges: Challenges,
    /// The HTTPS certificate in service.
    pub tls: Arc<Tls>,
    /// Told when the first certificate is in place and the listeners must
    /// start again to send guests to HTTPS.
    pub restart: Arc<Notify>,
}

/// Keeps a valid certificate in service, forever.
pub async fn maintain(m: Maintainer) {
    let s = &m.settings;
    if let Err(e) = create_dir(&m.data_dir) {
        tracing::error!(error = %format!("{e:#}"), "ACME: cannot keep its files; no certificate will be ordered");
        return;
    }
    if s.challenge == Challenge::Http01 {
        tracing::info!(name = %s.name, "ACME: HTTP-01 needs http://{}/.well-known/acme-challenge/ to reach this daemon's plain listener on port 80", s.name);
    }
    let mut retry = FIRST_RETRY;
    loop {
        let now = SystemTime::now();
        if let Some(info) = current(&m.data_dir, &s.name) {
            let due = info.renew_at();
            if due > now {
                let wait = due.duration_since(now).unwrap_or_default();
                tracing::info!(
                    name = %s.name,
                    issuer = %info.issuer,
                    expires = %httpdate::fmt_http_date(info.not_after),
                    renewal = %httpdate::fmt_http_date(due),
                    "ACME: certificate valid"
                );
                tokio::time::sleep(wait.min(LONGEST_SLEEP)).await;
                continue;
            }
        }
        tracing::info!(name = %s.name, directory = %s.directory, challenge = s.challenge_name(), "ACME: ordering a certificate");
        let mut attempts = Attempts::read(&m.data_dir);
        attempts.last_attempt = unix(now);
        let result = tokio::time::timeout(ORDER_LIMIT, order(s, &dir(&m.data_dir), &m.challenges))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "the order took longer than {ORDER_LIMIT:?}"
                ))
            })
            .and_then(|issued| install(&m, &issued));
        match result {
            Ok(info) => {
                attempts.last_error = None;
                attempts.last_success = Some(unix(SystemTime::now()));
                attempts.write(&m.data_dir);
                retry = FIRST_RETRY;
                tracing::info!(
                    name = %s.name,
                    issuer = %info.issuer,
                    expires = %httpdate::fmt_http_date(info.not_after),
                    renewal = %httpdate::fmt_http_date(info.renew_at()),
                    "ACME: certificate obtained"
                );
                if m.tls.configured {
                    if let Err(e) = m.tls.reload() {
                        tracing::error!(error = %format!("{e:#}"), "ACME: the new certificate did not load; the old one stays");
                    }
                } else {
                    tracing::info!(
                        "ACME: first trusted certificate; restarting the listeners to send guests to HTTPS"
                    );
                    m.restart.notify_one();
                    return;
                }
            }
            Err(e) => {
                let text = format!("{e:#}");
                attempts.last_error = Some(text.clone());
                attempts.write(&m.data_dir);
                tracing::error!(error = %text, retry_in_seconds = retry.as_secs(), "ACME: no certificate");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

impl AcmeSettings {
    fn challenge_name(&self) -> &'static str {
        match self.challenge {
            Challenge::Http01 => "http-01",
            Challenge::Dns01(_) => "dns-01",
        }
    }
}

/// Writes the new pair: the key first, then the certificate (whose name
/// [`usable`] checks), each renamed into place.
fn install(m: &Maintainer, issued: &Issued) -> anyhow::Result<x509::CertInfo> {
    let (cert, key) = files(&m.data_dir);
    let info = {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(issued.chain.as_bytes())
            .context("the CA sent no PEM certificate")?;
        x509::parse(&der).context("the CA's certificate cannot be read")?
    };
    write_private(&key, issued.key.as_bytes())?;
    write_private(&cert, issued.chain.as_bytes())?;
    Ok(info)
}

/// `queueless check`'s lines on ACME: (fine, text).
pub fn check(config: &Config, a: &AcmeSettings) -> Vec<(bool, String)> {
    let mut out = vec![(
        true,
        format!(
            "ACME {} for {} at {}",
            a.challenge_name(),
            a.name,
            a.directory
        ),
    )];
    #[cfg(feature = "acme")]
    if let Err(e) = client::Https::new(&a.ca_bundle) {
        out.push((false, format!("{e:#}")));
    }
    if let Challenge::Dns01(d) = &a.challenge
        && let Err(e) = dns::Key::read(&d.key_name, &d.secret_file)
    {
        out.push((false, format!("{e:#}")));
    }
    let now = SystemTime::now();
    match x509::read_pem(&files(&config.data_dir).0) {
        Some(i) => {
            let text = format!(
                "ACME certificate from {} for {}, valid until {}{}",
                i.issuer,
                i.names.join(", "),
                httpdate::fmt_http_date(i.not_after),
                if i.renew_at() > now {
                    format!(", renewal from {}", httpdate::fmt_http_date(i.renew_at()))
                } else {
                    ", renewal due".to_owned()
                }
            );
            let fine = i.not_after > now && i.names.contains(&a.name);
            out.push((
                fine,
                if i.names.contains(&a.name) {
                    text
                } else {
                    format!("{text}: not for {}, a new one will be ordered", a.name)
                },
            ));
        }
        None => out.push((
            false,
            "no ACME certificate yet: guests stay on plain HTTP until one is issued".to_owned(),
        )),
    }
    let attempts = Attempts::read(&config.data_dir);
    if let Some(e) = &attempts.last_error {
        out.push((
            false,
            format!(
                "last ACME attempt ({}) failed: {e}",
                when(attempts.last_attempt)
            ),
        ));
    } else if let Some(t) = attempts.last_success {
        out.push((true, format!("last ACME certificate obtained {}", when(t))));
    }
    out
}
