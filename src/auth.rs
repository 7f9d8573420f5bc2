//! Passwords and session tokens.
//!
//! Passwords are hashed with argon2id at m = 12 MiB, t = 3, p = 1 (one of
//! OWASP's recommended settings, chosen over 19 MiB/t = 2 because routers
//! have 128–256 MB of RAM); at most two hashes run at once, on the blocking
//! pool, so a burst of logins cannot exhaust memory or stall the runtime.
//! Session tokens are 128 random bits; the store keeps only their
//! BLAKE2b-256 hash, so a copy of the database logs nobody in.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use blake2::{Blake2b256, Digest};
use tokio::sync::Semaphore;

use crate::domain::Token;

/// Memory cost in KiB.
const M_COST: u32 = 12 * 1024;
/// Iterations.
const T_COST: u32 = 3;
/// Lanes.
const P_COST: u32 = 1;
/// Hashes allowed to run at once.
const CONCURRENT_HASHES: usize = 2;

/// What can go wrong while hashing.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The hash could not be computed (bad parameters, no randomness).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The blocking task died.
    #[error("password hashing task failed")]
    Task,
}

fn argon2() -> Result<Argon2<'static>, AuthError> {
    let params =
        Params::new(M_COST, T_COST, P_COST, None).map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to a PHC string (blocking; prefer [`Passwords::hash`]).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let hash = argon2()?
        .hash_password(password.as_bytes())
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string (blocking).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A PHC string that never matches, verified when the email is unknown so
/// that a login takes as long whether or not the account exists.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

/// Hashing on the blocking pool, at most `CONCURRENT_HASHES` (2) at a time.
#[derive(Clone, Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
        }
    }
}

impl Passwords {
    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        let _permit = self.permits.acquire().await.map_err(|_| AuthError::Task)?;
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|_| AuthError::Task)?
    }

    /// Checks a password; with `None` (unknown account) it spends the same
    /// time and answers false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AuthError> {
        let _permit = self.permits.acquire().await.map_err(|_| AuthError::Task)?;
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                verify_password(&password, dummy_hash());
                false
            }
        })
        .await
        .map_err(|_| AuthError::Task)
    }
}

/// The stored form of a session token.
pub fn token_hash(token: &Token) -> [u8; 32] {
    Blake2b256::digest(token.0).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_reject() {
        let phc = hash_password("correct horse").expect("hashes");
        assert!(phc.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn token_hashes_differ_per_token() {
        let a = Token([1; 16]);
        let b = Token([2; 16]);
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
