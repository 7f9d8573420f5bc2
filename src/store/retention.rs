//! Retention: what the database forgets, so a router's flash never fills
//! and guests' personal data does not outlive its purpose.
//!
//! - Finished orders (completed, cancelled, not collected) keep their details for
//!   `order_days`, then are folded into per-day, per-shop, per-item totals
//!   ([`DAY_TOTALS`]) and per-option, payment and preparation totals
//!   (`store::folded`), and removed with everything that hangs off them
//!   (stage events, indexes, payment, notifications). Reports over any
//!   range read the totals beside the live orders (`store::report`).
//! - Notifications go `notification_hours` after their order finished.
//! - Ended Wi-Fi sessions (MAC, addresses, host name) go after `wifi_days`.
//! - Guest device ids are not stored apart from their orders and
//!   notifications: they expire with them.
//!
//! Everything runs as small writer jobs ([`sweep`] handles at most
//! `batch` records per call), so a rush is never held up behind it.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::service::{Notification, WifiSession};
use crate::domain::{Cents, ShopId, Timestamp};

/// Folded totals: `(shop, venue-local day number, item) -> DayTotal`;
/// item 0 is the shop's whole day (orders, cancelled, revenue).
pub const DAY_TOTALS: TableDefinition<(u64, u32, u64), &[u8]> =
    TableDefinition::new("shop_day_item_to_total");

/// `(shop, venue-local day, item)`: the key of [`DAY_TOTALS`].
pub type DayKey = (u64, u32, u64);

const DAY_MS: u64 = 86_400_000;

/// One folded row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    /// The item's name when last folded (empty for the day row).
    pub name: String,
    /// Units sold (not cancelled).
    pub quantity: u64,
    /// Revenue of those units.
    pub revenue: Cents,
    /// Orders (day row only).
    pub orders: u64,
    /// Of which cancelled (day row only).
    pub cancelled: u64,
}

/// How long things are kept (0 days or hours: forever).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionSettings {
    /// Days a finished order keeps its details.
    pub order_days: u32,
    /// Hours a notification outlives its finished order.
    pub notification_hours: u32,
    /// Days an ended Wi-Fi session is kept.
    pub wifi_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            order_days: 5,
            notification_hours: 24,
            wifi_days: 2,
        }
    }
}

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Orders folded into totals.
    pub orders: usize,
    /// Notifications removed.
    pub notifications: usize,
    /// Wi-Fi sessions removed.
    pub wifi_sessions: usize,
}

impl Swept {
    /// Whether anything was removed (another batch may follow).
    pub fn any(&self) -> bool {
        self.orders + self.notifications + self.wifi_sessions > 0
    }
}

/// The venue-local day number of `t` (days since 1970-01-01 at the venue).
pub fn local_day(t: Timestamp, utc_offset_minutes: i32) -> u32 {
    let start = t.local_day_start(utc_offset_minutes);
    let local = i64::try_from(start.0).unwrap_or(i64::MAX) + i64::from(utc_offset_minutes) * 60_000;
    u32::try_from(local.div_euclid(i64::try_from(DAY_MS).unwrap_or(1))).unwrap_or(0)
}

fn finished(o: &Order) -> bool {
    matches!(
        o.status,
        OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::NotCollected
    )
}

fn cutoff(now: Timestamp, ms: u64) -> Option<Timestamp> {
    (ms > 0).then(|| Timestamp(now.0.saturating_sub(ms)))
}

/// One small batch of every kind of forgetting, at most `batch` of each.
pub fn sweep(tx: &mut Tx<'_>, s: RetentionSettings, batch: usize) -> Result<Swept, StoreError> {
    Ok(Swept {
        orders: fold_orders(tx, s, batch)?,
        notifications: drop_notifications(tx, s, batch)?,
        wifi_sessions: drop_wifi_sessions(tx, s, batch)?,
    })
}

/// Folds up to `batch` finished orders older than the retention into the
/// day totals and removes their details. Ids grow with time, so the walk
/// stops at the first order placed after the cutoff.
fn fold_orders(tx: &mut Tx<'_>, s: RetentionSettings, batch: usize) -> Result<usize, StoreError> {
    let Some(before) = cutoff(tx.now, u64::from(s.order_days) * DAY_MS) else {
        return Ok(0);
    };
    let old: Vec<Order> = {
        let table = tx.open_table(ID_TO_ORDER)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let order: Order = decode(entry?.1.value())?;
            if order.created_at >= before || out.len() >= batch {
                break;
            }
            if finished(&order) && order.updated_at < before {
                out.push(order);
            }
        }
        out
    };
    for order in &old {
        fold(tx, order)?;
        forget(tx, order)?;
    }
    Ok(old.len())
}

/// Adds one order to its day's totals.
fn fold(tx: &mut Tx<'_>, o: &Order) -> Result<(), StoreError> {
    let day = local_day(o.created_at, tx.utc_offset_minutes);
    let cancelled = o.status == OrderStatus::Cancelled;
    let mut whole: DayTotal = tx.get(DAY_TOTALS, (o.shop.0, day, 0))?.unwrap_or_default();
    whole.orders += 1;
    if cancelled {
        whole.cancelled += 1;
    } else {
        whole.revenue = whole.revenue.plus(o.total).unwrap_or(whole.revenue);
    }
    tx.put(DAY_TOTALS, (o.shop.0, day, 0), &whole)?;
    if cancelled {
        return Ok(());
    }
    super::folded::fold(tx, o, day)?;
    for l in &o.lines {
        let key = (o.shop.0, day, l.item.0);
        let mut t: DayTotal = tx.get(DAY_TOTALS, key)?.unwrap_or_default();
        t.name.clone_from(&l.name);
        t.quantity += u64::from(l.quantity);
        let amount = l.total();
        t.revenue = t.revenue.plus(amount).unwrap_or(t.revenue);
        tx.put(DAY_TOTALS, key, &t)?;
    }
    Ok(())
}

/// Removes an order and everything that hangs off it.
fn forget(tx: &mut Tx<'_>, o: &Order) -> Result<(), StoreError> {
    let mut seq = 0u32;
    while tx
        .get::<(u64, u32), crate::domain::order::OrderEvent>(ORDER_SEQ_TO_EVENT, (o.id.0, seq))?
        .is_some()
    {
        tx.remove(ORDER_SEQ_TO_EVENT, (o.id.0, seq))?;
        seq += 1;
    }
    let notes: Vec<Notification> = {
        let ids = tx.guest_ids(GUEST_TO_NOTIFICATION, o.guest.0, 0)?;
        tx.many::<Notification>(ID_TO_NOTIFICATION, &ids)?
            .into_iter()
            .filter(|n| n.order == o.id)
            .collect()
    };
    for n in &notes {
        remove_notification(tx, n)?;
    }
    tx.remove(TOKEN_TO_ORDER_ID, o.token.0)?;
    tx.remove(SHOP_TO_ORDER, (o.shop.0, o.id.0))?;
    tx.remove(SHOP_TO_OPEN_ORDER, (o.shop.0, o.id.0))?;
    tx.remove(GUEST_TO_ORDER, (o.guest.0, o.id.0))?;
    if let Some(session) = o.session {
        tx.remove(SESSION_TO_ORDER, (session.0, o.id.0))?;
    }
    tx.remove(ORDER_ID_TO_PAYMENT, o.id.0)?;
    tx.remove(ID_TO_ORDER, o.id.0)?;
    Ok(())
}

fn remove_notification(tx: &mut Tx<'_>, n: &Notification) -> Result<(), StoreError> {
    tx.remove(GUEST_TO_NOTIFICATION, (n.guest.0, n.id.0))?;
    tx.remove(ID_TO_NOTIFICATION, n.id.0)
}

/// Removes up to `batch` notifications whose order finished more than
/// `notification_hours` ago (or is gone). A notification is written no
/// later than its order finishes, so the walk stops at the first one
/// written after the cutoff.
fn drop_notifications(
    tx: &mut Tx<'_>,
    s: RetentionSettings,
    batch: usize,
) -> Result<usize, StoreError> {
    let Some(before) = cutoff(tx.now, u64::from(s.notification_hours) * 3_600_000) else {
        return Ok(0);
    };
    let candidates: Vec<Notification> = {
        let table = tx.open_table(ID_TO_NOTIFICATION)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let n: Notification = decode(entry?.1.value())?;
            if n.created_at >= before || out.len() >= batch {
                break;
            }
            out.push(n);
        }
        out
    };
    let mut removed = 0;
    for n in &candidates {
        let order: Option<Order> = tx.get(ID_TO_ORDER, n.order.0)?;
        let done = order.is_none_or(|o| finished(&o) && o.updated_at < before);
        if done {
            remove_notification(tx, n)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes up to `batch` Wi-Fi sessions that ended (or were last seen and
/// are no longer authorized) more than `wifi_days` ago.
fn drop_wifi_sessions(
    tx: &mut Tx<'_>,
    s: RetentionSettings,
    batch: usize,
) -> Result<usize, StoreError> {
    let Some(before) = cutoff(tx.now, u64::from(s.wifi_days) * DAY_MS) else {
        return Ok(0);
    };
    let now = tx.now;
    let old: Vec<String> = {
        let table = tx.open_table(MAC_TO_WIFI_SESSION)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let w: WifiSession = decode(v.value())?;
            let ended = w.disconnected_at.unwrap_or(w.last_seen);
            let authorized = w.authorized_until.is_some_and(|u| u > now);
            if ended < before && !authorized {
                out.push(k.value().to_owned());
                if out.len() >= batch {
                    break;
                }
            }
        }
        out
    };
    for mac in &old {
        tx.remove(MAC_TO_WIFI_SESSION, mac.as_str())?;
    }
    Ok(old.len())
}

/// Reads folded totals (implemented for read and write transactions).
pub trait Totals {
    /// The folded rows of a shop from day `first` to day `last`, inclusive.
    fn day_totals(
        &self,
        shop: ShopId,
        first: u32,
        last: u32,
    ) -> Result<Vec<(DayKey, DayTotal)>, StoreError>;
}

macro_rules! impl_totals {
    ($t:ty) => {
        impl Totals for $t {
            fn day_totals(
                &self,
                shop: ShopId,
                first: u32,
                last: u32,
            ) -> Result<Vec<(DayKey, DayTotal)>, StoreError> {
                let table = self.open_table(DAY_TOTALS)?;
                let mut out = Vec::new();
                for entry in table.range((shop.0, first, 0)..=(shop.0, last, u64::MAX))? {
                    let (k, v) = entry?;
                    out.push((k.value(), decode(v.value())?));
                }
                Ok(out)
            }
        }
    };
}

impl_totals!(redb::ReadTransaction);
impl_totals!(redb::WriteTransaction);

/// Records handled per writer job: small, so a rush's orders slip in
/// between the batches.
pub const BATCH: usize = 64;

/// Sweeps in small batches until nothing is left to forget; returns the
/// sum. Pauses briefly between batches so other writes go first.
pub async fn run(store: &super::Store, s: RetentionSettings) -> Result<Swept, StoreError> {
    let mut total = Swept::default();
    loop {
        let swept = store.write(move |tx| sweep(tx, s, BATCH)).await?;
        total.orders += swept.orders;
        total.notifications += swept.notifications;
        total.wifi_sessions += swept.wifi_sessions;
        if !swept.any() {
            return Ok(total);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
