//! Staff sign-in: the login form (shopkeepers land on their dashboard, the
//! operator on the shop list), logout, and shop registration.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::cart::local_path;
use super::{Chrome, PageForm, PageResult, render, see_other};
use crate::domain::account::Role;
use crate::web::AppState;
use crate::web::api::account::{RegisterShopRequest, close_session, open_session, register};
use crate::web::extract::{Login, Peer};

/// `/staff/…` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/staff/logout", post(logout))
        .route("/staff/register", get(register_page).post(register_post))
}

#[derive(Template)]
#[template(path = "staff_login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    email: String,
    problem: Option<String>,
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

async fn login_page(c: Chrome, Query(q): Query<Next>) -> PageResult {
    render(&LoginPage {
        c,
        next: local_path(&q.next, ""),
        email: String::new(),
        problem: None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    c: Chrome,
    PageForm(f): PageForm<LoginForm>,
) -> PageResult {
    match open_session(&state, peer.ip(), f.email.clone(), f.password).await {
        Ok((user, cookie)) => {
            let home = if user.role == Role::Admin {
                "/admin"
            } else {
                "/shop"
            };
            let mut r = see_other(&local_path(&f.next, home));
            r.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(r)
        }
        Err(e) => {
            let page = LoginPage {
                c,
                next: local_path(&f.next, ""),
                email: f.email,
                problem: Some(e.message.clone()),
            };
            let mut r = render(&page)?;
            *r.status_mut() = e.status;
            Ok(r)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn logout(
    State(state): State<AppState>,
    login: Result<Login, crate::web::error::ApiError>,
    PageForm(Empty {}): PageForm<Empty>,
) -> Response {
    let mut r = see_other("/staff/login");
    if let Ok(login) = login
        && let Ok(cookie) = close_session(&state, &login).await
    {
        r.headers_mut().append(header::SET_COOKIE, cookie);
    }
    r
}

#[derive(Template)]
#[template(path = "staff_register.html")]
struct RegisterPage {
    c: Chrome,
    problem: Option<String>,
    done: Option<String>,
}

async fn register_page(c: Chrome) -> PageResult {
    render(&RegisterPage {
        c,
        problem: None,
        done: None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterForm {
    shop_name: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    contact: String,
    name: String,
    email: String,
    password: String,
}

async fn register_post(
    State(state): State<AppState>,
    Peer(peer): Peer,
    c: Chrome,
    PageForm(f): PageForm<RegisterForm>,
) -> PageResult {
    let req = RegisterShopRequest {
        shop_name: f.shop_name,
        location: f.location,
        contact: f.contact,
        name: f.name,
        email: f.email,
        password: f.password,
    };
    let (status, page) = match register(&state, peer.ip(), req).await {
        Ok((_, shop)) => {
            let done = if shop.approval == crate::domain::shop::Approval::Approved {
                format!(
                    "{} is registered and approved. Log in to set up your menu.",
                    shop.name
                )
            } else {
                format!(
                    "{} is registered. The venue will approve it; you can log in and set up your menu meanwhile.",
                    shop.name
                )
            };
            (
                StatusCode::CREATED,
                RegisterPage {
                    c,
                    problem: None,
                    done: Some(done),
                },
            )
        }
        Err(e) => (
            e.status,
            RegisterPage {
                c,
                problem: Some(e.message),
                done: None,
            },
        ),
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r.into_response())
}
