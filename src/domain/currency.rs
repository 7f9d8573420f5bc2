//! The venue's currency (ISO 4217): its code, the symbol guests read and
//! how many minor digits an amount has (EUR 2, JPY 0, KWD 3). Amounts stay
//! integer minor units everywhere; this module only turns them into text.

use std::fmt;
use std::str::FromStr;

use super::Cents;

/// A currency of ISO 4217.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Currency {
    /// The three-letter code ("EUR").
    pub code: &'static str,
    /// What people read before the amount ("€").
    pub symbol: &'static str,
    /// Digits after the decimal point (ISO 4217's "minor unit").
    pub digits: u8,
}

/// The currencies a venue may set: code, symbol, minor digits (ISO 4217).
const KNOWN: &[(&str, &str, u8)] = &[
    ("EUR", "€", 2),
    ("USD", "$", 2),
    ("GBP", "£", 2),
    ("CHF", "CHF ", 2),
    ("JPY", "¥", 0),
    ("KRW", "₩", 0),
    ("CNY", "CN¥", 2),
    ("INR", "₹", 2),
    ("SGD", "S$", 2),
    ("MYR", "RM", 2),
    ("THB", "฿", 2),
    ("IDR", "Rp", 2),
    ("VND", "₫", 0),
    ("PHP", "₱", 2),
    ("HKD", "HK$", 2),
    ("TWD", "NT$", 2),
    ("AUD", "A$", 2),
    ("NZD", "NZ$", 2),
    ("CAD", "CA$", 2),
    ("BRL", "R$", 2),
    ("MXN", "MX$", 2),
    ("ZAR", "R", 2),
    ("SEK", "kr ", 2),
    ("NOK", "kr ", 2),
    ("DKK", "kr. ", 2),
    ("PLN", "zł ", 2),
    ("CZK", "Kč ", 2),
    ("HUF", "Ft ", 2),
    ("TRY", "₺", 2),
    ("AED", "AED ", 2),
    ("SAR", "SAR ", 2),
    ("KWD", "KD ", 3),
    ("BHD", "BD ", 3),
    ("OMR", "OMR ", 3),
    ("JOD", "JD ", 3),
    ("TND", "DT ", 3),
    ("ISK", "kr ", 0),
    ("CLP", "CLP$", 0),
];

/// The code is not one of ISO 4217's currencies that queueless knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}: use an ISO 4217 code such as EUR, USD, JPY, INR or KWD")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, UnknownCurrency> {
        let code = s.trim().to_ascii_uppercase();
        KNOWN
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|&(code, symbol, digits)| Currency {
                code,
                symbol,
                digits,
            })
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency {
            code: "EUR",
            symbol: "€",
            digits: 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Currency {
    /// The amount without a symbol, with the currency's minor digits
    /// (`4.50`, `450`, `1.250`).
    pub fn number(self, amount: Cents) -> String {
        if self.digits == 0 {
            return amount.0.to_string();
        }
        let scale = 10u64.pow(u32::from(self.digits));
        format!(
            "{}.{:0width$}",
            amount.0 / scale,
            amount.0 % scale,
            width = usize::from(self.digits)
        )
    }

    /// The amount for people, with the symbol (`€4.50`, `¥450`, `KD 1.250`).
    pub fn format(self, amount: Cents) -> String {
        format!("{}{}", self.symbol, self.number(amount))
    }

    /// Reads an amount typed by a person (`4`, `4.5`, `4,50` in EUR; `450`
    /// in JPY) into minor units, at most `max`. No floating point; a sign,
    /// too many decimals or too large an amount is refused with a sentence
    /// saying why.
    pub fn parse(self, text: &str, max: u64) -> Result<Cents, String> {
        let t = text.trim();
        let example = self.number(Cents(450 * 10u64.pow(u32::from(self.digits)) / 100));
        let not = |why: &str| format!("{t:?} is not a price: {why}");
        if t.is_empty() {
            return Err(format!("give a price, like {example}"));
        }
        if t.starts_with('-') {
            return Err(not("a price cannot be negative"));
        }
        let (whole, frac) = t.split_once(['.', ',']).unwrap_or((t, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !(frac.is_empty() || digits(frac)) || t.ends_with(['.', ',']) {
            return Err(not(&format!("write it like {example}")));
        }
        let scale = 10u64.pow(u32::from(self.digits));
        let too_much = || not(&format!("the most is {}", self.number(Cents(max))));
        if frac.len() > usize::from(self.digits) {
            return Err(not(&format!(
                "give at most {} decimals ({} has {})",
                self.digits, self.code, self.digits
            )));
        }
        let whole: u64 = whole
            .parse()
            .ok()
            .filter(|w| *w <= max / scale)
            .ok_or_else(too_much)?;
        let minor: u64 = if self.digits == 0 {
            0
        } else {
            format!("{frac:0<width$}", width = usize::from(self.digits))
                .parse()
                .map_err(|_| not(&format!("write it like {example}")))?
        };
        let total = whole * scale + minor;
        if total > max {
            return Err(too_much());
        }
        Ok(Cents(total))
    }

    /// A signed price change for people (`+€0.80`, `−€0.30`).
    pub fn delta(self, delta: i64) -> String {
        let sign = if delta < 0 { "−" } else { "+" };
        format!("{sign}{}", self.format(Cents(delta.unsigned_abs())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        code.parse().expect("known")
    }

    #[test]
    fn euro_has_two_digits() {
        assert_eq!(c("EUR").format(Cents(450)), "€4.50");
        assert_eq!(c("eur").format(Cents(5)), "€0.05");
        assert_eq!(c("EUR").delta(80), "+€0.80");
        assert_eq!(c("EUR").delta(-30), "−€0.30");
    }

    #[test]
    fn yen_has_none() {
        assert_eq!(c("JPY").format(Cents(450)), "¥450");
        assert_eq!(c("JPY").number(Cents(0)), "0");
    }

    #[test]
    fn kuwaiti_dinar_has_three() {
        assert_eq!(c("KWD").format(Cents(1250)), "KD 1.250");
        assert_eq!(c("KWD").number(Cents(7)), "0.007");
    }

    #[test]
    fn typed_prices_follow_the_minor_digits() {
        assert_eq!(c("EUR").parse("4.5", 100_000), Ok(Cents(450)));
        assert_eq!(c("JPY").parse("450", 100_000), Ok(Cents(450)));
        assert!(c("JPY").parse("4.5", 100_000).is_err());
        assert_eq!(c("KWD").parse("1.25", 100_000), Ok(Cents(1250)));
        assert!(c("KWD").parse("1.2505", 100_000).is_err());
        assert!(c("EUR").parse("1000.01", 100_000).is_err());
    }

    #[test]
    fn unknown_codes_are_refused_with_the_fix() {
        let e = "EURO".parse::<Currency>().expect_err("unknown");
        assert!(e.to_string().contains("ISO 4217"));
        assert!("".parse::<Currency>().is_err());
    }
}
