//! A guest with IPv6 only (as phones on IPv6-only networks are) is held
//! before joining, gets the portal over IPv6 (the redirect and the
//! listeners work on IPv6 too), joins over IPv6 and passes after: the
//! MAC, learnt from the neighbour table's IPv6 entry, decides.

use super::net::{self, HTTP_PORT, Net};
use super::{fetch_in, join_at};

#[test]
fn a_guest_with_only_ipv6_gets_the_portal_joins_and_passes() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    let guest = net.add_v6_only_guest();
    net.start_queueless(&["--session-minutes", "30"]);

    let probe = "http://[2001:db8:2::2]/generate_204";
    let r = fetch_in(&net, &guest, probe, "-g");
    assert_eq!(r.code, "302", "held before joining: {}", net.log());
    let portal = format!("http://[2001:db8:1::1]:{HTTP_PORT}");
    assert_eq!(r.location, format!("{portal}/"), "the portal over IPv6");
    let r = fetch_in(&net, &guest, "https://[2001:db8:2::2]/", "-g");
    assert_ne!(r.curl_exit, 0, "HTTPS refused before joining");

    join_at(&net, &guest, &portal);
    let r = fetch_in(&net, &guest, probe, "-g");
    assert_eq!(
        r.code,
        "204",
        "passes after joining over IPv6: {}",
        net.log()
    );
    let r = fetch_in(&net, &guest, "https://[2001:db8:2::2]/", "-g");
    assert_eq!(r.code, "200", "HTTPS passes after joining");
    let clients = net.cli(&["clients", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&clients.stdout).unwrap_or_default();
    assert!(
        list.as_array().is_some_and(|l| l
            .iter()
            .any(|c| c["mac"] == "02:00:00:0c:16:01" && c["authorized"] == true)),
        "joined by its MAC: {list}"
    );
}
