//! The ordering core over its JSON API, against the real server on a
//! loopback port with a real redb file in a temp dir: stock under
//! concurrency, all-or-nothing checkouts, idempotency, the stage machine,
//! auto-cancel, isolation, bad input, crash safety and the CLI.

#[path = "../portal/support.rs"]
#[expect(dead_code, reason = "the browser helpers are for the portal tests")]
mod support;

mod concurrency;
mod errors;
mod lifecycle;
mod operations;
