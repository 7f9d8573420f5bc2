//! The guest's cart, kept in a cookie (`ql_cart` = `item-option-…x quantity`
//! lines) so it needs no server memory and survives restarts, and checkout,
//! which turns it into one order per shop through the same store call as
//! the API. A line is an item with its chosen options; the same item with
//! other options is another line.

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
use crate::domain::options::{check_choice, unit_price};
use crate::domain::service::PaymentMethod;
use crate::domain::{Cents, ItemId, OptionId, ShopId, Token};
use crate::store::{
    Checkout, CheckoutLine, MAX_LINES, MAX_QUANTITY, StoreError, catalog, checkout,
};
use crate::web::AppState;
use crate::web::extract::{Device, Peer, cookie, set_cookie};

pub use crate::web::extract::cookies::{CART as CART_COOKIE, TABLE as TABLE_COOKIE};

/// One cart line: an item with its chosen options (sorted), and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The item.
    pub item: ItemId,
    /// The options chosen, sorted by id.
    pub options: Vec<OptionId>,
    /// How many.
    pub quantity: u32,
}

impl Entry {
    /// The line's key in forms and the cookie: `12` or `12-5-9`.
    pub fn key(&self) -> String {
        line_key(self.item, &self.options)
    }
}

/// The key of an item with options: `12` or `12-5-9`.
pub fn line_key(item: ItemId, options: &[OptionId]) -> String {
    std::iter::once(item.0)
        .chain(options.iter().map(|o| o.0))
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads a line key; `None` if malformed.
pub fn parse_key(key: &str) -> Option<(ItemId, Vec<OptionId>)> {
    let mut parts = key.split('-').map(|p| p.parse::<u64>().ok());
    let item = ItemId(parts.next()??);
    let mut options = parts.map(|p| p.map(OptionId)).collect::<Option<Vec<_>>>()?;
    if options.len() > 32 {
        return None;
    }
    options.sort_unstable();
    Some((item, options))
}

/// Lines of the cart, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cart(pub Vec<Entry>);

impl Cart {
    /// Reads the cart cookie; anything malformed is dropped, never trusted.
    pub fn from_headers(h: &HeaderMap) -> Self {
        let Some(raw) = cookie(h, CART_COOKIE) else {
            return Self::default();
        };
        let mut cart = Self::default();
        for part in raw.split('.').take(MAX_LINES) {
            if let Some((key, q)) = part.split_once('x')
                && let (Some((item, options)), Ok(q)) = (parse_key(key), q.parse::<u32>())
            {
                cart.set(item, &options, q);
            }
        }
        cart
    }

    /// Units in the cart.
    pub fn count(&self) -> u32 {
        self.0.iter().map(|e| e.quantity).sum()
    }

    /// Units of an item in the cart, whatever its options.
    pub fn count_of(&self, item: ItemId) -> u32 {
        self.0
            .iter()
            .filter(|e| e.item == item)
            .map(|e| e.quantity)
            .sum()
    }

    /// Sets a line's quantity (0 removes it), within the checkout limits.
    /// `options` must be sorted.
    pub fn set(&mut self, item: ItemId, options: &[OptionId], quantity: u32) {
        let quantity = quantity.min(MAX_QUANTITY);
        match self
            .0
            .iter()
            .position(|e| e.item == item && e.options == options)
        {
            Some(at) if quantity == 0 => {
                self.0.remove(at);
            }
            Some(at) => self.0[at].quantity = quantity,
            None if quantity > 0 && self.0.len() < MAX_LINES => self.0.push(Entry {
                item,
                options: options.to_vec(),
                quantity,
            }),
            None => {}
        }
    }

    /// Adds units of a line. `options` must be sorted.
    pub fn add(&mut self, item: ItemId, options: &[OptionId], quantity: u32) {
        let now = self
            .0
            .iter()
            .find(|e| e.item == item && e.options == options)
            .map_or(0, |e| e.quantity);
        self.set(item, options, now.saturating_add(quantity));
    }

    fn header(&self, secure: bool) -> axum::http::HeaderValue {
        let value: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}x{}", e.key(), e.quantity))
            .collect();
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
    key: String,
    name: String,
    options: String,
    quantity: u32,
    /// The quantity for "−" and "+".
    less: u32,
    more: u32,
    price: String,
    subtotal: String,
    available: bool,
    /// Options of the line that are off or short, by name.
    unavailable: String,
}

struct CartShop {
    id: u64,
    name: String,
    /// The note to this shop as last sent (kept when a checkout is refused).
    note: String,
    refusal: Option<String>,
    lines: Vec<CartLine>,
    sum: Cents,
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
    notes: BTreeMap<ShopId, String>,
) -> PageResult<CartPage> {
    let lines = cart.0.clone();
    let now = state.store.now();
    let offset = state.store.settings().utc_offset_minutes;
    let (cur, lang) = (state.web.currency, c.lang);
    let shops = state
        .store
        .read(move |r| {
            let mut by_shop: BTreeMap<ShopId, CartShop> = BTreeMap::new();
            let mut total = Cents(0);
            for e in lines {
                let (id, q) = (e.item, e.quantity);
                let Some(item) = catalog::listed_item(r, id)? else {
                    continue;
                };
                let menu = catalog::menu(r, item.shop)?;
                let Some(view) = menu.items.iter().find(|v| v.item.id == id) else {
                    continue;
                };
                let open = catalog::open_order_count(r, item.shop)?;
                let chosen: Vec<&crate::store::options::OptionView> = view
                    .options
                    .iter()
                    .flat_map(|g| g.options.iter())
                    .filter(|o| e.options.contains(&o.option.id))
                    .collect();
                let unit = unit_price(item.price, chosen.iter().map(|o| o.option.price_delta))
                    .unwrap_or(item.price);
                let sub = unit.times(q).unwrap_or(Cents(0));
                let unavailable: Vec<String> = chosen
                    .iter()
                    .filter(|o| !o.available || o.left.is_some_and(|l| l < u64::from(q)))
                    .map(|o| o.option.name.clone())
                    .collect();
                total = total.plus(sub).unwrap_or(total);
                let entry = by_shop.entry(item.shop).or_insert_with(|| CartShop {
                    id: item.shop.0,
                    name: menu.shop.name.clone(),
                    note: notes.get(&item.shop).cloned().unwrap_or_default(),
                    refusal: menu
                        .shop
                        .accepts_orders(now, offset, open)
                        .err()
                        .map(|e| lang.refusal(&e)),
                    lines: Vec::new(),
                    sum: Cents(0),
                });
                entry.sum = entry.sum.plus(sub).unwrap_or(entry.sum);
                entry.lines.push(CartLine {
                    key: e.key(),
                    name: item.name.clone(),
                    options: chosen
                        .iter()
                        .map(|o| match o.option.price_delta {
                            0 => o.option.name.clone(),
                            d => format!("{} ({})", o.option.name, lang.money_delta(cur, d)),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    quantity: q,
                    less: q.saturating_sub(1),
                    more: (q + 1).min(MAX_QUANTITY),
                    price: lang.money(cur, unit),
                    subtotal: lang.money(cur, sub),
                    available: view.available
                        && view.left.is_none_or(|l| l >= u64::from(q))
                        && unavailable.is_empty(),
                    unavailable: unavailable.join(", "),
                });
            }
            Ok((by_shop, total))
        })
        .await?;
    let (by_shop, total) = shops;
    let key = Token::random().map_err(|e| {
        tracing::error!(error = %e, "no randomness for an idempotency key");
        PageError::said(Failure::Internal, "common.error.internal")
    })?;
    Ok(CartPage {
        c,
        shops: by_shop.into_values().collect(),
        total: lang.money(cur, total),
        idempotency_key: key.to_string(),
        table,
        problem,
    })
}

async fn show(State(state): State<AppState>, c: Chrome, headers: HeaderMap) -> PageResult {
    let cart = Cart::from_headers(&headers);
    let table = table_label(&state, &headers).await;
    render(&cart_page(&state, c, &cart, table, None, BTreeMap::new()).await?)
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

/// Adding an item: `item_id`, `quantity` (default 1), `back` (the page to
/// return to), and the chooser's fields: `g<group>=<option>` for a group of
/// one choice (radio buttons; `0` is "none"), `o<option>=1` for each ticked
/// checkbox. Read as pairs, since the option fields are named by id.
struct AddForm {
    item_id: u64,
    quantity: u32,
    back: String,
    options: Vec<OptionId>,
}

impl AddForm {
    /// Reads the fields; any other field is refused.
    fn read(pairs: Vec<(String, String)>) -> Result<Self, PageError> {
        let bad = |k: &str| stray_field(k);
        let mut f = AddForm {
            item_id: 0,
            quantity: 1,
            back: String::new(),
            options: Vec::new(),
        };
        let mut item = None;
        for (k, v) in &pairs {
            let number = |s: &str| s.parse::<u64>().map_err(|_| bad(k));
            match k.as_str() {
                "item_id" => item = Some(number(v)?),
                "quantity" => f.quantity = u32::try_from(number(v)?).map_err(|_| bad(k))?,
                "back" => f.back.clone_from(v),
                _ => {
                    let id = if k.starts_with('g') && number(&k[1..]).is_ok() {
                        number(v)?
                    } else if let Some(option) = k.strip_prefix('o') {
                        number(option)?
                    } else {
                        return Err(bad(k));
                    };
                    if id != 0 {
                        f.options.push(OptionId(id));
                    }
                }
            }
        }
        f.item_id = item.ok_or_else(|| bad("item_id"))?;
        if f.options.len() > crate::store::checkout::MAX_LINE_OPTIONS {
            return Err(bad("options"));
        }
        f.options.sort_unstable();
        f.options.dedup();
        Ok(f)
    }
}

/// A form field no form of ours has.
fn stray_field(k: &str) -> PageError {
    PageError::said_with(
        Failure::Invalid,
        "guest.cart.stray_field",
        vec![("field", format!("{k:?}"))],
    )
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
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = AddForm::read(pairs)?;
    let id = ItemId(f.item_id);
    let chooser = local_path(&f.back, "/cart");
    let options = f.options.clone();
    // The choice is checked now (a page without scripts cannot stop a
    // fourth topping), so the cart holds only lines the menu allows.
    let found = state
        .store
        .read(move |r| {
            let Some(item) = catalog::listed_item(r, id)? else {
                return Ok(None);
            };
            let groups = crate::store::options::item_groups(r, id)?;
            Ok(Some(
                check_choice(&item.name, &groups, &options)
                    .map(|_| item.shop)
                    .map_err(StoreError::Choice),
            ))
        })
        .await?;
    match found {
        None => {
            return Err(PageError::said(Failure::NotFound, "guest.cart.no_longer").back("/"));
        }
        Some(Err(why)) => {
            let back = match chooser.split_once('#') {
                Some((menu, _)) => format!("{menu}/items/{}", id.0),
                None => "/".to_owned(),
            };
            return Err(PageError::from(why).back(&back));
        }
        Some(Ok(_)) => {}
    }
    let mut cart = Cart::from_headers(&headers);
    cart.add(id, &f.options, f.quantity.clamp(1, MAX_QUANTITY));
    let mut r = see_other(&chooser);
    r.headers_mut()
        .append(header::SET_COOKIE, cart.header(state.web.secure_cookies));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetForm {
    /// The line's key (`12` or `12-5-9`).
    line: String,
    quantity: u32,
}

async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<SetForm>,
) -> Response {
    let mut cart = Cart::from_headers(&headers);
    if let Some((item, options)) = parse_key(&f.line) {
        cart.set(item, &options, f.quantity);
    }
    let mut r = see_other("/cart");
    r.headers_mut()
        .append(header::SET_COOKIE, cart.header(state.web.secure_cookies));
    r
}

/// The checkout form: `idempotency_key`, `pickup_name`, and a note per
/// shop as `note_<shop id>` (each shop's section has its own field); a
/// plain `note` goes to every shop without one. Read as pairs, since the
/// note fields are named by id.
struct CheckoutForm {
    idempotency_key: String,
    pickup_name: String,
    note: String,
    notes: BTreeMap<ShopId, String>,
}

impl CheckoutForm {
    /// Reads the fields; any other field is refused.
    fn read(pairs: Vec<(String, String)>) -> Result<Self, PageError> {
        let mut f = CheckoutForm {
            idempotency_key: String::new(),
            pickup_name: String::new(),
            note: String::new(),
            notes: BTreeMap::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "idempotency_key" => f.idempotency_key = v,
                "pickup_name" => f.pickup_name = v,
                "note" => f.note = v,
                _ => match k.strip_prefix("note_").map(str::parse::<u64>) {
                    // An empty field is no note (the shop gets `note`).
                    Some(Ok(shop)) if !v.trim().is_empty() => {
                        f.notes.insert(ShopId(shop), v);
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        return Err(stray_field(&k));
                    }
                },
            }
        }
        Ok(f)
    }
}

async fn place(
    State(state): State<AppState>,
    Device(guest): Device,
    Peer(peer): Peer,
    c: Chrome,
    headers: HeaderMap,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = CheckoutForm::read(pairs)?;
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
            .map(|e| CheckoutLine {
                item: e.item,
                quantity: e.quantity,
                options: e.options.clone(),
            })
            .collect(),
        idempotency_key: f.idempotency_key,
        note: f.note,
        notes: f.notes.clone(),
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
            r.extensions_mut().insert(crate::web::extract::Placed);
            r.headers_mut().append(
                header::SET_COOKIE,
                Cart::default().header(state.web.secure_cookies),
            );
            Ok(r)
        }
        Err(
            e @ (StoreError::OutOfStock { .. }
            | StoreError::ItemUnavailable { .. }
            | StoreError::OptionOutOfStock { .. }
            | StoreError::OptionUnavailable { .. }
            | StoreError::Choice(_)
            | StoreError::Refused(_)
            | StoreError::Invalid(_)
            | StoreError::Conflict(_)),
        ) => {
            // Back to the cart with the reason; nothing was ordered.
            let table = table_label(&state, &headers).await;
            let problem =
                crate::web::error::said_of(&e).map_or_else(|| e.to_string(), |s| s.text(c.lang));
            let page = cart_page(&state, c, &cart, table, Some(problem), f.notes).await?;
            let mut r = render(&page)?;
            *r.status_mut() = crate::web::error::ApiError::from(e).status();
            Ok(r.into_response())
        }
        Err(e) => Err(e.into()),
    }
}
