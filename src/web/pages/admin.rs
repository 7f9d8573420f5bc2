//! The venue operator's page: every shop (pending first) with approve and
//! reject, and the Wi-Fi clients the captive gateway knows.

use crate::web::error::Failure;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{AdminPage, Chrome, PageError, PageForm, PageResult, done, render};
use crate::domain::ShopId;
use crate::domain::shop::Approval;
use crate::store::catalog;
use crate::web::AppState;
use crate::web::api::dto::approval_str;

/// Admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/shops/{shop_id}/{decision}", post(decide))
}

struct ShopRow {
    id: u64,
    name: String,
    location: String,
    approval: &'static str,
    pending: bool,
}

struct ClientRow {
    mac: String,
    ip: String,
    hostname: String,
    state: &'static str,
    minutes_left: u64,
    bytes: u64,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Page {
    c: Chrome,
    shops: Vec<ShopRow>,
    gateway: bool,
    clients: Vec<ClientRow>,
}

async fn page(State(state): State<AppState>, c: Chrome, _a: AdminPage) -> PageResult {
    let mut shops: Vec<ShopRow> = state
        .store
        .read(|r| catalog::shops(r, false))
        .await?
        .into_iter()
        .map(|s| ShopRow {
            id: s.id.0,
            pending: s.approval == Approval::Pending,
            approval: approval_str(s.approval),
            name: s.name,
            location: s.location,
        })
        .collect();
    shops.sort_by_key(|s| (!s.pending, s.id));
    let clients = match &state.gateway {
        Some(gw) => gw
            .clients()
            .await
            .map_err(|e| PageError::new(Failure::Unavailable, e.to_string()))?
            .into_iter()
            .map(|c| ClientRow {
                ip: c
                    .session
                    .ips
                    .last()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                hostname: c.session.hostname.clone().unwrap_or_default(),
                state: c.state(),
                minutes_left: c.seconds_remaining / 60,
                bytes: c.session.bytes_in,
                mac: c.session.mac.to_string(),
            })
            .collect(),
        None => Vec::new(),
    };
    render(&Page {
        c,
        shops,
        gateway: state.gateway.is_some(),
        clients,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn decide(
    State(state): State<AppState>,
    _a: AdminPage,
    Path((shop_id, decision)): Path<(u64, String)>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let approval = match decision.as_str() {
        "approve" => Approval::Approved,
        "reject" => Approval::Rejected,
        _ => {
            return Err(
                PageError::new(Failure::NotFound, "There is no such action.").back("/admin"),
            );
        }
    };
    let result = state
        .store
        .write(move |tx| catalog::set_approval(tx, ShopId(shop_id), approval))
        .await;
    done(result, "/admin")
}
