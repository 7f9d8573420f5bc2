//! The kitchen display: the queue of open orders in three columns (new,
//! cooking, ready), compact cards with their age, lines, note, table and
//! payment, the recently finished orders to recall, the printer's state,
//! and the forms behind every action (bump, undo, cancel with a reason,
//! not collected, recall, paid by cash or card, reprint). Each form works
//! without JavaScript (303 back to `/shop`); static/shop.js sends the same
//! forms without a reload and redraws the queue from `/shop/queue`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PageError, PageForm, PageResult, ShopPage, done, render};
use crate::domain::order::{Actor, OrderStatus, RECALL_WINDOW_MS, UNDO_WINDOW_MS};
use crate::domain::service::{PaymentMethod, PaymentStatus};
use crate::domain::{OrderId, ShopId};
use crate::store::{OrderView, Scope, catalog, kitchen, orders, printing, service};
use crate::web::AppState;
use crate::web::api::dto::parse_status;
use crate::web::error::Failure;

/// How many finished orders the display offers to recall.
const RECENT: usize = 6;

/// The kitchen display's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop/queue", get(queue_fragment))
        .route("/shop/orders/{order_id}/status", post(set_status))
        .route("/shop/orders/{order_id}/undo", post(undo))
        .route("/shop/orders/{order_id}/paid", post(paid))
        .route("/shop/orders/{order_id}/print", post(print))
}

/// One order card.
#[derive(Debug)]
pub struct Card {
    pub(super) id: u64,
    /// The identifier called out, as on the board and the guest's phone.
    pub(super) call: String,
    pub(super) code: String,
    pub(super) status: &'static str,
    pub(super) pickup_name: String,
    pub(super) note: String,
    pub(super) lines: Vec<(u32, String)>,
    pub(super) total: String,
    /// Placed at (ms since the epoch): the age ticks from here.
    pub(super) since_ms: u64,
    /// Minutes since placed, for the page without JavaScript.
    pub(super) age_minutes: u64,
    pub(super) table: Option<String>,
    /// The next stage and its button label (a key of the interface text).
    pub(super) next: Option<(&'static str, &'static str)>,
    /// Until when (ms) the shop's last step can be taken back.
    pub(super) undo_until_ms: Option<u64>,
    /// `Some(paid)` when the order has a payment record.
    pub(super) paid: Option<bool>,
    /// How it was paid, as a key of the interface text ("paid cash").
    pub(super) method: &'static str,
}

/// A stage column.
#[derive(Debug)]
pub struct Column {
    /// The heading, a key of the interface text.
    pub(super) title: &'static str,
    /// `new`, `cooking`, `ready`.
    pub(super) key: &'static str,
    pub(super) cards: Vec<Card>,
}

/// The queue as the display draws it.
#[derive(Debug)]
pub struct Queue {
    pub(super) cols: Vec<Column>,
    /// Finished orders (completed, not collected) to recall, newest first.
    pub(super) recent: Vec<Card>,
    /// The server's clock when drawn (ms), so ages tick from it.
    pub(super) now_ms: u64,
    /// The shop's usual preparation time: amber past it, red past twice.
    pub(super) prep_seconds: u32,
    /// `Some(waiting)` when a printer is set and does not answer.
    pub(super) printer_offline: Option<usize>,
    /// Tickets waiting for a printer that answers.
    pub(super) printer_waiting: usize,
}

fn next_step(s: OrderStatus) -> Option<(&'static str, &'static str)> {
    match s {
        OrderStatus::Placed => Some(("accepted", "staff.kds.next.accept")),
        OrderStatus::Accepted => Some(("preparing", "js.shop.next_start")),
        OrderStatus::Preparing => Some(("ready", "js.shop.next_ready")),
        OrderStatus::Ready => Some(("completed", "js.shop.next_picked_up")),
        OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::NotCollected => None,
    }
}

/// A line for the counter: the item and, after a dash, its options (their
/// prices written the page's way).
pub fn line_text(l: &crate::domain::order::OrderLine, c: &Chrome) -> String {
    if l.options.is_empty() {
        return l.name.clone();
    }
    format!("{} — {}", l.name, l.options_text(|a| c.money(a)))
}

fn card(c: &Chrome, v: OrderView, table: Option<String>, now_ms: u64) -> Card {
    let o = v.order;
    let undo_until_ms = v.events.last().and_then(|e| {
        let own = e.actor == Actor::Shop && e.to != OrderStatus::Cancelled;
        let forward = e.from.is_some_and(|f| !e.to.is_back_from(f));
        let until = e.at.0 + UNDO_WINDOW_MS;
        (own && forward && until > now_ms).then_some(until)
    });
    Card {
        id: o.id.0,
        call: v.call,
        code: o.pickup_code,
        status: o.status.as_str(),
        pickup_name: o.pickup_name,
        note: o.note,
        lines: o
            .lines
            .iter()
            .map(|l| (l.quantity, line_text(l, c)))
            .collect(),
        total: c.money(o.total),
        since_ms: o.created_at.0,
        age_minutes: now_ms.saturating_sub(o.created_at.0) / 60_000,
        table,
        next: next_step(o.status),
        undo_until_ms,
        paid: v
            .payment
            .as_ref()
            .map(|p| p.status == PaymentStatus::Successful),
        method: v.payment.as_ref().map_or("", |p| match p.method {
            PaymentMethod::Cash => "js.shop.paid_cash",
            PaymentMethod::Card => "js.shop.paid_card",
            PaymentMethod::Upi => "staff.kds.paid_upi",
            PaymentMethod::Wallet => "staff.kds.paid_wallet",
        }),
    }
}

/// Reads the shop's queue.
pub async fn queue(state: &AppState, c: &Chrome, shop: ShopId) -> Result<Queue, PageError> {
    let now = state.store.now();
    let (views, recent, prep, waiting, has_printer) = state
        .store
        .read(move |r| {
            let q = crate::store::queue::shop_queue(r, shop)?;
            let with_table = |o: crate::domain::order::Order| {
                let table = match o.session {
                    Some(id) => service::own_session(r, shop, id).ok().map(|s| s.label),
                    None => None,
                };
                Ok::<_, crate::store::StoreError>((orders::view_in(r, o, Some(&q))?, table))
            };
            let mut open = Vec::new();
            for o in orders::shop_orders(r, shop, true, 0)? {
                open.push(with_table(o)?);
            }
            let mut recent = Vec::new();
            for o in orders::shop_orders(r, shop, false, 40)? {
                let finished =
                    matches!(o.status, OrderStatus::Completed | OrderStatus::NotCollected);
                if finished && now.since(o.updated_at) <= RECALL_WINDOW_MS && recent.len() < RECENT
                {
                    recent.push(with_table(o)?);
                }
            }
            let s = catalog::shop(r, shop)?;
            let printer = printing::printer_settings(r, shop)?.printer.is_some();
            Ok((
                open,
                recent,
                s.average_prep_seconds(),
                printing::waiting(r, shop)?,
                printer,
            ))
        })
        .await?;
    let online = state
        .printers
        .as_ref()
        .and_then(|p| p.online(shop))
        .unwrap_or(false);
    let mut cols = vec![
        Column {
            title: "staff.kds.col_new",
            key: "new",
            cards: vec![],
        },
        Column {
            title: "staff.kds.col_cooking",
            key: "cooking",
            cards: vec![],
        },
        Column {
            title: "staff.kds.col_ready",
            key: "ready",
            cards: vec![],
        },
    ];
    for (v, table) in views {
        let col = match v.order.status {
            OrderStatus::Placed => 0,
            OrderStatus::Accepted | OrderStatus::Preparing => 1,
            OrderStatus::Ready => 2,
            _ => continue,
        };
        cols[col].cards.push(card(c, v, table, now.0));
    }
    Ok(Queue {
        cols,
        recent: recent
            .into_iter()
            .map(|(v, t)| card(c, v, t, now.0))
            .collect(),
        now_ms: now.0,
        prep_seconds: prep,
        printer_offline: (has_printer && !online).then_some(waiting),
        printer_waiting: waiting,
    })
}

#[derive(Template)]
#[template(path = "shop_queue.html")]
struct QueueFragment {
    c: Chrome,
    q: Queue,
}

async fn queue_fragment(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let q = queue(&state, &c, k.shop).await?;
    render(&QueueFragment { c, q })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
    /// A checkbox: present ("on") when the cancelled order's stock comes back.
    #[serde(default)]
    restock: Option<String>,
}

fn back(e: impl Into<PageError>) -> PageError {
    e.into().back("/shop")
}

async fn set_status(
    State(state): State<AppState>,
    k: ShopPage,
    Path(order_id): Path<u64>,
    PageForm(f): PageForm<StatusForm>,
) -> PageResult {
    let to = parse_status(&f.status)
        .ok_or_else(|| back(PageError::said(Failure::Invalid, "staff.kds.not_a_stage")))?;
    let reason = (!f.reason.trim().is_empty()).then(|| f.reason.trim().to_owned());
    let restock = f.restock.is_some();
    let result = state
        .store
        .write(move |tx| {
            let (scope, id) = (Scope::Shop(k.shop), OrderId(order_id));
            if to == OrderStatus::Cancelled {
                orders::cancel(tx, scope, id, reason, Some(restock))
            } else {
                orders::set_status(tx, scope, id, to, reason)
            }
        })
        .await;
    done(result, "/shop")
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn undo(
    State(state): State<AppState>,
    k: ShopPage,
    Path(order_id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| kitchen::undo(tx, k.shop, OrderId(order_id)))
        .await;
    done(result, "/shop")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaidForm {
    /// `cash` or `card`.
    method: String,
}

async fn paid(
    State(state): State<AppState>,
    k: ShopPage,
    Path(order_id): Path<u64>,
    PageForm(f): PageForm<PaidForm>,
) -> PageResult {
    let method = match f.method.as_str() {
        "cash" => PaymentMethod::Cash,
        "card" => PaymentMethod::Card,
        _ => {
            return Err(back(PageError::said(
                Failure::Invalid,
                "staff.kds.cash_or_card",
            )));
        }
    };
    let result = state
        .store
        .write(move |tx| {
            service::set_payment(
                tx,
                k.shop,
                OrderId(order_id),
                PaymentStatus::Successful,
                Some(method),
            )
        })
        .await;
    done(result, "/shop")
}

async fn print(
    State(state): State<AppState>,
    k: ShopPage,
    Path(order_id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| printing::queue_reprint(tx, k.shop, OrderId(order_id)))
        .await;
    done(result, "/shop")
}
