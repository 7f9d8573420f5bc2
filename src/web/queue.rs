//! Queue positions shared by a shop's order streams: one read per
//! committed event and shop, instead of one per open stream. In a rush
//! hundreds of order pages stay open, and each placed or moved order used
//! to make every one of them scan the shop's open orders (quadratic: the
//! rush bench's daemon spent its whole half core on it).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use crate::domain::ShopId;
use crate::events::DomainEvent;
use crate::store::queue::{ShopQueue, shop_queue};
use crate::store::{Store, StoreError};

/// Events remembered per shop: streams that lag a little behind still
/// find the queue of the event they are at.
const RECENT: usize = 8;

type Slot = (Arc<DomainEvent>, Arc<OnceCell<Arc<ShopQueue>>>);

/// The queue of each shop as of its latest events.
#[derive(Debug, Default)]
pub struct Queues(Mutex<HashMap<ShopId, VecDeque<Slot>>>);

impl Queues {
    /// The shop's queue as read after `event` committed: the first stream
    /// to ask reads it, the others wait for that read and share it. The
    /// slot holds the event, so its address is not reused while cached.
    pub async fn after(
        &self,
        event: &Arc<DomainEvent>,
        shop: ShopId,
        store: &Store,
    ) -> Result<Arc<ShopQueue>, StoreError> {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let recent = map.entry(shop).or_default();
            if let Some((_, cell)) = recent.iter().find(|(e, _)| Arc::ptr_eq(e, event)) {
                Arc::clone(cell)
            } else {
                let cell = Arc::new(OnceCell::new());
                recent.push_back((Arc::clone(event), Arc::clone(&cell)));
                if recent.len() > RECENT {
                    recent.pop_front();
                }
                cell
            }
        };
        cell.get_or_try_init(|| async {
            store.read(move |r| shop_queue(r, shop)).await.map(Arc::new)
        })
        .await
        .cloned()
    }
}
