//! Item options ("modifiers"): groups with a minimum and maximum choice
//! ("Sugar level": exactly one; "Toppings": 0 to 3), shared by any number
//! of a shop's items, and options with a price change and stock of their
//! own (unlimited, counted, or through ingredients, like items).
//!
//! Pure rules only: checking a guest's choice against the groups attached
//! to an item, the unit price of a line, and the snapshot an order keeps.
//! Invariants: a line's unit price never goes below 0; a choice names each
//! option at most once and only options of the item's groups.

use serde::{Deserialize, Serialize};

use super::menu::StockPolicy;
use super::stock::Taken;
use super::{Cents, OptionGroupId, OptionId, ShopId};

/// Most options one group may allow a guest to choose.
pub const MAX_CHOICES: u8 = 20;

/// A group of options of one shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionGroup {
    /// Its id.
    pub id: OptionGroupId,
    /// The shop it belongs to.
    pub shop: ShopId,
    /// Display name ("Sugar level").
    pub name: String,
    /// Fewest options a guest must choose (0 = optional).
    pub min: u8,
    /// Most options a guest may choose (at least 1).
    pub max: u8,
    /// Sort key (lower first).
    pub position: u32,
}

/// One option of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuOption {
    /// Its id.
    pub id: OptionId,
    /// The group it belongs to.
    pub group: OptionGroupId,
    /// The shop (same as the group's).
    pub shop: ShopId,
    /// Display name ("Tapioca pearls").
    pub name: String,
    /// Change of the item's unit price, in minor units (may be negative).
    pub price_delta: i64,
    /// The shopkeeper's availability switch.
    pub enabled: bool,
    /// Preselected for guests.
    pub default: bool,
    /// How its stock is kept (per portion).
    pub stock: StockPolicy,
    /// Sort key within the group (lower first).
    pub position: u32,
}

/// A group with its options, as attached to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupChoices {
    /// The group.
    pub group: OptionGroup,
    /// Its options, sorted.
    pub options: Vec<MenuOption>,
}

/// Why a choice of options is refused (before stock is looked at).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    /// The same option twice in one line.
    #[error("option {option} ({name}) is chosen twice; choose it once")]
    Duplicate {
        /// The option.
        option: OptionId,
        /// Its name.
        name: String,
    },
    /// An option that is not in a group attached to the item.
    #[error("option {option} is not offered with {item}; reload the menu")]
    Foreign {
        /// The option.
        option: OptionId,
        /// The item's name.
        item: String,
    },
    /// Fewer options of a group than its minimum.
    #[error("choose at least {min} of {name} for {item}")]
    TooFew {
        /// The group.
        group: OptionGroupId,
        /// Its name.
        name: String,
        /// Its minimum.
        min: u8,
        /// The item's name.
        item: String,
    },
    /// More options of a group than its maximum.
    #[error("choose at most {max} of {name} for {item}")]
    TooMany {
        /// The group.
        group: OptionGroupId,
        /// Its name.
        name: String,
        /// Its maximum.
        max: u8,
        /// The item's name.
        item: String,
    },
}

/// Checks a guest's choice for an item against the item's groups and
/// returns the chosen options in group order. Availability and stock are
/// the caller's business (they need the store).
pub fn check_choice<'a>(
    item: &str,
    groups: &'a [GroupChoices],
    chosen: &[OptionId],
) -> Result<Vec<(&'a OptionGroup, &'a MenuOption)>, ChoiceError> {
    let find = |id: OptionId| {
        groups
            .iter()
            .find_map(|g| g.options.iter().find(|o| o.id == id).map(|o| (&g.group, o)))
    };
    for (i, &id) in chosen.iter().enumerate() {
        if chosen[..i].contains(&id) {
            return Err(ChoiceError::Duplicate {
                option: id,
                name: find(id).map(|(_, o)| o.name.clone()).unwrap_or_default(),
            });
        }
        if find(id).is_none() {
            return Err(ChoiceError::Foreign {
                option: id,
                item: item.to_owned(),
            });
        }
    }
    let mut out = Vec::new();
    for g in groups {
        let picked: Vec<&MenuOption> = g
            .options
            .iter()
            .filter(|o| chosen.contains(&o.id))
            .collect();
        let n = picked.len();
        if n < usize::from(g.group.min) {
            return Err(ChoiceError::TooFew {
                group: g.group.id,
                name: g.group.name.clone(),
                min: g.group.min,
                item: item.to_owned(),
            });
        }
        if n > usize::from(g.group.max) {
            return Err(ChoiceError::TooMany {
                group: g.group.id,
                name: g.group.name.clone(),
                max: g.group.max,
                item: item.to_owned(),
            });
        }
        out.extend(picked.into_iter().map(|o| (&g.group, o)));
    }
    Ok(out)
}

/// The unit price of an item with options: the price plus every delta,
/// never below 0; `None` if it overflows.
pub fn unit_price(price: Cents, deltas: impl IntoIterator<Item = i64>) -> Option<Cents> {
    let mut sum = i128::from(price.0);
    for d in deltas {
        sum += i128::from(d);
    }
    u64::try_from(sum.max(0)).ok().map(Cents)
}

/// An option as it was ordered: kept on the order line so that renaming or
/// repricing the option later never changes a placed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineOption {
    /// The option.
    pub option: OptionId,
    /// Its group's name when ordered.
    pub group: String,
    /// Its name when ordered.
    pub name: String,
    /// Its price change when ordered.
    pub price_delta: i64,
    /// What it took from stock (for the whole line).
    pub taken: Taken,
}

/// What `quantity` portions of an option take from stock.
pub fn option_taken(option: &MenuOption, quantity: u32) -> Taken {
    match &option.stock {
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

/// Why a group's bounds are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// A bound outside its range (malformed input).
    #[error("min must be 0 to {MAX_CHOICES} and max 1 to {MAX_CHOICES}")]
    Range,
    /// Each bound is fine on its own, but `min` is above `max`.
    #[error("min ({min}) must not be larger than max ({max})")]
    Crossed {
        /// The fewest choices.
        min: u8,
        /// The most choices.
        max: u8,
    },
}

/// Checks a group's bounds: `min <= max`, `1 <= max <= MAX_CHOICES`.
pub fn check_bounds(min: u8, max: u8) -> Result<(), BoundsError> {
    if max == 0 || max > MAX_CHOICES || min > MAX_CHOICES {
        return Err(BoundsError::Range);
    }
    if min > max {
        return Err(BoundsError::Crossed { min, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: u64, name: &str, min: u8, max: u8, options: &[(u64, &str, i64)]) -> GroupChoices {
        GroupChoices {
            group: OptionGroup {
                id: OptionGroupId(id),
                shop: ShopId(1),
                name: name.into(),
                min,
                max,
                position: 0,
            },
            options: options
                .iter()
                .map(|&(o, n, d)| MenuOption {
                    id: OptionId(o),
                    group: OptionGroupId(id),
                    shop: ShopId(1),
                    name: n.into(),
                    price_delta: d,
                    enabled: true,
                    default: false,
                    stock: StockPolicy::Unlimited,
                    position: 0,
                })
                .collect(),
        }
    }

    fn drink() -> Vec<GroupChoices> {
        vec![
            group(1, "Size", 1, 1, &[(10, "Regular", 0), (11, "Large", 80)]),
            group(
                2,
                "Toppings",
                0,
                2,
                &[(20, "Pearls", 60), (21, "Jelly", 50), (22, "Pudding", 70)],
            ),
        ]
    }

    #[test]
    fn a_valid_choice_comes_back_in_group_order() {
        let g = drink();
        let got = check_choice("Milk tea", &g, &[OptionId(21), OptionId(11)]).expect("valid");
        let ids: Vec<u64> = got.iter().map(|(_, o)| o.id.0).collect();
        assert_eq!(ids, vec![11, 21]);
    }

    #[test]
    fn bounds_duplicates_and_strangers_are_refused() {
        let g = drink();
        assert!(matches!(
            check_choice("Tea", &g, &[]),
            Err(ChoiceError::TooFew {
                group: OptionGroupId(1),
                ..
            })
        ));
        assert!(matches!(
            check_choice("Tea", &g, &[OptionId(10), OptionId(11)]),
            Err(ChoiceError::TooMany {
                group: OptionGroupId(1),
                ..
            })
        ));
        assert!(matches!(
            check_choice(
                "Tea",
                &g,
                &[OptionId(10), OptionId(20), OptionId(21), OptionId(22)]
            ),
            Err(ChoiceError::TooMany {
                group: OptionGroupId(2),
                ..
            })
        ));
        assert!(matches!(
            check_choice("Tea", &g, &[OptionId(10), OptionId(20), OptionId(20)]),
            Err(ChoiceError::Duplicate {
                option: OptionId(20),
                ..
            })
        ));
        let e = check_choice("Tea", &g, &[OptionId(10), OptionId(99)]).expect_err("foreign");
        assert!(matches!(
            e,
            ChoiceError::Foreign {
                option: OptionId(99),
                ..
            }
        ));
        assert!(e.to_string().contains("99"));
    }

    #[test]
    fn unit_price_adds_deltas_and_never_goes_below_zero() {
        assert_eq!(unit_price(Cents(450), [80, 60]), Some(Cents(590)));
        assert_eq!(unit_price(Cents(100), [-30]), Some(Cents(70)));
        assert_eq!(unit_price(Cents(100), [-300, 50]), Some(Cents(0)));
        assert_eq!(unit_price(Cents(u64::MAX), [1]), None);
    }

    #[test]
    fn group_bounds() {
        assert!(check_bounds(0, 3).is_ok());
        assert!(check_bounds(1, 1).is_ok());
        assert!(check_bounds(2, 1).is_err());
        assert!(check_bounds(0, 0).is_err());
        assert!(check_bounds(0, 21).is_err());
    }
}
