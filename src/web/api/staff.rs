//! Staff logins: the shop's owner adds and removes further logins for the
//! shop; the operator resets a shopkeeper's password to a one-time
//! password that they hand over (a router sends no e-mail).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schemas;
use crate::domain::UserId;
use crate::domain::account::{Role, User, check_password};
use crate::store::{NewUser, catalog, staff};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody};
use crate::web::extract::{Admin, ApiJson, ApiPath, Shopkeeper};

/// One login of a shop.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffDto {
    pub user_id: u64,
    pub email: String,
    pub name: String,
    /// The login that registered the shop.
    pub owner: bool,
}

fn dto(u: &User, owner: UserId) -> StaffDto {
    StaffDto {
        user_id: u.id.0,
        email: u.email.clone(),
        name: u.name.clone(),
        owner: u.id == owner,
    }
}

/// Refuses anyone but the shop's owner.
async fn owner_only(state: &AppState, k: &Shopkeeper) -> ApiResult<UserId> {
    let shop = k.shop;
    let owner = state
        .store
        .read(move |r| Ok(catalog::shop(r, shop)?.owner))
        .await?;
    if owner == k.user.id {
        Ok(owner)
    } else {
        Err(ApiError::forbidden(
            "only the shop's owner adds or removes staff logins",
        ))
    }
}

/// The shop's logins.
#[utoipa::path(get, path = "/api/shop/staff", tag = "shop",
    responses((status = 200, body = [StaffDto]), (status = 401, body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<AppState>,
    k: Shopkeeper,
) -> ApiResult<Json<Vec<StaffDto>>> {
    let shop = k.shop;
    let (owner, users) = state
        .store
        .read(move |r| Ok((catalog::shop(r, shop)?.owner, staff::staff(r, shop)?)))
        .await?;
    Ok(Json(users.iter().map(|u| dto(u, owner)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    #[schema(schema_with = schemas::email)]
    pub email: String,
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// At least 8 characters.
    #[schema(schema_with = schemas::password)]
    pub password: String,
}

/// Adds a login for the shop (owner only).
#[utoipa::path(post, path = "/api/shop/staff", tag = "shop", request_body = NewStaffRequest,
    responses((status = 201, body = StaffDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The email has an account"), (status = 422, body = ErrorBody)))]
pub async fn add_staff(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<NewStaffRequest>,
) -> ApiResult<(StatusCode, Json<StaffDto>)> {
    let owner = owner_only(&state, &k).await?;
    check_password(&req.password).map_err(ApiError::invalid)?;
    let password_hash = state.passwords.hash(req.password).await?;
    let new = NewUser {
        email: req.email,
        name: req.name,
        role: Role::Shopkeeper,
        password_hash,
    };
    let shop = k.shop;
    let user = state
        .store
        .write(move |tx| staff::add_staff(tx, shop, new))
        .await?;
    tracing::info!(shop = %shop, user = %user.id, "staff login added");
    Ok((StatusCode::CREATED, Json(dto(&user, owner))))
}

/// Removes a staff login and ends its sessions (owner only; never the owner's).
#[utoipa::path(delete, path = "/api/shop/staff/{user_id}", tag = "shop",
    params(("user_id" = u64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The owner's login")))]
pub async fn remove_staff(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(user_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    owner_only(&state, &k).await?;
    let shop = k.shop;
    state
        .store
        .write(move |tx| staff::remove_staff(tx, shop, UserId(user_id)))
        .await?;
    tracing::info!(shop = %shop, user = user_id, "staff login removed");
    Ok(StatusCode::NO_CONTENT)
}

/// The new password, shown once to the operator.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetDto {
    pub user_id: u64,
    pub email: String,
    /// Hand this over; the shopkeeper logs in with it. It is not stored in clear.
    pub one_time_password: String,
}

/// Characters of generated passwords: no look-alikes.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKMNPQRTUVWXY34679";

/// Resets a shopkeeper's password to a new random one and logs them out everywhere.
#[utoipa::path(post, path = "/api/admin/users/{user_id}/password-reset", tag = "admin",
    params(("user_id" = u64, Path)),
    responses((status = 200, body = PasswordResetDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(user_id): ApiPath<u64>,
) -> ApiResult<Json<PasswordResetDto>> {
    let mut random = [0u8; 14];
    getrandom::fill(&mut random).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let password: String = random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    let hash = state.passwords.hash(password.clone()).await?;
    let user = state
        .store
        .write(move |tx| staff::reset_password(tx, UserId(user_id), hash))
        .await?;
    tracing::info!(user = user_id, "password reset by the operator");
    Ok(Json(PasswordResetDto {
        user_id,
        email: user.email,
        one_time_password: password,
    }))
}
