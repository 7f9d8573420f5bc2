//! Three network namespaces made by the test — client, router, upstream —
//! joined by veth pairs, with the real `queueless` binary and dnsmasq in
//! the router and a small HTTP/HTTPS server standing in for the internet.
//! Everything is torn down on drop (processes killed by PID, namespaces
//! deleted), also when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The guest network: router 198.51.100.1, clients .20 and up.
pub const ROUTER_GUEST: &str = "198.51.100.1";
/// The upstream ("internet") host.
pub const UPSTREAM: &str = "203.0.113.2";
/// The portal's HTTPS port on the router.
pub const HTTPS_PORT: u16 = 8443;
/// The captive HTTP port on the router.
pub const HTTP_PORT: u16 = 8080;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Whether this machine can run the namespace tests; fails in CI and skips
/// elsewhere, saying what is missing.
pub fn available() -> bool {
    let mut missing = Vec::new();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        missing.push("root (network namespaces)".to_owned());
    }
    for tool in ["ip", "nft", "dnsmasq", "curl", "python3", "busybox"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !found {
            missing.push(tool.to_owned());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "gateway test needs {} (.ci/run installs nftables, dnsmasq-base, curl, iproute2, busybox)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    false
}

/// `ip -n NS …` with the words of `args`.
fn ip(ns: &str, args: &str) {
    let mut all = vec!["ip", "-n", ns];
    all.extend(args.split_whitespace());
    run(&all);
}

fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces and their processes.
pub struct Net {
    pub client: String,
    /// A second guest, who never joins.
    pub other: String,
    pub router: String,
    pub upstream: String,
    pub client_mac: String,
    pub other_mac: String,
    pub dir: tempfile::TempDir,
    /// More guests made by [`Net::add_guests`].
    pub guests: Vec<String>,
    /// `--portal-host` for the daemon (the router's guest address unless
    /// a test names the portal).
    pub portal_host: String,
    children: Vec<Child>,
    daemon: Option<Child>,
}

impl Net {
    /// Builds the namespaces, links and servers (not queueless); the DHCP
    /// server announces no captive-portal API, as the OpenWrt package
    /// configures it without a certificate phones trust.
    pub fn new() -> Net {
        Net::announcing(None)
    }

    /// Like [`Net::new`], with DHCP option 114 (the RFC 8908 API's URL)
    /// when given. `portal.test` resolves to the router for guests.
    pub fn announcing(option_114: Option<&str>) -> Net {
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let client = format!("qlgw-c{id}");
        let other = format!("qlgw-o{id}");
        let router = format!("qlgw-r{id}");
        let upstream = format!("qlgw-u{id}");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut net = Net {
            client,
            other,
            router,
            upstream,
            client_mac: "02:00:00:0c:11:01".into(),
            other_mac: "02:00:00:0c:11:02".into(),
            dir,
            guests: Vec::new(),
            portal_host: ROUTER_GUEST.to_owned(),
            children: Vec::new(),
            daemon: None,
        };
        for ns in [&net.client, &net.other, &net.router, &net.upstream] {
            run(&["ip", "netns", "add", ns]);
            ip(ns, "link set lo up");
        }
        // The guest network is a bridge `guest0` in the router with a port
        // per client; the router's up0 leads to the upstream host.
        let (r, u) = (net.router.clone(), net.upstream.clone());
        ip(&r, "link add guest0 type bridge");
        for (ns, mac, port, addr) in [
            (&net.client, &net.client_mac, "gp1", "198.51.100.20/24"),
            (&net.other, &net.other_mac, "gp2", "198.51.100.21/24"),
        ] {
            ip(
                ns,
                &format!("link add c0 address {mac} type veth peer name {port} netns {r}"),
            );
            ip(&r, &format!("link set {port} master guest0 up"));
            ip(ns, &format!("addr add {addr} dev c0"));
            ip(ns, "link set c0 up");
            ip(ns, &format!("route add default via {ROUTER_GUEST}"));
        }
        ip(
            &r,
            &format!("link add up0 type veth peer name u0 netns {u}"),
        );
        ip(&r, "addr add 198.51.100.1/24 dev guest0");
        ip(&r, "addr add 203.0.113.1/24 dev up0");
        ip(&u, "addr add 203.0.113.2/24 dev u0");
        ip(&r, "link set guest0 up");
        ip(&r, "link set up0 up");
        ip(&u, "link set u0 up");
        ip(&u, "route add default via 203.0.113.1");
        run(&[
            "ip",
            "netns",
            "exec",
            &r,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ]);
        // The clients resolve through the router's dnsmasq.
        for ns in [&net.client, &net.other] {
            let etc = PathBuf::from("/etc/netns").join(ns);
            std::fs::create_dir_all(&etc).expect("/etc/netns dir");
            std::fs::write(
                etc.join("resolv.conf"),
                format!("nameserver {ROUTER_GUEST}\n"),
            )
            .expect("resolv.conf");
        }

        let mut dnsmasq = Command::new("ip");
        dnsmasq
            .args([
                "netns",
                "exec",
                &net.router,
                "dnsmasq",
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--interface=guest0",
                "--bind-interfaces",
                "--except-interface=lo",
                "--no-ping",
                "--dhcp-range=198.51.100.100,198.51.100.150,1h",
                &format!("--address=/upstream.test/{UPSTREAM}"),
                &format!("--address=/portal.test/{ROUTER_GUEST}"),
                &format!(
                    "--dhcp-leasefile={}",
                    net.dir.path().join("leases").display()
                ),
                &format!(
                    "--pid-file={}",
                    net.dir.path().join("dnsmasq.pid").display()
                ),
            ])
            .args(option_114.map(|url| format!("--dhcp-option-force=114,{url}")))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let dnsmasq = dnsmasq.spawn().expect("dnsmasq starts");
        net.children.push(dnsmasq);

        let (cert, key) = net.upstream_cert();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/upstream.py");
        let mut up = Command::new("ip")
            .args(["netns", "exec", &net.upstream, "python3"])
            .arg(&script)
            .arg(&cert)
            .arg(&key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("upstream server starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(up.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("upstream says ready");
        assert_eq!(line.trim(), "ready");
        net.children.push(up);
        net
    }

    /// Adds `n` more guests on the bridge, each in a namespace of its own
    /// with a fixed address from 198.51.100.30 up (at most 200) and MAC
    /// 02:00:00:0c:12:NN; returns their namespaces.
    pub fn add_guests(&mut self, n: usize) -> Vec<String> {
        assert!(self.guests.len() + n <= 200, "at most 200 extra guests");
        let mut made = Vec::new();
        for _ in 0..n {
            let i = self.guests.len();
            let ns = format!("{}-g{i}", self.client);
            run(&["ip", "netns", "add", &ns]);
            self.guests.push(ns.clone());
            ip(&ns, "link set lo up");
            let port = format!("gx{i}");
            ip(
                &ns,
                &format!(
                    "link add c0 address 02:00:00:0c:12:{i:02x} type veth peer name {port} netns {}",
                    self.router
                ),
            );
            ip(&self.router, &format!("link set {port} master guest0 up"));
            ip(&ns, &format!("addr add 198.51.100.{}/24 dev c0", 30 + i));
            ip(&ns, "link set c0 up");
            ip(&ns, &format!("route add default via {ROUTER_GUEST}"));
            made.push(ns);
        }
        made
    }

    /// Gives the router, the upstream host and a new guest IPv6 (the guest
    /// network 2001:db8:1::/64, upstream 2001:db8:2::2) and returns the
    /// guest's namespace: it has IPv6 only (address 2001:db8:1::30, MAC
    /// 02:00:00:0c:16:01). Call it before starting queueless, which reads
    /// the guest network's prefixes at start.
    pub fn add_v6_only_guest(&mut self) -> String {
        let (r, u) = (self.router.clone(), self.upstream.clone());
        ip(&r, "-6 addr add 2001:db8:1::1/64 dev guest0 nodad");
        ip(&r, "-6 addr add 2001:db8:2::1/64 dev up0 nodad");
        ip(&u, "-6 addr add 2001:db8:2::2/64 dev u0 nodad");
        ip(&u, "-6 route add default via 2001:db8:2::1");
        run(&[
            "ip",
            "netns",
            "exec",
            &r,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.forwarding=1",
        ]);
        let ns = format!("{}-v6", self.client);
        run(&["ip", "netns", "add", &ns]);
        self.guests.push(ns.clone());
        ip(&ns, "link set lo up");
        ip(
            &ns,
            &format!("link add c0 address 02:00:00:0c:16:01 type veth peer name gv6 netns {r}"),
        );
        ip(&r, "link set gv6 master guest0 up");
        ip(&ns, "-6 addr add 2001:db8:1::30/64 dev c0 nodad");
        ip(&ns, "link set c0 up");
        ip(&ns, "-6 route add default via 2001:db8:1::1");
        ns
    }

    /// The daemon's process id, while it runs.
    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Child::id)
    }

    fn upstream_cert(&self) -> (PathBuf, PathBuf) {
        let ck = rcgen::generate_simple_self_signed(vec!["upstream.test".into()]).expect("cert");
        let cert = self.dir.path().join("up-cert.pem");
        let key = self.dir.path().join("up-key.pem");
        std::fs::write(&cert, ck.cert.pem()).expect("cert file");
        std::fs::write(&key, ck.signing_key.serialize_pem()).expect("key file");
        (cert, key)
    }

    /// The daemon's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `queueless serve` in the router with the gateway on `guest0`
    /// and waits until the portal answers. It listens on `[::]` (IPv4 too)
    /// as the OpenWrt package starts it.
    pub fn start_queueless(&mut self, extra: &[&str]) {
        self.start_queueless_with(extra, &[]);
    }

    /// Like [`Net::start_queueless`], with more environment variables.
    pub fn start_queueless_with(&mut self, extra: &[&str], env: &[(&str, String)]) {
        let bin = crate::common::binary();
        let data = self.data_dir();
        let mut cmd = Command::new("ip");
        crate::common::blind(&mut cmd)
            .args(["netns", "exec", &self.router, bin, "--data-dir"])
            .arg(&data)
            .args([
                "serve",
                "--demo",
                "--http",
                &format!("[::]:{HTTP_PORT}"),
                "--https",
                &format!("[::]:{HTTPS_PORT}"),
                "--guest-interface",
                "guest0",
                "--portal-host",
                &self.portal_host,
            ])
            .args(extra)
            .env("QUEUELESS_LOG", "info")
            // As systemd/queueless.service runs it.
            .env("MALLOC_MMAP_THRESHOLD_", "262144")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.path().join("queueless.log")).expect("log file"),
            ));
        self.daemon = Some(cmd.spawn().expect("queueless starts"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.router_sh(&format!(
                "curl -sk -o /dev/null -w '%{{http_code}}' https://127.0.0.1:{HTTPS_PORT}/api/shops"
            ));
            if String::from_utf8_lossy(&out.stdout) == "200" {
                break;
            }
            if let Some(d) = self.daemon.as_mut()
                && let Ok(Some(status)) = d.try_wait()
            {
                panic!("queueless exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "portal never answered: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the daemon outright (SIGKILL): no chance to tidy up.
    pub fn kill_queueless(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &d.id().to_string()])
                .status();
            let _ = d.wait();
        }
    }

    /// Stops the daemon with SIGTERM and waits.
    pub fn stop_queueless(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &d.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while d.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = d.kill();
            let _ = d.wait();
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("queueless.log")).unwrap_or_default()
    }

    fn sh(ns: &str, script: &str) -> Output {
        Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c", script])
            .output()
            .expect("command runs")
    }

    /// Runs a shell line in namespace `ns`.
    pub fn sh_in(&self, ns: &str, script: &str) -> Output {
        Self::sh(ns, script)
    }

    /// Runs a shell line in the client namespace.
    pub fn client_sh(&self, script: &str) -> Output {
        Self::sh(&self.client, script)
    }

    /// Runs a shell line in the second client's namespace.
    pub fn other_sh(&self, script: &str) -> Output {
        Self::sh(&self.other, script)
    }

    /// Runs a shell line in the router namespace.
    pub fn router_sh(&self, script: &str) -> Output {
        Self::sh(&self.router, script)
    }

    /// Asks the router's dnsmasq for a lease from the first client (busybox
    /// udhcpc with `args`, asking for option 114; the address is not
    /// applied) and returns what the lease script was given, as `env`
    /// prints it.
    pub fn dhcp_lease(&self, args: &str) -> String {
        let script = self.dir.path().join("lease.sh");
        let seen = self.dir.path().join("lease.env");
        std::fs::write(&script, format!("#!/bin/sh\nenv > {}\n", seen.display()))
            .expect("lease script");
        let made = Command::new("chmod")
            .arg("+x")
            .arg(&script)
            .status()
            .expect("chmod");
        assert!(made.success(), "chmod the lease script");
        let out = self.client_sh(&format!(
            "busybox udhcpc -i c0 -n -q -t 5 -T 1 -O 114 {args} -s {}",
            script.display()
        ));
        assert!(
            out.status.success(),
            "udhcpc got a lease: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(&seen).expect("the lease script ran")
    }

    /// Runs the queueless CLI against the daemon (in the router).
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.router,
                crate::common::binary(),
                "--data-dir",
            ])
            .arg(self.data_dir())
            .args(args)
            .output()
            .expect("cli runs")
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.stop_queueless();
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let all = [&self.client, &self.other, &self.router, &self.upstream];
        for ns in all.into_iter().chain(&self.guests) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        for ns in [&self.client, &self.other] {
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(ns));
        }
    }
}
