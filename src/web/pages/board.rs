//! The pickup board: a public full-screen page for a TV at the counter,
//! listing the numbers being prepared and the numbers ready, of one shop or
//! of the whole venue, kept live by `/events/board`. It shows order numbers
//! only, never pickup codes: the code is what proves an order is yours.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Serialize;

use super::{Chrome, PageResult, render};
use crate::domain::ShopId;
use crate::domain::order::OrderStatus;
use crate::store::{StoreError, catalog, orders};
use crate::web::AppState;
use crate::web::sse::BoardQuery;

/// Board routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/board", get(page))
        .route("/api/board", get(data))
}

/// One number on the board.
#[derive(Clone, Debug, Serialize)]
pub struct BoardEntry {
    /// The shop's name (venue boards show several shops).
    pub shop: String,
    /// The order number.
    pub number: u32,
}

/// What the board shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BoardData {
    /// Accepted or being made.
    pub preparing: Vec<BoardEntry>,
    /// Waiting at the counter.
    pub ready: Vec<BoardEntry>,
}

/// The board of one shop, or of every approved shop.
pub async fn snapshot(state: &AppState, shop: Option<ShopId>) -> Result<BoardData, StoreError> {
    state
        .store
        .read(move |r| {
            let shops = match shop {
                Some(id) => vec![catalog::shop(r, id)?],
                None => catalog::shops(r, true)?,
            };
            let mut b = BoardData::default();
            for s in shops {
                for o in orders::shop_orders(r, s.id, true, 0)? {
                    let e = BoardEntry {
                        shop: s.name.clone(),
                        number: o.number,
                    };
                    match o.status {
                        OrderStatus::Accepted | OrderStatus::Preparing => b.preparing.push(e),
                        OrderStatus::Ready => b.ready.push(e),
                        _ => {}
                    }
                }
            }
            Ok(b)
        })
        .await
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    title: String,
    shop: Option<u64>,
    b: BoardData,
}

async fn page(State(state): State<AppState>, c: Chrome, Query(q): Query<BoardQuery>) -> PageResult {
    let shop = q.shop.map(ShopId);
    let title = match shop {
        Some(id) => state.store.read(move |r| catalog::shop(r, id)).await?.name,
        None => c.venue.clone(),
    };
    let b = snapshot(&state, shop).await?;
    render(&BoardPage {
        title,
        shop: q.shop,
        b,
    })
}

async fn data(
    State(state): State<AppState>,
    Query(q): Query<BoardQuery>,
) -> Result<axum::Json<BoardData>, crate::web::error::ApiError> {
    Ok(axum::Json(snapshot(&state, q.shop.map(ShopId)).await?))
}
