//! Identifier newtypes. Numeric ids are allocated by the store; guest ids and
//! tokens are random and unguessable (128 bits from the OS generator).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! numeric_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

numeric_id!(
    /// A registered user (shopkeeper or admin).
    UserId,
    /// A shop (stall) of the venue.
    ShopId,
    /// A menu category of one shop.
    CategoryId,
    /// A menu item of one shop.
    ItemId,
    /// An ingredient of one shop, with its own stock.
    IngredientId,
    /// One order: the part of a checkout that belongs to one shop.
    OrderId,
    /// A stored notification for a guest.
    NotificationId,
    /// An order session (a table) opened by a shop.
    SessionId,
    /// A group of item options of one shop ("Sugar level").
    OptionGroupId,
    /// One option of a group ("50 %", "Tapioca pearls").
    OptionId,
);

/// 128 random bits, shown as 32 lowercase hex digits. Used for guest device
/// ids, order status links, login sessions and table codes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Token(pub [u8; 16]);

impl Token {
    /// A fresh random token. Fails only if the OS has no entropy source.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Token {
    // Tokens are secrets: never print them whole in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// The text is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid token (expected 32 hex digits)")]
pub struct BadToken;

impl FromStr for Token {
    type Err = BadToken;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 32 {
            return Err(BadToken);
        }
        let mut out = [0u8; 16];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(BadToken)?;
            let lo = hex_val(pair[1]).ok_or(BadToken)?;
            out[i] = hi << 4 | lo;
        }
        Ok(Self(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A guest's device: the random id kept in the device cookie.
pub type GuestId = Token;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_through_text() {
        let t = Token::random().expect("entropy");
        let back: Token = t.to_string().parse().expect("parses");
        assert_eq!(t, back);
        assert_eq!(t.to_string().len(), 32);
    }

    #[test]
    fn token_rejects_bad_text() {
        assert_eq!("xyz".parse::<Token>(), Err(BadToken));
        assert_eq!("g".repeat(32).parse::<Token>(), Err(BadToken));
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = Token([0xab; 16]);
        assert_eq!(format!("{t:?}"), "Token(abab…)");
    }
}
