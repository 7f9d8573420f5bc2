//! The shopkeeper's pickup settings: the prefix of the shop's called
//! numbers ("B" in "B12", on the board and the guests' phones) and its
//! usual preparation time, where wait estimates start while the shop has
//! little history.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schemas;
use crate::domain::ShopId;
use crate::domain::shop::{MAX_DEFAULT_PREP_SECONDS, Pickup};
use crate::store::pickup::{self, PickupPatch};
use crate::store::{StoreError, View, catalog};
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, Shopkeeper};

/// The shop's pickup settings and what guests see of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickupDto {
    /// The prefix in use (chosen, or derived from the shop's name).
    pub prefix: String,
    /// The prefix the shop chose; null when derived.
    pub chosen_prefix: Option<String>,
    /// The usual preparation time the shop set; null for the venue's.
    pub default_prep_seconds: Option<u32>,
    /// One order's typical preparation time now (median of recent orders,
    /// the usual time filling in while there are few).
    pub typical_prep_seconds: u32,
}

/// New pickup settings; both fields are replaced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupRequest {
    /// 1 to 3 letters (stored in capitals), not in use by another shop;
    /// null derives one from the shop's name.
    #[schema(schema_with = schemas::call_prefix_or_null)]
    pub prefix: Option<String>,
    /// Seconds; null uses the venue's default (300).
    #[schema(minimum = 1, maximum = 14400)]
    pub default_prep_seconds: Option<u32>,
}

// The schema's maximum above is this constant.
const _: () = assert!(MAX_DEFAULT_PREP_SECONDS == 14400);

fn dto(r: &impl View, shop: ShopId, p: &Pickup) -> Result<PickupDto, StoreError> {
    let s = catalog::shop(r, shop)?;
    Ok(PickupDto {
        prefix: pickup::prefix(r, shop)?,
        chosen_prefix: p.prefix.clone(),
        default_prep_seconds: p.default_prep_seconds,
        typical_prep_seconds: s.prep_time(p).typical,
    })
}

/// The shop's pickup settings.
#[utoipa::path(get, path = "/api/shop/pickup", tag = "shop",
    responses((status = 200, body = PickupDto), (status = 401, body = ErrorBody)))]
pub async fn get_pickup(
    State(state): State<AppState>,
    k: Shopkeeper,
) -> ApiResult<Json<PickupDto>> {
    let d = state
        .store
        .read(move |r| dto(r, k.shop, &pickup::settings(r, k.shop)?))
        .await?;
    Ok(Json(d))
}

/// Sets the shop's call prefix and usual preparation time.
#[utoipa::path(put, path = "/api/shop/pickup", tag = "shop", request_body = PickupRequest,
    responses((status = 200, body = PickupDto), (status = 409, body = ErrorBody,
        description = "Another shop is called with this prefix"), (status = 422, body = ErrorBody)))]
pub async fn put_pickup(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<PickupRequest>,
) -> ApiResult<Json<PickupDto>> {
    let patch = PickupPatch {
        prefix: Some(req.prefix),
        default_prep_seconds: Some(req.default_prep_seconds),
    };
    let d = state
        .store
        .write(move |tx| {
            let p = pickup::update(tx, k.shop, patch)?;
            dto(&**tx, k.shop, &p)
        })
        .await?;
    Ok(Json(d))
}
