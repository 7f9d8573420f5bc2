//! MAC addresses live in the domain ([`crate::domain::mac`]); this path
//! stays for the gateway's users.

pub use crate::domain::mac::Mac;
