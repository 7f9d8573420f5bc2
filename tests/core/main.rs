//! The ordering core, end to end: the real app on a loopback port over a
//! real redb file in a temp dir, driven through its JSON API, and the real
//! binary for crash safety and the command line.
//!
//! - `stock`: concurrent checkouts never oversell (items, shared
//!   ingredients, restocks); a multi-shop checkout is all or nothing.
//! - `orders`: idempotent placement; the stage machine, allowed and refused;
//!   stage events.
//! - `cancel`: cancelling returns stock once; reasons; auto-cancel.
//! - `options`: item options: stock of options under a rush (counted and
//!   through ingredients the drink shares), every refused choice, totals,
//!   merging, orders keeping options as ordered.
//! - `input`: malformed checkouts and shops that refuse orders write nothing.
//! - `notes`: a note per shop at checkout, on its own order and ticket only.
//! - `kitchen`: undo, recall, not collected, cancelling a prepared order.
//! - `access`: roles, other shops, other devices, CSRF, login rate limits.
//! - `photos`: item photos uploaded, checked, kept on disk, served cached.
//! - `pickup`: wait estimates, the called identifier on phone and board.
//! - `shops`: registration and approval, the OpenAPI document, a newer
//!   schema refused.
//! - `staff`: staff logins added and removed by the owner; the operator's
//!   password reset.
//! - `daemon`: SIGKILL mid-rush; the command line beside the daemon.
//! - `storage`: a full disk (tmpfs): the floor refuses new orders only;
//!   the store re-opens itself after a failed write; retention.
//! - `printer`: tickets at a TCP or FIFO printer, waiting across a SIGKILL;
//!   reprints; payment QR on the guest's order; voided payments.
//! - `report`: the report of a day or range as CSV.
//! - `support`, `client`: the harness.

mod access;
mod cancel;
mod client;
#[path = "../common/mod.rs"]
mod common;
mod compaction;
mod daemon;
mod input;
mod kitchen;
mod notes;
mod options;
mod orders;
mod photos;
mod pickup;
mod printer;
mod report;
mod retention;
mod shops;
mod staff;
mod stock;
mod storage;
mod support;
