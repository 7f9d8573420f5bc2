//! Guest notifications, payments and order sessions (tables).

use super::orders::{Scope, order_in_scope};
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::menu::check_name;
use crate::domain::order::Order;
use crate::domain::service::{Notification, OrderSession, Payment, PaymentMethod, PaymentStatus};
use crate::domain::{GuestId, NotificationId, OrderId, SessionId, ShopId, Token};
use crate::events::DomainEvent;

/// A guest's notifications with an id above `after`, oldest first.
pub fn notifications(
    v: &impl View,
    guest: GuestId,
    after: u64,
) -> Result<Vec<Notification>, StoreError> {
    let ids = v.guest_ids(GUEST_TO_NOTIFICATION, guest.0, after)?;
    v.many(ID_TO_NOTIFICATION, &ids)
}

/// Marks one of the guest's notifications read.
pub fn mark_read(tx: &mut Tx<'_>, guest: GuestId, id: NotificationId) -> Result<(), StoreError> {
    let mut n: Notification = tx
        .get::<u64, Notification>(ID_TO_NOTIFICATION, id.0)?
        .filter(|n| n.guest == guest)
        .ok_or_else(|| StoreError::NotFound {
            what: "notification".into(),
        })?;
    if !n.read {
        n.read = true;
        tx.put(ID_TO_NOTIFICATION, id.0, &n)?;
    }
    Ok(())
}

/// The shop records a payment's outcome (cash at the counter, for now).
pub fn set_payment(
    tx: &mut Tx<'_>,
    shop: ShopId,
    order: OrderId,
    status: PaymentStatus,
    method: Option<PaymentMethod>,
) -> Result<Payment, StoreError> {
    order_in_scope(&**tx, Scope::Shop(shop), order)?;
    let mut p: Payment =
        tx.get(ORDER_ID_TO_PAYMENT, order.0)?
            .ok_or_else(|| StoreError::NotFound {
                what: "payment".into(),
            })?;
    if let Some(m) = method {
        p.method = m;
    }
    p.status = status;
    p.updated_at = tx.now;
    tx.put(ORDER_ID_TO_PAYMENT, order.0, &p)?;
    Ok(p)
}

/// A cancelled order owes nothing: its pending payment becomes voided (a
/// payment already made stays as it is, for the shop to refund).
pub fn void_pending_payment(tx: &mut Tx<'_>, order: OrderId) -> Result<(), StoreError> {
    if let Some(mut p) = tx.get::<u64, Payment>(ORDER_ID_TO_PAYMENT, order.0)?
        && p.status == PaymentStatus::Pending
    {
        p.status = PaymentStatus::Voided;
        p.updated_at = tx.now;
        tx.put(ORDER_ID_TO_PAYMENT, order.0, &p)?;
    }
    Ok(())
}

/// Opens a table for guests to order into.
pub fn open_session(
    tx: &mut Tx<'_>,
    shop: ShopId,
    label: &str,
) -> Result<OrderSession, StoreError> {
    super::catalog::shop(&**tx, shop)?;
    let label = check_name("label", label).map_err(StoreError::Invalid)?;
    let code = Token::random().map_err(|e| StoreError::Internal(format!("no randomness: {e}")))?;
    let id = SessionId(tx.next_id("order_session")?);
    let s = OrderSession {
        id,
        shop,
        label,
        code,
        opened_at: tx.now,
        closed_at: None,
    };
    tx.put(ID_TO_ORDER_SESSION, id.0, &s)?;
    tx.put_value(CODE_TO_ORDER_SESSION_ID, code.0, id.0)?;
    tx.put_value(SHOP_TO_ORDER_SESSION, (shop.0, id.0), ())?;
    Ok(s)
}

/// Closes a table; its guests are told at once.
pub fn close_session(
    tx: &mut Tx<'_>,
    shop: ShopId,
    id: SessionId,
) -> Result<OrderSession, StoreError> {
    let mut s = own_session(&**tx, shop, id)?;
    if s.closed_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "{} is already closed",
            s.label
        )));
    }
    s.closed_at = Some(tx.now);
    tx.put(ID_TO_ORDER_SESSION, id.0, &s)?;
    tx.publish(DomainEvent::SessionClosed { session: id, shop });
    Ok(s)
}

/// A table of `shop`.
pub fn own_session(v: &impl View, shop: ShopId, id: SessionId) -> Result<OrderSession, StoreError> {
    v.get::<u64, OrderSession>(ID_TO_ORDER_SESSION, id.0)?
        .filter(|s| s.shop == shop)
        .ok_or_else(|| StoreError::NotFound {
            what: "table".into(),
        })
}

/// The shop's tables, newest first.
pub fn sessions(v: &impl View, shop: ShopId) -> Result<Vec<OrderSession>, StoreError> {
    let ids = v.newest_ids(SHOP_TO_ORDER_SESSION, shop.0, 200)?;
    v.many(ID_TO_ORDER_SESSION, &ids)
}

/// A table by the code in its QR link.
pub fn session_by_code(v: &impl View, code: Token) -> Result<OrderSession, StoreError> {
    v.lookup(CODE_TO_ORDER_SESSION_ID, code.0)?
        .map(|id| v.get(ID_TO_ORDER_SESSION, id))
        .transpose()?
        .flatten()
        .ok_or_else(|| StoreError::NotFound {
            what: "table".into(),
        })
}

/// The orders placed into a table.
pub fn session_orders(v: &impl View, id: SessionId) -> Result<Vec<Order>, StoreError> {
    let ids = v.ids(SESSION_TO_ORDER, id.0)?;
    v.many(ID_TO_ORDER, &ids)
}
