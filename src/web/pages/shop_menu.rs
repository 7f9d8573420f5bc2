//! The shopkeeper's menu page: items with price, stock and the
//! availability switch; relative (`+5`, `-2`) or absolute stock changes for
//! items and ingredients (the semantics of `POST /api/shop/items/{id}/stock`);
//! adding, editing and deleting items; adding categories and ingredients.
//! Option groups have their own page (`shop_options`), and the stock forms
//! are read by `recipe`.
//!
//! Prices are typed as decimal text and read into whole cents without
//! floating point. How an item's stock is kept (no limit, a count, or a
//! recipe of ingredients) is changed on its own form, never as a side effect
//! of editing its name or price: saving details must not overwrite a count
//! that orders lowered meanwhile.

use crate::web::error::Failure;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::recipe::policy;
pub use super::recipe::{parse_recipe, recipe_text};
use super::{Chrome, PageError, PageForm, PageResult, ShopPage, done, render, see_other};
use crate::domain::currency::Currency;
use crate::domain::menu::{StockChange, StockPolicy};
use crate::domain::{CategoryId, Cents, IngredientId, ItemId};
use crate::i18n::Lang;
use crate::store::{ItemDraft, ItemPatch, catalog};
use crate::web::AppState;

/// Menu editing routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop/menu", get(page))
        .route("/shop/menu/items", post(add_item))
        .route("/shop/menu/items/{item_id}", get(edit_page).post(save_item))
        .route("/shop/menu/items/{item_id}/policy", post(save_policy))
        .route("/shop/menu/items/{item_id}/stock", post(item_stock))
        .route("/shop/menu/items/{item_id}/available", post(item_available))
        .route("/shop/menu/items/{item_id}/delete", post(delete_item))
        .route("/shop/menu/categories", post(add_category))
        .route("/shop/menu/ingredients", post(add_ingredient))
        .route("/shop/menu/ingredients/{id}/stock", post(ingredient_stock))
}

/// The largest price of one item, in cents (the API's limit too).
const MAX_PRICE_CENTS: u64 = 100_000_000;

/// Reads a price typed by a person in euros (the tests' currency); pages
/// use the venue's currency through [`Currency::parse`].
pub fn parse_price(text: &str) -> Result<Cents, String> {
    Currency::default().parse(text, MAX_PRICE_CENTS)
}

fn category(text: &str) -> Result<Option<CategoryId>, PageError> {
    match text.trim() {
        "" => Ok(None),
        c => c
            .parse()
            .map(|id| Some(CategoryId(id)))
            .map_err(|_| PageError::said(Failure::Invalid, "staff.menu.bad_category")),
    }
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
            price: c.money(v.item.price),
            enabled: v.item.enabled,
            available: v.available,
            stock: stock_text(&c, &v.item.stock, v.left),
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

/// How much of an item (or option) is left, in the page's language.
pub fn stock_text(c: &Chrome, policy: &StockPolicy, left: Option<u64>) -> String {
    match (policy, left) {
        (StockPolicy::Unlimited, _) => c.t("staff.stock.unlimited").into_owned(),
        (StockPolicy::Counted(n), _) => c.t1("staff.stock.left", "n", c.number(*n)),
        (StockPolicy::Recipe(_), Some(n)) => c.t1("staff.stock.can_make", "n", c.number(n)),
        (StockPolicy::Recipe(_), None) => c.t("staff.stock.from_ingredients").into_owned(),
    }
}

fn invalid(msg: impl Into<String>) -> PageError {
    PageError::new(Failure::Invalid, msg).back("/shop/menu")
}

/// A form value that is not what its field takes, said in the reader's language.
fn not_a(key: &'static str, value: &str) -> PageError {
    PageError::said_with(Failure::Invalid, key, vec![("value", format!("{value:?}"))])
        .back("/shop/menu")
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
    /// Empty: no limit (or a recipe); a number: that many units.
    #[serde(default)]
    stock: String,
    /// `ingredient x amount` per line, for items made from ingredients.
    #[serde(default)]
    recipe: String,
}

async fn add_item(
    State(state): State<AppState>,
    lang: Lang,
    k: ShopPage,
    PageForm(f): PageForm<ItemForm>,
) -> PageResult {
    let price = state
        .web
        .currency
        .parse(&f.price, MAX_PRICE_CENTS)
        .map_err(invalid)?;
    let category = category(&f.category).map_err(|e| e.back("/shop/menu"))?;
    let result = state
        .store
        .write(move |tx| {
            let ingredients = catalog::menu(&**tx, k.shop)?.ingredients;
            let stock = policy(&f.stock, &f.recipe, &ingredients)
                .map_err(|s| crate::store::StoreError::Invalid(s.text(lang)))?;
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
            catalog::create_item(tx, k.shop, draft)
        })
        .await;
    done(result, "/shop/menu")
}

#[derive(Template)]
#[template(path = "shop_item.html")]
struct EditPage {
    c: Chrome,
    id: u64,
    name: String,
    description: String,
    price: String,
    category: u64,
    categories: Vec<(u64, String)>,
    /// The count, when counted.
    count: String,
    recipe: String,
    /// The ingredients a recipe may use: number, name, unit.
    ingredients: Vec<(u64, String, String)>,
    /// The 14 allergens: key, name in the page's language, ticked.
    allergens: Vec<(&'static str, String, bool)>,
    /// Free tags, comma-separated.
    tags: String,
    /// The shop's option groups: id, name, offered with this item.
    groups: Vec<(u64, String, bool)>,
    /// The item's photo URL, if any.
    photo: Option<String>,
}

async fn edit_page(
    State(state): State<AppState>,
    c: Chrome,
    k: ShopPage,
    Path(item_id): Path<u64>,
) -> PageResult {
    let (item, menu, groups) = state
        .store
        .read(move |r| {
            let offered = crate::store::options::item_groups(r, ItemId(item_id))?;
            let groups = crate::store::options::shop_groups(r, k.shop)?
                .into_iter()
                .map(|g| {
                    let on = offered.iter().any(|o| o.group.id == g.group.id);
                    (g.group.id.0, g.group.name, on)
                })
                .collect();
            Ok((
                catalog::own_item(r, k.shop, ItemId(item_id))?,
                catalog::menu(r, k.shop)?,
                groups,
            ))
        })
        .await
        .map_err(|e| PageError::from(e).back("/shop/menu"))?;
    let (count, recipe) = match &item.stock {
        StockPolicy::Unlimited => (String::new(), String::new()),
        StockPolicy::Counted(n) => (n.to_string(), String::new()),
        StockPolicy::Recipe(lines) => (String::new(), recipe_text(lines, &menu.ingredients)),
    };
    let lang = c.lang;
    render(&EditPage {
        c,
        allergens: crate::domain::allergen::ALLERGENS
            .iter()
            .map(|&(k, _)| (k, lang.allergen(k), item.allergens.iter().any(|a| a == k)))
            .collect(),
        tags: item.tags.join(", "),
        groups,
        photo: item.photo.clone(),
        id: item.id.0,
        price: state.money(item.price),
        category: item.category.map_or(0, |c| c.0),
        name: item.name,
        description: item.description,
        categories: menu
            .categories
            .iter()
            .map(|c| (c.id.0, c.name.clone()))
            .collect(),
        count,
        recipe,
        ingredients: menu
            .ingredients
            .iter()
            .map(|i| (i.id.0, i.name.clone(), i.unit.clone()))
            .collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetailsForm {
    name: String,
    #[serde(default)]
    description: String,
    price: String,
    #[serde(default)]
    category: String,
}

async fn save_item(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(f): PageForm<DetailsForm>,
) -> PageResult {
    let back = format!("/shop/menu/items/{item_id}");
    let price = state
        .web
        .currency
        .parse(&f.price, MAX_PRICE_CENTS)
        .map_err(|m| invalid(m).back(&back))?;
    let category = category(&f.category).map_err(|e| e.back(&back))?;
    let patch = ItemPatch {
        name: Some(f.name),
        description: Some(f.description),
        price: Some(price),
        category: Some(category),
        ..ItemPatch::default()
    };
    state
        .store
        .write(move |tx| catalog::update_item(tx, k.shop, ItemId(item_id), patch))
        .await
        .map_err(|e| PageError::from(e).back(&back))?;
    Ok(see_other("/shop/menu"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyForm {
    #[serde(default)]
    stock: String,
    #[serde(default)]
    recipe: String,
}

async fn save_policy(
    State(state): State<AppState>,
    lang: Lang,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(f): PageForm<PolicyForm>,
) -> PageResult {
    let back = format!("/shop/menu/items/{item_id}");
    state
        .store
        .write(move |tx| {
            let ingredients = catalog::menu(&**tx, k.shop)?.ingredients;
            let stock = policy(&f.stock, &f.recipe, &ingredients)
                .map_err(|s| crate::store::StoreError::Invalid(s.text(lang)))?;
            let patch = ItemPatch {
                stock: Some(stock),
                ..ItemPatch::default()
            };
            catalog::update_item(tx, k.shop, ItemId(item_id), patch)
        })
        .await
        .map_err(|e| PageError::from(e).back(&back))?;
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
            .strip_prefix('+')
            .unwrap_or(d)
            .parse::<i64>()
            .map(StockChange::Delta)
            .map_err(|_| not_a("staff.stock.bad_change", d)),
        ("", s) if !s.is_empty() => s
            .parse::<u64>()
            .map(StockChange::Set)
            .map_err(|_| not_a("staff.stock.bad_count", s)),
        _ => {
            Err(PageError::said(Failure::Invalid, "staff.stock.change_or_count").back("/shop/menu"))
        }
    }
}

async fn item_stock(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(f): PageForm<StockForm>,
) -> PageResult {
    let change = stock_change(&f)?;
    let result = state
        .store
        .write(move |tx| catalog::change_item_stock(tx, k.shop, ItemId(item_id), change))
        .await;
    done(result, "/shop/menu")
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
    let result = state
        .store
        .write(move |tx| catalog::update_item(tx, k.shop, ItemId(item_id), patch))
        .await;
    done(result, "/shop/menu")
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
    let result = state
        .store
        .write(move |tx| catalog::delete_item(tx, k.shop, ItemId(item_id)))
        .await;
    done(result, "/shop/menu")
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
    let result = state
        .store
        .write(move |tx| {
            let n = catalog::menu(&**tx, k.shop)?.categories.len();
            catalog::create_category(tx, k.shop, &f.name, u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await;
    done(result, "/shop/menu")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngredientForm {
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    stock: String,
}

async fn add_ingredient(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<IngredientForm>,
) -> PageResult {
    let stock = match f.stock.trim() {
        "" => 0,
        n => n
            .parse::<u64>()
            .map_err(|_| not_a("staff.stock.bad_units", n))?,
    };
    let result = state
        .store
        .write(move |tx| catalog::create_ingredient(tx, k.shop, &f.name, &f.unit, stock))
        .await;
    done(result, "/shop/menu")
}

async fn ingredient_stock(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(f): PageForm<StockForm>,
) -> PageResult {
    let change = stock_change(&f)?;
    let result = state
        .store
        .write(move |tx| catalog::change_ingredient_stock(tx, k.shop, IngredientId(id), change))
        .await;
    done(result, "/shop/menu")
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
        assert_eq!(parse_price("0.05"), Ok(Cents(5)));
        assert_eq!(parse_price("1000000"), Ok(Cents(100_000_000)));
        for bad in [
            "4.555",
            "-1",
            "abc",
            "",
            ".5",
            "5.",
            "1e3",
            "4.5.0",
            "+4",
            "1000000.01",
            "99999999",
        ] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
        assert!(parse_price("-1").is_err_and(|m| m.contains("negative")));
        assert!(parse_price("4.555").is_err_and(|m| m.contains("at most 2 decimals")));
    }
}
