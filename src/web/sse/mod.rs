//! Server-Sent Events: live streams for one order (by its status link), a
//! guest device, a shop's menu availability, a shop's dashboard and the
//! pickup board. Each stream is a filter over the store's broadcast of
//! committed [`DomainEvent`]s; no task per stream.
//!
//! Guest streams carry the stored notification id as the event id, so a
//! reconnect with `Last-Event-ID` replays exactly what was missed, in order.
//! A client that falls behind the broadcast gets a `resync` event (it then
//! refetches its state) instead of being dropped silently. Streams per
//! client address are capped.
//!
//! Fan-out is cheap per stream: a frame that is the same for every stream
//! of a kind (a menu's availability, a dashboard's notice) is serialized
//! once per event by the first stream that needs it and shared as
//! [`Bytes`]; static frames are never built at all. Only streams whose
//! content is their own (an order's stage, a device's notifications, the
//! board) format per stream.

use crate::web::error::Failure;
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use tokio::time::MissedTickBehavior;

use super::AppState;
use super::detach::detachable;
use super::error::ApiError;
use super::extract::{Device, Peer, Shopkeeper, cookie};
use super::pages::board;
use super::pages::cart::TABLE_COOKIE;
use crate::domain::{GuestId, ShopId, Token};
use crate::events::DomainEvent;
use crate::store::{orders, service};

/// The open streams: at most `max` per client address, and the frames
/// streams of one kind share for the latest event.
#[derive(Debug)]
pub struct Streams {
    max: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
    shared: Mutex<Shared>,
}

/// Frames made once per event and shared by every stream that sends them.
#[derive(Debug, Default)]
struct Shared {
    /// Availability on a shop's menu.
    menu: SharedFrame,
    /// A stage change on a shop's dashboard.
    shop: SharedFrame,
}

/// The frame made for one event.
type SharedFrame = Option<(Arc<DomainEvent>, Bytes)>;

/// One open stream; closing it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<Streams>,
    ip: IpAddr,
}

impl Streams {
    /// At most `max` streams per address.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
            shared: Mutex::new(Shared::default()),
        }
    }

    /// Takes a slot for `ip`, or `None` when it has too many open.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            streams: Arc::clone(self),
            ip,
        })
    }

    /// Streams open now from `ip`.
    pub fn count(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&ip).copied().unwrap_or(0)
    }

    /// The frame for `event` in the slot `pick` chooses: the one made by an
    /// earlier stream for this very event, or made now and kept for the
    /// next. The slot holds one event: events are sent one after another,
    /// and a stream that finds another event there only makes its own.
    fn shared(
        &self,
        pick: fn(&mut Shared) -> &mut SharedFrame,
        event: &Arc<DomainEvent>,
        make: impl FnOnce() -> Bytes,
    ) -> Bytes {
        {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((e, frame)) = pick(&mut shared)
                && Arc::ptr_eq(e, event)
            {
                return frame.clone();
            }
        }
        // Made outside the lock; two streams racing both make it once.
        let frame = make();
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        *pick(&mut shared) = Some((Arc::clone(event), frame.clone()));
        frame
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Tells the browser how soon to reconnect; the first bytes of a stream.
const HELLO: &[u8] = b": hello\nretry: 2000\n\n";
/// An empty comment that keeps idle connections (and NAT entries) open.
const KEEP_ALIVE: &[u8] = b":\n\n";
/// How often an idle stream sends [`KEEP_ALIVE`].
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);
const RESYNC: &[u8] = b"event: resync\ndata: {}\n\n";
const SHOP: &[u8] = b"event: shop\ndata: {}\n\n";
const STOCK: &[u8] = b"event: stock\ndata: {}\n\n";
const TABLE_CLOSED: &[u8] = b"event: table_closed\ndata: {}\n\n";

/// One event on the wire: `id`, `event` and a one-line `data`
/// ([SSE](https://html.spec.whatwg.org/multipage/server-sent-events.html)).
fn frame(name: &str, id: Option<u64>, data: &str) -> Bytes {
    let mut f = String::with_capacity(name.len() + data.len() + 40);
    if let Some(id) = id {
        // Writing to a String cannot fail.
        let _ = writeln!(f, "id: {id}");
    }
    f.push_str("event: ");
    f.push_str(name);
    f.push_str("\ndata: ");
    // Compact JSON and numbers hold no line breaks, which would end `data`.
    f.push_str(data);
    f.push_str("\n\n");
    Bytes::from(f)
}

/// An event whose data is `data` as JSON.
fn json_frame(name: &str, id: Option<u64>, data: &impl Serialize) -> Bytes {
    match serde_json::to_string(data) {
        Ok(json) => frame(name, id, &json),
        Err(_) => Bytes::from_static(RESYNC),
    }
}

/// The stream routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events/order/{token}", get(order_stream))
        .route("/events/me", get(me_stream))
        .route("/events/menu/{shop_id}", get(menu_stream))
        .route("/events/shop", get(shop_stream))
        .route("/events/board", get(board_stream))
}

mod feed;

pub use feed::OrderUpdate;
use feed::{Feed, Watch};

pub(crate) fn last_event_id(h: &HeaderMap) -> Option<u64> {
    h.get("last-event-id")?.to_str().ok()?.trim().parse().ok()
}

fn open_feed(state: &AppState, peer: IpAddr, watch: Watch) -> Result<Feed, ApiError> {
    let slot = state.streams.open(peer).ok_or_else(|| {
        ApiError::new(
            Failure::TooMany,
            "too_many_streams",
            "too many live connections from this address; close other tabs",
        )
    })?;
    let mut keep_alive = tokio::time::interval_at(
        tokio::time::Instant::now() + KEEP_ALIVE_EVERY,
        KEEP_ALIVE_EVERY,
    );
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    Ok(Feed {
        rx: state.store.subscribe(),
        state: state.clone(),
        watch,
        last_id: 0,
        board_stale: false,
        queue: VecDeque::new(),
        keep_alive,
        stopping: state.stopping.subscribe(),
        slot,
    })
}

fn respond(mut feed: Feed) -> Response {
    feed.queue.push_front(Bytes::from_static(HELLO));
    // The connection driver sends it without hyper where it can.
    let (body, detach) = detachable(stream::unfold(feed, Feed::next).boxed());
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response();
    response.extensions_mut().insert(detach);
    response
}

async fn order_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let token: Token = token.parse().map_err(|_| ApiError::not_found("order"))?;
    let view = state
        .store
        .read(move |r| orders::view(r, orders::order_by_token(r, token)?))
        .await?;
    let o = &view.order;
    let mut feed = open_feed(
        &state,
        peer.ip(),
        Watch::Order {
            order: o.id,
            guest: o.guest,
            shop: o.shop,
            last_queue: view.queue_position,
        },
    )?;
    match last_event_id(&headers) {
        Some(id) => {
            // Replay what the page missed while disconnected.
            feed.last_id = id;
            feed.order_notifications(None).await?;
        }
        None => feed.last_id = latest_notification(&state, o.guest).await?,
    }
    Ok(respond(feed))
}

/// The id of the guest's newest notification (0: none): a new stream
/// starts after it, so only what happens from now on is pushed.
async fn latest_notification(state: &AppState, guest: GuestId) -> Result<u64, ApiError> {
    let latest = state
        .store
        .read(move |r| service::notifications(r, guest, 0))
        .await?;
    Ok(latest.last().map_or(0, |n| n.id.0))
}

async fn me_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Device(guest): Device,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let table = match cookie(&headers, TABLE_COOKIE).and_then(|c| c.parse::<Token>().ok()) {
        Some(code) => state
            .store
            .read(move |r| service::session_by_code(r, code))
            .await
            .ok()
            .map(|s| s.id),
        None => None,
    };
    let mut feed = open_feed(&state, peer.ip(), Watch::Device { guest, table })?;
    match last_event_id(&headers) {
        Some(id) => {
            feed.last_id = id;
            feed.device_notifications().await?;
        }
        None => feed.last_id = latest_notification(&state, guest).await?,
    }
    Ok(respond(feed))
}

async fn menu_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Path(shop_id): Path<String>,
) -> Result<Response, ApiError> {
    let shop = ShopId(shop_id.parse().map_err(|_| ApiError::not_found("shop"))?);
    state
        .store
        .read(move |r| crate::store::catalog::listed_shop(r, shop))
        .await?;
    Ok(respond(open_feed(&state, peer.ip(), Watch::Menu { shop })?))
}

async fn shop_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    keeper: Shopkeeper,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The login it opens with: logging out, a removed login or a password
    // reset ends the stream.
    let login = cookie(&headers, super::extract::SESSION_COOKIE)
        .and_then(|v| v.parse::<Token>().ok())
        .map(|t| crate::auth::token_hash(&t))
        .ok_or_else(ApiError::unauthorized)?;
    Ok(respond(open_feed(
        &state,
        peer.ip(),
        Watch::Shop {
            shop: keeper.shop,
            login,
        },
    )?))
}

/// `?shop=ID` narrows the board to one shop.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// The shop, or all.
    pub shop: Option<u64>,
}

async fn board_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Query(q): Query<BoardQuery>,
) -> Result<Response, ApiError> {
    let shop = q.shop.map(ShopId);
    let data = board::snapshot(&state, shop).await?;
    let mut feed = open_feed(&state, peer.ip(), Watch::Board { shop })?;
    feed.queue.push_back(json_frame("board", None, &data));
    Ok(respond(feed))
}
