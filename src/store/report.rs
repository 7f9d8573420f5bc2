//! A shop's report over a chosen range of time: orders and their outcomes,
//! sales per item, money paid and still unpaid by payment method, and the
//! preparation time (accepted → ready) as its average and 90th percentile,
//! with its CSV form; options chosen are counted per option.

use std::collections::BTreeMap;

use super::folded::{FoldedRead, PREP_BUCKET};
use super::orders::events_of;
use super::retention::{Totals, local_day};
use super::tables::{ID_TO_ORDER, ORDER_ID_TO_PAYMENT, SHOP_TO_ORDER, View};
use super::{ReportLine, StoreError};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::service::{Payment, PaymentMethod, PaymentStatus};
use crate::domain::{Cents, ItemId, ShopId, Timestamp};

/// Paid and unpaid money of one payment method.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MethodLine {
    /// `cash`, `card`, `upi` or `wallet`.
    pub method: &'static str,
    /// Orders paid, and their amount.
    pub paid_orders: u64,
    /// Amount paid.
    pub paid: Cents,
    /// Orders not paid (yet), and their amount.
    pub unpaid_orders: u64,
    /// Amount unpaid.
    pub unpaid: Cents,
}

/// Sales of one option (a group's choice) in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionLine {
    /// Its group's name when sold.
    pub group: String,
    /// Its name when sold.
    pub name: String,
    /// Units sold with it.
    pub quantity: u64,
    /// What it added to (or took off) the sales.
    pub revenue_delta: i64,
}

/// One shop's figures from `from` (inclusive) to `to` (exclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeReport {
    /// Start.
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
    /// Orders placed in the range (including cancelled).
    pub orders: u64,
    /// Of those, cancelled.
    pub cancelled: u64,
    /// Of those, ready and never collected.
    pub not_collected: u64,
    /// Revenue of orders not cancelled.
    pub revenue: Cents,
    /// Per item, best-selling first.
    pub lines: Vec<ReportLine>,
    /// Per option, most chosen first.
    pub options: Vec<OptionLine>,
    /// Per payment method (orders not cancelled).
    pub methods: Vec<MethodLine>,
    /// Orders with an accepted → ready time.
    pub prep_samples: u64,
    /// Their average, in seconds.
    pub prep_average_seconds: Option<u64>,
    /// Their 90th percentile (nearest rank), in seconds.
    pub prep_p90_seconds: Option<u64>,
}

fn method_name(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "cash",
        PaymentMethod::Card => "card",
        PaymentMethod::Upi => "upi",
        PaymentMethod::Wallet => "wallet",
    }
}

/// The 90th percentile by nearest rank of sorted `values`.
pub fn p90(sorted: &[u64]) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * 9).div_ceil(10);
    sorted.get(rank.max(1) - 1).copied()
}

/// The report of `shop`'s orders placed in `[from, to)`: live orders, and
/// the folded totals of the venue-local days in the range whose orders
/// retention has folded (a folded day counts whole).
pub fn range_report(
    v: &(impl View + Totals + FoldedRead),
    shop: ShopId,
    from: Timestamp,
    to: Timestamp,
    utc_offset_minutes: i32,
) -> Result<RangeReport, StoreError> {
    let mut r = RangeReport {
        from,
        to,
        orders: 0,
        cancelled: 0,
        not_collected: 0,
        revenue: Cents(0),
        lines: vec![],
        options: vec![],
        methods: vec![],
        prep_samples: 0,
        prep_average_seconds: None,
        prep_p90_seconds: None,
    };
    let mut lines: BTreeMap<ItemId, ReportLine> = BTreeMap::new();
    let mut methods: BTreeMap<&'static str, MethodLine> = BTreeMap::new();
    let mut options: BTreeMap<crate::domain::OptionId, OptionLine> = BTreeMap::new();
    let mut prep = Vec::new();
    let (first, last) = (
        local_day(from, utc_offset_minutes),
        local_day(Timestamp(to.0.saturating_sub(1)), utc_offset_minutes),
    );
    for (key, t) in v.day_totals(shop, first, last)? {
        if key.2 == 0 {
            r.orders += t.orders;
            r.cancelled += t.cancelled;
            r.revenue = r.revenue.plus(t.revenue).unwrap_or(r.revenue);
        } else {
            let e = lines.entry(ItemId(key.2)).or_insert_with(|| ReportLine {
                item: ItemId(key.2),
                name: t.name.clone(),
                quantity: 0,
                revenue: Cents(0),
            });
            e.quantity += t.quantity;
            e.revenue = e.revenue.plus(t.revenue).unwrap_or(e.revenue);
        }
    }
    let (folded_options, extras) = v.folded(shop, first, last)?;
    for (id, t) in folded_options {
        let e = options.entry(id).or_insert_with(|| OptionLine {
            group: t.group.clone(),
            name: t.name.clone(),
            quantity: 0,
            revenue_delta: 0,
        });
        e.quantity += t.quantity;
        e.revenue_delta = e.revenue_delta.saturating_add(t.revenue_delta);
    }
    // Folded preparation times: their exact sum, and bucket middles for
    // the percentile.
    let mut folded_sum = 0u64;
    let mut folded_mids = 0u64;
    for x in extras {
        r.not_collected += x.not_collected;
        for m in x.methods {
            let name = method_name(m.method);
            let e = methods.entry(name).or_insert_with(|| MethodLine {
                method: name,
                ..MethodLine::default()
            });
            e.paid_orders += m.paid_orders;
            e.paid = e.paid.plus(m.paid).unwrap_or(e.paid);
            e.unpaid_orders += m.unpaid_orders;
            e.unpaid = e.unpaid.plus(m.unpaid).unwrap_or(e.unpaid);
        }
        for (bucket, n) in x.prep {
            let mid = u64::from(bucket) * PREP_BUCKET + PREP_BUCKET / 2;
            prep.extend(std::iter::repeat_n(mid, usize::try_from(n).unwrap_or(0)));
            folded_mids = folded_mids.saturating_add(mid.saturating_mul(n));
        }
        folded_sum = folded_sum.saturating_add(x.prep_sum);
    }
    // Order ids grow with time: walk back from the newest until `from`.
    for id in v.newest_ids(SHOP_TO_ORDER, shop.0, usize::MAX)? {
        let Some(order) = v.get::<u64, Order>(ID_TO_ORDER, id)? else {
            continue;
        };
        if order.created_at >= to {
            continue;
        }
        if order.created_at < from {
            break;
        }
        r.orders += 1;
        match order.status {
            OrderStatus::Cancelled => {
                r.cancelled += 1;
                continue;
            }
            OrderStatus::NotCollected => r.not_collected += 1,
            _ => {}
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
            let amount = l.total();
            entry.revenue = entry.revenue.plus(amount).unwrap_or(entry.revenue);
            for o in &l.options {
                let e = options.entry(o.option).or_insert_with(|| OptionLine {
                    group: o.group.clone(),
                    name: o.name.clone(),
                    quantity: 0,
                    revenue_delta: 0,
                });
                e.quantity += u64::from(l.quantity);
                e.revenue_delta = e
                    .revenue_delta
                    .saturating_add(o.price_delta.saturating_mul(i64::from(l.quantity)));
            }
        }
        if let Some(p) = v.get::<u64, Payment>(ORDER_ID_TO_PAYMENT, order.id.0)? {
            let name = method_name(p.method);
            let m = methods.entry(name).or_insert_with(|| MethodLine {
                method: name,
                ..MethodLine::default()
            });
            if p.status == PaymentStatus::Successful {
                m.paid_orders += 1;
                m.paid = m.paid.plus(p.amount).unwrap_or(m.paid);
            } else {
                m.unpaid_orders += 1;
                m.unpaid = m.unpaid.plus(p.amount).unwrap_or(m.unpaid);
            }
        }
        let ready = events_of(v, order.id)?
            .into_iter()
            .find(|e| e.to == OrderStatus::Ready)
            .map(|e| e.at);
        if let (Some(accepted), Some(ready)) = (order.accepted_at, ready) {
            prep.push(ready.since(accepted) / 1000);
        }
    }
    r.lines = lines.into_values().collect();
    r.lines
        .sort_by(|a, b| b.quantity.cmp(&a.quantity).then(a.item.cmp(&b.item)));
    r.options = options.into_values().collect();
    r.options.sort_by_key(|o| std::cmp::Reverse(o.quantity));
    r.methods = methods.into_values().collect();
    prep.sort_unstable();
    r.prep_samples = prep.len() as u64;
    let sum = prep.iter().sum::<u64>() - folded_mids + folded_sum;
    r.prep_average_seconds = sum.checked_div(r.prep_samples);
    r.prep_p90_seconds = p90(&prep);
    Ok(r)
}

/// A CSV field: quoted when it must be, and a leading `=`, `+`, `-` or `@`
/// defused so a spreadsheet does not run it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

impl RangeReport {
    /// The report as CSV (`section,name,count,amount`), amounts in major
    /// units with two decimals, times in seconds.
    pub fn csv(&self) -> String {
        let mut out = String::from("section,name,count,amount\n");
        let mut row = |section: &str, name: &str, count: u64, amount: String| {
            out.push_str(&format!("{section},{},{count},{amount}\n", field(name)));
        };
        row("summary", "orders", self.orders, String::new());
        row("summary", "cancelled", self.cancelled, String::new());
        row(
            "summary",
            "not collected",
            self.not_collected,
            String::new(),
        );
        row(
            "summary",
            "revenue",
            self.orders - self.cancelled,
            self.revenue.to_string(),
        );
        for l in &self.lines {
            row("item", &l.name, l.quantity, l.revenue.to_string());
        }
        for o in &self.options {
            let amount = Cents(o.revenue_delta.unsigned_abs()).to_string();
            let sign = if o.revenue_delta < 0 { "-" } else { "" };
            row(
                "option",
                &format!("{}: {}", o.group, o.name),
                o.quantity,
                format!("{sign}{amount}"),
            );
        }
        for m in &self.methods {
            row("paid", m.method, m.paid_orders, m.paid.to_string());
            row("unpaid", m.method, m.unpaid_orders, m.unpaid.to_string());
        }
        let secs = |s: Option<u64>| s.map(|s| s.to_string()).unwrap_or_default();
        row(
            "preparation",
            "average seconds",
            self.prep_samples,
            secs(self.prep_average_seconds),
        );
        row(
            "preparation",
            "p90 seconds",
            self.prep_samples,
            secs(self.prep_p90_seconds),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_is_the_nearest_rank() {
        assert_eq!(p90(&[]), None);
        assert_eq!(p90(&[7]), Some(7));
        let ten: Vec<u64> = (1..=10).collect();
        assert_eq!(p90(&ten), Some(9));
        let twenty: Vec<u64> = (1..=20).collect();
        assert_eq!(p90(&twenty), Some(18));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("Pork dumplings (6)"), "Pork dumplings (6)");
        assert_eq!(field("Tea, iced"), "\"Tea, iced\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
