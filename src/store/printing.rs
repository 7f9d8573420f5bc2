//! The durable print queue and the counter's settings that live beside the
//! shop record: its ticket printer and its payment QR (each in a table of
//! its own keyed by shop, so the shop record's encoding is unchanged and no
//! migration is needed).
//!
//! Invariant: a ticket is queued in the same transaction as the stage
//! change that triggers it ([`on_stage`]), so a committed accept always has
//! its ticket stored, whatever happens to the process afterwards. The
//! printer task removes a job only after the printer took its bytes.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use super::orders::{Scope, order_in_scope};
use super::tables::{Index, Records, TableVisitor, View};
use super::{StoreError, Tx};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::payqr::PaymentQr;
use crate::domain::shop::{PrintOn, PrinterSettings};
use crate::domain::{OrderId, ShopId, Timestamp};
use crate::events::DomainEvent;

/// A shop's printer settings.
pub const SHOP_ID_TO_PRINTER: Records = TableDefinition::new("shop_id_to_printer");
/// A shop's payment QR data.
pub const SHOP_ID_TO_PAYMENT_QR: Records = TableDefinition::new("shop_id_to_payment_qr");
/// Tickets waiting for a printer, by job sequence (global, so in order).
pub const SEQ_TO_PRINT_JOB: Records = TableDefinition::new("seq_to_print_job");
/// The waiting tickets of each shop: `(shop, job sequence)`.
pub const SHOP_TO_PRINT_JOB: Index = TableDefinition::new("shop_to_print_job");

/// Registers this module's tables with the schema's one list.
pub fn visit_tables(visitor: &mut impl TableVisitor) -> Result<(), StoreError> {
    visitor.visit(SHOP_ID_TO_PRINTER)?;
    visitor.visit(SHOP_ID_TO_PAYMENT_QR)?;
    visitor.visit(SEQ_TO_PRINT_JOB)?;
    visitor.visit(SHOP_TO_PRINT_JOB)
}

/// What a ticket is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketKind {
    /// The order to make.
    New,
    /// Asked for again from the dashboard.
    Reprint,
    /// The order was cancelled after its ticket printed: stop making it.
    Cancelled,
}

/// One ticket waiting to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    /// The order to print.
    pub order: OrderId,
    /// What the ticket is for.
    pub kind: TicketKind,
    /// When it was queued.
    pub queued_at: Timestamp,
}

/// A shop's printer settings (none set: no printer, print on accept).
pub fn printer_settings(v: &impl View, shop: ShopId) -> Result<PrinterSettings, StoreError> {
    Ok(v.get(SHOP_ID_TO_PRINTER, shop.0)?.unwrap_or_default())
}

/// Changes a shop's printer settings; `None` leaves a field as it is.
pub fn set_printer(
    tx: &mut Tx<'_>,
    shop: ShopId,
    printer: Option<PrinterSettings>,
) -> Result<PrinterSettings, StoreError> {
    super::catalog::shop(&**tx, shop)?;
    let Some(settings) = printer else {
        return printer_settings(&**tx, shop);
    };
    tx.put(SHOP_ID_TO_PRINTER, shop.0, &settings)?;
    tx.publish(DomainEvent::PrintQueueChanged { shop });
    Ok(settings)
}

/// Every shop with a printer set.
pub fn shops_with_printers(v: &impl View) -> Result<Vec<ShopId>, StoreError> {
    let mut out = Vec::new();
    for s in super::catalog::shops(v, false)? {
        if printer_settings(v, s.id)?.printer.is_some() {
            out.push(s.id);
        }
    }
    Ok(out)
}

/// Queues the order's ticket if its shop prints at this stage. Called by
/// the stage change itself, inside its transaction. A cancelled order's
/// waiting tickets are dropped; if one may have printed (or be printing:
/// the head of the queue), a cancellation slip follows.
pub fn on_stage(tx: &mut Tx<'_>, order: &Order, status: OrderStatus) -> Result<(), StoreError> {
    let settings = printer_settings(&**tx, order.shop)?;
    if status == OrderStatus::Cancelled {
        let queue_ids = tx.ids(SHOP_TO_PRINT_JOB, order.shop.0)?;
        let mut mine = Vec::new();
        for &seq in &queue_ids {
            if tx
                .get::<u64, PrintJob>(SEQ_TO_PRINT_JOB, seq)?
                .is_some_and(|j| j.order == order.id)
            {
                mine.push(seq);
            }
        }
        let head = queue_ids.first().copied();
        let printing_now = head.is_some_and(|h| mine.contains(&h));
        let printed = mine.is_empty()
            && match settings.print_on {
                PrintOn::Placed => true,
                PrintOn::Accepted => order.accepted_at.is_some(),
            };
        for seq in mine {
            if Some(seq) != head {
                remove_job(tx, order.shop, seq)?;
            }
        }
        if settings.printer.is_some() && (printed || printing_now) {
            queue(tx, order.shop, order.id, TicketKind::Cancelled)?;
        }
        return Ok(());
    }
    let due = match settings.print_on {
        PrintOn::Placed => status == OrderStatus::Placed,
        PrintOn::Accepted => status == OrderStatus::Accepted,
    };
    if due && settings.printer.is_some() {
        queue(tx, order.shop, order.id, TicketKind::New)?;
    }
    Ok(())
}

/// Queues a reprint of one of the shop's orders.
pub fn queue_reprint(tx: &mut Tx<'_>, shop: ShopId, order: OrderId) -> Result<(), StoreError> {
    order_in_scope(&**tx, Scope::Shop(shop), order)?;
    if printer_settings(&**tx, shop)?.printer.is_none() {
        return Err(StoreError::Invalid(
            "the shop has no printer; set one first (\"printer\" in PATCH /api/shop)".into(),
        ));
    }
    queue(tx, shop, order, TicketKind::Reprint)
}

fn queue(
    tx: &mut Tx<'_>,
    shop: ShopId,
    order: OrderId,
    kind: TicketKind,
) -> Result<(), StoreError> {
    let seq = tx.next_id("print_job")?;
    let job = PrintJob {
        order,
        kind,
        queued_at: tx.now,
    };
    tx.put(SEQ_TO_PRINT_JOB, seq, &job)?;
    tx.put_value(SHOP_TO_PRINT_JOB, (shop.0, seq), ())?;
    tx.publish(DomainEvent::PrintQueueChanged { shop });
    Ok(())
}

/// The shop's oldest waiting ticket, with its sequence number.
pub fn next_job(v: &impl View, shop: ShopId) -> Result<Option<(u64, PrintJob)>, StoreError> {
    for seq in v.ids(SHOP_TO_PRINT_JOB, shop.0)? {
        if let Some(job) = v.get(SEQ_TO_PRINT_JOB, seq)? {
            return Ok(Some((seq, job)));
        }
    }
    Ok(None)
}

/// How many tickets of the shop wait.
pub fn waiting(v: &impl View, shop: ShopId) -> Result<usize, StoreError> {
    v.count_ids(SHOP_TO_PRINT_JOB, shop.0, usize::MAX)
}

/// Removes a printed ticket.
pub fn remove_job(tx: &mut Tx<'_>, shop: ShopId, seq: u64) -> Result<(), StoreError> {
    tx.remove(SEQ_TO_PRINT_JOB, seq)?;
    tx.remove(SHOP_TO_PRINT_JOB, (shop.0, seq))
}

/// A shop's payment QR, if it set one up.
pub fn payment_qr(v: &impl View, shop: ShopId) -> Result<Option<PaymentQr>, StoreError> {
    v.get(SHOP_ID_TO_PAYMENT_QR, shop.0)
}

/// Sets (`Some`) or removes (`None`) a shop's payment QR.
pub fn set_payment_qr(
    tx: &mut Tx<'_>,
    shop: ShopId,
    qr: Option<PaymentQr>,
) -> Result<(), StoreError> {
    super::catalog::shop(&**tx, shop)?;
    match qr {
        Some(qr) => {
            qr.validate()
                .map_err(|e| StoreError::Invalid(format!("payment_qr: {e}")))?;
            tx.put(SHOP_ID_TO_PAYMENT_QR, shop.0, &qr)
        }
        None => tx.remove(SHOP_ID_TO_PAYMENT_QR, shop.0),
    }
}
