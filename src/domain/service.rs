//! Records around an order: guest notifications, payments and order
//! sessions (tables that guests order into by scanning a QR code).

use serde::{Deserialize, Serialize};

use super::order::OrderStatus;
use super::{Cents, GuestId, NotificationId, OrderId, SessionId, ShopId, Timestamp, Token};

/// A stored message to a guest about one of their orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id; also the SSE event id, so it only grows.
    pub id: NotificationId,
    /// The guest device it is for.
    pub guest: GuestId,
    /// The order it is about.
    pub order: OrderId,
    /// The shop of the order.
    pub shop: ShopId,
    /// The stage the order reached.
    pub status: OrderStatus,
    /// The text shown to the guest.
    pub message: String,
    /// When.
    pub created_at: Timestamp,
    /// Whether the guest has seen it.
    pub read: bool,
}

/// How a guest pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// At the counter.
    Cash,
    /// Card at the counter or online.
    Card,
    /// UPI.
    Upi,
    /// A wallet.
    Wallet,
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Not paid yet.
    Pending,
    /// Paid.
    Successful,
    /// Tried and failed.
    Failed,
    /// The order was cancelled before it was paid: nothing is owed.
    Voided,
}

/// The payment record of one order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The order it pays for.
    pub order: OrderId,
    /// How.
    pub method: PaymentMethod,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The amount due.
    pub amount: Cents,
    /// A provider's transaction id, once online providers plug in.
    pub transaction_id: Option<String>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// An order session: a table that a shop opened for guests to order into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSession {
    /// Its id.
    pub id: SessionId,
    /// The shop that opened it.
    pub shop: ShopId,
    /// Label ("Table 2").
    pub label: String,
    /// The code in its QR link.
    pub code: Token,
    /// Opened at.
    pub opened_at: Timestamp,
    /// Closed at; `None` while open.
    pub closed_at: Option<Timestamp>,
}

/// A guest device's Wi-Fi session, kept by the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WifiSession {
    /// MAC address (`aa:bb:cc:dd:ee:ff` in JSON).
    pub mac: super::mac::Mac,
    /// Addresses seen for it.
    pub ips: Vec<std::net::IpAddr>,
    /// The guest devices (cookies) that joined or ordered from it, most
    /// recent last: how the captive-portal API, fetched by the phone's
    /// system without the browser's cookies, finds the guest's orders.
    pub devices: Vec<super::ids::GuestId>,
    /// DHCP host name, if it sent one.
    pub hostname: Option<String>,
    /// First seen.
    pub connected_at: Timestamp,
    /// Authorized to reach the internet until.
    pub authorized_until: Option<Timestamp>,
    /// Last traffic.
    pub last_seen: Timestamp,
    /// When the session ended.
    pub disconnected_at: Option<Timestamp>,
    /// Bytes from the client.
    pub bytes_in: u64,
    /// Bytes to the client.
    pub bytes_out: u64,
}
