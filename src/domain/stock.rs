//! Stock arithmetic: what a checkout needs, what one order line took (so a
//! cancellation gives back exactly that), and how many of an item can still
//! be made. The store applies these inside one write transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::menu::{MenuItem, StockPolicy};
use super::{IngredientId, ItemId, OptionId};

/// What one order line took from stock, recorded on the line so that a
/// cancellation returns exactly this even if the recipe changed meanwhile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Taken {
    /// The item has no stock limit.
    Nothing,
    /// Units of a counted item.
    Units(u32),
    /// Units of each ingredient.
    Ingredients(Vec<(IngredientId, u64)>),
}

/// What `quantity` of `item` takes from stock.
pub fn taken_for(item: &MenuItem, quantity: u32) -> Taken {
    match &item.stock {
        StockPolicy::Unlimited => Taken::Nothing,
        StockPolicy::Counted(_) => Taken::Units(quantity),
        StockPolicy::Recipe(lines) => Taken::Ingredients(
            lines
                .iter()
                .map(|l| (l.ingredient, u64::from(l.quantity) * u64::from(quantity)))
                .collect(),
        ),
    }
}

/// Who needs an ingredient, named in the error when it runs short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    /// An item's recipe.
    Item(ItemId),
    /// An option's recipe (blamed before items: the pearls ran out, not the tea).
    Option(OptionId),
}

/// The total a checkout takes, summed over its lines: two lines of drinks
/// that share tapioca add up before anything is checked, and so do the
/// options that take the same ingredient.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Units per counted item.
    pub items: BTreeMap<ItemId, u64>,
    /// Portions per counted option.
    pub options: BTreeMap<OptionId, u64>,
    /// Units per ingredient, with who is named if it runs short.
    pub ingredients: BTreeMap<IngredientId, (u64, User)>,
}

impl Needs {
    /// Adds what one line takes.
    pub fn add(&mut self, item: ItemId, taken: &Taken) {
        match taken {
            Taken::Nothing => {}
            Taken::Units(n) => *self.items.entry(item).or_default() += u64::from(*n),
            Taken::Ingredients(parts) => {
                for &(ingredient, n) in parts {
                    self.ingredients
                        .entry(ingredient)
                        .or_insert((0, User::Item(item)))
                        .0 += n;
                }
            }
        }
    }

    /// Adds what one line's option takes.
    pub fn add_option(&mut self, option: OptionId, taken: &Taken) {
        match taken {
            Taken::Nothing => {}
            Taken::Units(n) => *self.options.entry(option).or_default() += u64::from(*n),
            Taken::Ingredients(parts) => {
                for &(ingredient, n) in parts {
                    let e = self
                        .ingredients
                        .entry(ingredient)
                        .or_insert((0, User::Option(option)));
                    e.0 += n;
                    if matches!(e.1, User::Item(_)) {
                        e.1 = User::Option(option);
                    }
                }
            }
        }
    }
}

/// How many units of `item` can be made from current stock; `None` means
/// no limit. `ingredient_stock` returns `None` for a missing ingredient,
/// which makes the item unavailable.
pub fn units_left(
    item: &MenuItem,
    ingredient_stock: impl Fn(IngredientId) -> Option<u64>,
) -> Option<u64> {
    policy_left(&item.stock, ingredient_stock)
}

/// How many portions a stock policy still allows (items and options alike).
pub fn policy_left(
    policy: &StockPolicy,
    ingredient_stock: impl Fn(IngredientId) -> Option<u64>,
) -> Option<u64> {
    match policy {
        StockPolicy::Unlimited => None,
        StockPolicy::Counted(n) => Some(u64::from(*n)),
        StockPolicy::Recipe(lines) => Some(
            lines
                .iter()
                .map(|l| {
                    let have = ingredient_stock(l.ingredient).unwrap_or(0);
                    have / u64::from(l.quantity.max(1))
                })
                .min()
                .unwrap_or(0),
        ),
    }
}

/// Whether a guest can order the item now.
pub fn available(item: &MenuItem, left: Option<u64>) -> bool {
    item.enabled && left.is_none_or(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::menu::RecipeLine;
    use crate::domain::{Cents, ShopId, Timestamp};

    fn item(id: u64, stock: StockPolicy) -> MenuItem {
        MenuItem {
            id: ItemId(id),
            shop: ShopId(1),
            category: None,
            name: format!("item {id}"),
            description: String::new(),
            price: Cents(100),
            tags: vec![],
            allergens: vec![],
            photo: None,
            enabled: true,
            stock,
            created_at: Timestamp(0),
        }
    }

    const CUP: IngredientId = IngredientId(1);
    const TAPIOCA: IngredientId = IngredientId(2);

    fn milk_tea(id: u64, tapioca: u32) -> MenuItem {
        item(
            id,
            StockPolicy::Recipe(vec![
                RecipeLine {
                    ingredient: CUP,
                    quantity: 1,
                },
                RecipeLine {
                    ingredient: TAPIOCA,
                    quantity: tapioca,
                },
            ]),
        )
    }

    #[test]
    fn shared_ingredients_add_up() {
        let a = milk_tea(1, 30);
        let b = milk_tea(2, 50);
        let mut needs = Needs::default();
        needs.add(a.id, &taken_for(&a, 2));
        needs.add(b.id, &taken_for(&b, 1));
        assert_eq!(needs.ingredients[&CUP], (3, User::Item(ItemId(1))));
        assert_eq!(needs.ingredients[&TAPIOCA], (110, User::Item(ItemId(1))));
        needs.add_option(OptionId(9), &Taken::Ingredients(vec![(TAPIOCA, 30)]));
        assert_eq!(
            needs.ingredients[&TAPIOCA],
            (140, User::Option(OptionId(9)))
        );
    }

    #[test]
    fn units_left_is_the_scarcest_ingredient() {
        let tea = milk_tea(1, 30);
        let stock = |i: IngredientId| Some(if i == CUP { 10 } else { 95 });
        assert_eq!(units_left(&tea, stock), Some(3));
        assert_eq!(units_left(&tea, |_| None), Some(0));
        assert_eq!(
            units_left(&item(2, StockPolicy::Counted(4)), |_| None),
            Some(4)
        );
        assert_eq!(units_left(&item(3, StockPolicy::Unlimited), |_| None), None);
    }

    #[test]
    fn availability_needs_the_toggle_and_stock() {
        let mut it = item(1, StockPolicy::Counted(0));
        assert!(!available(&it, Some(0)));
        assert!(available(&it, Some(1)));
        assert!(available(&it, None));
        it.enabled = false;
        assert!(!available(&it, None));
    }
}
