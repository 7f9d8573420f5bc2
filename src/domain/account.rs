//! Accounts of people who log in: shopkeepers and admins (guests need no
//! account; they are known by their device).

use serde::{Deserialize, Serialize};

use super::{ShopId, Timestamp, UserId};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A guest with an optional account (order history across devices).
    Guest,
    /// Runs one shop.
    Shopkeeper,
    /// Runs the venue.
    Admin,
}

/// A user account. The password is stored only as an argon2id PHC string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login name, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The shop a shopkeeper runs.
    pub shop: Option<ShopId>,
    /// When the account was made.
    pub created_at: Timestamp,
}

/// A logged-in session; the store keys it by a hash of the cookie token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSession {
    /// Who is logged in.
    pub user: UserId,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Normalises an email address for lookups, and checks its shape (the
/// rule in [`super::text::check_email`]).
pub fn normalize_email(email: &str) -> Result<String, &'static str> {
    super::text::check_email(email)
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted.
pub const MAX_PASSWORD: usize = 1024;

/// Checks a new password's length (the hash does the rest).
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err("the password must have at least 8 characters");
    }
    if n > MAX_PASSWORD {
        return Err("the password must have at most 1024 characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Ana@Example.ORG "),
            Ok("ana@example.org".into())
        );
        assert!(normalize_email("ana").is_err());
        assert!(normalize_email("@x").is_err());
        assert!(normalize_email("a b@x").is_err());
        assert!(normalize_email("a@b@c").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
