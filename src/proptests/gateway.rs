//! Frames and netlink replies from the guest network and the kernel.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DoneMessage, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use pnet_datalink::MacAddr;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet_packet::dhcp::{DhcpHardwareTypes, DhcpOperations, MutableDhcpPacket};
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::MutableIpv4Packet;
use pnet_packet::udp::MutableUdpPacket;
use proptest::prelude::*;

use super::config;
use crate::gateway::conntrack::{self, Ctnetlink};
use crate::gateway::mac::Mac;
use crate::gateway::neigh::{self, Change, Neigh};
use crate::gateway::netlink::{self, Replies};
use crate::gateway::sniff::{Sighting, parse_frame};

const ETH: usize = 14;
const IP: usize = 20;
const UDP: usize = 8;

/// An Ethernet frame from `src` carrying `ethertype` and `payload`.
fn ethernet(src: [u8; 6], ethertype: pnet_packet::ethernet::EtherType, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; ETH + payload.len()];
    let mut eth = MutableEthernetPacket::new(&mut buf).expect("room for the header");
    eth.set_source(MacAddr::from(src));
    eth.set_destination(MacAddr::broadcast());
    eth.set_ethertype(ethertype);
    buf[ETH..].copy_from_slice(payload);
    buf
}

/// DHCP's fixed part, before the magic cookie and the options (pnet's
/// `minimum_packet_size` leaves out its fixed-length byte fields).
const DHCP_FIXED: usize = 236;

/// A DHCP request as a client writes it, with pnet's writer; `options`
/// follow the magic cookie.
fn dhcp(chaddr: [u8; 6], ciaddr: Ipv4Addr, options: &[u8]) -> Vec<u8> {
    let mut d = vec![0; DHCP_FIXED + 4 + options.len()];
    {
        let mut p = MutableDhcpPacket::new(&mut d).expect("room for DHCP");
        p.set_op(DhcpOperations::Request);
        p.set_htype(DhcpHardwareTypes::Ethernet);
        p.set_hlen(6);
        p.set_ciaddr(ciaddr);
        p.set_chaddr(MacAddr::from(chaddr));
    }
    d[DHCP_FIXED..DHCP_FIXED + 4].copy_from_slice(&[99, 130, 83, 99]);
    d[DHCP_FIXED + 4..].copy_from_slice(options);
    d
}

/// `payload` sent from `src` to the DHCP server port, over IPv4 and UDP
/// written with pnet's writers.
fn to_port_67(src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0; IP + UDP + payload.len()];
    ip[IP + UDP..].copy_from_slice(payload);
    {
        let mut u = MutableUdpPacket::new(&mut ip[IP..]).expect("room for UDP");
        u.set_source(68);
        u.set_destination(67);
        u.set_length(u16::try_from(UDP + payload.len()).expect("small"));
    }
    {
        let mut p = MutableIpv4Packet::new(&mut ip).expect("room for IPv4");
        p.set_version(4);
        p.set_header_length(5);
        p.set_total_length(u16::try_from(IP + UDP + payload.len()).expect("small"));
        p.set_ttl(64);
        p.set_next_level_protocol(IpNextHeaderProtocols::Udp);
        p.set_destination(Ipv4Addr::BROADCAST);
    }
    ethernet(src, EtherTypes::Ipv4, &ip)
}

fn dhcp_frame(src: [u8; 6], chaddr: [u8; 6], ciaddr: Ipv4Addr, options: &[u8]) -> Vec<u8> {
    to_port_67(src, &dhcp(chaddr, ciaddr, options))
}

fn arp_frame(src: [u8; 6], sender: [u8; 6], ip: Ipv4Addr) -> Vec<u8> {
    let mut arp = vec![0; 28];
    {
        let mut a = MutableArpPacket::new(&mut arp).expect("room for ARP");
        a.set_hardware_type(ArpHardwareTypes::Ethernet);
        a.set_protocol_type(EtherTypes::Ipv4);
        a.set_hw_addr_len(6);
        a.set_proto_addr_len(4);
        a.set_operation(ArpOperations::Request);
        a.set_sender_hw_addr(MacAddr::from(sender));
        a.set_sender_proto_addr(ip);
    }
    ethernet(src, EtherTypes::Arp, &arp)
}

fn unicast() -> impl Strategy<Value = [u8; 6]> {
    any::<[u8; 6]>()
        .prop_map(|mut m| {
            m[0] &= 0xfe;
            m
        })
        .prop_filter("not all zero", |m| *m != [0; 6])
}

/// A neighbour message as the kernel frames it, through the crates' writers.
fn frame(payload: NetlinkPayload<Neigh>) -> Vec<u8> {
    let mut m = NetlinkMessage::new(NetlinkHeader::default(), payload);
    m.finalize();
    let mut buf = vec![0; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

fn neighbour(ifindex: u32, ip: IpAddr, mac: [u8; 6]) -> NeighbourMessage {
    let mut n = NeighbourMessage::default();
    n.header.family = if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    n.header.ifindex = ifindex;
    n.header.state = NeighbourState::Reachable;
    n.attributes.push(NeighbourAttribute::Destination(match ip {
        IpAddr::V4(v4) => NeighbourAddress::Inet(v4),
        IpAddr::V6(v6) => NeighbourAddress::Inet6(v6),
    }));
    n.attributes
        .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
    n
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_frame_is_read_without_panic_and_within_bounds(frame in proptest::collection::vec(any::<u8>(), 0..700)) {
        if let Some(s) = parse_frame(&frame) {
            prop_assert!(s.hostname.as_ref().is_none_or(|h| h.len() <= 64 && !h.is_empty()));
        }
    }

    #[test]
    fn any_dhcp_options_are_read_without_panic(
        src in unicast(),
        chaddr in any::<[u8; 6]>(),
        options in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let s = parse_frame(&dhcp_frame(src, chaddr, Ipv4Addr::UNSPECIFIED, &options));
        let s = s.expect("a DHCP request from a unicast MAC is a sighting");
        prop_assert_eq!(s.mac, Mac(chaddr));
        prop_assert!(s.hostname.as_ref().is_none_or(|h| h.len() <= 64));
    }

    #[test]
    fn any_bytes_to_the_dhcp_port_are_read_without_panic(
        src in unicast(),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let _ = parse_frame(&to_port_67(src, &payload));
    }

    #[test]
    fn a_dhcp_request_round_trips(
        src in unicast(),
        chaddr in any::<[u8; 6]>(),
        ciaddr in any::<[u8; 4]>().prop_map(Ipv4Addr::from),
        requested in any::<[u8; 4]>().prop_map(Ipv4Addr::from),
        name in "[!-~]{1,64}",
        pad in 0usize..4,
    ) {
        let mut options = vec![0; pad];
        options.extend([50, 4]);
        options.extend(requested.octets());
        options.extend([12, u8::try_from(name.len()).expect("short")]);
        options.extend(name.as_bytes());
        options.push(255);
        options.extend([12, 3, b'b', b'a', b'd']); // after the end: ignored
        let s = parse_frame(&dhcp_frame(src, chaddr, ciaddr, &options)).expect("sighting");
        let ip = if ciaddr.is_unspecified() { requested } else { ciaddr };
        prop_assert_eq!(s, Sighting { mac: Mac(chaddr), ip: Some(ip), hostname: Some(name) });
    }

    #[test]
    fn an_arp_packet_round_trips(src in unicast(), sender in any::<[u8; 6]>(), ip in any::<[u8; 4]>().prop_map(Ipv4Addr::from)) {
        let s = parse_frame(&arp_frame(src, sender, ip)).expect("sighting");
        prop_assert_eq!(s, Sighting { mac: Mac(sender), ip: (!ip.is_unspecified()).then_some(ip), hostname: None });
        // Truncated anywhere, it is still read without panic.
        let whole = arp_frame(src, sender, ip);
        for cut in 0..whole.len() {
            let _ = parse_frame(&whole[..cut]);
        }
    }

    #[test]
    fn any_netlink_datagram_is_read_without_panic_and_within_bounds(
        buf in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        if let Ok(m) = netlink::messages::<Neigh>(&buf) {
            prop_assert!(m.len() <= buf.len() / 16);
        }
        if let Ok((changes, _)) = neigh::parse(&buf) {
            prop_assert!(changes.len() <= buf.len() / 16);
        }
        if let Ok(Replies::More(m) | Replies::Done(m)) = netlink::replies::<Ctnetlink>(&buf, "test") {
            prop_assert!(m.len() <= buf.len() / 16);
            for c in &m {
                let _ = c.source();
            }
        }
    }

    #[test]
    fn neighbour_messages_round_trip(
        entries in proptest::collection::vec((1u32..64, ip(), unicast()), 1..8),
        done in any::<bool>(),
    ) {
        let mut buf = Vec::new();
        for (ifindex, ip, mac) in &entries {
            buf.extend(frame(NetlinkPayload::InnerMessage(Neigh::New(neighbour(*ifindex, *ip, *mac)))));
        }
        if done {
            buf.extend(frame(NetlinkPayload::Done(DoneMessage::default())));
        }
        let (changes, over) = neigh::parse(&buf).expect("parses");
        prop_assert_eq!(over, done);
        let want: Vec<Change> = entries
            .iter()
            .map(|(ifindex, ip, mac)| Change { present: true, ifindex: *ifindex, ip: *ip, mac: Some(Mac(*mac)) })
            .collect();
        prop_assert_eq!(changes, want);
        // Any cut of the datagram is read without panic.
        for cut in 0..buf.len() {
            let _ = neigh::parse(&buf[..cut]);
        }
    }

    #[test]
    fn a_conntrack_request_round_trips(ip in ip(), seq in any::<u32>()) {
        let request = conntrack::filtered_dump(ip);
        let buf = netlink::encode(request.clone(), 0, seq);
        let got = netlink::messages::<Ctnetlink>(&buf).expect("decodes");
        prop_assert_eq!(got.len(), 1);
        match &got[0].payload {
            NetlinkPayload::InnerMessage(c) => {
                prop_assert_eq!(c, &request);
                prop_assert_eq!(c.source(), Some(ip));
            }
            other => prop_assert!(false, "{other:?}"),
        }
        for cut in 0..buf.len() {
            let _ = netlink::messages::<Ctnetlink>(&buf[..cut]);
        }
    }
}
