//! Option groups and options: reads for menus and checkout, and the
//! shopkeeper's writes (create, edit, attach to items, detach, delete).
//! Like the rest of the catalog, every write takes the acting shop and
//! treats another shop's group, option or item as "not found".

use std::collections::BTreeSet;

use super::catalog::{own_ingredient, own_item, shop};
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::menu::{Ingredient, RecipeLine, StockChange, StockPolicy, check_name};
use crate::domain::options::{BoundsError, GroupChoices, MenuOption, OptionGroup, check_bounds};
use crate::domain::stock::policy_left;
use crate::domain::{IngredientId, ItemId, OptionGroupId, OptionId, ShopId};
use crate::events::{DomainEvent, OptionAvailability};

/// Largest count of a counted option.
pub const MAX_OPTION_STOCK: u64 = 1_000_000;
/// Largest price change of an option, either way, in minor units.
pub const MAX_DELTA: i64 = 100_000_000;
/// Largest sort key of a group or option.
pub const MAX_POSITION: u32 = 1_000_000;
/// Most options in one group.
const MAX_OPTIONS: usize = 30;

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// Loads a group of `shop`.
pub fn own_group(
    v: &impl View,
    shop: ShopId,
    id: OptionGroupId,
) -> Result<OptionGroup, StoreError> {
    v.get::<u64, OptionGroup>(ID_TO_OPTION_GROUP, id.0)?
        .filter(|g| g.shop == shop)
        .ok_or_else(|| not_found(format!("option group {id}")))
}

/// Loads an option of `shop`.
pub fn own_option(v: &impl View, shop: ShopId, id: OptionId) -> Result<MenuOption, StoreError> {
    v.get::<u64, MenuOption>(ID_TO_OPTION, id.0)?
        .filter(|o| o.shop == shop)
        .ok_or_else(|| not_found(format!("option {id}")))
}

/// `groups` sorted, each with its options sorted: two index and two
/// record tables opened once, whatever the count (every checkout line
/// with options asks).
fn with_options(v: &impl View, groups: Vec<OptionGroup>) -> Result<Vec<GroupChoices>, StoreError> {
    let mut groups = groups;
    groups.sort_by_key(|g| (g.position, g.id));
    let ids = v.ids_each(
        OPTION_GROUP_TO_OPTION,
        &groups.iter().map(|g| g.id.0).collect::<Vec<_>>(),
    )?;
    let mut options: Vec<MenuOption> = v.many(ID_TO_OPTION, &ids.concat())?;
    options.sort_by_key(|o| (o.position, o.id));
    Ok(groups
        .into_iter()
        .zip(ids)
        .map(|(group, ids)| GroupChoices {
            options: options
                .iter()
                .filter(|o| ids.contains(&o.id.0))
                .cloned()
                .collect(),
            group,
        })
        .collect())
}

/// Every group of a shop with its options.
pub fn shop_groups(v: &impl View, shop: ShopId) -> Result<Vec<GroupChoices>, StoreError> {
    with_options(
        v,
        v.many(ID_TO_OPTION_GROUP, &v.ids(SHOP_TO_OPTION_GROUP, shop.0)?)?,
    )
}

/// The groups an item offers, with their options.
pub fn item_groups(v: &impl View, item: ItemId) -> Result<Vec<GroupChoices>, StoreError> {
    with_options(
        v,
        v.many(ID_TO_OPTION_GROUP, &v.ids(ITEM_TO_OPTION_GROUP, item.0)?)?,
    )
}

/// An option with what a guest needs to know about its stock.
#[derive(Clone, Debug)]
pub struct OptionView {
    /// The option.
    pub option: MenuOption,
    /// Can be chosen now (switched on and in stock).
    pub available: bool,
    /// Portions left, where stock is counted (directly or through ingredients).
    pub left: Option<u64>,
}

/// A group attached to an item, with live availability of its options.
#[derive(Clone, Debug)]
pub struct GroupView {
    /// The group.
    pub group: OptionGroup,
    /// Its options, sorted.
    pub options: Vec<OptionView>,
}

/// The groups an item offers, with live availability.
pub fn item_group_views(
    v: &impl View,
    item: ItemId,
    ingredients: &[Ingredient],
) -> Result<Vec<GroupView>, StoreError> {
    Ok(item_groups(v, item)?
        .into_iter()
        .map(|g| GroupView {
            group: g.group,
            options: g
                .options
                .into_iter()
                .map(|option| {
                    let left = option_left(&option, ingredients);
                    OptionView {
                        available: option.enabled && left.is_none_or(|n| n > 0),
                        left,
                        option,
                    }
                })
                .collect(),
        })
        .collect())
}

/// Publishes the availability of the shop's options that are in `options`
/// or made from one of `ingredients`, so open menus and choosers grey them
/// out (or back in) in place.
pub fn publish_options(
    tx: &mut Tx<'_>,
    shop: ShopId,
    options: &BTreeSet<OptionId>,
    ingredients: &BTreeSet<IngredientId>,
) -> Result<(), StoreError> {
    if options.is_empty() && ingredients.is_empty() {
        return Ok(());
    }
    let all_ingredients: Vec<Ingredient> =
        tx.many(ID_TO_INGREDIENT, &tx.ids(SHOP_TO_INGREDIENT, shop.0)?)?;
    publish_options_with(tx, shop, options, ingredients, &all_ingredients)
}

/// [`publish_options`] given the shop's ingredients as they are now (every
/// order that takes stock asks: the caller has read them already).
pub fn publish_options_with(
    tx: &mut Tx<'_>,
    shop: ShopId,
    options: &BTreeSet<OptionId>,
    ingredients: &BTreeSet<IngredientId>,
    all_ingredients: &[Ingredient],
) -> Result<(), StoreError> {
    if options.is_empty() && ingredients.is_empty() {
        return Ok(());
    }
    // The options themselves, not their groups: no group record is needed.
    let groups = tx.ids(SHOP_TO_OPTION_GROUP, shop.0)?;
    let ids = tx.ids_each(OPTION_GROUP_TO_OPTION, &groups)?.concat();
    let shop_options: Vec<MenuOption> = tx.many(ID_TO_OPTION, &ids)?;
    let changed: Vec<OptionAvailability> = shop_options
        .into_iter()
        .filter(|o| {
            options.contains(&o.id)
                || matches!(&o.stock, StockPolicy::Recipe(lines)
                    if lines.iter().any(|l| ingredients.contains(&l.ingredient)))
        })
        .map(|o| {
            let left = option_left(&o, all_ingredients);
            OptionAvailability {
                option: o.id,
                available: o.enabled && left.is_none_or(|n| n > 0),
                left,
            }
        })
        .collect();
    if !changed.is_empty() {
        tx.publish(DomainEvent::OptionsChanged {
            shop,
            options: changed,
        });
    }
    Ok(())
}

/// Portions of an option left (`None`: no limit), given the shop's ingredients.
pub fn option_left(o: &MenuOption, ingredients: &[Ingredient]) -> Option<u64> {
    policy_left(&o.stock, |id| {
        ingredients.iter().find(|i| i.id == id).map(|i| i.stock)
    })
}

fn check_policy(v: &impl View, shop: ShopId, policy: &StockPolicy) -> Result<(), StoreError> {
    match policy {
        StockPolicy::Unlimited => Ok(()),
        StockPolicy::Counted(n) if u64::from(*n) > MAX_OPTION_STOCK => Err(StoreError::Invalid(
            format!("an option's stock must be at most {MAX_OPTION_STOCK}"),
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

/// Bounds out of range are malformed; crossed bounds are a conflict.
fn bounds(min: u8, max: u8) -> Result<(), StoreError> {
    check_bounds(min, max).map_err(|e| match e {
        BoundsError::Range => StoreError::Invalid(e.to_string()),
        BoundsError::Crossed { .. } => StoreError::Conflict(e.to_string()),
    })
}

fn position(p: Option<u32>, now: u32) -> Result<u32, StoreError> {
    match p {
        Some(p) if p > MAX_POSITION => Err(StoreError::Invalid(format!(
            "position must be 0 to {MAX_POSITION}"
        ))),
        Some(p) => Ok(p),
        None => Ok(now),
    }
}

fn check_delta(delta: i64) -> Result<i64, StoreError> {
    if delta.abs() > MAX_DELTA {
        return Err(StoreError::Invalid(format!(
            "price_delta_cents must be between -{MAX_DELTA} and {MAX_DELTA}"
        )));
    }
    Ok(delta)
}

/// A group as the shopkeeper describes it; `None` leaves a field (edits).
#[derive(Clone, Debug, Default)]
pub struct GroupPatch {
    /// Name.
    pub name: Option<String>,
    /// Fewest choices.
    pub min: Option<u8>,
    /// Most choices.
    pub max: Option<u8>,
    /// Sort key.
    pub position: Option<u32>,
}

/// Adds a group.
pub fn create_group(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    p: GroupPatch,
) -> Result<OptionGroup, StoreError> {
    shop(&**tx, shop_id)?;
    let name =
        check_name("name", p.name.as_deref().unwrap_or_default()).map_err(StoreError::Invalid)?;
    let (min, max) = (p.min.unwrap_or(0), p.max.unwrap_or(1));
    bounds(min, max)?;
    let position = position(p.position, 0)?;
    let id = OptionGroupId(tx.next_id("option_group")?);
    let g = OptionGroup {
        id,
        shop: shop_id,
        name,
        min,
        max,
        position,
    };
    tx.put(ID_TO_OPTION_GROUP, id.0, &g)?;
    tx.put_value(SHOP_TO_OPTION_GROUP, (shop_id.0, id.0), ())?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(g)
}

/// Changes a group.
pub fn update_group(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: OptionGroupId,
    p: GroupPatch,
) -> Result<OptionGroup, StoreError> {
    let mut g = own_group(&**tx, shop_id, id)?;
    if let Some(name) = p.name {
        g.name = check_name("name", &name).map_err(StoreError::Invalid)?;
    }
    g.min = p.min.unwrap_or(g.min);
    g.max = p.max.unwrap_or(g.max);
    bounds(g.min, g.max)?;
    g.position = position(p.position, g.position)?;
    tx.put(ID_TO_OPTION_GROUP, id.0, &g)?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(g)
}

/// Removes a group, its options and its attachments (orders keep their copies).
pub fn delete_group(tx: &mut Tx<'_>, shop_id: ShopId, id: OptionGroupId) -> Result<(), StoreError> {
    own_group(&**tx, shop_id, id)?;
    for option in tx.ids(OPTION_GROUP_TO_OPTION, id.0)? {
        tx.remove(ID_TO_OPTION, option)?;
        tx.remove(OPTION_GROUP_TO_OPTION, (id.0, option))?;
    }
    for item in tx.ids(SHOP_TO_ITEM, shop_id.0)? {
        tx.remove(ITEM_TO_OPTION_GROUP, (item, id.0))?;
    }
    tx.remove(ID_TO_OPTION_GROUP, id.0)?;
    tx.remove(SHOP_TO_OPTION_GROUP, (shop_id.0, id.0))?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(())
}

/// Offers a group with an item (doing it twice changes nothing).
pub fn attach(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    item: ItemId,
    group: OptionGroupId,
) -> Result<(), StoreError> {
    own_item(&**tx, shop_id, item)?;
    own_group(&**tx, shop_id, group)?;
    tx.put_value(ITEM_TO_OPTION_GROUP, (item.0, group.0), ())?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(())
}

/// Stops offering a group with an item.
pub fn detach(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    item: ItemId,
    group: OptionGroupId,
) -> Result<(), StoreError> {
    own_item(&**tx, shop_id, item)?;
    own_group(&**tx, shop_id, group)?;
    tx.remove(ITEM_TO_OPTION_GROUP, (item.0, group.0))?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(())
}

/// An option as the shopkeeper describes it; `None` leaves a field (edits).
#[derive(Clone, Debug, Default)]
pub struct OptionPatch {
    /// Name.
    pub name: Option<String>,
    /// Price change in minor units.
    pub price_delta: Option<i64>,
    /// Availability switch.
    pub enabled: Option<bool>,
    /// Preselected for guests.
    pub default: Option<bool>,
    /// Stock policy (a stock-take or a recipe).
    pub stock: Option<StockPolicy>,
    /// Sort key.
    pub position: Option<u32>,
}

/// Adds an option to a group.
pub fn create_option(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    group: OptionGroupId,
    p: OptionPatch,
) -> Result<MenuOption, StoreError> {
    own_group(&**tx, shop_id, group)?;
    if tx.count_ids(OPTION_GROUP_TO_OPTION, group.0, MAX_OPTIONS)? >= MAX_OPTIONS {
        return Err(StoreError::Conflict(format!(
            "a group holds at most {MAX_OPTIONS} options"
        )));
    }
    let stock = p.stock.unwrap_or(StockPolicy::Unlimited);
    check_policy(&**tx, shop_id, &stock)?;
    let name =
        check_name("name", p.name.as_deref().unwrap_or_default()).map_err(StoreError::Invalid)?;
    // Every check before the first write (an error after one is internal).
    let price_delta = check_delta(p.price_delta.unwrap_or(0))?;
    let position = position(p.position, 0)?;
    let id = OptionId(tx.next_id("option")?);
    let o = MenuOption {
        id,
        group,
        shop: shop_id,
        name,
        price_delta,
        enabled: p.enabled.unwrap_or(true),
        default: p.default.unwrap_or(false),
        stock,
        position,
    };
    tx.put(ID_TO_OPTION, id.0, &o)?;
    tx.put_value(OPTION_GROUP_TO_OPTION, (group.0, id.0), ())?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(o)
}

/// Changes an option. Switching it off or a stock-take is pushed to open
/// menus like an item's.
pub fn update_option(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: OptionId,
    p: OptionPatch,
) -> Result<MenuOption, StoreError> {
    let mut o = own_option(&**tx, shop_id, id)?;
    let before = o.clone();
    if let Some(name) = p.name {
        o.name = check_name("name", &name).map_err(StoreError::Invalid)?;
    }
    if let Some(d) = p.price_delta {
        o.price_delta = check_delta(d)?;
    }
    if let Some(stock) = p.stock {
        check_policy(&**tx, shop_id, &stock)?;
        o.stock = stock;
    }
    o.enabled = p.enabled.unwrap_or(o.enabled);
    o.default = p.default.unwrap_or(o.default);
    o.position = position(p.position, o.position)?;
    tx.put(ID_TO_OPTION, id.0, &o)?;
    // What a menu shows of an option changed: open menus reload; only its
    // switch or stock: they grey it out in place.
    let shown = (&o.name, o.price_delta, o.default, o.position);
    if shown
        != (
            &before.name,
            before.price_delta,
            before.default,
            before.position,
        )
    {
        tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    }
    publish_options(tx, shop_id, &BTreeSet::from([id]), &BTreeSet::new())?;
    Ok(o)
}

/// Changes a counted option's stock (relative changes apply at commit time).
pub fn change_option_stock(
    tx: &mut Tx<'_>,
    shop_id: ShopId,
    id: OptionId,
    change: StockChange,
) -> Result<MenuOption, StoreError> {
    let mut o = own_option(&**tx, shop_id, id)?;
    let StockPolicy::Counted(left) = o.stock else {
        return Err(StoreError::Conflict(format!(
            "{} has no stock count (it is unlimited or made from ingredients)",
            o.name
        )));
    };
    let new = change
        .apply(u64::from(left), MAX_OPTION_STOCK)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    o.stock = StockPolicy::Counted(u32::try_from(new).unwrap_or(u32::MAX));
    tx.put(ID_TO_OPTION, id.0, &o)?;
    publish_options(tx, shop_id, &BTreeSet::from([id]), &BTreeSet::new())?;
    Ok(o)
}

/// Removes an option (orders keep their copies).
pub fn delete_option(tx: &mut Tx<'_>, shop_id: ShopId, id: OptionId) -> Result<(), StoreError> {
    let o = own_option(&**tx, shop_id, id)?;
    tx.remove(ID_TO_OPTION, id.0)?;
    tx.remove(OPTION_GROUP_TO_OPTION, (o.group.0, id.0))?;
    tx.publish(DomainEvent::ShopChanged { shop: shop_id });
    Ok(())
}
