//! Clients appear in the operator's list as they arrive: from their DHCP
//! request (with the host name it gives), and, at a restart, from the
//! kernel's neighbour table for those already connected.

use std::time::{Duration, Instant};

use super::net::{self, Net, ROUTER_GUEST};

/// Waits up to ten seconds for `mac` in `clients --json` with `hostname`
/// (when given); returns its entry.
pub(super) fn listed(net: &Net, mac: &str, hostname: Option<&str>) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = net.cli(&["clients", "--json"]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let found = list.as_array().and_then(|l| {
            l.iter()
                .find(|c| c["mac"] == mac && hostname.is_none_or(|h| c["hostname"] == h))
                .cloned()
        });
        if let Some(c) = found {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "client {mac} never showed up: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_client_is_seen_when_it_asks_for_an_address() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&[]);
    // A DHCP exchange with the router's dnsmasq; the address is not applied
    // (the client keeps its static one), but the gateway saw the request.
    // The lease script records what it was given: no option 114 without a
    // certificate phones trust, as the OpenWrt package configures dnsmasq
    // (the trusted case: tests/gateway/trusted.rs).
    let env = net.dhcp_lease("-x hostname:ada-phone");
    assert!(
        env.lines().any(|l| l.starts_with("ip=")),
        "a lease was offered: {env}"
    );
    assert!(
        !env.lines().any(|l| l.starts_with("opt114=")),
        "no option 114: {env}"
    );
    let c = listed(&net, &net.client_mac, Some("ada-phone"));
    assert_eq!(c["authorized"], false, "seen, not joined");
}

#[test]
fn a_client_already_connected_at_start_is_listed() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    // The client talks to the router before queueless runs: the kernel
    // knows it, the daemon never saw its DHCP or ARP.
    let out = net.client_sh(&format!("busybox ping -c 1 -W 2 {ROUTER_GUEST}"));
    assert!(
        out.status.success(),
        "ping the router: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Wait for the router's entry to settle as REACHABLE (its DELAY/PROBE
    // round trip, an ARP the daemon would see, is over): from now on the
    // kernel sends nothing for a while.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let neigh = net.router_sh("ip -4 neigh show dev guest0 198.51.100.20");
        let state = String::from_utf8_lossy(&neigh.stdout).into_owned();
        if state.contains("REACHABLE") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the router's entry for the client never settled: {state}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    net.start_queueless(&[]);
    let c = listed(&net, &net.client_mac, None);
    assert_eq!(c["authorized"], false, "listed, not joined: {c}");
    assert!(
        c["ips"]
            .as_array()
            .expect("ips")
            .iter()
            .any(|i| i == "198.51.100.20"),
        "with its address: {c}"
    );
    // The other guest never talked to the router: not made up.
    let out = net.cli(&["clients", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("clients --json");
    assert!(
        !list
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c["mac"] == net.other_mac.as_str()),
        "only clients the kernel heard from: {list}"
    );
}
