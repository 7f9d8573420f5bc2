//! Gateway benchmarks (root): the real daemon in the network namespaces of
//! the gateway tests, driven from guest namespaces. Measures the captive
//! redirect through the firewall, authorization latency (the join request
//! to the first upstream request of that guest passing) over many guests,
//! and memory with many tracked clients. Prints a table; `--smoke` runs
//! everything briefly (CI).
//!
//!     sudo cargo bench --bench gateway [-- --smoke]
//!
//! The parts that run inside a guest's namespace are this same program,
//! started there with `ip netns exec` and a `guest-…` mode; they print one
//! line of results for the parent to read.

#[path = "../tests/common/mod.rs"]
#[expect(
    dead_code,
    reason = "shared with the tests; the bench starts the binary only"
)]
mod common;
#[path = "gateway/guest.rs"]
mod guest;
#[path = "common/measure.rs"]
mod measure;
#[path = "../tests/gateway/net.rs"]
#[expect(
    dead_code,
    reason = "shared with the gateway tests, which use all of it"
)]
mod net;

use std::process::Command;
use std::time::{Duration, Instant};

use measure::{ms, percentile, rss_kib};
use net::{HTTPS_PORT, Net, ROUTER_GUEST, UPSTREAM};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(mode) = args.first().filter(|a| a.starts_with("guest-")) {
        guest::run(mode, &args[1..]);
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    if !net::available() {
        return;
    }
    let (secs, joiners, tracked) = if smoke {
        (0.5, 5, 50)
    } else {
        (5.0, 200, 1000)
    };
    let mut net = Net::new();
    net.start_queueless(&["--session-minutes", "30", "--idle-minutes", "0"]);
    let pid = net.daemon_pid().expect("daemon runs");
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kib(pid);
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("RSS idle, gateway on".into(), format!("{idle} KiB")));

    for conns in [1, 16, 64] {
        let out = in_guest(
            &net.client,
            &["guest-redirect", &conns.to_string(), &secs.to_string()],
        );
        let v: Vec<f64> = out
            .split_whitespace()
            .map(|x| x.parse().expect("numbers"))
            .collect();
        rows.push((
            format!("redirect through the firewall, {conns} connections"),
            format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
                v[0],
                v[1] / 1000.0,
                v[2] / 1000.0
            ),
        ));
    }

    let guests = net.add_guests(joiners);
    let portal = format!("{ROUTER_GUEST}:{HTTPS_PORT}");
    let upstream = format!("{UPSTREAM}:80");
    let cert = net.data_dir().join("tls/cert.pem");
    let cert = cert.to_str().expect("utf-8 path");
    let mut lat = Vec::new();
    let mut failed = 0;
    for ns in &guests {
        let out = try_in_guest(ns, &["guest-join", &portal, &upstream, cert])
            .unwrap_or_else(|e| format!("{e}\n{}", tail(&net.log())));
        match out.split_whitespace().collect::<Vec<_>>()[..] {
            [us, "204"] => lat.push(Duration::from_micros(us.parse().expect("micros"))),
            _ => {
                eprintln!("{ns}: {out}");
                failed += 1;
            }
        }
    }
    lat.sort();
    // The daemon's own split of each join, from its log.
    let field = |line: &str, name: &str| -> Option<Duration> {
        let v = line.split_whitespace().find_map(|w| w.strip_prefix(name))?;
        v.parse::<f64>()
            .ok()
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
    };
    let log = net.log();
    let joins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("client authorized"))
        .collect();
    let mut passing: Vec<Duration> = joins
        .iter()
        .filter_map(|l| field(l, "passing_ms="))
        .collect();
    let mut total: Vec<Duration> = joins.iter().filter_map(|l| field(l, "total_ms=")).collect();
    passing.sort();
    total.sort();
    rows.push((
        format!("authorization, join → first upstream request passes ({joiners} guests, one after another)"),
        format!(
            "p50 {}, p99 {}, max {}, {failed} not passing",
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default()),
        ),
    ));
    rows.push((
        "  in the daemon: until the client passes / the whole join".into(),
        format!(
            "p50 {} / {}, p99 {} / {}",
            ms(percentile(&passing, 0.50)),
            ms(percentile(&total, 0.50)),
            ms(percentile(&passing, 0.99)),
            ms(percentile(&total, 0.99)),
        ),
    ));

    let before = clients(&net);
    let started = Instant::now();
    in_guest(&net.other, &["guest-dhcp", &tracked.to_string()]);
    let target = before + tracked;
    let mut seen = before;
    while started.elapsed() < Duration::from_secs(60) {
        seen = clients(&net);
        if seen >= target {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    rows.push((
        format!("{tracked} clients tracked from DHCP (all recorded)"),
        format!(
            "{} of {tracked} in {:.1} s",
            seen - before,
            started.elapsed().as_secs_f64()
        ),
    ));
    rows.push((
        format!("RSS with {} tracked clients", seen),
        format!("{} KiB", rss_kib(pid)),
    ));
    assert_eq!(failed, 0, "every joined guest passes at once");
    assert!(seen >= target, "every client is tracked: {}", net.log());

    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!("\n| {:width$} | result |", "queueless gateway");
    println!("|{}|--------|", "-".repeat(width + 2));
    for (k, v) in rows {
        println!("| {k:width$} | {v} |");
    }
}

/// Runs this program in a guest's namespace in the given mode; its output.
fn in_guest(ns: &str, args: &[&str]) -> String {
    try_in_guest(ns, args).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`in_guest`], with a failure as an error.
fn try_in_guest(ns: &str, args: &[&str]) -> Result<String, String> {
    let me = std::env::current_exe().expect("own path");
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(me)
        .args(args)
        .output()
        .expect("guest part runs");
    if !out.status.success() {
        return Err(format!(
            "{args:?} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The last lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn clients(net: &Net) -> usize {
    let out = net.cli(&["clients", "--json"]);
    assert!(out.status.success(), "queueless clients");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v.as_array().map_or(0, Vec::len)
}
