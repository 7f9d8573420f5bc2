//! The shopkeeper's shop settings and tables: details, pause and resume,
//! weekly opening hours, the open-order limit, resetting the order number,
//! the call prefix and usual preparation time;
//! order sessions (tables) with their QR codes, orders and closing.

use crate::web::error::Failure;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Deserialize;

use super::guest::{origin, qr_svg};
use super::{Chrome, PageError, PageForm, PageResult, ShopPage, done, render};
use crate::domain::SessionId;
use crate::domain::shop::{OpeningHours, Window};
use crate::store::pickup::{self, PickupPatch};
use crate::store::{ShopPatch, catalog, service};
use crate::web::AppState;

/// Settings and tables routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop/settings", get(settings).post(save_details))
        .route("/shop/pause", post(pause))
        .route("/shop/hours", post(save_hours))
        .route("/shop/pickup", post(save_pickup))
        .route("/shop/order-number/reset", post(reset_number))
        .route("/shop/tables", get(tables).post(open_table))
        .route("/shop/tables/{id}/close", post(close_table))
        .route("/shop/tables/{id}/print", get(print_table))
}

/// The weekdays, Monday first, as keys of the interface text.
const DAYS: [&str; 7] = [
    "staff.day.monday",
    "staff.day.tuesday",
    "staff.day.wednesday",
    "staff.day.thursday",
    "staff.day.friday",
    "staff.day.saturday",
    "staff.day.sunday",
];

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

#[derive(Template)]
#[template(path = "shop_settings.html")]
struct Settings {
    c: Chrome,
    name: String,
    location: String,
    contact: String,
    paused: bool,
    limit: String,
    /// Per weekday: its name's key, open, close (empty when closed that day).
    days: Vec<(usize, &'static str, String, String)>,
    always_open: bool,
    /// The prefix in use, and the one the shop chose (empty: derived).
    prefix: String,
    chosen_prefix: String,
    /// The usual preparation time the shop set, in minutes (empty: default).
    prep_minutes: String,
}

async fn settings(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let (s, prefix, p) = state
        .store
        .read(move |r| {
            Ok((
                catalog::shop(r, k.shop)?,
                pickup::prefix(r, k.shop)?,
                pickup::settings(r, k.shop)?,
            ))
        })
        .await?;
    let days = DAYS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let w = s.hours.windows.iter().find(|w| usize::from(w.weekday) == i);
            (
                i,
                *d,
                w.map(|w| hhmm(w.open)).unwrap_or_default(),
                w.map(|w| hhmm(w.close)).unwrap_or_default(),
            )
        })
        .collect();
    render(&Settings {
        c,
        always_open: s.hours.windows.is_empty(),
        name: s.name,
        location: s.location,
        contact: s.contact,
        paused: s.paused,
        limit: s
            .open_order_limit
            .map(|l| l.to_string())
            .unwrap_or_default(),
        days,
        prefix,
        chosen_prefix: p.prefix.unwrap_or_default(),
        prep_minutes: p
            .default_prep_seconds
            .map(|s| s.div_ceil(60).to_string())
            .unwrap_or_default(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickupForm {
    /// Empty: derived from the name.
    #[serde(default)]
    prefix: String,
    /// Empty: the venue's default.
    #[serde(default)]
    prep_minutes: String,
}

async fn save_pickup(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<PickupForm>,
) -> PageResult {
    let prefix = Some(f.prefix.trim().to_owned()).filter(|p| !p.is_empty());
    let minutes = match f.prep_minutes.trim() {
        "" => None,
        n => Some(
            n.parse::<u32>()
                .map_err(|_| invalid("staff.settings.bad_prep"))?,
        ),
    };
    let p = PickupPatch {
        prefix: Some(prefix),
        default_prep_seconds: Some(minutes.map(|m| m.saturating_mul(60))),
    };
    let shop = k.shop;
    done(
        state
            .store
            .write(move |tx| pickup::update(tx, shop, p))
            .await,
        "/shop/settings",
    )
}

fn invalid(key: &'static str) -> PageError {
    PageError::said(Failure::Invalid, key).back("/shop/settings")
}

async fn patch(state: &AppState, k: &ShopPage, p: ShopPatch) -> PageResult {
    let shop = k.shop;
    let result = state
        .store
        .write(move |tx| catalog::update_shop(tx, shop, p))
        .await;
    done(result, "/shop/settings")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Details {
    name: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    contact: String,
    /// Empty: no limit.
    #[serde(default)]
    limit: String,
}

async fn save_details(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<Details>,
) -> PageResult {
    let limit = match f.limit.trim() {
        "" => None,
        n => Some(
            n.parse::<u32>()
                .map_err(|_| invalid("staff.settings.bad_limit"))?,
        ),
    };
    let p = ShopPatch {
        name: Some(f.name),
        location: Some(f.location),
        contact: Some(f.contact),
        open_order_limit: Some(limit),
        ..ShopPatch::default()
    };
    patch(&state, &k, p).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseForm {
    paused: bool,
}

async fn pause(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<PauseForm>,
) -> PageResult {
    let p = ShopPatch {
        paused: Some(f.paused),
        ..ShopPatch::default()
    };
    patch(&state, &k, p).await
}

async fn save_hours(
    State(state): State<AppState>,
    c: Chrome,
    k: ShopPage,
    PageForm(f): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |key: &str| {
        f.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut windows = Vec::new();
    if get("always").as_deref() != Some("yes") {
        for (i, day) in DAYS.iter().enumerate() {
            let open = get(&format!("open{i}")).unwrap_or_default();
            let close = get(&format!("close{i}")).unwrap_or_default();
            if open.is_empty() && close.is_empty() {
                continue;
            }
            let (Some(o), Some(c)) = (parse_hhmm(&open), parse_hhmm(&close)) else {
                return Err(PageError::said_with(
                    Failure::Invalid,
                    "staff.settings.bad_times",
                    vec![("day", c.t(day).into_owned())],
                )
                .back("/shop/settings"));
            };
            windows.push(Window {
                weekday: u8::try_from(i).unwrap_or(0),
                open: o,
                close: c,
            });
        }
        if windows.is_empty() {
            return Err(invalid("staff.settings.no_hours"));
        }
    }
    let p = ShopPatch {
        hours: Some(OpeningHours { windows }),
        ..ShopPatch::default()
    };
    patch(&state, &k, p).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    confirm: String,
}

async fn reset_number(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<Confirm>,
) -> PageResult {
    if f.confirm != "yes" {
        return Err(invalid("staff.settings.confirm_reset"));
    }
    let result = state
        .store
        .write(move |tx| catalog::reset_numbers(tx, k.shop))
        .await;
    done(result, "/shop/settings")
}

struct TableRow {
    id: u64,
    label: String,
    link: String,
    qr: String,
    open: bool,
    orders: Vec<(u32, String, String)>,
}

#[derive(Template)]
#[template(path = "shop_tables.html")]
struct Tables {
    c: Chrome,
    tables: Vec<TableRow>,
}

async fn table_rows(
    state: &AppState,
    c: &Chrome,
    k: &ShopPage,
    headers: &HeaderMap,
    only: Option<SessionId>,
) -> Result<Vec<TableRow>, PageError> {
    let shop = k.shop;
    let list = state
        .store
        .read(move |r| {
            let mut out = Vec::new();
            for s in service::sessions(r, shop)? {
                if only.is_some_and(|id| id != s.id) {
                    continue;
                }
                let orders = service::session_orders(r, s.id)?;
                out.push((s, orders));
            }
            Ok(out)
        })
        .await?;
    let base = origin(state, headers, false);
    Ok(list
        .into_iter()
        .map(|(s, orders)| {
            let link = format!("{base}/t/{}", s.code);
            TableRow {
                id: s.id.0,
                qr: qr_svg(&link),
                link,
                label: s.label,
                open: s.closed_at.is_none(),
                orders: orders
                    .iter()
                    .map(|o| {
                        let status = c.t(&format!("staff.status.{}", o.status.as_str()));
                        (o.number, status.into_owned(), c.money(o.total))
                    })
                    .collect(),
            }
        })
        .collect())
}

async fn tables(
    State(state): State<AppState>,
    c: Chrome,
    k: ShopPage,
    headers: HeaderMap,
) -> PageResult {
    let tables = table_rows(&state, &c, &k, &headers, None).await?;
    render(&Tables { c, tables })
}

#[derive(Template)]
#[template(path = "shop_table_print.html")]
struct Print {
    c: Chrome,
    t: TableRow,
}

async fn print_table(
    State(state): State<AppState>,
    c: Chrome,
    k: ShopPage,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> PageResult {
    let t = table_rows(&state, &c, &k, &headers, Some(SessionId(id)))
        .await?
        .pop()
        .ok_or_else(|| {
            PageError::said(Failure::NotFound, "staff.tables.no_such_table").back("/shop/tables")
        })?;
    render(&Print { c, t })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenForm {
    label: String,
}

async fn open_table(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<OpenForm>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| service::open_session(tx, k.shop, &f.label))
        .await;
    done(result, "/shop/tables")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn close_table(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| service::close_session(tx, k.shop, SessionId(id)))
        .await;
    done(result, "/shop/tables")
}
