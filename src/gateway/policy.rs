//! The firewall policy as plain data, and its translation into one nftables
//! JSON batch for the table `inet queueless` (through the `nftables`
//! crate's typed schema). Pure: no `nft` runs here, so every rule is
//! unit-tested as JSON.
//!
//! Guests on the guest interfaces are sorted by source MAC, in this order:
//! blocked (never pass), trusted (always pass), authorized (pass while their
//! set element lives; the element's timeout is the session length), and
//! everyone else, who may reach DHCP, DNS and the portal on the router, the
//! walled garden, and nothing more: TCP 80 is redirected to the portal's
//! captive port, other TCP is reset at once, everything else rejected.
//! IPv6 is captured the same way (the table is `inet`, so the same rules
//! cover both families): port 80 is redirected, the rest rejected until the
//! client is authorized.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;

use nftables::expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, SetItem};
use nftables::schema::{
    Chain, Element, NfCmd, NfListObject, NfObject, Nftables, Rule, Set, SetFlag, SetType,
    SetTypeValue, Table,
};
use nftables::stmt::{Match, NAT, Operator, Reject, RejectType, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use super::mac::Mac;

/// Our table; nothing else on the host is touched.
pub const TABLE: &str = "queueless";
/// The authorized clients (timeout per element, counters).
pub const AUTHORIZED: &str = "authorized";
/// Joined guests' IPv4 addresses, to count the bytes sent to them (the
/// MAC is not known on the way to a client).
pub const DOWN4: &str = "down4";
/// Joined guests' IPv6 addresses, likewise.
pub const DOWN6: &str = "down6";
/// Always allowed.
pub const TRUSTED: &str = "trusted";
/// Never allowed.
pub const BLOCKED: &str = "blocked";
/// Walled garden, IPv4.
pub const GARDEN4: &str = "garden4";
/// Walled garden, IPv6.
pub const GARDEN6: &str = "garden6";
/// The chains, for the read-back check.
pub const CHAINS: [&str; 3] = ["prerouting", "forward", "input"];
/// The sets, for the read-back check.
pub const SETS: [&str; 7] = [AUTHORIZED, DOWN4, DOWN6, TRUSTED, BLOCKED, GARDEN4, GARDEN6];

/// Whether authorized guests reach the internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Internet {
    /// Once they accepted the terms (joined).
    AfterAccept,
    /// Never: the Wi-Fi is for ordering only.
    None,
}

/// A walled-garden entry: an address or a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (32 or 128 for one address).
    pub len: u8,
}

/// Text that is not an address or network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Not an address.
    #[error("{0:?} is not an IP address or network (like 192.0.2.0/24)")]
    Address(String),
    /// A prefix length out of range.
    #[error("{text:?}: the prefix length must be 0–{max}")]
    Prefix {
        /// What was given.
        text: String,
        /// 32 or 128.
        max: u8,
    },
}

impl std::str::FromStr for Net {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Self, NetError> {
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| NetError::Address(s.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => {
                l.parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| NetError::Prefix {
                        text: s.to_owned(),
                        max,
                    })?
            }
            None => max,
        };
        Ok(Net { addr, len })
    }
}

/// Everything the ruleset is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Guest interfaces.
    pub interfaces: Vec<String>,
    /// The router's captive HTTP port that TCP 80 is redirected to.
    pub captive_port: u16,
    /// Ports on the router guests may reach (portal HTTP and HTTPS).
    pub portal_ports: Vec<u16>,
    /// Internet for authorized guests.
    pub internet: Internet,
    /// Reachable before joining.
    pub garden: Vec<Net>,
    /// Always allowed.
    pub trusted: Vec<Mac>,
    /// Never allowed.
    pub blocked: Vec<Mac>,
}

/// One authorized client as restored into the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The client.
    pub mac: Mac,
    /// Seconds left.
    pub seconds: u32,
}

fn s(v: &str) -> Expression<'static> {
    Expression::String(Cow::Owned(v.to_owned()))
}

fn field(protocol: &str, name: &str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: Cow::Owned(protocol.to_owned()),
            field: Cow::Owned(name.to_owned()),
        },
    )))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn anon(items: Vec<Expression<'static>>) -> Expression<'static> {
    Expression::Named(NamedExpression::Set(
        items.into_iter().map(SetItem::Element).collect(),
    ))
}

fn eq(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match {
        left,
        right,
        op: Operator::EQ,
    })
}

fn ports(list: &[u16]) -> Expression<'static> {
    anon(
        list.iter()
            .map(|p| Expression::Number(u32::from(*p)))
            .collect(),
    )
}

impl Policy {
    fn on_guest_interface(&self) -> Statement<'static> {
        eq(
            meta(MetaKey::Iifname),
            anon(self.interfaces.iter().map(|i| s(i)).collect()),
        )
    }

    fn rule(
        &self,
        chain: &str,
        rest: Vec<Statement<'static>>,
        comment: &str,
    ) -> NfListObject<'static> {
        let mut expr = vec![self.on_guest_interface()];
        expr.extend(rest);
        NfListObject::Rule(Rule {
            family: NfFamily::INet,
            table: Cow::Borrowed(TABLE),
            chain: Cow::Owned(chain.to_owned()),
            expr: Cow::Owned(expr),
            handle: None,
            index: None,
            comment: Some(Cow::Owned(comment.to_owned())),
        })
    }

    /// The rules, chain by chain.
    pub fn rules(&self) -> Vec<NfListObject<'static>> {
        let mac_in = |set: &str| eq(field("ether", "saddr"), s(&format!("@{set}")));
        let garden4 = || eq(field("ip", "daddr"), s(&format!("@{GARDEN4}")));
        let garden6 = || eq(field("ip6", "daddr"), s(&format!("@{GARDEN6}")));
        let ret = Statement::Return(None);
        let accept = Statement::Accept(None);
        let drop = Statement::Drop(None);
        let after_accept = self.internet == Internet::AfterAccept;

        let mut r = Vec::new();
        // prerouting (nat): who is NOT captured, then the redirect.
        let pre = "prerouting";
        r.push(self.rule(
            pre,
            vec![mac_in(BLOCKED), ret.clone()],
            "blocked: not redirected, dropped in forward",
        ));
        r.push(self.rule(
            pre,
            vec![mac_in(TRUSTED), ret.clone()],
            "trusted: never captured",
        ));
        r.push(self.rule(pre, vec![garden4(), ret.clone()], "walled garden"));
        r.push(self.rule(pre, vec![garden6(), ret.clone()], "walled garden"));
        let mut redirect = Vec::new();
        if after_accept {
            // `!=`: a joined client's lookup here is a miss, so its counter
            // counts only forwarded traffic (the idle timeout reads it).
            redirect.push(Statement::Match(Match {
                left: field("ether", "saddr"),
                right: s(&format!("@{AUTHORIZED}")),
                op: Operator::NEQ,
            }));
        }
        redirect.push(eq(field("tcp", "dport"), Expression::Number(80)));
        redirect.push(Statement::Redirect(Some(NAT {
            addr: None,
            family: None,
            port: Some(Expression::Number(u32::from(self.captive_port))),
            flags: None,
        })));
        r.push(self.rule(pre, redirect, "captive: web requests go to the portal"));

        // forward (filter).
        let fwd = "forward";
        for (proto, set) in [("ip", DOWN4), ("ip6", DOWN6)] {
            // No verdict: the lookup only adds to the address's counter.
            r.push(NfListObject::Rule(Rule {
                family: NfFamily::INet,
                table: Cow::Borrowed(TABLE),
                chain: Cow::Borrowed("forward"),
                expr: Cow::Owned(vec![
                    eq(
                        meta(MetaKey::Oifname),
                        anon(self.interfaces.iter().map(|i| s(i)).collect()),
                    ),
                    eq(field(proto, "daddr"), s(&format!("@{set}"))),
                ]),
                handle: None,
                index: None,
                comment: Some(Cow::Borrowed("bytes to joined guests, counted")),
            }));
        }
        r.push(self.rule(fwd, vec![mac_in(BLOCKED), drop.clone()], "blocked"));
        r.push(self.rule(fwd, vec![mac_in(TRUSTED), accept.clone()], "trusted"));
        if after_accept {
            r.push(self.rule(
                fwd,
                vec![mac_in(AUTHORIZED), accept.clone()],
                "joined guests",
            ));
        }
        r.push(self.rule(fwd, vec![garden4(), accept.clone()], "walled garden"));
        r.push(self.rule(fwd, vec![garden6(), accept.clone()], "walled garden"));
        r.push(self.rule(
            fwd,
            vec![
                eq(meta(MetaKey::L4proto), s("tcp")),
                Statement::Reject(Some(Reject::new(Some(RejectType::TCPReset), None))),
            ],
            "not joined: TCP (HTTPS too) is reset at once",
        ));
        r.push(self.rule(
            fwd,
            vec![Statement::Reject(Some(Reject::new(
                Some(RejectType::ICMPX),
                None,
            )))],
            "not joined: everything else rejected (QUIC falls back at once)",
        ));

        // input (filter): what guests may reach on the router itself.
        let inp = "input";
        r.push(self.rule(inp, vec![mac_in(BLOCKED), drop.clone()], "blocked"));
        r.push(self.rule(
            inp,
            vec![
                eq(
                    Expression::Named(NamedExpression::CT(nftables::expr::CT {
                        key: Cow::Borrowed("state"),
                        family: None,
                        dir: None,
                    })),
                    anon(vec![s("established"), s("related")]),
                ),
                accept.clone(),
            ],
            "replies",
        ));
        r.push(self.rule(
            inp,
            vec![
                eq(
                    meta(MetaKey::L4proto),
                    anon(vec![s("icmp"), s("ipv6-icmp")]),
                ),
                accept.clone(),
            ],
            "ping, IPv6 neighbour discovery",
        ));
        r.push(self.rule(
            inp,
            vec![
                eq(field("udp", "dport"), ports(&[53, 67, 547])),
                accept.clone(),
            ],
            "DNS, DHCP, DHCPv6",
        ));
        let mut tcp = vec![53, self.captive_port];
        tcp.extend(self.portal_ports.iter().copied());
        tcp.sort_unstable();
        tcp.dedup();
        r.push(self.rule(
            inp,
            vec![eq(field("tcp", "dport"), ports(&tcp)), accept.clone()],
            "DNS over TCP, the portal",
        ));
        r.push(self.rule(inp, vec![drop], "nothing else on the router"));
        r
    }
}

fn set(name: &str, kind: SetType, flags: &[SetFlag]) -> NfListObject<'static> {
    NfListObject::Set(Box::new(Set {
        family: NfFamily::INet,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.to_owned()),
        handle: None,
        set_type: SetTypeValue::Single(kind),
        policy: None,
        flags: (!flags.is_empty()).then(|| flags.iter().copied().collect::<HashSet<_>>()),
        elem: None,
        timeout: None,
        gc_interval: None,
        size: None,
        comment: None,
    }))
}

fn chain(name: &str, kind: NfChainType, hook: NfHook, prio: i32) -> NfListObject<'static> {
    NfListObject::Chain(Chain {
        family: NfFamily::INet,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.to_owned()),
        newname: None,
        handle: None,
        _type: Some(kind),
        hook: Some(hook),
        prio: Some(prio),
        dev: None,
        policy: Some(NfChainPolicy::Accept),
    })
}

fn table() -> NfListObject<'static> {
    NfListObject::Table(Table {
        family: NfFamily::INet,
        name: Cow::Borrowed(TABLE),
        handle: None,
    })
}

fn elements(name: &str, elem: Vec<Expression<'static>>) -> NfListObject<'static> {
    NfListObject::Element(Element {
        family: NfFamily::INet,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.to_owned()),
        elem: Cow::Owned(elem),
    })
}

/// One authorized element: timeout and a counter of its own.
pub fn grant_elem(g: Grant) -> Expression<'static> {
    Expression::Named(NamedExpression::Elem(nftables::expr::Elem {
        val: Box::new(s(&g.mac.to_string())),
        timeout: Some(g.seconds.max(1)),
        expires: None,
        comment: None,
        counter: Some(nftables::stmt::Counter::Anonymous(None)),
    }))
}

fn net_elem(n: Net) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(nftables::expr::Prefix {
        addr: Box::new(s(&n.addr.to_string())),
        len: u32::from(n.len),
    }))
}

/// The whole table, replacing any earlier one in one transaction: `add`
/// then `delete` (so a missing table is no error), then everything anew.
pub fn full_batch(p: &Policy, grants: &[Grant], addrs: &[Counted]) -> Nftables<'static> {
    let mut cmds = vec![
        NfCmd::Add(table()),
        NfCmd::Delete(table()),
        NfCmd::Add(table()),
    ];
    cmds.push(NfCmd::Add(set(
        AUTHORIZED,
        SetType::EtherAddr,
        &[SetFlag::Timeout],
    )));
    cmds.push(NfCmd::Add(set(
        DOWN4,
        SetType::Ipv4Addr,
        &[SetFlag::Timeout],
    )));
    cmds.push(NfCmd::Add(set(
        DOWN6,
        SetType::Ipv6Addr,
        &[SetFlag::Timeout],
    )));
    cmds.push(NfCmd::Add(set(TRUSTED, SetType::EtherAddr, &[])));
    cmds.push(NfCmd::Add(set(BLOCKED, SetType::EtherAddr, &[])));
    cmds.push(NfCmd::Add(set(
        GARDEN4,
        SetType::Ipv4Addr,
        &[SetFlag::Interval],
    )));
    cmds.push(NfCmd::Add(set(
        GARDEN6,
        SetType::Ipv6Addr,
        &[SetFlag::Interval],
    )));
    // Before the distro's NAT (dstnat = -100) and filter (0) chains.
    cmds.push(NfCmd::Add(chain(
        "prerouting",
        NfChainType::NAT,
        NfHook::Prerouting,
        -105,
    )));
    cmds.push(NfCmd::Add(chain(
        "forward",
        NfChainType::Filter,
        NfHook::Forward,
        -5,
    )));
    cmds.push(NfCmd::Add(chain(
        "input",
        NfChainType::Filter,
        NfHook::Input,
        -5,
    )));
    cmds.extend(p.rules().into_iter().map(NfCmd::Add));
    let macs = |l: &[Mac]| l.iter().map(|m| s(&m.to_string())).collect::<Vec<_>>();
    if !p.trusted.is_empty() {
        cmds.push(NfCmd::Add(elements(TRUSTED, macs(&p.trusted))));
    }
    if !p.blocked.is_empty() {
        cmds.push(NfCmd::Add(elements(BLOCKED, macs(&p.blocked))));
    }
    let (v4, v6): (Vec<Net>, Vec<Net>) = p.garden.iter().partition(|n| n.addr.is_ipv4());
    if !v4.is_empty() {
        cmds.push(NfCmd::Add(elements(
            GARDEN4,
            v4.into_iter().map(net_elem).collect(),
        )));
    }
    if !v6.is_empty() {
        cmds.push(NfCmd::Add(elements(
            GARDEN6,
            v6.into_iter().map(net_elem).collect(),
        )));
    }
    if !grants.is_empty() {
        cmds.push(NfCmd::Add(elements(
            AUTHORIZED,
            grants.iter().copied().map(grant_elem).collect(),
        )));
    }
    cmds.extend(add_addresses(addrs));
    wrap(cmds)
}

/// A joined guest's address whose traffic is counted, for `seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// The address.
    pub ip: IpAddr,
    /// Seconds left (the session's).
    pub seconds: u32,
}

fn addr_set(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { DOWN4 } else { DOWN6 }
}

fn counted_elem(c: Counted) -> Expression<'static> {
    Expression::Named(NamedExpression::Elem(nftables::expr::Elem {
        val: Box::new(s(&c.ip.to_string())),
        timeout: Some(c.seconds.max(1)),
        expires: None,
        comment: None,
        counter: Some(nftables::stmt::Counter::Anonymous(None)),
    }))
}

/// `add` commands for addresses, one per set that gets any.
fn add_addresses(addrs: &[Counted]) -> Vec<NfCmd<'static>> {
    [DOWN4, DOWN6]
        .into_iter()
        .filter_map(|set| {
            let elem: Vec<_> = addrs
                .iter()
                .filter(|c| addr_set(c.ip) == set)
                .map(|c| counted_elem(*c))
                .collect();
            (!elem.is_empty()).then(|| NfCmd::Add(elements(set, elem)))
        })
        .collect()
}

/// Removes addresses from the counting sets, whether or not they are there.
fn remove_addresses(ips: &[IpAddr]) -> Vec<NfCmd<'static>> {
    let mut cmds = Vec::new();
    for ip in ips {
        let set = addr_set(*ip);
        let plain = s(&ip.to_string());
        cmds.push(NfCmd::Add(elements(
            set,
            vec![counted_elem(Counted {
                ip: *ip,
                seconds: 1,
            })],
        )));
        cmds.push(NfCmd::Delete(elements(set, vec![plain])));
    }
    cmds
}

/// Starts counting more addresses of joined guests.
pub fn count_batch(addrs: &[Counted]) -> Nftables<'static> {
    wrap(add_addresses(addrs))
}

/// Adds one client. A client that may be in the set already (`replace`)
/// is deleted and added again in the same transaction, so it gets the new
/// timeout (`add` first so the delete never fails); that costs `nft` about
/// six times as long as the one `add` a new client needs, which is why it
/// is only done then.
/// Its addresses start being counted in the same transaction.
pub fn authorize_batch(g: Grant, ips: &[IpAddr], replace: bool) -> Nftables<'static> {
    let plain = s(&g.mac.to_string());
    let mut cmds = Vec::new();
    if replace {
        cmds.push(NfCmd::Add(elements(AUTHORIZED, vec![plain.clone()])));
        cmds.push(NfCmd::Delete(elements(AUTHORIZED, vec![plain])));
        cmds.extend(remove_addresses(ips));
    }
    cmds.push(NfCmd::Add(elements(AUTHORIZED, vec![grant_elem(g)])));
    let counted: Vec<Counted> = ips
        .iter()
        .map(|&ip| Counted {
            ip,
            seconds: g.seconds,
        })
        .collect();
    cmds.extend(add_addresses(&counted));
    wrap(cmds)
}

/// Deauthorizes one client and stops counting its addresses.
pub fn deauthorize_batch(mac: Mac, ips: &[IpAddr]) -> Nftables<'static> {
    let mut cmds = remove_batch(AUTHORIZED, mac).objects.into_owned();
    cmds.extend(remove_addresses(ips).into_iter().map(NfObject::CmdObject));
    Nftables {
        objects: Cow::Owned(cmds),
    }
}

/// Removes one client from a MAC set, whether or not it is there.
pub fn remove_batch(set_name: &str, mac: Mac) -> Nftables<'static> {
    let m = s(&mac.to_string());
    let mut add = m.clone();
    if set_name == AUTHORIZED {
        add = grant_elem(Grant { mac, seconds: 1 });
    }
    wrap(vec![
        NfCmd::Add(elements(set_name, vec![add])),
        NfCmd::Delete(elements(set_name, vec![m])),
    ])
}

/// Trusts (`trust`) or blocks a client in one transaction: out of the
/// other list, into this one; a blocked client also leaves the authorized
/// set and its addresses stop being counted.
pub fn list_batch(mac: Mac, trust: bool, ips: &[IpAddr]) -> Nftables<'static> {
    let (add, remove) = if trust {
        (TRUSTED, BLOCKED)
    } else {
        (BLOCKED, TRUSTED)
    };
    let mut cmds: Vec<NfObject<'static>> = remove_batch(remove, mac).objects.into_owned();
    if !trust {
        cmds.extend(deauthorize_batch(mac, ips).objects.into_owned());
    }
    cmds.extend(add_batch(add, mac).objects.into_owned());
    Nftables {
        objects: Cow::Owned(cmds),
    }
}

/// Adds one MAC to `trusted` or `blocked`.
pub fn add_batch(set_name: &str, mac: Mac) -> Nftables<'static> {
    wrap(vec![NfCmd::Add(elements(
        set_name,
        vec![s(&mac.to_string())],
    ))])
}

/// Deletes the table (fail-open at stop).
pub fn delete_batch() -> Nftables<'static> {
    wrap(vec![NfCmd::Add(table()), NfCmd::Delete(table())])
}

fn wrap(cmds: Vec<NfCmd<'static>>) -> Nftables<'static> {
    Nftables {
        objects: Cow::Owned(cmds.into_iter().map(NfObject::CmdObject).collect()),
    }
}

/// The batch as the JSON `nft -j -f -` reads, with the one thing the
/// crate's schema lacks patched in: the `counter` statement on the
/// counting sets, without which nft drops per-element counters.
pub fn to_json(batch: &Nftables<'_>) -> Result<String, serde_json::Error> {
    let mut v = serde_json::to_value(batch)?;
    if let Some(list) = v.get_mut("nftables").and_then(|l| l.as_array_mut()) {
        for obj in list {
            if let Some(set) = obj.pointer_mut("/add/set")
                && set
                    .get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| [AUTHORIZED, DOWN4, DOWN6].contains(&n))
                && let Some(map) = set.as_object_mut()
            {
                map.insert("stmt".into(), serde_json::json!([{"counter": null}]));
            }
        }
    }
    serde_json::to_string(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            interfaces: vec!["guest0".into()],
            captive_port: 8080,
            portal_ports: vec![8080, 8443],
            internet: Internet::AfterAccept,
            garden: vec![
                "192.0.2.10".parse().expect("net"),
                "2001:db8::/32".parse().expect("net"),
            ],
            trusted: vec!["02:00:00:00:00:01".parse().expect("mac")],
            blocked: vec![],
        }
    }

    #[test]
    fn nets_parse_with_clear_errors() {
        assert_eq!("198.51.100.0/24".parse::<Net>().expect("net").len, 24);
        assert_eq!("192.0.2.1".parse::<Net>().expect("net").len, 32);
        assert!("192.0.2.1/33".parse::<Net>().is_err());
        assert!("example.com".parse::<Net>().is_err());
    }

    #[test]
    fn full_batch_replaces_the_table_atomically_and_counts_authorized() {
        let json = to_json(&full_batch(&policy(), &[], &[])).expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid");
        let cmds = v["nftables"].as_array().expect("list");
        assert!(cmds[0]["add"]["table"].is_object());
        assert!(cmds[1]["delete"]["table"].is_object());
        assert!(cmds[2]["add"]["table"].is_object());
        let auth = cmds
            .iter()
            .find(|c| c["add"]["set"]["name"] == AUTHORIZED)
            .expect("authorized set");
        assert_eq!(
            auth["add"]["set"]["stmt"],
            serde_json::json!([{"counter": null}])
        );
        assert!(json.contains("\"redirect\":{\"port\":8080}"), "{json}");
        assert!(json.contains("tcp reset"));
        assert!(json.contains("02:00:00:00:00:01"));
        assert!(json.contains("\"prefix\":{\"addr\":\"2001:db8::\",\"len\":32}"));
    }

    #[test]
    fn without_internet_joined_guests_stay_captured() {
        let mut p = policy();
        p.internet = Internet::None;
        let json = to_json(&full_batch(&p, &[], &[])).expect("json");
        assert!(!json.contains(&format!("\"@{AUTHORIZED}\"")), "{json}");
        let mut p = policy();
        p.internet = Internet::AfterAccept;
        let json = to_json(&full_batch(&p, &[], &[])).expect("json");
        assert!(
            json.contains("\"op\":\"!=\""),
            "joined guests skip the redirect: {json}"
        );
    }

    #[test]
    fn authorizing_is_one_set_change_with_the_session_timeout() {
        let g = Grant {
            mac: "aa:bb:cc:dd:ee:ff".parse().expect("mac"),
            seconds: 1800,
        };
        let json = to_json(&authorize_batch(g, &[], false)).expect("json");
        assert!(json.contains("\"timeout\":1800"));
        assert!(!json.contains("\"rule\""));
        assert!(!json.contains("\"table\":{"));
        assert!(!json.contains("delete"), "a new client is one add: {json}");
        let json = to_json(&authorize_batch(g, &[], true)).expect("json");
        assert_eq!(json.matches("\"delete\"").count(), 1, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid");
        let last = v["nftables"]
            .as_array()
            .and_then(|l| l.last())
            .expect("cmds");
        assert_eq!(
            last["add"]["element"]["elem"][0]["elem"]["timeout"], 1800,
            "added last, with the new timeout: {json}"
        );
    }

    #[test]
    fn bytes_to_joined_guests_are_counted_by_address() {
        let json = to_json(&full_batch(&policy(), &[], &[])).expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid");
        let cmds = v["nftables"].as_array().expect("list");
        for name in [DOWN4, DOWN6] {
            let set = cmds
                .iter()
                .find(|c| c["add"]["set"]["name"] == name)
                .expect("counting set");
            assert_eq!(
                set["add"]["set"]["stmt"],
                serde_json::json!([{"counter": null}])
            );
        }
        assert!(
            json.contains("\"@down4\"") && json.contains("\"oifname\""),
            "{json}"
        );
        let g = Grant {
            mac: "aa:bb:cc:dd:ee:ff".parse().expect("mac"),
            seconds: 600,
        };
        let ips: Vec<IpAddr> = vec![
            "198.51.100.20".parse().expect("ip"),
            "2001:db8::20".parse().expect("ip"),
        ];
        let json = to_json(&authorize_batch(g, &ips, false)).expect("json");
        assert!(json.contains("\"name\":\"down4\"") && json.contains("\"name\":\"down6\""));
        assert!(json.contains("\"val\":\"198.51.100.20\""), "{json}");
        assert!(!json.contains("delete"), "{json}");
        let json = to_json(&deauthorize_batch(g.mac, &ips)).expect("json");
        assert_eq!(json.matches("\"delete\"").count(), 3, "{json}");
    }

    #[test]
    fn trusting_and_blocking_are_one_transaction_each() {
        let mac: Mac = "aa:bb:cc:dd:ee:ff".parse().expect("mac");
        let ips: Vec<IpAddr> = vec!["198.51.100.20".parse().expect("ip")];
        let v: serde_json::Value =
            serde_json::from_str(&to_json(&list_batch(mac, true, &ips)).expect("json"))
                .expect("valid");
        let cmds = v["nftables"].as_array().expect("list");
        assert_eq!(cmds.len(), 3, "{v}");
        assert_eq!(cmds[1]["delete"]["element"]["name"], BLOCKED);
        assert_eq!(cmds[2]["add"]["element"]["name"], TRUSTED);
        let json = to_json(&list_batch(mac, false, &ips)).expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid");
        let cmds = v["nftables"].as_array().expect("list");
        let deleted: Vec<&str> = cmds
            .iter()
            .filter_map(|c| c["delete"]["element"]["name"].as_str())
            .collect();
        assert_eq!(deleted, [TRUSTED, AUTHORIZED, DOWN4], "{json}");
        assert_eq!(
            cmds.last().expect("cmds")["add"]["element"]["name"],
            BLOCKED
        );
    }
}
