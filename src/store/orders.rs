//! Order stage changes (with stock returned on cancellation), order views
//! with queue position, wait estimate and called identifier, the shop's order lists, the
//! auto-cancel sweep and the daily report.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{publish_availability, shop};
use super::checkout::{notify, notify_text};
use super::queue::{ShopQueue, shop_queue};
use super::tables::*;
use super::{StoreError, Tx, pickup};
use crate::domain::callsign;
use crate::domain::menu::{Ingredient, MenuItem, StockPolicy};
use crate::domain::order::{
    Actor, Order, OrderEvent, OrderStatus, RECALL_WINDOW_MS, check_transition,
};
use crate::domain::service::Payment;
use crate::domain::shop::Shop;
use crate::domain::stock::Taken;
use crate::domain::wait::Wait;
use crate::domain::{Cents, GuestId, ItemId, OrderId, ShopId, Timestamp, Token};
use crate::events::DomainEvent;

/// Who is acting on an order, and so which orders they may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A shopkeeper: only their shop's orders.
    Shop(ShopId),
    /// A guest holding the order's status link.
    Guest(Token),
    /// queueless itself.
    System,
}

fn not_found() -> StoreError {
    StoreError::NotFound {
        what: "order".into(),
    }
}

/// Loads an order if `scope` may see it.
pub fn order_in_scope(v: &impl View, scope: Scope, id: OrderId) -> Result<Order, StoreError> {
    let order: Order = v.get(ID_TO_ORDER, id.0)?.ok_or_else(not_found)?;
    let visible = match scope {
        Scope::Shop(shop) => order.shop == shop,
        Scope::Guest(token) => order.token == token,
        Scope::System => true,
    };
    if visible { Ok(order) } else { Err(not_found()) }
}

/// Finds an order by its status-link token.
pub fn order_by_token(v: &impl View, token: Token) -> Result<Order, StoreError> {
    let id = v
        .lookup(TOKEN_TO_ORDER_ID, token.0)?
        .ok_or_else(not_found)?;
    order_in_scope(v, Scope::Guest(token), OrderId(id))
}

/// Longest cancel reason, in characters.
pub const MAX_REASON: usize = 200;

/// Moves an order to `to`, checking the stage machine; returns the order.
/// A cancellation returns the stock while the order was not yet being
/// made ([`cancel`] lets the shop choose).
pub fn set_status(
    tx: &mut Tx<'_>,
    scope: Scope,
    id: OrderId,
    to: OrderStatus,
    reason: Option<String>,
) -> Result<Order, StoreError> {
    change(tx, scope, id, to, reason, None)
}

/// Cancels an order with `reason`; `restock` says whether its stock comes
/// back (`None`: only if it was not yet being made, since food already
/// made does not go back to stock).
pub fn cancel(
    tx: &mut Tx<'_>,
    scope: Scope,
    id: OrderId,
    reason: Option<String>,
    restock: Option<bool>,
) -> Result<Order, StoreError> {
    change(tx, scope, id, OrderStatus::Cancelled, reason, restock)
}

/// One checked stage change: the order, its event with the time, stock,
/// payment, ticket, the guest's notification and the live event, in the
/// caller's transaction.
pub(super) fn change(
    tx: &mut Tx<'_>,
    scope: Scope,
    id: OrderId,
    to: OrderStatus,
    reason: Option<String>,
    restock: Option<bool>,
) -> Result<Order, StoreError> {
    let mut order = order_in_scope(&**tx, scope, id)?;
    let actor = match scope {
        Scope::Shop(_) => Actor::Shop,
        Scope::Guest(_) => Actor::Guest,
        Scope::System => Actor::System,
    };
    let reason = match reason {
        Some(r) => Some(
            crate::domain::text::check_text("the reason", &r, MAX_REASON)
                .map_err(StoreError::Invalid)?,
        ),
        None => None,
    }
    .filter(|r| !r.is_empty());
    check_transition(order.status, to, actor, reason.as_deref())?;
    if to == OrderStatus::Ready
        && !order.status.is_open()
        && tx.now.since(order.updated_at) > RECALL_WINDOW_MS
    {
        return Err(StoreError::Conflict(
            "only orders finished in the last 2 hours can be recalled".into(),
        ));
    }
    write_change(tx, &mut order, actor, to, reason, restock)?;
    Ok(order)
}

/// Writes a stage change already checked (by [`change`] or an undo).
pub(super) fn write_change(
    tx: &mut Tx<'_>,
    order: &mut Order,
    actor: Actor,
    to: OrderStatus,
    reason: Option<String>,
    restock: Option<bool>,
) -> Result<(), StoreError> {
    let id = order.id;
    let from = order.status;
    let back = to.is_back_from(from);
    let events = events_of(&**tx, id)?;
    let mut shop_record: Option<Shop> = None;
    match to {
        OrderStatus::Accepted if !back => order.accepted_at = Some(tx.now),
        OrderStatus::Placed => order.accepted_at = None,
        OrderStatus::Ready if !back => {
            if let Some(accepted) = order.accepted_at {
                let mut s = shop(&**tx, order.shop)?;
                let seconds = tx.now.since(accepted) / 1000;
                s.record_prep(u32::try_from(seconds).unwrap_or(u32::MAX));
                shop_record = Some(s);
            }
        }
        OrderStatus::Cancelled => {
            order.cancel_reason = reason
                .clone()
                .or_else(|| (actor == Actor::Guest).then(|| "cancelled by the guest".to_owned()));
        }
        _ => {}
    }
    let seq = u32::try_from(events.len()).unwrap_or(u32::MAX);
    // All checks done: write.
    if let Some(s) = shop_record {
        tx.put(ID_TO_SHOP, s.id.0, &s)?;
    }
    if to == OrderStatus::Cancelled
        && restock.unwrap_or(matches!(from, OrderStatus::Placed | OrderStatus::Accepted))
    {
        return_stock(tx, order)?;
    }
    if to.is_open() {
        tx.put_value(SHOP_TO_OPEN_ORDER, (order.shop.0, id.0), ())?;
    } else {
        tx.remove(SHOP_TO_OPEN_ORDER, (order.shop.0, id.0))?;
    }
    order.status = to;
    order.updated_at = tx.now;
    tx.put(ID_TO_ORDER, id.0, &*order)?;
    let event = OrderEvent {
        from: Some(from),
        to,
        actor,
        at: tx.now,
        reason: reason.clone(),
    };
    tx.put(ORDER_SEQ_TO_EVENT, (id.0, seq), &event)?;
    if to == OrderStatus::Cancelled {
        super::service::void_pending_payment(tx, id)?;
    }
    // A ticket prints once per stage: a step taken back and done again
    // does not print a second one (a reprint is one tap away).
    if to == OrderStatus::Cancelled || !events.iter().any(|e| e.to == to) {
        super::printing::on_stage(tx, order, to)?;
    }
    let notification = if back {
        notify_text(tx, order, to, to.correction_message())?
    } else {
        notify(tx, order, to, reason.as_deref())?
    };
    tx.publish(DomainEvent::OrderStatusChanged {
        order: id,
        shop: order.shop,
        guest: order.guest,
        status: to,
        notification,
    });
    Ok(())
}

/// Gives back exactly what the order's lines took.
fn return_stock(tx: &mut Tx<'_>, order: &Order) -> Result<(), StoreError> {
    let mut items = BTreeSet::new();
    let mut options = BTreeSet::new();
    let mut ingredients = BTreeSet::new();
    for line in &order.lines {
        for o in &line.options {
            return_option(tx, o, &mut options, &mut ingredients)?;
        }
        match &line.taken {
            Taken::Nothing => {}
            Taken::Units(n) => {
                // An item deleted or switched to another policy meanwhile has no count to return to.
                if let Some(mut item) = tx.get::<u64, MenuItem>(ID_TO_ITEM, line.item.0)?
                    && let StockPolicy::Counted(left) = item.stock
                {
                    item.stock = StockPolicy::Counted(left.saturating_add(*n));
                    tx.put(ID_TO_ITEM, item.id.0, &item)?;
                    items.insert(item.id);
                }
            }
            Taken::Ingredients(parts) => {
                for &(id, n) in parts {
                    if let Some(mut ing) = tx.get::<u64, Ingredient>(ID_TO_INGREDIENT, id.0)? {
                        ing.stock = ing.stock.saturating_add(n);
                        tx.put(ID_TO_INGREDIENT, id.0, &ing)?;
                        ingredients.insert(id);
                    }
                }
            }
        }
    }
    publish_availability(tx, order.shop, &items, &options, &ingredients)
}

/// Gives back what one chosen option of a line took.
fn return_option(
    tx: &mut Tx<'_>,
    o: &crate::domain::options::LineOption,
    options: &mut BTreeSet<crate::domain::OptionId>,
    ingredients: &mut BTreeSet<crate::domain::IngredientId>,
) -> Result<(), StoreError> {
    match &o.taken {
        Taken::Nothing => {}
        Taken::Units(n) => {
            // An option deleted or switched to another policy meanwhile has no count to return to.
            if let Some(mut opt) =
                tx.get::<u64, crate::domain::options::MenuOption>(ID_TO_OPTION, o.option.0)?
                && let StockPolicy::Counted(left) = opt.stock
            {
                opt.stock = StockPolicy::Counted(left.saturating_add(*n));
                tx.put(ID_TO_OPTION, opt.id.0, &opt)?;
                options.insert(opt.id);
            }
        }
        Taken::Ingredients(parts) => {
            for &(id, n) in parts {
                if let Some(mut ing) = tx.get::<u64, Ingredient>(ID_TO_INGREDIENT, id.0)? {
                    ing.stock = ing.stock.saturating_add(n);
                    tx.put(ID_TO_INGREDIENT, id.0, &ing)?;
                    ingredients.insert(id);
                }
            }
        }
    }
    Ok(())
}

/// The stored stage changes of an order, oldest first.
pub fn events_of(v: &impl View, id: OrderId) -> Result<Vec<OrderEvent>, StoreError> {
    let mut out = Vec::new();
    let mut seq = 0u32;
    while let Some(e) = v.get::<(u64, u32), OrderEvent>(ORDER_SEQ_TO_EVENT, (id.0, seq))? {
        out.push(e);
        seq += 1;
    }
    Ok(out)
}

/// An order with what its guest wants to know.
#[derive(Clone, Debug)]
pub struct OrderView {
    /// The order.
    pub order: Order,
    /// Its shop's name.
    pub shop_name: String,
    /// 1 = next in line; `None` once ready or finished.
    pub queue_position: Option<u32>,
    /// Estimated seconds until ready (the typical figure); `None` once
    /// ready or finished.
    pub estimated_wait_seconds: Option<u32>,
    /// The estimate with its range; `None` once ready or finished.
    pub wait: Option<Wait>,
    /// The identifier called out and shown on the board ("B12").
    pub call: String,
    /// Every stage change.
    pub events: Vec<OrderEvent>,
    /// Its payment record.
    pub payment: Option<Payment>,
}

/// Where an order stands in its shop's line: its position (1 = next) and
/// wait, or `None` once ready or finished. Lighter than [`view`], for the
/// live queue of every open order page.
pub fn queue(v: &impl View, s: &Shop, order: &Order) -> Result<Option<(u32, Wait)>, StoreError> {
    if !order.status.in_queue() {
        return Ok(None);
    }
    let mut ahead = 0u32;
    for id in v.ids(SHOP_TO_OPEN_ORDER, order.shop.0)? {
        if id >= order.id.0 {
            break;
        }
        if let Some(o) = v.get::<u64, Order>(ID_TO_ORDER, id)?
            && o.status.in_queue()
        {
            ahead += 1;
        }
    }
    let position = ahead + 1;
    let prep = pickup::prep_time(v, s)?;
    Ok(Some((
        position,
        pickup::wait(prep, order, position, Timestamp::now()),
    )))
}

/// Builds the view of an order.
pub fn view(v: &impl View, order: Order) -> Result<OrderView, StoreError> {
    view_in(v, order, None)
}

/// Builds the views of a shop's orders with one read of its queue (a
/// view each would scan the queue once per order).
pub fn views_of_shop(
    v: &impl View,
    shop_id: ShopId,
    list: Vec<Order>,
) -> Result<Vec<OrderView>, StoreError> {
    let q = shop_queue(v, shop_id)?;
    list.into_iter().map(|o| view_in(v, o, Some(&q))).collect()
}

/// [`view`] with the shop's queue when the caller has read it already.
pub fn view_in(
    v: &impl View,
    order: Order,
    q: Option<&ShopQueue>,
) -> Result<OrderView, StoreError> {
    let s = shop(v, order.shop)?;
    let (q, call) = match q.filter(|q| q.shop == order.shop) {
        Some(q) => (
            q.wait(order.id, Timestamp::now()),
            callsign::call(&q.prefix, order.number),
        ),
        None => (
            queue(v, &s, &order)?,
            callsign::call(&pickup::prefix(v, order.shop)?, order.number),
        ),
    };
    let wait = q.map(|(_, w)| w);
    Ok(OrderView {
        estimated_wait_seconds: wait.map(|w| w.typical),
        wait,
        call,
        events: events_of(v, order.id)?,
        payment: v.get(ORDER_ID_TO_PAYMENT, order.id.0)?,
        shop_name: s.name,
        queue_position: q.map(|(p, _)| p),
        order,
    })
}

/// The shop's open orders (oldest first), or its newest `limit` orders.
pub fn shop_orders(
    v: &impl View,
    shop: ShopId,
    open_only: bool,
    limit: usize,
) -> Result<Vec<Order>, StoreError> {
    let ids = if open_only {
        v.ids(SHOP_TO_OPEN_ORDER, shop.0)?
    } else {
        v.newest_ids(SHOP_TO_ORDER, shop.0, limit)?
    };
    v.many(ID_TO_ORDER, &ids)
}

/// A guest device's orders, newest first.
pub fn guest_orders(v: &impl View, guest: GuestId) -> Result<Vec<Order>, StoreError> {
    let mut ids = v.guest_ids(GUEST_TO_ORDER, guest.0, 0)?;
    ids.reverse();
    ids.truncate(100);
    v.many(ID_TO_ORDER, &ids)
}

/// Cancels every placed order older than `max_age_ms`; returns them.
pub fn cancel_unaccepted(tx: &mut Tx<'_>, max_age_ms: u64) -> Result<Vec<OrderId>, StoreError> {
    let mut due = Vec::new();
    {
        let table = tx.open_table(SHOP_TO_OPEN_ORDER)?;
        for entry in redb::ReadableTable::iter(&table)? {
            let id = entry?.0.value().1;
            due.push(OrderId(id));
        }
    }
    let mut cancelled = Vec::new();
    for id in due {
        let Some(order) = tx.get::<u64, Order>(ID_TO_ORDER, id.0)? else {
            continue;
        };
        if order.status == OrderStatus::Placed && tx.now.since(order.created_at) >= max_age_ms {
            let reason = "No shop accepted the order in time; nothing was charged.".to_owned();
            set_status(tx, Scope::System, id, OrderStatus::Cancelled, Some(reason))?;
            cancelled.push(id);
        }
    }
    Ok(cancelled)
}

/// One item's sales in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportLine {
    /// The item.
    pub item: ItemId,
    /// Its name when sold.
    pub name: String,
    /// Units sold.
    pub quantity: u64,
    /// Revenue.
    pub revenue: Cents,
}

/// Today's figures for one shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Start of the venue-local day.
    pub since: Timestamp,
    /// Orders placed today (including cancelled).
    pub orders: u64,
    /// Of those, cancelled.
    pub cancelled: u64,
    /// Revenue of orders not cancelled.
    pub revenue: Cents,
    /// Per item, best-selling first.
    pub lines: Vec<ReportLine>,
    /// Average accepted → ready time of today's orders, in seconds.
    pub average_prep_seconds: Option<u32>,
}

/// Today's orders and sales per item for one shop.
pub fn report(
    v: &impl View,
    shop: ShopId,
    now: Timestamp,
    utc_offset_minutes: i32,
) -> Result<Report, StoreError> {
    let since = now.local_day_start(utc_offset_minutes);
    let mut r = Report {
        since,
        orders: 0,
        cancelled: 0,
        revenue: Cents(0),
        lines: vec![],
        average_prep_seconds: None,
    };
    let mut lines: BTreeMap<ItemId, ReportLine> = BTreeMap::new();
    let (mut prep_total, mut prep_count) = (0u64, 0u64);
    // Order ids grow with time: walk back from the newest until yesterday.
    let table_ids = v.newest_ids(SHOP_TO_ORDER, shop.0, usize::MAX)?;
    for id in table_ids {
        let Some(order) = v.get::<u64, Order>(ID_TO_ORDER, id)? else {
            continue;
        };
        if order.created_at < since {
            break;
        }
        r.orders += 1;
        if order.status == OrderStatus::Cancelled {
            r.cancelled += 1;
            continue;
        }
        r.revenue = r.revenue.plus(order.total).unwrap_or(r.revenue);
        for l in &order.lines {
            let entry = lines.entry(l.item).or_insert_with(|| ReportLine {
                item: l.item,
                name: l.name.clone(),
                quantity: 0,
                revenue: Cents(0),
            });
            entry.quantity += u64::from(l.quantity);
            let amount = l.unit_price.times(l.quantity).unwrap_or_default();
            entry.revenue = entry.revenue.plus(amount).unwrap_or(entry.revenue);
        }
        if let (Some(accepted), Some(ready)) = (
            order.accepted_at,
            events_of(v, order.id)?
                .iter()
                .find(|e| e.to == OrderStatus::Ready)
                .map(|e| e.at),
        ) {
            prep_total += ready.since(accepted) / 1000;
            prep_count += 1;
        }
    }
    r.lines = lines.into_values().collect();
    r.lines
        .sort_by(|a, b| b.quantity.cmp(&a.quantity).then(a.item.cmp(&b.item)));
    r.average_prep_seconds = prep_total
        .checked_div(prep_count)
        .and_then(|s| u32::try_from(s).ok());
    Ok(r)
}
