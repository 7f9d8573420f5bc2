//! Money as integer minor units (cents, paise, …). Never floating point;
//! every sum and product is checked, so an absurd order is refused instead
//! of wrapping around.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in minor units of the venue's currency.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub u64);

impl Cents {
    /// `self * quantity`, or `None` on overflow.
    pub fn times(self, quantity: u32) -> Option<Cents> {
        self.0.checked_mul(u64::from(quantity)).map(Cents)
    }

    /// `self + other`, or `None` on overflow.
    pub fn plus(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }
}

impl fmt::Display for Cents {
    /// Shown with two decimals (`12.50`); the currency symbol is the page's business.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Cents(250).times(3), Some(Cents(750)));
        assert_eq!(Cents(u64::MAX).times(2), None);
        assert_eq!(Cents(u64::MAX).plus(Cents(1)), None);
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Cents(1205).to_string(), "12.05");
        assert_eq!(Cents(7).to_string(), "0.07");
    }
}
