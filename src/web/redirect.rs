//! The plain-HTTP listener when HTTPS is on: every request — any method,
//! any host, any path — is answered from memory (no store access) with
//! `302 Found` to the HTTPS portal, a small HTML body with the link and
//! `Cache-Control: no-store`. This is also what makes phones pop up their
//! captive-portal window: Android, iOS, macOS, Windows, Firefox and
//! NetworkManager read a `302` on their probe as "captive".
//!
//! Invariant: the `Location` never carries bytes of the request's `Host`.
//! The target host is the configured `portal_host`, else the name the
//! client used *if* it names this server (our own address, or `localhost`
//! on loopback), else the address the client's connection reached (under
//! the gateway's nft redirect, the router's address on the guest network).
//! A request addressed to us keeps its path (an `http://` link upgraded);
//! any other host is a captured request (a connectivity probe) and goes to
//! the portal's front page.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::net::TcpListener;

/// Where requests are sent.
#[derive(Clone, Debug)]
pub struct Portal {
    /// The configured `portal_host` (`portal.example`, `192.0.2.1`,
    /// `[fd00::1]`), if any.
    pub host: Option<String>,
    /// The HTTPS port.
    pub https_port: u16,
    /// The host when neither `portal_host` nor the connection's own
    /// address is known (the listener's address).
    pub fallback: String,
}

/// `https://host[:port]` (no port for 443).
pub fn origin(host: &str, port: u16) -> String {
    if port == 443 {
        format!("https://{host}")
    } else {
        format!("https://{host}:{port}")
    }
}

/// An address as the host part of a URL (IPv6 in brackets, IPv4-mapped
/// IPv6 as IPv4).
pub fn url_host(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

pub use super::conn::LocalAddr;

/// The host part of a `Host` header, lower-case, if it looks like one
/// (`name`, `name:port`, `[v6]`, `[v6]:port`).
fn host_part(header: &str) -> Option<String> {
    if header.is_empty()
        || !header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    {
        return None;
    }
    let (host, port) = match header.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            (&header[..v6.len() + 2], after.strip_prefix(':'))
        }
        None => match header.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (header, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

/// The name the client used, in our canonical spelling, if it names this
/// server.
fn ours(portal: &Portal, local: Option<IpAddr>, asked: &str) -> Option<String> {
    if portal.host.as_deref() == Some(asked) {
        return Some(asked.to_owned());
    }
    let local = local?.to_canonical();
    if asked == "localhost" && local.is_loopback() {
        return Some("localhost".to_owned());
    }
    let ip = match asked.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse().ok()?),
        None => IpAddr::V4(asked.parse().ok()?),
    };
    (ip.to_canonical() == local).then(|| url_host(local))
}

/// The `Location` for a request with this `Host` and path, reaching us at
/// `local`.
pub fn location(
    portal: &Portal,
    local: Option<IpAddr>,
    host: Option<&str>,
    path_and_query: &str,
) -> String {
    let own = host
        .and_then(host_part)
        .and_then(|asked| ours(portal, local, &asked));
    // Only a path we can vouch for is kept: printable ASCII, no CR/LF.
    let safe = path_and_query.starts_with('/')
        && !path_and_query.starts_with("//")
        && path_and_query.bytes().all(|b| b.is_ascii_graphic());
    let path = if own.is_some() && safe {
        path_and_query
    } else {
        "/"
    };
    let target = portal
        .host
        .clone()
        .or(own)
        .or_else(|| local.map(url_host))
        .unwrap_or_else(|| portal.fallback.clone());
    format!("{}{path}", origin(&target, portal.https_port))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A router that redirects everything. The connection's local address is
/// read from `ConnectInfo<LocalAddr>` when served by [`serve`].
pub fn router(portal: Portal) -> Router {
    let portal = Arc::new(portal);
    Router::new().fallback(move |req: Request| {
        let portal = Arc::clone(&portal);
        async move { redirect(&portal, &req) }
    })
}

fn redirect(portal: &Portal, req: &Request) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let local = req
        .extensions()
        .get::<ConnectInfo<LocalAddr>>()
        .and_then(|c| c.0.0)
        .map(|a| a.ip());
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let to = location(portal, local, host, pq);
    tracing::debug!(?host, path = pq, location = %to, "redirect to HTTPS");
    let body = format!(
        "<!doctype html><title>Continue</title><p><a href=\"{0}\">Continue to {0}</a></p>\n",
        escape(&to)
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::FOUND;
    let h = r.headers_mut();
    // Built from our own host names and a printable-ASCII path: always valid.
    if let Ok(v) = HeaderValue::from_str(&to) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Serves the redirect on `listener` until `shutdown` resolves, with the
/// portal's connection driver (its header timeout and stop grace).
pub async fn serve(
    listener: TcpListener,
    portal: Portal,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    super::conn::serve(listener, router(portal), shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));

    fn portal(host: Option<&str>, port: u16) -> Portal {
        Portal {
            host: host.map(str::to_owned),
            https_port: port,
            fallback: "localhost".into(),
        }
    }

    #[test]
    fn probes_go_to_the_front_page_and_own_links_keep_their_path() {
        let p = portal(None, 8443);
        let at = Some(ROUTER);
        assert_eq!(
            location(
                &p,
                at,
                Some("connectivitycheck.gstatic.com"),
                "/generate_204"
            ),
            "https://198.51.100.1:8443/"
        );
        assert_eq!(
            location(&p, at, Some("198.51.100.1:8080"), "/shops/2?x=1"),
            "https://198.51.100.1:8443/shops/2?x=1"
        );
        assert_eq!(location(&p, at, None, "/a"), "https://198.51.100.1:8443/");
        assert_eq!(
            location(&p, at, Some("198.51.100.1"), "//evil.example/"),
            "https://198.51.100.1:8443/"
        );
        assert_eq!(location(&p, None, None, "/a"), "https://localhost:8443/");
        let p = portal(Some("portal.example"), 443);
        assert_eq!(
            location(&p, at, Some("PORTAL.example"), "/o/ab"),
            "https://portal.example/o/ab"
        );
        assert_eq!(
            location(&p, at, Some("198.51.100.1"), "/o/ab"),
            "https://portal.example/o/ab",
            "our address upgrades to the portal's name"
        );
        assert_eq!(
            location(&p, at, Some("captive.apple.com"), "/hotspot-detect.html"),
            "https://portal.example/"
        );
    }

    #[test]
    fn localhost_and_ipv6_are_ours_only_where_they_reach_us() {
        let p = portal(None, 8443);
        let lo = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            location(&p, lo, Some("LocalHost:8080"), "/x"),
            "https://localhost:8443/x"
        );
        assert_eq!(
            location(&p, Some(ROUTER), Some("localhost"), "/x"),
            "https://198.51.100.1:8443/"
        );
        let v6: IpAddr = "fd00::1".parse().expect("v6");
        assert_eq!(
            location(&p, Some(v6), Some("[FD00::1]:8080"), "/x"),
            "https://[fd00::1]:8443/x"
        );
        let mapped: IpAddr = "::ffff:198.51.100.1".parse().expect("mapped");
        assert_eq!(
            location(&p, Some(mapped), Some("198.51.100.1"), "/x"),
            "https://198.51.100.1:8443/x"
        );
    }

    #[test]
    fn the_host_header_is_never_reflected() {
        let p = portal(None, 8443);
        for host in [
            "evil.example",
            "\"><script>alert(1)</script>",
            "198.51.100.1@evil.example",
            "198.51.100.1:80/evil",
            "198.51.100.1:evil",
            "[::1]evil",
            "[198.51.100.1]",
            "",
        ] {
            let to = location(&p, Some(ROUTER), Some(host), "/x");
            assert_eq!(to, "https://198.51.100.1:8443/", "{host:?}");
        }
    }

    #[test]
    fn host_part_strips_the_port() {
        assert_eq!(host_part("a.example:80").as_deref(), Some("a.example"));
        assert_eq!(host_part("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(host_part("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(host_part("a:b:c"), None);
        assert_eq!(host_part("a:"), None);
    }
}
