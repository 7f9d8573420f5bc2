//! `GET /api/board`: the pickup board's numbers as JSON (what `/board`
//! shows and `/events/board` streams), for the board page's refresh and for
//! anyone building their own screen. Guests only see approved shops: a
//! pending or rejected shop is as unknown as one that does not exist.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::domain::ShopId;
use crate::web::AppState;
use crate::web::error::{ApiResult, ErrorBody};
use crate::web::extract::ApiQuery;
use crate::web::pages::board::{self, BoardData};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoardApiQuery {
    /// One shop's board; without it, every approved shop's.
    #[serde(default)]
    pub shop: Option<u64>,
}

/// The pickup board: orders being prepared and orders ready to collect,
/// each as the number the counter calls out.
#[utoipa::path(get, path = "/api/board", tag = "guest", params(BoardApiQuery),
    responses(
        (status = 200, description = "The board", body = BoardData),
        (status = 404, description = "No such shop (or not approved)", body = ErrorBody)))]
pub async fn get_board(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BoardApiQuery>,
) -> ApiResult<Json<BoardData>> {
    Ok(Json(board::snapshot(&state, q.shop.map(ShopId)).await?))
}
