//! Schema 1 → 2: order lines gained the options chosen with them
//! ([`crate::domain::options::LineOption`]). Records are postcard-encoded,
//! which has no optional trailing fields, so every stored order is decoded
//! with the version-1 layout below and written back with an empty option
//! list. The new option tables are created by `tables::create_all`.

use redb::{ReadableTable, WriteTransaction};
use serde::Deserialize;

use super::StoreError;
use super::tables::{ID_TO_ORDER, decode, encode};
use crate::domain::order::{Order, OrderLine, OrderStatus};
use crate::domain::stock::Taken;
use crate::domain::{Cents, GuestId, ItemId, OrderId, SessionId, ShopId, Timestamp, Token};

/// An order line as schema 1 stored it.
#[derive(Deserialize)]
struct LineV1 {
    item: ItemId,
    name: String,
    unit_price: Cents,
    quantity: u32,
    taken: Taken,
}

/// An order as schema 1 stored it (field order matters to postcard).
#[derive(Deserialize)]
struct OrderV1 {
    id: OrderId,
    shop: ShopId,
    guest: GuestId,
    number: u32,
    pickup_code: String,
    token: Token,
    status: OrderStatus,
    lines: Vec<LineV1>,
    total: Cents,
    note: String,
    pickup_name: String,
    session: Option<SessionId>,
    created_at: Timestamp,
    updated_at: Timestamp,
    accepted_at: Option<Timestamp>,
    cancel_reason: Option<String>,
}

impl From<OrderV1> for Order {
    fn from(o: OrderV1) -> Self {
        Order {
            id: o.id,
            shop: o.shop,
            guest: o.guest,
            number: o.number,
            pickup_code: o.pickup_code,
            token: o.token,
            status: o.status,
            lines: o
                .lines
                .into_iter()
                .map(|l| OrderLine {
                    item: l.item,
                    name: l.name,
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    taken: l.taken,
                    options: Vec::new(),
                })
                .collect(),
            total: o.total,
            note: o.note,
            pickup_name: o.pickup_name,
            session: o.session,
            created_at: o.created_at,
            updated_at: o.updated_at,
            accepted_at: o.accepted_at,
            cancel_reason: o.cancel_reason,
        }
    }
}

/// Rewrites every stored order in the version-2 layout.
pub fn orders_gain_options(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut table = txn.open_table(ID_TO_ORDER)?;
    let mut rewritten = Vec::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        let old: OrderV1 = decode(v.value())?;
        rewritten.push((k.value(), encode(&Order::from(old))?));
    }
    for (id, bytes) in rewritten {
        table.insert(id, bytes.as_slice())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct LineV1Out {
        item: ItemId,
        name: String,
        unit_price: Cents,
        quantity: u32,
        taken: Taken,
    }

    #[test]
    fn a_version_1_order_reads_back_with_no_options() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = redb::Database::create(dir.path().join("db.redb")).expect("creates");
        // A version-1 record, encoded field by field as schema 1 did.
        let line = LineV1Out {
            item: ItemId(7),
            name: "Milk tea".into(),
            unit_price: Cents(450),
            quantity: 2,
            taken: Taken::Units(2),
        };
        let v1 = (
            OrderId(1),
            ShopId(2),
            Token([1; 16]),
            3u32,
            "K7P4".to_owned(),
            Token([2; 16]),
            OrderStatus::Placed,
            vec![line],
            Cents(900),
            "no ice".to_owned(),
            "Ana".to_owned(),
            None::<SessionId>,
            (
                Timestamp(10),
                Timestamp(11),
                None::<Timestamp>,
                None::<String>,
            ),
        );
        let txn = db.begin_write().expect("write");
        txn.open_table(ID_TO_ORDER)
            .expect("table")
            .insert(1, postcard::to_allocvec(&v1).expect("encodes").as_slice())
            .expect("insert");
        orders_gain_options(&txn).expect("migrates");
        let order: Order = {
            let t = txn.open_table(ID_TO_ORDER).expect("table");
            decode(t.get(1).expect("get").expect("present").value()).expect("decodes")
        };
        assert_eq!(order.lines[0].name, "Milk tea");
        assert_eq!(order.lines[0].quantity, 2);
        assert!(order.lines[0].options.is_empty());
        assert_eq!(order.note, "no ice");
        assert_eq!(order.created_at, Timestamp(10));
    }
}
