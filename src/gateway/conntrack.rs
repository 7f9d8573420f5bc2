//! Dropping a client's tracked connections over ctnetlink (the kernel's
//! conntrack netlink interface; no `conntrack` process): ask the kernel for
//! the entries whose original source is one of the client's addresses, and
//! delete each by its tuple. After a join, a connection the redirect caught
//! is thereby no longer sent to the portal; after a deauthorization,
//! nothing keeps flowing on an old entry.
//!
//! Framing and requests go through the shared [`super::netlink`] module;
//! the messages stay attribute lists (`netlink-packet-netfilter` has no
//! `CTA_FILTER` or `CTA_ZONE`, which the kernel-side filter and zoned
//! entries need).

use std::net::IpAddr;

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, NlasIterator,
    Parseable,
};
use netlink_sys::protocols::NETLINK_NETFILTER;

use super::netlink::{self, NetlinkError};

const NFNL_SUBSYS_CTNETLINK: u16 = 1;
const IPCTNL_MSG_CT_NEW: u8 = 0;
const IPCTNL_MSG_CT_GET: u8 = 1;
const IPCTNL_MSG_CT_DELETE: u8 = 2;
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_ZONE: u16 = 18;
const CTA_FILTER: u16 = 25;
const CTA_FILTER_ORIG_FLAGS: u16 = 1;
const CTA_FILTER_REPLY_FLAGS: u16 = 2;
const CTA_FILTER_FLAG_CTA_IP_SRC: u32 = 1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const CTA_TUPLE_IP: u16 = 1;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V6_SRC: u16 = 3;
const ENOENT: i32 = 2;
const NFGENMSG: usize = 4;

/// One ctnetlink message: its type within the subsystem, its address
/// family, and its attributes as the kernel gave them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctnetlink {
    kind: u8,
    family: u8,
    attrs: Vec<DefaultNla>,
}

impl NetlinkSerializable for Ctnetlink {
    fn message_type(&self) -> u16 {
        (NFNL_SUBSYS_CTNETLINK << 8) | u16::from(self.kind)
    }

    fn buffer_len(&self) -> usize {
        NFGENMSG + self.attrs.as_slice().buffer_len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        // nfgenmsg: family, version 0, resource id 0.
        buffer[..NFGENMSG].copy_from_slice(&[self.family, 0, 0, 0]);
        self.attrs.as_slice().emit(&mut buffer[NFGENMSG..]);
    }
}

impl NetlinkDeserializable for Ctnetlink {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let family = *payload
            .first()
            .ok_or_else(|| DecodeError::from("a conntrack message without its header"))?;
        Ok(Ctnetlink {
            kind: (header.message_type & 0xff) as u8,
            family,
            attrs: attributes(payload.get(NFGENMSG..).unwrap_or_default())?,
        })
    }
}

/// The attributes in `buf`, flags kept in their kind.
fn attributes(buf: &[u8]) -> Result<Vec<DefaultNla>, DecodeError> {
    NlasIterator::new(buf)
        .map(|nla| DefaultNla::parse(&nla?))
        .collect()
}

fn kind(a: &DefaultNla) -> u16 {
    use netlink_packet_core::Nla;
    a.kind() & NLA_TYPE_MASK
}

fn value(a: &DefaultNla) -> Vec<u8> {
    use netlink_packet_core::Nla;
    let mut v = vec![0; a.value_len()];
    a.emit_value(&mut v);
    v
}

/// An attribute holding `inner`.
fn nested(kind: u16, inner: &[DefaultNla]) -> DefaultNla {
    let mut v = vec![0; inner.buffer_len()];
    inner.emit(&mut v);
    DefaultNla::new(kind | NLA_F_NESTED, v)
}

/// The first attribute of kind `k` in `attrs`, read as a list.
fn find(attrs: &[DefaultNla], k: u16) -> Option<Vec<DefaultNla>> {
    let a = attrs.iter().find(|a| kind(a) == k)?;
    attributes(&value(a)).ok()
}

impl Ctnetlink {
    /// The original source address.
    pub(crate) fn source(&self) -> Option<IpAddr> {
        let tuple = find(&self.attrs, CTA_TUPLE_ORIG)?;
        let ip = find(&tuple, CTA_TUPLE_IP)?;
        ip.iter().find_map(|a| match kind(a) {
            CTA_IP_V4_SRC => <[u8; 4]>::try_from(value(a).as_slice())
                .ok()
                .map(IpAddr::from),
            CTA_IP_V6_SRC => <[u8; 16]>::try_from(value(a).as_slice())
                .ok()
                .map(IpAddr::from),
            _ => None,
        })
    }

    /// The request that deletes this entry: its original tuple and zone.
    fn delete(&self) -> Ctnetlink {
        Ctnetlink {
            kind: IPCTNL_MSG_CT_DELETE,
            family: self.family,
            attrs: self
                .attrs
                .iter()
                .filter(|a| matches!(kind(a), CTA_TUPLE_ORIG | CTA_ZONE))
                .cloned()
                .collect(),
        }
    }
}

/// A dump request for every entry of every family.
fn dump_all() -> Ctnetlink {
    Ctnetlink {
        kind: IPCTNL_MSG_CT_GET,
        family: 0,
        attrs: Vec::new(),
    }
}

/// A dump request that asks the kernel for `ip`'s connections only
/// (`CTA_FILTER`, Linux 5.8 and later).
pub fn filtered_dump(ip: IpAddr) -> Ctnetlink {
    let (family, src) = match ip {
        IpAddr::V4(v4) => (
            AF_INET,
            DefaultNla::new(CTA_IP_V4_SRC, v4.octets().to_vec()),
        ),
        IpAddr::V6(v6) => (
            AF_INET6,
            DefaultNla::new(CTA_IP_V6_SRC, v6.octets().to_vec()),
        ),
    };
    let tuple = nested(CTA_TUPLE_ORIG, &[nested(CTA_TUPLE_IP, &[src])]);
    let filter = nested(
        CTA_FILTER,
        &[
            DefaultNla::new(
                CTA_FILTER_ORIG_FLAGS,
                CTA_FILTER_FLAG_CTA_IP_SRC.to_ne_bytes().to_vec(),
            ),
            DefaultNla::new(CTA_FILTER_REPLY_FLAGS, 0u32.to_ne_bytes().to_vec()),
        ],
    );
    Ctnetlink {
        kind: IPCTNL_MSG_CT_GET,
        family,
        attrs: vec![tuple, filter],
    }
}

/// Deletes every tracked connection whose original source is one of
/// `ips`; returns how many went. Entries that ended meanwhile are no error.
/// The kernel filters the table for each address; a kernel too old for
/// that is asked for the whole table, filtered here.
pub fn forget(ips: &[IpAddr]) -> Result<usize, NetlinkError> {
    if ips.is_empty() {
        return Ok(0);
    }
    const LIST: &str = "list tracked connections";
    let mut sock = netlink::socket(NETLINK_NETFILTER, 0, LIST)?;
    let mut entries = Vec::new();
    let pick = |m: Ctnetlink, into: &mut Vec<Ctnetlink>| {
        if matches!(m.kind, IPCTNL_MSG_CT_NEW | IPCTNL_MSG_CT_GET)
            && m.source().is_some_and(|s| ips.contains(&s))
        {
            into.push(m);
        }
    };
    for (seq, ip) in (1..).zip(ips) {
        let mut found = Vec::new();
        let dumped = netlink::request(
            &mut sock,
            filtered_dump(*ip),
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            LIST,
            |m| pick(m, &mut found),
        );
        if dumped.is_err() {
            entries.clear();
            netlink::request(
                &mut sock,
                dump_all(),
                NLM_F_REQUEST | NLM_F_DUMP,
                1000,
                LIST,
                |m| pick(m, &mut entries),
            )?;
            break;
        }
        entries.extend(found);
    }
    let mut deleted = 0;
    for (seq, e) in (2000..).zip(&entries) {
        let flags = NLM_F_REQUEST | NLM_F_ACK;
        match netlink::request(
            &mut sock,
            e.delete(),
            flags,
            seq,
            "drop a connection",
            |_| {},
        ) {
            Ok(()) => deleted += 1,
            // It ended on its own meanwhile.
            Err(e) if e.errno() == Some(ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{ErrorMessage, NetlinkMessage, NetlinkPayload};

    /// A dump reply as the kernel sends it: tuple with source and
    /// destination, a protocol part, a status, a zone.
    fn entry(src: [u8; 4], zone: Option<u16>) -> Ctnetlink {
        let ip = [
            DefaultNla::new(CTA_IP_V4_SRC, src.to_vec()),
            DefaultNla::new(2, vec![203, 0, 113, 2]),
        ];
        let proto = [
            DefaultNla::new(1, vec![6]),
            DefaultNla::new(2, 443u16.to_be_bytes().to_vec()),
        ];
        let tuple = nested(
            CTA_TUPLE_ORIG,
            &[nested(CTA_TUPLE_IP, &ip), nested(2, &proto)],
        );
        let mut attrs = vec![tuple, DefaultNla::new(3, 8u32.to_be_bytes().to_vec())];
        if let Some(z) = zone {
            attrs.push(DefaultNla::new(CTA_ZONE, z.to_be_bytes().to_vec()));
        }
        Ctnetlink {
            kind: IPCTNL_MSG_CT_NEW,
            family: AF_INET,
            attrs,
        }
    }

    fn frame(payload: NetlinkPayload<Ctnetlink>) -> Vec<u8> {
        let mut m = NetlinkMessage::new(NetlinkHeader::default(), payload);
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    #[test]
    fn a_clients_connections_are_read_and_named_for_deletion() {
        let client: IpAddr = "198.51.100.20".parse().expect("ip");
        let mut buf = frame(NetlinkPayload::InnerMessage(entry(
            [198, 51, 100, 20],
            None,
        )));
        buf.extend(frame(NetlinkPayload::InnerMessage(entry(
            [198, 51, 100, 21],
            None,
        ))));
        buf.extend(frame(NetlinkPayload::InnerMessage(entry(
            [198, 51, 100, 20],
            Some(7),
        ))));
        let netlink::Replies::More(all) =
            netlink::replies::<Ctnetlink>(&buf, "test").expect("parsed")
        else {
            panic!("the dump has not ended");
        };
        let mine: Vec<_> = all
            .into_iter()
            .filter(|m| m.source() == Some(client))
            .collect();
        assert_eq!(mine.len(), 2, "only the client's two");
        let req = netlink::encode(mine[1].delete(), NLM_F_REQUEST | NLM_F_ACK, 5);
        assert_eq!(
            u16::from_ne_bytes([req[4], req[5]]),
            0x0102,
            "ctnetlink delete"
        );
        let back = NetlinkMessage::<Ctnetlink>::deserialize(&req).expect("reads back");
        let NetlinkPayload::InnerMessage(del) = back.payload else {
            panic!("a ctnetlink message");
        };
        assert_eq!(del.source(), Some(client), "named by its tuple");
        assert!(
            del.attrs
                .iter()
                .any(|a| kind(a) == CTA_ZONE && value(a) == 7u16.to_be_bytes()),
            "in its zone"
        );
        assert_eq!(del.attrs.len(), 2, "tuple and zone only, no status");
        let done = frame(NetlinkPayload::Done(Default::default()));
        assert!(matches!(
            netlink::replies::<Ctnetlink>(&done, "test"),
            Ok(netlink::Replies::Done(v)) if v.is_empty()
        ));
    }

    #[test]
    fn a_refused_dump_is_an_error_with_its_errno() {
        let mut refused = ErrorMessage::default();
        refused.code = std::num::NonZeroI32::new(-22);
        let err = netlink::replies::<Ctnetlink>(&frame(NetlinkPayload::Error(refused)), "list")
            .expect_err("refused");
        assert_eq!(err.errno(), Some(22));
    }

    #[test]
    fn the_kernel_is_asked_for_one_address() {
        let ip: IpAddr = "2001:db8::20".parse().expect("ip");
        let req = netlink::encode(filtered_dump(ip), NLM_F_REQUEST | NLM_F_DUMP, 3);
        assert_eq!(req[16], AF_INET6);
        let flags = u16::from_ne_bytes([req[6], req[7]]);
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_DUMP);
        let NetlinkPayload::InnerMessage(m) = NetlinkMessage::<Ctnetlink>::deserialize(&req)
            .expect("reads back")
            .payload
        else {
            panic!("a ctnetlink message");
        };
        assert_eq!(m.source(), Some(ip));
        assert!(m.attrs.iter().any(|a| kind(a) == CTA_FILTER));
    }
}
