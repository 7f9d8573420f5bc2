//! What a folded order leaves beside its day's per-item totals
//! (`retention::DAY_TOTALS`): per-option counts and revenue, payments per
//! method, orders not collected and its preparation time (in a histogram
//! of [`PREP_BUCKET`] seconds), so that a shop's report (`store::report`)
//! reads a folded day as it reads live orders.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::orders::events_of;
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::service::{Payment, PaymentMethod, PaymentStatus};
use crate::domain::{Cents, OptionId, ShopId};

/// `(shop, venue-local day, option) -> OptionTotal`.
pub const DAY_OPTION_TOTALS: TableDefinition<(u64, u32, u64), &[u8]> =
    TableDefinition::new("shop_day_option_to_total");

/// `(shop, venue-local day) -> DayExtras`.
pub const DAY_EXTRAS: TableDefinition<(u64, u32), &[u8]> =
    TableDefinition::new("shop_day_to_extras");

/// Width of a folded preparation time's histogram bucket, in seconds: a
/// report's 90th percentile over folded days is exact to this.
pub const PREP_BUCKET: u64 = 10;

/// One option's folded day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionTotal {
    /// Its group's name when last folded.
    pub group: String,
    /// Its name when last folded.
    pub name: String,
    /// Units sold with it.
    pub quantity: u64,
    /// What it added to (or took off) the sales.
    pub revenue_delta: i64,
}

/// Payments of one method on a folded day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodTotal {
    /// The method.
    pub method: PaymentMethod,
    /// Orders paid.
    pub paid_orders: u64,
    /// Amount paid.
    pub paid: Cents,
    /// Orders not paid.
    pub unpaid_orders: u64,
    /// Amount not paid.
    pub unpaid: Cents,
}

/// The rest of a shop's folded day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayExtras {
    /// Orders ready and never collected.
    pub not_collected: u64,
    /// Payments per method.
    pub methods: Vec<MethodTotal>,
    /// Preparation times (accepted → ready): bucket (seconds /
    /// [`PREP_BUCKET`]) → orders.
    pub prep: BTreeMap<u32, u64>,
    /// Their exact sum, in seconds (the average stays exact).
    pub prep_sum: u64,
}

/// Adds a finished order that is not cancelled to its day's extras and
/// option totals (before its details are removed).
pub fn fold(tx: &mut Tx<'_>, o: &Order, day: u32) -> Result<(), StoreError> {
    for l in &o.lines {
        for opt in &l.options {
            let key = (o.shop.0, day, opt.option.0);
            let mut t: OptionTotal = tx.get(DAY_OPTION_TOTALS, key)?.unwrap_or_default();
            t.group.clone_from(&opt.group);
            t.name.clone_from(&opt.name);
            t.quantity += u64::from(l.quantity);
            t.revenue_delta = t
                .revenue_delta
                .saturating_add(opt.price_delta.saturating_mul(i64::from(l.quantity)));
            tx.put(DAY_OPTION_TOTALS, key, &t)?;
        }
    }
    let mut x: DayExtras = tx.get(DAY_EXTRAS, (o.shop.0, day))?.unwrap_or_default();
    if o.status == OrderStatus::NotCollected {
        x.not_collected += 1;
    }
    if let Some(p) = tx.get::<u64, Payment>(ORDER_ID_TO_PAYMENT, o.id.0)? {
        let i = match x.methods.iter().position(|m| m.method == p.method) {
            Some(i) => i,
            None => {
                x.methods.push(MethodTotal {
                    method: p.method,
                    paid_orders: 0,
                    paid: Cents(0),
                    unpaid_orders: 0,
                    unpaid: Cents(0),
                });
                x.methods.len() - 1
            }
        };
        let m = &mut x.methods[i];
        if p.status == PaymentStatus::Successful {
            m.paid_orders += 1;
            m.paid = m.paid.plus(p.amount).unwrap_or(m.paid);
        } else {
            m.unpaid_orders += 1;
            m.unpaid = m.unpaid.plus(p.amount).unwrap_or(m.unpaid);
        }
    }
    let ready = events_of(&**tx, o.id)?
        .into_iter()
        .find(|e| e.to == OrderStatus::Ready)
        .map(|e| e.at);
    if let (Some(accepted), Some(ready)) = (o.accepted_at, ready) {
        let secs = ready.since(accepted) / 1000;
        let bucket = u32::try_from(secs / PREP_BUCKET).unwrap_or(u32::MAX);
        *x.prep.entry(bucket).or_default() += 1;
        x.prep_sum = x.prep_sum.saturating_add(secs);
    }
    tx.put(DAY_EXTRAS, (o.shop.0, day), &x)?;
    Ok(())
}

/// A shop's folded options and extras from day `first` to `last`.
pub type Folded = (Vec<(OptionId, OptionTotal)>, Vec<DayExtras>);

/// Reads folded options and extras (for read and write transactions).
pub trait FoldedRead {
    /// The shop's folded rows from day `first` to day `last`, inclusive.
    fn folded(&self, shop: ShopId, first: u32, last: u32) -> Result<Folded, StoreError>;
}

macro_rules! impl_folded {
    ($t:ty) => {
        impl FoldedRead for $t {
            fn folded(&self, shop: ShopId, first: u32, last: u32) -> Result<Folded, StoreError> {
                let mut options = Vec::new();
                let table = self.open_table(DAY_OPTION_TOTALS)?;
                for entry in table.range((shop.0, first, 0)..=(shop.0, last, u64::MAX))? {
                    let (k, v) = entry?;
                    options.push((OptionId(k.value().2), decode(v.value())?));
                }
                let mut extras = Vec::new();
                let table = self.open_table(DAY_EXTRAS)?;
                for entry in table.range((shop.0, first)..=(shop.0, last))? {
                    extras.push(decode(entry?.1.value())?);
                }
                Ok((options, extras))
            }
        }
    };
}

impl_folded!(redb::ReadTransaction);
impl_folded!(redb::WriteTransaction);
