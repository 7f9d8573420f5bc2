//! Staff logins of a shop beside its owner's, and the operator's password
//! reset. Removing a login or resetting its password also ends its live
//! sessions, so a former employee's tablet is logged out at once.

use super::accounts::{NewUser, create_user};
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::account::{LoginSession, Role, User};
use crate::domain::{ShopId, UserId};

/// The shop's logins, owner first.
pub fn staff(v: &impl View, shop: ShopId) -> Result<Vec<User>, StoreError> {
    let owner = super::catalog::shop(v, shop)?.owner;
    let mut users: Vec<User> = v
        .all::<u64, User>(ID_TO_USER)?
        .into_iter()
        .filter(|u| u.shop == Some(shop))
        .collect();
    users.sort_by_key(|u| (u.id != owner, u.id));
    Ok(users)
}

/// Adds a shopkeeper login to `shop` (the caller checked it is the owner's wish).
pub fn add_staff(tx: &mut Tx<'_>, shop: ShopId, new: NewUser) -> Result<User, StoreError> {
    super::catalog::shop(&**tx, shop)?;
    let mut user = create_user(
        tx,
        NewUser {
            role: Role::Shopkeeper,
            ..new
        },
    )?;
    user.shop = Some(shop);
    tx.put(ID_TO_USER, user.id.0, &user)?;
    Ok(user)
}

/// Removes one of the shop's staff logins (never the owner's) and its sessions.
pub fn remove_staff(tx: &mut Tx<'_>, shop: ShopId, user: UserId) -> Result<(), StoreError> {
    let owner = super::catalog::shop(&**tx, shop)?.owner;
    let found: User = tx
        .get::<u64, User>(ID_TO_USER, user.0)?
        .filter(|u| u.shop == Some(shop))
        .ok_or_else(|| StoreError::NotFound {
            what: "staff login".into(),
        })?;
    if found.id == owner {
        return Err(StoreError::Conflict(
            "the owner's login cannot be removed; the operator can reset its password".into(),
        ));
    }
    end_sessions(tx, user)?;
    tx.remove(EMAIL_TO_USER_ID, found.email.as_str())?;
    tx.remove(ID_TO_USER, user.0)
}

/// Replaces a shopkeeper's password (already hashed) and ends their sessions.
pub fn reset_password(
    tx: &mut Tx<'_>,
    user: UserId,
    password_hash: String,
) -> Result<User, StoreError> {
    let mut found: User = tx
        .get::<u64, User>(ID_TO_USER, user.0)?
        .filter(|u| u.role == Role::Shopkeeper)
        .ok_or_else(|| StoreError::NotFound {
            what: "shopkeeper".into(),
        })?;
    found.password_hash = password_hash;
    end_sessions(tx, user)?;
    tx.put(ID_TO_USER, user.0, &found)?;
    Ok(found)
}

/// Ends every login session of `user`.
fn end_sessions(tx: &mut Tx<'_>, user: UserId) -> Result<(), StoreError> {
    let theirs: Vec<[u8; 32]> = {
        let table = tx.open_table(TOKEN_HASH_TO_LOGIN)?;
        let mut out = Vec::new();
        for entry in redb::ReadableTable::iter(&table)? {
            let (k, v) = entry?;
            let session: LoginSession = decode(v.value())?;
            if session.user == user {
                out.push(k.value());
            }
        }
        out
    };
    if !theirs.is_empty() {
        tx.publish(crate::events::DomainEvent::LoginsEnded);
    }
    for k in theirs {
        tx.remove(TOKEN_HASH_TO_LOGIN, k)?;
    }
    Ok(())
}
