//! The shopkeeper's menu page: items with price, stock and the
//! availability switch; relative (`+5`, `-2`) or absolute stock changes for
//! items and ingredients; adding items, categories and ingredients.
//! Recipes (drinks made from ingredients) are edited through the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PageError, PageForm, PageResult, ShopPage, money, render, see_other};
use crate::domain::menu::{StockChange, StockPolicy};
use crate::domain::{CategoryId, Cents, IngredientId, ItemId};
use crate::store::{ItemDraft, ItemPatch, catalog};
use crate::web::AppState;

/// Menu editing routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop/menu", get(page))
        .route("/shop/menu/items", post(add_item))
        .route("/shop/menu/items/{item_id}/stock", post(item_stock))
        .route("/shop/menu/items/{item_id}/available", post(item_available))
        .route("/shop/menu/items/{item_id}/delete", post(delete_item))
        .route("/shop/menu/categories", post(add_category))
        .route("/shop/menu/ingredients", post(add_ingredient))
        .route("/shop/menu/ingredients/{id}/stock", post(ingredient_stock))
}

/// Reads a price typed by a person: `4`, `4.5` or `4.50` → 450 cents.
/// No floating point; more than two decimals or a sign is refused.
pub fn parse_price(text: &str) -> Result<Cents, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a price; write it like 4.50");
    let (whole, frac) = t.split_once(['.', ',']).unwrap_or((t, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 7 {
        return Err(bad());
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(Cents(whole * 100 + cents))
}

struct ItemRow {
    id: u64,
    name: String,
    price: String,
    enabled: bool,
    available: bool,
    stock: String,
    counted: bool,
}

struct IngredientRow {
    id: u64,
    name: String,
    unit: String,
    stock: u64,
}

#[derive(Template)]
#[template(path = "shop_menu.html")]
struct MenuPage {
    c: Chrome,
    items: Vec<ItemRow>,
    categories: Vec<(u64, String)>,
    ingredients: Vec<IngredientRow>,
}

async fn page(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let menu = state.store.read(move |r| catalog::menu(r, k.shop)).await?;
    let items = menu
        .items
        .iter()
        .map(|v| ItemRow {
            id: v.item.id.0,
            name: v.item.name.clone(),
            price: money(v.item.price),
            enabled: v.item.enabled,
            available: v.available,
            stock: match (&v.item.stock, v.left) {
                (StockPolicy::Unlimited, _) => "no limit".into(),
                (StockPolicy::Counted(n), _) => format!("{n} left"),
                (StockPolicy::Recipe(_), Some(n)) => format!("{n} can be made"),
                (StockPolicy::Recipe(_), None) => "from ingredients".into(),
            },
            counted: matches!(v.item.stock, StockPolicy::Counted(_)),
        })
        .collect();
    render(&MenuPage {
        c,
        items,
        categories: menu
            .categories
            .iter()
            .map(|c| (c.id.0, c.name.clone()))
            .collect(),
        ingredients: menu
            .ingredients
            .iter()
            .map(|i| IngredientRow {
                id: i.id.0,
                name: i.name.clone(),
                unit: i.unit.clone(),
                stock: i.stock,
            })
            .collect(),
    })
}

fn invalid(msg: impl Into<String>) -> PageError {
    PageError::new(StatusCode::UNPROCESSABLE_ENTITY, msg).back("/shop/menu")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemForm {
    name: String,
    #[serde(default)]
    description: String,
    price: String,
    #[serde(default)]
    category: String,
    /// Empty: no limit; a number: that many units.
    #[serde(default)]
    stock: String,
}

async fn add_item(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<ItemForm>,
) -> PageResult {
    let price = parse_price(&f.price).map_err(invalid)?;
    let stock = match f.stock.trim() {
        "" => StockPolicy::Unlimited,
        n => StockPolicy::Counted(n.parse().map_err(|_| {
            invalid(format!(
                "{n:?} is not a number of units; leave it empty for no limit"
            ))
        })?),
    };
    let category = match f.category.trim() {
        "" => None,
        c => Some(CategoryId(
            c.parse()
                .map_err(|_| invalid("pick a category from the list"))?,
        )),
    };
    let draft = ItemDraft {
        category,
        name: f.name,
        description: f.description,
        price,
        tags: Vec::new(),
        allergens: Vec::new(),
        photo: None,
        enabled: true,
        stock,
    };
    state
        .store
        .write(move |tx| catalog::create_item(tx, k.shop, draft))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockForm {
    /// `+5`, `-2` (relative) …
    #[serde(default)]
    delta: String,
    /// … or an absolute count.
    #[serde(default)]
    set: String,
}

fn stock_change(f: &StockForm) -> Result<StockChange, PageError> {
    match (f.delta.trim(), f.set.trim()) {
        (d, "") if !d.is_empty() => d
            .trim_start_matches('+')
            .parse::<i64>()
            .map(StockChange::Delta)
            .map_err(|_| invalid(format!("{d:?} is not a change like +5 or -2"))),
        ("", s) if !s.is_empty() => s
            .parse::<u64>()
            .map(StockChange::Set)
            .map_err(|_| invalid(format!("{s:?} is not a count"))),
        _ => Err(invalid("give either a change (+5, -2) or a new count")),
    }
}

async fn item_stock(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(f): PageForm<StockForm>,
) -> PageResult {
    let change = stock_change(&f)?;
    state
        .store
        .write(move |tx| catalog::change_item_stock(tx, k.shop, ItemId(item_id), change))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailableForm {
    available: bool,
}

async fn item_available(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(f): PageForm<AvailableForm>,
) -> PageResult {
    let patch = ItemPatch {
        enabled: Some(f.available),
        ..ItemPatch::default()
    };
    state
        .store
        .write(move |tx| catalog::update_item(tx, k.shop, ItemId(item_id), patch))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn delete_item(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    state
        .store
        .write(move |tx| catalog::delete_item(tx, k.shop, ItemId(item_id)))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryForm {
    name: String,
}

async fn add_category(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<CategoryForm>,
) -> PageResult {
    state
        .store
        .write(move |tx| {
            let n = catalog::menu(&**tx, k.shop)?.categories.len();
            catalog::create_category(tx, k.shop, &f.name, u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngredientForm {
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    stock: u64,
}

async fn add_ingredient(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<IngredientForm>,
) -> PageResult {
    state
        .store
        .write(move |tx| catalog::create_ingredient(tx, k.shop, &f.name, &f.unit, f.stock))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

async fn ingredient_stock(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(f): PageForm<StockForm>,
) -> PageResult {
    let change = stock_change(&f)?;
    state
        .store
        .write(move |tx| catalog::change_ingredient_stock(tx, k.shop, IngredientId(id), change))
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    Ok(see_other("/shop/menu"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_without_floats() {
        assert_eq!(parse_price("4.50"), Ok(Cents(450)));
        assert_eq!(parse_price("4.5"), Ok(Cents(450)));
        assert_eq!(parse_price(" 12 "), Ok(Cents(1200)));
        assert_eq!(parse_price("0,99"), Ok(Cents(99)));
        for bad in ["4.555", "-1", "abc", "", ".5", "1e3", "4.5.0"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }
}
