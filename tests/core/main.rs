//! The ordering core, end to end: the real app on a loopback port over a
//! real redb file in a temp dir, driven through its JSON API, and the real
//! binary for crash safety and the command line.
//!
//! - `stock`: concurrent checkouts never oversell (items, shared
//!   ingredients, restocks); a multi-shop checkout is all or nothing.
//! - `orders`: idempotent placement; the stage machine, allowed and refused;
//!   stage events.
//! - `cancel`: cancelling returns stock once; reasons; auto-cancel.
//! - `input`: malformed checkouts and shops that refuse orders write nothing.
//! - `access`: roles, other shops, other devices, CSRF, login rate limits.
//! - `shops`: registration and approval, the OpenAPI document, a newer
//!   schema refused.
//! - `daemon`: SIGKILL mid-rush; the command line beside the daemon.
//! - `storage`: a full disk (tmpfs): the floor refuses new orders only;
//!   the store re-opens itself after a failed write; retention.
//! - `support`, `client`: the harness.

mod access;
mod cancel;
mod client;
mod compaction;
mod daemon;
mod input;
mod orders;
mod retention;
mod shops;
mod stock;
mod storage;
mod support;
