//! The stylesheet and scripts, compiled into the binary and served from
//! memory with a version in the URL so browsers may cache them.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::web::AppState;

/// Bumped with the crate version: a new release never meets a stale cache.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const CSS: &str = include_str!("../../../static/app.css");
const GUEST_JS: &str = include_str!("../../../static/guest.js");
const SHOP_JS: &str = include_str!("../../../static/shop.js");
const BOARD_JS: &str = include_str!("../../../static/board.js");
const ALERTS_JS: &str = include_str!("../../../static/alerts.js");
const I18N_JS: &str = include_str!("../../../static/i18n.js");

/// `/static/…` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(|| async { asset(CSS, "text/css") }))
        .route(
            "/static/guest.js",
            get(|| async { asset(GUEST_JS, "text/javascript") }),
        )
        .route(
            "/static/shop.js",
            get(|| async { asset(SHOP_JS, "text/javascript") }),
        )
        .route(
            "/static/alerts.js",
            get(|| async { asset(ALERTS_JS, "text/javascript") }),
        )
        .route(
            "/static/i18n.js",
            get(|| async { asset(I18N_JS, "text/javascript") }),
        )
        .route(
            "/static/board.js",
            get(|| async { asset(BOARD_JS, "text/javascript") }),
        )
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}
