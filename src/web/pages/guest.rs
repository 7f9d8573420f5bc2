//! Guest pages: the venue's landing page, a shop's menu, the order page
//! (pickup code, stage, queue position, status link as QR code), "my
//! orders" for this device, and joining a table from its QR code.

use crate::web::error::Failure;
use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use super::cart::TABLE_COOKIE;
use super::{Chrome, PageError, PageForm, PageResult, done, render};
use crate::domain::allergen;
use crate::domain::callsign;
use crate::domain::order::OrderStatus;
use crate::domain::{ShopId, Token};
use crate::i18n::Lang;
use crate::store::{OrderView, Scope, StoreError, catalog, orders, pickup, service};
use crate::web::AppState;
use crate::web::extract::{Device, Peer, set_cookie};
use crate::web::ops::{self, Audience};

/// Guest routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/shops/{shop_id}", get(menu))
        .route("/o/{token}", get(order))
        .route("/o/{token}/cancel", post(cancel))
        .route("/orders", get(my_orders))
        .route("/t/{code}", get(table))
        .route("/table/leave", post(leave_table))
}

/// What a guest reads for each stage (in English; pages say
/// [`stage_text`] in the reader's language).
pub fn stage_label(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Placed => "Sent to the shop",
        OrderStatus::Accepted => "Accepted",
        OrderStatus::Preparing => "Being prepared",
        OrderStatus::Ready => "Ready for pickup!",
        OrderStatus::Completed => "Picked up",
        OrderStatus::Cancelled => "Cancelled",
        OrderStatus::NotCollected => "Not collected",
    }
}

/// What a guest reads for each stage, in `lang` (the same words the
/// page scripts show: `js.stage.*`).
pub fn stage_text(lang: Lang, s: OrderStatus) -> String {
    lang.t(&format!("js.stage.{}", s.as_str())).into_owned()
}

struct ShopCard {
    id: u64,
    name: String,
    location: String,
    refusal: Option<String>,
    wait_minutes: u32,
}

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    c: Chrome,
    shops: Vec<ShopCard>,
    /// Offer "start ordering" (the guest is behind the captive portal).
    join: bool,
}

async fn landing(State(state): State<AppState>, c: Chrome, Peer(peer): Peer) -> PageResult {
    let join = match &state.gateway {
        Some(gw) if gw.settings().internet == crate::gateway::policy::Internet::AfterAccept => gw
            .state_of(peer.ip())
            .await
            .map(|s| s.captive && gw.mac_of(peer.ip()).is_some())
            .unwrap_or(false),
        _ => false,
    };
    let listed = ops::shops(&state, true).await?;
    // The usual preparation time as the wait estimates see it.
    let list: Vec<_> = listed.iter().map(|s| s.shop.clone()).collect();
    let waits = state
        .store
        .read(move |r| {
            list.iter()
                .map(|s| Ok(pickup::prep_time(r, s)?.typical.div_ceil(60).max(1)))
                .collect::<Result<Vec<u32>, StoreError>>()
        })
        .await?;
    let shops = listed
        .into_iter()
        .zip(waits)
        .map(|(s, wait_minutes)| ShopCard {
            id: s.shop.id.0,
            wait_minutes,
            name: s.shop.name,
            location: s.shop.location,
            refusal: s.refused.as_ref().map(|r| c.lang.refusal(r)),
        })
        .collect();
    render(&Landing { c, shops, join })
}

struct MenuItemRow {
    id: u64,
    name: String,
    description: String,
    price: String,
    available: bool,
    left: Option<u64>,
    tags: String,
    /// Has option groups: "Choose" opens the chooser.
    choose: bool,
    /// The options "Add" takes (the defaults), when they make a valid
    /// choice; `None` for an item with options whose defaults do not.
    quick: Option<Vec<u64>>,
    /// Units of it in this device's cart.
    in_cart: u32,
    /// Its allergens, by label.
    allergens: String,
    /// Its photo's URL, if any.
    photo: Option<String>,
}

struct MenuSection {
    name: String,
    items: Vec<MenuItemRow>,
}

#[derive(Template)]
#[template(path = "menu.html")]
struct MenuPage {
    c: Chrome,
    shop_id: u64,
    name: String,
    location: String,
    refusal: Option<String>,
    sections: Vec<MenuSection>,
    /// The allergen filter: key, label, hidden now.
    filter: Vec<(&'static str, String, bool)>,
    /// Items left out by the filter.
    hidden: usize,
}

/// The defaults of an item's groups when they are available and make a
/// valid choice on their own, so "Add" on the menu needs no chooser.
fn quick_choice(v: &crate::store::ItemView) -> Option<Vec<u64>> {
    let mut chosen = Vec::new();
    for g in &v.options {
        let defaults: Vec<u64> = g
            .options
            .iter()
            .filter(|o| o.option.default && o.available)
            .map(|o| o.option.id.0)
            .collect();
        let n = defaults.len();
        if n < usize::from(g.group.min) || n > usize::from(g.group.max) {
            return None;
        }
        chosen.extend(defaults);
    }
    Some(chosen)
}

async fn menu(
    State(state): State<AppState>,
    c: Chrome,
    headers: HeaderMap,
    Path(shop_id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let cart = super::cart::Cart::from_headers(&headers);
    // `?hide=milk&hide=nuts`: leave out items containing these allergens.
    let hide: Vec<String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, v)| k == "hide" && allergen::keys().any(|a| a == v))
            .map(|(_, v)| v)
            .collect();
    let id = shop_id
        .parse::<u64>()
        .map_err(|_| PageError::said(Failure::NotFound, "guest.menu.no_such_shop"))?;
    let (menu, status) = ops::menu(&state, ShopId(id), Audience::Guest)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => {
                PageError::said(Failure::NotFound, "guest.menu.no_such_shop")
            }
            e => e.into(),
        })?;
    let mut menu = menu;
    let before = menu.items.len();
    menu.items
        .retain(|v| !v.item.allergens.iter().any(|a| hide.contains(a)));
    let hidden = before - menu.items.len();
    let row = |v: &crate::store::ItemView| MenuItemRow {
        id: v.item.id.0,
        name: v.item.name.clone(),
        description: v.item.description.clone(),
        price: c.money(v.item.price),
        available: v.available,
        left: v.left,
        tags: v.item.tags.join(" · "),
        choose: !v.options.is_empty(),
        quick: quick_choice(v),
        in_cart: cart.count_of(v.item.id),
        photo: v.item.photo.clone(),
        allergens: v
            .item
            .allergens
            .iter()
            .map(|a| c.lang.allergen(a))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut sections: Vec<MenuSection> = menu
        .categories
        .iter()
        .map(|cat| MenuSection {
            name: cat.name.clone(),
            items: menu
                .items
                .iter()
                .filter(|v| v.item.category == Some(cat.id))
                .map(row)
                .collect(),
        })
        .filter(|s| !s.items.is_empty())
        .collect();
    let loose: Vec<MenuItemRow> = menu
        .items
        .iter()
        .filter(|v| {
            v.item
                .category
                .is_none_or(|c| !menu.categories.iter().any(|k| k.id == c))
        })
        .map(row)
        .collect();
    if !loose.is_empty() {
        sections.push(MenuSection {
            name: c
                .t(if sections.is_empty() {
                    "guest.menu.section_menu"
                } else {
                    "guest.menu.section_more"
                })
                .into_owned(),
            items: loose,
        });
    }
    let filter = allergen::ALLERGENS
        .iter()
        .map(|&(k, _)| (k, c.lang.allergen(k), hide.iter().any(|h| h == k)))
        .collect();
    let refusal = status.refused.as_ref().map(|r| c.lang.refusal(r));
    render(&MenuPage {
        c,
        shop_id: id,
        refusal,
        name: menu.shop.name,
        location: menu.shop.location,
        sections,
        filter,
        hidden,
    })
}

/// The reason the store writes when a guest cancels (`store::orders`).
const CANCELLED_BY_GUEST: &str = "cancelled by the guest";

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    c: Chrome,
    v: OrderView,
    link: String,
    qr_svg: String,
    /// The payment QR with the exact amount, while unpaid (if the shop set one up).
    pay_qr_svg: Option<String>,
}

impl OrderPage {
    fn options(&self, line: &crate::domain::order::OrderLine) -> String {
        line.options_text(|a| self.c.money(a))
    }
    fn stage(&self) -> String {
        stage_text(self.c.lang, self.v.order.status)
    }
    /// The wait in the page's language (`4–9 min`, `about 5 min`).
    fn wait(&self, w: &crate::domain::wait::Wait) -> String {
        let (low, typical, high) = w.minutes();
        if w.is_range() {
            self.c
                .t2("js.guest.wait_range", &("lo", low), &("hi", high))
        } else {
            self.c.t1("js.guest.wait_about", "n", typical)
        }
    }
    /// The cancel reason: a shop's own words as written; the one the
    /// system wrote for a guest's cancel in the page's language.
    fn reason(&self, r: &str) -> String {
        if r == CANCELLED_BY_GUEST {
            self.c.t("guest.order.cancelled_by_guest").into_owned()
        } else {
            r.to_owned()
        }
    }
    fn can_cancel(&self) -> bool {
        self.v.order.status == OrderStatus::Placed
    }
    /// What the shop took back, when its last step was a correction.
    fn correction(&self) -> Option<String> {
        let last = self.v.events.last()?;
        let back = last.from.is_some_and(|from| last.to.is_back_from(from));
        let key = match last.to {
            OrderStatus::Placed => "js.correction.placed",
            OrderStatus::Accepted => "js.correction.accepted",
            OrderStatus::Preparing => "js.correction.preparing",
            OrderStatus::Ready => "js.correction.ready",
            _ => "js.correction.other",
        };
        back.then(|| self.c.t(key).into_owned())
    }
    fn paid(&self) -> bool {
        self.v
            .payment
            .as_ref()
            .is_some_and(|p| p.status == crate::domain::service::PaymentStatus::Successful)
    }
}

/// The origin guests reach this server at: the portal address (configured
/// as `portal_host`, else derived from the listener). Only a state without
/// one (unit tests) falls back to a `Host` header checked to be a plain host
/// name or address; `plain`: the request came to a guest over plain HTTP
/// ([`crate::web::redirect::Plain`]).
pub fn origin(state: &AppState, headers: &HeaderMap, plain: bool) -> String {
    // The configured portal address (or the one derived from the listener):
    // never the request's `Host`, which a client chooses.
    if let Some(url) = &state.web.portal_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.web.secure_cookies && !plain {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A QR code of `text` as an inline SVG (empty if the text is too long).
pub(crate) fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

fn parse_token(t: &str) -> Result<Token, PageError> {
    t.parse()
        .map_err(|_| PageError::said(Failure::NotFound, "guest.order.no_such_order"))
}

async fn order(
    State(state): State<AppState>,
    c: Chrome,
    headers: HeaderMap,
    plain: Option<axum::Extension<crate::web::redirect::Plain>>,
    Path(token): Path<String>,
) -> PageResult {
    let token = parse_token(&token)?;
    let (v, pay) = state
        .store
        .read(move |r| {
            let v = orders::view(r, orders::order_by_token(r, token)?)?;
            let pay = crate::web::api::printing::order_payment_qr(r, &v.order, v.payment.as_ref())?;
            Ok((v, pay))
        })
        .await?;
    let link = format!(
        "{}/o/{}",
        origin(&state, &headers, plain.is_some()),
        v.order.token
    );
    let qr_svg = qr_svg(&link);
    let pay_qr_svg = pay.map(|p| self::qr_svg(&p.payload));
    render(&OrderPage {
        c,
        v,
        link,
        qr_svg,
        pay_qr_svg,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PageForm(Empty {}): PageForm<Empty>,
) -> PageResult {
    let token = parse_token(&token)?;
    let back = format!("/o/{token}");
    let result = state
        .store
        .write(move |tx| {
            let order = orders::order_by_token(&**tx, token)?;
            orders::set_status(
                tx,
                Scope::Guest(token),
                order.id,
                OrderStatus::Cancelled,
                None,
            )
        })
        .await;
    done(result, &back)
}

struct MyOrder {
    id: u64,
    token: String,
    shop: String,
    call: String,
    open: bool,
    status: &'static str,
    status_label: String,
    total: String,
}

#[derive(Template)]
#[template(path = "my_orders.html")]
struct MyOrders {
    c: Chrome,
    orders: Vec<MyOrder>,
}

impl MyOrders {
    fn any_open(&self) -> bool {
        self.orders.iter().any(|o| o.open)
    }
}

async fn my_orders(State(state): State<AppState>, c: Chrome, Device(guest): Device) -> PageResult {
    let (cur, lang) = (state.web.currency, c.lang);
    let list = state
        .store
        .read(move |r| {
            let mut out = Vec::new();
            let prefixes = pickup::prefixes(r)?;
            for o in orders::guest_orders(r, guest)?.into_iter().take(50) {
                let shop = catalog::shop(r, o.shop).map(|s| s.name).unwrap_or_default();
                let prefix = prefixes.get(&o.shop).map_or("", String::as_str);
                out.push(MyOrder {
                    id: o.id.0,
                    token: o.token.to_string(),
                    shop,
                    call: callsign::call(prefix, o.number),
                    open: o.status.is_open(),
                    status: o.status.as_str(),
                    status_label: stage_text(lang, o.status),
                    total: lang.money(cur, o.total),
                });
            }
            Ok(out)
        })
        .await?;
    render(&MyOrders { c, orders: list })
}

#[derive(Template)]
#[template(path = "table.html")]
struct TablePage {
    c: Chrome,
    label: String,
    shop_id: u64,
    shop: String,
    open: bool,
}

impl TablePage {
    /// "You are ordering at Table 2 of Bubble Lab. …"
    fn here(&self) -> String {
        self.c.t2(
            "guest.table.here",
            &("table", &self.label),
            &("shop", &self.shop),
        )
    }
}

async fn table(State(state): State<AppState>, c: Chrome, Path(code): Path<String>) -> PageResult {
    let code: Token = code
        .parse()
        .map_err(|_| PageError::said(Failure::NotFound, "guest.table.unknown"))?;
    let (session, shop) = state
        .store
        .read(move |r| {
            let s = service::session_by_code(r, code)?;
            let shop = catalog::shop(r, s.shop)?;
            Ok((s, shop))
        })
        .await?;
    let open = session.closed_at.is_none();
    let page = TablePage {
        c,
        label: session.label,
        shop_id: shop.id.0,
        shop: shop.name,
        open,
    };
    let mut r = render(&page)?;
    let age = if open { 12 * 3600 } else { 0 };
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            TABLE_COOKIE,
            &code.to_string(),
            age,
            "Lax",
            state.web.secure_cookies,
        ),
    );
    Ok(r.into_response())
}

/// The guest leaves the table their phone joined (by a QR code, or a link
/// from anywhere): the cookie goes, and orders are plain orders again.
async fn leave_table(
    State(state): State<AppState>,
    PageForm(_): PageForm<Empty>,
) -> axum::response::Response {
    let mut r = super::see_other("/cart");
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(TABLE_COOKIE, "", 0, "Lax", state.web.secure_cookies),
    );
    r
}
