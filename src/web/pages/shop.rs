//! The shopkeeper's counter: the dashboard page around the kitchen display
//! (the queue itself, its cards and actions are in [`super::kitchen`]),
//! and the report of a chosen day or range, as a page and as CSV.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::kitchen::{Queue, queue};
use super::{Chrome, PageError, PageResult, ShopPage, render};
use crate::domain::shop::Approval;
use crate::domain::time::local_midnight;
use crate::store::catalog;
use crate::store::report::{self, RangeReport};
use crate::web::AppState;
use crate::web::error::Failure;

/// Dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(dashboard))
        .route("/shop/report", get(report))
        .route("/shop/report.csv", get(report_csv))
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
    from: String,
    to: String,
    r: RangeReport,
    revenue: String,
    /// Per option: "Size: Large", units, what it added.
    options: Vec<(String, u64, String)>,
    lines: Vec<(String, u64, String)>,
    methods: Vec<(&'static str, u64, String, u64, String)>,
}

impl ReportPage {
    fn revenue(&self) -> String {
        self.revenue.clone()
    }
    fn minutes(s: Option<u64>) -> String {
        s.map_or_else(|| "–".to_owned(), |s| format!("{:.1}", s as f64 / 60.0))
    }
    fn average(&self) -> String {
        Self::minutes(self.r.prep_average_seconds)
    }
    fn p90(&self) -> String {
        Self::minutes(self.r.prep_p90_seconds)
    }
}

/// The chosen range: `from` and `to` are venue-local dates (`YYYY-MM-DD`),
/// both included; left out, today.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// Reads the range's report; the dates as given (or today's).
async fn range(
    state: &AppState,
    shop: crate::domain::ShopId,
    q: RangeQuery,
) -> Result<(String, String, RangeReport), PageError> {
    let offset = state.store.settings().utc_offset_minutes;
    let today_start = state.store.now().local_day_start(offset);
    let bad =
        || PageError::new(Failure::Invalid, "Dates look like 2026-12-01.").back("/shop/report");
    let parse = |d: &Option<String>| match d.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => local_midnight(d, offset)
            .map(|t| (d.to_owned(), t))
            .ok_or_else(bad),
        None => Ok((day_text(today_start, offset), today_start)),
    };
    let (from_text, from) = parse(&q.from)?;
    let (to_text, to_day) = parse(&q.to)?;
    let to = to_day.plus_ms(86_400_000);
    let r = state
        .store
        .read(move |r| report::range_report(r, shop, from, to, offset))
        .await?;
    Ok((from_text, to_text, r))
}

/// `YYYY-MM-DD` of the venue-local day starting at `start`.
fn day_text(start: crate::domain::Timestamp, offset: i32) -> String {
    // Walk from a civil date near the day: exact, and only for labels.
    let days = (i64::try_from(start.0).unwrap_or(0) + i64::from(offset) * 60_000) / 86_400_000;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// H. Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

async fn report(
    State(state): State<AppState>,
    c: Chrome,
    k: ShopPage,
    Query(q): Query<RangeQuery>,
) -> PageResult {
    let (from, to, r) = range(&state, k.shop, q).await?;
    render(&ReportPage {
        c,
        from,
        to,
        lines: r
            .lines
            .iter()
            .map(|l| (l.name.clone(), l.quantity, state.money(l.revenue)))
            .collect(),
        methods: r
            .methods
            .iter()
            .map(|m| {
                (
                    m.method,
                    m.paid_orders,
                    state.money(m.paid),
                    m.unpaid_orders,
                    state.money(m.unpaid),
                )
            })
            .collect(),
        revenue: state.money(r.revenue),
        options: r
            .options
            .iter()
            .map(|o| {
                let amount = state.money(crate::domain::Cents(o.revenue_delta.unsigned_abs()));
                let sign = if o.revenue_delta < 0 { "−" } else { "+" };
                (
                    format!("{}: {}", o.group, o.name),
                    o.quantity,
                    format!("{sign}{amount}"),
                )
            })
            .collect(),
        r,
    })
}

async fn report_csv(
    State(state): State<AppState>,
    k: ShopPage,
    Query(q): Query<RangeQuery>,
) -> Result<Response, PageError> {
    let (from, to, r) = range(&state, k.shop, q).await?;
    let name = format!("attachment; filename=\"report-{from}-to-{to}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        r.csv(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_from_days_inverts_days_from_civil() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 12, 1), (2100, 3, 1)] {
            let days = crate::domain::time::days_from_civil(y, m, d).expect("a date");
            assert_eq!(
                super::civil_from_days(days),
                (i64::from(y), i64::from(m), i64::from(d))
            );
        }
    }
}
