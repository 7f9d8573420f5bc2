//! Which TLS handshakes may run: a cap per source and a cap in all, so one
//! client (or a crowd) cannot hold the HTTPS port by opening connections
//! and never sending a ClientHello.
//!
//! The accept loop never waits on this: a connection over its source's cap
//! is closed at once (the excess), one over the total cap sheds the oldest
//! pending handshake, and past half the total every new handshake gets a
//! short time limit. A source is an IPv4 address or an IPv6 /64 (a phone
//! with privacy addresses is one source).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

/// Handshakes allowed to run at once, in all.
pub const MAX_PENDING: usize = 256;
/// Handshakes allowed to run at once from one source. A browser opens at
/// most six connections to a host at a time.
pub const MAX_PER_SOURCE: usize = 16;
/// The time limit of a handshake.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The time limit once more than half the slots are taken.
pub const TIMEOUT_UNDER_PRESSURE: Duration = Duration::from_secs(2);

/// Where connections come from, as far as the caps are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// One IPv4 address.
    V4([u8; 4]),
    /// One IPv6 /64.
    V6([u8; 8]),
}

impl From<IpAddr> for Source {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Source::V4(a.octets()),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.octets()),
                None => {
                    let o = a.octets();
                    Source::V6([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
                }
            },
        }
    }
}

/// A handshake let in: its id, its time limit, and the oldest pending one
/// to end now to make room (if the total was full).
#[derive(Debug)]
pub struct Ticket<H> {
    /// Pass to [`Admission::started`] and [`Admission::finished`].
    pub id: u64,
    /// How long the handshake may take.
    pub timeout: Duration,
    /// A handshake shed to make room: end it.
    pub shed: Option<H>,
}

/// The pending handshakes; `H` ends one (an abort handle).
#[derive(Debug)]
pub struct Admission<H> {
    next: u64,
    pending: BTreeMap<u64, (Source, Option<H>)>,
    per_source: HashMap<Source, usize>,
}

impl<H> Default for Admission<H> {
    fn default() -> Self {
        Self {
            next: 0,
            pending: BTreeMap::new(),
            per_source: HashMap::new(),
        }
    }
}

impl<H> Admission<H> {
    /// Lets a connection from `peer` start its handshake, or `None` when its
    /// source already has [`MAX_PER_SOURCE`] pending (close it).
    pub fn admit(&mut self, peer: IpAddr) -> Option<Ticket<H>> {
        let source = Source::from(peer);
        let count = self.per_source.get(&source).copied().unwrap_or(0);
        if count >= MAX_PER_SOURCE {
            return None;
        }
        let shed = if self.pending.len() >= MAX_PENDING {
            self.pending
                .keys()
                .next()
                .copied()
                .and_then(|oldest| self.remove(oldest))
        } else {
            None
        };
        let id = self.next;
        self.next += 1;
        self.pending.insert(id, (source, None));
        *self.per_source.entry(source).or_insert(0) += 1;
        let timeout = if self.pending.len() > MAX_PENDING / 2 {
            TIMEOUT_UNDER_PRESSURE
        } else {
            TIMEOUT
        };
        Some(Ticket { id, timeout, shed })
    }

    /// Records how to end handshake `id` (it may have finished already).
    pub fn started(&mut self, id: u64, handle: H) {
        if let Some(entry) = self.pending.get_mut(&id) {
            entry.1 = Some(handle);
        }
    }

    /// Handshake `id` ended (done, failed or timed out).
    pub fn finished(&mut self, id: u64) {
        self.remove(id);
    }

    /// Handshakes pending.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn remove(&mut self, id: u64) -> Option<H> {
        let (source, handle) = self.pending.remove(&id)?;
        if let Some(n) = self.per_source.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&source);
            }
        }
        handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn one_source_gets_its_share_and_no_more() {
        let mut a = Admission::<u64>::default();
        for _ in 0..MAX_PER_SOURCE {
            let t = a.admit(ip("198.51.100.7")).expect("admitted");
            a.started(t.id, t.id);
        }
        assert!(
            a.admit(ip("198.51.100.7")).is_none(),
            "the excess is closed"
        );
        assert!(a.admit(ip("198.51.100.8")).is_some(), "others still get in");
        a.finished(0);
        assert!(a.admit(ip("198.51.100.7")).is_some(), "a slot came back");
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source() {
        let mut a = Admission::<u64>::default();
        for i in 0..MAX_PER_SOURCE {
            assert!(a.admit(ip(&format!("2001:db8:1:2::{i:x}"))).is_some());
        }
        assert!(a.admit(ip("2001:db8:1:2:ffff::1")).is_none());
        assert!(a.admit(ip("2001:db8:1:3::1")).is_some());
        assert_eq!(
            Source::from(ip("::ffff:192.0.2.1")),
            Source::from(ip("192.0.2.1"))
        );
    }

    #[test]
    fn a_full_house_sheds_the_oldest_and_shortens_the_limit() {
        let mut a = Admission::<u64>::default();
        let mut timeouts = Vec::new();
        for i in 0..MAX_PENDING {
            let peer = IpAddr::from([203, 0, 113, u8::try_from(i % 250).expect("small")]);
            let peer = if i < 250 {
                peer
            } else {
                ip(&format!("2001:db8::{i:x}"))
            };
            let t = a.admit(peer).expect("room");
            assert!(t.shed.is_none());
            a.started(t.id, 1000 + t.id);
            timeouts.push(t.timeout);
        }
        assert_eq!(timeouts[0], TIMEOUT);
        assert_eq!(timeouts[MAX_PENDING - 1], TIMEOUT_UNDER_PRESSURE);
        let t = a
            .admit(ip("192.0.2.9"))
            .expect("never refused for the total");
        assert_eq!(t.shed, Some(1000), "the oldest handshake makes room");
        assert_eq!(a.pending(), MAX_PENDING);
        a.finished(0);
        assert_eq!(a.pending(), MAX_PENDING, "a shed handshake is gone already");
    }
}
