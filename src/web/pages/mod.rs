//! Server-rendered HTML pages (askama templates in `templates/`, escaped by
//! default) for guests, shopkeepers, the admin and the pickup board.
//!
//! Every action is a plain form (POST → 303 → GET) that works without
//! JavaScript; the scripts in `static/` only add live updates. Forms carry a
//! CSRF token bound to the device cookie, on top of the `Origin` check of
//! [`super::extract::csrf_guard`].

pub mod admin;
pub mod assets;
pub mod board;
pub mod cart;
pub mod chooser;
pub mod guest;
pub mod kitchen;
pub mod lang;
pub mod recipe;
pub mod shop;
pub mod shop_labels;
pub mod shop_menu;
pub mod shop_options;
pub mod shop_settings;
pub mod staff;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::AppState;
pub use super::error::PageError;
use super::error::{ApiError, Failure};
use super::extract::{Device, Login, lang_of};
use crate::domain::account::Role;
use crate::domain::currency::Currency;
use crate::domain::{Cents, ShopId, Token};
use crate::i18n::Lang;
use std::borrow::Cow;

/// Name of the hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(guest::router())
        .merge(cart::router())
        .merge(chooser::router())
        .merge(staff::router())
        .merge(shop::router())
        .merge(shop_menu::router())
        .merge(shop_options::router())
        .merge(shop_labels::router())
        .merge(shop_settings::router())
        .merge(admin::router())
        .merge(board::router())
        .merge(lang::router())
}

/// The fallback: a 404 page for browsers, the JSON error under `/api/`.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("route").into_response()
    } else {
        PageError::said(Failure::NotFound, "common.error.no_page").into_response()
    }
}

/// What every page's frame shows: the venue, who is looking, the form
/// token, and the language the page is in (with its text and formats).
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The venue's name.
    pub venue: String,
    /// The CSRF token for this device's forms.
    pub csrf: String,
    /// Items in the cart (guest pages).
    pub cart_count: u32,
    /// The staff member looking, if logged in.
    pub staff: Option<StaffNav>,
    /// The language the page is drawn in.
    pub lang: Lang,
    /// The venue's currency, for prices.
    pub currency: Currency,
    /// This page's path and query: where the language switch comes back to.
    pub here: String,
}

impl Chrome {
    /// Interface text in the page's language (`{{ c.t("guest.menu.add") }}`).
    pub fn t(&self, key: &str) -> Cow<'static, str> {
        self.lang.t(key)
    }

    /// Interface text with one `%{name}` filled in.
    pub fn t1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.t_with(key, &[(name, &value)])
    }

    /// Interface text with two `%{name}`s filled in.
    /// (Askama hands the pairs over by reference.)
    pub fn t2<A: std::fmt::Display, B: std::fmt::Display>(
        &self,
        key: &str,
        (n1, v1): &(&str, A),
        (n2, v2): &(&str, B),
    ) -> String {
        self.lang.t_with(key, &[(n1, v1), (n2, v2)])
    }

    /// A price in the venue's currency, written the language's way.
    pub fn money(&self, amount: impl std::borrow::Borrow<Cents>) -> String {
        self.lang.money(self.currency, *amount.borrow())
    }

    /// A whole number written the language's way.
    pub fn number(&self, n: impl Into<u64>) -> String {
        self.lang.number(n.into())
    }

    /// The strings the page scripts read (the `#i18n` JSON block), safe
    /// inside `<script>`.
    pub fn script_strings(&self) -> String {
        self.lang.script_strings(self.currency)
    }

    /// The languages the switch offers.
    pub fn languages(&self) -> [Lang; 2] {
        Lang::ALL
    }
}

/// The logged-in staff member, for the navigation.
#[derive(Clone, Debug)]
pub struct StaffNav {
    /// Their name.
    pub name: String,
    /// A shopkeeper (else the admin).
    pub shopkeeper: bool,
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Device(device) = Device::from_request_parts(parts, state).await?;
        let staff = Login::from_request_parts(parts, state)
            .await
            .ok()
            .map(|l| StaffNav {
                name: l.user.name,
                shopkeeper: l.user.role == Role::Shopkeeper,
            });
        Ok(Chrome {
            venue: state.web.venue_name.clone(),
            csrf: csrf_token(state, device, &parts.headers),
            cart_count: cart::Cart::from_headers(&parts.headers).count(),
            staff,
            lang: lang_of(&parts.headers, state.web.language),
            currency: state.web.currency,
            here: here(parts),
        })
    }
}

/// Where the language switch returns: this page, or for a page drawn as
/// a form's answer (a refused checkout at `POST /checkout`, which has no
/// `GET`) the page the form was on, from `Referer`'s path (the switch
/// keeps any `back` on this site).
fn here(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET {
        return parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    }
    parts
        .headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://"))
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap_or_else(|| "/".to_owned())
}

/// The form (CSRF) token of a device: a keyed hash of the device id and,
/// for staff, their login cookie, so nothing is stored and a form rendered
/// for one login does not pass for another.
pub fn csrf_token(state: &AppState, device: Token, headers: &header::HeaderMap) -> String {
    let login = super::extract::cookie(headers, super::extract::SESSION_COOKIE);
    state.key.form_token(device, login.as_deref())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: Lang,
    title: &'a str,
    message: &'a str,
    back: &'a str,
}

impl PageError {
    /// The error page in `lang`.
    fn page(&self, lang: Lang) -> Response {
        let status = self.failure.status();
        let title = lang.t(&format!("common.error.title.{}", status.as_u16()));
        let message = self.message_in(lang);
        let page = ErrorPage {
            lang,
            title: &title,
            message: &message,
            back: self.back.as_deref().unwrap_or("/"),
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        };
        response.extensions_mut().insert(Drawn);
        response
    }
}

/// Marks an error page already drawn in the reader's language.
#[derive(Clone, Copy, Debug)]
struct Drawn;

/// An error page on its way out, to be drawn again in the reader's
/// language by [`error_pages`].
#[derive(Clone, Debug)]
struct Undrawn(PageError);

impl IntoResponse for PageError {
    /// Drawn in English here (no request is at hand); [`error_pages`]
    /// draws it again in the reader's language.
    fn into_response(self) -> Response {
        let mut response = self.page(Lang::En);
        response.extensions_mut().remove::<Drawn>();
        response.extensions_mut().insert(Undrawn(self));
        response
    }
}

/// Middleware: error pages in the language of the request (which
/// `PageError::into_response` cannot see).
pub async fn error_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers(), state.web.language);
    let mut response = next.run(req).await;
    match response.extensions_mut().remove::<Undrawn>() {
        Some(Undrawn(e)) if lang != Lang::En => {
            let mut drawn = e.page(lang);
            // Cookies the handler set (a new device id) still go out.
            for v in response.headers().get_all(header::SET_COOKIE) {
                drawn.headers_mut().append(header::SET_COOKIE, v.clone());
            }
            drawn
        }
        _ => response,
    }
}

/// Result of a page handler.
pub type PageResult<T = Response> = Result<T, PageError>;

/// Renders a template into a response.
pub fn render(t: &impl Template) -> PageResult {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| {
            // A 5xx page is generic; the detail goes to the log.
            tracing::error!(error = %e, "a page did not render");
            PageError::said(Failure::Internal, "common.error.internal")
        })
}

/// The end of every form handler: on success the POST → 303 → GET step to
/// `to`; on failure an error page whose "go back" leads there too.
pub fn done<T, E: Into<PageError>>(result: Result<T, E>, to: &str) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(to)),
        Err(e) => Err(e.into().back(to)),
    }
}

/// The POST → 303 → GET step.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form body: checks the CSRF token, then reads the other fields into `T`
/// (whose unknown fields are refused with a page saying so).
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_form_type);
        let device = req.extensions().get::<Device>().map(|d| d.0);
        let expected = device.map(|d| csrf_token(state, d, req.headers()));
        if !is_form {
            return Err(PageError::said(
                Failure::WrongMediaType,
                "common.error.not_a_form",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::said(Failure::TooLarge, "common.error.form_too_large"))?;
        let pairs = form_pairs(&body)
            .map_err(|_| PageError::said(Failure::Garbled, "common.error.form_not_utf8"))?;
        let sent = pairs.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v);
        if expected.is_none() || sent != expected.as_ref() {
            return Err(PageError::said(
                Failure::Forbidden,
                "common.error.form_expired",
            ));
        }
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != CSRF_FIELD).collect();
        let encoded = serde_urlencoded::to_string(&rest)
            .map_err(|_| PageError::said(Failure::Garbled, "common.error.form_garbled"))?;
        serde_urlencoded::from_str(&encoded)
            .map(PageForm)
            .map_err(|e| {
                PageError::said_with(
                    Failure::Invalid,
                    "common.error.form_fields",
                    vec![("detail", e.to_string())],
                )
            })
    }
}

/// Whether a `Content-Type` is exactly a URL-encoded form, in UTF-8 if a
/// charset is named (`application/x-www-form-urlencoded-foo` is not).
pub fn is_form_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        && parts.all(|p| match p.split_once('=') {
            Some((k, v)) => {
                k.trim().eq_ignore_ascii_case("charset")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            None => false,
        })
}

/// The fields of a URL-encoded form body. Strict: bytes that are not UTF-8
/// after decoding are refused, never turned into U+FFFD and stored.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
    fn decode(part: &[u8]) -> Result<String, &'static str> {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| "The form was not sent as UTF-8 text. Reload the page and try again.")
    }
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// A logged-in shopkeeper on a page; anyone else is sent to the login page.
#[derive(Clone, Debug)]
pub struct ShopPage {
    /// The user.
    pub user: crate::domain::account::User,
    /// Their shop.
    pub shop: ShopId,
}

impl FromRequestParts<AppState> for ShopPage {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Login::from_request_parts(parts, state).await {
            Ok(login) => match (login.user.role, login.user.shop) {
                (Role::Shopkeeper, Some(shop)) => Ok(ShopPage {
                    user: login.user,
                    shop,
                }),
                _ => Err(
                    PageError::said(Failure::Forbidden, "staff.shop.only_shopkeepers")
                        .back("/staff/login")
                        .into_response(),
                ),
            },
            Err(e) if e.failure == Failure::LoginRequired => Err(see_other(&format!(
                "/staff/login?next={}",
                parts.uri.path()
            ))),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// The logged-in admin on a page.
#[derive(Clone, Debug)]
pub struct AdminPage(pub crate::domain::account::User);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Login::from_request_parts(parts, state).await {
            Ok(login) if login.user.role == Role::Admin => Ok(AdminPage(login.user)),
            Ok(_) => Err(PageError::said(Failure::Forbidden, "admin.only_operator")
                .back("/staff/login")
                .into_response()),
            Err(e) if e.failure == Failure::LoginRequired => Err(see_other(&format!(
                "/staff/login?next={}",
                parts.uri.path()
            ))),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_url_encoded_form_in_utf8_is_a_form() {
        for ok in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-URLEncoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/x-www-form-urlencoded;charset=\"utf-8\"",
        ] {
            assert!(is_form_type(ok), "{ok}");
        }
        for no in [
            "application/x-www-form-urlencoded-evil",
            "application/x-www-form-urlencodedx",
            "application/x-www-form-urlencoded; charset=latin1",
            "application/x-www-form-urlencoded; boundary=x",
            "multipart/form-data",
            "",
        ] {
            assert!(!is_form_type(no), "{no}");
        }
    }

    #[test]
    fn the_switch_returns_to_a_page_a_get_can_reach() {
        let parts = |method: &str, uri: &str, referer: Option<&str>| {
            let mut r = axum::http::Request::builder().method(method).uri(uri);
            if let Some(v) = referer {
                r = r.header(header::REFERER, v);
            }
            r.body(()).expect("request").into_parts().0
        };
        assert_eq!(
            here(&parts("GET", "/shops/1?hide=milk", None)),
            "/shops/1?hide=milk"
        );
        let refused = parts("POST", "/checkout", Some("https://portal.example/cart"));
        assert_eq!(here(&refused), "/cart", "the form's own page");
        assert_eq!(here(&parts("POST", "/checkout", None)), "/");
        assert_eq!(here(&parts("POST", "/checkout", Some("garbage"))), "/");
    }

    #[test]
    fn form_fields_are_decoded_strictly() {
        let pairs = form_pairs(b"name=Bubble+Lab&note=caf%C3%A9&empty=&flag").expect("form");
        assert_eq!(
            pairs,
            [
                ("name".into(), "Bubble Lab".into()),
                ("note".into(), "caf\u{e9}".into()),
                ("empty".into(), String::new()),
                ("flag".into(), String::new()),
            ]
        );
        assert!(form_pairs(b"name=%FF%FE").is_err(), "invalid UTF-8");
        assert!(form_pairs(b"na%C3me=x").is_err(), "a cut sequence in a key");
        assert!(form_pairs(b"name=\xff").is_err(), "raw bytes");
    }
}
