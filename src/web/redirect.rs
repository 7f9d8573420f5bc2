//! The plain-HTTP listener when HTTPS is on. With a certificate phones
//! trust (the operator's own), every request — any method, any host, any
//! path — is answered from memory (no store access) with `302 Found` to
//! the HTTPS portal, a small HTML body with the link and
//! `Cache-Control: no-store`. This is also what makes phones pop up their
//! captive-portal window: Android, iOS, macOS, Windows, Firefox and
//! NetworkManager read a `302` on their probe as "captive".
//!
//! Without one (the self-signed certificate), guests stay on plain HTTP: a
//! phone's captive-portal window shows an error page, and no way on, for a
//! certificate it does not trust. Captured requests then go to
//! `http://<portal>:<port>/`, guest pages are served here ([`plain_guard`]),
//! and only staff pages go on to HTTPS.
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
    /// Guests stay on plain HTTP, on this port (no certificate phones
    /// trust); `None`: everything goes to HTTPS.
    pub plain_port: Option<u16>,
}

/// `http://host[:port]` (no port for 80).
pub fn plain_origin(host: &str, port: u16) -> String {
    if port == 80 {
        format!("http://{host}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// Pages and API calls for staff: over HTTPS only, also when guests stay
/// on plain HTTP (their logins and cookies never travel in the clear).
pub fn staff_path(path: &str) -> bool {
    let mut seg = path.trim_start_matches('/').split('/');
    matches!(
        (seg.next(), seg.next(), seg.next()),
        (Some("admin" | "shop" | "staff"), _, _)
            | (Some("api"), Some("admin" | "auth" | "shop"), _)
            | (Some("api"), Some("shops"), Some("register"))
    )
}

/// Marks a request served over plain HTTP to a guest.
#[derive(Clone, Copy, Debug)]
pub struct Plain;

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
pub(crate) fn host_part(header: &str) -> Option<String> {
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

/// The configured host, unless it is an address of the other family than
/// the connection's: a phone with only IPv6 cannot reach an IPv4 literal
/// (nor the reverse), so it is sent to the address it reached.
fn configured(portal: &Portal, local: Option<IpAddr>) -> Option<String> {
    let host = portal.host.clone()?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    match (literal, local.map(|l| l.to_canonical())) {
        (Some(a), Some(l)) if a.is_ipv4() != l.is_ipv4() => None,
        _ => Some(host),
    }
}

/// The `Location` for a request with this `Host` and path, reaching us at
/// `local`; `None` when guests stay on plain HTTP and this is a guest's
/// request to us, served here.
pub fn location(
    portal: &Portal,
    local: Option<IpAddr>,
    host: Option<&str>,
    path_and_query: &str,
) -> Option<String> {
    let own = host
        .and_then(host_part)
        .and_then(|asked| ours(portal, local, &asked));
    if let Some(port) = portal.plain_port {
        let path = path_and_query.split('?').next().unwrap_or("/");
        match &own {
            Some(_) if !staff_path(path) => return None,
            Some(_) => {}
            None => {
                let target = configured(portal, local)
                    .or_else(|| local.map(url_host))
                    .unwrap_or_else(|| portal.fallback.clone());
                return Some(format!("{}/", plain_origin(&target, port)));
            }
        }
    }
    // Only a path we can vouch for is kept: printable ASCII, no CR/LF.
    let safe = path_and_query.starts_with('/')
        && !path_and_query.starts_with("//")
        && path_and_query.bytes().all(|b| b.is_ascii_graphic());
    let path = if own.is_some() && safe {
        path_and_query
    } else {
        "/"
    };
    let target = configured(portal, local)
        .or(own)
        .or_else(|| local.map(url_host))
        .unwrap_or_else(|| portal.fallback.clone());
    Some(format!("{}{path}", origin(&target, portal.https_port)))
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
        async move {
            // Without `plain_port` every request has a target.
            found(&target(&portal, &req).unwrap_or_else(|| portal.fallback.clone()))
        }
    })
}

/// Middleware for the plain-HTTP listener when guests stay on it: captured
/// requests and staff paths are redirected (see [`location`]); a guest's
/// request is served, marked [`Plain`], and its cookies lose `Secure` (a
/// browser drops a `Secure` cookie set over HTTP).
pub async fn plain_guard(
    axum::extract::State(portal): axum::extract::State<Arc<Portal>>,
    mut req: Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(to) = target(&portal, &req) {
        return found(&to);
    }
    req.extensions_mut().insert(Plain);
    let mut response = next.run(req).await;
    let cookies: Vec<HeaderValue> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    response.headers_mut().remove(header::SET_COOKIE);
    for c in cookies {
        let text = c.to_str().unwrap_or_default().replace("; Secure", "");
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Where `req` goes, if anywhere (see [`location`]).
fn target(portal: &Portal, req: &Request) -> Option<String> {
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
    location(portal, local, host, pq)
}

/// A `302 Found` to `to`.
fn found(to: &str) -> Response {
    tracing::debug!(location = %to, "redirect");
    let body = format!(
        "<!doctype html><title>Continue</title><p><a href=\"{0}\">Continue to {0}</a></p>\n",
        escape(to)
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::FOUND;
    let h = r.headers_mut();
    // Built from our own host names and a printable-ASCII path: always valid.
    if let Ok(v) = HeaderValue::from_str(to) {
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
            plain_port: None,
        }
    }

    /// Where a request goes when everything goes to HTTPS.
    fn location(p: &Portal, local: Option<IpAddr>, host: Option<&str>, pq: &str) -> String {
        super::location(p, local, host, pq).expect("always redirected")
    }

    #[test]
    fn without_a_trusted_certificate_guests_stay_on_http() {
        let mut p = portal(None, 8443);
        p.plain_port = Some(8080);
        let at = Some(ROUTER);
        let go = |host: &str, pq: &str| super::location(&p, at, Some(host), pq);
        assert_eq!(
            go("connectivitycheck.gstatic.com", "/generate_204").as_deref(),
            Some("http://198.51.100.1:8080/"),
            "a probe goes to the portal over HTTP"
        );
        assert_eq!(go("198.51.100.1:8080", "/"), None, "served here");
        assert_eq!(go("198.51.100.1:8080", "/o/abc?x=1"), None);
        assert_eq!(go("198.51.100.1:8080", "/api/shops"), None);
        assert_eq!(
            go("198.51.100.1:8080", "/staff/login?next=/shop").as_deref(),
            Some("https://198.51.100.1:8443/staff/login?next=/shop"),
            "staff pages stay on HTTPS"
        );
        for staff in [
            "/admin",
            "/shop/menu",
            "/api/shop/orders",
            "/api/auth/login",
            "/api/shops/register",
        ] {
            assert!(staff_path(staff), "{staff}");
        }
        for guest in [
            "/",
            "/shops/2",
            "/api/shops",
            "/api/orders",
            "/o/x",
            "/board",
        ] {
            assert!(!staff_path(guest), "{guest}");
        }
        p.host = Some("198.51.100.1".into());
        let v6: IpAddr = "2001:db8:1::1".parse().expect("v6");
        assert_eq!(
            super::location(&p, Some(v6), Some("[2001:db8:2::2]"), "/generate_204").as_deref(),
            Some("http://[2001:db8:1::1]:8080/"),
            "an IPv6-only guest is not sent to an IPv4 literal"
        );
        p.host = Some("portal.example".into());
        p.plain_port = Some(80);
        assert_eq!(
            super::location(&p, at, Some("captive.apple.com"), "/").as_deref(),
            Some("http://portal.example/")
        );
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
