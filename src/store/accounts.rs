//! Users, login sessions and shop registration. Passwords arrive here
//! already hashed (argon2id, in `crate::auth`); tokens arrive hashed too.

use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::account::{LoginSession, Role, User, normalize_email};
use crate::domain::menu::{check_name, check_text};
use crate::domain::shop::{Approval, OpeningHours, Shop};
use crate::domain::{ShopId, Timestamp, UserId};
use crate::events::DomainEvent;

/// A new account.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
}

/// Creates a user; the email must be free.
pub fn create_user(tx: &mut Tx<'_>, new: NewUser) -> Result<User, StoreError> {
    let email = normalize_email(&new.email).map_err(|e| StoreError::Invalid(e.into()))?;
    let name = check_name("name", &new.name).map_err(StoreError::Invalid)?;
    if tx.lookup(EMAIL_TO_USER_ID, email.as_str())?.is_some() {
        return Err(StoreError::Conflict(format!(
            "an account for {email} exists already; log in instead"
        )));
    }
    let id = UserId(tx.next_id("user")?);
    let user = User {
        id,
        email,
        name,
        role: new.role,
        password_hash: new.password_hash,
        shop: None,
        created_at: tx.now,
    };
    tx.put(ID_TO_USER, id.0, &user)?;
    tx.put_value(EMAIL_TO_USER_ID, user.email.as_str(), id.0)?;
    Ok(user)
}

/// Registers a shopkeeper and their shop, approved at once or pending.
pub fn register_shop(
    tx: &mut Tx<'_>,
    owner: NewUser,
    shop_name: &str,
    location: &str,
    contact: &str,
    auto_approve: bool,
) -> Result<(User, Shop), StoreError> {
    // Check the shop's fields before creating the account: nothing is
    // written unless everything is valid.
    let name = check_name("shop name", shop_name).map_err(StoreError::Invalid)?;
    let location = check_text("location", location, 120).map_err(StoreError::Invalid)?;
    let contact = check_text("contact", contact, 120).map_err(StoreError::Invalid)?;
    super::catalog::check_name_free(&**tx, &name, None)?;
    let mut user = create_user(
        tx,
        NewUser {
            role: Role::Shopkeeper,
            ..owner
        },
    )?;
    let id = ShopId(tx.next_id("shop")?);
    let shop = Shop {
        id,
        name,
        owner: user.id,
        location,
        contact,
        approval: if auto_approve {
            Approval::Approved
        } else {
            Approval::Pending
        },
        paused: false,
        hours: OpeningHours::default(),
        open_order_limit: None,
        next_number: 1,
        prep_seconds: vec![],
        created_at: tx.now,
    };
    user.shop = Some(id);
    tx.put(ID_TO_USER, user.id.0, &user)?;
    tx.put(ID_TO_SHOP, id.0, &shop)?;
    tx.publish(DomainEvent::ShopChanged { shop: id });
    Ok((user, shop))
}

/// Finds a user by email.
pub fn user_by_email(v: &impl View, email: &str) -> Result<Option<User>, StoreError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    match v.lookup(EMAIL_TO_USER_ID, email.as_str())? {
        Some(id) => v.get(ID_TO_USER, id),
        None => Ok(None),
    }
}

/// Stores a login session under the hash of its token.
pub fn create_login(
    tx: &mut Tx<'_>,
    token_hash: [u8; 32],
    session: &LoginSession,
) -> Result<(), StoreError> {
    tx.put(TOKEN_HASH_TO_LOGIN, token_hash, session)
}

/// The user of a live login session.
pub fn login_user(
    v: &impl View,
    token_hash: [u8; 32],
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let Some(session) = v.get::<[u8; 32], LoginSession>(TOKEN_HASH_TO_LOGIN, token_hash)? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        return Ok(None);
    }
    v.get(ID_TO_USER, session.user.0)
}

/// Ends a login session.
pub fn delete_login(tx: &mut Tx<'_>, token_hash: [u8; 32]) -> Result<(), StoreError> {
    tx.publish(DomainEvent::LoginsEnded);
    tx.remove(TOKEN_HASH_TO_LOGIN, token_hash)
}

/// Removes expired login sessions; returns how many.
pub fn sweep_logins(tx: &mut Tx<'_>) -> Result<usize, StoreError> {
    let now = tx.now;
    let expired: Vec<[u8; 32]> = {
        let table = tx.open_table(TOKEN_HASH_TO_LOGIN)?;
        let mut out = Vec::new();
        for entry in redb::ReadableTable::iter(&table)? {
            let (k, v) = entry?;
            let session: LoginSession = decode(v.value())?;
            if session.expires_at <= now {
                out.push(k.value());
            }
        }
        out
    };
    for k in &expired {
        tx.remove(TOKEN_HASH_TO_LOGIN, *k)?;
    }
    if !expired.is_empty() {
        tx.publish(DomainEvent::LoginsEnded);
    }
    Ok(expired.len())
}

/// Every user (for the admin's list).
pub fn users(v: &impl View) -> Result<Vec<User>, StoreError> {
    v.all(ID_TO_USER)
}
