//! A shop's queue read once for many orders: the orders still waiting
//! (placed, accepted, preparing) with what their wait estimate needs, the
//! shop's preparation time and its call prefix. A staff list and every
//! live order page of the shop share one read (see `web::queue`) instead
//! of scanning the shop's open orders once per order.

use super::catalog::shop;
use super::tables::*;
use super::{StoreError, pickup};
use crate::domain::order::Order;
use crate::domain::wait::{PrepTime, Wait};
use crate::domain::{OrderId, ShopId, Timestamp};

/// A shop's queue at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopQueue {
    /// The shop.
    pub shop: ShopId,
    /// Waiting orders, oldest first, with when each was accepted.
    waiting: Vec<(u64, Option<Timestamp>)>,
    prep: PrepTime,
    /// The shop's call prefix ("B" of "B12").
    pub prefix: String,
}

impl ShopQueue {
    /// 1 = next in line; `None` once ready or finished.
    pub fn position(&self, order: OrderId) -> Option<u32> {
        let i = self
            .waiting
            .binary_search_by_key(&order.0, |(id, _)| *id)
            .ok()?;
        Some(u32::try_from(i).unwrap_or(u32::MAX - 1) + 1)
    }

    /// The order's place and wait at `now`; `None` once ready or finished.
    pub fn wait(&self, order: OrderId, now: Timestamp) -> Option<(u32, Wait)> {
        let position = self.position(order)?;
        let accepted_at = self.waiting[position as usize - 1].1;
        Some((
            position,
            pickup::wait_since(self.prep, accepted_at, position, now),
        ))
    }
}

/// Reads a shop's queue (one scan of its open orders).
pub fn shop_queue(v: &impl View, shop_id: ShopId) -> Result<ShopQueue, StoreError> {
    let s = shop(v, shop_id)?;
    let mut waiting = Vec::new();
    for id in v.ids(SHOP_TO_OPEN_ORDER, shop_id.0)? {
        if let Some(o) = v.get::<u64, Order>(ID_TO_ORDER, id)?
            && o.status.in_queue()
        {
            waiting.push((id, o.accepted_at));
        }
    }
    Ok(ShopQueue {
        shop: shop_id,
        waiting,
        prep: pickup::prep_time(v, &s)?,
        prefix: pickup::prefix(v, shop_id)?,
    })
}
