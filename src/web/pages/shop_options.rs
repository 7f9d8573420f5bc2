//! The shopkeeper's option pages: option groups (name, fewest and most
//! choices, position) with their options (name, price change, preselected,
//! on/off, and stock kept as no limit, a count, or a recipe of the shop's
//! ingredients), and which groups an item offers (on the item's page).
//!
//! Every write is the store call the JSON API makes (`store::options`), in
//! one write transaction, so pages and API cannot disagree; as on the menu
//! page, an option's details and its stock keeping are separate forms, so
//! renaming an option never overwrites a count that orders lowered.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::recipe::{policy, recipe_text};
use super::{Chrome, PageError, PageForm, PageResult, ShopPage, done, render, see_other};
use crate::domain::menu::StockPolicy;
use crate::domain::{ItemId, OptionGroupId, OptionId};
use crate::i18n::Lang;
use crate::store::options::{self, GroupPatch, MAX_DELTA, OptionPatch};
use crate::store::{StoreError, catalog};
use crate::web::AppState;
use crate::web::error::Failure;

const PAGE: &str = "/shop/menu/options";

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/shop/menu/options/groups", post(add_group))
        .route("/shop/menu/options/groups/{id}", post(save_group))
        .route("/shop/menu/options/groups/{id}/delete", post(delete_group))
        .route("/shop/menu/options/groups/{id}/options", post(add_option))
        .route("/shop/menu/options/{id}", post(save_option))
        .route("/shop/menu/options/{id}/policy", post(save_policy))
        .route("/shop/menu/options/{id}/delete", post(delete_option))
        .route("/shop/menu/items/{item_id}/groups", post(save_item_groups))
}

fn invalid(msg: impl Into<String>) -> PageError {
    PageError::new(Failure::Invalid, msg).back(PAGE)
}

/// Reads a price change typed by a person: `0.80`, `+0.80` or `-0.50`, in
/// the venue's currency; empty is no change of price.
fn parse_delta(state: &AppState, text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (negative, number) = match t.strip_prefix(['-', '−']) {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if number.is_empty() {
        return Ok(0);
    }
    let max = MAX_DELTA.unsigned_abs();
    let cents = state.web.currency.parse(number, max)?;
    let cents = i64::try_from(cents.0).map_err(|_| format!("{t:?} is too large"))?;
    Ok(if negative { -cents } else { cents })
}

struct OptionRow {
    id: u64,
    name: String,
    /// `+€0.80`, or empty for no change.
    delta: String,
    /// The change as typed in the form (`-0.50`).
    delta_value: String,
    default: bool,
    enabled: bool,
    available: bool,
    stock: String,
    count: String,
    recipe: String,
}

struct GroupRow {
    id: u64,
    name: String,
    min: u8,
    max: u8,
    position: u32,
    options: Vec<OptionRow>,
    /// Names of the items offering it.
    items: String,
}

#[derive(Template)]
#[template(path = "shop_options.html")]
struct OptionsPage {
    c: Chrome,
    groups: Vec<GroupRow>,
    /// The ingredients a recipe may use: number, name, unit.
    ingredients: Vec<(u64, String, String)>,
}

async fn page(State(state): State<AppState>, c: Chrome, k: ShopPage) -> PageResult {
    let cur = state.web.currency;
    let (groups, menu) = state
        .store
        .read(move |r| {
            let menu = catalog::menu(r, k.shop)?;
            let mut groups = Vec::new();
            for g in options::shop_groups(r, k.shop)? {
                let mut items = Vec::new();
                for v in &menu.items {
                    if options::item_groups(r, v.item.id)?
                        .iter()
                        .any(|x| x.group.id == g.group.id)
                    {
                        items.push(v.item.name.clone());
                    }
                }
                groups.push((g, items));
            }
            Ok((groups, menu))
        })
        .await?;
    let rows = groups
        .into_iter()
        .map(|(g, items)| GroupRow {
            id: g.group.id.0,
            name: g.group.name,
            min: g.group.min,
            max: g.group.max,
            position: g.group.position,
            items: items.join(", "),
            options: g
                .options
                .into_iter()
                .map(|o| {
                    let left = options::option_left(&o, &menu.ingredients);
                    let (count, recipe) = match &o.stock {
                        StockPolicy::Unlimited => (String::new(), String::new()),
                        StockPolicy::Counted(n) => (n.to_string(), String::new()),
                        StockPolicy::Recipe(l) => {
                            (String::new(), recipe_text(l, &menu.ingredients))
                        }
                    };
                    let magnitude = cur.number(crate::domain::Cents(o.price_delta.unsigned_abs()));
                    OptionRow {
                        id: o.id.0,
                        delta: match o.price_delta {
                            0 => String::new(),
                            d => c.lang.money_delta(cur, d),
                        },
                        delta_value: match o.price_delta {
                            0 => String::new(),
                            d if d < 0 => format!("-{magnitude}"),
                            _ => magnitude,
                        },
                        default: o.default,
                        enabled: o.enabled,
                        available: o.enabled && left.is_none_or(|n| n > 0),
                        stock: super::shop_menu::stock_text(&c, &o.stock, left),
                        count,
                        recipe,
                        name: o.name,
                    }
                })
                .collect(),
        })
        .collect();
    render(&OptionsPage {
        c,
        groups: rows,
        ingredients: menu
            .ingredients
            .iter()
            .map(|i| (i.id.0, i.name.clone(), i.unit.clone()))
            .collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupForm {
    name: String,
    min: u8,
    max: u8,
    #[serde(default)]
    position: Option<u32>,
}

impl From<GroupForm> for GroupPatch {
    fn from(f: GroupForm) -> Self {
        GroupPatch {
            name: Some(f.name),
            min: Some(f.min),
            max: Some(f.max),
            position: f.position,
        }
    }
}

async fn add_group(
    State(state): State<AppState>,
    k: ShopPage,
    PageForm(f): PageForm<GroupForm>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| options::create_group(tx, k.shop, f.into()))
        .await;
    done(result, PAGE)
}

async fn save_group(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(f): PageForm<GroupForm>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| options::update_group(tx, k.shop, OptionGroupId(id), f.into()))
        .await;
    done(result, PAGE)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn delete_group(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| options::delete_group(tx, k.shop, OptionGroupId(id)))
        .await;
    done(result, PAGE)
}

/// A new option: its details and how its stock is kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOptionForm {
    name: String,
    #[serde(default)]
    price_delta: String,
    /// Present when ticked.
    #[serde(default)]
    default: Option<String>,
    /// Empty: no limit (or a recipe); a number: that many portions.
    #[serde(default)]
    stock: String,
    #[serde(default)]
    recipe: String,
}

async fn add_option(
    State(state): State<AppState>,
    lang: Lang,
    k: ShopPage,
    Path(group): Path<u64>,
    PageForm(f): PageForm<NewOptionForm>,
) -> PageResult {
    let delta = parse_delta(&state, &f.price_delta).map_err(invalid)?;
    let result = state
        .store
        .write(move |tx| {
            let ingredients = catalog::menu(&**tx, k.shop)?.ingredients;
            let stock = policy(&f.stock, &f.recipe, &ingredients)
                .map_err(|s| StoreError::Invalid(s.text(lang)))?;
            let patch = OptionPatch {
                name: Some(f.name),
                price_delta: Some(delta),
                enabled: Some(true),
                default: Some(f.default.is_some()),
                stock: Some(stock),
                position: None,
            };
            options::create_option(tx, k.shop, OptionGroupId(group), patch)
        })
        .await;
    done(result, PAGE)
}

/// An option's details (its stock keeping has its own form).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionForm {
    name: String,
    #[serde(default)]
    price_delta: String,
    #[serde(default)]
    default: Option<String>,
    /// `true` or `false`; absent leaves the switch as it is.
    #[serde(default)]
    available: Option<bool>,
}

async fn save_option(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(f): PageForm<OptionForm>,
) -> PageResult {
    let delta = parse_delta(&state, &f.price_delta).map_err(invalid)?;
    let patch = OptionPatch {
        name: Some(f.name),
        price_delta: Some(delta),
        enabled: f.available,
        default: Some(f.default.is_some()),
        ..OptionPatch::default()
    };
    let result = state
        .store
        .write(move |tx| options::update_option(tx, k.shop, OptionId(id), patch))
        .await;
    done(result, PAGE)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchOrPolicyForm {
    #[serde(default)]
    available: Option<bool>,
    #[serde(default)]
    stock: Option<String>,
    #[serde(default)]
    recipe: Option<String>,
}

/// The on/off switch, or how the option's stock is kept (a count here is
/// a stock-take).
async fn save_policy(
    State(state): State<AppState>,
    lang: Lang,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(f): PageForm<SwitchOrPolicyForm>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| {
            let stock = match (f.stock, f.recipe) {
                (None, None) => None,
                (count, recipe) => {
                    let ingredients = catalog::menu(&**tx, k.shop)?.ingredients;
                    let (count, recipe) = (count.unwrap_or_default(), recipe.unwrap_or_default());
                    Some(
                        policy(&count, &recipe, &ingredients)
                            .map_err(|s| StoreError::Invalid(s.text(lang)))?,
                    )
                }
            };
            let patch = OptionPatch {
                enabled: f.available,
                stock,
                ..OptionPatch::default()
            };
            options::update_option(tx, k.shop, OptionId(id), patch)
        })
        .await;
    done(result, PAGE)
}

async fn delete_option(
    State(state): State<AppState>,
    k: ShopPage,
    Path(id): Path<u64>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let result = state
        .store
        .write(move |tx| options::delete_option(tx, k.shop, OptionId(id)))
        .await;
    done(result, PAGE)
}

/// The groups an item offers: `group=<id>` once per ticked group; the
/// others are detached, all in one transaction.
async fn save_item_groups(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let back = format!("/shop/menu/items/{item_id}");
    let mut ticked = Vec::new();
    for (key, value) in pairs {
        match (key.as_str(), value.parse::<u64>()) {
            ("group", Ok(id)) => ticked.push(OptionGroupId(id)),
            _ => {
                return Err(PageError::said_with(
                    Failure::Invalid,
                    "staff.form.unknown_field",
                    vec![("field", format!("{key:?}"))],
                )
                .back(&back));
            }
        }
    }
    let item = ItemId(item_id);
    state
        .store
        .write(move |tx| {
            // Checked before the first write: a ticked group of another
            // shop is as unknown as none.
            catalog::own_item(&**tx, k.shop, item)?;
            for &g in &ticked {
                options::own_group(&**tx, k.shop, g)?;
            }
            let offered: Vec<OptionGroupId> = options::item_groups(&**tx, item)?
                .iter()
                .map(|g| g.group.id)
                .collect();
            for &g in ticked.iter().filter(|g| !offered.contains(g)) {
                options::attach(tx, k.shop, item, g)?;
            }
            for &g in offered.iter().filter(|g| !ticked.contains(g)) {
                options::detach(tx, k.shop, item, g)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| PageError::from(e).back(&back))?;
    Ok(see_other(&back))
}
