//! The 14 allergens of EU Regulation 1169/2011 (Annex II), which a menu
//! must declare before purchase: the only allergens an item can carry
//! (free words such as "vegan" or "spicy" are tags). Stored by key, shown
//! by label, always in the annex's order.

/// Key and label of each allergen, in the annex's order.
pub const ALLERGENS: [(&str, &str); 14] = [
    ("gluten", "Cereals with gluten"),
    ("crustaceans", "Crustaceans"),
    ("eggs", "Eggs"),
    ("fish", "Fish"),
    ("peanuts", "Peanuts"),
    ("soy", "Soy"),
    ("milk", "Milk"),
    ("nuts", "Tree nuts"),
    ("celery", "Celery"),
    ("mustard", "Mustard"),
    ("sesame", "Sesame"),
    ("sulphites", "Sulphites"),
    ("lupin", "Lupin"),
    ("molluscs", "Molluscs"),
];

/// The keys, for schemas and forms.
pub fn keys() -> impl Iterator<Item = &'static str> {
    ALLERGENS.iter().map(|(k, _)| *k)
}

/// The label of a key (the key itself if unknown).
pub fn label(key: &str) -> &str {
    ALLERGENS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, l)| l)
}

/// Checks a list of allergen keys: each known and once; returns them in
/// the annex's order.
pub fn check(list: &[String]) -> Result<Vec<String>, String> {
    for (i, a) in list.iter().enumerate() {
        if !keys().any(|k| k == a) {
            return Err(format!(
                "{a:?} is not one of the 14 allergens ({})",
                keys().collect::<Vec<_>>().join(", ")
            ));
        }
        if list[..i].contains(a) {
            return Err(format!("allergen {a} is listed twice"));
        }
    }
    Ok(keys()
        .filter(|k| list.iter().any(|a| a == k))
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_allergens_come_back_in_annex_order() {
        let got = check(&["milk".into(), "gluten".into()]).expect("valid");
        assert_eq!(got, vec!["gluten", "milk"]);
        assert_eq!(label("nuts"), "Tree nuts");
    }

    #[test]
    fn unknown_or_repeated_allergens_are_refused() {
        assert!(check(&["vegan".into()]).is_err());
        assert!(check(&["milk".into(), "milk".into()]).is_err());
    }
}
