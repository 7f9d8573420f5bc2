//! Shops, categories, items and ingredients: reads for menus and writes for
//! the shopkeeper's editing. Every write takes the acting shop and refuses
//! (as "not found") anything that belongs to another shop.

use std::collections::BTreeSet;

use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::allergen;
use crate::domain::menu::{
    Category, Ingredient, MAX_TEXT, MenuItem, RecipeLine, StockChange, StockPolicy, check_name,
    check_text,
};
use crate::domain::shop::{Approval, OpeningHours, Shop};
use crate::domain::stock::{available, units_left};
use crate::domain::text::name_key;
use crate::domain::{CategoryId, Cents, IngredientId, ItemId, OptionId, ShopId};
use crate::events::{DomainEvent, ItemAvailability};

/// Largest count of a counted item.
pub const MAX_ITEM_STOCK: u64 = 1_000_000;
/// Largest stock of an ingredient (in its unit).
pub const MAX_INGREDIENT_STOCK: u64 = 1_000_000_000_000;
/// Most tags or allergens on one item.
pub const MAX_TAGS: usize = 16;

pub(crate) fn not_found(what: impl Into<String>) -> StoreError {
    StoreError::NotFound { what: what.into() }
}

/// Loads a shop.
pub fn shop(v: &impl View, id: ShopId) -> Result<Shop, StoreError> {
    v.get(ID_TO_SHOP, id.0)?
        .ok_or_else(|| not_found(format!("shop {id}")))
}

/// A shop as guests may see it: approved, or "not found" exactly like a
/// shop that does not exist (a pending or rejected shop leaks nothing).
pub fn listed_shop(v: &impl View, id: ShopId) -> Result<Shop, StoreError> {
    match v.get::<u64, Shop>(ID_TO_SHOP, id.0)? {
        Some(s) if s.approval == Approval::Approved => Ok(s),
        _ => Err(not_found(format!("shop {id}"))),
    }
}

/// An item as guests may see it: `None` when it does not exist or its
/// shop is not listed ([`listed_shop`]).
pub fn listed_item(v: &impl View, id: ItemId) -> Result<Option<MenuItem>, StoreError> {
    let Some(item) = v.get::<u64, MenuItem>(ID_TO_ITEM, id.0)? else {
        return Ok(None);
    };
    match listed_shop(v, item.shop) {
        Ok(_) => Ok(Some(item)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Loads an item of `shop` (another shop's item is "not found").
pub fn own_item(v: &impl View, shop: ShopId, id: ItemId) -> Result<MenuItem, StoreError> {
    v.get::<u64, MenuItem>(ID_TO_ITEM, id.0)?
        .filter(|i| i.shop == shop)
        .ok_or_else(|| not_found(format!("item {id}")))
}

/// Loads an ingredient of `shop`.
pub fn own_ingredient(
    v: &impl View,
    shop: ShopId,
    id: IngredientId,
) -> Result<Ingredient, StoreError> {
    v.get::<u64, Ingredient>(ID_TO_INGREDIENT, id.0)?
        .filter(|i| i.shop == shop)
        .ok_or_else(|| not_found(format!("ingredient {id}")))
}

/// An item with what a guest needs to know about its stock.
#[derive(Clone, Debug)]
pub struct ItemView {
    /// The item.
    pub item: MenuItem,
    /// Orderable now.
    pub available: bool,
    /// Units left where counted.
    pub left: Option<u64>,
    /// The option groups it offers, with live availability.
    pub options: Vec<super::options::GroupView>,
}

/// A shop's whole menu.
#[derive(Clone, Debug)]
pub struct MenuView {
    /// The shop.
    pub shop: Shop,
    /// Categories, sorted.
    pub categories: Vec<Category>,
    /// Items, in creation order.
    pub items: Vec<ItemView>,
    /// Ingredients (for the shop's own view).
    pub ingredients: Vec<Ingredient>,
}

/// Reads a shop's menu with live availability.
pub fn menu(v: &impl View, shop_id: ShopId) -> Result<MenuView, StoreError> {
    let shop = shop(v, shop_id)?;
    let mut categories: Vec<Category> =
        v.many(ID_TO_CATEGORY, &v.ids(SHOP_TO_CATEGORY, shop_id.0)?)?;
    categories.sort_by_key(|c| (c.position, c.id));
    let ingredients: Vec<Ingredient> =
        v.many(ID_TO_INGREDIENT, &v.ids(SHOP_TO_INGREDIENT, shop_id.0)?)?;
    let items: Vec<MenuItem> = v.many(ID_TO_ITEM, &v.ids(SHOP_TO_ITEM, shop_id.0)?)?;
    let items = items
        .into_iter()
        .map(|item| {
            let mut view = view_item(item, &ingredients);
            view.options = super::options::item_group_views(v, view.item.id, &ingredients)?;
            Ok(view)
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(MenuView {
        shop,
        categories,
        items,
        ingredients,
    })
}

fn view_item(item: MenuItem, ingredients: &[Ingredient]) -> ItemView {
    let left = units_left(&item, |id| {
        ingredients.iter().find(|i| i.id == id).map(|i| i.stock)
    });
    ItemView {
        available: available(&item, left),
        left,
        item,
        options: Vec::new(),
    }
}

/// Publishes the availability of the shop's items and options that are
/// in `items` or `options` or depend on one of `ingredients`.
pub fn publish_availability(
    tx: &mut Tx<'_>,
    shop: ShopId,
    items: &BTreeSet<ItemId>,
    options: &BTreeSet<OptionId>,
    ingredients: &BTreeSet<IngredientId>,
) -> Result<(), StoreError> {
    if items.is_empty() && options.is_empty() && ingredients.is_empty() {
        return Ok(());
    }
    let all_ingredients: Vec<Ingredient> =
        tx.many(ID_TO_INGREDIENT, &tx.ids(SHOP_TO_INGREDIENT, shop.0)?)?;
    let all_items: Vec<MenuItem> = if items.is_empty() && ingredients.is_empty() {
        Vec::new()
    } else {
        tx.many(ID_TO_ITEM, &tx.ids(SHOP_TO_ITEM, shop.0)?)?
    };
    let changed: Vec<ItemAvailability> = all_items
        .into_iter()
        .filter(|item| {
            items.contains(&item.id)
                || matches!(&item.stock, StockPolicy::Recipe(lines)
                    if lines.iter().any(|l| ingredients.contains(&l.ingredient)))
        })
        .map(|item| {
            let view = view_item(item, &all_ingredients);
            ItemAvailability {
                item: view.item.id,
                available: view.available,
                left: view.left,
            }
        })
        .collect();
    if !changed.is_empty() {
        tx.publish(DomainEvent::StockChanged {
            shop,
            items: changed,
        });
    }
    // Options made from the same ingredients change with them.
    super::options::publish_options_with(tx, shop, options, ingredients, &all_ingredients)
}

/// Publishes one item's availability after its record changed.
fn publish_item(tx: &mut Tx<'_>, shop: ShopId, item: ItemId) -> Result<(), StoreError> {
    let (options, ingredients) = (BTreeSet::new(), BTreeSet::new());
    publish_availability(tx, shop, &BTreeSet::from([item]), &options, &ingredients)
}

/// What a shopkeeper may change about their shop; `None` leaves a field.
#[derive(Clone, Debug, Default)]
pub struct ShopPatch {
    /// New name.
    pub name: Option<String>,
    /// New location.
    pub location: Option<String>,
    /// New contact.
    pub contact: Option<String>,
    /// Pause or resume ordering.
    pub paused: Option<bool>,
    /// New opening hours.
    pub hours: Option<OpeningHours>,
    /// New open-order limit (`Some(None)` removes it).
    pub open_order_limit: Option<Option<u32>>,
}

/// Refuses `name` when another shop (pending or approved) has the same
/// name as [`name_key`] compares them: no shop can pass as another.
pub fn check_name_free(
    v: &impl View,
    name: &str,
    except: Option<ShopId>,
) -> Result<(), StoreError> {
    let key = name_key(name);
    for other in shops(v, false)? {
        if Some(other.id) != except
            && other.approval != Approval::Rejected
            && name_key(&other.name) == key
        {
            return Err(StoreError::Conflict(format!(
                "a shop named \u{201c}{}\u{201d} exists already; choose another name",
                other.name
            )));
        }
    }
    Ok(())
}

/// The highest open-order limit a shop may set (more is no limit at all).
pub const MAX_OPEN_ORDER_LIMIT: u32 = 10_000;

/// Applies a patch to the shop. An approved shop keeps its name: the
/// operator approved the shop under it, so only the operator renames it
/// ([`rename_shop`]); changing only case or spacing is allowed.
pub fn update_shop(tx: &mut Tx<'_>, id: ShopId, patch: ShopPatch) -> Result<Shop, StoreError> {
    let mut s = shop(&**tx, id)?;
    if let Some(name) = patch.name {
        let name = check_name("name", &name).map_err(StoreError::Invalid)?;
        if name_key(&name) != name_key(&s.name) {
            if s.approval == Approval::Approved {
                return Err(StoreError::Conflict(
                    "an approved shop is renamed by the venue's operator (so that no shop can \
                     take another's name); ask them"
                        .into(),
                ));
            }
            check_name_free(&**tx, &name, Some(id))?;
        }
        s.name = name;
    }
    if let Some(location) = patch.location {
        s.location = check_text("location", &location, 120).map_err(StoreError::Invalid)?;
    }
    if let Some(contact) = patch.contact {
        s.contact = check_text("contact", &contact, 120).map_err(StoreError::Invalid)?;
    }
    if let Some(paused) = patch.paused {
        s.paused = paused;
    }
    if let Some(hours) = patch.hours {
        hours
            .validate()
            .map_err(|e| StoreError::Invalid(e.into()))?;
        s.hours = hours;
    }
    if let Some(limit) = patch.open_order_limit {
        if limit == Some(0) {
            return Err(StoreError::Invalid(
                "the open-order limit must be at least 1".into(),
            ));
        }
        if limit.is_some_and(|n| n > MAX_OPEN_ORDER_LIMIT) {
            return Err(StoreError::Invalid(format!(
                "the open-order limit is at most {MAX_OPEN_ORDER_LIMIT}; leave it empty for none"
            )));
        }
        s.open_order_limit = limit;
    }
    tx.put(ID_TO_SHOP, id.0, &s)?;
    tx.publish(DomainEvent::ShopChanged { shop: id });
    Ok(s)
}

/// The operator renames a shop (approved or not); the name must be free.
pub fn rename_shop(tx: &mut Tx<'_>, id: ShopId, name: &str) -> Result<Shop, StoreError> {
    let mut s = shop(&**tx, id)?;
    let name = check_name("name", name).map_err(StoreError::Invalid)?;
    check_name_free(&**tx, &name, Some(id))?;
    s.name = name;
    tx.put(ID_TO_SHOP, id.0, &s)?;
    tx.publish(DomainEvent::ShopChanged { shop: id });
    Ok(s)
}

/// The operator's decision on a shop.
pub fn set_approval(tx: &mut Tx<'_>, id: ShopId, approval: Approval) -> Result<Shop, StoreError> {
    let mut s = shop(&**tx, id)?;
    s.approval = approval;
    tx.put(ID_TO_SHOP, id.0, &s)?;
    tx.publish(DomainEvent::ShopChanged { shop: id });
    Ok(s)
}

/// Starts the shop's order numbers again from 1.
pub fn reset_numbers(tx: &mut Tx<'_>, id: ShopId) -> Result<Shop, StoreError> {
    let mut s = shop(&**tx, id)?;
    s.next_number = 1;
    tx.put(ID_TO_SHOP, id.0, &s)?;
    Ok(s)
}

/// Adds a category.
pub fn create_category(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    name: &str,
    position: u32,
) -> Result<Category, StoreError> {
    shop(&**tx, shop_id)?;
    let name = check_name("name", name).map_err(StoreError::Invalid)?;
    let id = CategoryId(tx.next_id("category")?);
    let c = Category {
        id,
        shop: shop_id,
        name,
        position,
    };
    tx.put(ID_TO_CATEGORY, id.0, &c)?;
    tx.put_value(SHOP_TO_CATEGORY, (shop_id.0, id.0), ())?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(c)
}

/// A new item as the shopkeeper describes it.
#[derive(Clone, Debug)]
pub struct ItemDraft {
    /// Optional category (of the same shop).
    pub category: Option<CategoryId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price.
    pub price: Cents,
    /// Tags.
    pub tags: Vec<String>,
    /// Allergens.
    pub allergens: Vec<String>,
    /// Photo URL.
    pub photo: Option<String>,
    /// Availability toggle.
    pub enabled: bool,
    /// Stock policy.
    pub stock: StockPolicy,
}

/// A change to an item; `None` leaves a field.
#[derive(Clone, Debug, Default)]
pub struct ItemPatch {
    /// New category (`Some(None)` removes it).
    pub category: Option<Option<CategoryId>>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<Cents>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New allergens.
    pub allergens: Option<Vec<String>>,
    /// New photo (`Some(None)` removes it).
    pub photo: Option<Option<String>>,
    /// Availability toggle.
    pub enabled: Option<bool>,
    /// New stock policy (a stock-take or a new recipe).
    pub stock: Option<StockPolicy>,
}

fn check_tags(field: &'static str, tags: Vec<String>) -> Result<Vec<String>, StoreError> {
    if tags.len() > MAX_TAGS {
        return Err(StoreError::Invalid(format!("at most {MAX_TAGS} {field}")));
    }
    tags.iter()
        .map(|t| check_name(field, t).map_err(StoreError::Invalid))
        .collect()
}

fn check_policy(v: &impl View, shop: ShopId, policy: &StockPolicy) -> Result<(), StoreError> {
    match policy {
        StockPolicy::Unlimited => Ok(()),
        StockPolicy::Counted(n) if u64::from(*n) > MAX_ITEM_STOCK => Err(StoreError::Invalid(
            format!("an item's stock must be at most {MAX_ITEM_STOCK}"),
        )),
        StockPolicy::Counted(_) => Ok(()),
        StockPolicy::Recipe(lines) => {
            if lines.is_empty() || lines.len() > 32 {
                return Err(StoreError::Invalid(
                    "a recipe needs 1 to 32 ingredients".into(),
                ));
            }
            let mut seen = BTreeSet::new();
            for RecipeLine {
                ingredient,
                quantity,
            } in lines
            {
                if *quantity == 0 || *quantity > 1_000_000 {
                    return Err(StoreError::Invalid(
                        "recipe quantities must be 1 to 1000000".into(),
                    ));
                }
                if !seen.insert(*ingredient) {
                    return Err(StoreError::Conflict(format!(
                        "ingredient {ingredient} appears twice in the recipe"
                    )));
                }
                own_ingredient(v, shop, *ingredient)?;
            }
            Ok(())
        }
    }
}

fn check_category(v: &impl View, shop: ShopId, c: Option<CategoryId>) -> Result<(), StoreError> {
    if let Some(id) = c {
        v.get::<u64, Category>(ID_TO_CATEGORY, id.0)?
            .filter(|c| c.shop == shop)
            .ok_or_else(|| not_found(format!("category {id}")))?;
    }
    Ok(())
}

fn check_photo(photo: Option<String>) -> Result<Option<String>, StoreError> {
    photo
        .map(|p| {
            let p = check_text("photo", &p, 300).map_err(StoreError::Invalid)?;
            if p.starts_with("https://") || p.starts_with("http://") || p.starts_with('/') {
                Ok(p)
            } else {
                Err(StoreError::Invalid(
                    "photo must be an http(s) URL or a path".into(),
                ))
            }
        })
        .transpose()
}

/// Adds an item.
pub fn create_item(tx: &mut Tx<'_>, shop_id: ShopId, d: ItemDraft) -> Result<MenuItem, StoreError> {
    shop(&**tx, shop_id)?;
    check_category(&**tx, shop_id, d.category)?;
    check_policy(&**tx, shop_id, &d.stock)?;
    let item = MenuItem {
        id: ItemId(0),
        shop: shop_id,
        category: d.category,
        name: check_name("name", &d.name).map_err(StoreError::Invalid)?,
        description: check_text("description", &d.description, MAX_TEXT)
            .map_err(StoreError::Invalid)?,
        price: d.price,
        tags: check_tags("tags", d.tags)?,
        allergens: allergen::check(&d.allergens).map_err(StoreError::Invalid)?,
        photo: check_photo(d.photo)?,
        enabled: d.enabled,
        stock: d.stock,
        created_at: tx.now,
    };
    let id = ItemId(tx.next_id("item")?);
    let item = MenuItem { id, ..item };
    tx.put(ID_TO_ITEM, id.0, &item)?;
    tx.put_value(SHOP_TO_ITEM, (shop_id.0, id.0), ())?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(item)
}

/// Changes an item.
pub fn update_item(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: ItemId,
    p: ItemPatch,
) -> Result<MenuItem, StoreError> {
    let mut item = own_item(&**tx, shop_id, id)?;
    if let Some(c) = p.category {
        check_category(&**tx, shop_id, c)?;
        item.category = c;
    }
    if let Some(name) = p.name {
        item.name = check_name("name", &name).map_err(StoreError::Invalid)?;
    }
    if let Some(d) = p.description {
        item.description = check_text("description", &d, MAX_TEXT).map_err(StoreError::Invalid)?;
    }
    if let Some(price) = p.price {
        item.price = price;
    }
    if let Some(tags) = p.tags {
        item.tags = check_tags("tags", tags)?;
    }
    if let Some(allergens) = p.allergens {
        item.allergens = allergen::check(&allergens).map_err(StoreError::Invalid)?;
    }
    if let Some(photo) = p.photo {
        item.photo = check_photo(photo)?;
    }
    if let Some(enabled) = p.enabled {
        item.enabled = enabled;
    }
    if let Some(stock) = p.stock {
        check_policy(&**tx, shop_id, &stock)?;
        item.stock = stock;
    }
    tx.put(ID_TO_ITEM, id.0, &item)?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    publish_item(tx, shop_id, id)?;
    Ok(item)
}

/// Removes an item from the menu (orders keep their own copy of it).
pub fn delete_item(tx: &mut Tx<'_>, shop_id: ShopId, id: ItemId) -> Result<(), StoreError> {
    own_item(&**tx, shop_id, id)?;
    tx.remove(ID_TO_ITEM, id.0)?;
    tx.remove(SHOP_TO_ITEM, (shop_id.0, id.0))?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(())
}

/// Changes a counted item's stock.
pub fn change_item_stock(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: ItemId,
    change: StockChange,
) -> Result<MenuItem, StoreError> {
    let mut item = own_item(&**tx, shop_id, id)?;
    let StockPolicy::Counted(left) = item.stock else {
        return Err(StoreError::Conflict(format!(
            "{} has no stock count (it is unlimited or made from ingredients)",
            item.name
        )));
    };
    let new = change
        .apply(u64::from(left), MAX_ITEM_STOCK)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    item.stock = StockPolicy::Counted(u32::try_from(new).unwrap_or(u32::MAX));
    tx.put(ID_TO_ITEM, id.0, &item)?;
    publish_item(tx, shop_id, id)?;
    Ok(item)
}

/// Adds an ingredient.
pub fn create_ingredient(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    name: &str,
    unit: &str,
    stock: u64,
) -> Result<Ingredient, StoreError> {
    shop(&**tx, shop_id)?;
    if stock > MAX_INGREDIENT_STOCK {
        return Err(StoreError::Invalid(format!(
            "stock must be at most {MAX_INGREDIENT_STOCK}"
        )));
    }
    let ing = Ingredient {
        id: IngredientId(0),
        shop: shop_id,
        name: check_name("name", name).map_err(StoreError::Invalid)?,
        unit: check_name("unit", unit).map_err(StoreError::Invalid)?,
        stock,
    };
    let id = IngredientId(tx.next_id("ingredient")?);
    let ing = Ingredient { id, ..ing };
    tx.put(ID_TO_INGREDIENT, id.0, &ing)?;
    tx.put_value(SHOP_TO_INGREDIENT, (shop_id.0, id.0), ())?;
    Ok(ing)
}

/// Changes an ingredient's stock.
pub fn change_ingredient_stock(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: IngredientId,
    change: StockChange,
) -> Result<Ingredient, StoreError> {
    let mut ing = own_ingredient(&**tx, shop_id, id)?;
    ing.stock = change
        .apply(ing.stock, MAX_INGREDIENT_STOCK)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    tx.put(ID_TO_INGREDIENT, id.0, &ing)?;
    publish_availability(
        tx,
        shop_id,
        &BTreeSet::new(),
        &BTreeSet::new(),
        &BTreeSet::from([id]),
    )?;
    Ok(ing)
}

/// Every shop, or only the approved ones.
pub fn shops(v: &impl View, approved_only: bool) -> Result<Vec<Shop>, StoreError> {
    let all: Vec<Shop> = v.all(ID_TO_SHOP)?;
    Ok(all
        .into_iter()
        .filter(|s| !approved_only || s.approval == Approval::Approved)
        .collect())
}

/// How many of the shop's orders are open (placed … ready).
///
/// Only the open-order limit depends on it, so it counts no further than the
/// limit (and not at all without one): a placement never scans a long queue.
pub fn open_order_count(v: &impl View, id: ShopId) -> Result<u32, StoreError> {
    match shop(v, id)?.open_order_limit {
        None => Ok(0),
        Some(limit) => {
            let n = v.count_ids(
                SHOP_TO_OPEN_ORDER,
                id.0,
                usize::try_from(limit).unwrap_or(usize::MAX),
            )?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        }
    }
}

/// Loads any item by id (guest pages: the cart).
pub fn item(v: &impl View, id: ItemId) -> Result<Option<MenuItem>, StoreError> {
    v.get::<u64, MenuItem>(ID_TO_ITEM, id.0)
}
