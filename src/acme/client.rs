//! The ACME client's HTTPS: one HTTP/1.1 request per connection over
//! tokio-rustls with the ring provider the server side already uses,
//! trusting the PEM roots in `[acme] ca_bundle` (the system's bundle by
//! default). Given to instant-acme instead of its default client, which
//! would add hyper-rustls, HTTP/2 and the platform verifier to the binary.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Bytes;
use hyper::header::HOST;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTPS client for one CA.
#[derive(Clone)]
pub struct Https {
    tls: TlsConnector,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Https")
    }
}

impl Https {
    /// A client trusting the certificates in `bundle`.
    pub fn new(bundle: &Path) -> anyhow::Result<Https> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(bundle)
            .with_context(|| format!("reading the CA bundle {}", bundle.display()))?
            .filter_map(Result::ok)
            .collect();
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs);
        anyhow::ensure!(
            !roots.is_empty(),
            "{} holds no CA certificate (set [acme] ca_bundle, or install the CA bundle)",
            bundle.display()
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // TLS 1.3 only: every public ACME CA speaks it, and the client's
        // TLS 1.2 code stays out of the binary.
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .context("TLS versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Https {
            tls: TlsConnector::from(Arc::new(config)),
        })
    }
}

impl HttpClient for Https {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let tls = self.tls.clone();
        Box::pin(async move {
            send(tls, req)
                .await
                .map_err(|e| instant_acme::Error::Other(e.into()))
        })
    }
}

async fn send(
    tls: TlsConnector,
    mut req: Request<BodyWrapper<Bytes>>,
) -> anyhow::Result<BytesResponse> {
    let uri = req.uri().clone();
    anyhow::ensure!(
        uri.scheme_str() == Some("https"),
        "{uri}: the CA must be reached over https"
    );
    let host = uri.host().context("a URL without a host")?;
    let port = uri.port_u16().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_owned())
        .with_context(|| format!("{host} is not a host name"))?;
    let connect = async {
        let tcp = tokio::net::TcpStream::connect((bare, port)).await?;
        tls.connect(name, tcp).await
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| anyhow::anyhow!("connecting to {host}:{port} timed out"))?
        .with_context(|| format!("connecting to {host}:{port}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    // Ends when the response body has been read (or dropped).
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "ACME connection ended");
        }
    });
    let authority = uri.authority().map_or(host, |a| a.as_str()).to_owned();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = path.parse::<Uri>().context("request path")?;
    req.headers_mut()
        .insert(HOST, authority.parse().context("host header")?);
    let response = tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(req))
        .await
        .map_err(|_| anyhow::anyhow!("{uri}: no answer within {RESPONSE_TIMEOUT:?}"))?
        .with_context(|| format!("requesting {uri}"))?;
    Ok(BytesResponse::from(response))
}
