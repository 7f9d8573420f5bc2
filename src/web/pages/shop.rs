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
use crate::i18n::Lang;
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
    /// Not (yet) approved by the venue: guests cannot see the shop (a key
    /// of the interface text).
    unlisted: Option<&'static str>,
    q: Queue,
}

async fn dashboard(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let shop = state.store.read(move |r| catalog::shop(r, k.shop)).await?;
    let q = queue(&state, &c, k.shop).await?;
    let unlisted = match shop.approval {
        Approval::Approved => None,
        Approval::Pending => Some("staff.shop.not_approved"),
        Approval::Rejected => Some("staff.shop.rejected"),
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
    options: Vec<(String, String, String)>,
    lines: Vec<(String, String, String)>,
    /// Per payment method, its name in the page's language.
    methods: Vec<(String, String, String, String, String)>,
}

impl ReportPage {
    fn revenue(&self) -> String {
        self.revenue.clone()
    }
    /// "2026-12-01 to 2026-12-02: 12 orders (1 cancelled, 0 not collected)".
    fn summary(&self) -> String {
        let l = self.c.lang;
        l.t_with(
            "staff.report.summary",
            &[
                ("from", &self.from),
                ("to", &self.to),
                ("n", &l.number(self.r.orders)),
                ("cancelled", &l.number(self.r.cancelled)),
                ("not_collected", &l.number(self.r.not_collected)),
            ],
        )
    }
    /// Minutes to one decimal, with the language's decimal mark.
    fn minutes(&self, s: Option<u64>) -> String {
        s.map_or_else(
            || "–".to_owned(),
            |s| {
                let text = format!("{:.1}", s as f64 / 60.0);
                match self.c.lang {
                    Lang::De => text.replace('.', ","),
                    Lang::En => text,
                }
            },
        )
    }
    fn average(&self) -> String {
        self.minutes(self.r.prep_average_seconds)
    }
    fn p90(&self) -> String {
        self.minutes(self.r.prep_p90_seconds)
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
    let bad = || PageError::said(Failure::Invalid, "staff.report.bad_date").back("/shop/report");
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
    let (lang, currency) = (c.lang, c.currency);
    let money = |a| lang.money(currency, a);
    render(&ReportPage {
        c,
        from,
        to,
        lines: r
            .lines
            .iter()
            .map(|l| (l.name.clone(), lang.number(l.quantity), money(l.revenue)))
            .collect(),
        methods: r
            .methods
            .iter()
            .map(|m| {
                (
                    lang.t(&format!("staff.report.method.{}", m.method))
                        .into_owned(),
                    lang.number(m.paid_orders),
                    money(m.paid),
                    lang.number(m.unpaid_orders),
                    money(m.unpaid),
                )
            })
            .collect(),
        revenue: money(r.revenue),
        options: r
            .options
            .iter()
            .map(|o| {
                let amount = money(crate::domain::Cents(o.revenue_delta.unsigned_abs()));
                let sign = if o.revenue_delta < 0 { "−" } else { "+" };
                (
                    format!("{}: {}", o.group, o.name),
                    lang.number(o.quantity),
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
