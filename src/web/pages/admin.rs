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
    /// The approval in the page's language.
    approval_text: String,
    pending: bool,
}

struct ClientRow {
    mac: String,
    ip: String,
    hostname: String,
    /// The client's state in the page's language.
    state: String,
    minutes_left: String,
    bytes: String,
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
    let lang = c.lang;
    let mut shops: Vec<ShopRow> = state
        .store
        .read(|r| catalog::shops(r, false))
        .await?
        .into_iter()
        .map(|s| ShopRow {
            id: s.id.0,
            pending: s.approval == Approval::Pending,
            approval: approval_str(s.approval),
            approval_text: lang
                .t(&format!("admin.approval.{}", approval_str(s.approval)))
                .into_owned(),
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
            .map(|client| ClientRow {
                ip: client
                    .session
                    .ips
                    .last()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                hostname: client.session.hostname.clone().unwrap_or_default(),
                state: lang
                    .t(&format!("admin.client.{}", client.state()))
                    .into_owned(),
                minutes_left: lang.t_with(
                    "admin.client.minutes",
                    &[("n", &lang.number(client.seconds_remaining / 60))],
                ),
                bytes: lang.t_with(
                    "admin.client.bytes",
                    &[("n", &lang.number(client.session.bytes_in))],
                ),
                mac: client.session.mac.to_string(),
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
            return Err(PageError::said(Failure::NotFound, "admin.no_such_action").back("/admin"));
        }
    };
    let result = state
        .store
        .write(move |tx| catalog::set_approval(tx, ShopId(shop_id), approval))
        .await;
    done(result, "/admin")
}
