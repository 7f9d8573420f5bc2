//! The shopkeeper's counter: the live order queue (new orders appear
//! without reload, one tap moves an order to its next stage, reject with a
//! reason), and today's report.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PageError, PageForm, PageResult, ShopPage, money, render, see_other};
use crate::domain::OrderId;
use crate::domain::order::OrderStatus;
use crate::domain::shop::Approval;
use crate::store::{OrderView, Scope, catalog, orders, service};
use crate::web::AppState;
use crate::web::api::dto::parse_status;

/// Dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(dashboard))
        .route("/shop/queue", get(queue_fragment))
        .route("/shop/orders/{order_id}/status", post(set_status))
        .route("/shop/report", get(report))
}

/// One order card.
struct Card {
    id: u64,
    number: u32,
    code: String,
    status: &'static str,
    pickup_name: String,
    note: String,
    lines: Vec<(u32, String)>,
    total: String,
    age_minutes: u64,
    table: Option<String>,
    /// The next stage and its button label.
    next: Option<(&'static str, &'static str)>,
    can_reject: bool,
}

/// A stage column.
struct Column {
    title: &'static str,
    cards: Vec<Card>,
}

fn next_step(s: OrderStatus) -> Option<(&'static str, &'static str)> {
    match s {
        OrderStatus::Placed => Some(("accepted", "Accept")),
        OrderStatus::Accepted => Some(("preparing", "Start preparing")),
        OrderStatus::Preparing => Some(("ready", "Ready")),
        OrderStatus::Ready => Some(("completed", "Picked up")),
        OrderStatus::Completed | OrderStatus::Cancelled => None,
    }
}

async fn columns(state: &AppState, shop: crate::domain::ShopId) -> Result<Vec<Column>, PageError> {
    let now = state.store.now();
    let views: Vec<(OrderView, Option<String>)> = state
        .store
        .read(move |r| {
            let mut out = Vec::new();
            let queue = orders::queue(r, shop)?;
            for o in orders::shop_orders(r, shop, true, 0)? {
                let table = match o.session {
                    Some(id) => service::own_session(r, shop, id).ok().map(|s| s.label),
                    None => None,
                };
                out.push((orders::view_in(r, o, Some(&queue))?, table));
            }
            Ok(out)
        })
        .await?;
    let mut cols = vec![
        Column {
            title: "New",
            cards: vec![],
        },
        Column {
            title: "Accepted",
            cards: vec![],
        },
        Column {
            title: "Preparing",
            cards: vec![],
        },
        Column {
            title: "Ready",
            cards: vec![],
        },
    ];
    for (v, table) in views {
        let o = v.order;
        let col = match o.status {
            OrderStatus::Placed => 0,
            OrderStatus::Accepted => 1,
            OrderStatus::Preparing => 2,
            OrderStatus::Ready => 3,
            _ => continue,
        };
        cols[col].cards.push(Card {
            id: o.id.0,
            number: o.number,
            code: o.pickup_code,
            status: o.status.as_str(),
            pickup_name: o.pickup_name,
            note: o.note,
            lines: o
                .lines
                .iter()
                .map(|l| (l.quantity, l.name.clone()))
                .collect(),
            total: money(o.total),
            age_minutes: now.since(o.created_at) / 60_000,
            table,
            next: next_step(o.status),
            can_reject: matches!(o.status, OrderStatus::Placed | OrderStatus::Accepted),
        });
    }
    Ok(cols)
}

#[derive(Template)]
#[template(path = "shop_dashboard.html")]
struct Dashboard {
    c: Chrome,
    shop: String,
    paused: bool,
    /// Not (yet) approved by the venue: guests cannot see the shop.
    unlisted: Option<&'static str>,
    cols: Vec<Column>,
}

async fn dashboard(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let shop = state.store.read(move |r| catalog::shop(r, k.shop)).await?;
    let cols = columns(&state, k.shop).await?;
    let unlisted = match shop.approval {
        Approval::Approved => None,
        Approval::Pending => Some(
            "The venue has not approved your shop yet, so guests cannot see it. Set up your menu meanwhile.",
        ),
        Approval::Rejected => Some(
            "The venue has not accepted your shop, so guests cannot see it. Ask the venue's operator.",
        ),
    };
    render(&Dashboard {
        c,
        shop: shop.name,
        paused: shop.paused,
        unlisted,
        cols,
    })
}

#[derive(Template)]
#[template(path = "shop_queue.html")]
struct Queue {
    c: Chrome,
    cols: Vec<Column>,
}

async fn queue_fragment(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let cols = columns(&state, k.shop).await?;
    render(&Queue { c, cols })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
}

async fn set_status(
    State(state): State<AppState>,
    k: ShopPage,
    Path(order_id): Path<u64>,
    PageForm(f): PageForm<StatusForm>,
) -> PageResult {
    let to = parse_status(&f.status).ok_or_else(|| {
        PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "That is not a stage.").back("/shop")
    })?;
    let reason = (!f.reason.trim().is_empty()).then(|| f.reason.trim().to_owned());
    state
        .store
        .write(move |tx| orders::set_status(tx, Scope::Shop(k.shop), OrderId(order_id), to, reason))
        .await
        .map_err(|e| PageError::from(e).back("/shop"))?;
    Ok(see_other("/shop"))
}

#[derive(Template)]
#[template(path = "shop_report.html")]
struct ReportPage {
    c: Chrome,
    orders: u64,
    cancelled: u64,
    revenue: String,
    lines: Vec<(String, u64, String)>,
    prep_minutes: Option<String>,
}

async fn report(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let now = state.store.now();
    let offset = state.store.settings().utc_offset_minutes;
    let r = state
        .store
        .read(move |r| orders::report(r, k.shop, now, offset))
        .await?;
    render(&ReportPage {
        c,
        orders: r.orders,
        cancelled: r.cancelled,
        revenue: money(r.revenue),
        lines: r
            .lines
            .iter()
            .map(|l| (l.name.clone(), l.quantity, money(l.revenue)))
            .collect(),
        prep_minutes: r
            .average_prep_seconds
            .map(|s| format!("{:.1}", f64::from(s) / 60.0)),
    })
}
