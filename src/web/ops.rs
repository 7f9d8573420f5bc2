//! The operations that both the HTML pages and the JSON API perform, each
//! written once: the shops with their open-order counts and whether they
//! take orders, a shop's menu as guests or its shopkeeper see it, and the
//! day's report. Pages and API handlers only turn these into HTML or JSON.
//!
//! No HTTP here: results are store values and [`StoreError`]s; the status
//! of a failure is chosen by [`super::error`] alone.

use crate::domain::ShopId;
use crate::domain::shop::{Approval, Shop};
use crate::store::{MenuView, Report, StoreError, catalog, orders};
use crate::store::{Tx, View};

use super::AppState;

/// A shop with what decides whether it takes orders right now.
#[derive(Clone, Debug)]
pub struct ShopStatus {
    /// The shop.
    pub shop: Shop,
    /// Its orders not yet completed or cancelled.
    pub open_orders: u32,
    /// Why it does not take orders now; `None` when it does.
    pub refusal: Option<String>,
    /// The same as a fact, for pages that say it in the reader's language.
    pub refused: Option<crate::domain::shop::Refusal>,
    /// The venue's currency.
    pub currency: crate::domain::currency::Currency,
}

impl ShopStatus {
    /// The shop's status at the store's current time.
    pub fn new(state: &AppState, shop: Shop, open_orders: u32) -> Self {
        let refused = shop
            .accepts_orders(
                state.store.now(),
                state.store.settings().utc_offset_minutes,
                open_orders,
            )
            .err();
        Self {
            shop,
            open_orders,
            refusal: refused.as_ref().map(ToString::to_string),
            refused,
            currency: state.web.currency,
        }
    }
}

/// A shop and its open-order count, read inside any transaction.
pub fn with_open_count(v: &impl View, shop: Shop) -> Result<(Shop, u32), StoreError> {
    let open = catalog::open_order_count(v, shop.id)?;
    Ok((shop, open))
}

/// Every shop (or only the approved ones guests may see), with its status.
pub async fn shops(state: &AppState, approved_only: bool) -> Result<Vec<ShopStatus>, StoreError> {
    let list = state
        .store
        .read(move |r| {
            catalog::shops(r, approved_only)?
                .into_iter()
                .map(|s| with_open_count(r, s))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(list
        .into_iter()
        .map(|(s, open)| ShopStatus::new(state, s, open))
        .collect())
}

/// One shop with its status.
pub async fn shop(state: &AppState, id: ShopId) -> Result<ShopStatus, StoreError> {
    let (s, open) = state
        .store
        .read(move |r| with_open_count(r, catalog::shop(r, id)?))
        .await?;
    Ok(ShopStatus::new(state, s, open))
}

/// Runs a write that changes a shop and returns the shop with its status.
pub async fn write_shop<F>(state: &AppState, f: F) -> Result<ShopStatus, StoreError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<Shop, StoreError> + Send + 'static,
{
    let (s, open) = state
        .store
        .write(move |tx| {
            let s = f(tx)?;
            with_open_count(&**tx, s)
        })
        .await?;
    Ok(ShopStatus::new(state, s, open))
}

/// Who is looking at a menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// A guest: only approved shops exist.
    Guest,
    /// The shop's own keeper: everything, approved or not.
    Owner,
}

/// A shop's menu with the shop's status; a guest asking for a shop that is
/// not approved gets "not found".
pub async fn menu(
    state: &AppState,
    id: ShopId,
    audience: Audience,
) -> Result<(MenuView, ShopStatus), StoreError> {
    let (menu, open) = state
        .store
        .read(move |r| {
            let menu = catalog::menu(r, id)?;
            let open = catalog::open_order_count(r, id)?;
            Ok((menu, open))
        })
        .await?;
    if audience == Audience::Guest && menu.shop.approval != Approval::Approved {
        return Err(StoreError::NotFound {
            what: "shop".into(),
        });
    }
    let status = ShopStatus::new(state, menu.shop.clone(), open);
    Ok((menu, status))
}

/// Today's report of a shop (venue-local day).
pub async fn report(state: &AppState, shop: ShopId) -> Result<Report, StoreError> {
    let now = state.store.now();
    let offset = state.store.settings().utc_offset_minutes;
    state
        .store
        .read(move |r| orders::report(r, shop, now, offset))
        .await
}
