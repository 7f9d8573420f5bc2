//! Login, logout, who am I, and shop registration. Login and registration
//! are rate-limited per client address (argon2 is deliberately slow, so
//! unlimited attempts would also be a way to exhaust the router).

use crate::web::error::Failure;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::approval_str;
use super::schemas;
use crate::auth::token_hash;
use crate::domain::Token;
use crate::domain::account::{LoginSession, Role, User, check_password};
use crate::store::{NewUser, accounts};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, Login, Peer, SESSION_COOKIE, set_cookie};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    pub user_id: u64,
    pub email: String,
    pub name: String,
    /// `shopkeeper`, `admin` or `guest`.
    pub role: String,
    pub shop_id: Option<u64>,
}

impl From<&User> for MeDto {
    fn from(u: &User) -> Self {
        let role = match u.role {
            Role::Guest => "guest",
            Role::Shopkeeper => "shopkeeper",
            Role::Admin => "admin",
        };
        Self {
            user_id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
            role: role.into(),
            shop_id: u.shop.map(|s| s.0),
        }
    }
}

fn too_many() -> ApiError {
    ApiError::new(
        Failure::TooMany,
        "too_many_attempts",
        "too many attempts from this device; wait a minute and try again",
    )
}

/// Checks a password login and opens a session: the user and the
/// `Set-Cookie` value. Shared by the API and the login page; rate-limited
/// per address, refused from the guest network.
pub(crate) async fn open_session(
    state: &AppState,
    peer: std::net::IpAddr,
    email: String,
    password: String,
) -> ApiResult<(User, axum::http::HeaderValue)> {
    if !state.web.staff_from_guest_network
        && let Some(gw) = &state.gateway
        && gw.is_guest(peer)
    {
        return Err(ApiError::forbidden(
            "staff cannot log in from the guest Wi-Fi; use the staff network",
        ));
    }
    if !state.login_limiter.check(peer) {
        return Err(too_many());
    }
    let user = state
        .store
        .read(move |r| accounts::user_by_email(r, &email))
        .await?;
    let ok = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            tracing::info!(%peer, "failed login");
            return Err(ApiError::new(
                Failure::LoginRequired,
                "bad_credentials",
                "wrong email or password",
            ));
        }
    };
    let cookie = start_session(state, &user).await?;
    Ok((user, cookie))
}

/// Opens a login session for `user` (already authenticated): the
/// `Set-Cookie` value of `ql_session` (HttpOnly, SameSite=Strict).
pub(crate) async fn start_session(
    state: &AppState,
    user: &User,
) -> ApiResult<axum::http::HeaderValue> {
    let token = Token::random().map_err(ApiError::internal)?;
    let seconds = state.web.login_seconds;
    let session = LoginSession {
        user: user.id,
        expires_at: state.store.now().plus_ms(seconds * 1000),
    };
    let hash = token_hash(&token);
    state
        .store
        .write(move |tx| accounts::create_login(tx, hash, &session))
        .await?;
    tracing::info!(user = %user.id, "logged in");
    Ok(set_cookie(
        SESSION_COOKIE,
        &token.to_string(),
        seconds,
        "Strict",
        state.web.secure_cookies,
    ))
}

/// Ends a login on the server; the cookie that clears it in the browser.
pub(crate) async fn close_session(
    state: &AppState,
    login: &Login,
) -> ApiResult<axum::http::HeaderValue> {
    let hash = token_hash(&login.token);
    state
        .store
        .write(move |tx| accounts::delete_login(tx, hash))
        .await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        "",
        0,
        "Strict",
        state.web.secure_cookies,
    ))
}

/// Logs in; sets the `ql_session` cookie (HttpOnly, SameSite=Strict).
#[utoipa::path(post, path = "/api/auth/login", tag = "account", request_body = LoginRequest,
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let (user, cookie) = open_session(&state, peer.ip(), req.email, req.password).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie);
    Ok((headers, Json(MeDto::from(&user))))
}

/// Logs out (ends the session on the server, clears the cookie).
#[utoipa::path(post, path = "/api/auth/logout", tag = "account",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, login: Login) -> ApiResult<impl IntoResponse> {
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, close_session(&state, &login).await?);
    Ok((StatusCode::NO_CONTENT, headers))
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/auth/me", tag = "account",
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(login: Login) -> Json<MeDto> {
    Json(MeDto::from(&login.user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterShopRequest {
    #[schema(schema_with = schemas::name)]
    pub shop_name: String,
    #[serde(default)]
    #[schema(schema_with = schemas::short_text)]
    pub location: String,
    #[serde(default)]
    #[schema(schema_with = schemas::short_text)]
    pub contact: String,
    /// The shopkeeper's name.
    #[schema(schema_with = schemas::name)]
    pub name: String,
    #[schema(schema_with = schemas::email)]
    pub email: String,
    /// At least 8 characters.
    #[schema(schema_with = schemas::password)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredDto {
    pub shop_id: u64,
    pub user_id: u64,
    /// `pending` until the operator approves (or `approved` with auto-approval).
    pub approval: String,
}

/// Registers a shop and its shopkeeper (pending, or approved at once with
/// `auto_approve_shops`). Shared by the API and the registration page.
pub(crate) async fn register(
    state: &AppState,
    peer: std::net::IpAddr,
    req: RegisterShopRequest,
) -> ApiResult<(User, crate::domain::shop::Shop)> {
    if !state.login_limiter.check(peer) {
        return Err(too_many());
    }
    check_password(&req.password).map_err(ApiError::invalid)?;
    let password_hash = state.passwords.hash(req.password).await?;
    let owner = NewUser {
        email: req.email,
        name: req.name,
        role: Role::Shopkeeper,
        password_hash,
    };
    let auto = state.web.auto_approve_shops;
    Ok(state
        .store
        .write(move |tx| {
            accounts::register_shop(tx, owner, &req.shop_name, &req.location, &req.contact, auto)
        })
        .await?)
}

/// Registers a shop and its shopkeeper account.
#[utoipa::path(post, path = "/api/shops/register", tag = "account", request_body = RegisterShopRequest,
    responses((status = 201, body = RegisteredDto), (status = 409, body = ErrorBody, description = "The email or the shop name is taken"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn register_shop(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(req): ApiJson<RegisterShopRequest>,
) -> ApiResult<impl IntoResponse> {
    let (user, shop) = register(&state, peer.ip(), req).await?;
    tracing::info!(shop = %shop.id, user = %user.id, "shop registered");
    Ok((
        StatusCode::CREATED,
        Json(RegisteredDto {
            shop_id: shop.id.0,
            user_id: user.id.0,
            approval: approval_str(shop.approval).into(),
        }),
    ))
}
