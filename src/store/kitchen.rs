//! The kitchen's corrections and outcomes beside the stage machine's
//! forward steps: taking back the shop's last step ([`undo`]), closing
//! ready orders nobody collected (by hand through the stage change, or by
//! [`close_uncollected`] after the time the shop set) and that setting,
//! kept in a table of its own keyed by shop (the shop record's encoding
//! stays as it is).

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use super::orders::{Scope, events_of, order_in_scope, write_change};
use super::tables::{ID_TO_ORDER, Records, SHOP_TO_OPEN_ORDER, TableVisitor, View};
use super::{StoreError, Tx};
use crate::domain::order::{Actor, Order, OrderStatus, check_undo};
use crate::domain::{OrderId, ShopId};

/// A shop's kitchen settings.
pub const SHOP_ID_TO_KITCHEN: Records = TableDefinition::new("shop_id_to_kitchen");

/// Registers this module's tables with the schema's one list.
pub fn visit_tables(visitor: &mut impl TableVisitor) -> Result<(), StoreError> {
    visitor.visit(SHOP_ID_TO_KITCHEN)
}

/// Longest time a shop may set before a ready order is closed as not
/// collected (a day).
pub const MAX_NOT_COLLECTED_MINUTES: u32 = 24 * 60;

/// How the kitchen closes what nobody collects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitchenSettings {
    /// Minutes a ready order waits before it is closed as not collected;
    /// 0: only by hand.
    pub not_collected_after_minutes: u32,
}

/// Reads a shop's kitchen settings (defaults when never set).
pub fn settings(v: &impl View, shop: ShopId) -> Result<KitchenSettings, StoreError> {
    Ok(v.get(SHOP_ID_TO_KITCHEN, shop.0)?.unwrap_or_default())
}

/// Sets a shop's kitchen settings.
pub fn set_settings(
    tx: &mut Tx<'_>,
    shop: ShopId,
    settings: KitchenSettings,
) -> Result<(), StoreError> {
    super::catalog::shop(&**tx, shop)?;
    if settings.not_collected_after_minutes > MAX_NOT_COLLECTED_MINUTES {
        return Err(StoreError::Invalid(format!(
            "not_collected_after_minutes must be 0 to {MAX_NOT_COLLECTED_MINUTES}"
        )));
    }
    tx.put(SHOP_ID_TO_KITCHEN, shop.0, &settings)
}

/// Takes back the shop's last stage change of an order (within 30 s; not
/// a cancellation): the order goes back to the stage before, stored as a
/// step of its own with its time, and the guest is told of the correction.
pub fn undo(tx: &mut Tx<'_>, shop: ShopId, id: OrderId) -> Result<Order, StoreError> {
    let mut order = order_in_scope(&**tx, Scope::Shop(shop), id)?;
    let events = events_of(&**tx, id)?;
    let last = events
        .last()
        .ok_or_else(|| StoreError::Conflict("nothing to undo".into()))?;
    let back = check_undo(last, tx.now)?;
    write_change(tx, &mut order, Actor::Shop, back, None, None)?;
    Ok(order)
}

/// Closes ready orders that waited longer than their shop's setting as
/// not collected; returns them.
pub fn close_uncollected(tx: &mut Tx<'_>) -> Result<Vec<OrderId>, StoreError> {
    let mut open = Vec::new();
    {
        let table = tx.open_table(SHOP_TO_OPEN_ORDER)?;
        for entry in redb::ReadableTable::iter(&table)? {
            let (shop, id) = entry?.0.value();
            open.push((ShopId(shop), OrderId(id)));
        }
    }
    let mut closed = Vec::new();
    let mut limit: Option<(ShopId, u32)> = None;
    for (shop, id) in open {
        let minutes = match limit {
            Some((s, m)) if s == shop => m,
            _ => {
                let m = settings(&**tx, shop)?.not_collected_after_minutes;
                limit = Some((shop, m));
                m
            }
        };
        if minutes == 0 {
            continue;
        }
        let Some(mut order) = tx.get::<u64, Order>(ID_TO_ORDER, id.0)? else {
            continue;
        };
        let due = u64::from(minutes) * 60_000;
        if order.status == OrderStatus::Ready && tx.now.since(order.updated_at) >= due {
            write_change(
                tx,
                &mut order,
                Actor::System,
                OrderStatus::NotCollected,
                None,
                None,
            )?;
            closed.push(id);
        }
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Token as GuestId;
    use crate::domain::menu::StockPolicy;
    use crate::domain::service::PaymentMethod;
    use crate::store::checkout::{Checkout, CheckoutLine, place};
    use crate::store::orders::{cancel, set_status};
    use crate::store::{Store, StoreSettings, catalog};

    /// A store with the demo venue and one order of 2 counted units of the
    /// first shop's first counted item; returns the store, shop, order, item.
    async fn with_order() -> (
        tempfile::TempDir,
        Store,
        ShopId,
        OrderId,
        crate::domain::ItemId,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Store::open(&dir.path().join("db.redb"), StoreSettings::default()).expect("opens");
        crate::demo::seed_if_empty(&store, &crate::auth::Passwords::default())
            .await
            .expect("seeds");
        let (shop, order, item) = store
            .write(|tx| {
                let mut counted = Vec::new();
                for s in catalog::shops(&**tx, true)? {
                    counted.extend(
                        catalog::menu(&**tx, s.id)?
                            .items
                            .into_iter()
                            .filter(|i| matches!(i.item.stock, StockPolicy::Counted(n) if n >= 2)),
                    );
                }
                let first = &counted.first().expect("a counted item").item;
                let (shop, item) = (first.shop, first.id);
                let placed = place(
                    tx,
                    Checkout {
                        guest: GuestId([7; 16]),
                        lines: vec![CheckoutLine {
                            item,
                            quantity: 2,
                            options: vec![],
                        }],
                        idempotency_key: "kitchen-test-0001".into(),
                        note: String::new(),
                        notes: Default::default(),
                        pickup_name: "Ana".into(),
                        session: None,
                        payment: PaymentMethod::Cash,
                    },
                )?;
                Ok((shop, placed.orders[0].id, item))
            })
            .await
            .expect("placed");
        (dir, store, shop, order, item)
    }

    fn left(tx: &Tx<'_>, item: crate::domain::ItemId) -> u32 {
        match catalog::item(&**tx, item)
            .expect("reads")
            .expect("item")
            .stock
        {
            StockPolicy::Counted(n) => n,
            _ => unreachable!("counted"),
        }
    }

    #[tokio::test]
    async fn undo_walks_back_one_step_and_every_step_is_stored_with_its_time() {
        let (_dir, store, shop, id, _) = with_order().await;
        store
            .write(move |tx| {
                let s = Scope::Shop(shop);
                set_status(tx, s, id, OrderStatus::Accepted, None)?;
                set_status(tx, s, id, OrderStatus::Preparing, None)?;
                let o = undo(tx, shop, id)?;
                assert_eq!(o.status, OrderStatus::Accepted);
                assert!(undo(tx, shop, id).is_err(), "an undo is not undone");
                set_status(tx, s, id, OrderStatus::Preparing, None)?;
                tx.now = crate::domain::Timestamp(tx.now.0 + 30_001);
                assert!(undo(tx, shop, id).is_err(), "too late");
                let events = events_of(&**tx, id)?;
                let steps: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
                use OrderStatus as S;
                assert_eq!(
                    steps,
                    [
                        (None, S::Placed),
                        (Some(S::Placed), S::Accepted),
                        (Some(S::Accepted), S::Preparing),
                        (Some(S::Preparing), S::Accepted),
                        (Some(S::Accepted), S::Preparing),
                    ]
                );
                assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
                Ok(())
            })
            .await
            .expect("runs");
    }

    #[tokio::test]
    async fn a_prepared_order_keeps_its_stock_unless_the_shop_says_so() {
        let (_dir, store, shop, id, item) = with_order().await;
        store
            .write(move |tx| {
                let s = Scope::Shop(shop);
                let before = left(tx, item);
                set_status(tx, s, id, OrderStatus::Accepted, None)?;
                set_status(tx, s, id, OrderStatus::Preparing, None)?;
                assert!(cancel(tx, s, id, None, None).is_err(), "needs a reason");
                cancel(tx, s, id, Some("dropped it".into()), None)?;
                assert_eq!(left(tx, item), before, "made food does not go back");
                assert!(undo(tx, shop, id).is_err(), "a cancellation is final");
                Ok(())
            })
            .await
            .expect("runs");
        let (_dir, store, shop, id, item) = with_order().await;
        store
            .write(move |tx| {
                let s = Scope::Shop(shop);
                let before = left(tx, item);
                for to in [
                    OrderStatus::Accepted,
                    OrderStatus::Preparing,
                    OrderStatus::Ready,
                ] {
                    set_status(tx, s, id, to, None)?;
                }
                cancel(tx, s, id, Some("wrong order".into()), Some(true))?;
                assert_eq!(left(tx, item), before + 2, "the shop chose to restock");
                Ok(())
            })
            .await
            .expect("runs");
    }

    #[tokio::test]
    async fn ready_orders_nobody_collects_close_after_the_shops_time_and_can_be_recalled() {
        let (_dir, store, shop, id, _) = with_order().await;
        store
            .write(move |tx| {
                let s = Scope::Shop(shop);
                for to in [
                    OrderStatus::Accepted,
                    OrderStatus::Preparing,
                    OrderStatus::Ready,
                ] {
                    set_status(tx, s, id, to, None)?;
                }
                let start = tx.now;
                assert!(
                    close_uncollected(tx)?.is_empty(),
                    "no time set: by hand only"
                );
                set_settings(
                    tx,
                    shop,
                    KitchenSettings {
                        not_collected_after_minutes: 5,
                    },
                )?;
                tx.now = crate::domain::Timestamp(start.0 + 299_999);
                assert!(close_uncollected(tx)?.is_empty(), "not yet");
                tx.now = crate::domain::Timestamp(start.0 + 300_000);
                assert_eq!(close_uncollected(tx)?, vec![id]);
                let last = events_of(&**tx, id)?.pop().expect("an event");
                assert_eq!(
                    (last.to, last.actor),
                    (OrderStatus::NotCollected, Actor::System)
                );
                assert!(
                    undo(tx, shop, id).is_err(),
                    "the system's step is not the shop's"
                );
                // Recall: back to ready, open again; not after 2 hours.
                let o = set_status(tx, s, id, OrderStatus::Ready, None)?;
                assert_eq!(o.status, OrderStatus::Ready);
                assert!(tx.ids(SHOP_TO_OPEN_ORDER, shop.0)?.contains(&id.0));
                set_status(tx, s, id, OrderStatus::NotCollected, None)?;
                tx.now =
                    crate::domain::Timestamp(tx.now.0 + crate::domain::order::RECALL_WINDOW_MS + 1);
                assert!(
                    set_status(tx, s, id, OrderStatus::Ready, None).is_err(),
                    "too old to recall"
                );
                assert!(
                    set_settings(
                        tx,
                        shop,
                        KitchenSettings {
                            not_collected_after_minutes: 1441
                        }
                    )
                    .is_err()
                );
                Ok(())
            })
            .await
            .expect("runs");
    }
}
