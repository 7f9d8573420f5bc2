//! Shopkeeper routes for the menu: categories, items, ingredients and
//! stock. Stock changes are relative (`delta`) or absolute (`set`); a
//! relative change is applied at commit time, so it never overwrites units
//! that orders took meanwhile.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{CategoryDto, IngredientDto, ItemDto, MenuDto, ShopDto, StockDto};
use super::schemas;
use crate::domain::menu::StockChange;
use crate::domain::{CategoryId, Cents, IngredientId, ItemId};
use crate::store::{ItemDraft, ItemPatch, catalog};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiPath, Shopkeeper};
use crate::web::ops::{self, Audience};

/// The shop's own menu, with ingredients, stock policies and switched-off items.
#[utoipa::path(get, path = "/api/shop/menu", tag = "menu",
    responses((status = 200, body = MenuDto), (status = 401, body = ErrorBody)))]
pub async fn own_menu(State(state): State<AppState>, k: Shopkeeper) -> ApiResult<Json<MenuDto>> {
    let (menu, status) = ops::menu(&state, k.shop, Audience::Owner).await?;
    Ok(Json(MenuDto {
        shop: ShopDto::from(&status),
        categories: menu.categories.iter().map(CategoryDto::from).collect(),
        items: menu.items.iter().map(|i| ItemDto::new(i, true)).collect(),
        ingredients: Some(menu.ingredients.iter().map(IngredientDto::from).collect()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRequest {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// Sort key (lower first).
    #[serde(default)]
    #[schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64)]
    pub position: u32,
}

/// Adds a category.
#[utoipa::path(post, path = "/api/shop/categories", tag = "menu", request_body = CategoryRequest,
    responses((status = 201, body = CategoryDto), (status = 422, body = ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<CategoryRequest>,
) -> ApiResult<(StatusCode, Json<CategoryDto>)> {
    let c = state
        .store
        .write(move |tx| catalog::create_category(tx, k.shop, &req.name, req.position))
        .await?;
    Ok((StatusCode::CREATED, Json(CategoryDto::from(&c))))
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = schemas::text)]
    pub description: String,
    /// Price in minor units (cents).
    #[schema(maximum = 100_000_000)]
    pub price_cents: u64,
    #[serde(default)]
    pub category_id: Option<u64>,
    #[serde(default)]
    #[schema(schema_with = schemas::name_list)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schemas::allergen_list)]
    pub allergens: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schemas::photo_or_null)]
    pub photo: Option<String>,
    /// The availability toggle (default true).
    #[serde(default = "default_true")]
    pub available: bool,
    pub stock: StockDto,
}

/// Largest price of one item, in minor units.
const MAX_PRICE: u64 = 100_000_000;

fn check_price(p: u64) -> ApiResult<Cents> {
    if p > MAX_PRICE {
        return Err(ApiError::invalid(format!(
            "price_cents must be at most {MAX_PRICE}"
        )));
    }
    Ok(Cents(p))
}

/// Adds an item.
#[utoipa::path(post, path = "/api/shop/items", tag = "menu", request_body = ItemRequest,
    responses((status = 201, body = ItemDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A recipe names an ingredient twice"),
        (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<ItemRequest>,
) -> ApiResult<(StatusCode, Json<ItemDto>)> {
    let draft = ItemDraft {
        category: req.category_id.map(CategoryId),
        name: req.name,
        description: req.description,
        price: check_price(req.price_cents)?,
        tags: req.tags,
        allergens: req.allergens,
        photo: req.photo,
        enabled: req.available,
        stock: req.stock.into(),
    };
    let view = state
        .store
        .write(move |tx| {
            let item = catalog::create_item(tx, k.shop, draft)?;
            item_view(&**tx, k.shop, item.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ItemDto::new(&view, true))))
}

pub(crate) fn item_view(
    v: &impl crate::store::View,
    shop: crate::domain::ShopId,
    id: ItemId,
) -> Result<crate::store::ItemView, crate::store::StoreError> {
    catalog::menu(v, shop)?
        .items
        .into_iter()
        .find(|i| i.item.id == id)
        .ok_or_else(|| crate::store::StoreError::NotFound {
            what: format!("item {id}"),
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatchRequest {
    #[schema(schema_with = schemas::name_or_null)]
    pub name: Option<String>,
    #[schema(schema_with = schemas::text_or_null)]
    pub description: Option<String>,
    #[schema(maximum = 100_000_000)]
    pub price_cents: Option<u64>,
    /// A category id, or 0 to remove the category.
    pub category_id: Option<u64>,
    #[schema(schema_with = schemas::name_list_or_null)]
    pub tags: Option<Vec<String>>,
    #[schema(schema_with = schemas::allergen_list_or_null)]
    pub allergens: Option<Vec<String>>,
    /// A URL, or "" to remove the photo.
    #[schema(schema_with = schemas::photo_or_empty_or_null)]
    pub photo: Option<String>,
    /// The availability toggle.
    pub available: Option<bool>,
    /// A new stock policy (a stock-take or a new recipe).
    pub stock: Option<StockDto>,
}

/// Changes an item.
#[utoipa::path(patch, path = "/api/shop/items/{item_id}", tag = "menu", request_body = ItemPatchRequest,
    params(("item_id" = u64, Path)),
    responses((status = 200, body = ItemDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A recipe names an ingredient twice"),
        (status = 422, body = ErrorBody)))]
pub async fn patch_item(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(item_id): ApiPath<u64>,
    ApiJson(req): ApiJson<ItemPatchRequest>,
) -> ApiResult<Json<ItemDto>> {
    let patch = ItemPatch {
        category: req.category_id.map(|c| (c != 0).then_some(CategoryId(c))),
        name: req.name,
        description: req.description,
        price: req.price_cents.map(check_price).transpose()?,
        tags: req.tags,
        allergens: req.allergens,
        photo: req.photo.map(|p| (!p.is_empty()).then_some(p)),
        enabled: req.available,
        stock: req.stock.map(Into::into),
    };
    let id = ItemId(item_id);
    let view = state
        .store
        .write(move |tx| {
            catalog::update_item(tx, k.shop, id, patch)?;
            item_view(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(ItemDto::new(&view, true)))
}

/// Removes an item from the menu (past orders keep their copy).
#[utoipa::path(delete, path = "/api/shop/items/{item_id}", tag = "menu",
    params(("item_id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_item(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(item_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| catalog::delete_item(tx, k.shop, ItemId(item_id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stock change: exactly one of `delta` and `set`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    /// Add (or with a negative number, remove) units.
    #[serde(default, deserialize_with = "present")]
    pub delta: Option<i64>,
    /// Set the count outright (a stock-take).
    #[serde(default, deserialize_with = "present")]
    pub set: Option<u64>,
}

/// A field that may be left out but not sent as `null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

// Written by hand: utoipa 5.5's derive writes `min_properties` as
// `maxProperties`, and "exactly one of" needs both bounds.
impl utoipa::PartialSchema for StockRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schemas::stock_change().into()
    }
}

impl ToSchema for StockRequest {}

impl StockRequest {
    pub(crate) fn change(&self) -> ApiResult<StockChange> {
        match (self.delta, self.set) {
            (Some(d), None) => Ok(StockChange::Delta(d)),
            (None, Some(s)) => Ok(StockChange::Set(s)),
            _ => Err(ApiError::invalid(
                "send exactly one of delta (relative) or set (absolute)",
            )),
        }
    }
}

/// Changes a counted item's stock.
#[utoipa::path(post, path = "/api/shop/items/{item_id}/stock", tag = "menu", request_body = StockRequest,
    params(("item_id" = u64, Path)),
    responses((status = 200, body = ItemDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The item has no stock count, or the count would leave 0 to 1,000,000"),
        (status = 422, body = ErrorBody, description = "Not exactly one of `delta` and `set`")))]
pub async fn item_stock(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(item_id): ApiPath<u64>,
    ApiJson(req): ApiJson<StockRequest>,
) -> ApiResult<Json<ItemDto>> {
    let change = req.change()?;
    let id = ItemId(item_id);
    let view = state
        .store
        .write(move |tx| {
            catalog::change_item_stock(tx, k.shop, id, change)?;
            item_view(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(ItemDto::new(&view, true)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngredientRequest {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// "g", "ml", "cup", …
    #[schema(schema_with = schemas::name)]
    pub unit: String,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000_000_u64)]
    pub stock: u64,
}

/// Adds an ingredient.
#[utoipa::path(post, path = "/api/shop/ingredients", tag = "menu", request_body = IngredientRequest,
    responses((status = 201, body = IngredientDto), (status = 422, body = ErrorBody)))]
pub async fn create_ingredient(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<IngredientRequest>,
) -> ApiResult<(StatusCode, Json<IngredientDto>)> {
    let i = state
        .store
        .write(move |tx| catalog::create_ingredient(tx, k.shop, &req.name, &req.unit, req.stock))
        .await?;
    Ok((StatusCode::CREATED, Json(IngredientDto::from(&i))))
}

/// Changes an ingredient's stock.
#[utoipa::path(post, path = "/api/shop/ingredients/{ingredient_id}/stock", tag = "menu", request_body = StockRequest,
    params(("ingredient_id" = u64, Path)),
    responses((status = 200, body = IngredientDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The count would leave 0 to 10^12"),
        (status = 422, body = ErrorBody, description = "Not exactly one of `delta` and `set`")))]
pub async fn ingredient_stock(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
    ApiJson(req): ApiJson<StockRequest>,
) -> ApiResult<Json<IngredientDto>> {
    let change = req.change()?;
    let i = state
        .store
        .write(move |tx| catalog::change_ingredient_stock(tx, k.shop, IngredientId(id), change))
        .await?;
    Ok(Json(IngredientDto::from(&i)))
}
