//! MAC ↔ IP from the kernel's neighbour table over rtnetlink: subscribe to
//! neighbour events, dump the table once, then keep an in-memory map up to
//! date from the events (one reader thread). Lookups never start a process
//! or read a file; a miss for an address inside a guest network reads the
//! table again over netlink (a client's first request can beat its event),
//! and so do lost events. Only entries on the guest interfaces are kept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use netlink_packet_core::{
    DecodeError, Emitable, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader,
    NetlinkSerializable, Parseable,
};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use super::mac::Mac;
use super::netlink::{self, NetlinkError, Replies};

const ENOBUFS: i32 = 105;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
/// `RTMGRP_NEIGH`: the multicast group of neighbour events.
const RTMGRP_NEIGH: u32 = 0x4;
/// `NUD_INCOMPLETE | NUD_FAILED`: states without a usable MAC.
const UNRESOLVED: u16 = 0x01 | 0x20;
/// `NUD_REACHABLE | NUD_DELAY | NUD_PROBE`: the kernel heard from it lately.
const RECENT: u16 = 0x02 | 0x08 | 0x10;
const WHAT: &str = "read the neighbour table";

/// One neighbour change read from the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Added or updated (else removed).
    pub present: bool,
    /// Interface index.
    pub ifindex: u32,
    /// Its address.
    pub ip: IpAddr,
    /// Its MAC, when known.
    pub mac: Option<Mac>,
}

/// An rtnetlink message as this module reads it: neighbour messages
/// (parsed by `netlink-packet-route`), everything else skipped unparsed,
/// so the crate's parsers for links, routes and the rest stay out of the
/// binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Neigh {
    /// `RTM_NEWNEIGH`: added or changed.
    New(NeighbourMessage),
    /// `RTM_DELNEIGH`: removed.
    Del(NeighbourMessage),
    /// `RTM_GETNEIGH`: a request.
    Get(NeighbourMessage),
    /// Any other message.
    Other(u16),
}

impl NetlinkSerializable for Neigh {
    fn message_type(&self) -> u16 {
        match self {
            Neigh::New(_) => RTM_NEWNEIGH,
            Neigh::Del(_) => RTM_DELNEIGH,
            Neigh::Get(_) => RTM_GETNEIGH,
            Neigh::Other(t) => *t,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Neigh::New(m) | Neigh::Del(m) | Neigh::Get(m) => m.buffer_len(),
            Neigh::Other(_) => 0,
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        if let Neigh::New(m) | Neigh::Del(m) | Neigh::Get(m) = self {
            m.emit(buffer);
        }
    }
}

impl NetlinkDeserializable for Neigh {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(match header.message_type {
            RTM_NEWNEIGH => Neigh::New(NeighbourMessage::parse(payload)?),
            RTM_DELNEIGH => Neigh::Del(NeighbourMessage::parse(payload)?),
            RTM_GETNEIGH => Neigh::Get(NeighbourMessage::parse(payload)?),
            other => Neigh::Other(other),
        })
    }
}

/// What can stop the neighbour map from starting.
#[derive(Debug, thiserror::Error)]
pub enum NeighError {
    /// A guest interface has no index (it does not exist).
    #[error("interface {0} not found")]
    NoInterface(String),
    /// Netlink failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// The reader thread could not start.
    #[error("cannot start the neighbour reader: {0}")]
    Thread(std::io::Error),
}

/// Reads the neighbour messages in one netlink datagram; also says whether
/// the dump is over. A refused dump is an error.
pub fn parse(buf: &[u8]) -> Result<(Vec<Change>, bool), NetlinkError> {
    let (msgs, done) = match netlink::replies::<Neigh>(buf, WHAT)? {
        Replies::More(m) => (m, false),
        Replies::Done(m) => (m, true),
    };
    let changes = msgs
        .into_iter()
        .filter_map(|m| match m {
            Neigh::New(n) => change(&n, true),
            Neigh::Del(n) => change(&n, false),
            _ => None,
        })
        .collect();
    Ok((changes, done))
}

fn change(n: &NeighbourMessage, new: bool) -> Option<Change> {
    let (mut ip, mut mac) = (None, None);
    for a in &n.attributes {
        match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                ip = Some(IpAddr::V4(*v4));
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                ip = Some(IpAddr::V6(*v6));
            }
            NeighbourAttribute::LinkLayerAddress(b) => {
                mac = <[u8; 6]>::try_from(b.as_slice()).ok().map(Mac);
            }
            _ => {}
        }
    }
    let state: u16 = n.header.state.into();
    let usable = new && state & UNRESOLVED == 0 && mac.is_some_and(|m| m.is_unicast());
    Some(Change {
        present: usable,
        ifindex: n.header.ifindex,
        ip: ip?,
        mac: mac.filter(|_| usable),
    })
}

/// The live neighbour map of the guest interfaces.
#[derive(Debug)]
pub struct Neighbours {
    guest: Vec<u32>,
    /// The guest interfaces' networks (address, prefix length) at start.
    nets: Vec<(IpAddr, u8)>,
    map: RwLock<HashMap<IpAddr, Mac>>,
}

impl Neighbours {
    /// Subscribes, dumps the table, and keeps following it on a thread.
    pub fn start(interfaces: &[String]) -> Result<Arc<Neighbours>, NeighError> {
        let mut guest = Vec::new();
        for i in interfaces {
            let idx = std::fs::read_to_string(format!("/sys/class/net/{i}/ifindex"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| NeighError::NoInterface(i.clone()))?;
            guest.push(idx);
        }
        let nets = pnet_datalink::interfaces()
            .into_iter()
            .filter(|i| interfaces.contains(&i.name))
            .flat_map(|i| i.ips.into_iter().map(|n| (n.ip(), n.prefix())))
            .collect();
        let n = Arc::new(Neighbours {
            guest,
            nets,
            map: RwLock::new(HashMap::new()),
        });
        // Events first, so nothing between the dump and the subscription is lost.
        let events = netlink::socket(NETLINK_ROUTE, RTMGRP_NEIGH, "follow the neighbour table")?;
        n.dump()?;
        let follow = Arc::clone(&n);
        std::thread::Builder::new()
            .name("neighbours".into())
            .spawn(move || {
                loop {
                    match events.recv_from_full() {
                        Ok((buf, _)) => match parse(&buf) {
                            Ok((changes, _)) => follow.apply(changes),
                            Err(e) => tracing::warn!(error = %e, "neighbour event not read"),
                        },
                        // Events were lost (the socket's buffer overflowed):
                        // read the whole table again and go on.
                        Err(e) if e.raw_os_error() == Some(ENOBUFS) => {
                            tracing::warn!("neighbour events overflowed; reading the table again");
                            if let Err(e) = follow.dump() {
                                tracing::warn!(error = %e, "neighbour table not read");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "neighbour events stopped");
                            return;
                        }
                    }
                }
            })
            .map_err(NeighError::Thread)?;
        Ok(n)
    }

    /// Reads the kernel's whole neighbour table into the map.
    fn dump(&self) -> Result<(), NetlinkError> {
        let changes = read_table(|_| true)?;
        self.apply(changes);
        Ok(())
    }

    /// The clients on the guest interfaces that the kernel heard from
    /// lately (not stale entries of devices long gone): a restarted daemon
    /// records them, since they will not ask for an address or announce
    /// themselves again for a while.
    pub fn recent(&self) -> Result<Vec<(IpAddr, Mac)>, NetlinkError> {
        Ok(read_table(|state| state & RECENT != 0)?
            .into_iter()
            .filter(|c| self.guest.contains(&c.ifindex))
            .filter_map(|c| Some((c.ip, c.mac?)))
            .collect())
    }

    fn apply(&self, changes: Vec<Change>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        for c in changes {
            if !self.guest.contains(&c.ifindex) {
                continue;
            }
            match c.mac {
                Some(mac) if c.present => {
                    map.insert(c.ip, mac);
                }
                _ => {
                    map.remove(&c.ip);
                }
            }
        }
    }

    /// Whether `ip` is inside a guest interface's network (and not the
    /// router's own address there).
    pub fn on_guest_network(&self, ip: IpAddr) -> bool {
        self.nets.iter().all(|&(own, _)| own != ip)
            && self.nets.iter().any(|&(net, len)| in_net(ip, net, len))
    }

    /// Every address the kernel has for `mac` on the guest interfaces.
    pub fn addresses(&self, mac: Mac) -> Vec<IpAddr> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, m)| **m == mac)
            .map(|(ip, _)| *ip)
            .collect()
    }

    /// The MAC of `ip`, if it is a neighbour on a guest interface. A miss
    /// reads the kernel's table once more before giving up: a client's
    /// first request can arrive before the event that announced it.
    pub fn lookup(&self, ip: IpAddr) -> Option<Mac> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let known = |n: &Self| {
            n.map
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&ip)
                .copied()
        };
        known(self).or_else(|| {
            if !self.on_guest_network(ip) {
                return None;
            }
            if let Err(e) = self.dump() {
                tracing::warn!(error = %e, "neighbour table not read");
            }
            known(self)
        })
    }
}

/// The kernel's neighbour entries (every family) whose state `keep` accepts.
fn read_table(keep: impl Fn(u16) -> bool) -> Result<Vec<Change>, NetlinkError> {
    let mut sock = netlink::socket(NETLINK_ROUTE, 0, WHAT)?;
    let mut changes = Vec::new();
    // A header of family 0: every family.
    let all = Neigh::Get(NeighbourMessage::default());
    netlink::request(&mut sock, all, NLM_F_REQUEST | NLM_F_DUMP, 1, WHAT, |m| {
        if let Neigh::New(n) = m
            && keep(n.header.state.into())
        {
            changes.extend(change(&n, true));
        }
    })?;
    Ok(changes)
}

/// Whether `ip` is in `net`/`len` (same family only).
fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let len = u32::from(len).min(bits);
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    use netlink_packet_core::{DoneMessage, NetlinkMessage, NetlinkPayload};
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::neighbour::NeighbourState;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// One message as the kernel frames it, through the crates' encoders.
    fn frame(payload: NetlinkPayload<Neigh>) -> Vec<u8> {
        let mut m = NetlinkMessage::new(NetlinkHeader::default(), payload);
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    fn neigh(
        ifindex: u32,
        state: NeighbourState,
        ip: IpAddr,
        mac: Option<[u8; 6]>,
    ) -> NeighbourMessage {
        let mut n = NeighbourMessage::default();
        n.header.family = if ip.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        n.header.ifindex = ifindex;
        n.header.state = state;
        n.attributes.push(NeighbourAttribute::Destination(match ip {
            IpAddr::V4(v4) => NeighbourAddress::Inet(v4),
            IpAddr::V6(v6) => NeighbourAddress::Inet6(v6),
        }));
        if let Some(mac) = mac {
            n.attributes
                .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
        }
        n
    }

    #[test]
    fn neighbour_messages_are_read() {
        let mac = [2, 0, 0, 0x0c, 0x11, 1];
        let v4 = |d| IpAddr::V4(Ipv4Addr::new(198, 51, 100, d));
        let v6: IpAddr = "2001:db8::5".parse::<Ipv6Addr>().expect("v6").into();
        let mut buf = frame(NetlinkPayload::InnerMessage(Neigh::New(neigh(
            7,
            NeighbourState::Reachable,
            v4(20),
            Some(mac),
        ))));
        buf.extend(frame(NetlinkPayload::InnerMessage(Neigh::New(neigh(
            7,
            NeighbourState::Failed,
            v4(21),
            None,
        )))));
        buf.extend(frame(NetlinkPayload::InnerMessage(Neigh::Del(neigh(
            7,
            NeighbourState::Reachable,
            v6,
            Some(mac),
        )))));
        // A link message (RTM_NEWLINK) in the stream is skipped unparsed.
        buf.extend(frame(NetlinkPayload::InnerMessage(Neigh::Other(16))));
        let (changes, done) = parse(&buf).expect("read");
        assert!(!done, "no end of dump yet");
        let (_, done) = parse(&frame(NetlinkPayload::Done(DoneMessage::default()))).expect("done");
        assert!(done);
        let mut refused = netlink_packet_core::ErrorMessage::default();
        refused.code = std::num::NonZeroI32::new(-22);
        assert!(parse(&frame(NetlinkPayload::Error(refused))).is_err());
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].mac, Some(Mac(mac)));
        assert!(changes[0].present);
        assert!(!changes[1].present, "failed entries are gone");
        assert!(!changes[2].present, "deleted");
        let n = Neighbours {
            guest: vec![7],
            nets: Vec::new(),
            map: RwLock::new(HashMap::new()),
        };
        n.apply(changes);
        assert_eq!(
            n.lookup("198.51.100.20".parse().expect("ip")),
            Some(Mac(mac))
        );
        assert_eq!(
            n.lookup("::ffff:198.51.100.20".parse().expect("ip")),
            Some(Mac(mac))
        );
        assert_eq!(n.lookup("198.51.100.21".parse().expect("ip")), None);
    }

    #[test]
    fn guest_networks_contain_their_addresses() {
        let net: IpAddr = "198.51.100.1".parse().expect("ip");
        let inside: IpAddr = "198.51.100.200".parse().expect("ip");
        let outside: IpAddr = "198.51.101.1".parse().expect("ip");
        assert!(in_net(inside, net, 24));
        assert!(!in_net(outside, net, 24));
        assert!(in_net(outside, net, 16));
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert!(!in_net(v6, net, 0), "families never mix");
        assert!(in_net(v6, "2001:db8::".parse().expect("ip"), 64));
    }
}
