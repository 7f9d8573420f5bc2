//! Every redb table of the store, named `KEY_TO_VALUE`, and the `View`
//! trait that lets query code run on a read or a write transaction alike.
//!
//! Records are postcard-encoded serde values in `u64 -> &[u8]` tables;
//! indexes are `(owner, id) -> ()` tables scanned by key range.

use std::borrow::Borrow;

use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A table of postcard records keyed by numeric id.
pub type Records = TableDefinition<'static, u64, &'static [u8]>;
/// An index of `(owner, id)` pairs.
pub type Index = TableDefinition<'static, (u64, u64), ()>;
/// An index of `(guest device, id)` pairs.
pub type GuestIndex = TableDefinition<'static, ([u8; 16], u64), ()>;

/// Schema version and id sequences.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub const ID_TO_USER: Records = TableDefinition::new("id_to_user");
pub const EMAIL_TO_USER_ID: TableDefinition<&str, u64> = TableDefinition::new("email_to_user_id");
/// Login sessions keyed by the BLAKE2b-256 hash of the cookie token.
pub const TOKEN_HASH_TO_LOGIN: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("token_hash_to_login");

pub const ID_TO_SHOP: Records = TableDefinition::new("id_to_shop");
/// How a shop's orders are called and estimated (`domain::shop::Pickup`).
pub const SHOP_TO_PICKUP: Records = TableDefinition::new("shop_to_pickup");
pub const ID_TO_CATEGORY: Records = TableDefinition::new("id_to_category");
pub const ID_TO_ITEM: Records = TableDefinition::new("id_to_item");
pub const ID_TO_INGREDIENT: Records = TableDefinition::new("id_to_ingredient");
pub const SHOP_TO_CATEGORY: Index = TableDefinition::new("shop_to_category");
pub const SHOP_TO_ITEM: Index = TableDefinition::new("shop_to_item");
pub const SHOP_TO_INGREDIENT: Index = TableDefinition::new("shop_to_ingredient");
pub const ID_TO_OPTION_GROUP: Records = TableDefinition::new("id_to_option_group");
pub const ID_TO_OPTION: Records = TableDefinition::new("id_to_option");
pub const SHOP_TO_OPTION_GROUP: Index = TableDefinition::new("shop_to_option_group");
pub const OPTION_GROUP_TO_OPTION: Index = TableDefinition::new("option_group_to_option");
/// Which option groups an item offers: `(item, group) -> ()`.
pub const ITEM_TO_OPTION_GROUP: Index = TableDefinition::new("item_to_option_group");

pub const ID_TO_ORDER: Records = TableDefinition::new("id_to_order");
pub const TOKEN_TO_ORDER_ID: TableDefinition<[u8; 16], u64> =
    TableDefinition::new("token_to_order_id");
/// Every stage change of an order: `(order, sequence) -> OrderEvent`.
pub const ORDER_SEQ_TO_EVENT: TableDefinition<(u64, u32), &[u8]> =
    TableDefinition::new("order_seq_to_event");
pub const SHOP_TO_ORDER: Index = TableDefinition::new("shop_to_order");
/// Orders not yet completed or cancelled, per shop.
pub const SHOP_TO_OPEN_ORDER: Index = TableDefinition::new("shop_to_open_order");
pub const GUEST_TO_ORDER: GuestIndex = TableDefinition::new("guest_to_order");
pub const SESSION_TO_ORDER: Index = TableDefinition::new("session_to_order");
/// `"{guest}:{key}" -> IdempotencyRecord`.
pub const IDEMPOTENCY_KEY_TO_CHECKOUT: TableDefinition<&str, &[u8]> =
    TableDefinition::new("idempotency_key_to_checkout");
pub const ORDER_ID_TO_PAYMENT: Records = TableDefinition::new("order_id_to_payment");

pub const ID_TO_NOTIFICATION: Records = TableDefinition::new("id_to_notification");
pub const GUEST_TO_NOTIFICATION: GuestIndex = TableDefinition::new("guest_to_notification");

pub const ID_TO_ORDER_SESSION: Records = TableDefinition::new("id_to_order_session");
pub const CODE_TO_ORDER_SESSION_ID: TableDefinition<[u8; 16], u64> =
    TableDefinition::new("code_to_order_session_id");
pub const SHOP_TO_ORDER_SESSION: Index = TableDefinition::new("shop_to_order_session");

/// Wi-Fi sessions keyed by MAC address (filled by the gateway).
pub const MAC_TO_WIFI_SESSION: TableDefinition<&str, &[u8]> =
    TableDefinition::new("mac_to_wifi_session");

/// Something done once per table, for every table of the schema.
pub trait TableVisitor {
    /// Visits one table.
    fn visit<K: Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), StoreError>;
}

/// Calls `visitor` for every table: the one list of the schema.
pub fn visit_all(visitor: &mut impl TableVisitor) -> Result<(), StoreError> {
    visitor.visit(META)?;
    for def in [
        ID_TO_USER,
        ID_TO_SHOP,
        SHOP_TO_PICKUP,
        ID_TO_CATEGORY,
        ID_TO_ITEM,
        ID_TO_INGREDIENT,
        ID_TO_ORDER,
        ORDER_ID_TO_PAYMENT,
        ID_TO_NOTIFICATION,
        ID_TO_ORDER_SESSION,
        ID_TO_OPTION_GROUP,
        ID_TO_OPTION,
    ] {
        visitor.visit(def)?;
    }
    for def in [
        SHOP_TO_CATEGORY,
        SHOP_TO_ITEM,
        SHOP_TO_INGREDIENT,
        SHOP_TO_ORDER,
        SHOP_TO_OPEN_ORDER,
        SESSION_TO_ORDER,
        SHOP_TO_ORDER_SESSION,
        SHOP_TO_OPTION_GROUP,
        OPTION_GROUP_TO_OPTION,
        ITEM_TO_OPTION_GROUP,
    ] {
        visitor.visit(def)?;
    }
    visitor.visit(GUEST_TO_ORDER)?;
    visitor.visit(GUEST_TO_NOTIFICATION)?;
    visitor.visit(EMAIL_TO_USER_ID)?;
    visitor.visit(TOKEN_HASH_TO_LOGIN)?;
    visitor.visit(TOKEN_TO_ORDER_ID)?;
    visitor.visit(ORDER_SEQ_TO_EVENT)?;
    visitor.visit(IDEMPOTENCY_KEY_TO_CHECKOUT)?;
    visitor.visit(CODE_TO_ORDER_SESSION_ID)?;
    visitor.visit(MAC_TO_WIFI_SESSION)?;
    visitor.visit(super::retention::DAY_TOTALS)?;
    visitor.visit(super::folded::DAY_OPTION_TOTALS)?;
    visitor.visit(super::folded::DAY_EXTRAS)?;
    super::printing::visit_tables(visitor)?;
    super::kitchen::visit_tables(visitor)?;
    Ok(())
}

/// Creates every table, so that readers never meet a missing one.
pub fn create_all(txn: &WriteTransaction) -> Result<(), StoreError> {
    struct Create<'a>(&'a WriteTransaction);
    impl TableVisitor for Create<'_> {
        fn visit<K: Key + 'static, V: redb::Value + 'static>(
            &mut self,
            def: TableDefinition<'static, K, V>,
        ) -> Result<(), StoreError> {
            self.0.open_table(def)?;
            Ok(())
        }
    }
    visit_all(&mut Create(txn))
}

/// Encodes a record.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(value).map_err(StoreError::Codec)
}

/// Decodes a record.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(StoreError::Codec)
}

/// Reads shared by read and write transactions.
pub trait View {
    /// The record under `key`, decoded.
    fn get<'k, K: Key + 'static, T: DeserializeOwned>(
        &self,
        def: TableDefinition<'static, K, &'static [u8]>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<T>, StoreError>;

    /// The id stored under `key` in a lookup table.
    fn lookup<'k, K: Key + 'static>(
        &self,
        def: TableDefinition<'static, K, u64>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<u64>, StoreError>;

    /// The ids under `owner` in an index, ascending.
    fn ids(&self, def: Index, owner: u64) -> Result<Vec<u64>, StoreError>;

    /// The ids under each of `owners` (one list per owner, in their order),
    /// from one opening of the index.
    fn ids_each(&self, def: Index, owners: &[u64]) -> Result<Vec<Vec<u64>>, StoreError>;

    /// How many ids are under `owner`, counting no further than `cap`.
    fn count_ids(&self, def: Index, owner: u64, cap: usize) -> Result<usize, StoreError>;

    /// The newest `limit` ids under `owner`, newest first.
    fn newest_ids(&self, def: Index, owner: u64, limit: usize) -> Result<Vec<u64>, StoreError>;

    /// The ids under a guest in an index, ascending, after `after`.
    fn guest_ids(
        &self,
        def: GuestIndex,
        guest: [u8; 16],
        after: u64,
    ) -> Result<Vec<u64>, StoreError>;

    /// Every record of a table, decoded.
    fn all<K: Key + 'static, T: DeserializeOwned>(
        &self,
        def: TableDefinition<'static, K, &'static [u8]>,
    ) -> Result<Vec<T>, StoreError>;

    /// The records with the given ids (missing ones are skipped).
    fn many<T: DeserializeOwned>(&self, def: Records, ids: &[u64]) -> Result<Vec<T>, StoreError>;
}

macro_rules! impl_view {
    ($t:ty) => {
        impl View for $t {
            fn get<'k, K: Key + 'static, T: DeserializeOwned>(
                &self,
                def: TableDefinition<'static, K, &'static [u8]>,
                key: impl Borrow<K::SelfType<'k>>,
            ) -> Result<Option<T>, StoreError> {
                let table = self.open_table(def)?;
                let found = table.get(key)?;
                found.map(|g| decode(g.value())).transpose()
            }

            fn lookup<'k, K: Key + 'static>(
                &self,
                def: TableDefinition<'static, K, u64>,
                key: impl Borrow<K::SelfType<'k>>,
            ) -> Result<Option<u64>, StoreError> {
                let table = self.open_table(def)?;
                let found = table.get(key)?;
                Ok(found.map(|g| g.value()))
            }

            fn ids(&self, def: Index, owner: u64) -> Result<Vec<u64>, StoreError> {
                let table = self.open_table(def)?;
                let mut out = Vec::new();
                for entry in table.range((owner, 0)..=(owner, u64::MAX))? {
                    out.push(entry?.0.value().1);
                }
                Ok(out)
            }

            fn ids_each(&self, def: Index, owners: &[u64]) -> Result<Vec<Vec<u64>>, StoreError> {
                let table = self.open_table(def)?;
                let mut out = Vec::with_capacity(owners.len());
                for &owner in owners {
                    let mut ids = Vec::new();
                    for entry in table.range((owner, 0)..=(owner, u64::MAX))? {
                        ids.push(entry?.0.value().1);
                    }
                    out.push(ids);
                }
                Ok(out)
            }

            fn count_ids(&self, def: Index, owner: u64, cap: usize) -> Result<usize, StoreError> {
                let table = self.open_table(def)?;
                let mut n = 0;
                for entry in table.range((owner, 0)..=(owner, u64::MAX))?.take(cap) {
                    entry?;
                    n += 1;
                }
                Ok(n)
            }

            fn newest_ids(
                &self,
                def: Index,
                owner: u64,
                limit: usize,
            ) -> Result<Vec<u64>, StoreError> {
                let table = self.open_table(def)?;
                let mut out = Vec::new();
                for entry in table
                    .range((owner, 0)..=(owner, u64::MAX))?
                    .rev()
                    .take(limit)
                {
                    out.push(entry?.0.value().1);
                }
                Ok(out)
            }

            fn guest_ids(
                &self,
                def: GuestIndex,
                guest: [u8; 16],
                after: u64,
            ) -> Result<Vec<u64>, StoreError> {
                let table = self.open_table(def)?;
                let mut out = Vec::new();
                if after == u64::MAX {
                    return Ok(out);
                }
                for entry in table.range((guest, after + 1)..=(guest, u64::MAX))? {
                    out.push(entry?.0.value().1);
                }
                Ok(out)
            }

            fn many<T: DeserializeOwned>(
                &self,
                def: Records,
                ids: &[u64],
            ) -> Result<Vec<T>, StoreError> {
                // One table for all of them: opening a table in a write
                // transaction costs more than reading a record from it.
                let table = self.open_table(def)?;
                let mut out = Vec::with_capacity(ids.len());
                for &id in ids {
                    if let Some(g) = table.get(id)? {
                        out.push(decode(g.value())?);
                    }
                }
                Ok(out)
            }

            fn all<K: Key + 'static, T: DeserializeOwned>(
                &self,
                def: TableDefinition<'static, K, &'static [u8]>,
            ) -> Result<Vec<T>, StoreError> {
                let table = self.open_table(def)?;
                let mut out = Vec::new();
                for entry in table.iter()? {
                    out.push(decode(entry?.1.value())?);
                }
                Ok(out)
            }
        }
    };
}

impl_view!(ReadTransaction);
impl_view!(WriteTransaction);
