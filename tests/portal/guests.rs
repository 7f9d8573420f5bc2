//! The join flow and the staff-from-guest refusal through the web side's
//! gateway trait, with a fake gateway (no root, no nftables): the real
//! server decides from what the trait answers, and the fake records what
//! it was asked to do.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use queueless::domain::Timestamp;
use queueless::domain::service::WifiSession;
use queueless::gateway::mac::Mac;
use queueless::gateway::policy::Internet;
use queueless::gateway::{CaptiveState, ClientView, GatewayError, GatewaySettings, Guests};
use serde_json::json;

use crate::support::{Api, Server};

const MAC: &str = "02:00:00:0c:11:01";

/// Loopback is the guest network while `guest` holds; one guest, MAC
/// [`MAC`], captive until authorized.
#[derive(Debug)]
struct Fake {
    settings: GatewaySettings,
    guest: AtomicBool,
    authorized: Mutex<Vec<(Mac, Option<u32>)>>,
}

impl Fake {
    fn new() -> Arc<Fake> {
        Arc::new(Fake {
            settings: GatewaySettings {
                interfaces: vec!["guest0".into()],
                session_seconds: 1800,
                idle_seconds: 0,
                internet: Internet::AfterAccept,
                garden: Vec::new(),
                trusted: Vec::new(),
                blocked: Vec::new(),
                fail_open: false,
            },
            guest: AtomicBool::new(true),
            authorized: Mutex::new(Vec::new()),
        })
    }

    fn joined(&self) -> bool {
        !self.authorized.lock().expect("lock").is_empty()
    }
}

impl Guests for Fake {
    fn settings(&self) -> &GatewaySettings {
        &self.settings
    }

    fn is_guest(&self, ip: IpAddr) -> bool {
        ip.is_loopback() && self.guest.load(Ordering::SeqCst)
    }

    fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        self.is_guest(ip).then(|| MAC.parse().expect("mac"))
    }

    fn state_of(&self, _ip: IpAddr) -> BoxFuture<'_, Result<CaptiveState, GatewayError>> {
        let joined = self.joined();
        Box::pin(async move {
            Ok(CaptiveState {
                captive: !joined,
                seconds_remaining: if joined { 1800 } else { 0 },
            })
        })
    }

    fn authorize(
        &self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> BoxFuture<'_, Result<WifiSession, GatewayError>> {
        self.authorized.lock().expect("lock").push((mac, minutes));
        Box::pin(async move {
            Ok(WifiSession {
                mac,
                ips: vec![std::net::IpAddr::from([127, 0, 0, 1])],
                devices: Vec::new(),
                hostname: None,
                connected_at: Timestamp(0),
                authorized_until: Some(Timestamp(1_800_000)),
                last_seen: Timestamp(0),
                disconnected_at: None,
                bytes_in: 0,
                bytes_out: 0,
            })
        })
    }

    fn clients(&self) -> BoxFuture<'_, Result<Vec<ClientView>, GatewayError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_joins_through_the_gateway_trait() {
    let fake = Fake::new();
    let server = Server::start_with_guests(fake.clone()).await;
    let mut a = Api::new(&server);
    let (status, api) = a.send("GET", "/api/captive-portal", None).await;
    assert_eq!(status, 200);
    assert_eq!(api["captive"], true, "{api}");
    let (status, page, _) = a.page("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("action=\"/join\""),
        "the landing page offers to join"
    );

    let csrf = a.csrf().await;
    let (status, body, _) = a.form("/join", &[("_csrf", &csrf)]).await;
    assert_eq!(status, 422, "the terms must be accepted: {body}");
    assert!(!fake.joined(), "nothing authorized without accepting");
    let (status, _, location) = a
        .form("/join", &[("_csrf", &csrf), ("accept", "yes")])
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/?joined=1");
    assert_eq!(
        *fake.authorized.lock().expect("lock"),
        vec![(MAC.parse::<Mac>().expect("mac"), None)],
        "the guest's own MAC, for the session length"
    );
    let (_, api) = a.send("GET", "/api/captive-portal", None).await;
    assert_eq!(api["captive"], false, "{api}");
    assert_eq!(api["seconds-remaining"], 1800, "{api}");

    // Off the guest network there is nothing to join.
    fake.guest.store(false, Ordering::SeqCst);
    let (status, body, _) = a
        .form("/join", &[("_csrf", &csrf), ("accept", "yes")])
        .await;
    assert_eq!(status, 403, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_cannot_log_in_from_the_guest_network() {
    let fake = Fake::new();
    let server = Server::start_with_guests(fake.clone()).await;
    let mut a = Api::new(&server);
    let login = json!({"email": "tea@demo.queueless", "password": "queueless-demo"});
    let (status, body) = a.send("POST", "/api/auth/login", Some(login.clone())).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("guest Wi-Fi"), "{body}");
    fake.guest.store(false, Ordering::SeqCst);
    let (status, body) = a.send("POST", "/api/auth/login", Some(login)).await;
    assert_eq!(status, 200, "from the staff network: {body}");
    server.stop().await;
}
