//! The shopkeeper's counter: the dashboard page around the kitchen display
//! (the queue itself, its cards and actions are in [`super::kitchen`]),
//! and today's report.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::kitchen::{Queue, queue};
use super::{Chrome, PageResult, ShopPage, money, render};
use crate::domain::shop::Approval;
use crate::store::{catalog, orders};
use crate::web::AppState;

/// Dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(dashboard))
        .route("/shop/report", get(report))
        .merge(super::kitchen::router())
}

#[derive(Template)]
#[template(path = "shop_dashboard.html")]
struct Dashboard {
    c: Chrome,
    shop: String,
    paused: bool,
    /// Not (yet) approved by the venue: guests cannot see the shop.
    unlisted: Option<&'static str>,
    q: Queue,
}

async fn dashboard(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let shop = state.store.read(move |r| catalog::shop(r, k.shop)).await?;
    let q = queue(&state, &c, k.shop).await?;
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
        q,
    })
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
