//! The demo venue's options, seeded after every other demo record so the
//! first items keep their ids: Bubble Lab's Size, Sugar, Ice (required)
//! and Toppings (0–3: tapioca pearls made from the same tapioca the drinks
//! use, grass jelly counted, pudding); Dumpling House's spice level.
//!
//! The required groups go on two drinks of their own (Taro milk tea, Jasmine
//! milk tea) and the spice level on chili wontons, so a client that orders
//! the older demo items without options (benches, gateway tests) still
//! works; the toppings are offered on every milk tea.

use crate::domain::menu::{RecipeLine, StockPolicy};
use crate::domain::{Cents, ItemId, OptionGroupId, ShopId};
use crate::store::options::{self, GroupPatch, OptionPatch};
use crate::store::{ItemDraft, StoreError, Tx, catalog};

fn group(
    tx: &mut Tx<'_>,
    shop: ShopId,
    name: &str,
    min: u8,
    max: u8,
    position: u32,
) -> Result<OptionGroupId, StoreError> {
    Ok(options::create_group(
        tx,
        shop,
        GroupPatch {
            name: Some(name.into()),
            min: Some(min),
            max: Some(max),
            position: Some(position),
        },
    )?
    .id)
}

fn option(
    tx: &mut Tx<'_>,
    shop: ShopId,
    group: OptionGroupId,
    name: &str,
    delta: i64,
    default: bool,
    stock: StockPolicy,
) -> Result<(), StoreError> {
    options::create_option(
        tx,
        shop,
        group,
        OptionPatch {
            name: Some(name.into()),
            price_delta: Some(delta),
            default: Some(default),
            stock: Some(stock),
            ..OptionPatch::default()
        },
    )?;
    Ok(())
}

fn find(
    tx: &Tx<'_>,
    shop: ShopId,
    name: &str,
) -> Result<crate::domain::menu::MenuItem, StoreError> {
    catalog::menu(&**tx, shop)?
        .items
        .into_iter()
        .map(|v| v.item)
        .find(|i| i.name == name)
        .ok_or_else(|| StoreError::Internal(format!("demo item {name} is missing")))
}

/// Seeds the options; `tea` and `dumplings` are the demo shops.
pub fn seed(tx: &mut Tx<'_>, tea: ShopId, dumplings: ShopId) -> Result<(), StoreError> {
    let classic = find(tx, tea, "Classic milk tea")?;
    let tapioca = match &classic.stock {
        StockPolicy::Recipe(lines) => lines[1].ingredient,
        _ => {
            return Err(StoreError::Internal(
                "the classic milk tea has no recipe".into(),
            ));
        }
    };
    let mut drinks: Vec<ItemId> = vec![classic.id, find(tx, tea, "Brown sugar boba")?.id];
    for (name, description, cents) in [
        (
            "Taro milk tea",
            "Creamy taro with milk; choose size, sugar, ice and toppings.",
            480,
        ),
        (
            "Jasmine milk tea",
            "Fragrant jasmine green tea with milk.",
            440,
        ),
    ] {
        let item = catalog::create_item(
            tx,
            tea,
            ItemDraft {
                name: name.into(),
                description: description.into(),
                price: Cents(cents),
                stock: StockPolicy::Unlimited,
                tags: vec![],
                ..ItemDraft {
                    category: classic.category,
                    name: String::new(),
                    description: String::new(),
                    price: Cents(0),
                    tags: vec![],
                    allergens: classic.allergens.clone(),
                    photo: None,
                    enabled: true,
                    stock: StockPolicy::Unlimited,
                }
            },
        )?;
        drinks.push(item.id);
    }
    let size = group(tx, tea, "Size", 1, 1, 1)?;
    option(tx, tea, size, "Regular", 0, true, StockPolicy::Unlimited)?;
    option(tx, tea, size, "Large", 80, false, StockPolicy::Unlimited)?;
    let sugar = group(tx, tea, "Sugar", 1, 1, 2)?;
    for level in [0, 30, 50, 70, 100] {
        option(
            tx,
            tea,
            sugar,
            &format!("{level} % sugar"),
            0,
            level == 50,
            StockPolicy::Unlimited,
        )?;
    }
    let ice = group(tx, tea, "Ice", 1, 1, 3)?;
    for (name, default) in [("No ice", false), ("Less ice", false), ("Normal ice", true)] {
        option(tx, tea, ice, name, 0, default, StockPolicy::Unlimited)?;
    }
    let toppings = group(tx, tea, "Toppings", 0, 3, 4)?;
    let pearls = StockPolicy::Recipe(vec![RecipeLine {
        ingredient: tapioca,
        quantity: 30,
    }]);
    option(tx, tea, toppings, "Tapioca pearls", 60, false, pearls)?;
    option(
        tx,
        tea,
        toppings,
        "Grass jelly",
        50,
        false,
        StockPolicy::Counted(40),
    )?;
    option(
        tx,
        tea,
        toppings,
        "Pudding",
        70,
        false,
        StockPolicy::Unlimited,
    )?;
    for &drink in &drinks[2..] {
        for g in [size, sugar, ice] {
            options::attach(tx, tea, drink, g)?;
        }
    }
    for &drink in &drinks {
        options::attach(tx, tea, drink, toppings)?;
    }

    let pork = find(tx, dumplings, "Pork dumplings (6)")?;
    let wontons = catalog::create_item(
        tx,
        dumplings,
        ItemDraft {
            name: "Chili wontons (8)".into(),
            description: "Pork wontons in chili oil; you choose how hot.".into(),
            price: Cents(700),
            stock: StockPolicy::Counted(30),
            tags: vec!["spicy".into()],
            ..ItemDraft {
                category: pork.category,
                name: String::new(),
                description: String::new(),
                price: Cents(0),
                tags: vec![],
                allergens: vec!["gluten".into(), "soy".into()],
                photo: None,
                enabled: true,
                stock: StockPolicy::Unlimited,
            }
        },
    )?;
    let spice = group(tx, dumplings, "Spice level", 1, 1, 1)?;
    for (name, default) in [("Mild", true), ("Medium", false), ("Hot", false)] {
        option(
            tx,
            dumplings,
            spice,
            name,
            0,
            default,
            StockPolicy::Unlimited,
        )?;
    }
    options::attach(tx, dumplings, wontons.id, spice)?;
    Ok(())
}
