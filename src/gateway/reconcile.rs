//! The gateway's one owner: a task that holds the trust and block lists,
//! the traffic counters and what it believes nftables holds, and takes
//! commands from the cloneable [`super::Gateway`] handles over a channel,
//! answering each by oneshot. Commands run one after another, so an
//! authorization can never race the sweep that ends a session.
//!
//! Every change is one nftables transaction. Every check tick it reads the
//! table back (the same listing the counters come from) and compares the
//! table's handle and the handles of its rules with what it built; once a
//! minute it also compares the rules, the trusted, blocked and garden
//! elements, and the authorized clients with the store. After any nftables
//! or store error, or when the table is missing or differs, it rebuilds the
//! whole table from the store in one atomic batch and reads it back;
//! authorized clients keep their remaining time. Each rebuild is logged
//! once, with its reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::mac::Mac;
use super::nft::{self, Snapshot};
use super::policy::{self, Grant, Internet, Policy};
use super::{
    CaptiveState, ClientView, GatewayError, GatewaySettings, Lists, blocking, countable,
    forget_connections, granted, neigh,
};
use crate::domain::Timestamp;
use crate::domain::service::WifiSession;
use crate::store::{Store, wifi};

/// How often the table is read back and checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// How often counters are collected and expired or idle sessions ended.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// How often the table's content is compared in full.
pub const FULL_CHECK_EVERY: Duration = Duration::from_secs(60);
/// Elements this close to their end may already be gone from either side.
const SLACK_SECONDS: u64 = 3;

/// The answer to one command.
pub type Reply<T> = oneshot::Sender<Result<T, GatewayError>>;

/// What the handles ask of the owner.
#[derive(Debug)]
pub enum Command {
    /// Let a client through.
    Authorize {
        mac: Mac,
        minutes: Option<u32>,
        reply: Reply<WifiSession>,
    },
    /// Put a client back behind the portal.
    Deauthorize {
        mac: Mac,
        end_session: bool,
        reply: Reply<()>,
    },
    /// Trust (`true`) or block a client.
    List {
        mac: Mac,
        trust: bool,
        reply: Reply<()>,
    },
    /// Whether the client at an address is held by the portal.
    State {
        ip: IpAddr,
        reply: Reply<CaptiveState>,
    },
    /// Every client.
    Clients { reply: Reply<Vec<ClientView>> },
    /// Leave the firewall as configured and end the task.
    Stop { reply: Reply<()> },
}

/// What was built last, as the kernel reported it right after.
#[derive(Debug)]
struct Believed {
    handle: u64,
    rule_handles: Vec<(String, u64)>,
    rules: Vec<String>,
    garden: BTreeMap<String, BTreeSet<String>>,
}

/// The owner's state.
#[derive(Debug)]
pub struct Reconciler {
    pub(super) settings: GatewaySettings,
    pub(super) policy: Policy,
    pub(super) store: Store,
    pub(super) lists_path: PathBuf,
    pub(super) lists: Lists,
    pub(super) neighbours: Arc<neigh::Neighbours>,
    /// Counter readings of the last sweep, to tell activity from idleness.
    last_bytes: HashMap<Mac, u64>,
    /// Addresses counted in the address sets: whose they are, and their
    /// counter at the last reading.
    counted: HashMap<IpAddr, (Mac, u64)>,
    believed: Option<Believed>,
    /// Why the table must be rebuilt, when it must.
    rebuild_reason: Option<String>,
    /// A rebuild failed and was logged; the next failures are not.
    failing: bool,
    last_full: Instant,
    last_sweep: Instant,
}

impl Reconciler {
    /// A new owner; nothing is applied until [`Reconciler::rebuild`].
    pub fn new(
        settings: GatewaySettings,
        policy: Policy,
        store: Store,
        lists_path: PathBuf,
        lists: Lists,
        neighbours: Arc<neigh::Neighbours>,
    ) -> Reconciler {
        Reconciler {
            settings,
            policy,
            store,
            lists_path,
            lists,
            neighbours,
            last_bytes: HashMap::new(),
            counted: HashMap::new(),
            believed: None,
            rebuild_reason: None,
            failing: false,
            last_full: Instant::now(),
            last_sweep: Instant::now(),
        }
    }

    /// Serves commands and checks the table until stopped or every handle
    /// is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Command::Stop { reply }) => {
                        let _ = reply.send(self.stop().await);
                        break;
                    }
                    Some(cmd) => self.handle(cmd).await,
                },
                _ = tick.tick() => self.check().await,
            }
            if self.rebuild_reason.is_some() {
                self.rebuild_logged().await;
            }
        }
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Authorize {
                mac,
                minutes,
                reply,
            } => {
                let r = self.authorize(mac, minutes).await;
                self.failed(&r, "authorizing a client");
                let _ = reply.send(r);
            }
            Command::Deauthorize {
                mac,
                end_session,
                reply,
            } => {
                let r = self.deauthorize(mac, end_session).await;
                self.failed(&r, "deauthorizing a client");
                let _ = reply.send(r);
            }
            Command::List { mac, trust, reply } => {
                let r = self.set_list(mac, trust).await;
                self.failed(&r, if trust { "trusting" } else { "blocking" });
                let _ = reply.send(r);
            }
            Command::State { ip, reply } => {
                let _ = reply.send(self.state_of(ip).await);
            }
            Command::Clients { reply } => {
                let _ = reply.send(self.clients().await);
            }
            Command::Stop { reply } => {
                let _ = reply.send(self.stop().await);
            }
        }
    }

    /// After a failed change nftables and the store may disagree: the
    /// table is rebuilt from the store (bad input changes nothing).
    fn failed<T>(&mut self, r: &Result<T, GatewayError>, doing: &str) {
        if let Err(e) = r
            && !matches!(e, GatewayError::Invalid(_))
        {
            self.must_rebuild(format!("{doing} failed: {e}"));
        }
    }

    fn must_rebuild(&mut self, reason: String) {
        if self.rebuild_reason.is_none() {
            self.rebuild_reason = Some(reason);
        }
    }

    async fn rebuild_logged(&mut self) {
        let Some(reason) = self.rebuild_reason.take() else {
            return;
        };
        match self.rebuild().await {
            Ok(restored) => {
                tracing::warn!(%reason, restored, "gateway table rebuilt");
                self.failing = false;
            }
            Err(e) => {
                if !self.failing {
                    tracing::error!(
                        %reason, error = %e,
                        "gateway table cannot be rebuilt; trying again every {} s",
                        CHECK_EVERY.as_secs()
                    );
                }
                self.failing = true;
                self.rebuild_reason = Some(reason);
            }
        }
    }

    /// Rebuilds the whole table from the policy and the store in one
    /// transaction, reads it back and checks it; returns how many
    /// authorizations were restored.
    pub async fn rebuild(&mut self) -> Result<usize, GatewayError> {
        self.believed = None;
        let now = self.store.now();
        let sessions = self.store.read(wifi::sessions).await?;
        let mut grants = Vec::new();
        let mut addrs = Vec::new();
        self.counted.clear();
        self.last_bytes.clear();
        for s in &sessions {
            let Some((mac, left)) = granted(s, now) else {
                continue;
            };
            if self.policy.blocked.contains(&mac) {
                continue;
            }
            grants.push(Grant { mac, seconds: left });
            self.last_bytes.insert(mac, 0);
            for ip in s.ips.iter().copied().filter(countable) {
                self.counted.insert(ip, (mac, 0));
                addrs.push(policy::Counted { ip, seconds: left });
            }
        }
        let batch = policy::full_batch(&self.policy, &grants, &addrs);
        let n_rules = self.policy.rules().len();
        let snap = blocking(move || {
            nft::apply(&batch)?;
            let snap = nft::snapshot()?.ok_or_else(|| {
                nft::NftError::Mismatch("the table is missing right after it was built".into())
            })?;
            nft::check_built(&snap, n_rules)?;
            Ok(snap)
        })
        .await?;
        self.believed = Some(Believed {
            handle: snap.handle,
            rule_handles: rule_handles(&snap),
            rules: snap.rules.iter().map(|r| r.body.clone()).collect(),
            garden: garden(&snap),
        });
        self.last_full = Instant::now();
        tracing::info!(
            restored = grants.len(),
            "gateway table inet queueless in place"
        );
        Ok(grants.len())
    }

    /// Reads the table back and compares it; every [`SWEEP_EVERY`] also
    /// collects the counters and ends sessions.
    async fn check(&mut self) {
        if self.rebuild_reason.is_some() {
            return;
        }
        let snap = match blocking(|| Ok(nft::snapshot()?)).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.must_rebuild("the table inet queueless is gone".into());
                return;
            }
            Err(e) => {
                self.must_rebuild(format!("reading the table failed: {e}"));
                return;
            }
        };
        if let Some(diff) = self.cheap_diff(&snap) {
            self.must_rebuild(diff);
            return;
        }
        if self.last_full.elapsed() >= FULL_CHECK_EVERY {
            self.last_full = Instant::now();
            match self.full_diff(&snap).await {
                Ok(None) => {}
                Ok(Some(diff)) => {
                    self.must_rebuild(diff);
                    return;
                }
                Err(e) => {
                    self.must_rebuild(format!("comparing with the store failed: {e}"));
                    return;
                }
            }
        }
        if self.last_sweep.elapsed() + Duration::from_millis(100) >= SWEEP_EVERY {
            self.last_sweep = Instant::now();
            if let Err(e) = self.sweep(&snap).await {
                self.must_rebuild(format!("gateway sweep failed: {e}"));
            }
        }
    }

    /// The cheap comparison: the same table and the same rules (by handle).
    fn cheap_diff(&self, snap: &Snapshot) -> Option<String> {
        let b = self.believed.as_ref()?;
        if snap.handle != b.handle {
            return Some(format!(
                "the table inet queueless was replaced (handle {} instead of {})",
                snap.handle, b.handle
            ));
        }
        let now = rule_handles(snap);
        if now != b.rule_handles {
            return Some(format!(
                "the table's rules changed ({} rules, {} built)",
                now.len(),
                b.rule_handles.len()
            ));
        }
        None
    }

    /// The full comparison: rules, lists, garden and who is authorized.
    async fn full_diff(&self, snap: &Snapshot) -> Result<Option<String>, GatewayError> {
        let Some(b) = self.believed.as_ref() else {
            return Ok(Some("nothing built yet".into()));
        };
        if snap.rules.iter().map(|r| &r.body).ne(b.rules.iter()) {
            return Ok(Some("a rule's content changed".into()));
        }
        if garden(snap) != b.garden {
            return Ok(Some("the walled garden's elements changed".into()));
        }
        for (name, want) in [
            (policy::TRUSTED, &self.policy.trusted),
            (policy::BLOCKED, &self.policy.blocked),
        ] {
            let want: BTreeSet<String> = want.iter().map(|m| format!("\"{m}\"")).collect();
            let have = snap.elements.get(name).cloned().unwrap_or_default();
            if want != have {
                return Ok(Some(format!("the {name} set's elements changed")));
            }
        }
        let now = self.store.now();
        let sessions = self.store.read(wifi::sessions).await?;
        let mut want = BTreeSet::new();
        let mut ending = BTreeSet::new();
        for s in &sessions {
            if let Some((mac, left)) = granted(s, now)
                && !self.policy.blocked.contains(&mac)
            {
                if u64::from(left) > SLACK_SECONDS {
                    want.insert(mac);
                } else {
                    ending.insert(mac);
                }
            }
        }
        for live in &snap.traffic.authorized {
            let lasting = live.expires.as_secs() > SLACK_SECONDS;
            if !want.remove(&live.mac) && lasting && !ending.contains(&live.mac) {
                return Ok(Some(format!(
                    "{} passes the firewall but the store has no authorization for it",
                    live.mac
                )));
            }
        }
        if let Some(mac) = want.first() {
            return Ok(Some(format!(
                "{mac} is authorized in the store but missing from the table"
            )));
        }
        Ok(None)
    }

    /// Lets a client through for `minutes` (the session length by default).
    async fn authorize(
        &mut self,
        mac: Mac,
        minutes: Option<u32>,
    ) -> Result<WifiSession, GatewayError> {
        if !mac.is_unicast() {
            return Err(GatewayError::Invalid(format!(
                "{mac} is not a client address"
            )));
        }
        if self.policy.blocked.contains(&mac) {
            return Err(GatewayError::Invalid(format!(
                "{mac} is blocked; unblock it first"
            )));
        }
        let seconds = minutes
            .map_or(self.settings.session_seconds, |m| m.saturating_mul(60))
            .max(1);
        let until = Timestamp(self.store.now().0 + u64::from(seconds) * 1000);
        // A client in the set already (joined before, perhaps before a
        // restart) gets its element replaced, keeping the traffic counted
        // so far. A new one is one `add`, with nothing to count first.
        let started = Instant::now();
        let stored = self.store.read(move |r| wifi::session(r, mac)).await?;
        let now = self.store.now();
        let known = stored
            .as_ref()
            .and_then(|s| s.authorized_until)
            .is_some_and(|u| u > now)
            || self.last_bytes.contains_key(&mac);
        let ips = self.ips_of(mac).await?;
        let counted: Vec<IpAddr> = ips.iter().copied().filter(countable).collect();
        // An address counted already (this client's, or another's before
        // it moved) is replaced too, so no one inherits its counter.
        let known = known || counted.iter().any(|ip| self.counted.contains_key(ip));
        if known {
            let live = blocking(|| Ok(nft::traffic()?)).await?;
            self.collect_traffic(&live).await?;
        }
        let batch = policy::authorize_batch(Grant { mac, seconds }, &counted, known);
        blocking(move || Ok(nft::apply(&batch)?)).await?;
        self.last_bytes.insert(mac, 0);
        for ip in counted {
            self.counted.insert(ip, (mac, 0));
        }
        // The client passes now; its connections caught by the redirect so
        // far are dropped before it hears so, so a kept-alive one is not
        // still sent to the portal (a few milliseconds over netlink).
        let passing_ms = started.elapsed().as_secs_f64() * 1000.0;
        let ((), stored) = tokio::join!(
            forget_connections(&ips),
            self.store.write(move |tx| wifi::authorize(tx, mac, until))
        );
        let s = stored?;
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(%mac, seconds, passing_ms, total_ms, "client authorized");
        Ok(s)
    }

    /// Puts a client back behind the portal.
    async fn deauthorize(&mut self, mac: Mac, end_session: bool) -> Result<(), GatewayError> {
        let live = blocking(|| Ok(nft::traffic()?)).await?;
        self.collect_traffic(&live).await?;
        let ips = self.uncount(mac);
        blocking(move || Ok(nft::apply(&policy::deauthorize_batch(mac, &ips))?)).await?;
        self.store
            .write(move |tx| wifi::deauthorize(tx, mac, end_session))
            .await?;
        forget_connections(&self.ips_of(mac).await?).await;
        tracing::info!(%mac, "client deauthorized");
        Ok(())
    }

    /// Forgets a client's counters; returns its counted addresses.
    fn uncount(&mut self, mac: Mac) -> Vec<IpAddr> {
        self.last_bytes.remove(&mac);
        let mine: Vec<IpAddr> = self
            .counted
            .iter()
            .filter(|(_, (m, _))| *m == mac)
            .map(|(ip, _)| *ip)
            .collect();
        for ip in &mine {
            self.counted.remove(ip);
        }
        mine
    }

    /// Trusts (and unblocks) or blocks (and untrusts and deauthorizes) a
    /// client: one transaction, then the lists file.
    async fn set_list(&mut self, mac: Mac, trust: bool) -> Result<(), GatewayError> {
        let ips = if trust {
            Vec::new()
        } else {
            let live = blocking(|| Ok(nft::traffic()?)).await?;
            self.collect_traffic(&live).await?;
            self.uncount(mac)
        };
        blocking(move || Ok(nft::apply(&policy::list_batch(mac, trust, &ips))?)).await?;
        let (add, remove) = if trust {
            (&mut self.policy.trusted, &mut self.policy.blocked)
        } else {
            (&mut self.policy.blocked, &mut self.policy.trusted)
        };
        remove.retain(|m| *m != mac);
        if !add.contains(&mac) {
            add.push(mac);
        }
        if trust {
            self.lists.blocked.remove(&mac);
            self.lists.trusted.insert(mac);
        } else {
            self.lists.trusted.remove(&mac);
            self.lists.blocked.insert(mac);
        }
        let json = serde_json::to_vec_pretty(&self.lists)?;
        let path = self.lists_path.clone();
        blocking(move || {
            let tmp = path.with_extension("json.partial");
            std::fs::write(&tmp, json)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| GatewayError::Save { path, source })
        })
        .await?;
        if !trust {
            self.store
                .write(move |tx| wifi::deauthorize(tx, mac, true))
                .await?;
        }
        forget_connections(&self.ips_of(mac).await?).await;
        tracing::info!(%mac, trust, "client list changed");
        Ok(())
    }

    /// The client's addresses: those the kernel's neighbour table has now
    /// and those its stored session saw.
    async fn ips_of(&self, mac: Mac) -> Result<Vec<IpAddr>, GatewayError> {
        let mut ips = self.neighbours.addresses(mac);
        let stored = self
            .store
            .read(move |r| wifi::session(r, mac))
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
    async fn state_of(&self, ip: IpAddr) -> Result<CaptiveState, GatewayError> {
        let Some(mac) = self.neighbours.lookup(ip) else {
            return Ok(CaptiveState {
                captive: true,
                seconds_remaining: 0,
            });
        };
        if self.policy.trusted.contains(&mac) {
            return Ok(CaptiveState {
                captive: false,
                seconds_remaining: u64::from(self.settings.session_seconds),
            });
        }
        let s = self.store.read(move |r| wifi::session(r, mac)).await?;
        let now = self.store.now();
        let left = s
            .and_then(|s| s.authorized_until)
            .map_or(0, |u| u.0.saturating_sub(now.0) / 1000);
        let captive = left == 0
            || self.settings.internet == Internet::None
            || self.policy.blocked.contains(&mac);
        Ok(CaptiveState {
            captive,
            seconds_remaining: if captive { 0 } else { left },
        })
    }

    /// Every client the gateway knows.
    async fn clients(&self) -> Result<Vec<ClientView>, GatewayError> {
        let now = self.store.now();
        let all = self.store.read(wifi::sessions).await?;
        Ok(all
            .into_iter()
            .map(|s| {
                let left = s
                    .authorized_until
                    .map_or(0, |u| u.0.saturating_sub(now.0) / 1000);
                ClientView {
                    authorized: left > 0,
                    seconds_remaining: left,
                    trusted: self.policy.trusted.contains(&s.mac),
                    blocked: self.policy.blocked.contains(&s.mac),
                    // Device cookies never leave the store.
                    session: WifiSession {
                        devices: Vec::new(),
                        ..s
                    },
                }
            })
            .collect())
    }

    /// Adds the counters' growth to the stored sessions (bytes from each
    /// client by its MAC, bytes to it by its addresses).
    async fn collect_traffic(&mut self, live: &nft::Traffic) -> Result<(), GatewayError> {
        // A counter that went down was replaced: count it from zero.
        let grew = |now: u64, before: u64| if now >= before { now - before } else { now };
        let mut deltas: HashMap<Mac, (u64, u64)> = HashMap::new();
        for l in &live.authorized {
            let before = self.last_bytes.insert(l.mac, l.bytes).unwrap_or(0);
            let d = grew(l.bytes, before);
            if d > 0 {
                deltas.entry(l.mac).or_default().0 += d;
            }
        }
        for (ip, bytes) in &live.to_addresses {
            let Some((mac, before)) = self.counted.get_mut(ip) else {
                continue;
            };
            let d = grew(*bytes, *before);
            *before = *bytes;
            if d > 0 {
                deltas.entry(*mac).or_default().1 += d;
            }
        }
        if !deltas.is_empty() {
            self.store
                .write(move |tx| {
                    for (mac, (from, to)) in &deltas {
                        wifi::add_traffic(tx, *mac, *from, *to, true)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(())
    }

    /// Starts counting addresses a joined client got after it joined (a
    /// new DHCP lease, IPv6 privacy addresses).
    async fn count_new_addresses(&mut self, sessions: &[WifiSession]) -> Result<(), GatewayError> {
        let now = self.store.now();
        let mut add = Vec::new();
        for s in sessions {
            let Some((mac, left)) = granted(s, now) else {
                continue;
            };
            for ip in self.neighbours.addresses(mac) {
                if countable(&ip) && !self.counted.contains_key(&ip) {
                    add.push((mac, policy::Counted { ip, seconds: left }));
                }
            }
        }
        if add.is_empty() {
            return Ok(());
        }
        let addrs: Vec<policy::Counted> = add.iter().map(|(_, c)| *c).collect();
        blocking(move || Ok(nft::apply(&policy::count_batch(&addrs))?)).await?;
        for (mac, c) in add {
            self.counted.insert(c.ip, (mac, 0));
        }
        Ok(())
    }

    /// Counts traffic and ends sessions past their time or idle too long.
    async fn sweep(&mut self, snap: &Snapshot) -> Result<(), GatewayError> {
        self.collect_traffic(&snap.traffic).await?;
        let sessions = self.store.read(wifi::sessions).await?;
        self.count_new_addresses(&sessions).await?;
        let now = self.store.now();
        let idle_ms = u64::from(self.settings.idle_seconds) * 1000;
        for s in sessions {
            let Some(until) = s.authorized_until else {
                continue;
            };
            let mac = s.mac;
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
    async fn stop(&mut self) -> Result<(), GatewayError> {
        if self.settings.fail_open {
            blocking(|| Ok(nft::apply(&policy::delete_batch())?)).await?;
            tracing::info!("gateway table removed (fail_open)");
        }
        Ok(())
    }
}

fn rule_handles(snap: &Snapshot) -> Vec<(String, u64)> {
    snap.rules
        .iter()
        .map(|r| (r.chain.clone(), r.handle))
        .collect()
}

fn garden(snap: &Snapshot) -> BTreeMap<String, BTreeSet<String>> {
    snap.elements
        .iter()
        .filter(|(k, _)| *k == policy::GARDEN4 || *k == policy::GARDEN6)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
