//! The one rule for text people type: names, free text and e-mail
//! addresses, checked the same way in every form and API field, and the
//! same rule written as a regular expression for the OpenAPI document.
//!
//! - No control characters (Unicode `Cc`), anywhere; free text may hold
//!   line feeds.
//! - No invisible or direction-changing characters (zero-width spaces and
//!   joiners, bidi overrides and isolates, soft hyphens, byte-order marks,
//!   line and paragraph separators): they make one name look like another
//!   or reorder what the next reader sees. Free text keeps the zero-width
//!   joiner and non-joiner (emoji sequences and some scripts need them).
//! - Lengths count characters as sent, before trimming, so a client is
//!   refused for what it sent, not for what was left after.
//! - Names must hold something besides white space; surrounding white space
//!   is trimmed.
//! - E-mail addresses are printable ASCII, one `@`, no spaces: look-alikes
//!   (fullwidth letters, Cyrillic, zero-width characters) cannot pass as
//!   another shopkeeper's address.

/// Control characters (`Cc`).
const CONTROL: &[(char, char)] = &[('\u{0}', '\u{1f}'), ('\u{7f}', '\u{9f}')];

/// Invisible and direction-changing characters refused in names (format
/// characters of the Basic Multilingual Plane, and the line and paragraph
/// separators).
const INVISIBLE: &[(char, char)] = &[
    ('\u{ad}', '\u{ad}'),
    ('\u{600}', '\u{605}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{6dd}', '\u{6dd}'),
    ('\u{70f}', '\u{70f}'),
    ('\u{890}', '\u{891}'),
    ('\u{8e2}', '\u{8e2}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
];

/// Of [`INVISIBLE`], what free text may keep: the zero-width non-joiner
/// and joiner.
const TEXT_KEEPS: (char, char) = ('\u{200c}', '\u{200d}');

/// White space (Unicode `White_Space`, less the controls above).
const SPACE: &[(char, char)] = &[
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

fn within(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

fn refused_in_name(c: char) -> bool {
    within(c, CONTROL) || within(c, INVISIBLE)
}

fn refused_in_text(c: char) -> bool {
    c != '\n' && (within(c, CONTROL) || (within(c, INVISIBLE) && !within(c, &[TEXT_KEEPS])))
}

fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Checks a name (a shop, an item, a person, a label): 1 to `max`
/// characters, something besides white space, nothing invisible. Returns
/// it trimmed.
pub fn check_name(field: &str, name: &str, max: usize) -> Result<String, String> {
    if name.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    if let Some(c) = name.chars().find(|&c| refused_in_name(c)) {
        return Err(format!(
            "{field} must not contain control or invisible characters (found {})",
            describe(c)
        ));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    Ok(name.to_owned())
}

/// How two names are compared for sameness: Unicode compatibility
/// normalisation (NFKC: fullwidth letters, ligatures and other variants
/// become their plain forms), lower case, and runs of white space as one
/// space. "Bubble Lab", "ＢＵＢＢＬＥ  lab" and "bubble lab" have one key.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name.nfkc().flat_map(char::to_lowercase).collect();
    let folded: String = folded.nfkc().collect();
    folded
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .replace('ß', "ss")
}

/// Checks free text (a note, a description, a reason): at most `max`
/// characters, line feeds allowed, no other control character, no
/// direction override. Returns it trimmed.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<String, String> {
    if text.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    if let Some(c) = text.chars().find(|&c| refused_in_text(c)) {
        return Err(format!(
            "{field} must not contain control or invisible characters (found {})",
            describe(c)
        ));
    }
    Ok(text.trim().to_owned())
}

/// Checks an e-mail address and returns it as it is compared: trimmed and
/// lower-case.
pub fn check_email(email: &str) -> Result<String, &'static str> {
    const SHAPE: &str = "enter an email address like name@example.org (ASCII letters only)";
    if email.chars().count() > MAX_EMAIL {
        return Err(SHAPE);
    }
    let email = email.trim_matches(' ');
    let part_ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_graphic() && c != '@');
    match email.split_once('@') {
        Some((user, host)) if part_ok(user) && part_ok(host) => Ok(email.to_ascii_lowercase()),
        _ => Err(SHAPE),
    }
}

/// The name rule as a regular expression (ECMA 262 and Python alike).
pub fn name_pattern() -> String {
    let refused = class(&[CONTROL, INVISIBLE].concat());
    let with_space = class(&[CONTROL, INVISIBLE, SPACE].concat());
    format!("^[^{refused}]*[^{with_space}][^{refused}]*$")
}

/// The free-text rule as a regular expression.
pub fn text_pattern() -> String {
    let mut refused: Vec<(char, char)> = vec![('\u{0}', '\u{9}'), ('\u{b}', '\u{1f}')];
    refused.push(('\u{7f}', '\u{9f}'));
    for &(lo, hi) in INVISIBLE {
        if (lo, hi) == ('\u{200b}', '\u{200f}') {
            refused.extend([('\u{200b}', '\u{200b}'), ('\u{200e}', '\u{200f}')]);
        } else {
            refused.push((lo, hi));
        }
    }
    format!("^[^{}]*$", class(&refused))
}

/// The e-mail rule as a regular expression.
pub fn email_pattern() -> String {
    "^ *[!-?A-~]+@[!-?A-~]+ *$".to_owned()
}

fn class(ranges: &[(char, char)]) -> String {
    let esc = |c: char| format!("\\u{:04x}", u32::from(c));
    ranges
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                esc(lo)
            } else {
                format!("{}-{}", esc(lo), esc(hi))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn names_that_look_the_same_have_one_key() {
        let key = name_key("Bubble Lab");
        for same in [
            "bubble lab",
            "BUBBLE  LAB",
            "ＢＵＢＢＬＥ Ｌａｂ",
            " Bubble\u{3000}Lab ",
        ] {
            assert_eq!(name_key(same), key, "{same:?}");
        }
        assert_eq!(name_key("Straße"), name_key("STRASSE"));
        assert_eq!(name_key("ﬁsh"), name_key("fish"), "ligatures");
        assert_ne!(name_key("Bubble Lab"), name_key("Bubble Lab 2"));
        assert_ne!(name_key("Bubble Lab"), name_key("Bubbles Lab"));
    }
    use super::*;

    #[test]
    fn names_refuse_what_hides_or_reorders() {
        assert_eq!(
            check_name("name", "  Bubble Lab ", 80),
            Ok("Bubble Lab".into())
        );
        for bad in [
            "Bubble\u{200b}Lab",
            "Lab\u{202e}",
            "a\tb",
            "x\u{0}",
            "\u{feff}Tea",
        ] {
            assert!(check_name("name", bad, 80).is_err(), "{bad:?}");
        }
        assert!(check_name("name", "   ", 80).is_err());
        assert!(check_name("name", "\u{3000}", 80).is_err());
        assert!(check_name("name", &"x".repeat(81), 80).is_err());
        assert!(check_name("name", &format!("{} ", "x".repeat(80)), 80).is_err());
    }

    #[test]
    fn text_keeps_line_feeds_and_joiners() {
        assert_eq!(
            check_text("note", "no ice\nthanks ", 500),
            Ok("no ice\nthanks".into())
        );
        assert!(check_text("note", "👩\u{200d}🍳", 500).is_ok());
        for bad in ["a\rb", "\u{1b}[2J", "x\u{0}", "abc\u{202e}def", "\t"] {
            assert!(check_text("reason", bad, 500).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_plain_ascii() {
        assert_eq!(
            check_email(" Tea@Demo.Queueless"),
            Ok("tea@demo.queueless".into())
        );
        for bad in [
            "tea\u{200b}@demo.queueless",
            "ｔｅａ@demo.queueless",
            "tеa@demo.queueless",
            "tea@@x",
            "tea",
            "a b@x",
            "@x",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patterns_are_well_formed_classes() {
        let name = name_pattern();
        assert!(
            name.starts_with("^[^\\u0000-\\u001f\\u007f-\\u009f\\u00ad"),
            "{name}"
        );
        assert!(text_pattern().contains("\\u0000-\\u0009\\u000b-\\u001f"));
        assert!(!text_pattern().contains("\\u200d"), "text keeps the joiner");
    }
}
