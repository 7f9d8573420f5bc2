//! Shopkeeper routes for item options: groups (name, min, max, position),
//! their options (price change, availability, default, stock or recipe),
//! and which items offer which groups. Guests see the result in each item's
//! `option_groups` on the menu.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{OptionDto, OptionGroupDto, StockDto};
use super::menu::StockRequest;
use super::schemas;
use crate::domain::{ItemId, OptionGroupId, OptionId};
use crate::store::options::{self, GroupPatch, GroupView, OptionPatch, OptionView};
use crate::store::{StoreError, View, catalog};
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiPath, Shopkeeper};

/// A new option group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// Fewest options a guest must choose (default 0; not above `max`).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    pub min: Option<u8>,
    /// Most options a guest may choose (default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 20)]
    pub max: Option<u8>,
    /// Sort key (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<u32>,
}

/// Changes to an option group (absent or null fields stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatchRequest {
    #[serde(default)]
    #[schema(schema_with = schemas::name_or_null)]
    pub name: Option<String>,
    /// Fewest options a guest must choose (not above `max`).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    pub min: Option<u8>,
    /// Most options a guest may choose.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 20)]
    pub max: Option<u8>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<u32>,
}

impl From<CreateGroupRequest> for GroupPatch {
    fn from(r: CreateGroupRequest) -> Self {
        GroupPatch {
            name: Some(r.name),
            min: r.min,
            max: r.max,
            position: r.position,
        }
    }
}

impl From<GroupPatchRequest> for GroupPatch {
    fn from(r: GroupPatchRequest) -> Self {
        GroupPatch {
            name: r.name,
            min: r.min,
            max: r.max,
            position: r.position,
        }
    }
}

/// A new option.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOptionRequest {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// Change of the item's price in minor units; may be negative (a
    /// line's unit price never goes below 0). Default 0.
    #[serde(default)]
    #[schema(minimum = -100_000_000, maximum = 100_000_000)]
    pub price_delta_cents: Option<i64>,
    /// The availability switch (default true).
    #[serde(default)]
    pub available: Option<bool>,
    /// Preselected for guests (default false).
    #[serde(default)]
    pub default: Option<bool>,
    /// Stock per portion: unlimited (default), counted, or a recipe of ingredients.
    #[serde(default)]
    pub stock: Option<StockDto>,
    /// Sort key (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<u32>,
}

/// Changes to an option (absent or null fields stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionPatchRequest {
    #[serde(default)]
    #[schema(schema_with = schemas::name_or_null)]
    pub name: Option<String>,
    /// Change of the item's price in minor units; may be negative.
    #[serde(default)]
    #[schema(minimum = -100_000_000, maximum = 100_000_000)]
    pub price_delta_cents: Option<i64>,
    /// The availability switch.
    #[serde(default)]
    pub available: Option<bool>,
    /// Preselected for guests.
    #[serde(default)]
    pub default: Option<bool>,
    /// Stock per portion: unlimited, counted, or a recipe of ingredients.
    #[serde(default)]
    pub stock: Option<StockDto>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<u32>,
}

impl From<CreateOptionRequest> for OptionPatch {
    fn from(r: CreateOptionRequest) -> Self {
        OptionPatch {
            name: Some(r.name),
            price_delta: r.price_delta_cents,
            enabled: r.available,
            default: r.default,
            stock: r.stock.map(Into::into),
            position: r.position,
        }
    }
}

impl From<OptionPatchRequest> for OptionPatch {
    fn from(r: OptionPatchRequest) -> Self {
        OptionPatch {
            name: r.name,
            price_delta: r.price_delta_cents,
            enabled: r.available,
            default: r.default,
            stock: r.stock.map(Into::into),
            position: r.position,
        }
    }
}

/// Every option group of the shop, with its options and the items offering it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopGroupDto {
    #[serde(flatten)]
    pub group: OptionGroupDto,
    pub position: u32,
    /// Items that offer this group.
    pub item_ids: Vec<u64>,
}

fn group_view(
    v: &impl View,
    shop: crate::domain::ShopId,
    id: OptionGroupId,
) -> Result<GroupView, StoreError> {
    let menu = catalog::menu(v, shop)?;
    let g = options::shop_groups(v, shop)?
        .into_iter()
        .find(|g| g.group.id == id)
        .ok_or_else(|| StoreError::NotFound {
            what: format!("option group {id}"),
        })?;
    Ok(GroupView {
        options: g
            .options
            .into_iter()
            .map(|option| {
                let left = options::option_left(&option, &menu.ingredients);
                OptionView {
                    available: option.enabled && left.is_none_or(|n| n > 0),
                    left,
                    option,
                }
            })
            .collect(),
        group: g.group,
    })
}

fn shop_group_dto(
    v: &impl View,
    shop: crate::domain::ShopId,
    id: OptionGroupId,
) -> Result<ShopGroupDto, StoreError> {
    let view = group_view(v, shop, id)?;
    let mut item_ids = Vec::new();
    for item in v.ids(crate::store::tables::SHOP_TO_ITEM, shop.0)? {
        if v.ids(crate::store::tables::ITEM_TO_OPTION_GROUP, item)?
            .contains(&id.0)
        {
            item_ids.push(item);
        }
    }
    Ok(ShopGroupDto {
        position: view.group.position,
        group: OptionGroupDto::new(&view, true),
        item_ids,
    })
}

/// The shop's option groups.
#[utoipa::path(get, path = "/api/shop/option-groups", tag = "menu",
    responses((status = 200, body = [ShopGroupDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_groups(
    State(state): State<AppState>,
    k: Shopkeeper,
) -> ApiResult<Json<Vec<ShopGroupDto>>> {
    let list = state
        .store
        .read(move |r| {
            options::shop_groups(r, k.shop)?
                .iter()
                .map(|g| shop_group_dto(r, k.shop, g.group.id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Json(list))
}

/// Adds an option group.
#[utoipa::path(post, path = "/api/shop/option-groups", tag = "menu", request_body = CreateGroupRequest,
    responses((status = 201, body = ShopGroupDto),
        (status = 409, body = ErrorBody, description = "`min` is larger than `max`")))]
pub async fn create_group(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<CreateGroupRequest>,
) -> ApiResult<(StatusCode, Json<ShopGroupDto>)> {
    let dto = state
        .store
        .write(move |tx| {
            let g = options::create_group(tx, k.shop, req.into())?;
            shop_group_dto(&**tx, k.shop, g.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Changes an option group.
#[utoipa::path(patch, path = "/api/shop/option-groups/{group_id}", tag = "menu", request_body = GroupPatchRequest,
    params(("group_id" = u64, Path)),
    responses((status = 200, body = ShopGroupDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`min` would be larger than `max`")))]
pub async fn patch_group(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
    ApiJson(req): ApiJson<GroupPatchRequest>,
) -> ApiResult<Json<ShopGroupDto>> {
    let id = OptionGroupId(id);
    let dto = state
        .store
        .write(move |tx| {
            options::update_group(tx, k.shop, id, req.into())?;
            shop_group_dto(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(dto))
}

/// Removes an option group with its options (placed orders keep their copies).
#[utoipa::path(delete, path = "/api/shop/option-groups/{group_id}", tag = "menu",
    params(("group_id" = u64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| options::delete_group(tx, k.shop, OptionGroupId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an option to a group.
#[utoipa::path(post, path = "/api/shop/option-groups/{group_id}/options", tag = "menu", request_body = CreateOptionRequest,
    params(("group_id" = u64, Path)),
    responses((status = 201, body = OptionDto),
        (status = 404, body = ErrorBody, description = "No such group, or a recipe names an ingredient the shop does not have"),
        (status = 409, body = ErrorBody, description = "The group is full (30 options), or an ingredient appears twice in the recipe")))]
pub async fn create_option(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(group): ApiPath<u64>,
    ApiJson(req): ApiJson<CreateOptionRequest>,
) -> ApiResult<(StatusCode, Json<OptionDto>)> {
    let dto = state
        .store
        .write(move |tx| {
            let o = options::create_option(tx, k.shop, OptionGroupId(group), req.into())?;
            option_dto(&**tx, k.shop, o.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

fn option_dto(
    v: &impl View,
    shop: crate::domain::ShopId,
    id: OptionId,
) -> Result<OptionDto, StoreError> {
    let o = options::own_option(v, shop, id)?;
    let view = group_view(v, shop, o.group)?;
    view.options
        .iter()
        .find(|x| x.option.id == id)
        .map(|x| OptionDto::new(x, true))
        .ok_or_else(|| StoreError::NotFound {
            what: format!("option {id}"),
        })
}

/// Changes an option: name, price change, on/off, default, stock or recipe.
#[utoipa::path(patch, path = "/api/shop/options/{option_id}", tag = "menu", request_body = OptionPatchRequest,
    params(("option_id" = u64, Path)),
    responses((status = 200, body = OptionDto),
        (status = 404, body = ErrorBody, description = "No such option, or a recipe names an ingredient the shop does not have"),
        (status = 409, body = ErrorBody, description = "An ingredient appears twice in the recipe")))]
pub async fn patch_option(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
    ApiJson(req): ApiJson<OptionPatchRequest>,
) -> ApiResult<Json<OptionDto>> {
    let id = OptionId(id);
    let dto = state
        .store
        .write(move |tx| {
            options::update_option(tx, k.shop, id, req.into())?;
            option_dto(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(dto))
}

/// Removes an option (placed orders keep their copies).
#[utoipa::path(delete, path = "/api/shop/options/{option_id}", tag = "menu",
    params(("option_id" = u64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_option(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| options::delete_option(tx, k.shop, OptionId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a counted option's stock.
#[utoipa::path(post, path = "/api/shop/options/{option_id}/stock", tag = "menu", request_body = StockRequest,
    params(("option_id" = u64, Path)),
    responses((status = 200, body = OptionDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The option has no stock count, or the count would leave its range (0 to 1,000,000)")))]
pub async fn option_stock(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
    ApiJson(req): ApiJson<StockRequest>,
) -> ApiResult<Json<OptionDto>> {
    let change = req.change()?;
    let id = OptionId(id);
    let dto = state
        .store
        .write(move |tx| {
            options::change_option_stock(tx, k.shop, id, change)?;
            option_dto(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(dto))
}

/// Offers a group with an item (idempotent).
#[utoipa::path(put, path = "/api/shop/items/{item_id}/option-groups/{group_id}", tag = "menu",
    params(("item_id" = u64, Path), ("group_id" = u64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath((item, group)): ApiPath<(u64, u64)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| options::attach(tx, k.shop, ItemId(item), OptionGroupId(group)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops offering a group with an item.
#[utoipa::path(delete, path = "/api/shop/items/{item_id}/option-groups/{group_id}", tag = "menu",
    params(("item_id" = u64, Path), ("group_id" = u64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detach(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath((item, group)): ApiPath<(u64, u64)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| options::detach(tx, k.shop, ItemId(item), OptionGroupId(group)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
