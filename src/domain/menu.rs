//! Menu categories, items and ingredients, and how an item's stock is kept.

use serde::{Deserialize, Serialize};

use super::{CategoryId, Cents, IngredientId, ItemId, ShopId, Timestamp};

/// Longest name of a shop, item, category or ingredient, in characters.
pub const MAX_NAME: usize = 80;
/// Longest free text (descriptions, notes, reasons), in characters.
pub const MAX_TEXT: usize = 500;

/// A menu category of one shop ("Milk tea", "Snacks").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// The shop it belongs to.
    pub shop: ShopId,
    /// Display name.
    pub name: String,
    /// Sort key on the menu (lower first).
    pub position: u32,
}

/// One ingredient's share of an item ("30 g tapioca").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipeLine {
    /// The ingredient.
    pub ingredient: IngredientId,
    /// How many units of it one item uses (at least 1).
    pub quantity: u32,
}

/// How an item's stock is counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockPolicy {
    /// No limit (made to order from things that never run out).
    Unlimited,
    /// A count of ready units ("12 sandwiches left").
    Counted(u32),
    /// Made from ingredients; orderable while every ingredient suffices.
    Recipe(Vec<RecipeLine>),
}

/// A menu item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    /// Its id.
    pub id: ItemId,
    /// The shop it belongs to.
    pub shop: ShopId,
    /// Optional category.
    pub category: Option<CategoryId>,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price of one unit.
    pub price: Cents,
    /// Free tags ("vegan", "spicy").
    pub tags: Vec<String>,
    /// Allergens ("milk", "gluten").
    pub allergens: Vec<String>,
    /// Optional photo URL.
    pub photo: Option<String>,
    /// The shopkeeper's availability toggle.
    pub enabled: bool,
    /// How stock is counted.
    pub stock: StockPolicy,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An ingredient with its stock, in the ingredient's own unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingredient {
    /// Its id.
    pub id: IngredientId,
    /// The shop it belongs to.
    pub shop: ShopId,
    /// Display name ("tapioca").
    pub name: String,
    /// Unit of `stock` ("g", "cup", "ml").
    pub unit: String,
    /// Units in stock.
    pub stock: u64,
}

/// A change to a stock count: relative changes are applied to whatever the
/// count is at commit time, so they never overwrite orders placed meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockChange {
    /// Add (or with a negative value, remove) units.
    Delta(i64),
    /// Set the count outright (a stock-take).
    Set(u64),
}

/// The change would take the count below zero or past the largest count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stock would become {would_be}, outside 0..={max}")]
pub struct StockOutOfRange {
    /// What the count would have become.
    pub would_be: i128,
    /// The largest allowed count.
    pub max: u64,
}

impl StockChange {
    /// Applies the change to `current`, refusing results outside `0..=max`.
    pub fn apply(self, current: u64, max: u64) -> Result<u64, StockOutOfRange> {
        let would_be = match self {
            StockChange::Delta(d) => i128::from(current) + i128::from(d),
            StockChange::Set(v) => i128::from(v),
        };
        if would_be < 0 || would_be > i128::from(max) {
            return Err(StockOutOfRange { would_be, max });
        }
        u64::try_from(would_be).map_err(|_| StockOutOfRange { would_be, max })
    }
}

/// Checks a display name: not blank, at most [`MAX_NAME`] characters,
/// nothing invisible (the rule in [`super::text`]).
pub fn check_name(field: &'static str, name: &str) -> Result<String, String> {
    super::text::check_name(field, name, MAX_NAME)
}

/// Checks free text: at most `max` characters, no control characters but
/// line feeds (the rule in [`super::text`]).
pub fn check_text(field: &'static str, text: &str, max: usize) -> Result<String, String> {
    super::text::check_text(field, text, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_changes_stay_in_range() {
        assert_eq!(StockChange::Delta(5).apply(3, 100), Ok(8));
        assert_eq!(StockChange::Delta(-3).apply(3, 100), Ok(0));
        assert!(StockChange::Delta(-4).apply(3, 100).is_err());
        assert_eq!(StockChange::Set(7).apply(3, 100), Ok(7));
        assert!(StockChange::Set(101).apply(3, 100).is_err());
        assert!(
            StockChange::Delta(i64::MAX)
                .apply(u64::MAX, u64::MAX)
                .is_err()
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("name", "  Tea  "), Ok("Tea".into()));
        assert!(check_name("name", "   ").is_err());
        assert!(check_name("name", &"x".repeat(81)).is_err());
        assert!(check_name("name", "a\u{7}b").is_err());
        assert_eq!(
            check_text("note", "two\nlines", 20),
            Ok("two\nlines".into())
        );
    }
}
