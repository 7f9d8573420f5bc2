//! Staff sign-in: the login form (shopkeepers land on their dashboard, the
//! operator on the shop list), logout, and shop registration.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::cart::local_path;
use super::{Chrome, PageForm, PageResult, render, see_other};
use crate::domain::account::{MIN_PASSWORD, Role, check_password};
use crate::domain::shop::Approval;
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::api::account::{
    RegisterShopRequest, close_session, open_session, register, start_session,
};
use crate::web::error::ApiError;
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

/// Where to go after logging in: a local path only. Control characters and
/// spaces are refused too, since browsers drop tabs and newlines from a
/// `Location` (`/\t/evil.example` would become `//evil.example`).
pub(crate) fn next_path(next: &str, home: &str) -> String {
    if next.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return home.to_owned();
    }
    local_path(next, home)
}

async fn login_page(c: Chrome, Query(q): Query<Next>) -> PageResult {
    render(&LoginPage {
        c,
        next: next_path(&q.next, ""),
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
            let (home, elsewhere) = if user.role == Role::Admin {
                ("/admin", "/shop")
            } else {
                ("/shop", "/admin")
            };
            // A `next` meant for the other role would only end in a 403.
            let mut to = next_path(&f.next, home);
            if to == elsewhere || to.starts_with(&format!("{elsewhere}/")) {
                to = home.to_owned();
            }
            let mut r = see_other(&to);
            r.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(r)
        }
        Err(e) => {
            let c_lang = c.lang;
            let page = LoginPage {
                c,
                next: next_path(&f.next, ""),
                email: f.email,
                problem: Some(problem(c_lang, &e, None)),
            };
            let mut r = render(&page)?;
            *r.status_mut() = e.status();
            Ok(r)
        }
    }
}

/// The login or registration problem in the page's language; a rule the
/// store explains (a taken email) keeps its own words.
fn problem(lang: Lang, e: &ApiError, password: Option<&str>) -> String {
    let key = match e.code {
        "bad_credentials" => "staff.login.bad_credentials",
        "too_many_attempts" => "staff.login.too_many",
        // The only refusal before the password is checked.
        "forbidden" => "staff.login.guest_network",
        "invalid_input" => match password {
            Some(p) if p.chars().count() < MIN_PASSWORD => "staff.register.password_short",
            Some(p) if check_password(p).is_err() => "staff.register.password_long",
            _ => return e.message.clone(),
        },
        _ => return e.message.clone(),
    };
    lang.t(key).into_owned()
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
    /// Registered and waiting for the venue's approval.
    pending: bool,
    /// What was typed, kept when the form comes back with a problem.
    form: RegisterForm,
}

#[derive(Deserialize)]
struct Registered {
    #[serde(default)]
    registered: bool,
}

async fn register_page(c: Chrome, Query(q): Query<Registered>) -> PageResult {
    render(&RegisterPage {
        c,
        problem: None,
        pending: q.registered,
        form: RegisterForm::default(),
    })
}

#[derive(Clone, Default, Deserialize)]
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

/// Registers like `POST /api/shops/register`; an approved shop's keeper is
/// logged in at once, a pending one is told to wait for the venue.
async fn register_post(
    State(state): State<AppState>,
    Peer(peer): Peer,
    c: Chrome,
    PageForm(f): PageForm<RegisterForm>,
) -> PageResult {
    let req = RegisterShopRequest {
        shop_name: f.shop_name.clone(),
        location: f.location.clone(),
        contact: f.contact.clone(),
        name: f.name.clone(),
        email: f.email.clone(),
        password: f.password.clone(),
    };
    match register(&state, peer.ip(), req).await {
        Ok((user, shop)) if shop.approval == Approval::Approved => {
            tracing::info!(shop = %shop.id, user = %user.id, "shop registered (approved)");
            let mut r = see_other("/shop");
            match start_session(&state, &user).await {
                Ok(cookie) => {
                    r.headers_mut().append(header::SET_COOKIE, cookie);
                }
                // Registered all the same: the login page still works.
                Err(e) => {
                    tracing::warn!(error = %e.message, "no session after registration");
                    r = see_other("/staff/login");
                }
            }
            Ok(r)
        }
        Ok((user, shop)) => {
            tracing::info!(shop = %shop.id, user = %user.id, "shop registered (pending)");
            Ok(see_other("/staff/register?registered=true"))
        }
        Err(e) => {
            let problem = problem(c.lang, &e, Some(&f.password));
            let page = RegisterPage {
                c,
                problem: Some(problem),
                pending: false,
                form: RegisterForm {
                    password: String::new(),
                    ..f
                },
            };
            let mut r = render(&page)?;
            *r.status_mut() = e.status();
            Ok(r)
        }
    }
}
