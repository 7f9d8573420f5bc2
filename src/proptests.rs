//! Property tests for every parser of bytes from the network: DHCP and ARP
//! frames, netlink replies (neighbours, conntrack), cookies, form bodies,
//! request paths (`back`, `next`, `Host`) and `Last-Event-ID`. Each parser
//! must not panic on any input, must not allocate more than its input
//! accounts for, and must give back what a writer wrote (pnet's and the
//! netlink crates' encoders, `set_cookie`, `serde_urlencoded`).
//!
//! They run with `cargo test` (the library's unit tests), each with a fixed
//! number of cases ([`CASES`]) so the whole set stays within seconds in CI.

use proptest::test_runner::{Config, FileFailurePersistence};

mod gateway;
mod web;

/// Cases per property: modest and fixed, so CI time is bounded.
pub const CASES: u32 = 512;

/// The runner's settings for every property here.
pub fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}
