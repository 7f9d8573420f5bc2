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
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Interval, MissedTickBehavior};

use super::AppState;
use super::detach::detachable;
use super::error::ApiError;
use super::extract::{Device, Peer, Shopkeeper, cookie};
use super::pages::board;
use super::pages::cart::TABLE_COOKIE;
use super::pages::guest::stage_label;
use crate::domain::service::Notification;
use crate::domain::wait::Wait;
use crate::domain::{GuestId, OrderId, SessionId, ShopId, Token};
use crate::events::DomainEvent;
use crate::store::{StoreError, orders, service};

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

/// What a stream listens for.
enum Watch {
    /// One order, by its status link.
    Order {
        order: OrderId,
        guest: GuestId,
        shop: ShopId,
        last_queue: Option<u32>,
    },
    /// A guest device and its table.
    Device {
        guest: GuestId,
        table: Option<SessionId>,
    },
    /// A shop's menu availability.
    Menu { shop: ShopId },
    /// A shop's dashboard, for as long as the login it opened with holds.
    Shop {
        shop: ShopId,
        /// The hash of that login's token.
        login: [u8; 32],
    },
    /// The pickup board, of one shop or all.
    Board { shop: Option<ShopId> },
}

struct Feed {
    state: AppState,
    rx: broadcast::Receiver<Arc<DomainEvent>>,
    watch: Watch,
    /// Last notification id sent (guest streams).
    last_id: u64,
    queue: VecDeque<Bytes>,
    keep_alive: Interval,
    stopping: tokio::sync::watch::Receiver<bool>,
    slot: StreamSlot,
}

/// The JSON a guest's page applies for an order's stage.
#[derive(Debug, Serialize)]
pub struct OrderUpdate {
    /// The order.
    pub order_id: u64,
    /// Wire status.
    pub status: &'static str,
    /// For people.
    pub label: &'static str,
    /// The stored message, when this is a notification.
    pub message: String,
    /// 1 = next; absent once ready.
    pub queue_position: Option<u32>,
    /// Estimated minutes (the typical figure).
    pub wait_minutes: Option<u32>,
    /// The estimate as the guest reads it ("about 5 min", "4–9 min").
    pub wait: Option<String>,
    /// Why the order was cancelled, when it was.
    pub reason: Option<String>,
}

/// What the newest event of an order stream carries besides the stage:
/// the live queue and everything else the page shows.
struct Live {
    queue_position: Option<u32>,
    wait: Option<Wait>,
    reason: Option<String>,
}

impl Live {
    fn of(view: &orders::OrderView) -> Live {
        Live {
            queue_position: view.queue_position,
            wait: view.wait,
            reason: view.order.cancel_reason.clone(),
        }
    }
}

fn notification_event(n: &Notification, live: Option<Live>) -> Bytes {
    let live = live.unwrap_or(Live {
        queue_position: None,
        wait: None,
        reason: None,
    });
    json_frame(
        "status",
        Some(n.id.0),
        &OrderUpdate {
            order_id: n.order.0,
            status: n.status.as_str(),
            label: stage_label(n.status),
            message: n.message.clone(),
            queue_position: live.queue_position,
            wait_minutes: live.wait.map(|w| w.minutes().1),
            wait: live.wait.map(|w| w.text()),
            reason: live.reason,
        },
    )
}

/// One item's availability, as a menu page applies it.
#[derive(Serialize)]
struct Availability {
    item_id: u64,
    available: bool,
    left: Option<u64>,
}

/// One option's availability, as a menu or chooser applies it.
#[derive(Serialize)]
struct OptionState {
    option_id: u64,
    available: bool,
    left: Option<u64>,
}

/// A stage change, as a dashboard applies it.
#[derive(Serialize)]
struct StageChange {
    order_id: u64,
    status: &'static str,
}

impl Feed {
    /// Turns one committed event into what this stream sends.
    async fn on(&mut self, event: &Arc<DomainEvent>) -> Result<(), StoreError> {
        match (&mut self.watch, &**event) {
            (Watch::Order { order, .. }, DomainEvent::OrderStatusChanged { order: o, .. })
                if o == order =>
            {
                self.order_notifications().await
            }
            (
                Watch::Order { shop, .. },
                DomainEvent::OrderPlaced { shop: s, .. }
                | DomainEvent::OrderStatusChanged { shop: s, .. },
            ) if s == shop => self.order_queue().await,
            (Watch::Device { guest, .. }, DomainEvent::OrderStatusChanged { guest: g, .. })
                if g == guest =>
            {
                self.device_notifications().await
            }
            (
                Watch::Device { guest, .. },
                DomainEvent::OrderPlaced {
                    guest: g, order, ..
                },
            ) if g == guest => {
                self.queue
                    .push_back(frame("placed", None, &order.0.to_string()));
                Ok(())
            }
            (Watch::Device { table: Some(t), .. }, DomainEvent::SessionClosed { session, .. })
                if session == t =>
            {
                self.queue.push_back(Bytes::from_static(TABLE_CLOSED));
                Ok(())
            }
            (Watch::Menu { shop }, DomainEvent::StockChanged { shop: s, items }) if s == shop => {
                let f = self.slot.streams.shared(
                    |s| &mut s.menu,
                    event,
                    || {
                        let data: Vec<Availability> = items
                            .iter()
                            .map(|i| Availability {
                                item_id: i.item.0,
                                available: i.available,
                                left: i.left,
                            })
                            .collect();
                        json_frame("availability", None, &data)
                    },
                );
                self.queue.push_back(f);
                Ok(())
            }
            (Watch::Menu { shop }, DomainEvent::OptionsChanged { shop: s, options })
                if s == shop =>
            {
                let f = self.slot.streams.shared(
                    |s| &mut s.menu,
                    event,
                    || {
                        let data: Vec<OptionState> = options
                            .iter()
                            .map(|o| OptionState {
                                option_id: o.option.0,
                                available: o.available,
                                left: o.left,
                            })
                            .collect();
                        json_frame("options", None, &data)
                    },
                );
                self.queue.push_back(f);
                Ok(())
            }
            (Watch::Menu { shop }, DomainEvent::ShopChanged { shop: s }) if s == shop => {
                self.queue.push_back(Bytes::from_static(SHOP));
                Ok(())
            }
            (Watch::Shop { shop, .. }, DomainEvent::OrderPlaced { shop: s, order, .. })
                if s == shop =>
            {
                self.queue
                    .push_back(frame("placed", None, &order.0.to_string()));
                Ok(())
            }
            (
                Watch::Shop { shop, .. },
                DomainEvent::OrderStatusChanged {
                    shop: s,
                    order,
                    status,
                    ..
                },
            ) if s == shop => {
                let f = self.slot.streams.shared(
                    |s| &mut s.shop,
                    event,
                    || {
                        let data = StageChange {
                            order_id: order.0,
                            status: status.as_str(),
                        };
                        json_frame("status", None, &data)
                    },
                );
                self.queue.push_back(f);
                Ok(())
            }
            (
                Watch::Shop { shop, .. },
                DomainEvent::StockChanged { shop: s, .. }
                | DomainEvent::OptionsChanged { shop: s, .. }
                | DomainEvent::ShopChanged { shop: s },
            ) if s == shop => {
                self.queue.push_back(Bytes::from_static(STOCK));
                Ok(())
            }
            (
                Watch::Board { shop },
                DomainEvent::OrderPlaced { shop: s, .. }
                | DomainEvent::OrderStatusChanged { shop: s, .. },
            ) if shop.is_none_or(|x| x == *s) => {
                let data = board::snapshot(&self.state, *shop).await?;
                self.queue.push_back(json_frame("board", None, &data));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn order_notifications(&mut self) -> Result<(), StoreError> {
        let Watch::Order { order, guest, .. } = self.watch else {
            return Ok(());
        };
        let after = self.last_id;
        let (list, view) = self
            .state
            .store
            .read(move |r| {
                let list = service::notifications(r, guest, after)?;
                let o = orders::order_in_scope(r, orders::Scope::System, order)?;
                Ok((list, orders::view(r, o)?))
            })
            .await?;
        let n_last = list.iter().filter(|n| n.order == order).count();
        let mut seen = 0;
        for n in &list {
            self.last_id = self.last_id.max(n.id.0);
            if n.order == order {
                seen += 1;
                // Only the newest carries the live state; older ones are history.
                let live = (seen == n_last).then(|| Live::of(&view));
                self.queue.push_back(notification_event(n, live));
            }
        }
        if let Watch::Order { last_queue, .. } = &mut self.watch {
            *last_queue = view.queue_position;
        }
        Ok(())
    }

    async fn order_queue(&mut self) -> Result<(), StoreError> {
        let Watch::Order {
            order, last_queue, ..
        } = self.watch
        else {
            return Ok(());
        };
        let q = self
            .state
            .store
            .read(move |r| {
                let o = orders::order_in_scope(r, orders::Scope::System, order)?;
                let s = crate::store::catalog::shop(r, o.shop)?;
                orders::queue(r, &s, &o)
            })
            .await?;
        let position = q.map(|(p, _)| p);
        if position != last_queue {
            if let Watch::Order { last_queue, .. } = &mut self.watch {
                *last_queue = position;
            }
            let wait = q.map(|(_, w)| w);
            let data = serde_json::json!({
                "order_id": order.0,
                "queue_position": position,
                "wait_minutes": wait.map(|w| w.minutes().1),
                "wait": wait.map(|w| w.text()),
            });
            self.queue.push_back(json_frame("queue", None, &data));
        }
        Ok(())
    }

    async fn device_notifications(&mut self) -> Result<(), StoreError> {
        let Watch::Device { guest, .. } = self.watch else {
            return Ok(());
        };
        let after = self.last_id;
        let list = self
            .state
            .store
            .read(move |r| service::notifications(r, guest, after))
            .await?;
        for n in &list {
            self.last_id = self.last_id.max(n.id.0);
            self.queue.push_back(notification_event(n, None));
        }
        Ok(())
    }

    /// The next bytes to send, waiting for the broadcast when none are
    /// queued; a keep-alive when the stream has been quiet.
    async fn next(mut self) -> Option<(Bytes, Self)> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some((e, self));
            }
            let received = tokio::select! {
                r = self.rx.recv() => Some(r),
                _ = self.keep_alive.tick() => None,
                _ = self.stopping.wait_for(|s| *s) => return None,
            };
            let Some(received) = received else {
                // A login that expired ends its stream within a keep-alive.
                if !self.login_holds().await {
                    return None;
                }
                return Some((Bytes::from_static(KEEP_ALIVE), self));
            };
            match received {
                Ok(event) if *event == DomainEvent::LoginsEnded => {
                    if !self.login_holds().await {
                        return None;
                    }
                }
                Ok(event) => {
                    if let Err(e) = self.on(&event).await {
                        tracing::debug!(error = %e, "event stream lookup failed");
                        self.queue.push_back(Bytes::from_static(RESYNC));
                    }
                    if !self.queue.is_empty() {
                        self.keep_alive.reset();
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "event stream lagged; asking to resync");
                    self.rx = self.rx.resubscribe();
                    self.queue.push_back(Bytes::from_static(RESYNC));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

impl Feed {
    /// Whether the staff login a stream was opened with still holds
    /// (always, for guests' streams).
    async fn login_holds(&self) -> bool {
        let Watch::Shop { login, .. } = self.watch else {
            return true;
        };
        let now = self.state.store.now();
        let found = self
            .state
            .store
            .read(move |r| crate::store::accounts::login_user(r, login, now))
            .await;
        // A failed read keeps the stream; the next check decides.
        !matches!(found, Ok(None))
    }
}

fn last_event_id(h: &HeaderMap) -> Option<u64> {
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
            feed.order_notifications().await?;
        }
        None => {
            let guest = o.guest;
            let latest = state
                .store
                .read(move |r| service::notifications(r, guest, 0))
                .await?;
            feed.last_id = latest.last().map_or(0, |n| n.id.0);
        }
    }
    Ok(respond(feed))
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
        None => {
            let latest = state
                .store
                .read(move |r| service::notifications(r, guest, 0))
                .await?;
            feed.last_id = latest.last().map_or(0, |n| n.id.0);
        }
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
