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
use super::extract::{Device, Peer};
use super::pages::{PageError, PageForm, see_other};
use crate::domain::GuestId;
use crate::store::{orders, wifi};

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
    /// The guest's most recent open order page, else the venue's front
    /// page: Android shows it after login and as "Open site".
    #[serde(rename = "venue-info-url", skip_serializing_if = "Option::is_none")]
    pub venue_info_url: Option<String>,
}

/// The page for `venue-info-url`: the most recent open order of the
/// guest devices seen from the requester's MAC (the phone's system fetches
/// the API without the browser's cookies), else of the request's own
/// device cookie, else the venue's front page.
async fn venue_info(state: &AppState, peer: std::net::IpAddr, cookie: GuestId) -> Option<String> {
    let base = state.web.portal_url.clone()?;
    let mac = state.gateway.as_ref().and_then(|g| g.mac_of(peer));
    let found = state
        .store
        .read(move |r| {
            let seen = match mac {
                Some(m) => wifi::session(r, m)?.map(|s| s.devices).unwrap_or_default(),
                None => Vec::new(),
            };
            for devices in [seen, vec![cookie]] {
                let mut newest: Option<crate::domain::order::Order> = None;
                for d in devices {
                    for o in orders::guest_orders(r, d)? {
                        if o.status.is_open() && newest.as_ref().is_none_or(|n| o.id > n.id) {
                            newest = Some(o);
                        }
                    }
                }
                if let Some(o) = newest {
                    return Ok(Some(o.token));
                }
            }
            Ok(None)
        })
        .await;
    match found {
        Ok(Some(token)) => Some(format!("{base}o/{token}")),
        Ok(None) => Some(base),
        Err(e) => {
            tracing::warn!(error = %e, "venue page lookup failed");
            Some(base)
        }
    }
}

/// Remembers that guest device `guest` is using the client at `peer` (when
/// the gateway knows its MAC), for [`venue_info`]. Failures are logged:
/// an order or a join never fails for it.
pub async fn remember_device(state: &AppState, peer: std::net::IpAddr, guest: GuestId) {
    let Some(mac) = state.gateway.as_ref().and_then(|g| g.mac_of(peer)) else {
        return;
    };
    let known = state
        .store
        .read(move |r| Ok(wifi::session(r, mac)?.is_some_and(|s| s.devices.last() == Some(&guest))))
        .await;
    if matches!(known, Ok(true)) {
        return;
    }
    if let Err(e) = state
        .store
        .write(move |tx| wifi::saw_device(tx, mac, guest))
        .await
    {
        tracing::warn!(error = %e, "guest device not recorded");
    }
}

async fn captive_api(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Device(cookie): Device,
) -> Response {
    let venue_info_url = venue_info(&state, peer.ip(), cookie).await;
    let body = match &state.gateway {
        None => CaptiveApi {
            captive: false,
            user_portal_url: state.web.portal_url.clone(),
            seconds_remaining: None,
            can_extend_session: false,
            venue_info_url,
        },
        Some(gw) => match gw.state_of(peer.ip()).await {
            Ok(s) => CaptiveApi {
                captive: s.captive,
                user_portal_url: state.web.portal_url.clone(),
                seconds_remaining: (!s.captive).then_some(s.seconds_remaining),
                can_extend_session: true,
                venue_info_url,
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
    Device(guest): Device,
    PageForm(f): PageForm<JoinForm>,
) -> Result<Response, PageError> {
    let Some(gw) = &state.gateway else {
        return Ok(see_other("/"));
    };
    if f.accept != "yes" {
        return Err(PageError::said(Failure::Invalid, "guest.join.accept_first"));
    }
    let mac = gw
        .mac_of(peer.ip())
        .ok_or_else(|| PageError::said(Failure::Forbidden, "guest.join.not_on_wifi"))?;
    gw.authorize(mac, None).await.map_err(|e| {
        PageError::said_with(
            Failure::Unavailable,
            "guest.join.failed",
            vec![("why", e.to_string())],
        )
    })?;
    remember_device(&state, peer.ip(), guest).await;
    Ok(see_other("/?joined=1"))
}
