//! MAC ↔ IP from the kernel's neighbour table over rtnetlink: subscribe to
//! neighbour events, dump the table once, then keep an in-memory map up to
//! date from the events (one reader thread). Lookups never start a process
//! or read a file; a miss for an address inside a guest network reads the
//! table again over netlink (a client's first request can beat its event),
//! and so do lost events. Only entries on the guest interfaces are kept.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, RwLock};

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::mac::Mac;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const ENOBUFS: i32 = 105;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const RTMGRP_NEIGH: u32 = 0x4;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NUD_INCOMPLETE: u16 = 0x01;
const NUD_FAILED: u16 = 0x20;

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

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the neighbour messages in one netlink datagram; also says whether
/// the dump is over (`NLMSG_DONE` or an error).
pub fn parse(buf: &[u8]) -> (Vec<Change>, bool) {
    let mut out = Vec::new();
    let mut done = false;
    let mut at = 0;
    while let (Some(len), Some(kind)) = (u32_at(buf, at), u16_at(buf, at + 4)) {
        let len = len as usize;
        if len < 16 || at + len > buf.len() {
            break;
        }
        let msg = &buf[at..at + len];
        match kind {
            NLMSG_DONE | NLMSG_ERROR => done = true,
            RTM_NEWNEIGH | RTM_DELNEIGH => {
                if let Some(c) = parse_neigh(&msg[16..], kind == RTM_NEWNEIGH) {
                    out.push(c);
                }
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    (out, done)
}

fn parse_neigh(nd: &[u8], new: bool) -> Option<Change> {
    let ifindex = u32_at(nd, 4)?;
    let state = u16_at(nd, 8)?;
    let (mut ip, mut mac) = (None, None);
    let mut at = 12;
    while let (Some(len), Some(kind)) = (u16_at(nd, at), u16_at(nd, at + 2)) {
        let len = usize::from(len);
        if len < 4 || at + len > nd.len() {
            break;
        }
        let data = &nd[at + 4..at + len];
        match (kind, data.len()) {
            (NDA_DST, 4) => {
                ip = Some(IpAddr::V4(Ipv4Addr::new(
                    data[0], data[1], data[2], data[3],
                )))
            }
            (NDA_DST, 16) => {
                let b: [u8; 16] = data.try_into().ok()?;
                ip = Some(IpAddr::V6(Ipv6Addr::from(b)));
            }
            (NDA_LLADDR, 6) => mac = Some(Mac(data.try_into().ok()?)),
            _ => {}
        }
        at += (len + 3) & !3;
    }
    let usable =
        new && state & (NUD_INCOMPLETE | NUD_FAILED) == 0 && mac.is_some_and(|m| m.is_unicast());
    Some(Change {
        present: usable,
        ifindex,
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
    pub fn start(interfaces: &[String]) -> Result<Arc<Neighbours>, String> {
        let mut guest = Vec::new();
        for i in interfaces {
            let idx = std::fs::read_to_string(format!("/sys/class/net/{i}/ifindex"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("interface {i} not found"))?;
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
        let cant = |e: std::io::Error| format!("cannot read the neighbour table over netlink: {e}");
        // Events first, so nothing between the dump and the subscription is lost.
        let mut events = Socket::new(NETLINK_ROUTE).map_err(cant)?;
        events
            .bind(&SocketAddr::new(0, RTMGRP_NEIGH))
            .map_err(cant)?;
        n.dump()?;
        let follow = Arc::clone(&n);
        std::thread::Builder::new()
            .name("neighbours".into())
            .spawn(move || {
                loop {
                    match events.recv_from_full() {
                        Ok((buf, _)) => follow.apply(parse(&buf).0),
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
            .map_err(|e| format!("cannot start the neighbour reader: {e}"))?;
        Ok(n)
    }

    /// Reads the kernel's whole neighbour table into the map.
    fn dump(&self) -> Result<(), String> {
        let cant = |e: std::io::Error| format!("cannot read the neighbour table over netlink: {e}");
        let mut dump = Socket::new(NETLINK_ROUTE).map_err(cant)?;
        dump.bind_auto().map_err(cant)?;
        let mut req = Vec::with_capacity(28);
        req.extend_from_slice(&28u32.to_ne_bytes());
        req.extend_from_slice(&RTM_GETNEIGH.to_ne_bytes());
        req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        req.extend_from_slice(&1u32.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        req.extend_from_slice(&[0u8; 12]); // ndmsg: every family
        dump.send(&req, 0).map_err(cant)?;
        loop {
            let (buf, _) = dump.recv_from_full().map_err(cant)?;
            let (changes, done) = parse(&buf);
            self.apply(changes);
            if done {
                return Ok(());
            }
        }
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

    fn msg(kind: u16, ifindex: u32, state: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = vec![0u8; 12];
        body[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        body[8..10].copy_from_slice(&state.to_ne_bytes());
        for (t, d) in attrs {
            let len = u16::try_from(4 + d.len()).expect("len");
            body.extend_from_slice(&len.to_ne_bytes());
            body.extend_from_slice(&t.to_ne_bytes());
            body.extend_from_slice(d);
            while !body.len().is_multiple_of(4) {
                body.push(0);
            }
        }
        let mut m = Vec::new();
        m.extend_from_slice(&u32::try_from(16 + body.len()).expect("len").to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn neighbour_messages_are_read() {
        let mac = [2, 0, 0, 0x0c, 0x11, 1];
        let mut buf = msg(
            RTM_NEWNEIGH,
            7,
            0x02,
            &[(NDA_DST, &[198, 51, 100, 20]), (NDA_LLADDR, &mac)],
        );
        buf.extend(msg(
            RTM_NEWNEIGH,
            7,
            NUD_FAILED,
            &[(NDA_DST, &[198, 51, 100, 21])],
        ));
        let v6: [u8; 16] = "2001:db8::5".parse::<Ipv6Addr>().expect("v6").octets();
        buf.extend(msg(
            RTM_DELNEIGH,
            7,
            0x02,
            &[(NDA_DST, &v6), (NDA_LLADDR, &mac)],
        ));
        buf.extend(msg(NLMSG_DONE, 0, 0, &[]));
        let (changes, done) = parse(&buf);
        assert!(done);
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
