//! The option chooser of one item: radio buttons for a group of one choice,
//! checkboxes otherwise, defaults preselected, the total shown (and kept up
//! to date by `static/guest.js`). A plain form to `/cart/add`, so it works
//! without JavaScript; adding returns the guest to the item on the menu.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use super::{Chrome, PageError, PageResult, render};
use crate::domain::options::unit_price;
use crate::domain::{ItemId, ShopId};
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::error::Failure;
use crate::web::ops::{self, Audience};

/// Chooser routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/shops/{shop_id}/items/{item_id}", get(chooser))
}

struct Choice {
    id: u64,
    name: String,
    /// `+€0.80`, empty for no change.
    delta_text: String,
    delta: i64,
    available: bool,
    checked: bool,
    left: Option<u64>,
}

struct Group {
    id: u64,
    name: String,
    /// "Choose 1", "Choose up to 3", …
    rule: String,
    min: u8,
    max: u8,
    /// Radio buttons (one choice).
    radio: bool,
    choices: Vec<Choice>,
}

impl Group {
    fn none_checked(&self) -> bool {
        !self.choices.iter().any(|o| o.checked)
    }
}

#[derive(Template)]
#[template(path = "chooser.html")]
struct ChooserPage {
    c: Chrome,
    shop_id: u64,
    item_id: u64,
    name: String,
    description: String,
    price: String,
    base_cents: u64,
    total: String,
    available: bool,
    /// Its allergens, by label.
    allergens: String,
    groups: Vec<Group>,
}

fn rule(lang: Lang, min: u8, max: u8) -> String {
    match (min, max) {
        (1, 1) => lang.t("guest.chooser.choose_one").into_owned(),
        (0, 1) => lang.t("guest.chooser.optional").into_owned(),
        (0, m) => lang.t_with("guest.chooser.up_to", &[("n", &m)]),
        (a, b) if a == b => lang.t_with("guest.chooser.exactly", &[("n", &a)]),
        (a, b) => lang.t_with("guest.chooser.between", &[("lo", &a), ("hi", &b)]),
    }
}

async fn chooser(
    State(state): State<AppState>,
    c: Chrome,
    Path((shop_id, item_id)): Path<(String, String)>,
) -> PageResult {
    let missing = || PageError::said(Failure::NotFound, "guest.chooser.no_such_item").back("/");
    let shop = shop_id.parse::<u64>().map_err(|_| missing())?;
    let item = item_id.parse::<u64>().map_err(|_| missing())?;
    let (menu, _) = ops::menu(&state, ShopId(shop), Audience::Guest)
        .await
        .map_err(|_| missing())?;
    let v = menu
        .items
        .into_iter()
        .find(|v| v.item.id == ItemId(item))
        .ok_or_else(missing)?;
    let (cur, lang) = (state.web.currency, c.lang);
    let mut deltas = Vec::new();
    let groups: Vec<Group> = v
        .options
        .iter()
        .map(|g| {
            let radio = g.group.max == 1;
            let choices: Vec<Choice> = g
                .options
                .iter()
                .map(|o| {
                    let checked = o.option.default && o.available;
                    if checked {
                        deltas.push(o.option.price_delta);
                    }
                    Choice {
                        id: o.option.id.0,
                        name: o.option.name.clone(),
                        delta_text: match o.option.price_delta {
                            0 => String::new(),
                            d => lang.money_delta(cur, d),
                        },
                        delta: o.option.price_delta,
                        available: o.available,
                        checked,
                        left: o.left,
                    }
                })
                .collect();
            Group {
                id: g.group.id.0,
                name: g.group.name.clone(),
                rule: rule(lang, g.group.min, g.group.max),
                min: g.group.min,
                max: g.group.max,
                radio,
                choices,
            }
        })
        .collect();
    let total = unit_price(v.item.price, deltas).unwrap_or(v.item.price);
    render(&ChooserPage {
        c,
        shop_id: shop,
        item_id: item,
        name: v.item.name.clone(),
        description: v.item.description.clone(),
        price: lang.money(cur, v.item.price),
        base_cents: v.item.price.0,
        total: lang.money(cur, total),
        available: v.available,
        allergens: v
            .item
            .allergens
            .iter()
            .map(|a| lang.allergen(a))
            .collect::<Vec<_>>()
            .join(", "),
        groups,
    })
}
