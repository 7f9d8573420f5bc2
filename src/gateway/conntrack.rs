//! Dropping a client's tracked connections over ctnetlink (the kernel's
//! conntrack netlink interface; no `conntrack` process): dump the table,
//! pick the entries whose original source is one of the client's
//! addresses, and delete each by its tuple. After a join, a connection the
//! redirect caught is thereby no longer sent to the portal; after a
//! deauthorization, nothing keeps flowing on an old entry.

use std::net::IpAddr;

use netlink_sys::{Socket, protocols::NETLINK_NETFILTER};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NFNL_SUBSYS_CTNETLINK: u16 = 1;
const IPCTNL_MSG_CT_GET: u16 = 1;
const IPCTNL_MSG_CT_DELETE: u16 = 2;
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_ZONE: u16 = 18;
const CTA_FILTER: u16 = 25;
const CTA_FILTER_ORIG_FLAGS: u16 = 1;
const CTA_FILTER_REPLY_FLAGS: u16 = 2;
const CTA_FILTER_FLAG_CTA_IP_SRC: u32 = 1;
const NLA_F_NESTED: u16 = 0x8000;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const CTA_TUPLE_IP: u16 = 1;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V6_SRC: u16 = 3;
const NLA_TYPE_MASK: u16 = 0x3fff;
const HEADER: usize = 16;
const NFGENMSG: usize = 4;

/// One tracked connection to delete: its family and the attributes that
/// name it (the original tuple, and its zone if any), as the kernel gave
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    family: u8,
    attrs: Vec<u8>,
}

fn message(kind: u16, flags: u16, seq: u32, family: u8, attrs: &[u8]) -> Vec<u8> {
    let len = HEADER + NFGENMSG + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    m.extend_from_slice(&((NFNL_SUBSYS_CTNETLINK << 8) | kind).to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[family, 0, 0, 0]); // nfgenmsg: family, version 0, res_id 0
    m.extend_from_slice(attrs);
    m
}

/// Walks netlink attributes: (type without flags, the whole attribute, payload).
fn attributes(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8], &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16::from_ne_bytes([*buf.first()?, *buf.get(1)?]));
        let kind = u16::from_ne_bytes([*buf.get(2)?, *buf.get(3)?]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            return None;
        }
        let (whole, payload) = (&buf[..len], &buf[4..len]);
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
        Some((kind, whole, payload))
    })
}

/// The original source address of a conntrack message's attributes.
fn source(attrs: &[u8]) -> Option<IpAddr> {
    let (_, _, tuple) = attributes(attrs).find(|(k, _, _)| *k == CTA_TUPLE_ORIG)?;
    let (_, _, ip) = attributes(tuple).find(|(k, _, _)| *k == CTA_TUPLE_IP)?;
    attributes(ip).find_map(|(k, _, v)| match k {
        CTA_IP_V4_SRC => <[u8; 4]>::try_from(v).ok().map(IpAddr::from),
        CTA_IP_V6_SRC => <[u8; 16]>::try_from(v).ok().map(IpAddr::from),
        _ => None,
    })
}

/// Reads a batch of dump replies: the entries from `ips`, and whether the
/// dump is complete.
pub fn parse_dump(mut buf: &[u8], ips: &[IpAddr]) -> Result<(Vec<Entry>, bool), String> {
    let mut found = Vec::new();
    while buf.len() >= HEADER {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        if len < HEADER || len > buf.len() {
            break;
        }
        let body = &buf[HEADER..len];
        match kind {
            NLMSG_DONE => return Ok((found, true)),
            NLMSG_ERROR => {
                let code = body
                    .get(..4)
                    .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                if code != 0 {
                    return Err(format!(
                        "the kernel refused to list connections: {}",
                        std::io::Error::from_raw_os_error(-code)
                    ));
                }
            }
            k if k == (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW
                || k == (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET =>
            {
                if let (Some(&family), Some(attrs)) = (body.first(), body.get(NFGENMSG..))
                    && source(attrs).is_some_and(|s| ips.contains(&s))
                {
                    let mut keep = Vec::new();
                    for (k, whole, _) in attributes(attrs) {
                        if k == CTA_TUPLE_ORIG || k == CTA_ZONE {
                            keep.extend_from_slice(whole);
                            keep.resize(keep.len().next_multiple_of(4), 0);
                        }
                    }
                    found.push(Entry {
                        family,
                        attrs: keep,
                    });
                }
            }
            _ => {}
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    Ok((found, false))
}

const IPCTNL_MSG_CT_NEW: u16 = 0;

/// The delete request for one entry.
pub fn delete_request(e: &Entry, seq: u32) -> Vec<u8> {
    message(
        IPCTNL_MSG_CT_DELETE,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        e.family,
        &e.attrs,
    )
}

fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(4 + payload.len().next_multiple_of(4));
    a.extend_from_slice(
        &u16::try_from(4 + payload.len())
            .unwrap_or(u16::MAX)
            .to_ne_bytes(),
    );
    a.extend_from_slice(&kind.to_ne_bytes());
    a.extend_from_slice(payload);
    a.resize(a.len().next_multiple_of(4), 0);
    a
}

/// A dump request that asks the kernel for `ip`'s connections only
/// (`CTA_FILTER`, Linux 5.8 and later).
pub fn filtered_dump_request(ip: IpAddr, seq: u32) -> Vec<u8> {
    let (family, src) = match ip {
        IpAddr::V4(v4) => (AF_INET, attr(CTA_IP_V4_SRC, &v4.octets())),
        IpAddr::V6(v6) => (AF_INET6, attr(CTA_IP_V6_SRC, &v6.octets())),
    };
    let tuple = attr(
        CTA_TUPLE_ORIG | NLA_F_NESTED,
        &attr(CTA_TUPLE_IP | NLA_F_NESTED, &src),
    );
    let filter = attr(
        CTA_FILTER | NLA_F_NESTED,
        &[
            attr(
                CTA_FILTER_ORIG_FLAGS,
                &CTA_FILTER_FLAG_CTA_IP_SRC.to_ne_bytes(),
            ),
            attr(CTA_FILTER_REPLY_FLAGS, &0u32.to_ne_bytes()),
        ]
        .concat(),
    );
    message(
        IPCTNL_MSG_CT_GET,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        family,
        &[tuple, filter].concat(),
    )
}

/// Sends one dump request and reads it to the end: the entries from `ips`.
fn dump(sock: &mut Socket, request: &[u8], ips: &[IpAddr]) -> Result<Vec<Entry>, String> {
    let cant = |e: std::io::Error| format!("cannot reach conntrack over netlink: {e}");
    sock.send(request, 0).map_err(cant)?;
    let mut entries = Vec::new();
    loop {
        let (buf, _) = sock.recv_from_full().map_err(cant)?;
        let (found, done) = parse_dump(&buf, ips)?;
        entries.extend(found);
        if done {
            return Ok(entries);
        }
    }
}

/// Deletes every tracked connection whose original source is one of
/// `ips`; returns how many went. Entries that ended meanwhile are no error.
/// The kernel filters the table for each address; a kernel too old for
/// that is asked for the whole table, filtered here.
pub fn forget(ips: &[IpAddr]) -> Result<usize, String> {
    if ips.is_empty() {
        return Ok(0);
    }
    let cant = |e: std::io::Error| format!("cannot reach conntrack over netlink: {e}");
    let mut sock = Socket::new(NETLINK_NETFILTER).map_err(cant)?;
    sock.bind_auto().map_err(cant)?;
    let mut entries = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        let seq = 1 + u32::try_from(i).unwrap_or(0);
        match dump(&mut sock, &filtered_dump_request(*ip, seq), ips) {
            Ok(found) => entries.extend(found),
            Err(_) => {
                entries = dump(
                    &mut sock,
                    &message(IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, 1000, 0, &[]),
                    ips,
                )?;
                break;
            }
        }
    }
    let mut deleted = 0;
    for (i, e) in entries.iter().enumerate() {
        let seq = 2000 + u32::try_from(i).unwrap_or(0);
        sock.send(&delete_request(e, seq), 0).map_err(cant)?;
        let (ack, _) = sock.recv_from_full().map_err(cant)?;
        // An acknowledgement is an NLMSG_ERROR with code 0; ENOENT means it
        // ended on its own meanwhile.
        let code = ack
            .get(HEADER..HEADER + 4)
            .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        if code == 0 {
            deleted += 1;
        } else if code != -2 {
            return Err(format!(
                "the kernel refused to drop a connection: {}",
                std::io::Error::from_raw_os_error(-code)
            ));
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump reply as the kernel sends it: tuple with source and
    /// destination, a protocol part, a status, a zone.
    fn entry(src: [u8; 4], zone: Option<u16>) -> Vec<u8> {
        let ip = [attr(CTA_IP_V4_SRC, &src), attr(2, &[203, 0, 113, 2])].concat();
        let proto = [attr(1, &[6]), attr(2, &443u16.to_be_bytes())].concat();
        let tuple = [attr(CTA_TUPLE_IP | 0x8000, &ip), attr(2 | 0x8000, &proto)].concat();
        let mut attrs = attr(CTA_TUPLE_ORIG | 0x8000, &tuple);
        attrs.extend(attr(3, &8u32.to_be_bytes())); // status
        if let Some(z) = zone {
            attrs.extend(attr(CTA_ZONE, &z.to_be_bytes()));
        }
        message(IPCTNL_MSG_CT_NEW, 2, 1, 2, &attrs)
    }

    #[test]
    fn a_clients_connections_are_picked_from_the_dump() {
        let client: IpAddr = "198.51.100.20".parse().expect("ip");
        let mut buf = entry([198, 51, 100, 20], None);
        buf.extend(entry([198, 51, 100, 21], None));
        buf.extend(entry([198, 51, 100, 20], Some(7)));
        let (found, done) = parse_dump(&buf, &[client]).expect("parsed");
        assert!(!done);
        assert_eq!(found.len(), 2, "only the client's two");
        assert!(found.iter().all(|e| e.family == 2));
        let req = delete_request(&found[1], 5);
        assert_eq!(
            u16::from_ne_bytes([req[4], req[5]]),
            0x0102,
            "ctnetlink delete"
        );
        let attrs = &req[HEADER + NFGENMSG..];
        assert_eq!(source(attrs), Some(client), "named by its tuple");
        assert!(
            attributes(attrs).any(|(k, _, v)| k == CTA_ZONE && v == 7u16.to_be_bytes()),
            "in its zone"
        );
        let mut done = message(0, 2, 1, 0, &[]);
        done[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        assert_eq!(parse_dump(&done, &[client]).expect("done"), (vec![], true));
    }

    #[test]
    fn a_refused_dump_is_an_error() {
        let mut err = Vec::new();
        err.extend_from_slice(&20u32.to_ne_bytes());
        err.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err.extend_from_slice(&[0; 10]); // flags, sequence, port
        err.extend_from_slice(&(-22i32).to_ne_bytes()); // EINVAL
        assert!(parse_dump(&err, &[]).is_err());
    }

    #[test]
    fn the_kernel_is_asked_for_one_address() {
        let ip: IpAddr = "2001:db8::20".parse().expect("ip");
        let req = filtered_dump_request(ip, 3);
        assert_eq!(req[HEADER], AF_INET6);
        let flags = u16::from_ne_bytes([req[6], req[7]]);
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_DUMP);
        let attrs = &req[HEADER + NFGENMSG..];
        assert_eq!(source(attrs), Some(ip));
        assert!(attributes(attrs).any(|(k, _, _)| k == CTA_FILTER));
    }
}
