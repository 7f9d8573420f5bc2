//! Stock keeping as typed on the shopkeeper's forms, for items and options
//! alike: a count of units, or a recipe of the shop's ingredients, one per
//! line (`tapioca pearls x 40`).

use crate::domain::menu::{Ingredient, RecipeLine, StockPolicy};
use crate::web::error::Said;

/// A problem with what was typed, as interface text (`staff.recipe.…`).
fn said(key: &'static str, args: Vec<(&'static str, String)>) -> Said {
    Said { key, args }
}

/// Reads a recipe, one ingredient per line: `tapioca pearls x 40` or
/// `2 x 40` (an ingredient's name or number, then how many of its units one
/// item uses). Blank lines are skipped.
pub fn parse_recipe(text: &str, ingredients: &[Ingredient]) -> Result<Vec<RecipeLine>, Said> {
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || said("staff.recipe.bad_line", vec![("line", format!("{line:?}"))]);
        let (rest, amount) = line.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        let quantity: u32 = amount.parse().map_err(|_| bad())?;
        let rest = rest.trim_end();
        let who = rest
            .strip_suffix(['x', 'X', '×', '*'])
            .ok_or_else(bad)?
            .trim();
        let found = ingredients.iter().find(|i| {
            i.name.eq_ignore_ascii_case(who) || who.parse::<u64>().is_ok_and(|n| n == i.id.0)
        });
        let Some(ingredient) = found else {
            return Err(said(
                "staff.recipe.no_ingredient",
                vec![("line", format!("{line:?}")), ("name", format!("{who:?}"))],
            ));
        };
        lines.push(RecipeLine {
            ingredient: ingredient.id,
            quantity,
        });
    }
    Ok(lines)
}

/// A recipe as the text [`parse_recipe`] reads.
pub fn recipe_text(lines: &[RecipeLine], ingredients: &[Ingredient]) -> String {
    lines
        .iter()
        .map(
            |l| match ingredients.iter().find(|i| i.id == l.ingredient) {
                Some(i) => format!("{} x {}\n", i.name, l.quantity),
                None => format!("{} x {}\n", l.ingredient.0, l.quantity),
            },
        )
        .collect()
}

/// The stock policy from the two fields: an empty count and recipe is no
/// limit, a count is counted stock, a recipe is made from ingredients.
pub fn policy(count: &str, recipe: &str, ingredients: &[Ingredient]) -> Result<StockPolicy, Said> {
    match (count.trim(), recipe.trim()) {
        ("", "") => Ok(StockPolicy::Unlimited),
        (n, "") => n
            .parse()
            .map(StockPolicy::Counted)
            .map_err(|_| said("staff.recipe.bad_count", vec![("value", format!("{n:?}"))])),
        ("", r) => parse_recipe(r, ingredients).map(StockPolicy::Recipe),
        _ => Err(said("staff.recipe.both", Vec::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IngredientId, ShopId};

    fn ingredient(id: u64, name: &str) -> Ingredient {
        Ingredient {
            id: IngredientId(id),
            shop: ShopId(1),
            name: name.into(),
            unit: "g".into(),
            stock: 0,
        }
    }

    #[test]
    fn recipes_are_read_by_name_or_number() {
        let all = [ingredient(2, "tapioca pearls"), ingredient(7, "Milk")];
        let lines = parse_recipe("tapioca pearls x 40\n\n  milk × 120 \n7 * 5\n2 x 1", &all)
            .expect("a recipe");
        let got: Vec<(u64, u32)> = lines.iter().map(|l| (l.ingredient.0, l.quantity)).collect();
        assert_eq!(got, [(2, 40), (7, 120), (7, 5), (2, 1)]);
        assert_eq!(
            parse_recipe(&recipe_text(&lines[..2], &all), &all),
            Ok(lines[..2].to_vec())
        );
        for bad in [
            "milk 120",
            "milk x",
            "milk x -1",
            "sugar x 3",
            "x 3",
            "9 x 3",
        ] {
            assert!(parse_recipe(bad, &all).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stock_fields_choose_the_policy() {
        let all = [ingredient(2, "milk")];
        assert_eq!(policy("", " ", &all), Ok(StockPolicy::Unlimited));
        assert_eq!(policy("12", "", &all), Ok(StockPolicy::Counted(12)));
        assert!(matches!(policy("", "milk x 3", &all), Ok(StockPolicy::Recipe(l)) if l.len() == 1));
        assert!(policy("3", "milk x 3", &all).is_err());
        assert!(policy("-3", "", &all).is_err());
    }
}
