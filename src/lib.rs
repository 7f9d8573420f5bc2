//! queueless: one daemon that turns a Wi-Fi router into the ordering hub of
//! a food court, market or stadium.
//!
//! The map:
//! - [`domain`]: pure rules (ids, money, shops, menus, stock, the order
//!   stage machine). No I/O.
//! - [`store`]: the one redb file. Reads on the blocking pool; every write
//!   through one writer thread that group-commits concurrent requests and
//!   then publishes [`events::DomainEvent`]s on a broadcast channel.
//! - [`auth`]: argon2id password hashing and session tokens.
//! - [`web`]: axum only here: the JSON API (with its OpenAPI document),
//!   error → status mapping, extractors for the caller's device and login.
//! - [`control`]: the local Unix control socket the CLI talks to while the
//!   daemon runs (backup, shop list, admin create, gateway clients).
//! - [`gateway`]: the captive portal's firewall (nftables table `inet
//!   queueless`), client tracking (DHCP/ARP via pnet, the neighbour table)
//!   and Wi-Fi sessions.
//! - [`tls`]: HTTPS with rustls: configured or self-signed certificates,
//!   SIGHUP reload, a listener that handshakes off the accept loop.
//! - [`check`]: `queueless check`, the pre-flight of `serve`.
//! - [`notify`]: systemd readiness.
//! - [`printer`]: ESC/POS kitchen tickets and the task that sends the
//!   durable print queue to each shop's printer.
//! - [`i18n`]: the interface's languages (English, German): text from
//!   `locales/*.yml` compiled in, negotiation, prices, numbers and times.
//! - [`config`]: settings merged from defaults, file, environment and flags.
//! - [`app`]: the composition root: open the store, seed the demo, start the
//!   background tasks (auto-cancel, sweeps), serve until shutdown.
//!
//! Data flow of an order: HTTP → `web::api` → `store::Store::write` (one
//! batch, one fsync) → reply after commit → `DomainEvent` to subscribers.

pub mod acme;
pub mod app;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
mod demo_options;
pub mod demo_photos;
pub mod domain;
pub mod events;
pub mod gateway;
pub mod i18n;
pub mod notify;
pub mod printer;
pub mod store;
pub mod tls;
pub mod web;

#[cfg(test)]
mod proptests;

// The interface text (`locales/*.yml`), compiled in; read through
// `i18n::Lang::t`. The macro's lookup functions live at the crate root.
rust_i18n::i18n!("locales", fallback = "en");
