//! The guest's cart, kept in a cookie (`ql_cart` = `item x quantity` pairs)
//! so it needs no server memory and survives restarts, and checkout, which
//! turns it into one order per shop through the same store call as the API.

use crate::web::error::Failure;
use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PageError, PageForm, PageResult, render, see_other};
use crate::domain::currency::Currency;
use crate::domain::service::PaymentMethod;
use crate::domain::{Cents, ItemId, ShopId, Token};
use crate::store::{
    Checkout, CheckoutLine, MAX_LINES, MAX_QUANTITY, StoreError, catalog, checkout,
};
use crate::web::AppState;
use crate::web::extract::{Device, Peer, cookie, set_cookie};

pub use crate::web::extract::cookies::{CART as CART_COOKIE, TABLE as TABLE_COOKIE};

/// Lines of the cart, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cart(pub Vec<(ItemId, u32)>);

impl Cart {
    /// Reads the cart cookie; anything malformed is dropped, never trusted.
    pub fn from_headers(h: &HeaderMap) -> Self {
        let Some(raw) = cookie(h, CART_COOKIE) else {
            return Self::default();
        };
        let mut cart = Self::default();
        for part in raw.split('.').take(MAX_LINES) {
            if let Some((id, q)) = part.split_once('x')
                && let (Ok(id), Ok(q)) = (id.parse::<u64>(), q.parse::<u32>())
            {
                cart.set(ItemId(id), q);
            }
        }
        cart
    }

    /// Units in the cart.
    pub fn count(&self) -> u32 {
        self.0.iter().map(|(_, q)| *q).sum()
    }

    /// Sets an item's quantity (0 removes it), within the checkout limits.
    pub fn set(&mut self, item: ItemId, quantity: u32) {
        let quantity = quantity.min(MAX_QUANTITY);
        match self.0.iter().position(|(i, _)| *i == item) {
            Some(at) if quantity == 0 => {
                self.0.remove(at);
            }
            Some(at) => self.0[at].1 = quantity,
            None if quantity > 0 && self.0.len() < MAX_LINES => self.0.push((item, quantity)),
            None => {}
        }
    }

    /// Adds units of an item.
    pub fn add(&mut self, item: ItemId, quantity: u32) {
        let now = self.0.iter().find(|(i, _)| *i == item).map_or(0, |l| l.1);
        self.set(item, now.saturating_add(quantity));
    }

    fn header(&self, secure: bool) -> axum::http::HeaderValue {
        let value: Vec<String> = self.0.iter().map(|(i, q)| format!("{}x{q}", i.0)).collect();
        let age = if self.0.is_empty() { 0 } else { 86_400 };
        set_cookie(CART_COOKIE, &value.join("."), age, "Lax", secure)
    }
}

/// `/cart` and `/checkout`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cart", get(show))
        .route("/cart/add", post(add))
        .route("/cart/set", post(set))
        .route("/checkout", post(place))
}

struct CartLine {
    item: u64,
    name: String,
    quantity: u32,
    price: String,
    subtotal: String,
    available: bool,
}

struct CartShop {
    name: String,
    refusal: Option<String>,
    lines: Vec<CartLine>,
    sum: Cents,
    currency: Currency,
}

impl CartShop {
    fn subtotal(&self) -> String {
        self.currency.format(self.sum)
    }
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    c: Chrome,
    shops: Vec<CartShop>,
    total: String,
    idempotency_key: String,
    table: Option<String>,
    problem: Option<String>,
}

async fn cart_page(
    state: &AppState,
    c: Chrome,
    cart: &Cart,
    table: Option<String>,
    problem: Option<String>,
) -> PageResult<CartPage> {
    let lines = cart.0.clone();
    let now = state.store.now();
    let offset = state.store.settings().utc_offset_minutes;
    let cur = state.web.currency;
    let shops = state
        .store
        .read(move |r| {
            let mut by_shop: BTreeMap<ShopId, CartShop> = BTreeMap::new();
            let mut total = Cents(0);
            for (id, q) in lines {
                let Some(item) = catalog::listed_item(r, id)? else {
                    continue;
                };
                let menu = catalog::menu(r, item.shop)?;
                let Some(view) = menu.items.iter().find(|v| v.item.id == id) else {
                    continue;
                };
                let open = catalog::open_order_count(r, item.shop)?;
                let sub = item.price.times(q).unwrap_or(Cents(0));
                total = total.plus(sub).unwrap_or(total);
                let entry = by_shop.entry(item.shop).or_insert_with(|| CartShop {
                    name: menu.shop.name.clone(),
                    refusal: menu
                        .shop
                        .accepts_orders(now, offset, open)
                        .err()
                        .map(|e| e.to_string()),
                    lines: Vec::new(),
                    sum: Cents(0),
                    currency: cur,
                });
                entry.sum = entry.sum.plus(sub).unwrap_or(entry.sum);
                entry.lines.push(CartLine {
                    item: id.0,
                    name: item.name.clone(),
                    quantity: q,
                    price: cur.format(item.price),
                    subtotal: cur.format(sub),
                    available: view.available && view.left.is_none_or(|l| l >= u64::from(q)),
                });
            }
            Ok((by_shop, total))
        })
        .await?;
    let (by_shop, total) = shops;
    let key = Token::random()
        .map_err(|e| PageError::new(Failure::Internal, format!("no randomness: {e}")))?;
    Ok(CartPage {
        c,
        shops: by_shop.into_values().collect(),
        total: state.money(total),
        idempotency_key: key.to_string(),
        table,
        problem,
    })
}

async fn show(State(state): State<AppState>, c: Chrome, headers: HeaderMap) -> PageResult {
    let cart = Cart::from_headers(&headers);
    let table = table_label(&state, &headers).await;
    render(&cart_page(&state, c, &cart, table, None).await?)
}

async fn table_label(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let code = cookie(headers, TABLE_COOKIE)?.parse::<Token>().ok()?;
    let s = state
        .store
        .read(move |r| crate::store::service::session_by_code(r, code))
        .await
        .ok()?;
    s.closed_at.is_none().then_some(s.label)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddForm {
    item_id: u64,
    #[serde(default = "one")]
    quantity: u32,
    /// The page to return to (a local path).
    #[serde(default)]
    back: String,
}

fn one() -> u32 {
    1
}

/// Only local paths, never another site (no open redirect).
pub fn local_path(p: &str, default: &str) -> String {
    // Browsers drop tabs and newlines from a `Location`, so `/\t/evil.example`
    // would become `//evil.example`; control characters and spaces are
    // refused, which also keeps the header valid.
    let plain = !p.chars().any(|c| c.is_control() || c.is_whitespace());
    if plain && p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') {
        p.to_owned()
    } else {
        default.to_owned()
    }
}

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<AddForm>,
) -> PageResult {
    let id = ItemId(f.item_id);
    let found = state
        .store
        .read(move |r| catalog::listed_item(r, id))
        .await?;
    if found.is_none() {
        return Err(
            PageError::new(Failure::NotFound, "That item is no longer on the menu.").back("/"),
        );
    }
    let mut cart = Cart::from_headers(&headers);
    cart.add(id, f.quantity.max(1));
    let back = local_path(&f.back, "/cart");
    let mut r = see_other(&back);
    r.headers_mut()
        .append(header::SET_COOKIE, cart.header(state.web.secure_cookies));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetForm {
    item_id: u64,
    quantity: u32,
}

async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<SetForm>,
) -> Response {
    let mut cart = Cart::from_headers(&headers);
    cart.set(ItemId(f.item_id), f.quantity);
    let mut r = see_other("/cart");
    r.headers_mut()
        .append(header::SET_COOKIE, cart.header(state.web.secure_cookies));
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutForm {
    idempotency_key: String,
    #[serde(default)]
    pickup_name: String,
    #[serde(default)]
    note: String,
}

async fn place(
    State(state): State<AppState>,
    Device(guest): Device,
    Peer(peer): Peer,
    c: Chrome,
    headers: HeaderMap,
    PageForm(f): PageForm<CheckoutForm>,
) -> PageResult {
    let cart = Cart::from_headers(&headers);
    if cart.0.is_empty() {
        return Ok(see_other("/cart"));
    }
    let session = cookie(&headers, TABLE_COOKIE).and_then(|v| v.parse::<Token>().ok());
    let co = Checkout {
        guest,
        lines: cart
            .0
            .iter()
            .map(|&(item, quantity)| CheckoutLine {
                item,
                quantity,
                options: Vec::new(),
            })
            .collect(),
        idempotency_key: f.idempotency_key,
        note: f.note,
        pickup_name: f.pickup_name,
        session,
        payment: PaymentMethod::Cash,
    };
    let outcome = match checkout::validate(&co) {
        Ok(()) => state.store.write(move |tx| checkout::place(tx, co)).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(placed) => {
            crate::web::captive::remember_device(&state, peer.ip(), guest).await;
            let to = match placed.orders.as_slice() {
                [one] => format!("/o/{}", one.token),
                _ => "/orders".to_owned(),
            };
            let mut r = see_other(&to);
            r.headers_mut().append(
                header::SET_COOKIE,
                Cart::default().header(state.web.secure_cookies),
            );
            Ok(r)
        }
        Err(
            e @ (StoreError::OutOfStock { .. }
            | StoreError::ItemUnavailable { .. }
            | StoreError::Refused(_)
            | StoreError::Invalid(_)
            | StoreError::Conflict(_)),
        ) => {
            // Back to the cart with the reason; nothing was ordered.
            let table = table_label(&state, &headers).await;
            let page = cart_page(&state, c, &cart, table, Some(e.to_string())).await?;
            let mut r = render(&page)?;
            *r.status_mut() = crate::web::error::ApiError::from(e).status();
            Ok(r.into_response())
        }
        Err(e) => Err(e.into()),
    }
}
