//! One live stream: what it watches ([`Watch`]) and how each committed
//! event becomes the frames it sends ([`Feed`]). Order streams take their
//! shop's queue from the shared read (`web::queue`), one per event.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::Bytes;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Interval;

use super::{KEEP_ALIVE, RESYNC, SHOP, STOCK, StreamSlot, TABLE_CLOSED, frame, json_frame};
use crate::domain::service::Notification;
use crate::domain::wait::Wait;
use crate::domain::{GuestId, OrderId, SessionId, ShopId, Timestamp};
use crate::events::DomainEvent;
use crate::store::queue::ShopQueue;
use crate::store::{StoreError, orders, service};
use crate::web::AppState;
use crate::web::pages::board;
use crate::web::pages::guest::stage_label;

/// What a stream listens for.
pub(super) enum Watch {
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

pub(super) struct Feed {
    pub(super) state: AppState,
    pub(super) rx: broadcast::Receiver<Arc<DomainEvent>>,
    pub(super) watch: Watch,
    /// Last notification id sent (guest streams).
    pub(super) last_id: u64,
    /// The board changed and its snapshot waits for the burst's end.
    pub(super) board_stale: bool,
    pub(super) queue: VecDeque<Bytes>,
    pub(super) keep_alive: Interval,
    pub(super) stopping: tokio::sync::watch::Receiver<bool>,
    pub(super) slot: StreamSlot,
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
    /// The estimate's low and high minutes (equal for one figure), for
    /// pages that say it in their own language.
    pub wait_range_minutes: Option<(u32, u32)>,
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

/// A wait's low and high minutes.
fn range(w: Wait) -> (u32, u32) {
    let (low, _, high) = w.minutes();
    (low, high)
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
            wait_range_minutes: live.wait.map(range),
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
    pub(super) async fn on(&mut self, event: &Arc<DomainEvent>) -> Result<(), StoreError> {
        if let Watch::Board { shop } = self.watch {
            self.board_stale |= matches!(
                &**event,
                DomainEvent::OrderPlaced { shop: s, .. }
                | DomainEvent::OrderStatusChanged { shop: s, .. }
                    if shop.is_none_or(|x| x == *s)
            );
            // A burst of events makes one snapshot, after its last one
            // (the board reads every open order: once per event, a rush
            // made it the daemon's largest cost).
            if self.board_stale && self.rx.is_empty() {
                self.board_stale = false;
                let data = board::snapshot(&self.state, shop).await?;
                self.queue.push_back(json_frame("board", None, &data));
            }
            return Ok(());
        }
        if let Watch::Order { order, shop, .. } = self.watch {
            let (s, own) = match &**event {
                DomainEvent::OrderPlaced { shop: s, .. } => (*s, false),
                DomainEvent::OrderStatusChanged {
                    shop: s, order: o, ..
                } => (*s, *o == order),
                _ => return Ok(()),
            };
            if s != shop {
                return Ok(());
            }
            let queue = self
                .state
                .queues
                .after(event, shop, &self.state.store)
                .await?;
            return if own {
                self.order_notifications(Some(queue)).await
            } else {
                self.order_queue(&queue);
                Ok(())
            };
        }
        match (&mut self.watch, &**event) {
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
            _ => Ok(()),
        }
    }

    /// Sends the order's new notifications, with its place in the queue
    /// (from the shop's shared queue when the caller has it).
    pub(super) async fn order_notifications(
        &mut self,
        shared: Option<Arc<ShopQueue>>,
    ) -> Result<(), StoreError> {
        let Watch::Order { order, guest, .. } = self.watch else {
            return Ok(());
        };
        let after = self.last_id;
        let (list, live) = self
            .state
            .store
            .read(move |r| {
                let list = service::notifications(r, guest, after)?;
                let o = orders::order_in_scope(r, orders::Scope::System, order)?;
                let live = match shared {
                    Some(q) => {
                        let q = q.wait(order, Timestamp::now());
                        Live {
                            queue_position: q.map(|(p, _)| p),
                            wait: q.map(|(_, w)| w),
                            reason: o.cancel_reason,
                        }
                    }
                    None => Live::of(&orders::view(r, o)?),
                };
                Ok((list, live))
            })
            .await?;
        let position = live.queue_position;
        let mut live = Some(live);
        let n_last = list.iter().filter(|n| n.order == order).count();
        let mut seen = 0;
        for n in &list {
            self.last_id = self.last_id.max(n.id.0);
            if n.order == order {
                seen += 1;
                // Only the newest carries the live state; older ones are history.
                let live = if seen == n_last { live.take() } else { None };
                self.queue.push_back(notification_event(n, live));
            }
        }
        if let Watch::Order { last_queue, .. } = &mut self.watch {
            *last_queue = position;
        }
        Ok(())
    }

    /// Sends the order's new place in the queue when it moved.
    fn order_queue(&mut self, queue: &ShopQueue) {
        let Watch::Order {
            order, last_queue, ..
        } = &mut self.watch
        else {
            return;
        };
        let q = queue.wait(*order, Timestamp::now());
        let position = q.map(|(p, _)| p);
        if position != *last_queue {
            *last_queue = position;
            let wait = q.map(|(_, w)| w);
            let data = serde_json::json!({
                "order_id": order.0,
                "queue_position": position,
                "wait_minutes": wait.map(|w| w.minutes().1),
                "wait": wait.map(|w| w.text()),
                "wait_range_minutes": wait.map(range),
            });
            self.queue.push_back(json_frame("queue", None, &data));
        }
    }

    pub(super) async fn device_notifications(&mut self) -> Result<(), StoreError> {
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
    pub(super) async fn next(mut self) -> Option<(Bytes, Self)> {
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
    pub(super) async fn login_holds(&self) -> bool {
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
