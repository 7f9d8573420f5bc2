//! What a browser (or anyone) sends: cookies, form bodies, redirect targets,
//! `Host` and `Last-Event-ID` headers.

use axum::http::{HeaderMap, HeaderValue, header};
use proptest::prelude::*;

use super::config;
use crate::domain::Token;
use crate::web::extract::{cookie, set_cookie};
use crate::web::keys::PortalKey;
use crate::web::pages::cart::local_path;
use crate::web::pages::form_pairs;
use crate::web::pages::staff::next_path;
use crate::web::redirect::host_part;
use crate::web::sse::last_event_id;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn headers(name: header::HeaderName, raw: &[u8]) -> Option<HeaderMap> {
    let value = HeaderValue::from_bytes(raw).ok()?;
    let mut h = HeaderMap::new();
    h.insert(name, value);
    Some(h)
}

/// What a browser does to a `Location` before following it: drops tabs
/// and newlines, and reads `\` as `/`.
fn as_browser_reads(location: &str) -> String {
    location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect()
}

/// A redirect target stays on this site: one leading `/`, never `//`, and
/// nothing a browser would strip or a header refuse.
fn stays_local(p: &str) -> bool {
    let read = as_browser_reads(p);
    read == p
        && p.starts_with('/')
        && !p.starts_with("//")
        && HeaderValue::from_str(p).is_ok()
        && !p.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Paths that look like an attack: slashes, backslashes, controls, schemes.
fn pathish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("/".to_owned()),
            Just("\\".to_owned()),
            Just("\t".to_owned()),
            Just("\n".to_owned()),
            Just("%09".to_owned()),
            Just("%2f".to_owned()),
            Just(" ".to_owned()),
            Just("\u{0}".to_owned()),
            Just("\u{85}".to_owned()),
            Just("\u{3000}".to_owned()),
            Just("evil.example".to_owned()),
            Just("https:".to_owned()),
            Just("cart".to_owned()),
            Just("?".to_owned()),
            "[a-z]{1,4}",
            any::<char>().prop_map(String::from),
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_cookie_header_is_read_without_panic(raw in bytes(300), name in "[a-z_-]{1,12}") {
        if let Some(v) = headers(header::COOKIE, &raw).and_then(|h| cookie(&h, &name)) {
            prop_assert!(v.len() < raw.len());
        }
    }

    #[test]
    fn a_set_cookie_round_trips(
        name in "[A-Za-z0-9_-]{1,16}",
        value in "[!#-+\\--:<-\\[\\]-~]{0,64}",
        others in proptest::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..4),
        secure in any::<bool>(),
    ) {
        // A browser sends back the `name=value` part of what we set.
        let set = set_cookie(&name, &value, 60, "Lax", secure);
        let set = set.to_str().expect("ASCII");
        let pair = set.split(';').next().expect("a pair");
        let mut sent: Vec<String> = others
            .iter()
            .filter(|(k, _)| *k != name)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        sent.insert(sent.len() / 2, pair.to_owned());
        let h = headers(header::COOKIE, sent.join("; ").as_bytes()).expect("valid header");
        prop_assert_eq!(cookie(&h, &name), Some(value));
    }

    #[test]
    fn only_signed_device_cookies_pass(raw in "[0-9a-f.]{0,80}", id in any::<[u8; 16]>()) {
        let key = PortalKey::random();
        let device = Token(id);
        let signed = key.sign_device(device);
        prop_assert_eq!(key.verify_device(&signed), Some(device));
        if raw != signed {
            prop_assert_eq!(key.verify_device(&raw), None);
        }
        prop_assert_eq!(PortalKey::random().verify_device(&signed), None);
    }

    #[test]
    fn any_form_body_is_read_without_panic_and_within_bounds(body in bytes(600)) {
        if let Ok(pairs) = form_pairs(&body) {
            let size: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
            prop_assert!(size <= body.len());
            prop_assert!(pairs.len() <= body.len());
        }
    }

    #[test]
    fn a_form_body_round_trips(pairs in proptest::collection::vec(("\\PC{1,12}", "\\PC{0,24}"), 0..8)) {
        let body = serde_urlencoded::to_string(&pairs).expect("encodes");
        prop_assert_eq!(form_pairs(body.as_bytes()).expect("decodes"), pairs);
    }

    #[test]
    fn a_form_body_that_is_not_utf8_is_refused(
        before in "[a-z]{1,8}",
        bad in prop_oneof![Just("%FF"), Just("%C3%28"), Just("%ED%A0%80"), Just("%F8%88%80%80%80")],
    ) {
        let body = format!("{before}={bad}&x=1");
        prop_assert!(form_pairs(body.as_bytes()).is_err());
    }

    #[test]
    fn back_and_next_never_leave_the_site(p in pathish()) {
        for out in [local_path(&p, "/cart"), next_path(&p, "/shop")] {
            prop_assert!(stays_local(&out), "{p:?} gave {out:?}");
            prop_assert!(out == p || out == "/cart" || out == "/shop");
        }
    }

    #[test]
    fn a_local_path_is_kept(p in "/[a-z0-9/?=&%.-]{0,40}") {
        prop_assume!(!p.starts_with("//"));
        prop_assert_eq!(local_path(&p, "/cart"), p.clone());
        prop_assert_eq!(next_path(&p, "/shop"), p);
    }

    #[test]
    fn any_host_header_is_read_without_panic(raw in "\\PC{0,40}", ascii in "[a-z0-9.:\\[\\]-]{0,40}") {
        for h in [raw, ascii] {
            if let Some(host) = host_part(&h) {
                prop_assert!(host.len() <= h.len());
                prop_assert!(!host.contains(':') || host.starts_with('['));
            }
        }
    }

    #[test]
    fn any_last_event_id_is_read_without_panic(raw in bytes(64)) {
        if let Some(h) = headers(header::HeaderName::from_static("last-event-id"), &raw) {
            let _ = last_event_id(&h);
        }
    }

    #[test]
    fn a_last_event_id_round_trips(id in any::<u64>(), pad in "[ \t]{0,2}") {
        let h = headers(header::HeaderName::from_static("last-event-id"), format!("{pad}{id}{pad}").as_bytes())
            .expect("valid header");
        prop_assert_eq!(last_event_id(&h), Some(id));
        let over = format!("{}0", u64::MAX);
        let h = headers(header::HeaderName::from_static("last-event-id"), over.as_bytes()).expect("valid");
        prop_assert_eq!(last_event_id(&h), None);
    }
}
