//! Ticket printers: one task per shop with a printer sends that shop's
//! queued tickets in order, retrying with back-off while the printer is
//! off, and removes a ticket from the store only once the printer took its
//! bytes. The queue itself is durable ([`crate::store::printing`]): tickets
//! are queued in the transaction of the stage change, so a crash or a
//! restart loses none; a crash between sending and removing prints that
//! ticket once more (at least once, never lost).
//!
//! A supervisor task owns the workers: it starts one per shop that has a
//! printer (at start and when settings change) and wakes it on
//! [`DomainEvent::PrintQueueChanged`]. [`Printers`] is the cheap handle the
//! dashboard reads the printers' state through.
//!
//! Must not: block the runtime (device writes go to the blocking pool
//! under a timeout), or render anything but from the stored order.

pub mod escpos;
mod send;
pub mod ticket;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::domain::ShopId;
use crate::events::DomainEvent;
use crate::store::{Store, StoreError, View, catalog, orders, printing, service};
pub use send::SendError;
use ticket::Ticket;

/// First retry after this long; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between two tries while the printer is off.
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// While idle, how often the printer is checked (connect and close).
const PROBE_EVERY: Duration = Duration::from_secs(60);

/// Printer state of every shop with a printer: `true` once it took the
/// last ticket or answered the last check, `false` once it failed.
type States = BTreeMap<ShopId, bool>;

/// A cheap handle to the printers' state.
#[derive(Clone, Debug)]
pub struct Printers {
    states: watch::Receiver<States>,
}

impl Printers {
    /// Whether the shop's printer answered last time (`None`: not tried yet).
    pub fn online(&self, shop: ShopId) -> Option<bool> {
        self.states.borrow().get(&shop).copied()
    }
}

/// Starts the supervisor; the task ends when the store's events end.
pub fn start(store: Store, utc_offset_minutes: i32) -> (Printers, JoinHandle<()>) {
    let (tx, states) = watch::channel(States::new());
    // Subscribe before the first scan: no queued ticket slips between them.
    let events = store.subscribe();
    let task = tokio::spawn(supervise(store, events, Arc::new(tx), utc_offset_minutes));
    (Printers { states }, task)
}

async fn supervise(
    store: Store,
    mut events: broadcast::Receiver<Arc<DomainEvent>>,
    states: Arc<watch::Sender<States>>,
    utc_offset_minutes: i32,
) {
    // Dropping the set at the end aborts every worker.
    let mut workers = JoinSet::new();
    let mut wakers: HashMap<ShopId, mpsc::Sender<()>> = HashMap::new();
    let mut wake = |shop: ShopId, workers: &mut JoinSet<()>| {
        let alive = wakers.get(&shop).is_some_and(|w| !w.is_closed());
        if !alive {
            let (tx, rx) = mpsc::channel(1);
            let worker = Worker {
                store: store.clone(),
                shop,
                wake: rx,
                states: Arc::clone(&states),
                utc_offset_minutes,
            };
            workers.spawn(worker.run());
            wakers.insert(shop, tx);
        }
        if let Some(w) = wakers.get(&shop) {
            // Full means a wake-up is already pending: enough.
            let _ = w.try_send(());
        }
    };
    let mut rescan = true;
    loop {
        if rescan {
            match store.read(printing::shops_with_printers).await {
                Ok(shops) => {
                    for shop in shops {
                        wake(shop, &mut workers);
                    }
                    rescan = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the shops' printers; trying again");
                    tokio::time::sleep(MAX_BACKOFF).await;
                    continue;
                }
            }
        }
        match events.recv().await {
            Ok(event) => {
                if let DomainEvent::PrintQueueChanged { shop } = &*event {
                    wake(*shop, &mut workers);
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => rescan = true,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Sends one shop's tickets.
struct Worker {
    store: Store,
    shop: ShopId,
    wake: mpsc::Receiver<()>,
    states: Arc<watch::Sender<States>>,
    utc_offset_minutes: i32,
}

impl Worker {
    fn set_online(&self, online: Option<bool>) {
        self.states.send_if_modified(|s| {
            let before = s.get(&self.shop).copied();
            match online {
                Some(o) => s.insert(self.shop, o),
                None => s.remove(&self.shop),
            };
            before != online
        });
    }

    /// Waits for a wake-up or `limit`; `false` once the supervisor is gone.
    async fn idle(&mut self, limit: Duration) -> bool {
        match tokio::time::timeout(limit, self.wake.recv()).await {
            Ok(Some(())) | Err(_) => true,
            Ok(None) => false,
        }
    }

    async fn run(mut self) {
        let shop = self.shop;
        let mut backoff = MIN_BACKOFF;
        let mut probe_due = true;
        loop {
            let next = self
                .store
                .read(move |r| {
                    let settings = printing::printer_settings(r, shop)?;
                    Ok((settings.printer, printing::next_job(r, shop)?))
                })
                .await;
            let (target, job) = match next {
                Ok(found) => found,
                Err(StoreError::Unavailable) => return,
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "cannot read the print queue");
                    if !self.idle(MAX_BACKOFF).await {
                        return;
                    }
                    continue;
                }
            };
            let Some(target) = target else {
                // No printer (any more): tickets stay queued until one is set.
                self.set_online(None);
                if !self.idle(Duration::from_secs(86_400)).await {
                    return;
                }
                probe_due = true;
                continue;
            };
            let Some((seq, job)) = job else {
                if probe_due {
                    self.set_online(Some(send::probe(&target).await.is_ok()));
                }
                probe_due = true;
                if !self.idle(PROBE_EVERY).await {
                    return;
                }
                continue;
            };
            let bytes = match self.render(job.clone()).await {
                Ok(b) => b,
                Err(StoreError::NotFound { .. }) => {
                    tracing::warn!(shop = %shop, order = %job.order, "queued ticket of a missing order dropped");
                    let _ = self.remove(seq).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "cannot render a ticket");
                    if !self.idle(MAX_BACKOFF).await {
                        return;
                    }
                    continue;
                }
            };
            match send::send(&target, &bytes).await {
                Ok(()) => {
                    tracing::info!(shop = %shop, order = %job.order, printer = %target, "ticket printed");
                    self.set_online(Some(true));
                    backoff = MIN_BACKOFF;
                    if !self.remove(seq).await {
                        return;
                    }
                    probe_due = false;
                }
                Err(e) => {
                    if self.states.borrow().get(&shop) != Some(&false) {
                        tracing::warn!(shop = %shop, printer = %target, error = %e, "printer offline; tickets wait");
                    }
                    self.set_online(Some(false));
                    // A wake-up (a new ticket, new settings) tries again at once.
                    if !self.idle(backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// The ticket's bytes, from the order as stored now.
    async fn render(&self, job: printing::PrintJob) -> Result<Vec<u8>, StoreError> {
        let (shop, offset) = (self.shop, self.utc_offset_minutes);
        self.store
            .read(move |r| {
                let order = orders::order_in_scope(r, orders::Scope::Shop(shop), job.order)?;
                let name = catalog::shop(r, shop)?.name;
                let table = order
                    .session
                    .map(|s| service::own_session(r, shop, s).map(|s| s.label))
                    .transpose()
                    .ok()
                    .flatten();
                let payment = r.get(crate::store::tables::ORDER_ID_TO_PAYMENT, order.id.0)?;
                let t = Ticket::of(&order, &name, table, payment.as_ref(), offset, job.kind);
                Ok(t.render())
            })
            .await
    }

    /// Removes a printed ticket, trying until the store takes it; `false`
    /// when the store has shut down.
    async fn remove(&self, seq: u64) -> bool {
        let shop = self.shop;
        loop {
            match self
                .store
                .write(move |tx| printing::remove_job(tx, shop, seq))
                .await
            {
                Ok(()) => return true,
                Err(StoreError::Unavailable) => return false,
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "cannot remove a printed ticket; retrying");
                    tokio::time::sleep(MAX_BACKOFF).await;
                }
            }
        }
    }
}
