//! The kitchen's correction route: taking back the shop's last stage
//! change of an order (the stage machine's other new steps, cancelling a
//! prepared order, not collected and recall, go through the status route).

use axum::Json;
use axum::extract::State;

use super::dto::OrderDto;
use crate::domain::OrderId;
use crate::store::{kitchen, orders};
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::{ApiPath, Shopkeeper};

/// Takes back the shop's last stage change of an order, within 30 seconds
/// (not a cancellation). The guest's page shows the correction.
#[utoipa::path(post, path = "/api/shop/orders/{order_id}/undo", tag = "shop",
    params(("order_id" = u64, Path)),
    responses((status = 200, body = OrderDto, description = "The order, back at the stage before"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Nothing to undo: too late (30 s), a cancellation, not the shop's change, or already undone")))]
pub async fn undo(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(order_id): ApiPath<u64>,
) -> ApiResult<Json<OrderDto>> {
    let view = state
        .store
        .write(move |tx| {
            let o = kitchen::undo(tx, k.shop, OrderId(order_id))?;
            orders::view(&**tx, o)
        })
        .await?;
    tracing::info!(order = order_id, status = %view.order.status, "stage change undone");
    Ok(Json(OrderDto::for_shop(&view, state.web.currency)))
}
