//! The demo venue seeded by `serve --demo` into an empty database: three
//! approved shops (one made from ingredients, one with counted stock, one
//! without limits), each with a shopkeeper, plus an admin. Every demo
//! account uses [`DEMO_PASSWORD`].

use crate::auth::Passwords;
use crate::domain::account::Role;
use crate::domain::menu::{RecipeLine, StockPolicy};
use crate::domain::{Cents, IngredientId};
use crate::store::{ItemDraft, NewUser, Store, StoreError, Tx, accounts, catalog};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "queueless-demo";
/// The demo admin.
pub const DEMO_ADMIN: &str = "admin@demo.queueless";

/// The demo shopkeepers: (email, shop name).
pub const DEMO_SHOPKEEPERS: [(&str, &str); 3] = [
    ("tea@demo.queueless", "Bubble Lab"),
    ("dumplings@demo.queueless", "Dumpling House"),
    ("juice@demo.queueless", "Fresh Press"),
];

/// Seeds the demo venue if the database has no shop yet; returns whether it did.
pub async fn seed_if_empty(store: &Store, passwords: &Passwords) -> anyhow::Result<bool> {
    let empty = store
        .read(|r| Ok(catalog::shops(r, false)?.is_empty()))
        .await?;
    if !empty {
        return Ok(false);
    }
    let hash = passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    store.write(move |tx| seed(tx, &hash)).await?;
    crate::demo_photos::add(store).await?;
    Ok(true)
}

fn item(
    name: &str,
    description: &str,
    cents: u64,
    category: crate::domain::CategoryId,
    stock: StockPolicy,
    tags: &[&str],
) -> ItemDraft {
    ItemDraft {
        category: Some(category),
        name: name.into(),
        description: description.into(),
        price: Cents(cents),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        allergens: vec![],
        photo: None,
        enabled: true,
        stock,
    }
}

fn recipe(parts: &[(IngredientId, u32)]) -> StockPolicy {
    StockPolicy::Recipe(
        parts
            .iter()
            .map(|&(ingredient, quantity)| RecipeLine {
                ingredient,
                quantity,
            })
            .collect(),
    )
}

fn seed(tx: &mut Tx<'_>, hash: &str) -> Result<(), StoreError> {
    let user = |email: &str, name: &str| NewUser {
        email: email.into(),
        name: name.into(),
        role: Role::Shopkeeper,
        password_hash: hash.to_owned(),
    };
    accounts::create_user(
        tx,
        NewUser {
            role: Role::Admin,
            ..user(DEMO_ADMIN, "Venue operator")
        },
    )?;

    // Bubble tea: drinks made from ingredients with stock.
    let (_, tea) = accounts::register_shop(
        tx,
        user(DEMO_SHOPKEEPERS[0].0, "Mei"),
        DEMO_SHOPKEEPERS[0].1,
        "Stall 3, north hall",
        "+1 555 0103",
        true,
    )?;
    let cup = catalog::create_ingredient(tx, tea.id, "cup", "cup", 120)?.id;
    let tapioca = catalog::create_ingredient(tx, tea.id, "tapioca pearls", "g", 4000)?.id;
    let milk = catalog::create_ingredient(tx, tea.id, "milk", "ml", 12000)?.id;
    let black = catalog::create_ingredient(tx, tea.id, "black tea", "ml", 20000)?.id;
    let mango = catalog::create_ingredient(tx, tea.id, "mango syrup", "ml", 900)?.id;
    let milk_tea = catalog::create_category(tx, tea.id, "Milk tea", 1)?.id;
    let fruit = catalog::create_category(tx, tea.id, "Fruit tea", 2)?.id;
    let mut with_allergens = item(
        "Classic milk tea",
        "Black tea, milk and chewy tapioca pearls.",
        450,
        milk_tea,
        recipe(&[(cup, 1), (tapioca, 40), (milk, 120), (black, 250)]),
        &["bestseller"],
    );
    with_allergens.allergens = vec!["milk".into()];
    catalog::create_item(tx, tea.id, with_allergens.clone())?;
    catalog::create_item(
        tx,
        tea.id,
        ItemDraft {
            name: "Brown sugar boba".into(),
            description: "Fresh milk with brown sugar syrup and a double portion of pearls.".into(),
            price: Cents(520),
            stock: recipe(&[(cup, 1), (tapioca, 80), (milk, 250)]),
            tags: vec![],
            ..with_allergens
        },
    )?;
    catalog::create_item(
        tx,
        tea.id,
        item(
            "Mango green tea",
            "Jasmine green tea shaken with mango.",
            420,
            fruit,
            recipe(&[(cup, 1), (black, 250), (mango, 40)]),
            &["vegan"],
        ),
    )?;

    // Dumplings: counted portions.
    let (_, dumplings) = accounts::register_shop(
        tx,
        user(DEMO_SHOPKEEPERS[1].0, "Chen"),
        DEMO_SHOPKEEPERS[1].1,
        "Stall 7, north hall",
        "+1 555 0107",
        true,
    )?;
    let steamed = catalog::create_category(tx, dumplings.id, "Steamed", 1)?.id;
    let fried = catalog::create_category(tx, dumplings.id, "Fried", 2)?.id;
    catalog::create_item(
        tx,
        dumplings.id,
        item(
            "Pork dumplings (6)",
            "Pork and chive, with black vinegar.",
            650,
            steamed,
            StockPolicy::Counted(40),
            &[],
        ),
    )?;
    catalog::create_item(
        tx,
        dumplings.id,
        item(
            "Vegetable dumplings (6)",
            "Cabbage, mushroom and glass noodles.",
            600,
            steamed,
            StockPolicy::Counted(30),
            &["vegetarian"],
        ),
    )?;
    catalog::create_item(
        tx,
        dumplings.id,
        item(
            "Spring rolls (3)",
            "Crispy, with sweet chili sauce.",
            380,
            fried,
            StockPolicy::Counted(25),
            &["vegetarian"],
        ),
    )?;

    // Juice bar: no stock limits.
    let (_, juice) = accounts::register_shop(
        tx,
        user(DEMO_SHOPKEEPERS[2].0, "Ana"),
        DEMO_SHOPKEEPERS[2].1,
        "Kiosk by the south gate",
        "+1 555 0112",
        true,
    )?;
    let drinks = catalog::create_category(tx, juice.id, "Pressed to order", 1)?.id;
    catalog::create_item(
        tx,
        juice.id,
        item(
            "Orange juice",
            "Squeezed while you wait.",
            350,
            drinks,
            StockPolicy::Unlimited,
            &["vegan"],
        ),
    )?;
    catalog::create_item(
        tx,
        juice.id,
        item(
            "Lemonade",
            "Lemon, mint, a little cane sugar.",
            300,
            drinks,
            StockPolicy::Unlimited,
            &["vegan"],
        ),
    )?;
    catalog::create_item(
        tx,
        juice.id,
        item(
            "Still water",
            "0.5 l bottle.",
            150,
            drinks,
            StockPolicy::Unlimited,
            &[],
        ),
    )?;
    crate::demo_options::seed(tx, tea.id, dumplings.id)
}

/// The lines printed at start so a newcomer can log in.
pub fn logins_text(base_url: &str) -> String {
    let mut s = format!(
        "Demo venue ready. Open {base_url}/ (guest) — API docs at {base_url}/api/openapi.json\n\
         Demo logins (password for all: {DEMO_PASSWORD}):\n  admin       {DEMO_ADMIN}\n"
    );
    for (email, shop) in DEMO_SHOPKEEPERS {
        s.push_str(&format!("  shopkeeper  {email:<26} ({shop})\n"));
    }
    s
}
