//! The identifier called out at the counter, shown on the pickup board and
//! shown big on the guest's phone: the shop's short prefix and the order
//! number ("B12"). The pickup code is not part of it: it stays the secret
//! the counter asks for.
//!
//! Rules owned here:
//! - a prefix is 1 to [`MAX_PREFIX`] letters A–Z, so the number that
//!   follows is never confused with it ("B12" and "BU12" differ);
//! - prefixes are unique across the venue: one the shop chose is kept;
//!   every other shop gets one derived from its name, in order of
//!   registration, avoiding the ones taken; a later shop never takes an
//!   earlier shop's derived prefix, so prefixes stay put as shops join.

use std::collections::{BTreeMap, BTreeSet};

use super::ShopId;

/// Longest prefix, in letters.
pub const MAX_PREFIX: usize = 3;

/// Checks a prefix a shop chose: 1–3 letters, returned in capitals.
pub fn check_prefix(s: &str) -> Result<String, String> {
    let p = s.to_ascii_uppercase();
    if p.is_empty() || p.len() > MAX_PREFIX || !p.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "the call prefix must be 1 to {MAX_PREFIX} letters A–Z (like B or BL)"
        ));
    }
    Ok(p)
}

/// One shop as prefix assignment sees it.
#[derive(Clone, Debug)]
pub struct ShopName<'a> {
    /// Its id (registration order).
    pub id: ShopId,
    /// Its name.
    pub name: &'a str,
    /// The prefix it chose, if any (already checked).
    pub chosen: Option<&'a str>,
}

/// The prefix of every shop: chosen ones kept, others derived from names.
pub fn assign(shops: &[ShopName<'_>]) -> BTreeMap<ShopId, String> {
    let mut ordered: Vec<&ShopName<'_>> = shops.iter().collect();
    ordered.sort_by_key(|s| s.id);
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for s in &ordered {
        if let Some(p) = s.chosen
            && taken.insert(p.to_owned())
        {
            out.insert(s.id, p.to_owned());
        }
    }
    for s in &ordered {
        if out.contains_key(&s.id) {
            continue;
        }
        let p = candidates(s.name)
            .find(|c| !taken.contains(c))
            .unwrap_or_else(|| format!("S{}", s.id.0));
        taken.insert(p.clone());
        out.insert(s.id, p);
    }
    out
}

/// Prefixes for a name, best first: its first letter, its initials, its
/// first two letters, its first letter with each later one, then any
/// letters at all (the name's first letter leading while it can). Made one
/// at a time: every order's notification asks, and the first is nearly
/// always free.
fn candidates(name: &str) -> impl Iterator<Item = String> {
    let words: Vec<Vec<u8>> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            w.bytes()
                .filter(u8::is_ascii_alphabetic)
                .map(|b| b.to_ascii_uppercase())
                .collect::<Vec<u8>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let letters: Vec<u8> = words.concat();
    let initials: Vec<u8> = words.iter().map(|w| w[0]).take(MAX_PREFIX).collect();
    let named = letters.first().copied().map(move |first| {
        let later = letters.into_iter().skip(1).map(move |l| vec![first, l]);
        let initials = (2..=initials.len()).map(move |n| initials[..n].to_vec());
        let any = (b'A'..=b'Z').map(move |l| vec![first, l]);
        std::iter::once(vec![first])
            .chain(initials)
            .chain(later)
            .chain(any)
    });
    let singles = (b'A'..=b'Z').map(|a| vec![a]);
    let pairs = (b'A'..=b'Z').flat_map(|a| (b'A'..=b'Z').map(move |b| vec![a, b]));
    named
        .into_iter()
        .flatten()
        .chain(singles)
        .chain(pairs)
        .map(|v| v.into_iter().map(char::from).collect())
}

/// The called identifier of order `number` of a shop with `prefix`.
pub fn call(prefix: &str, number: u32) -> String {
    format!("{prefix}{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop<'a>(id: u64, name: &'a str, chosen: Option<&'a str>) -> ShopName<'a> {
        ShopName {
            id: ShopId(id),
            name,
            chosen,
        }
    }

    #[test]
    fn first_letters_by_default() {
        let p = assign(&[
            shop(1, "Bubble Lab", None),
            shop(2, "Dumpling House", None),
            shop(3, "Fresh Press", None),
        ]);
        assert_eq!(p[&ShopId(1)], "B");
        assert_eq!(p[&ShopId(2)], "D");
        assert_eq!(p[&ShopId(3)], "F");
        assert_eq!(call(&p[&ShopId(2)], 4), "D4");
    }

    #[test]
    fn collisions_take_initials_then_letters_and_never_move_earlier_shops() {
        let shops = [
            shop(1, "Bubble Lab", None),
            shop(2, "Burger Bar", None),
            shop(3, "Bao", None),
            shop(4, "Bb", None),
        ];
        let p = assign(&shops);
        assert_eq!(p[&ShopId(1)], "B");
        assert_eq!(p[&ShopId(2)], "BB");
        assert_eq!(p[&ShopId(3)], "BA");
        assert_eq!(p[&ShopId(4)], "BC");
        // A shop registered later changes nothing for the earlier ones.
        let mut more = shops.to_vec();
        more.push(shop(5, "Bistro", None));
        let q = assign(&more);
        for id in 1..=4 {
            assert_eq!(p[&ShopId(id)], q[&ShopId(id)]);
        }
        let unique: BTreeSet<&String> = q.values().collect();
        assert_eq!(unique.len(), q.len());
    }

    #[test]
    fn a_chosen_prefix_wins_and_others_avoid_it() {
        let p = assign(&[shop(1, "Bubble Lab", None), shop(2, "Dumplings", Some("B"))]);
        assert_eq!(p[&ShopId(2)], "B");
        assert_eq!(p[&ShopId(1)], "BL");
    }

    #[test]
    fn names_without_latin_letters_still_get_one() {
        let p = assign(&[shop(1, "茶", None), shop(2, "123", None)]);
        assert_eq!(p[&ShopId(1)], "A");
        assert_eq!(p[&ShopId(2)], "B");
    }

    #[test]
    fn chosen_prefixes_are_letters_only() {
        assert_eq!(check_prefix("bL"), Ok("BL".to_owned()));
        for bad in ["", "B1", "ABCD", "Ä", "B-", " B"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
