//! Guest routes: the shop list, menus, checkout, an order by its status
//! link, cancelling while placed, this device's orders and notifications,
//! and table lookups. No login: the device cookie identifies the guest.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{CategoryDto, ItemDto, MenuDto, OrderDto, OrderSummaryDto, ShopDto, TableDto};
use super::schemas;
use crate::domain::order::OrderStatus;
use crate::domain::service::PaymentMethod;
use crate::domain::{ItemId, OptionId};
use crate::domain::{NotificationId, ShopId, Token};
use crate::store::{Checkout, CheckoutLine, Scope, checkout, orders, service};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, Device, Peer};
use crate::web::ops::{self, Audience};

/// Every approved shop.
#[utoipa::path(get, path = "/api/shops", tag = "guest",
    responses((status = 200, body = [ShopDto])))]
pub async fn list_shops(State(state): State<AppState>) -> ApiResult<Json<Vec<ShopDto>>> {
    let shops = ops::shops(&state, true).await?;
    Ok(Json(shops.iter().map(ShopDto::from).collect()))
}

/// A shop's menu with live availability.
#[utoipa::path(get, path = "/api/shops/{shop_id}/menu", tag = "guest",
    params(("shop_id" = u64, Path, description = "The shop")),
    responses((status = 200, body = MenuDto), (status = 404, body = ErrorBody)))]
pub async fn shop_menu(
    State(state): State<AppState>,
    ApiPath(shop_id): ApiPath<u64>,
) -> ApiResult<Json<MenuDto>> {
    let (menu, status) = ops::menu(&state, ShopId(shop_id), Audience::Guest).await?;
    Ok(Json(MenuDto {
        shop: ShopDto::from(&status),
        categories: menu.categories.iter().map(CategoryDto::from).collect(),
        items: menu.items.iter().map(|i| ItemDto::new(i, false)).collect(),
        ingredients: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub item_id: u64,
    /// 1 to 99.
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: u32,
    /// Ids of the options chosen for the item (from its `option_groups`), each once.
    #[serde(default)]
    #[schema(schema_with = schemas::option_ids)]
    pub options: Vec<u64>,
}

/// A checkout: items of one or several shops.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    #[schema(min_items = 1, max_items = 50)]
    pub items: Vec<LineRequest>,
    /// A unique, unguessable string per checkout (a UUID); a retry with the
    /// same key and body returns the same orders instead of placing new
    /// ones, also from a device that never got the first answer's cookie.
    #[schema(min_length = 16, max_length = 100, pattern = "^[!-~]+$")]
    pub idempotency_key: String,
    /// A note to every shop of the checkout that has none in `notes` (kept
    /// for one-shop checkouts and older clients).
    #[serde(default)]
    #[schema(schema_with = schemas::text)]
    pub note: String,
    #[serde(default)]
    #[schema(schema_with = schemas::shop_notes)]
    pub notes: std::collections::BTreeMap<u64, String>,
    /// Name to call at pickup.
    #[serde(default)]
    #[schema(schema_with = schemas::pickup_name)]
    pub pickup_name: String,
    /// Table code from a scanned QR code.
    #[serde(default)]
    #[schema(schema_with = schemas::table_code_or_null)]
    pub session: Option<String>,
    /// `cash` (default), `card`, `upi` or `wallet`.
    #[serde(default)]
    #[schema(schema_with = schemas::payment_method_or_null)]
    pub payment_method: Option<PaymentMethod>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceOrderResponse {
    /// One order per shop.
    pub orders: Vec<OrderSummaryDto>,
}

/// Places a checkout: one order per shop, all or nothing.
#[utoipa::path(post, path = "/api/orders", tag = "guest", request_body = PlaceOrderRequest,
    responses(
        (status = 201, body = PlaceOrderResponse, description = "Placed (or the replay of an earlier identical request, with `Idempotent-Replayed: true`)"),
        (status = 404, body = ErrorBody, description = "An item is not on any menu (the menu changed; reload it)"),
        (status = 409, body = ErrorBody, description = "An item or option ran out or is switched off (`item_id` or `option_id` says which), an item's quantity over all lines is above 99, or a shop is not taking orders"),
        (status = 422, body = ErrorBody, description = "Malformed input, or options that break the item's groups (`option_id` or `group_id` says which)"),
        (status = 503, body = ErrorBody, description = "No new orders now: `out_of_storage` (the venue's storage is near its floor; orders already placed are still served), `storage_failed` (the storage is full or failing; the store recovers by itself) or `shutting_down`")))]
pub async fn place_order(
    State(state): State<AppState>,
    Device(guest): Device,
    Peer(peer): Peer,
    ApiJson(req): ApiJson<PlaceOrderRequest>,
) -> ApiResult<impl IntoResponse> {
    let session = match req.session.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => Some(
            code.parse::<Token>()
                .map_err(|_| ApiError::invalid("session is not a valid table code"))?,
        ),
        None => None,
    };
    let c = Checkout {
        guest,
        lines: req
            .items
            .iter()
            .map(|l| CheckoutLine {
                item: ItemId(l.item_id),
                quantity: l.quantity,
                options: l.options.iter().map(|&o| OptionId(o)).collect(),
            })
            .collect(),
        idempotency_key: req.idempotency_key,
        note: req.note,
        notes: req
            .notes
            .into_iter()
            .map(|(shop, note)| (ShopId(shop), note))
            .collect(),
        pickup_name: req.pickup_name,
        session,
        payment: req.payment_method.unwrap_or(PaymentMethod::Cash),
    };
    checkout::validate(&c)?;
    let placed = state.store.write(move |tx| checkout::place(tx, c)).await?;
    crate::web::captive::remember_device(&state, peer.ip(), guest).await;
    let mut headers = HeaderMap::new();
    if placed.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    } else {
        for o in &placed.orders {
            tracing::info!(order = %o.id, shop = %o.shop, number = o.number, "order placed");
        }
    }
    let body = PlaceOrderResponse {
        orders: placed
            .orders
            .iter()
            .map(|o| OrderSummaryDto::new(o, state.web.currency))
            .collect(),
    };
    Ok((
        StatusCode::CREATED,
        headers,
        axum::Extension(crate::web::extract::Placed),
        Json(body),
    ))
}

fn parse_token(token: &str) -> ApiResult<Token> {
    token.parse().map_err(|_| ApiError::not_found("order"))
}

/// An order by its status-link token.
#[utoipa::path(get, path = "/api/orders/{token}", tag = "guest",
    params(("token" = String, Path, description = "The order's status-link token")),
    responses((status = 200, body = super::printing::GuestOrderDto), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<super::printing::GuestOrderDto>> {
    let token = parse_token(&token)?;
    let (view, payment_qr) = state
        .store
        .read(move |r| {
            let view = orders::view(r, orders::order_by_token(r, token)?)?;
            let qr = super::printing::order_payment_qr(r, &view.order, view.payment.as_ref())?;
            Ok((view, qr))
        })
        .await?;
    Ok(Json(super::printing::GuestOrderDto {
        order: OrderDto::new(&view, state.web.currency),
        payment_qr,
    }))
}

/// The guest cancels an order that no shop has accepted yet.
#[utoipa::path(post, path = "/api/orders/{token}/cancel", tag = "guest",
    params(("token" = String, Path, description = "The order's status-link token")),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already accepted")))]
pub async fn cancel_order(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<OrderDto>> {
    let token = parse_token(&token)?;
    let view = state
        .store
        .write(move |tx| {
            let order = orders::order_by_token(&**tx, token)?;
            let order = orders::set_status(
                tx,
                Scope::Guest(token),
                order.id,
                OrderStatus::Cancelled,
                None,
            )?;
            orders::view(&**tx, order)
        })
        .await?;
    Ok(Json(OrderDto::new(&view, state.web.currency)))
}

/// This device's orders, newest first.
#[utoipa::path(get, path = "/api/me/orders", tag = "guest",
    responses((status = 200, body = [OrderSummaryDto])))]
pub async fn my_orders(
    State(state): State<AppState>,
    Device(guest): Device,
) -> ApiResult<Json<Vec<OrderSummaryDto>>> {
    let list = state
        .store
        .read(move |r| orders::guest_orders(r, guest))
        .await?;
    Ok(Json(
        list.iter()
            .map(|o| OrderSummaryDto::new(o, state.web.currency))
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    /// Also the SSE event id.
    pub id: u64,
    pub order_id: u64,
    pub shop_id: u64,
    pub status: String,
    pub message: String,
    pub created_at_ms: u64,
    pub read: bool,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AfterQuery {
    /// Only notifications with a larger id.
    #[serde(default)]
    #[param(maximum = 9_223_372_036_854_775_807_u64)]
    pub after: u64,
}

/// This device's notifications.
#[utoipa::path(get, path = "/api/me/notifications", tag = "guest", params(AfterQuery),
    responses((status = 200, body = [NotificationDto])))]
pub async fn my_notifications(
    State(state): State<AppState>,
    Device(guest): Device,
    ApiQuery(q): ApiQuery<AfterQuery>,
) -> ApiResult<Json<Vec<NotificationDto>>> {
    if i64::try_from(q.after).is_err() {
        return Err(ApiError::invalid(
            "after must be a notification id (0 to 2^63-1)",
        ));
    }
    let list = state
        .store
        .read(move |r| service::notifications(r, guest, q.after))
        .await?;
    Ok(Json(
        list.iter()
            .map(|n| NotificationDto {
                id: n.id.0,
                order_id: n.order.0,
                shop_id: n.shop.0,
                status: n.status.as_str().into(),
                message: n.message.clone(),
                created_at_ms: n.created_at.0,
                read: n.read,
            })
            .collect(),
    ))
}

/// Marks a notification read.
#[utoipa::path(post, path = "/api/me/notifications/{notification_id}/read", tag = "guest",
    params(("notification_id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read_notification(
    State(state): State<AppState>,
    Device(guest): Device,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| service::mark_read(tx, guest, NotificationId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A table by its QR code.
#[utoipa::path(get, path = "/api/tables/{code}", tag = "guest",
    params(("code" = String, Path, description = "The code from the table's QR link")),
    responses((status = 200, body = TableDto), (status = 404, body = ErrorBody)))]
pub async fn table(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<TableDto>> {
    let code: Token = code.parse().map_err(|_| ApiError::not_found("table"))?;
    let s = state
        .store
        .read(move |r| service::session_by_code(r, code))
        .await?;
    Ok(Json(TableDto::from(&s)))
}
