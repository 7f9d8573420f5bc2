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
pub mod mac;
pub mod neigh;
pub mod nft;
pub mod policy;
pub mod sniff;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::service::WifiSession;
use crate::store::{Store, StoreError, wifi};
use mac::Mac;
use policy::{BLOCKED, Grant, Internet, Net, Policy, TRUSTED};

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
struct Lists {
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
    /// Local file trouble.
    #[error("{0}")]
    Io(String),
}

/// The running gateway; cheap to clone.
#[derive(Clone, Debug)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: GatewaySettings,
    policy: Policy,
    store: Store,
    lists_path: PathBuf,
    lists: Mutex<Lists>,
    neighbours: Arc<neigh::Neighbours>,
    /// Counter readings of the last sweep, to tell activity from idleness.
    last_bytes: Mutex<std::collections::HashMap<Mac, u64>>,
    /// Addresses counted in the address sets: whose they are, and their
    /// counter at the last reading.
    counted: Mutex<std::collections::HashMap<IpAddr, (Mac, u64)>>,
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
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GatewayError::Io(format!("gateway task failed: {e}")))?
}

impl Gateway {
    /// Checks the host, builds the table and restores authorizations.
    /// Nothing is applied unless every check passes.
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
        let neighbours =
            blocking(move || neigh::Neighbours::start(&ifs).map_err(GatewayError::Io)).await?;
        let lists_path = data_dir.join("gateway-lists.json");
        let lists: Lists = match std::fs::read(&lists_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                GatewayError::Io(format!(
                    "{} is damaged ({e}); fix or delete it",
                    lists_path.display()
                ))
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
        let gw = Gateway {
            inner: Arc::new(Inner {
                settings,
                policy,
                store,
                lists_path,
                lists: Mutex::new(lists),
                neighbours,
                last_bytes: Mutex::new(Default::default()),
                counted: Mutex::new(Default::default()),
            }),
        };
        gw.rebuild().await?;
        Ok(gw)
    }

    /// The settings.
    pub fn settings(&self) -> &GatewaySettings {
        &self.inner.settings
    }

    /// Rebuilds the whole table from the policy and the store.
    pub async fn rebuild(&self) -> Result<(), GatewayError> {
        let now = self.inner.store.now();
        let sessions = self.inner.store.read(wifi::sessions).await?;
        let mut grants = Vec::new();
        let mut addrs = Vec::new();
        {
            let mut counted = self.lock_counted();
            counted.clear();
            for s in &sessions {
                let Some((mac, left)) = granted(s, now) else {
                    continue;
                };
                grants.push(Grant { mac, seconds: left });
                for ip in s
                    .ips
                    .iter()
                    .filter_map(|i| i.parse().ok())
                    .filter(countable)
                {
                    counted.insert(ip, (mac, 0));
                    addrs.push(policy::Counted { ip, seconds: left });
                }
            }
        }
        let policy = self.inner.policy.clone();
        let n_rules = policy.rules().len();
        let restored = grants.len();
        blocking(move || {
            nft::apply(&policy::full_batch(&policy, &grants, &addrs))?;
            nft::verify(n_rules)?;
            Ok(())
        })
        .await?;
        tracing::info!(restored, "gateway table inet queueless in place");
        Ok(())
    }

    /// The MAC of the client at `ip` on a guest interface, from the kernel's
    /// neighbour table.
    pub fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        self.inner.neighbours.lookup(ip)
    }

    /// Whether `ip` is a guest: a neighbour on a guest interface, or an
    /// address inside a guest network (so a client whose neighbour entry
    /// has not been seen yet counts as a guest too).
    pub fn is_guest(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.inner.neighbours.on_guest_network(ip) || self.mac_of(ip).is_some()
    }

    /// Lets a client through for `minutes` (the session length by default).
    pub async fn authorize(
        &self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> Result<WifiSession, GatewayError> {
        if !mac.is_unicast() {
            return Err(GatewayError::Invalid(format!(
                "{mac} is not a client address"
            )));
        }
        if self.is_blocked(mac) {
            return Err(GatewayError::Invalid(format!(
                "{mac} is blocked; unblock it first"
            )));
        }
        let seconds = minutes
            .map_or(self.inner.settings.session_seconds, |m| {
                m.saturating_mul(60)
            })
            .max(1);
        let until = Timestamp(self.inner.store.now().0 + u64::from(seconds) * 1000);
        // A client in the set already (joined before, perhaps before a
        // restart) gets its element replaced, keeping the traffic counted
        // so far. A new one is one `add`, with nothing to count first.
        let started = std::time::Instant::now();
        let key = mac.to_string();
        let stored = self
            .inner
            .store
            .read(move |r| wifi::session(r, &key))
            .await?;
        let now = self.inner.store.now();
        let known = stored
            .as_ref()
            .and_then(|s| s.authorized_until)
            .is_some_and(|u| u > now)
            || self
                .inner
                .last_bytes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&mac);
        let ips = self.ips_of(mac).await.unwrap_or_default();
        let counted: Vec<IpAddr> = ips
            .iter()
            .filter_map(|i| i.parse().ok())
            .filter(countable)
            .collect();
        // An address counted already (this client's, or another's before
        // it moved) is replaced too, so no one inherits its counter.
        let known = known || {
            let c = self.lock_counted();
            counted.iter().any(|ip| c.contains_key(ip))
        };
        if known {
            self.collect_traffic().await?;
        }
        let grant = Grant { mac, seconds };
        let batch = policy::authorize_batch(grant, &counted, known);
        blocking(move || Ok(nft::apply(&batch)?)).await?;
        self.inner
            .last_bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(mac, 0);
        {
            let mut c = self.lock_counted();
            for ip in counted {
                c.insert(ip, (mac, 0));
            }
        }
        // The client passes now; its connections caught by the redirect so
        // far are dropped before it hears so, so a kept-alive one is not
        // still sent to the portal. Over netlink this costs a few
        // milliseconds (the kernel walks its whole connection table for
        // the address), not a process.
        // Recorded meanwhile: both are done before the answer.
        let passing_ms = started.elapsed().as_secs_f64() * 1000.0;
        let key = mac.to_string();
        let ((), stored) = tokio::join!(
            forget_connections(&ips),
            self.inner
                .store
                .write(move |tx| wifi::authorize(tx, &key, until))
        );
        let s = stored?;
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(%mac, seconds, passing_ms, total_ms, "client authorized");
        Ok(s)
    }

    /// Puts a client back behind the portal.
    pub async fn deauthorize(&self, mac: Mac, end_session: bool) -> Result<(), GatewayError> {
        self.collect_traffic().await?;
        let ips: Vec<IpAddr> = {
            let mut c = self.lock_counted();
            let mine: Vec<IpAddr> = c
                .iter()
                .filter(|(_, (m, _))| *m == mac)
                .map(|(ip, _)| *ip)
                .collect();
            for ip in &mine {
                c.remove(ip);
            }
            mine
        };
        blocking(move || Ok(nft::apply(&policy::deauthorize_batch(mac, &ips))?)).await?;
        self.inner
            .last_bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&mac);
        let key = mac.to_string();
        self.inner
            .store
            .write(move |tx| wifi::deauthorize(tx, &key, end_session))
            .await?;
        forget_connections(&self.ips_of(mac).await?).await;
        tracing::info!(%mac, "client deauthorized");
        Ok(())
    }

    fn is_blocked(&self, mac: Mac) -> bool {
        self.inner.policy.blocked.contains(&mac)
            || self
                .inner
                .lists
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .blocked
                .contains(&mac)
    }

    fn is_trusted(&self, mac: Mac) -> bool {
        self.inner.policy.trusted.contains(&mac)
            || self
                .inner
                .lists
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .trusted
                .contains(&mac)
    }

    /// Always lets a client through (and unblocks it).
    pub async fn trust(&self, mac: Mac) -> Result<(), GatewayError> {
        self.set_list(mac, true).await
    }

    /// Never lets a client through (and untrusts and deauthorizes it).
    pub async fn block(&self, mac: Mac) -> Result<(), GatewayError> {
        self.set_list(mac, false).await?;
        self.deauthorize(mac, true).await
    }

    async fn set_list(&self, mac: Mac, trust: bool) -> Result<(), GatewayError> {
        let (add, remove) = if trust {
            (TRUSTED, BLOCKED)
        } else {
            (BLOCKED, TRUSTED)
        };
        blocking(move || {
            nft::apply(&policy::remove_batch(remove, mac))?;
            nft::apply(&policy::add_batch(add, mac))?;
            Ok(())
        })
        .await?;
        let json = {
            let mut l = self.inner.lists.lock().unwrap_or_else(|e| e.into_inner());
            if trust {
                l.blocked.remove(&mac);
                l.trusted.insert(mac);
            } else {
                l.trusted.remove(&mac);
                l.blocked.insert(mac);
            }
            serde_json::to_vec_pretty(&*l).map_err(|e| GatewayError::Io(e.to_string()))?
        };
        let path = self.inner.lists_path.clone();
        blocking(move || {
            let tmp = path.with_extension("json.partial");
            std::fs::write(&tmp, json)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| GatewayError::Io(format!("cannot save {}: {e}", path.display())))
        })
        .await?;
        if let Ok(ip) = self.ips_of(mac).await {
            forget_connections(&ip).await;
        }
        Ok(())
    }

    /// The client's addresses: those the kernel's neighbour table has now
    /// and those its stored session saw.
    async fn ips_of(&self, mac: Mac) -> Result<Vec<String>, GatewayError> {
        let key = mac.to_string();
        let mut ips: Vec<String> = self
            .inner
            .neighbours
            .addresses(mac)
            .iter()
            .map(ToString::to_string)
            .collect();
        let stored = self
            .inner
            .store
            .read(move |r| wifi::session(r, &key))
            .await?
            .map(|s| s.ips)
            .unwrap_or_default();
        for ip in stored {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        Ok(ips)
    }

    /// Whether the client at `ip` is still held by the portal.
    pub async fn state_of(&self, ip: IpAddr) -> Result<CaptiveState, GatewayError> {
        let Some(mac) = self.mac_of(ip) else {
            return Ok(CaptiveState {
                captive: true,
                seconds_remaining: 0,
            });
        };
        if self.is_trusted(mac) {
            return Ok(CaptiveState {
                captive: false,
                seconds_remaining: u64::from(self.inner.settings.session_seconds),
            });
        }
        let key = mac.to_string();
        let s = self
            .inner
            .store
            .read(move |r| wifi::session(r, &key))
            .await?;
        let now = self.inner.store.now();
        let left = s
            .and_then(|s| s.authorized_until)
            .map_or(0, |u| u.0.saturating_sub(now.0) / 1000);
        let captive =
            left == 0 || self.inner.settings.internet == Internet::None || self.is_blocked(mac);
        Ok(CaptiveState {
            captive,
            seconds_remaining: if captive { 0 } else { left },
        })
    }

    /// Records a client seen at `ip`.
    pub async fn seen(
        &self,
        mac: Mac,
        ip: IpAddr,
        hostname: Option<String>,
    ) -> Result<(), GatewayError> {
        let key = mac.to_string();
        let ip = ip.to_string();
        self.inner
            .store
            .write(move |tx| wifi::seen(tx, &key, Some(&ip), hostname.as_deref()).map(|_| ()))
            .await?;
        Ok(())
    }

    /// Every client the gateway knows.
    pub async fn clients(&self) -> Result<Vec<ClientView>, GatewayError> {
        let now = self.inner.store.now();
        let all = self.inner.store.read(wifi::sessions).await?;
        Ok(all
            .into_iter()
            .map(|s| {
                let mac: Option<Mac> = s.mac.parse().ok();
                let left = s
                    .authorized_until
                    .map_or(0, |u| u.0.saturating_sub(now.0) / 1000);
                ClientView {
                    authorized: left > 0,
                    seconds_remaining: left,
                    trusted: mac.is_some_and(|m| self.is_trusted(m)),
                    blocked: mac.is_some_and(|m| self.is_blocked(m)),
                    session: s,
                }
            })
            .collect())
    }

    fn lock_counted(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<IpAddr, (Mac, u64)>> {
        self.inner.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the counters' growth to the stored sessions (bytes from each
    /// client by its MAC, bytes to it by its addresses); returns the MACs
    /// with traffic since the last reading.
    async fn collect_traffic(&self) -> Result<Vec<Mac>, GatewayError> {
        let live = blocking(|| Ok(nft::traffic()?)).await?;
        // A counter that went down was replaced: count it from zero.
        let grew = |now: u64, before: u64| if now >= before { now - before } else { now };
        let mut deltas: std::collections::HashMap<Mac, (u64, u64)> = Default::default();
        {
            let mut last = self
                .inner
                .last_bytes
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for l in &live.authorized {
                let before = last.insert(l.mac, l.bytes).unwrap_or(0);
                let d = grew(l.bytes, before);
                if d > 0 {
                    deltas.entry(l.mac).or_default().0 += d;
                }
            }
        }
        {
            let mut counted = self.lock_counted();
            for (ip, bytes) in &live.to_addresses {
                let Some((mac, before)) = counted.get_mut(ip) else {
                    continue;
                };
                let d = grew(*bytes, *before);
                *before = *bytes;
                if d > 0 {
                    deltas.entry(*mac).or_default().1 += d;
                }
            }
        }
        let active: Vec<Mac> = deltas.keys().copied().collect();
        if !deltas.is_empty() {
            self.inner
                .store
                .write(move |tx| {
                    for (mac, (from, to)) in &deltas {
                        wifi::add_traffic(tx, &mac.to_string(), *from, *to, true)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(active)
    }

    /// Starts counting addresses a joined client got after it joined (a
    /// new DHCP lease, IPv6 privacy addresses).
    async fn count_new_addresses(&self) -> Result<(), GatewayError> {
        let now = self.inner.store.now();
        let sessions = self.inner.store.read(wifi::sessions).await?;
        let mut add = Vec::new();
        {
            let counted = self.lock_counted();
            for s in &sessions {
                let Some((mac, left)) = granted(s, now) else {
                    continue;
                };
                for ip in self.inner.neighbours.addresses(mac) {
                    if countable(&ip) && !counted.contains_key(&ip) {
                        add.push((mac, policy::Counted { ip, seconds: left }));
                    }
                }
            }
        }
        if add.is_empty() {
            return Ok(());
        }
        let addrs: Vec<policy::Counted> = add.iter().map(|(_, c)| *c).collect();
        blocking(move || Ok(nft::apply(&policy::count_batch(&addrs))?)).await?;
        let mut counted = self.lock_counted();
        for (mac, c) in add {
            counted.insert(c.ip, (mac, 0));
        }
        Ok(())
    }

    /// Ends sessions past their time or idle too long; run every few seconds.
    pub async fn sweep(&self) -> Result<(), GatewayError> {
        self.collect_traffic().await?;
        self.count_new_addresses().await?;
        let now = self.inner.store.now();
        let idle_ms = u64::from(self.inner.settings.idle_seconds) * 1000;
        let sessions = self.inner.store.read(wifi::sessions).await?;
        for s in sessions {
            let Some(until) = s.authorized_until else {
                continue;
            };
            let Ok(mac) = s.mac.parse::<Mac>() else {
                continue;
            };
            let expired = until <= now;
            let idle = idle_ms > 0 && now.0.saturating_sub(s.last_seen.0) >= idle_ms;
            if expired || idle {
                tracing::info!(%mac, expired, idle, "session over");
                self.deauthorize(mac, true).await?;
            }
        }
        Ok(())
    }

    /// At stop: with `fail_open`, remove the table so guests pass freely;
    /// otherwise leave it, so guests stay behind the portal.
    pub async fn stop(&self) -> Result<(), GatewayError> {
        if self.inner.settings.fail_open {
            blocking(|| Ok(nft::apply(&policy::delete_batch())?)).await?;
            tracing::info!("gateway table removed (fail_open)");
        }
        Ok(())
    }
}

impl Gateway {
    /// Starts the background work: the packet readers on each guest
    /// interface, recording clients as they appear, and the sweep that ends
    /// expired and idle sessions. Returns the tasks (abort them to stop).
    pub fn spawn_tasks(&self) -> Result<Vec<tokio::task::JoinHandle<()>>, GatewayError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<sniff::Sighting>(1024);
        for i in &self.inner.settings.interfaces {
            sniff::spawn(i, tx.clone()).map_err(GatewayError::Io)?;
        }
        drop(tx);
        let gw = self.clone();
        let recorder = tokio::spawn(async move {
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
                let key = s.mac.to_string();
                let ip_text = ip.map(|i| i.to_string());
                let host = s.hostname.clone();
                let r = gw
                    .inner
                    .store
                    .write(move |tx| {
                        wifi::seen(tx, &key, ip_text.as_deref(), host.as_deref()).map(|_| ())
                    })
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
        let gw = self.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = gw.sweep().await {
                    tracing::warn!(error = %e, "gateway sweep failed");
                }
            }
        });
        Ok(vec![recorder, sweeper])
    }
}

/// Drops the client's tracked connections, so the next one is judged by
/// the new rules (a kept-alive connection would otherwise stay redirected).
async fn forget_connections(ips: &[String]) {
    let ips: Vec<IpAddr> = ips.iter().filter_map(|i| i.parse().ok()).collect();
    if ips.is_empty() {
        return;
    }
    match tokio::task::spawn_blocking(move || conntrack::forget(&ips)).await {
        Ok(Ok(n)) => tracing::debug!(connections = n, "tracked connections dropped"),
        Ok(Err(e)) => tracing::warn!(error = %e, "tracked connections not dropped"),
        Err(e) => tracing::warn!(error = %e, "conntrack task failed"),
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
    Some((s.mac.parse().ok()?, left))
}

/// Whether traffic to `ip` can be counted by address: a global or
/// private unicast address (never link-local, which is not forwarded).
fn countable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_link_local() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_unicast_link_local() || v6.is_multicast()),
    }
}

/// How often [`Gateway::sweep`] runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
