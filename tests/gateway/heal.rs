//! The gateway heals its table: whatever removes or changes it (OpenWrt's
//! `fw4 flush` at a firewall stop, a hand-made edit, a moment when `nft`
//! itself fails), the daemon rebuilds it from the store within seconds; a
//! joined guest still passes and a captive one still gets the portal.

use std::time::{Duration, Instant};

use super::net::{self, Net, ROUTER_GUEST, UPSTREAM};
use super::{fetch, fetch_in, join};

/// How long a healing may take.
const HEAL_WITHIN: Duration = Duration::from_secs(5);

fn table_present(net: &Net, nft: &str) -> bool {
    net.router_sh(&format!("{nft} list table inet queueless >/dev/null 2>&1"))
        .status
        .success()
}

/// The rules' handles of our table, in listing order.
fn rule_handles(net: &Net, nft: &str) -> Vec<String> {
    let out = net.router_sh(&format!("{nft} -a list table inet queueless"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("comment") && l.contains("# handle"))
        .filter_map(|l| l.rsplit("# handle ").next().map(|h| h.trim().to_owned()))
        .collect()
}

fn rebuilt_count(net: &Net) -> usize {
    net.log().matches("gateway table rebuilt").count()
}

/// Waits until `ok` holds, at most [`HEAL_WITHIN`]; returns how long it took.
fn healed_within(net: &Net, what: &str, ok: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < HEAL_WITHIN,
            "{what}: not healed within {HEAL_WITHIN:?}: {}",
            net.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// The joined client passes; the other guest is sent to the portal.
fn assert_both(net: &Net, after: &str) {
    let r = fetch(net, &format!("http://{UPSTREAM}/generate_204"), "");
    assert_eq!(r.code, "204", "the joined guest passes after {after}");
    let r = fetch_in(
        net,
        &net.other,
        &format!("http://{UPSTREAM}/generate_204"),
        "",
    );
    assert_eq!(
        r.code, "302",
        "the captive guest is redirected after {after}"
    );
    assert!(
        r.location.starts_with(&format!("http://{ROUTER_GUEST}:")),
        "to the portal after {after}: {:?}",
        r.location
    );
    let r = fetch_in(net, &net.other, &format!("https://{UPSTREAM}/"), "");
    assert_ne!(r.curl_exit, 0, "HTTPS still refused after {after}");
}

#[test]
fn the_table_comes_back_after_a_flush_a_delete_and_a_hand_edit() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&["--session-minutes", "30"]);
    join(&net);
    assert_both(&net, "joining");

    for (i, cmd) in ["nft flush ruleset", "nft delete table inet queueless"]
        .into_iter()
        .enumerate()
    {
        let out = net.router_sh(cmd);
        assert!(out.status.success(), "{cmd}");
        assert!(!table_present(&net, "nft"), "{cmd} removed the table");
        let took = healed_within(&net, cmd, || {
            rebuilt_count(&net) > i && table_present(&net, "nft")
        });
        eprintln!("after `{cmd}` the table was back in {took:?}");
        assert_both(&net, cmd);
    }
    let log = net.log();
    assert!(log.contains("the table inet queueless is gone"), "{log}");

    // One rule deleted by hand: the table is rebuilt with all of them.
    let before = rule_handles(&net, "nft");
    let victim = before.last().expect("rules").clone();
    let out = net.router_sh(&format!(
        "nft delete rule inet queueless input handle {victim}"
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = healed_within(&net, "a deleted rule", || {
        rebuilt_count(&net) == 3 && rule_handles(&net, "nft").len() == before.len()
    });
    eprintln!("a deleted rule was back in {took:?}");
    assert_both(&net, "deleting a rule");
    let log = net.log();
    assert!(log.contains("the table's rules changed"), "{log}");
    assert_eq!(rebuilt_count(&net), 3, "each rebuild logged once: {log}");
}

#[test]
fn a_failing_nft_is_followed_by_a_rebuild_once_it_works_again() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    let real = String::from_utf8_lossy(
        &std::process::Command::new("sh")
            .args(["-c", "command -v nft"])
            .output()
            .expect("sh")
            .stdout,
    )
    .trim()
    .to_owned();
    let bin = net.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let nft = bin.join("nft");
    std::os::unix::fs::symlink(&real, &nft).expect("nft link");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    net.start_queueless_with(&["--session-minutes", "30"], &[("PATH", path)]);
    join(&net);
    assert_both(&net, "joining");

    // `nft` fails for a while; meanwhile the table goes.
    let broken = bin.join("nft.broken");
    std::fs::write(
        &broken,
        "#!/bin/sh\necho 'nft: injected failure' >&2\nexit 1\n",
    )
    .expect("script");
    std::fs::set_permissions(&broken, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    std::fs::rename(&broken, &nft).expect("nft replaced");
    assert!(
        net.router_sh(&format!("{real} delete table inet queueless"))
            .status
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !net.log().contains("cannot be rebuilt") {
        assert!(
            Instant::now() < deadline,
            "the failure was never reported: {}",
            net.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(5));
    assert!(!table_present(&net, &real), "no table while nft fails");
    assert_eq!(rebuilt_count(&net), 0);

    // `nft` works again: the table is back within seconds.
    let _ = std::fs::remove_file(&nft);
    std::os::unix::fs::symlink(&real, &nft).expect("nft link again");
    let took = healed_within(&net, "nft working again", || {
        rebuilt_count(&net) == 1 && table_present(&net, &real)
    });
    eprintln!("once nft worked again the table was back in {took:?}");
    assert_both(&net, "nft failed for a while");
    let log = net.log();
    assert_eq!(
        log.matches("cannot be rebuilt").count(),
        1,
        "the failure is logged once, not every few seconds: {log}"
    );
    assert!(log.contains("injected failure"), "{log}");
}
