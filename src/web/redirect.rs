//! The plain-HTTP listener when HTTPS is on: every request — any method,
//! any host, any path — is answered from memory with `302` to the HTTPS
//! portal, a small HTML body and `Cache-Control: no-store`. A request for
//! the portal's own host keeps its path (an `http://` link upgraded); any
//! other host is a captured request (a phone's connectivity probe) and goes
//! to the portal's front page. This is what Android, iOS, macOS, Windows,
//! Firefox and NetworkManager read as "captive portal".

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// Where captured requests are sent.
#[derive(Clone, Debug)]
pub struct Portal {
    /// `portal.example` or `192.0.2.1`, as in links.
    pub host: String,
    /// `https://host[:port]`.
    pub origin: String,
}

impl Portal {
    /// The portal at `host`, HTTPS on `port`.
    pub fn new(host: &str, port: u16) -> Portal {
        let origin = if port == 443 {
            format!("https://{host}")
        } else {
            format!("https://{host}:{port}")
        };
        Portal {
            host: host.to_owned(),
            origin,
        }
    }
}

fn host_only(h: &str) -> &str {
    if h.starts_with('[') {
        h.split_inclusive(']').next().unwrap_or(h)
    } else {
        h.rsplit_once(':').map_or(h, |(a, _)| a)
    }
}

/// The `Location` for a request with this `Host` and path.
pub fn location(portal: &Portal, host: Option<&str>, path_and_query: &str) -> String {
    let own = host.is_some_and(|h| host_only(h).eq_ignore_ascii_case(&portal.host));
    // Only a path we can vouch for is kept: printable ASCII, no CR/LF.
    let safe = path_and_query.starts_with('/')
        && !path_and_query.starts_with("//")
        && path_and_query.bytes().all(|b| b.is_ascii_graphic());
    if own && safe {
        format!("{}{path_and_query}", portal.origin)
    } else {
        format!("{}/", portal.origin)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A router that redirects everything.
pub fn router(portal: Portal) -> Router {
    let portal = Arc::new(portal);
    Router::new().fallback(move |req: Request| {
        let portal = Arc::clone(&portal);
        async move {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let to = location(&portal, host, pq);
            let body = format!(
                "<!doctype html><title>Sign in</title><p><a href=\"{0}\">Continue to {0}</a></p>\n",
                escape(&to)
            );
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::FOUND;
            let h = r.headers_mut();
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_go_to_the_front_page_and_own_links_keep_their_path() {
        let p = Portal::new("198.51.100.1", 8443);
        assert_eq!(
            location(&p, Some("connectivitycheck.gstatic.com"), "/generate_204"),
            "https://198.51.100.1:8443/"
        );
        assert_eq!(
            location(&p, Some("198.51.100.1:8080"), "/shops/2?x=1"),
            "https://198.51.100.1:8443/shops/2?x=1"
        );
        assert_eq!(location(&p, None, "/a"), "https://198.51.100.1:8443/");
        assert_eq!(
            location(&p, Some("198.51.100.1"), "//evil.example/"),
            "https://198.51.100.1:8443/"
        );
        let p = Portal::new("portal.example", 443);
        assert_eq!(
            location(&p, Some("PORTAL.example"), "/o/ab"),
            "https://portal.example/o/ab"
        );
    }
}
