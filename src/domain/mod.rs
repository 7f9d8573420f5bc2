//! Pure rules of the venue: ids, money, shops, menus, stock and the order
//! state machine. No I/O lives here: the store and the web layer call these
//! functions and persist or render what they return.
//!
//! Invariants owned here:
//! - money is integer minor units ([`Cents`]), and sums are checked;
//! - an order moves only along the stage machine in [`order`];
//! - stock needs of a checkout are computed in one place ([`stock`]);
//! - an order's called identifier ("B12") is unique in the venue
//!   ([`callsign`]), and its wait estimate never reads zero ([`wait`]).

pub mod account;
pub mod allergen;
pub mod callsign;
pub mod currency;
pub mod ids;
pub mod mac;
pub mod menu;
pub mod money;
pub mod options;
pub mod order;
pub mod payqr;
pub mod photo;
pub mod service;
pub mod shop;
pub mod stock;
pub mod text;
pub mod time;
pub mod wait;

pub use ids::{
    CategoryId, GuestId, IngredientId, ItemId, NotificationId, OptionGroupId, OptionId, OrderId,
    SessionId, ShopId, Token, UserId,
};
pub use money::Cents;
pub use time::Timestamp;
