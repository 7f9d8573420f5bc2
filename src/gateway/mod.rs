//! The captive gateway: the nftables policy that keeps guests on the portal
//! until they join, and the operations on it (authorize, deauthorize,
//! trust, block), with Wi-Fi sessions kept in the store.

pub mod mac;
pub mod nft;
pub mod policy;
