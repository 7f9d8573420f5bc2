//! Shopkeeper routes for running the counter: the shop's orders, stage
//! changes, payments, settings (pause, hours, limit), order numbers, tables
//! and today's report. Every route acts on the caller's own shop only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{OrderDto, PaymentDto, ShopDto, TableDto, WindowDto, parse_status};
use super::printing::{self, OwnShopDto};
use super::schemas;
use crate::domain::order::OrderStatus;
use crate::domain::service::{PaymentMethod, PaymentStatus};
use crate::domain::shop::{OpeningHours, PrintOn};
use crate::domain::{OrderId, SessionId};
use crate::store::{Scope, ShopPatch, catalog, orders, service};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, Shopkeeper};
use crate::web::ops;

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// Only open orders (placed … ready), oldest first. Default true.
    #[serde(default)]
    pub open: Option<bool>,
    /// With `open=false`: the newest this many (default 100, at most 500).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// The shop's orders.
#[utoipa::path(get, path = "/api/shop/orders", tag = "shop", params(OrdersQuery),
    responses((status = 200, body = [OrderDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_orders(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> ApiResult<Json<Vec<OrderDto>>> {
    let open = q.open.unwrap_or(true);
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit must be 1 to 500"));
    }
    let views = state
        .store
        .read(move |r| {
            orders::views_of_shop(r, k.shop, orders::shop_orders(r, k.shop, open, limit)?)
        })
        .await?;
    Ok(Json(
        views
            .iter()
            .map(|v| OrderDto::for_shop(v, state.web.currency))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `accepted`, `preparing`, `ready`, `completed` or `cancelled`.
    #[schema(schema_with = schemas::stage)]
    pub status: String,
    /// Required with `cancelled`; shown to the guest.
    #[serde(default)]
    #[schema(schema_with = schemas::reason_or_null)]
    pub reason: Option<String>,
    /// With `cancelled`: whether the order's stock comes back. Left out:
    /// yes while it was placed or accepted, no once it was being prepared
    /// (food already made does not go back to stock).
    #[serde(default)]
    pub restock: Option<bool>,
}

/// Moves an order to its next stage, cancels it with a reason, closes a
/// ready order as `not_collected`, or recalls a finished one to `ready`
/// (within 2 hours).
#[utoipa::path(post, path = "/api/shop/orders/{order_id}/status", tag = "shop", request_body = StatusRequest,
    params(("order_id" = u64, Path)),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not a valid stage change")))]
pub async fn set_status(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(order_id): ApiPath<u64>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> ApiResult<Json<OrderDto>> {
    let to = parse_status(&req.status).ok_or_else(|| {
        ApiError::invalid(
            "status must be accepted, preparing, ready, completed, cancelled or not_collected",
        )
    })?;
    let view = state
        .store
        .write(move |tx| {
            let scope = Scope::Shop(k.shop);
            let id = OrderId(order_id);
            let o = if to == OrderStatus::Cancelled {
                orders::cancel(tx, scope, id, req.reason, req.restock)?
            } else {
                orders::set_status(tx, scope, id, to, req.reason)?
            };
            orders::view(&**tx, o)
        })
        .await?;
    tracing::info!(order = order_id, status = %to, "order status changed");
    Ok(Json(OrderDto::for_shop(&view, state.web.currency)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// `pending`, `successful` or `failed`.
    #[schema(schema_with = schemas::payment_status)]
    pub status: PaymentStatus,
    /// Change the method (`cash`, `card`, `upi`, `wallet`).
    #[serde(default)]
    #[schema(schema_with = schemas::payment_method_or_null)]
    pub method: Option<PaymentMethod>,
}

/// Records a payment (the shop marks cash as paid).
#[utoipa::path(post, path = "/api/shop/orders/{order_id}/payment", tag = "shop", request_body = PaymentRequest,
    params(("order_id" = u64, Path)),
    responses((status = 200, body = PaymentDto), (status = 404, body = ErrorBody)))]
pub async fn set_payment(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(order_id): ApiPath<u64>,
    ApiJson(req): ApiJson<PaymentRequest>,
) -> ApiResult<Json<PaymentDto>> {
    let p = state
        .store
        .write(move |tx| {
            service::set_payment(tx, k.shop, OrderId(order_id), req.status, req.method)
        })
        .await?;
    Ok(Json(PaymentDto::from(&p)))
}

/// The caller's shop.
#[utoipa::path(get, path = "/api/shop", tag = "shop",
    responses((status = 200, body = OwnShopDto), (status = 401, body = ErrorBody)))]
pub async fn get_shop(State(state): State<AppState>, k: Shopkeeper) -> ApiResult<Json<OwnShopDto>> {
    let status = ops::shop(&state, k.shop).await?;
    let counter = state
        .store
        .read(move |r| printing::counter(r, k.shop))
        .await?;
    Ok(Json(printing::own_shop(
        &state,
        ShopDto::from(&status),
        counter,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopPatchRequest {
    #[schema(schema_with = schemas::name_or_null)]
    pub name: Option<String>,
    #[schema(schema_with = schemas::short_text_or_null)]
    pub location: Option<String>,
    #[schema(schema_with = schemas::short_text_or_null)]
    pub contact: Option<String>,
    /// Pause (true) or resume (false) ordering.
    pub paused: Option<bool>,
    /// Weekly opening windows; `[]` means always open.
    #[schema(max_items = 28)]
    pub hours: Option<Vec<WindowDto>>,
    /// Refuse new orders while this many are open; 0 removes the limit.
    #[schema(maximum = 10_000)]
    pub open_order_limit: Option<u32>,
    /// Ticket printer: `"host:port"` (port 9100 if left out), `"/dev/usb/lp0"`, or `null` for none.
    #[serde(default, deserialize_with = "printing::nullable")]
    #[schema(schema_with = schemas::printer_or_null)]
    pub printer: Option<Option<String>>,
    /// When a ticket prints: `placed` or `accepted`.
    #[serde(default)]
    #[schema(schema_with = schemas::print_on_or_null)]
    pub print_on: Option<PrintOn>,
    /// The payment QR guests see on their order, or `null` for none.
    #[serde(default, deserialize_with = "printing::nullable")]
    #[schema(value_type = Option<printing::PaymentQrDto>)]
    pub payment_qr: Option<Option<printing::PaymentQrDto>>,
    /// Minutes a ready order waits before it is closed as not collected;
    /// 0: only by hand.
    #[serde(default)]
    #[schema(maximum = 1440)]
    pub not_collected_after_minutes: Option<u32>,
}

/// Changes the shop: details, pause, opening hours, open-order limit,
/// ticket printer, payment QR.
#[utoipa::path(patch, path = "/api/shop", tag = "shop", request_body = ShopPatchRequest,
    responses((status = 200, body = OwnShopDto),
        (status = 409, body = ErrorBody, description = "The name is taken, or the shop is approved (the operator renames it); or the EMVCo payment QR fails its own check (structure, CRC, no currency): paste the text of the bank's static QR"),
        (status = 422, body = ErrorBody)))]
pub async fn patch_shop(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<ShopPatchRequest>,
) -> ApiResult<Json<OwnShopDto>> {
    let counter = printing::CounterPatch::new(
        req.printer,
        req.print_on,
        req.payment_qr,
        req.not_collected_after_minutes,
    )?;
    let patch = ShopPatch {
        name: req.name,
        location: req.location,
        contact: req.contact,
        paused: req.paused,
        hours: req.hours.map(|w| OpeningHours {
            windows: w.into_iter().map(Into::into).collect(),
        }),
        open_order_limit: req.open_order_limit.map(|n| (n > 0).then_some(n)),
    };
    let status = ops::write_shop(&state, move |tx| {
        let s = catalog::update_shop(tx, k.shop, patch)?;
        counter.apply(tx, k.shop)?;
        Ok(s)
    })
    .await?;
    let counter = state
        .store
        .read(move |r| printing::counter(r, k.shop))
        .await?;
    Ok(Json(printing::own_shop(
        &state,
        ShopDto::from(&status),
        counter,
    )))
}

/// Starts order numbers again from 1.
#[utoipa::path(post, path = "/api/shop/order-number/reset", tag = "shop",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn reset_numbers(State(state): State<AppState>, k: Shopkeeper) -> ApiResult<StatusCode> {
    state
        .store
        .write(move |tx| catalog::reset_numbers(tx, k.shop))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLineDto {
    pub item_id: u64,
    pub name: String,
    pub quantity: u64,
    pub revenue_cents: u64,
}

/// Today's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    /// Start of the venue-local day.
    pub since_ms: u64,
    pub orders: u64,
    pub cancelled: u64,
    pub revenue_cents: u64,
    pub items: Vec<ReportLineDto>,
    pub average_prep_seconds: Option<u32>,
}

/// Today's orders, sales per item and average preparation time.
#[utoipa::path(get, path = "/api/shop/report", tag = "shop",
    responses((status = 200, body = ReportDto), (status = 401, body = ErrorBody)))]
pub async fn report(State(state): State<AppState>, k: Shopkeeper) -> ApiResult<Json<ReportDto>> {
    let r = ops::report(&state, k.shop).await?;
    Ok(Json(ReportDto {
        since_ms: r.since.0,
        orders: r.orders,
        cancelled: r.cancelled,
        revenue_cents: r.revenue.0,
        items: r
            .lines
            .iter()
            .map(|l| ReportLineDto {
                item_id: l.item.0,
                name: l.name.clone(),
                quantity: l.quantity,
                revenue_cents: l.revenue.0,
            })
            .collect(),
        average_prep_seconds: r.average_prep_seconds,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTableRequest {
    /// "Table 2".
    #[schema(schema_with = schemas::name)]
    pub label: String,
}

/// Opens a table (order session); guests order into it with its code.
#[utoipa::path(post, path = "/api/shop/tables", tag = "shop", request_body = OpenTableRequest,
    responses((status = 201, body = TableDto), (status = 422, body = ErrorBody)))]
pub async fn open_table(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiJson(req): ApiJson<OpenTableRequest>,
) -> ApiResult<(StatusCode, Json<TableDto>)> {
    let s = state
        .store
        .write(move |tx| service::open_session(tx, k.shop, &req.label))
        .await?;
    Ok((StatusCode::CREATED, Json(TableDto::from(&s))))
}

/// The shop's tables, newest first.
#[utoipa::path(get, path = "/api/shop/tables", tag = "shop",
    responses((status = 200, body = [TableDto])))]
pub async fn list_tables(
    State(state): State<AppState>,
    k: Shopkeeper,
) -> ApiResult<Json<Vec<TableDto>>> {
    let list = state
        .store
        .read(move |r| service::sessions(r, k.shop))
        .await?;
    Ok(Json(list.iter().map(TableDto::from).collect()))
}

/// Closes a table; its guests are told at once.
#[utoipa::path(post, path = "/api/shop/tables/{table_id}/close", tag = "shop",
    params(("table_id" = u64, Path)),
    responses((status = 200, body = TableDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_table(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<TableDto>> {
    let s = state
        .store
        .write(move |tx| service::close_session(tx, k.shop, SessionId(id)))
        .await?;
    Ok(Json(TableDto::from(&s)))
}

/// The orders placed into one table.
#[utoipa::path(get, path = "/api/shop/tables/{table_id}/orders", tag = "shop",
    params(("table_id" = u64, Path)),
    responses((status = 200, body = [OrderDto]), (status = 404, body = ErrorBody)))]
pub async fn table_orders(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<Vec<OrderDto>>> {
    let views = state
        .store
        .read(move |r| {
            service::own_session(r, k.shop, SessionId(id))?;
            service::session_orders(r, SessionId(id))?
                .into_iter()
                .map(|o| orders::view(r, o))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Json(
        views
            .iter()
            .map(|v| OrderDto::for_shop(v, state.web.currency))
            .collect(),
    ))
}
