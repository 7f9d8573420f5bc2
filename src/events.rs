//! Domain events, in the past tense, published by the store's writer only
//! after the transaction that caused them has committed. The web layer
//! turns them into Server-Sent Events; the gateway will listen too.

use crate::domain::order::OrderStatus;
use crate::domain::{GuestId, ItemId, NotificationId, OptionId, OrderId, SessionId, ShopId};

/// Availability of one item after a stock change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemAvailability {
    /// The item.
    pub item: ItemId,
    /// Whether a guest can order it now.
    pub available: bool,
    /// Units left, where stock is counted.
    pub left: Option<u64>,
}

/// Availability of one option after its stock or switch changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionAvailability {
    /// The option.
    pub option: OptionId,
    /// Whether a guest can choose it now.
    pub available: bool,
    /// Portions left, where stock is counted (directly or by ingredients).
    pub left: Option<u64>,
}

/// Something that happened and was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    /// A guest placed an order.
    OrderPlaced {
        /// The order.
        order: OrderId,
        /// Its shop.
        shop: ShopId,
        /// The guest.
        guest: GuestId,
    },
    /// An order moved to another stage.
    OrderStatusChanged {
        /// The order.
        order: OrderId,
        /// Its shop.
        shop: ShopId,
        /// The guest.
        guest: GuestId,
        /// The new stage.
        status: OrderStatus,
        /// The stored notification for the guest.
        notification: NotificationId,
    },
    /// Stock or the availability toggle of some items changed.
    StockChanged {
        /// The shop.
        shop: ShopId,
        /// The items whose stock or availability may differ now.
        items: Vec<ItemAvailability>,
    },
    /// Stock or the availability switch of some options changed (open
    /// menus grey them out in place, without a reload).
    OptionsChanged {
        /// The shop.
        shop: ShopId,
        /// The options whose stock or availability may differ now.
        options: Vec<OptionAvailability>,
    },
    /// Login sessions ended (a logout, an expiry sweep, a removed login or
    /// a password reset): staff streams check that theirs still holds.
    LoginsEnded,
    /// A shop's details, menu or state changed.
    ShopChanged {
        /// The shop.
        shop: ShopId,
    },
    /// A ticket was queued for the shop's printer, or its printer settings changed.
    PrintQueueChanged {
        /// The shop.
        shop: ShopId,
    },
    /// A shop closed an order session (table).
    SessionClosed {
        /// The session.
        session: SessionId,
        /// Its shop.
        shop: ShopId,
    },
}
