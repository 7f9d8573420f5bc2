//! Operator routes: every shop, approving, rejecting and renaming shops.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::ShopDto;
use super::schemas;
use crate::domain::ShopId;
use crate::domain::shop::Approval;
use crate::store::catalog;
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::{Admin, ApiJson, ApiPath};
use crate::web::ops;

/// A shop with its owner, for the operator.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminShopDto {
    #[serde(flatten)]
    pub shop: ShopDto,
    pub owner_user_id: u64,
    pub created_at_ms: u64,
}

/// Every shop, whatever its approval.
#[utoipa::path(get, path = "/api/admin/shops", tag = "admin",
    responses((status = 200, body = [AdminShopDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_shops(
    State(state): State<AppState>,
    _admin: Admin,
) -> ApiResult<Json<Vec<AdminShopDto>>> {
    let shops = ops::shops(&state, false).await?;
    Ok(Json(
        shops
            .iter()
            .map(|s| AdminShopDto {
                shop: ShopDto::from(s),
                owner_user_id: s.shop.owner.0,
                created_at_ms: s.shop.created_at.0,
            })
            .collect(),
    ))
}

async fn decide(state: AppState, shop: u64, approval: Approval) -> ApiResult<Json<ShopDto>> {
    let s = ops::write_shop(&state, move |tx| {
        catalog::set_approval(tx, ShopId(shop), approval)
    })
    .await?;
    tracing::info!(shop, ?approval, "shop approval changed");
    Ok(Json(ShopDto::from(&s)))
}

/// Approves a shop: it is listed and takes orders.
#[utoipa::path(post, path = "/api/admin/shops/{shop_id}/approve", tag = "admin",
    params(("shop_id" = u64, Path)),
    responses((status = 200, body = ShopDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(shop): ApiPath<u64>,
) -> ApiResult<Json<ShopDto>> {
    decide(state, shop, Approval::Approved).await
}

/// Rejects a shop: it is no longer listed.
#[utoipa::path(post, path = "/api/admin/shops/{shop_id}/reject", tag = "admin",
    params(("shop_id" = u64, Path)),
    responses((status = 200, body = ShopDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(shop): ApiPath<u64>,
) -> ApiResult<Json<ShopDto>> {
    decide(state, shop, Approval::Rejected).await
}

/// The operator's change to a shop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminShopPatch {
    /// The shop's new name (unique in the venue, compared ignoring case,
    /// spacing and look-alike forms such as fullwidth letters).
    #[schema(schema_with = schemas::name)]
    pub name: String,
}

/// Renames a shop. An approved shop cannot rename itself (so that no shop
/// takes another's name once approved); the operator does it here.
#[utoipa::path(patch, path = "/api/admin/shops/{shop_id}", tag = "admin",
    params(("shop_id" = u64, Path)), request_body = AdminShopPatch,
    responses((status = 200, body = ShopDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another shop has that name")))]
pub async fn rename(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(shop): ApiPath<u64>,
    ApiJson(req): ApiJson<AdminShopPatch>,
) -> ApiResult<Json<ShopDto>> {
    let s = ops::write_shop(&state, move |tx| {
        catalog::rename_shop(tx, ShopId(shop), &req.name)
    })
    .await?;
    tracing::info!(shop, name = %s.shop.name, "shop renamed by the operator");
    Ok(Json(ShopDto::from(&s)))
}
