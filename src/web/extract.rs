//! Extractors: JSON bodies and paths with our error shape, the guest's
//! device cookie, the logged-in staff member, and the CSRF guard.
//!
//! The caller is identified by the socket's peer address and by cookies,
//! never by forwarding headers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, Failure};
use crate::auth::token_hash;
use crate::domain::account::{Role, User};
use crate::domain::{GuestId, ShopId, Token};
use crate::i18n::Lang;
use crate::store::accounts;

/// Every cookie the portal sets, named in one place.
pub mod cookies {
    /// The guest's device id.
    pub const DEVICE: &str = "ql_device";
    /// A staff login token.
    pub const SESSION: &str = "ql_session";
    /// The guest's cart (`item x quantity` pairs).
    pub const CART: &str = "ql_cart";
    /// The table (order session) code, set by a table's QR code.
    pub const TABLE: &str = "ql_table";
    /// The language the guest chose with the page's switch (`en`, `de`).
    pub const LANG: &str = "ql_lang";
}

/// What every cookie name of ours starts with.
const OUR_PREFIX: &str = "ql_";
pub use cookies::{DEVICE as DEVICE_COOKIE, SESSION as SESSION_COOKIE};

/// A JSON body (an object); malformed input becomes a 4xx in our error
/// shape.
///
/// A number with no fraction is an integer whatever its spelling (`4.0` is
/// `4`), as JSON Schema and JavaScript see it; any other float where an
/// integer is expected is refused. The body is always a JSON object.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Rewrites integral floats (exactly representable) as integers.
fn integral_floats_as_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    /// Integers a double holds exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                #[expect(clippy::cast_possible_truncation, reason = "integral and within 2^53")]
                let i = f as i64;
                *v = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            // Every body is an object; serde would also read a struct
            // from an array of its fields (`[null, null]`).
            Ok(axum::Json(v)) if !v.is_object() => Err(ApiError::new(
                Failure::Invalid,
                "invalid_body",
                "the body must be a JSON object",
            )),
            Ok(axum::Json(mut v)) => {
                // Every body is an object; serde would also take a struct
                // written as an array of its fields (`[null, null]`).
                if !v.is_object() {
                    return Err(ApiError::new(
                        Failure::Invalid,
                        "invalid_body",
                        "the body must be a JSON object",
                    ));
                }
                integral_floats_as_integers(&mut v);
                serde_path_to_error::deserialize(v).map(Self).map_err(|e| {
                    ApiError::new(
                        Failure::Invalid,
                        "invalid_body",
                        format!("the body does not fit: {}: {}", e.path(), e.inner()),
                    )
                })
            }
            Err(rejection) => {
                let failure = Failure::of_rejection(rejection.status());
                Err(match failure {
                    Failure::TooLarge => {
                        ApiError::new(failure, "body_too_large", "the request body is too large")
                    }
                    Failure::WrongMediaType => ApiError::new(
                        failure,
                        "unsupported_media_type",
                        "send the body as JSON with Content-Type: application/json",
                    ),
                    _ => ApiError::new(Failure::Invalid, "invalid_body", rejection.body_text()),
                })
            }
        }
    }
}

/// A path parameter; one that does not parse is a 404.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_| ApiError::not_found("resource"))
    }
}

/// A query string; one that does not parse is a 422.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The language a request is answered in: the switch's cookie, else the
/// browser's `Accept-Language`, else the venue's default
/// ([`Lang::negotiate`]).
pub fn lang_of(headers: &HeaderMap, default: Lang) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(cookie(headers, cookies::LANG).as_deref(), accept, default)
}

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(lang_of(&parts.headers, state.web.language))
    }
}

/// Builds a `Set-Cookie` value. `max_age` of 0 deletes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: u64,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Marks an answer that placed orders (API or checkout form): the
/// device's cookie is renewed with it.
#[derive(Clone, Copy, Debug)]
pub struct Placed;

/// The guest's device, from its cookie (set by [`device_cookie`] when missing).
#[derive(Clone, Copy, Debug)]
pub struct Device(pub GuestId);

/// Middleware: gives every caller a device id, setting the cookie when new.
/// The id is one this server issued and signed ([`super::keys`]): a cookie
/// a client made up or someone planted is ignored and a new id issued.
/// Static files get no device (and so no cookie a shared cache could keep).
pub async fn device_cookie(
    state: axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    let existing = cookie(req.headers(), DEVICE_COOKIE).and_then(|v| state.key.verify_device(&v));
    let (device, new) = match existing {
        Some(t) => (t, false),
        None => match Token::random() {
            Ok(t) => (t, true),
            Err(e) => return ApiError::internal(format!("no randomness: {e}")).into_response(),
        },
    };
    req.extensions_mut().insert(Device(device));
    let mut response = next.run(req).await;
    // A device id is stored only with its orders: its cookie expires a day
    // after its last order's details would, and each order renews it.
    let renew = response.extensions().get::<Placed>().is_some();
    if new || renew {
        let value = set_cookie(
            DEVICE_COOKIE,
            &state.key.sign_device(device),
            state.web.device_seconds,
            "Lax",
            state.web.secure_cookies,
        );
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The prefix our cookies carry on the wire over HTTPS. A `__Host-` cookie
/// can only be set by this host over a secure connection, for the whole
/// site: an attacker on the open Wi-Fi who injects a cookie into a plain
/// HTTP answer cannot make one.
pub const HOST_PREFIX: &str = "__Host-";

/// Middleware (outermost of the cookie layers): with secure cookies, our
/// cookies travel as `__Host-ql_…`. Requests see them under their plain
/// names, and plain `ql_…` cookies (which anyone could have planted) are
/// dropped; answers' `Set-Cookie` get the prefix.
pub async fn cookie_prefix(
    state: axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // A guest served over plain HTTP (no certificate phones trust) gets
    // plain cookies: a browser refuses `__Host-` ones without `Secure`.
    let plain = req.extensions().get::<super::redirect::Plain>().is_some();
    if !state.web.secure_cookies || plain {
        return next.run(req).await;
    }
    let kept: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter_map(|pair| match pair.strip_prefix(HOST_PREFIX) {
            Some(ours) if ours.starts_with(OUR_PREFIX) => Some(ours.to_owned()),
            _ if pair.starts_with(OUR_PREFIX) || pair.is_empty() => None,
            _ => Some(pair.to_owned()),
        })
        .collect();
    let headers = req.headers_mut();
    headers.remove(header::COOKIE);
    if let (false, Ok(v)) = (kept.is_empty(), HeaderValue::from_str(&kept.join("; "))) {
        headers.insert(header::COOKIE, v);
    }
    let mut response = next.run(req).await;
    let set: Vec<HeaderValue> = response
        .headers_mut()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(text) if text.starts_with(OUR_PREFIX) => {
                HeaderValue::from_str(&format!("{HOST_PREFIX}{text}")).unwrap_or_else(|_| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    let h = response.headers_mut();
    h.remove(header::SET_COOKIE);
    for v in set {
        h.append(header::SET_COOKIE, v);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Device {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Device>()
            .copied()
            .ok_or_else(|| ApiError::internal("device middleware missing"))
    }
}

/// The socket peer's address.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| Peer(c.0))
            .ok_or_else(|| ApiError::internal("connect info missing"))
    }
}

/// A logged-in user (any role).
#[derive(Clone, Debug)]
pub struct Login {
    /// The user.
    pub user: User,
    /// The cookie token of this login.
    pub token: Token,
}

impl FromRequestParts<AppState> for Login {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        refuse_guest_network(parts, state)?;
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|v| v.parse::<Token>().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let hash = token_hash(&token);
        let now = state.store.now();
        let user = state
            .store
            .read(move |r| accounts::login_user(r, hash, now))
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Login { user, token })
    }
}

/// Staff features are not reachable from the guest Wi-Fi (unless the
/// operator allows it): a client the gateway finds on a guest interface —
/// by its socket address, never by a header — is refused.
pub fn refuse_guest_network(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
    if state.web.staff_from_guest_network {
        return Ok(());
    }
    let (Some(gw), Some(peer)) = (
        &state.gateway,
        parts.extensions.get::<ConnectInfo<SocketAddr>>(),
    ) else {
        return Ok(());
    };
    if gw.is_guest(peer.0.ip()) {
        return Err(ApiError::forbidden(
            "staff pages are not reachable from the guest Wi-Fi; use the staff network",
        ));
    }
    Ok(())
}

/// A shopkeeper, with the one shop they may act on.
#[derive(Clone, Debug)]
pub struct Shopkeeper {
    /// The user.
    pub user: User,
    /// Their shop.
    pub shop: ShopId,
}

impl FromRequestParts<AppState> for Shopkeeper {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let login = Login::from_request_parts(parts, state).await?;
        match (login.user.role, login.user.shop) {
            (Role::Shopkeeper, Some(shop)) => Ok(Shopkeeper {
                user: login.user,
                shop,
            }),
            _ => Err(ApiError::forbidden(
                "this is for shopkeepers; log in with your shop's account",
            )),
        }
    }
}

/// The venue operator.
#[derive(Clone, Debug)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let login = Login::from_request_parts(parts, state).await?;
        if login.user.role == Role::Admin {
            Ok(Admin(login.user))
        } else {
            Err(ApiError::forbidden("this is for the venue operator"))
        }
    }
}

/// Middleware: refuses state-changing requests a browser sent from another
/// site. Browsers mark those with `Sec-Fetch-Site: cross-site` or an
/// `Origin` that is not this host; clients that send neither (curl, a
/// receipt printer) carry no victim's cookies and pass.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s.trim().eq_ignore_ascii_case("cross-site")) {
        return ApiError::forbidden("cross-site requests are refused (CSRF protection)")
            .into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, authority)| authority);
        if host.is_none() || origin_host != host {
            return ApiError::forbidden("cross-site requests are refused (CSRF protection)")
                .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ql_device=abc; b=2"),
        );
        assert_eq!(cookie(&h, "ql_device").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn set_cookie_has_the_safety_flags() {
        let v = set_cookie("x", "y", 60, "Strict", true);
        assert_eq!(
            v,
            "x=y; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
