//! The pickup board: a public full-screen page for a TV at the counter,
//! listing the orders being prepared and the orders ready, of one shop or
//! of the whole venue, kept live by `/events/board` (and by a refresh
//! without JavaScript); `web::api::board` serves the same data as JSON. Each order appears as the identifier the phone
//! shows big and the counter calls out ("B12", `domain::callsign`), never
//! with its pickup code: the code is what proves an order is yours.
//!
//! Ready numbers leave the board when collected or after the venue's
//! `board_ready_minutes`; one ready for less than [`FRESH_SECONDS`] is
//! marked fresh (highlighted). The numbers fill the screen: each column is
//! a grid whose shape [`fit`] picks for the count of numbers.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Chrome, PageResult, render};
use crate::domain::order::OrderStatus;
use crate::domain::{ShopId, callsign};
use crate::store::{StoreError, catalog, orders, pickup};
use crate::web::AppState;
use crate::web::sse::BoardQuery;

/// Board routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/board", get(page))
}

/// How long a newly ready number stays highlighted.
pub const FRESH_SECONDS: u64 = 60;
/// Most numbers in a column (a 10 × 10 grid; the stylesheet has a class
/// per shape, as the CSP allows no inline style); the oldest are shown.
pub const MAX_SHOWN: usize = 100;
/// Shortest and longest identifier lengths the stylesheet sizes for.
const CHARS: (usize, usize) = (2, 8);

/// One order on the board.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BoardEntry {
    /// The identifier called out ("B12").
    pub call: String,
    /// The shop's name.
    pub shop: String,
    /// Ready for less than [`FRESH_SECONDS`].
    pub fresh: bool,
}

/// One prefix and the shop it stands for.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LegendEntry {
    /// The prefix ("B").
    pub prefix: String,
    /// The shop's name.
    pub shop: String,
}

/// The shape of a column's grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Grid {
    /// Numbers side by side.
    pub cols: usize,
    /// Rows of numbers.
    pub rows: usize,
}

/// What the board shows.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct BoardData {
    /// Accepted or being made, oldest first.
    pub preparing: Vec<BoardEntry>,
    /// Waiting at the counter, in the order they became ready.
    pub ready: Vec<BoardEntry>,
    /// The prefixes of the shops on the board.
    pub legend: Vec<LegendEntry>,
    /// The longest identifier, in characters (sizes the numbers).
    pub chars: usize,
    /// The preparing column's grid.
    pub preparing_grid: Grid,
    /// The ready column's grid.
    pub ready_grid: Grid,
}

/// The ready column's box on a 16:9 screen, in hundredths of the screen
/// height (the stylesheet gives it 60 % of the width).
const READY_BOX: (f32, f32) = (100.0, 76.0);
/// The preparing column's box.
const PREPARING_BOX: (f32, f32) = (62.0, 76.0);

/// The grid that lets `n` identifiers of `chars` characters be largest in
/// a box `w` × `h`: a digit is about 0.6 of the font size wide (plus the
/// cell's padding), a row about 1.3 high.
pub fn fit(n: usize, (w, h): (f32, f32), chars: usize) -> Grid {
    if n == 0 {
        return Grid { cols: 1, rows: 1 };
    }
    let n = n.min(MAX_SHOWN);
    let width_em = chars.clamp(CHARS.0, CHARS.1) as f32 * 0.6 + 0.8;
    let mut best = (0.0f32, Grid { cols: 10, rows: 10 });
    for cols in 1..=n.min(10) {
        let rows = n.div_ceil(cols);
        if rows > 10 {
            continue;
        }
        let size = (w / cols as f32 / width_em).min(h / rows as f32 / 1.3);
        if size > best.0 {
            best = (size, Grid { cols, rows });
        }
    }
    best.1
}

/// The board of one shop, or of every approved shop, at `now`.
pub async fn snapshot(state: &AppState, shop: Option<ShopId>) -> Result<BoardData, StoreError> {
    let keep_ms = u64::from(state.web.board_ready_minutes) * 60_000;
    let now = state.store.now();
    state
        .store
        .read(move |r| {
            let shops = match shop {
                Some(id) => vec![catalog::listed_shop(r, id)?],
                None => catalog::shops(r, true)?,
            };
            let prefixes = pickup::prefixes(r)?;
            let mut preparing = Vec::new();
            let mut ready = Vec::new();
            let mut legend = Vec::new();
            for s in shops {
                let prefix = prefixes.get(&s.id).cloned().unwrap_or_default();
                legend.push(LegendEntry {
                    prefix: prefix.clone(),
                    shop: s.name.clone(),
                });
                for o in orders::shop_orders(r, s.id, true, 0)? {
                    let since = now.since(o.updated_at);
                    let e = |fresh| BoardEntry {
                        call: callsign::call(&prefix, o.number),
                        shop: s.name.clone(),
                        fresh,
                    };
                    match o.status {
                        OrderStatus::Accepted | OrderStatus::Preparing => {
                            preparing.push((o.id, e(false)));
                        }
                        OrderStatus::Ready if keep_ms == 0 || since < keep_ms => {
                            ready.push((o.updated_at, e(since < FRESH_SECONDS * 1000)));
                        }
                        _ => {}
                    }
                }
            }
            preparing.sort_by_key(|p| p.0);
            ready.sort_by_key(|r| r.0);
            Ok(board(
                preparing.into_iter().map(|(_, e)| e).collect(),
                ready.into_iter().map(|(_, e)| e).collect(),
                legend,
            ))
        })
        .await
}

fn board(
    preparing: Vec<BoardEntry>,
    ready: Vec<BoardEntry>,
    legend: Vec<LegendEntry>,
) -> BoardData {
    let chars = preparing
        .iter()
        .chain(&ready)
        .map(|e| e.call.chars().count())
        .max()
        .unwrap_or(2);
    BoardData {
        preparing_grid: fit(preparing.len(), PREPARING_BOX, chars),
        ready_grid: fit(ready.len(), READY_BOX, chars),
        preparing,
        ready,
        legend,
        chars,
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    c: Chrome,
    title: String,
    shop: Option<u64>,
    b: BoardData,
}

async fn page(State(state): State<AppState>, c: Chrome, Query(q): Query<BoardQuery>) -> PageResult {
    let shop = q.shop.map(ShopId);
    let title = match shop {
        Some(id) => {
            state
                .store
                .read(move |r| catalog::listed_shop(r, id))
                .await?
                .name
        }
        None => c.venue.clone(),
    };
    let b = snapshot(&state, shop).await?;
    render(&BoardPage {
        c,
        title,
        shop: q.shop,
        b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_numbers_take_the_shape_that_makes_them_biggest() {
        assert_eq!(fit(1, READY_BOX, 3), Grid { cols: 1, rows: 1 });
        // Two short ones are bigger one above the other than side by side.
        assert_eq!(fit(2, READY_BOX, 3), Grid { cols: 1, rows: 2 });
        // In a wide box they stand side by side.
        assert_eq!(fit(2, (300.0, 76.0), 3), Grid { cols: 2, rows: 1 });
    }

    #[test]
    fn many_numbers_wrap_into_a_grid_that_holds_them_all() {
        for n in [5, 12, 30, 80, 100] {
            let g = fit(n, READY_BOX, 4);
            assert!(g.cols * g.rows >= n, "{n}: {g:?}");
            assert!(g.rows > 1, "{n}: {g:?}");
            assert!(g.cols * (g.rows - 1) < n, "no empty row: {n} {g:?}");
        }
    }

    #[test]
    fn the_grid_has_a_class_for_every_shape() {
        for n in 0..300 {
            let g = fit(n, READY_BOX, 5);
            assert!(
                (1..=10).contains(&g.cols) && (1..=10).contains(&g.rows),
                "{n}: {g:?}"
            );
        }
    }

    #[test]
    fn longer_identifiers_take_fewer_columns() {
        let short = fit(12, READY_BOX, 2);
        let long = fit(12, READY_BOX, 6);
        assert!(long.cols <= short.cols, "{short:?} {long:?}");
    }
}
