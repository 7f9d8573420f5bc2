//! MAC ↔ IP from the kernel's neighbour table. IPv4 entries are read from
//! `/proc/net/arp` (the kernel's own view, no process started); IPv6
//! entries from `ip -6 neigh`, run only when an IPv6 client asks.

use std::net::IpAddr;

use super::mac::Mac;

/// One neighbour entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    /// Its address.
    pub ip: IpAddr,
    /// Its MAC.
    pub mac: Mac,
    /// The interface it was seen on.
    pub dev: String,
}

/// Parses `/proc/net/arp`: `IP HWtype Flags HWaddress Mask Device`.
pub fn parse_proc_arp(text: &str) -> Vec<Neighbour> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [ip, _, flags, hw, _, dev] = f.as_slice() else {
                return None;
            };
            // 0x0 = incomplete: no MAC yet.
            if *flags == "0x0" {
                return None;
            }
            let mac: Mac = hw.parse().ok()?;
            let ip = ip.parse().ok()?;
            mac.is_unicast().then(|| Neighbour {
                ip,
                mac,
                dev: (*dev).to_owned(),
            })
        })
        .collect()
}

/// Parses `ip -6 neigh` lines: `ADDR dev IF lladdr MAC STATE`.
pub fn parse_ip_neigh(text: &str) -> Vec<Neighbour> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let ip = f.first()?.parse().ok()?;
            let dev = f
                .iter()
                .position(|w| *w == "dev")
                .and_then(|i| f.get(i + 1))?;
            let mac = f
                .iter()
                .position(|w| *w == "lladdr")
                .and_then(|i| f.get(i + 1))?
                .parse::<Mac>()
                .ok()?;
            (!line.contains("FAILED")).then(|| Neighbour {
                ip,
                mac,
                dev: (*dev).to_owned(),
            })
        })
        .collect()
}

/// The MAC of `ip`, if it is a neighbour on one of `interfaces`.
pub fn lookup(ip: IpAddr, interfaces: &[String]) -> Option<Mac> {
    let table = match ip {
        IpAddr::V4(_) => parse_proc_arp(&std::fs::read_to_string("/proc/net/arp").ok()?),
        IpAddr::V6(_) => {
            let out = std::process::Command::new("ip")
                .args(["-6", "neigh", "show", "to", &ip.to_string()])
                .output()
                .ok()?;
            parse_ip_neigh(&String::from_utf8_lossy(&out.stdout))
        }
    };
    table
        .into_iter()
        .find(|n| n.ip == ip && interfaces.contains(&n.dev))
        .map(|n| n.mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_arp_lines_are_read() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device\n\
                    198.51.100.20    0x1         0x2         02:aa:bb:cc:dd:01     *        guest0\n\
                    198.51.100.21    0x1         0x0         00:00:00:00:00:00     *        guest0\n";
        let n = parse_proc_arp(text);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].mac.to_string(), "02:aa:bb:cc:dd:01");
        assert_eq!(n[0].dev, "guest0");
    }

    #[test]
    fn ip_neigh_lines_are_read() {
        let text = "2001:db8::5 dev guest0 lladdr 02:aa:bb:cc:dd:02 REACHABLE\n\
                    2001:db8::6 dev guest0  FAILED\n";
        let n = parse_ip_neigh(text);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].ip.to_string(), "2001:db8::5");
    }
}
