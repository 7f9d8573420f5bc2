//! The guest's side of the captive gateway: the RFC 8908 Captive Portal
//! API (per requesting client, by its socket address) and the "start
//! ordering" join form that authorizes the client's MAC.

use crate::web::error::Failure;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extract::Peer;
use super::pages::{PageError, PageForm, see_other};

/// Captive API and join routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/captive-portal", get(captive_api))
        .route("/join", post(join))
}

/// RFC 8908 §5 fields.
#[derive(Debug, Serialize)]
pub struct CaptiveApi {
    /// Still held by the portal.
    pub captive: bool,
    /// Where to go to join.
    #[serde(rename = "user-portal-url", skip_serializing_if = "Option::is_none")]
    pub user_portal_url: Option<String>,
    /// Seconds left of the session.
    #[serde(rename = "seconds-remaining", skip_serializing_if = "Option::is_none")]
    pub seconds_remaining: Option<u64>,
    /// Joining again extends it.
    #[serde(rename = "can-extend-session")]
    pub can_extend_session: bool,
}

async fn captive_api(State(state): State<AppState>, Peer(peer): Peer) -> Response {
    let body = match &state.gateway {
        None => CaptiveApi {
            captive: false,
            user_portal_url: state.web.portal_url.clone(),
            seconds_remaining: None,
            can_extend_session: false,
        },
        Some(gw) => match gw.state_of(peer.ip()).await {
            Ok(s) => CaptiveApi {
                captive: s.captive,
                user_portal_url: state.web.portal_url.clone(),
                seconds_remaining: (!s.captive).then_some(s.seconds_remaining),
                can_extend_session: true,
            },
            Err(e) => {
                tracing::warn!(error = %e, "captive state lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
            }
        },
    };
    let mut r = Json(body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/captive+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinForm {
    /// Must be "yes": the guest ticked the terms.
    #[serde(default)]
    accept: String,
}

/// Authorizes the requesting client, then a full page load (303 → GET) so
/// the phone re-probes and closes its captive window.
async fn join(
    State(state): State<AppState>,
    Peer(peer): Peer,
    PageForm(f): PageForm<JoinForm>,
) -> Result<Response, PageError> {
    let Some(gw) = &state.gateway else {
        return Ok(see_other("/"));
    };
    if f.accept != "yes" {
        return Err(PageError::new(
            Failure::Invalid,
            "Please accept the terms to continue.",
        ));
    }
    let mac = gw.mac_of(peer.ip()).ok_or_else(|| {
        PageError::new(
            Failure::Forbidden,
            "This device is not on the guest Wi-Fi, so there is nothing to join. Reconnect to the Wi-Fi and try again.",
        )
    })?;
    gw.authorize(mac, None)
        .await
        .map_err(|e| PageError::new(Failure::Unavailable, format!("Could not join: {e}")))?;
    Ok(see_other("/?joined=1"))
}
