//! A shop's pickup settings (its call prefix and usual preparation time),
//! the venue's prefixes as `domain::callsign` assigns them, and the wait
//! estimate of an order in line.

use std::collections::BTreeMap;

use super::catalog::shop;
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::callsign::{self, ShopName};
use crate::domain::order::Order;
use crate::domain::shop::{MAX_DEFAULT_PREP_SECONDS, Pickup, Shop};
use crate::domain::wait::{PrepTime, Wait};
use crate::domain::{ShopId, Timestamp};
use crate::events::DomainEvent;

/// The shop's pickup settings (the defaults when it set none).
pub fn settings(v: &impl View, id: ShopId) -> Result<Pickup, StoreError> {
    Ok(v.get(SHOP_TO_PICKUP, id.0)?.unwrap_or_default())
}

/// Every shop's prefix. All shops take part, whatever their approval, so
/// that approving or registering a shop never moves another's prefix.
pub fn prefixes(v: &impl View) -> Result<BTreeMap<ShopId, String>, StoreError> {
    let shops: Vec<Shop> = v.all(ID_TO_SHOP)?;
    let mut chosen = Vec::with_capacity(shops.len());
    for s in &shops {
        chosen.push(settings(v, s.id)?.prefix);
    }
    let names: Vec<ShopName<'_>> = shops
        .iter()
        .zip(&chosen)
        .map(|(s, c)| ShopName {
            id: s.id,
            name: &s.name,
            chosen: c.as_deref(),
        })
        .collect();
    Ok(callsign::assign(&names))
}

/// The prefix of one shop.
pub fn prefix(v: &impl View, id: ShopId) -> Result<String, StoreError> {
    prefixes(v)?
        .remove(&id)
        .ok_or_else(|| StoreError::NotFound {
            what: format!("shop {id}"),
        })
}

/// What a shopkeeper changes; `None` leaves a field, `Some(None)` goes
/// back to the default.
#[derive(Clone, Debug, Default)]
pub struct PickupPatch {
    /// The call prefix (letters; checked and made capitals here).
    pub prefix: Option<Option<String>>,
    /// The usual preparation time, in seconds.
    pub default_prep_seconds: Option<Option<u32>>,
}

/// Changes the shop's pickup settings. A prefix another shop uses now
/// (chosen or derived) is refused, so no shop's number changes under it.
pub fn update(tx: &mut Tx<'_>, id: ShopId, patch: PickupPatch) -> Result<Pickup, StoreError> {
    shop(&**tx, id)?;
    let mut p = settings(&**tx, id)?;
    if let Some(prefix) = patch.prefix {
        p.prefix = match prefix {
            Some(raw) => {
                let wanted = callsign::check_prefix(&raw).map_err(StoreError::Invalid)?;
                let taken = prefixes(&**tx)?
                    .into_iter()
                    .any(|(other, used)| other != id && used == wanted);
                if taken {
                    return Err(StoreError::Conflict(format!(
                        "another shop is called with {wanted} already; choose other letters"
                    )));
                }
                Some(wanted)
            }
            None => None,
        };
    }
    if let Some(seconds) = patch.default_prep_seconds {
        if seconds.is_some_and(|s| s == 0 || s > MAX_DEFAULT_PREP_SECONDS) {
            return Err(StoreError::Invalid(format!(
                "the usual preparation time must be 1 to {} minutes",
                MAX_DEFAULT_PREP_SECONDS / 60
            )));
        }
        p.default_prep_seconds = seconds;
    }
    tx.put(SHOP_TO_PICKUP, id.0, &p)?;
    tx.publish(DomainEvent::ShopChanged { shop: id });
    Ok(p)
}

/// The shop's preparation time, from its history and usual time.
pub fn prep_time(v: &impl View, s: &Shop) -> Result<PrepTime, StoreError> {
    Ok(s.prep_time(&settings(v, s.id)?))
}

/// The wait of `order`, at `position` in line, at `now`.
pub fn wait(prep: PrepTime, order: &Order, position: u32, now: Timestamp) -> Wait {
    wait_since(prep, order.accepted_at, position, now)
}

/// The wait of an order accepted at `accepted_at`, at `position` in line.
pub fn wait_since(
    prep: PrepTime,
    accepted_at: Option<Timestamp>,
    position: u32,
    now: Timestamp,
) -> Wait {
    let elapsed = accepted_at.map_or(0, |a| {
        u32::try_from(now.since(a) / 1000).unwrap_or(u32::MAX)
    });
    Wait::estimate(prep, position, elapsed)
}
