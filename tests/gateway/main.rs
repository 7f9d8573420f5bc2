//! The captive gateway end to end, as root, in network namespaces this test
//! makes: a client's connectivity probes are caught and sent to the portal
//! until it joins, then pass; `deauth`, blocking and trusting work; an
//! authorization survives a restart.

#[path = "../common/mod.rs"]
#[expect(dead_code, reason = "each suite uses part of the shared support")]
mod common;
mod heal;
mod ipv6;
mod net;
mod seen;
mod trusted;

use std::time::{Duration, Instant};

use net::{HTTP_PORT, HTTPS_PORT, Net, ROUTER_GUEST, UPSTREAM};

/// The probes of Android, Apple, Windows and Firefox, with the answer the
/// real internet gives.
const PROBES: [(&str, &str, &str); 4] = [
    ("/generate_204", "204", ""),
    ("/hotspot-detect.html", "200", "Success"),
    ("/connecttest.txt", "200", "Microsoft Connect Test"),
    ("/success.txt", "200", "success"),
];

struct Reply {
    code: String,
    location: String,
    body: String,
    curl_exit: i32,
    elapsed: Duration,
}

fn fetch(net: &Net, url: &str, extra: &str) -> Reply {
    fetch_in(net, &net.client, url, extra)
}

/// Like [`fetch`], from namespace `ns`.
fn fetch_in(net: &Net, ns: &str, url: &str, extra: &str) -> Reply {
    let start = Instant::now();
    let out = net.sh_in(ns, &format!(
        "curl -s -k --max-time 8 {extra} -D /tmp/h.$$ -w '\\n%{{http_code}} %{{redirect_url}}' '{url}'; rc=$?; rm -f /tmp/h.$$; exit $rc"
    ));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (code, location) = last.split_once(' ').unwrap_or((last, ""));
    Reply {
        code: code.to_owned(),
        location: location.to_owned(),
        body: body.to_owned(),
        curl_exit: out.status.code().unwrap_or(-1),
        elapsed: start.elapsed(),
    }
}

fn assert_captive(net: &Net) {
    for (path, _, _) in PROBES {
        let r = fetch(net, &format!("http://{UPSTREAM}{path}"), "");
        assert_eq!(r.code, "302", "{path} before joining: {}", net.log());
        assert!(
            r.location
                .starts_with(&format!("http://{ROUTER_GUEST}:{HTTP_PORT}/")),
            "{path} goes to the portal over plain HTTP (no certificate phones trust), not {:?}",
            r.location
        );
    }
    let r = fetch(net, &format!("https://{UPSTREAM}/"), "");
    assert_ne!(
        r.curl_exit, 0,
        "HTTPS to the internet is refused before joining"
    );
    assert!(
        r.elapsed < Duration::from_secs(2),
        "refused at once (reset), not timed out: {:?}",
        r.elapsed
    );
}

fn assert_free(net: &Net) {
    for (path, code, text) in PROBES {
        let r = fetch(net, &format!("http://{UPSTREAM}{path}"), "");
        assert_eq!(r.code, code, "{path} after joining");
        assert!(r.body.contains(text), "{path}: {:?}", r.body);
    }
    let r = fetch(net, &format!("https://{UPSTREAM}/"), "");
    assert_eq!(r.code, "200", "HTTPS passes after joining");
}

fn captive_api(net: &Net) -> serde_json::Value {
    let r = fetch(
        net,
        &format!("https://{ROUTER_GUEST}:{HTTPS_PORT}/api/captive-portal"),
        "",
    );
    assert_eq!(r.code, "200");
    serde_json::from_str(&r.body).expect("captive+json")
}

/// Joins through the portal's form, as a browser would.
fn join(net: &Net) {
    join_in(net, &net.client);
}

/// Joins from namespace `ns`.
fn join_in(net: &Net, ns: &str) {
    // Over plain HTTP, as a phone is sent there without a trusted certificate.
    join_at(net, ns, &format!("http://{ROUTER_GUEST}:{HTTP_PORT}"));
}

/// Joins from namespace `ns` through the portal at `portal`.
fn join_at(net: &Net, ns: &str, portal: &str) {
    let jar = net.dir.path().join(format!("jar-{ns}"));
    let fetch = |_: &Net, url: &str, extra: &str| fetch_in(net, ns, url, extra);
    let page = fetch(
        net,
        &format!("{portal}/"),
        &format!("-c {} -b {}", jar.display(), jar.display()),
    );
    assert_eq!(page.code, "200");
    assert!(
        page.body.contains("action=\"/join\""),
        "the landing page offers to join"
    );
    let csrf = page
        .body
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token");
    let r = fetch(
        net,
        &format!("{portal}/join"),
        &format!(
            "-c {} -b {} --data '_csrf={csrf}&accept=yes'",
            jar.display(),
            jar.display()
        ),
    );
    assert_eq!(r.code, "303", "join answers with a page load: {}", r.body);
}

#[test]
fn probes_are_caught_until_the_guest_joins() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&["--session-minutes", "30"]);

    // DNS works before joining.
    let dns = net.client_sh("getent hosts upstream.test");
    assert!(
        String::from_utf8_lossy(&dns.stdout).contains(UPSTREAM),
        "DNS through the router"
    );
    assert_captive(&net);
    let api = captive_api(&net);
    assert_eq!(api["captive"], true);
    assert_eq!(
        api["user-portal-url"],
        format!("http://{ROUTER_GUEST}:{HTTP_PORT}/")
    );
    // Staff pages stay on HTTPS.
    let staff = fetch(
        &net,
        &format!("http://{ROUTER_GUEST}:{HTTP_PORT}/staff/login"),
        "",
    );
    assert_eq!(staff.code, "302");
    assert_eq!(
        staff.location,
        format!("https://{ROUTER_GUEST}:{HTTPS_PORT}/staff/login")
    );

    // Staff features are not reachable from the guest Wi-Fi.
    let login = fetch(
        &net,
        &format!("https://{ROUTER_GUEST}:{HTTPS_PORT}/api/auth/login"),
        "-H 'content-type: application/json' --data '{\"email\":\"tea@demo.queueless\",\"password\":\"queueless-demo\"}'",
    );
    assert_eq!(
        login.code, "403",
        "staff login from a guest: {}",
        login.body
    );
    assert!(login.body.contains("guest Wi-Fi"), "{}", login.body);
    let dashboard = fetch(
        &net,
        &format!("https://{ROUTER_GUEST}:{HTTPS_PORT}/shop"),
        "",
    );
    assert_ne!(dashboard.code, "200", "no dashboard for guests");

    // A connection kept alive across the join: caught before, and not
    // sent to the portal again after (its tracked entry was dropped).
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/keepalive.py");
    let mut kept = std::process::Command::new("ip")
        .args(["netns", "exec", &net.client, "python3"])
        .arg(&script)
        .arg(UPSTREAM)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("keep-alive client");
    let mut kept_out = std::io::BufReader::new(kept.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut kept_out, &mut line).expect("first answer");
    assert_eq!(line.trim(), "302", "caught before joining");

    let started = Instant::now();
    join(&net);
    // The very first request after joining already passes.
    let first = fetch(&net, &format!("http://{UPSTREAM}/generate_204"), "");
    eprintln!(
        "authorization: join request to first passing request {:?}",
        started.elapsed()
    );
    assert_eq!(first.code, "204");
    {
        use std::io::Write;
        let mut stdin = kept.stdin.take().expect("stdin");
        writeln!(stdin).expect("go on");
    }
    line.clear();
    std::io::BufRead::read_line(&mut kept_out, &mut line).expect("second answer");
    let _ = kept.wait();
    // Reset by upstream, which never had that connection (or silently
    // dropped, where the kernel does not pick up mid-stream TCP).
    assert!(
        ["reset", "closed", "timeout"].contains(&line.trim()),
        "the kept-alive connection is no longer redirected: {line:?}"
    );
    assert_free(&net);
    let api = captive_api(&net);
    assert_eq!(api["captive"], false);
    let left = api["seconds-remaining"].as_u64().expect("seconds");
    assert!(
        (1700..=1800).contains(&left),
        "about 30 minutes left: {left}"
    );

    // Bytes to the client are counted by its address.
    let blob = fetch(&net, &format!("http://{UPSTREAM}/blob"), "");
    assert_eq!(blob.body.len(), 200_000);

    // The operator puts it back.
    let out = net.cli(&["deauth", &net.client_mac]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_captive(&net);

    // An authorization survives even a SIGKILL and restart; the guest who
    // never joined is still caught.
    let out = net.cli(&["auth", &net.client_mac, "--minutes", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_free(&net);
    let probe = format!(
        "curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{UPSTREAM}/generate_204"
    );
    assert_eq!(
        String::from_utf8_lossy(&net.other_sh(&probe).stdout),
        "302",
        "the other guest never joined"
    );
    net.kill_queueless();
    net.start_queueless(&[]);
    assert_free(&net);
    assert_eq!(
        String::from_utf8_lossy(&net.other_sh(&probe).stdout),
        "302",
        "still caught after the restart"
    );
    // Both are listed: the one that never joined is recorded from the
    // kernel's neighbour table at the restart (in the background, so
    // `listed` allows a moment).
    let me = seen::listed(&net, &net.client_mac, None);
    assert_eq!(me["authorized"], true);
    assert!(
        me["ips"]
            .as_array()
            .expect("ips")
            .iter()
            .any(|i| i == "198.51.100.20")
    );
    assert!(
        me["bytes_in"].as_u64().expect("counter") > 0,
        "its traffic was counted: {me}"
    );
    assert!(
        me["bytes_out"].as_u64().expect("counter") > 200_000,
        "the bytes it downloaded were counted: {me}"
    );
    let them = seen::listed(&net, &net.other_mac, None);
    assert_eq!(them["authorized"], false);
}

#[test]
fn many_guests_join_at_once() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&[]);
    let guests = net.add_guests(8);
    std::thread::scope(|s| {
        for ns in &guests {
            let net = &net;
            s.spawn(move || join_in(net, ns));
        }
    });
    for ns in &guests {
        let r = fetch_in(&net, ns, &format!("http://{UPSTREAM}/generate_204"), "");
        assert_eq!(r.code, "204", "{ns} passes after joining together");
    }
    let r = fetch(&net, &format!("http://{UPSTREAM}/generate_204"), "");
    assert_eq!(r.code, "302", "a guest who did not join is still caught");
    let out = net.cli(&["clients", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("clients --json");
    let joined = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["authorized"] == true)
        .count();
    assert_eq!(joined, guests.len(), "{list}");
    assert!(net.daemon_pid().is_some(), "still running");
}

/// OpenWrt's own firewall (fw4) and queueless on one router: fw4's table
/// is never touched, its drop policies do not break the portal, and the
/// gateway still decides who passes.
#[test]
fn the_gateway_shares_the_router_with_fw4() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/fw4.nft");
    let out = net.router_sh(&format!("nft -f {}", rules.display()));
    assert!(
        out.status.success(),
        "fw4 ruleset loads: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fw4 = |net: &Net| {
        let out = net.router_sh("nft -s list table inet fw4");
        assert!(out.status.success(), "fw4's table is there");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let before = fw4(&net);

    net.start_queueless(&["--fail-open"]);
    assert_eq!(fw4(&net), before, "starting changes nothing in fw4");
    let dns = net.client_sh("getent hosts upstream.test");
    assert!(
        String::from_utf8_lossy(&dns.stdout).contains(UPSTREAM),
        "DNS through both firewalls"
    );
    assert_captive(&net);
    assert_eq!(captive_api(&net)["captive"], true);
    join(&net);
    assert_free(&net);
    let r = fetch(&net, &format!("http://{UPSTREAM}/generate_204"), "");
    assert_eq!(r.code, "204");
    let other = net.other_sh(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{UPSTREAM}/generate_204"
    ));
    assert_eq!(String::from_utf8_lossy(&other.stdout), "302");
    let out = net.cli(&["deauth", &net.client_mac]);
    assert!(out.status.success());
    assert_captive(&net);
    assert_eq!(fw4(&net), before, "running changes nothing in fw4");

    // Stopping with fail_open removes our table and only ours: fw4 alone
    // decides again (its guest zone forwards to wan).
    net.stop_queueless();
    let ours = net.router_sh("nft list table inet queueless");
    assert!(!ours.status.success(), "our table is gone");
    assert_eq!(fw4(&net), before, "stopping changes nothing in fw4");
    let r = fetch(&net, &format!("http://{UPSTREAM}/generate_204"), "");
    assert_eq!(r.code, "204", "fail open: guests pass through fw4");
}

#[test]
fn blocked_never_passes_and_trusted_always_does() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&[]);
    let out = net.cli(&["trust", &net.client_mac]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_free(&net);
    let out = net.cli(&["block", &net.client_mac]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = fetch(
        &net,
        &format!("http://{UPSTREAM}/generate_204"),
        "--max-time 2",
    );
    assert_ne!(r.code, "204", "blocked");
    assert_ne!(r.code, "302", "blocked clients are not even redirected");
    let out = net.cli(&["auth", &net.client_mac]);
    assert!(
        !out.status.success(),
        "a blocked client cannot be authorized"
    );
}

#[test]
fn sessions_expire_and_idle_clients_are_let_go() {
    if !net::available() {
        return;
    }
    let mut net = Net::new();
    net.start_queueless(&["--session-seconds", "3", "--idle-seconds", "0"]);
    join(&net);
    assert_free(&net);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = fetch(
            &net,
            &format!("http://{UPSTREAM}/generate_204"),
            "--max-time 2",
        );
        if r.code == "302" {
            break;
        }
        assert!(Instant::now() < deadline, "the session never ended");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(captive_api(&net)["captive"], true);
    net.stop_queueless();

    // Idle: a long session, but no traffic for a few seconds ends it.
    net.start_queueless(&["--session-seconds", "600", "--idle-seconds", "4"]);
    join(&net);
    assert_free(&net);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let api = captive_api(&net);
        if api["captive"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle client was never let go"
        );
    }
}

#[test]
fn a_missing_interface_is_a_clear_error_and_changes_nothing() {
    if !net::available() {
        return;
    }
    let net = Net::new();
    let run = |args: &[&str]| {
        std::process::Command::new("ip")
            .args(["netns", "exec", &net.router, common::binary(), "--data-dir"])
            .arg(net.data_dir())
            .args(args)
            .output()
            .expect("runs")
    };
    let out = run(&[
        "serve",
        "--http",
        "127.0.0.1:0",
        "--guest-interface",
        "nope0",
    ]);
    assert!(!out.status.success(), "refuses to start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope0") && err.contains("does not exist"),
        "{err}"
    );
    let table = net.router_sh("nft list table inet queueless");
    assert!(!table.status.success(), "nothing was applied");
    let out = run(&["check", "--guest-interface", "nope0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("FIX: guest interface nope0 does not exist"),
        "{text}"
    );
    assert!(text.contains("ok:  nft runs and speaks JSON"), "{text}");
}
