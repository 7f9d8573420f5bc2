//! Seeing clients the moment they connect: DHCP requests and ARP packets on
//! the guest interface, read through `pnet` (not promiscuous: only what the
//! router receives anyway), give a client's MAC, its address and its DHCP
//! host name. One blocking reader thread per interface feeds a channel.

use std::net::Ipv4Addr;
use std::time::Duration;

use pnet_datalink::{Channel, Config};
use pnet_packet::Packet;
use pnet_packet::arp::ArpPacket;
use pnet_packet::dhcp::DhcpPacket;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::udp::UdpPacket;
use tokio::sync::mpsc;

use super::mac::Mac;

/// A client seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    /// Its MAC.
    pub mac: Mac,
    /// Its address, when the packet tells.
    pub ip: Option<Ipv4Addr>,
    /// The host name from DHCP option 12.
    pub hostname: Option<String>,
}

const DHCP_MAGIC: [u8; 4] = [99, 130, 83, 99];

/// Reads one Ethernet frame; `None` if it says nothing about a client.
pub fn parse_frame(frame: &[u8]) -> Option<Sighting> {
    let eth = EthernetPacket::new(frame)?;
    let src = Mac(eth.get_source().octets());
    if !src.is_unicast() {
        return None;
    }
    match eth.get_ethertype() {
        EtherTypes::Arp => {
            let arp = ArpPacket::new(eth.payload())?;
            let ip = arp.get_sender_proto_addr();
            Some(Sighting {
                mac: Mac(arp.get_sender_hw_addr().octets()),
                ip: (!ip.is_unspecified()).then_some(ip),
                hostname: None,
            })
        }
        EtherTypes::Ipv4 => {
            let ip = Ipv4Packet::new(eth.payload())?;
            if ip.get_next_level_protocol() != IpNextHeaderProtocols::Udp {
                return None;
            }
            let udp = UdpPacket::new(ip.payload())?;
            if udp.get_destination() != 67 {
                return None;
            }
            let dhcp = DhcpPacket::new(udp.payload())?;
            let mut s = Sighting {
                mac: Mac(dhcp.get_chaddr().octets()),
                ip: None,
                hostname: None,
            };
            let ci = dhcp.get_ciaddr();
            if !ci.is_unspecified() {
                s.ip = Some(ci);
            }
            let opts = dhcp.payload();
            let mut opts = opts.strip_prefix(&DHCP_MAGIC).unwrap_or(opts);
            while let [code, rest @ ..] = opts {
                match code {
                    0 => opts = rest,
                    255 => break,
                    _ => {
                        let [len, rest @ ..] = rest else { break };
                        let len = usize::from(*len);
                        let Some(value) = rest.get(..len) else { break };
                        match code {
                            12 => {
                                let name: String = String::from_utf8_lossy(value)
                                    .chars()
                                    .filter(|c| c.is_ascii_graphic())
                                    .take(64)
                                    .collect();
                                s.hostname = (!name.is_empty()).then_some(name);
                            }
                            50 if len == 4 && s.ip.is_none() => {
                                s.ip = Some(Ipv4Addr::new(value[0], value[1], value[2], value[3]));
                            }
                            _ => {}
                        }
                        opts = &rest[len..];
                    }
                }
            }
            Some(s)
        }
        _ => None,
    }
}

/// Why a guest interface cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    /// It does not exist.
    #[error("interface {0} not found")]
    NoInterface(String),
    /// It is not an Ethernet-like interface.
    #[error("{0}: not an Ethernet channel")]
    NotEthernet(String),
    /// Reading it was refused.
    #[error("cannot read packets on {interface} ({source}); run as root or with CAP_NET_RAW")]
    Open {
        /// The interface.
        interface: String,
        /// Why.
        source: std::io::Error,
    },
    /// The reader thread could not start.
    #[error("cannot start the packet reader: {0}")]
    Thread(std::io::Error),
}

/// Starts reading `interface` on a thread of its own.
pub fn spawn(interface: &str, tx: mpsc::Sender<Sighting>) -> Result<(), SniffError> {
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == interface)
        .ok_or_else(|| SniffError::NoInterface(interface.to_owned()))?;
    let config = Config {
        read_timeout: Some(Duration::from_secs(1)),
        promiscuous: false,
        ..Config::default()
    };
    let mut rx = match pnet_datalink::channel(&iface, config) {
        Ok(Channel::Ethernet(_, rx)) => rx,
        Ok(_) => return Err(SniffError::NotEthernet(interface.to_owned())),
        Err(source) => {
            return Err(SniffError::Open {
                interface: interface.to_owned(),
                source,
            });
        }
    };
    let name = interface.to_owned();
    std::thread::Builder::new()
        .name(format!("sniff-{name}"))
        .spawn(move || {
            loop {
                match rx.next() {
                    Ok(frame) => {
                        if let Some(s) = parse_frame(frame)
                            && tx.blocking_send(s).is_err()
                        {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                        if tx.is_closed() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(interface = %name, error = %e, "packet reader stopped");
                        return;
                    }
                }
            }
        })
        .map_err(SniffError::Thread)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&src);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn dhcp_request_gives_mac_address_and_host_name() {
        let mac = [0x02, 0, 0, 0x0c, 0x11, 0x01];
        let mut dhcp = vec![0u8; 236];
        dhcp[0] = 1; // BOOTREQUEST
        dhcp[1] = 1;
        dhcp[2] = 6;
        dhcp[28..34].copy_from_slice(&mac);
        dhcp.extend_from_slice(&DHCP_MAGIC);
        dhcp.extend_from_slice(&[53, 1, 3]); // DHCPREQUEST
        dhcp.extend_from_slice(&[50, 4, 198, 51, 100, 120]);
        dhcp.extend_from_slice(&[12, 5]);
        dhcp.extend_from_slice(b"ada-1");
        dhcp.push(255);
        let mut udp = vec![0, 68, 0, 67];
        udp.extend_from_slice(&u16::try_from(8 + dhcp.len()).expect("len").to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&dhcp);
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255,
        ];
        let total = u16::try_from(20 + udp.len()).expect("len").to_be_bytes();
        ip[2..4].copy_from_slice(&total);
        ip.extend_from_slice(&udp);
        let s = parse_frame(&eth(mac, 0x0800, &ip)).expect("a sighting");
        assert_eq!(s.mac.to_string(), "02:00:00:0c:11:01");
        assert_eq!(s.ip, Some(Ipv4Addr::new(198, 51, 100, 120)));
        assert_eq!(s.hostname.as_deref(), Some("ada-1"));
    }

    #[test]
    fn arp_gives_mac_and_address() {
        let mac = [0x02, 0, 0, 0, 0, 9];
        let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
        arp.extend_from_slice(&mac);
        arp.extend_from_slice(&[198, 51, 100, 21]);
        arp.extend_from_slice(&[0; 6]);
        arp.extend_from_slice(&[198, 51, 100, 1]);
        let s = parse_frame(&eth(mac, 0x0806, &arp)).expect("a sighting");
        assert_eq!(s.ip, Some(Ipv4Addr::new(198, 51, 100, 21)));
        assert!(
            parse_frame(&eth([1, 0, 0x5e, 0, 0, 1], 0x0806, &arp)).is_none(),
            "multicast source"
        );
    }
}
