//! The captive gateway: the nftables policy that keeps guests on the portal
//! until they join, and the operations on it (authorize, deauthorize,
//! trust, block), with Wi-Fi sessions kept in the store.
//!
//! Enabled only when guest interfaces are configured; otherwise nothing on
//! the host's firewall changes. At start the table is rebuilt in one
//! transaction and every authorization still valid in the store is put back
//! with its remaining time. Authorizing a client is one set-element change
//! plus dropping that client's conntrack entries, so its next connection is
//! not caught by an old redirect.

pub mod conntrack;
pub mod guests;
pub mod mac;
pub mod neigh;
pub mod netlink;
pub mod nft;
pub mod policy;
pub mod reconcile;
pub mod sniff;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::service::WifiSession;
use crate::store::{Store, StoreError, wifi};
pub use guests::Guests;
use mac::Mac;
use policy::{Internet, Net, Policy};
use reconcile::{Command, Reconciler};

/// What the gateway is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewaySettings {
    /// Guest interfaces.
    pub interfaces: Vec<String>,
    /// Session length after joining, in seconds.
    pub session_seconds: u32,
    /// A joined client without traffic this long (seconds) is let go (0: never).
    pub idle_seconds: u32,
    /// Internet for joined guests.
    pub internet: Internet,
    /// Reachable before joining.
    pub garden: Vec<Net>,
    /// Always allowed.
    pub trusted: Vec<Mac>,
    /// Never allowed.
    pub blocked: Vec<Mac>,
    /// Delete the table when the daemon stops (guests then pass freely).
    pub fail_open: bool,
}

/// Trust and block decisions made at run time, kept beside the database.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Lists {
    trusted: BTreeSet<Mac>,
    blocked: BTreeSet<Mac>,
}

/// What went wrong in the gateway, in words naming the fix.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A configured interface does not exist.
    #[error("guest interface {0:?} does not exist (see `ip link`); fix --guest-interface")]
    NoInterface(String),
    /// nftables trouble.
    #[error(transparent)]
    Nft(#[from] nft::NftError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// The neighbour table could not be followed.
    #[error(transparent)]
    Neighbours(#[from] neigh::NeighError),
    /// A guest interface cannot be read.
    #[error(transparent)]
    Sniff(#[from] sniff::SniffError),
    /// The trust and block lists file does not parse.
    #[error("{} is damaged ({source}); fix or delete it", path.display())]
    Damaged {
        /// The lists file.
        path: std::path::PathBuf,
        /// What is wrong in it.
        source: serde_json::Error,
    },
    /// A blocking part of the gateway's work panicked or was cancelled.
    #[error("gateway task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The trust and block lists could not be saved.
    #[error("cannot save {}: {source}", path.display())]
    Save {
        /// The lists file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The lists could not be written as JSON.
    #[error("cannot write the trust and block lists: {0}")]
    Json(#[from] serde_json::Error),
    /// The task owning the gateway has ended (the daemon is stopping).
    #[error("the captive gateway has stopped")]
    Stopped,
}

/// The running gateway: a cheap handle to the task that owns its state
/// ([`reconcile`]); every change is a command answered by that task.
#[derive(Clone, Debug)]
pub struct Gateway {
    settings: Arc<GatewaySettings>,
    neighbours: Arc<neigh::Neighbours>,
    store: Store,
    tx: mpsc::Sender<Command>,
}

/// What a client looks like from the gateway.
#[derive(Clone, Debug, Serialize)]
pub struct ClientView {
    /// The stored session.
    #[serde(flatten)]
    pub session: WifiSession,
    /// Passes the firewall now.
    pub authorized: bool,
    /// Seconds of its session left.
    pub seconds_remaining: u64,
    /// On the trusted list.
    pub trusted: bool,
    /// On the blocked list.
    pub blocked: bool,
}

impl ClientView {
    /// One word for people: blocked, trusted, joined or captive.
    pub fn state(&self) -> &'static str {
        if self.blocked {
            "blocked"
        } else if self.trusted {
            "trusted"
        } else if self.authorized {
            "joined"
        } else {
            "captive"
        }
    }
}

/// Whether a client is still held by the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptiveState {
    /// Not (yet) allowed through.
    pub captive: bool,
    /// Seconds left of its session.
    pub seconds_remaining: u64,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    tokio::task::spawn_blocking(f).await?
}

impl Gateway {
    /// Checks the host, builds the table, restores authorizations and
    /// starts the task that owns the gateway. Nothing is applied unless
    /// every check passes.
    pub async fn start(
        settings: GatewaySettings,
        store: Store,
        data_dir: &std::path::Path,
        captive_port: u16,
        portal_ports: Vec<u16>,
    ) -> Result<Gateway, GatewayError> {
        for i in &settings.interfaces {
            if !std::path::Path::new("/sys/class/net").join(i).exists() {
                return Err(GatewayError::NoInterface(i.clone()));
            }
        }
        blocking(|| nft::check().map_err(GatewayError::from)).await?;
        let ifs = settings.interfaces.clone();
        let neighbours = blocking(move || Ok(neigh::Neighbours::start(&ifs)?)).await?;
        let lists_path = data_dir.join("gateway-lists.json");
        let lists: Lists = match std::fs::read(&lists_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|source| GatewayError::Damaged {
                path: lists_path.clone(),
                source,
            })?,
            Err(_) => Lists::default(),
        };
        let mut trusted: BTreeSet<Mac> = settings.trusted.iter().copied().collect();
        trusted.extend(lists.trusted.iter().copied());
        let mut blocked: BTreeSet<Mac> = settings.blocked.iter().copied().collect();
        blocked.extend(lists.blocked.iter().copied());
        let policy = Policy {
            interfaces: settings.interfaces.clone(),
            captive_port,
            portal_ports,
            internet: settings.internet,
            garden: settings.garden.clone(),
            trusted: trusted.into_iter().collect(),
            blocked: blocked.into_iter().collect(),
        };
        let mut owner = Reconciler::new(
            settings.clone(),
            policy,
            store.clone(),
            lists_path,
            lists,
            Arc::clone(&neighbours),
        );
        owner.rebuild().await?;
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(owner.run(rx));
        Ok(Gateway {
            settings: Arc::new(settings),
            neighbours,
            store,
            tx,
        })
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(reconcile::Reply<T>) -> Command,
    ) -> Result<T, GatewayError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| GatewayError::Stopped)?;
        answer.await.map_err(|_| GatewayError::Stopped)?
    }

    /// The settings.
    pub fn settings(&self) -> &GatewaySettings {
        &self.settings
    }

    /// The MAC of the client at `ip` on a guest interface, from the kernel's
    /// neighbour table.
    pub fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        self.neighbours.lookup(canonical(ip))
    }

    /// Whether `ip` is a guest: a neighbour on a guest interface, or an
    /// address inside a guest network (so a client whose neighbour entry
    /// has not been seen yet counts as a guest too).
    pub fn is_guest(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.neighbours.on_guest_network(ip) || self.mac_of(ip).is_some()
    }

    /// Lets a client through for `minutes` (the session length by default).
    pub async fn authorize(
        &self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> Result<WifiSession, GatewayError> {
        self.ask(|reply| Command::Authorize {
            mac,
            minutes,
            reply,
        })
        .await
    }

    /// Puts a client back behind the portal.
    pub async fn deauthorize(&self, mac: Mac, end_session: bool) -> Result<(), GatewayError> {
        self.ask(|reply| Command::Deauthorize {
            mac,
            end_session,
            reply,
        })
        .await
    }

    /// Always lets a client through (and unblocks it).
    pub async fn trust(&self, mac: Mac) -> Result<(), GatewayError> {
        self.ask(|reply| Command::List {
            mac,
            trust: true,
            reply,
        })
        .await
    }

    /// Never lets a client through (and untrusts and deauthorizes it).
    pub async fn block(&self, mac: Mac) -> Result<(), GatewayError> {
        self.ask(|reply| Command::List {
            mac,
            trust: false,
            reply,
        })
        .await
    }

    /// Whether the client at `ip` is still held by the portal.
    pub async fn state_of(&self, ip: IpAddr) -> Result<CaptiveState, GatewayError> {
        let ip = canonical(ip);
        self.ask(|reply| Command::State { ip, reply }).await
    }

    /// Every client the gateway knows.
    pub async fn clients(&self) -> Result<Vec<ClientView>, GatewayError> {
        self.ask(|reply| Command::Clients { reply }).await
    }

    /// At stop: with `fail_open`, remove the table so guests pass freely;
    /// otherwise leave it, so guests stay behind the portal. The owning
    /// task ends (no rebuild after this).
    pub async fn stop(&self) -> Result<(), GatewayError> {
        self.ask(|reply| Command::Stop { reply }).await
    }
}

impl Gateway {
    /// Starts the background work: the packet readers on each guest
    /// interface, recording clients as they appear, and the sweep that ends
    /// expired and idle sessions. Returns the tasks (abort them to stop).
    pub fn spawn_tasks(&self) -> Result<Vec<tokio::task::JoinHandle<()>>, GatewayError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<sniff::Sighting>(1024);
        for i in &self.settings.interfaces {
            sniff::spawn(i, tx.clone())?;
        }
        drop(tx);
        // Clients already here at a restart are recorded from the kernel's
        // neighbour table: they may not send DHCP or ARP for minutes.
        let here = match self.neighbours.recent() {
            Ok(here) => here,
            Err(e) => {
                tracing::warn!(error = %e, "clients already connected not read");
                Vec::new()
            }
        };
        let store = self.store.clone();
        let recorder = tokio::spawn(async move {
            // One write for all of them (the kernel keeps at most about a
            // thousand neighbours): a restart costs the flash one commit.
            if !here.is_empty() {
                let r = store
                    .write(move |tx| {
                        for (ip, mac) in here {
                            wifi::seen(tx, mac, countable(&ip).then_some(ip), None)?;
                        }
                        Ok(())
                    })
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot record the clients already connected");
                }
            }
            // Write a client again only when something changed or a while passed.
            let mut last: std::collections::HashMap<Mac, (sniff::Sighting, std::time::Instant)> =
                std::collections::HashMap::new();
            while let Some(s) = rx.recv().await {
                let fresh = match last.get(&s.mac) {
                    Some((old, at)) => {
                        (s.ip.is_some() && old.ip != s.ip)
                            || (s.hostname.is_some() && old.hostname != s.hostname)
                            || at.elapsed() > Duration::from_secs(30)
                    }
                    None => true,
                };
                if !fresh {
                    continue;
                }
                let ip = s.ip.map(IpAddr::V4);
                let mac = s.mac;
                let host = s.hostname.clone();
                let r = store
                    .write(move |tx| wifi::seen(tx, mac, ip, host.as_deref()).map(|_| ()))
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot record a client");
                }
                if last.len() > 10_000 {
                    last.clear();
                }
                last.insert(s.mac, (s, std::time::Instant::now()));
            }
        });
        Ok(vec![recorder])
    }
}

/// Drops the client's tracked connections, so the next one is judged by
/// the new rules (a kept-alive connection would otherwise stay redirected).
async fn forget_connections(ips: &[IpAddr]) {
    if ips.is_empty() {
        return;
    }
    let ips = ips.to_vec();
    match tokio::task::spawn_blocking(move || conntrack::forget(&ips)).await {
        Ok(Ok(n)) => tracing::debug!(connections = n, "tracked connections dropped"),
        Ok(Err(e)) => tracing::warn!(error = %e, "tracked connections not dropped"),
        Err(e) => tracing::warn!(error = %e, "conntrack task failed"),
    }
}

/// An IPv4 peer of a dual-stack (`[::]`) listener as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A session still authorized at `now`: its client and whole seconds left.
fn granted(s: &WifiSession, now: Timestamp) -> Option<(Mac, u32)> {
    let left = s
        .authorized_until?
        .0
        .checked_sub(now.0)
        .map(|ms| u32::try_from(ms / 1000).unwrap_or(u32::MAX))
        .filter(|l| *l > 0)?;
    Some((s.mac, left))
}

/// Whether traffic to `ip` can be counted by address: a global or
/// private unicast address (never link-local, which is not forwarded).
fn countable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_link_local() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_unicast_link_local() || v6.is_multicast()),
    }
}

pub use reconcile::SWEEP_EVERY;
