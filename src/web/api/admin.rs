//! Operator routes: every shop, approving and rejecting shops.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::ShopDto;
use crate::domain::ShopId;
use crate::domain::shop::Approval;
use crate::store::catalog;
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::{Admin, ApiPath};
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
