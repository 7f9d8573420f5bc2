//! The interface's languages: which one a guest reads, the text in it, and
//! how numbers, prices and times are written in it.
//!
//! Text lives in `locales/*.yml` (rust-i18n's `_version: 2` files, split by
//! area, each key with its English and German side by side) and is compiled
//! into the binary by `rust_i18n::i18n!` in `lib.rs`; nothing is read at run
//! time. A key missing in German falls back to English; the tests below
//! check that none is missing. Keys under `js.` are the ones the page
//! scripts read ([`Lang::script_strings`]). See `docs/TRANSLATING.md`.
//!
//! Who reads which language: a `lang` cookie (set by the page's switch)
//! wins, then the browser's `Accept-Language` (RFC 9110 §12.5.4, by
//! q-value), then the venue's default ([`Lang::negotiate`]). This module
//! knows no HTTP types; `web` hands it the header texts.
//!
//! Amounts stay integer minor units; the currency (the venue's, never the
//! language's) decides the digits and the symbol, the language only where
//! they go and which marks separate them.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::domain::Cents;
use crate::domain::currency::Currency;
use crate::domain::shop::Refusal;

/// A language of the interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default, and the fallback of a missing key).
    #[default]
    En,
    /// German.
    De,
}

/// The value is not a language the interface speaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: use en (English) or de (German)")]
pub struct UnknownLang(pub String);

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Lang {
    type Err = UnknownLang;
    /// Exactly a code the interface speaks, any case (`en`, `DE`); a
    /// region (`de-AT`) only through [`Lang::of_tag`].
    fn from_str(s: &str) -> Result<Self, UnknownLang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLang(s.to_owned()))
    }
}

impl Lang {
    /// Every language, in the switch's order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 code, as `<html lang>` and the locale files name it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// The language of a BCP 47 tag by its primary subtag (`de-AT` and
    /// `DE` are German), if the interface speaks it.
    /// A tag that is not one (`en-`, `de--x`, `d e`) names nothing.
    pub fn of_tag(tag: &str) -> Option<Lang> {
        let mut subtags = tag.trim().split(['-', '_']);
        let primary = subtags.next().unwrap_or_default();
        let well_formed =
            |s: &str| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed(primary) || !subtags.all(well_formed) {
            return None;
        }
        primary.parse().ok()
    }

    /// The text of `key` in this language (English where German lacks it;
    /// the key itself, prefixed, where both do: a test keeps that from
    /// shipping).
    pub fn t(self, key: &str) -> Cow<'static, str> {
        match crate::_rust_i18n_try_translate(self.code(), key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, lang = self.code(), "missing translation");
                Cow::Owned(format!("{}.{key}", self.code()))
            }
        }
    }

    /// The text of `key` with each `%{name}` replaced by its value.
    pub fn t_with(self, key: &str, args: &[(&str, &dyn fmt::Display)]) -> String {
        let mut text = self.t(key).into_owned();
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), &value.to_string());
        }
        text
    }

    /// Who reads which language: the switch's cookie, else the best of
    /// `Accept-Language` the interface speaks, else the venue's default.
    pub fn negotiate(cookie: Option<&str>, accept: Option<&str>, default: Lang) -> Lang {
        cookie
            .and_then(|c| c.parse().ok())
            .or_else(|| accept.and_then(|a| Lang::accepted(a, default)))
            .unwrap_or(default)
    }

    /// The language `Accept-Language` prefers most among those spoken
    /// (`*` stands for the default); `None` when it names none of them.
    /// Entries that do not parse are skipped, and `q=0` means "not this".
    pub fn accepted(header: &str, default: Lang) -> Option<Lang> {
        let mut ranked: Vec<(u16, Lang)> = header
            .split(',')
            .filter_map(|entry| {
                let mut parts = entry.split(';').map(str::trim);
                let tag = parts.next().filter(|t| !t.is_empty())?;
                let q = match parts.find_map(|p| p.strip_prefix("q=").or(p.strip_prefix("Q="))) {
                    Some(q) => quality(q)?,
                    None => 1000,
                };
                let lang = if tag == "*" {
                    default
                } else {
                    Lang::of_tag(tag)?
                };
                (q > 0).then_some((q, lang))
            })
            .collect();
        // Stable: among equal q-values the header's order decides.
        ranked.sort_by_key(|&(q, _)| std::cmp::Reverse(q));
        ranked.first().map(|&(_, lang)| lang)
    }

    /// Why a shop takes no orders now, in this language.
    pub fn refusal(self, r: &Refusal) -> String {
        match r {
            Refusal::NotApproved { shop } => {
                self.t_with("common.refusal.not_approved", &[("shop", shop)])
            }
            Refusal::Paused { shop } => self.t_with("common.refusal.paused", &[("shop", shop)]),
            Refusal::Closed { shop } => self.t_with("common.refusal.closed", &[("shop", shop)]),
            Refusal::Busy { shop, open } => {
                self.t_with("common.refusal.busy", &[("shop", shop), ("open", open)])
            }
        }
    }

    /// An allergen's name (EU 1169/2011 Annex II) by its key; an unknown
    /// key as it is.
    pub fn allergen(self, key: &str) -> String {
        if crate::domain::allergen::keys().any(|k| k == key) {
            self.t(&format!("common.allergen.{key}")).into_owned()
        } else {
            key.to_owned()
        }
    }

    /// The decimal mark.
    fn decimal(self) -> char {
        match self {
            Lang::En => '.',
            Lang::De => ',',
        }
    }

    /// The mark between groups of three digits.
    fn group(self) -> char {
        match self {
            Lang::En => ',',
            Lang::De => '.',
        }
    }

    /// A whole number (`1,234` / `1.234`).
    pub fn number(self, n: u64) -> String {
        let digits = n.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.group());
            }
            out.push(ch);
        }
        out
    }

    /// An amount without a symbol, in the currency's minor digits
    /// (`1,234.50` / `1.234,50`; `450`; `1.250` / `1,250`).
    pub fn amount(self, currency: Currency, amount: Cents) -> String {
        let scale = 10u64.pow(u32::from(currency.digits));
        let whole = self.number(amount.0 / scale);
        if currency.digits == 0 {
            return whole;
        }
        format!(
            "{whole}{}{:0width$}",
            self.decimal(),
            amount.0 % scale,
            width = usize::from(currency.digits)
        )
    }

    /// A price for people: English puts the symbol first (`€1,234.50`,
    /// `KD 1.250`), German after the amount with a no-break space
    /// (`1.234,50 €`, `1,250 KD`).
    pub fn money(self, currency: Currency, amount: Cents) -> String {
        let number = self.amount(currency, amount);
        match self {
            Lang::En => format!("{}{number}", currency.symbol),
            Lang::De => format!("{number}\u{a0}{}", currency.symbol.trim_end()),
        }
    }

    /// A price change (`+€0.80`, `−0,50 €`), as options show it.
    pub fn money_delta(self, currency: Currency, delta: i64) -> String {
        let sign = if delta < 0 { '−' } else { '+' };
        format!(
            "{sign}{}",
            self.money(currency, Cents(delta.unsigned_abs()))
        )
    }

    /// A time of day from minutes after midnight: `9:05 am`, `12:30 pm` in
    /// English (as British and American menus write it), `09:05`, `12:30`
    /// in German.
    pub fn clock(self, minutes: u32) -> String {
        let (h, m) = ((minutes / 60) % 24, minutes % 60);
        match self {
            Lang::En => {
                let half = if h < 12 { "am" } else { "pm" };
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                format!("{h12}:{m:02} {half}")
            }
            Lang::De => format!("{h:02}:{m:02}"),
        }
    }

    /// Every key under `js.` in this language, and the number format, as
    /// one JSON object for the page scripts, escaped for a `<script>`
    /// element: no `<`, `>` or `&` appears raw, so no text can close the
    /// element (`</script>`) or open a comment (`<!--`).
    pub fn script_strings(self, currency: Currency) -> String {
        // The words are the same for every page of a language: made once.
        static WORDS: [OnceLock<serde_json::Map<String, serde_json::Value>>; 2] =
            [OnceLock::new(), OnceLock::new()];
        let words = WORDS[self as usize].get_or_init(|| {
            self.keys_under("js.")
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect()
        });
        let mut map = words.clone();
        map.insert(
            "_money".into(),
            serde_json::json!({
                "symbol": currency.symbol.trim_end(),
                "digits": currency.digits,
                "decimal": self.decimal().to_string(),
                "group": self.group().to_string(),
                "after": self == Lang::De,
                "space": self == Lang::De || currency.symbol.ends_with(' '),
            }),
        );
        script_safe(&serde_json::Value::Object(map).to_string())
    }

    /// `(key without prefix, text)` for every key that starts with `prefix`.
    fn keys_under(self, prefix: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = all_keys()
            .into_iter()
            .filter_map(|k| {
                let short = k.strip_prefix(prefix)?.to_owned();
                Some((short, self.t(&k).into_owned()))
            })
            .collect();
        out.sort();
        out
    }
}

/// Every key of every language (the union; the English set in practice).
pub fn all_keys() -> Vec<String> {
    let backend = crate::_rust_i18n_backend();
    let mut keys: Vec<String> = Lang::ALL
        .iter()
        .flat_map(|l| backend.messages_for_locale(l.code()).unwrap_or_default())
        .map(|(k, _)| k.into_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A q-value (RFC 9110 §12.4.2: `0` to `1`, at most three decimals) in
/// thousandths; `None` for anything else.
fn quality(q: &str) -> Option<u16> {
    let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// JSON made safe inside a `<script>` element: `<`, `>`, `&` and the two
/// JavaScript line separators as `\u` escapes (still the same JSON).
pub fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().expect("known currency")
    }

    #[test]
    fn accept_language_is_read_by_q_value() {
        let de = Some(Lang::De);
        let en = Some(Lang::En);
        assert_eq!(Lang::accepted("de", Lang::En), de);
        assert_eq!(Lang::accepted("de-AT", Lang::En), de, "a region");
        assert_eq!(Lang::accepted("de_CH", Lang::En), de);
        assert_eq!(Lang::accepted("DE-de", Lang::En), de, "any case");
        assert_eq!(Lang::accepted("fr, de;q=0.5, en;q=0.4", Lang::En), de);
        assert_eq!(Lang::accepted("en;q=0.5, de;q=0.9", Lang::En), de);
        assert_eq!(
            Lang::accepted("en;q=0.9, de;q=0.9", Lang::De),
            en,
            "order breaks ties"
        );
        assert_eq!(
            Lang::accepted("de;q=0, en", Lang::De),
            en,
            "q=0 is a refusal"
        );
        assert_eq!(Lang::accepted("de;q=0", Lang::En), None);
        assert_eq!(Lang::accepted("*", Lang::De), de, "any: the venue's");
        assert_eq!(Lang::accepted("fr, *;q=0.1", Lang::De), de);
        assert_eq!(Lang::accepted("fr-FR, ja", Lang::De), None);
        assert_eq!(
            Lang::accepted("de ; q=0.7 , en ; q=0.8", Lang::De),
            en,
            "spaces"
        );
        assert_eq!(
            Lang::accepted("de-AT, en;q=0.8", Lang::En),
            de,
            "a browser's own"
        );
    }

    #[test]
    fn garbage_accept_language_is_skipped() {
        for junk in [
            "",
            ",,,",
            ";q=1",
            "de;q=2",
            "de;q=0.5555",
            "de;q=-1",
            "de;q=abc",
            "\u{0}",
            "en-;;;q",
            "deutsch",
            "ende",
        ] {
            assert_eq!(Lang::accepted(junk, Lang::En), None, "{junk:?}");
        }
        assert_eq!(
            Lang::accepted("de;q=abc, en;q=0.1", Lang::De),
            Some(Lang::En),
            "the broken entry only is skipped"
        );
    }

    #[test]
    fn the_cookie_beats_the_browser_and_the_browser_beats_the_venue() {
        assert_eq!(Lang::negotiate(Some("en"), Some("de"), Lang::De), Lang::En);
        assert_eq!(Lang::negotiate(Some("de"), Some("en"), Lang::En), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("de-AT"), Lang::En), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("fr"), Lang::De), Lang::De);
        assert_eq!(Lang::negotiate(None, None, Lang::De), Lang::De);
        assert_eq!(
            Lang::negotiate(Some("xx"), Some("de"), Lang::En),
            Lang::De,
            "a cookie that is not a language is ignored"
        );
    }

    #[test]
    fn a_language_setting_is_exactly_en_or_de() {
        assert_eq!("de".parse::<Lang>(), Ok(Lang::De));
        assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
        let err = "fr".parse::<Lang>().expect_err("not spoken");
        assert!(
            err.to_string().contains("en (English) or de (German)"),
            "{err}"
        );
        assert!(
            "de-AT".parse::<Lang>().is_err(),
            "a setting names the language only"
        );
    }

    #[test]
    fn prices_follow_the_language_and_the_currency_its_digits() {
        let eur = cur("EUR");
        assert_eq!(Lang::En.money(eur, Cents(123_450)), "€1,234.50");
        assert_eq!(Lang::De.money(eur, Cents(123_450)), "1.234,50\u{a0}€");
        assert_eq!(Lang::En.money(eur, Cents(350)), "€3.50");
        assert_eq!(Lang::De.money(eur, Cents(350)), "3,50\u{a0}€");
        assert_eq!(Lang::De.money(eur, Cents(5)), "0,05\u{a0}€");
        let jpy = cur("JPY");
        assert_eq!(Lang::En.money(jpy, Cents(1_200)), "¥1,200");
        assert_eq!(Lang::De.money(jpy, Cents(1_200)), "1.200\u{a0}¥");
        assert_eq!(Lang::En.money(jpy, Cents(450)), "¥450");
        let kwd = cur("KWD");
        assert_eq!(Lang::En.money(kwd, Cents(1_250)), "KD 1.250");
        assert_eq!(Lang::De.money(kwd, Cents(1_250)), "1,250\u{a0}KD");
        assert_eq!(Lang::En.money(kwd, Cents(1_234_500)), "KD 1,234.500");
        assert_eq!(Lang::De.money(kwd, Cents(1_234_500)), "1.234,500\u{a0}KD");
    }

    #[test]
    fn numbers_and_times_follow_the_language() {
        assert_eq!(Lang::En.number(0), "0");
        assert_eq!(Lang::En.number(999), "999");
        assert_eq!(Lang::En.number(1_000), "1,000");
        assert_eq!(Lang::De.number(1_234_567), "1.234.567");
        assert_eq!(Lang::En.clock(0), "12:00 am");
        assert_eq!(Lang::En.clock(9 * 60 + 5), "9:05 am");
        assert_eq!(Lang::En.clock(12 * 60 + 30), "12:30 pm");
        assert_eq!(Lang::En.clock(23 * 60 + 59), "11:59 pm");
        assert_eq!(Lang::De.clock(9 * 60 + 5), "09:05");
        assert_eq!(Lang::De.clock(12 * 60 + 30), "12:30");
        assert_eq!(Lang::De.clock(0), "00:00");
    }

    #[test]
    fn every_key_is_in_both_languages() {
        let backend = crate::_rust_i18n_backend();
        let keys = all_keys();
        assert!(
            keys.len() > 20,
            "the locale files are compiled in: {keys:?}"
        );
        let mut missing = Vec::new();
        for lang in Lang::ALL {
            for key in &keys {
                if backend
                    .translate(lang.code(), key)
                    .is_none_or(|t| t.trim().is_empty())
                {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys without text: {missing:#?}");
    }

    #[test]
    fn interpolation_fills_every_name() {
        let text = Lang::En.t_with("common.switch.label", &[]);
        assert!(!text.contains("%{"), "{text}");
        for lang in Lang::ALL {
            for key in all_keys() {
                let text = lang.t(&key);
                // Every `%{` is closed by a plain name.
                for part in text.split("%{").skip(1) {
                    let name = part.split('}').next().unwrap_or_default();
                    assert!(
                        part.contains('}')
                            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                        "{lang} {key}: {text}"
                    );
                }
            }
        }
        assert_eq!(
            Lang::De.t_with("common.error.go_back", &[]),
            Lang::De.t("common.error.go_back")
        );
    }

    #[test]
    fn script_strings_cannot_close_their_element() {
        let json = script_safe(r#"{"a":"</script><script>alert(1)</script><!-- & \u2028"}"#);
        assert!(
            !json.contains('<') && !json.contains('>') && !json.contains('&'),
            "{json}"
        );
        assert!(!json.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(
            back["a"],
            "</script><script>alert(1)</script><!-- & \u{2028}"
        );
        for lang in Lang::ALL {
            let s = lang.script_strings(cur("EUR"));
            assert!(!s.contains('<') && !s.contains('>'), "{s}");
            let v: serde_json::Value = serde_json::from_str(&s).expect("JSON");
            assert!(v["_money"]["digits"] == 2, "{v}");
        }
        let de: serde_json::Value =
            serde_json::from_str(&Lang::De.script_strings(cur("EUR"))).expect("JSON");
        assert_eq!(de["_money"]["decimal"], ",");
    }
}
