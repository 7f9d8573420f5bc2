//! HTTPS with rustls (ring): the certificate and key named in the config,
//! the ACME pair in `<data_dir>/acme/` once one is issued ([`crate::acme`]),
//! or a self-signed pair made once at first start and kept in
//! `<data_dir>/tls/`; reloaded on SIGHUP (a bad file keeps the old pair).
//! The listener does each TLS handshake in its own task, with a time limit
//! and caps per source and in all ([`admission`]); the accept loop never
//! waits, so neither a slow client nor a flood of silent ones holds up
//! others.

pub mod admission;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::Config;

/// Where the certificate comes from, and the live pair.
#[derive(Debug)]
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    /// A certificate phones trust is in service: configured, or from ACME
    /// (guests go to HTTPS and HSTS is sent only then).
    pub configured: bool,
    resolver: Arc<Resolver>,
}

#[derive(Debug)]
struct Resolver(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.0.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("{} is not a PEM private key", key.display()))?;
    CertifiedKey::from_der(chain, key, &provider())
        .context("the key does not match the certificate")
}

/// Names a self-signed certificate is made for.
fn names(config: &Config) -> Vec<String> {
    let mut n = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Some(h) = &config.portal_host {
        n.insert(
            0,
            h.trim_start_matches('[').trim_end_matches(']').to_owned(),
        );
    }
    if let Some(a) = config.https
        && !a.ip().is_unspecified()
    {
        n.push(a.ip().to_string());
    }
    let mut unique = Vec::new();
    for name in n {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

fn create_self_signed(dir: &Path, names: Vec<String>) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let ck = rcgen::generate_simple_self_signed(names).context("making a certificate")?;
    let key_path = dir.join("key.pem");
    let write = |path: &Path, text: &str| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        // `mode` applies only to a new file; a leftover keeps its own.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        // Routers lose power: the pair must be on disk before it counts.
        f.sync_all()
            .with_context(|| format!("writing {}", path.display()))
    };
    write(&key_path, &ck.signing_key.serialize_pem())?;
    // The certificate last, renamed into place: its presence means the pair
    // is complete.
    let tmp = dir.join("cert.pem.partial");
    write(&tmp, &ck.cert.pem())?;
    std::fs::rename(&tmp, dir.join("cert.pem"))
        .with_context(|| format!("writing {}", dir.join("cert.pem").display()))?;
    Ok(())
}

impl Tls {
    /// Loads the configured pair, or the kept self-signed one (making it
    /// the first time).
    pub fn load_or_create(config: &Config) -> anyhow::Result<Tls> {
        let acme = crate::acme::usable(config);
        let (cert, key, configured) = match (&config.tls, acme) {
            (Some((c, k)), _) => (c.clone(), k.clone(), true),
            (None, Some((c, k))) if load(&c, &k).is_ok() => (c, k, true),
            (None, _) => {
                let dir = config.data_dir.join("tls");
                let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
                if !c.exists() {
                    create_self_signed(&dir, names(config))?;
                    tracing::info!(cert = %c.display(), "made a self-signed certificate");
                }
                (c, k, false)
            }
        };
        let pair = load(&cert, &key)?;
        Ok(Tls {
            cert,
            key,
            configured,
            resolver: Arc::new(Resolver(RwLock::new(Arc::new(pair)))),
        })
    }

    /// Reads the files again; on failure the old pair stays in use.
    pub fn reload(&self) -> anyhow::Result<()> {
        let pair = load(&self.cert, &self.key)?;
        *self.resolver.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pair);
        tracing::info!(cert = %self.cert.display(), "certificate reloaded");
        Ok(())
    }

    /// The certificate file in use.
    pub fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// The rustls server settings (HTTP/1.1 only).
    pub fn server_config(&self) -> anyhow::Result<Arc<ServerConfig>> {
        let mut c = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&self.resolver) as Arc<dyn ResolvesServerCert>);
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        // Live streams keep only the sending key (src/web/wire.rs).
        c.enable_secret_extraction = true;
        Ok(Arc::new(c))
    }
}

/// Accepted TLS connections, handed to axum.
#[derive(Debug)]
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`; handshakes run in their own tasks.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener { rx, local })
    }
}

/// Accepts connections and starts their handshakes as [`admission`]
/// allows, until the server drops the listener.
async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    out: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let mut admission = admission::Admission::<tokio::task::AbortHandle>::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
    loop {
        // Stop (and free the port) as soon as the server drops the
        // listener, not at the next connection.
        let accepted = tokio::select! {
            () = out.closed() => return,
            Some(id) = done_rx.recv() => {
                admission.finished(id);
                continue;
            }
            a = tcp.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait, retry.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(ticket) = admission.admit(peer.ip()) else {
            tracing::debug!(%peer, "too many pending TLS handshakes from this source; closed");
            continue;
        };
        if let Some(oldest) = ticket.shed {
            tracing::debug!(
                pending = admission.pending(),
                "TLS handshakes full; the oldest is shed"
            );
            oldest.abort();
        }
        let acceptor = acceptor.clone();
        let out = out.clone();
        let done = done_tx.clone();
        let id = ticket.id;
        let task = tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let handshake = tokio::time::timeout(ticket.timeout, acceptor.accept(stream)).await;
            let _ = done.send(id);
            match handshake {
                Ok(Ok(tls)) => {
                    // Err only when the server has stopped.
                    let _ = out.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
        admission.started(id, task.abort_handle());
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The acceptor only stops when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
