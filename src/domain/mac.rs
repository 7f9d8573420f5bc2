//! MAC addresses: parsed from any common spelling, shown as lowercase
//! `aa:bb:cc:dd:ee:ff` (the form nft and the kernel print).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Not a real client: all zero, broadcast or multicast.
    pub fn is_unicast(self) -> bool {
        self.0 != [0; 6] && self.0[0] & 1 == 0
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Text that is not a MAC address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (like aa:bb:cc:dd:ee:ff)")]
pub struct MacError(pub String);

impl FromStr for Mac {
    type Err = MacError;
    /// Accepts `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF` and `aabb.ccdd.eeff`.
    fn from_str(s: &str) -> Result<Self, MacError> {
        let hex: String = s
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        let bad = || MacError(s.to_owned());
        if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
        }
        Ok(Mac(out))
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_agree() {
        let a: Mac = "AA-BB-CC-00-11-22".parse().expect("dashes");
        let b: Mac = "aabb.cc00.1122".parse().expect("dots");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "aa:bb:cc:00:11:22");
        assert!("aa:bb:cc".parse::<Mac>().is_err());
        assert!("zz:bb:cc:dd:ee:ff".parse::<Mac>().is_err());
        assert!(
            !"01:00:5e:00:00:01"
                .parse::<Mac>()
                .expect("multicast")
                .is_unicast()
        );
    }
}
