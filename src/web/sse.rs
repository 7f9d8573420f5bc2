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

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{self, error::RecvError};

use super::AppState;
use super::error::ApiError;
use super::extract::{Device, Peer, Shopkeeper, cookie};
use super::pages::board;
use super::pages::cart::TABLE_COOKIE;
use super::pages::guest::stage_label;
use crate::domain::service::Notification;
use crate::domain::{GuestId, OrderId, SessionId, ShopId, Token};
use crate::events::DomainEvent;
use crate::store::{StoreError, orders, service};

/// Caps the open streams of each client address.
#[derive(Debug)]
pub struct StreamLimiter {
    max: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One open stream; closing it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    limiter: Arc<StreamLimiter>,
    ip: IpAddr,
}

impl StreamLimiter {
    /// At most `max` streams per address.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
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
            limiter: Arc::clone(self),
            ip,
        })
    }

    /// Streams open now from `ip`.
    pub fn count(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
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
    /// A shop's dashboard.
    Shop { shop: ShopId },
    /// The pickup board, of one shop or all.
    Board { shop: Option<ShopId> },
}

struct Feed {
    state: AppState,
    rx: broadcast::Receiver<Arc<DomainEvent>>,
    watch: Watch,
    /// Last notification id sent (guest streams).
    last_id: u64,
    queue: VecDeque<Event>,
    stopping: tokio::sync::watch::Receiver<bool>,
    _slot: StreamSlot,
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
    /// Estimated minutes.
    pub wait_minutes: Option<u32>,
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("resync").data("{}"))
}

fn notification_event(n: &Notification, queue: Option<(Option<u32>, Option<u32>)>) -> Event {
    let (queue_position, wait) = queue.unwrap_or((None, None));
    json_event(
        "status",
        &OrderUpdate {
            order_id: n.order.0,
            status: n.status.as_str(),
            label: stage_label(n.status),
            message: n.message.clone(),
            queue_position,
            wait_minutes: wait,
        },
    )
    .id(n.id.0.to_string())
}

impl Feed {
    /// Turns one committed event into what this stream sends.
    async fn on(&mut self, e: &DomainEvent) -> Result<(), StoreError> {
        match (&mut self.watch, e) {
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
                    .push_back(Event::default().event("placed").data(order.0.to_string()));
                Ok(())
            }
            (Watch::Device { table: Some(t), .. }, DomainEvent::SessionClosed { session, .. })
                if session == t =>
            {
                self.queue
                    .push_back(Event::default().event("table_closed").data("{}"));
                Ok(())
            }
            (Watch::Menu { shop }, DomainEvent::StockChanged { shop: s, items }) if s == shop => {
                let data: Vec<serde_json::Value> = items
                    .iter()
                    .map(|i| {
                        serde_json::json!({"item_id": i.item.0, "available": i.available, "left": i.left})
                    })
                    .collect();
                self.queue.push_back(json_event("availability", &data));
                Ok(())
            }
            (Watch::Menu { shop }, DomainEvent::ShopChanged { shop: s }) if s == shop => {
                self.queue
                    .push_back(Event::default().event("shop").data("{}"));
                Ok(())
            }
            (Watch::Shop { shop }, DomainEvent::OrderPlaced { shop: s, order, .. })
                if s == shop =>
            {
                self.queue
                    .push_back(Event::default().event("placed").data(order.0.to_string()));
                Ok(())
            }
            (
                Watch::Shop { shop },
                DomainEvent::OrderStatusChanged {
                    shop: s,
                    order,
                    status,
                    ..
                },
            ) if s == shop => {
                let data = serde_json::json!({"order_id": order.0, "status": status.as_str()});
                self.queue.push_back(json_event("status", &data));
                Ok(())
            }
            (
                Watch::Shop { shop },
                DomainEvent::StockChanged { shop: s, .. } | DomainEvent::ShopChanged { shop: s },
            ) if s == shop => {
                self.queue
                    .push_back(Event::default().event("stock").data("{}"));
                Ok(())
            }
            (
                Watch::Board { shop },
                DomainEvent::OrderPlaced { shop: s, .. }
                | DomainEvent::OrderStatusChanged { shop: s, .. },
            ) if shop.is_none_or(|x| x == *s) => {
                let data = board::snapshot(&self.state, *shop).await?;
                self.queue.push_back(json_event("board", &data));
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
        let queue = (
            view.queue_position,
            view.estimated_wait_seconds.map(|s| s.div_ceil(60)),
        );
        let n_last = list.iter().filter(|n| n.order == order).count();
        let mut seen = 0;
        for n in &list {
            self.last_id = self.last_id.max(n.id.0);
            if n.order == order {
                seen += 1;
                // Only the newest carries the live queue; older ones are history.
                let q = (seen == n_last).then_some(queue);
                self.queue.push_back(notification_event(n, q));
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
        let view = self
            .state
            .store
            .read(move |r| {
                let o = orders::order_in_scope(r, orders::Scope::System, order)?;
                orders::view(r, o)
            })
            .await?;
        if view.queue_position != last_queue {
            if let Watch::Order { last_queue, .. } = &mut self.watch {
                *last_queue = view.queue_position;
            }
            let data = serde_json::json!({
                "order_id": order.0,
                "queue_position": view.queue_position,
                "wait_minutes": view.estimated_wait_seconds.map(|s| s.div_ceil(60)),
            });
            self.queue.push_back(json_event("queue", &data));
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

    /// The next event to send, waiting for the broadcast when none is queued.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some((Ok(e), self));
            }
            let received = tokio::select! {
                r = self.rx.recv() => r,
                _ = self.stopping.wait_for(|s| *s) => return None,
            };
            match received {
                Ok(event) => {
                    if let Err(e) = self.on(&event).await {
                        tracing::debug!(error = %e, "event stream lookup failed");
                        self.queue
                            .push_back(Event::default().event("resync").data("{}"));
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "event stream lagged; asking to resync");
                    self.rx = self.rx.resubscribe();
                    self.queue
                        .push_back(Event::default().event("resync").data("{}"));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn last_event_id(h: &HeaderMap) -> Option<u64> {
    h.get("last-event-id")?.to_str().ok()?.trim().parse().ok()
}

fn open_feed(state: &AppState, peer: IpAddr, watch: Watch) -> Result<Feed, ApiError> {
    let slot = state.streams.open(peer).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            "too many live connections from this address; close other tabs",
        )
    })?;
    Ok(Feed {
        rx: state.store.subscribe(),
        state: state.clone(),
        watch,
        last_id: 0,
        queue: VecDeque::new(),
        stopping: state.stopping.subscribe(),
        _slot: slot,
    })
}

fn respond(mut feed: Feed) -> Response {
    // Tell the browser how soon to reconnect.
    feed.queue.push_front(
        Event::default()
            .retry(Duration::from_secs(2))
            .comment("hello"),
    );
    let s: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::unfold(feed, Feed::next));
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
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
        .read(move |r| crate::store::catalog::shop(r, shop))
        .await?;
    Ok(respond(open_feed(&state, peer.ip(), Watch::Menu { shop })?))
}

async fn shop_stream(
    State(state): State<AppState>,
    Peer(peer): Peer,
    keeper: Shopkeeper,
) -> Result<Response, ApiError> {
    Ok(respond(open_feed(
        &state,
        peer.ip(),
        Watch::Shop { shop: keeper.shop },
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
    let mut feed = open_feed(&state, peer.ip(), Watch::Board { shop })?;
    let data = board::snapshot(&state, shop).await?;
    feed.queue.push_back(json_event("board", &data));
    Ok(respond(feed))
}
