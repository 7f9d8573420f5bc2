//! Running `nft` (JSON mode) through the `nftables` crate: apply a batch,
//! read our table back to verify it, read the counting sets' elements
//! with their remaining time and counters, and explain failures in words
//! that name the fix.

use std::net::IpAddr;
use std::time::Duration;

use nftables::helper::{self, NftablesError};
use nftables::schema::Nftables;
use serde_json::Value;

use super::mac::Mac;
use super::policy::{self, AUTHORIZED, CHAINS, TABLE};

/// What went wrong talking to nftables.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// No `nft` binary.
    #[error(
        "the `nft` program was not found: install nftables (Debian: apt install nftables; OpenWrt: opkg install nftables-json)"
    )]
    Missing,
    /// `nft` cannot speak JSON.
    #[error(
        "this `nft` has no JSON support: install the JSON build (OpenWrt: nftables-json instead of nftables-nojson)"
    )]
    NoJson,
    /// Not allowed to change the firewall.
    #[error("not allowed to change the firewall: run as root or with CAP_NET_ADMIN")]
    Permission,
    /// nft refused the batch.
    #[error("nft refused the change: {0}")]
    Refused(String),
    /// The table read back is not what was applied.
    #[error("the firewall table read back differs from what was applied: {0}")]
    Mismatch(String),
}

fn explain(e: NftablesError) -> NftError {
    match e {
        NftablesError::NftExecution { inner, .. }
            if inner.kind() == std::io::ErrorKind::NotFound =>
        {
            NftError::Missing
        }
        NftablesError::NftFailed { stderr, .. } => {
            let low = stderr.to_lowercase();
            if low.contains("json") && (low.contains("not") || low.contains("support")) {
                NftError::NoJson
            } else if low.contains("operation not permitted") || low.contains("permission denied") {
                NftError::Permission
            } else {
                NftError::Refused(stderr.trim().to_owned())
            }
        }
        other => NftError::Refused(other.to_string()),
    }
}

/// Applies a batch in one `nft` transaction (all or nothing).
pub fn apply(batch: &Nftables<'_>) -> Result<(), NftError> {
    let json = policy::to_json(batch).map_err(|e| NftError::Refused(e.to_string()))?;
    helper::apply_ruleset_raw(&json, helper::DEFAULT_NFT, helper::DEFAULT_ARGS)
        .map(|_| ())
        .map_err(explain)
}

fn list(args: &[&str]) -> Result<Value, NftError> {
    let out = helper::get_current_ruleset_raw(helper::DEFAULT_NFT, args).map_err(explain)?;
    serde_json::from_str(&out).map_err(|_| NftError::NoJson)
}

/// Checks that `nft` runs, speaks JSON and may read the ruleset.
pub fn check() -> Result<(), NftError> {
    list(&["list", "tables"]).map(|_| ())
}

/// One element of the authorized set as the kernel has it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Live {
    /// The client.
    pub mac: Mac,
    /// Time left.
    pub expires: Duration,
    /// Bytes sent by the client since the element was added.
    pub bytes: u64,
    /// Packets, likewise.
    pub packets: u64,
}

/// The counters, read in one go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// The authorized set: what each joined client sent.
    pub authorized: Vec<Live>,
    /// The address sets: bytes sent to each joined client's address.
    pub to_addresses: Vec<(IpAddr, u64)>,
}

/// Reads the authorized set and the address sets (one `nft` run).
pub fn traffic() -> Result<Traffic, NftError> {
    Ok(parse_traffic(&list(&["list", "table", "inet", TABLE])?))
}

/// [`traffic`] from the JSON of `nft -j list table`.
pub fn parse_traffic(v: &Value) -> Traffic {
    let mut out = Traffic::default();
    for o in v["nftables"].as_array().into_iter().flatten() {
        let set = &o["set"];
        let name = set["name"].as_str().unwrap_or("");
        for e in set["elem"].as_array().into_iter().flatten() {
            let e = &e["elem"];
            let val = e["val"].as_str().unwrap_or("");
            let bytes = e["counter"]["bytes"].as_u64().unwrap_or(0);
            if name == AUTHORIZED {
                if let Ok(mac) = val.parse() {
                    out.authorized.push(Live {
                        mac,
                        expires: Duration::from_secs(e["expires"].as_u64().unwrap_or(0)),
                        bytes,
                        packets: e["counter"]["packets"].as_u64().unwrap_or(0),
                    });
                }
            } else if (name == policy::DOWN4 || name == policy::DOWN6)
                && let Ok(ip) = val.parse()
            {
                out.to_addresses.push((ip, bytes));
            }
        }
    }
    out
}

/// Whether our table exists.
pub fn table_exists() -> bool {
    list(&["list", "table", "inet", TABLE]).is_ok()
}

/// One rule of our table as read back: its chain, its handle, and its
/// match and statements as nft prints them (handle and position left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedRule {
    /// The chain it is in.
    pub chain: String,
    /// The kernel's handle for it (new whenever the rule is added anew).
    pub handle: u64,
    /// Its expression list and comment as JSON text.
    pub body: String,
}

/// Our table as the kernel has it now: read in one `nft` run every sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The table's handle: a new one when the table was deleted and made again.
    pub handle: u64,
    /// Chain names.
    pub chains: Vec<String>,
    /// Set names.
    pub sets: Vec<String>,
    /// The rules in listing order.
    pub rules: Vec<ListedRule>,
    /// The plain elements of the trusted, blocked and garden sets, as JSON text.
    pub elements: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// The counters.
    pub traffic: Traffic,
}

/// Reads our table; `None` when it does not exist.
pub fn snapshot() -> Result<Option<Snapshot>, NftError> {
    match list(&["list", "table", "inet", TABLE]) {
        Ok(v) => Ok(Some(parse_snapshot(&v))),
        Err(NftError::Refused(e)) if e.contains("No such file or directory") => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`snapshot`] from the JSON of `nft -j list table`.
pub fn parse_snapshot(v: &Value) -> Snapshot {
    let mut out = Snapshot {
        traffic: parse_traffic(v),
        ..Snapshot::default()
    };
    for o in v["nftables"].as_array().into_iter().flatten() {
        if let Some(t) = o.get("table") {
            out.handle = t["handle"].as_u64().unwrap_or(0);
        } else if let Some(c) = o.get("chain") {
            out.chains
                .push(c["name"].as_str().unwrap_or_default().to_owned());
        } else if let Some(set) = o.get("set") {
            let name = set["name"].as_str().unwrap_or_default().to_owned();
            if [
                policy::TRUSTED,
                policy::BLOCKED,
                policy::GARDEN4,
                policy::GARDEN6,
            ]
            .contains(&name.as_str())
            {
                let elems = set["elem"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(Value::to_string)
                    .collect();
                out.elements.insert(name.clone(), elems);
            }
            out.sets.push(name);
        } else if let Some(r) = o.get("rule") {
            let body = serde_json::json!({"expr": r["expr"], "comment": r["comment"]});
            out.rules.push(ListedRule {
                chain: r["chain"].as_str().unwrap_or_default().to_owned(),
                handle: r["handle"].as_u64().unwrap_or(0),
                body: body.to_string(),
            });
        }
    }
    out
}

/// Checks a table read back right after it was built: every chain and set
/// there, and as many rules as were applied.
pub fn check_built(snap: &Snapshot, expected_rules: usize) -> Result<(), NftError> {
    for c in CHAINS {
        if !snap.chains.iter().any(|x| x == c) {
            return Err(NftError::Mismatch(format!("chain {c} is missing")));
        }
    }
    for s in policy::SETS {
        if !snap.sets.iter().any(|x| x == s) {
            return Err(NftError::Mismatch(format!("set {s} is missing")));
        }
    }
    if snap.rules.len() != expected_rules {
        return Err(NftError::Mismatch(format!(
            "{} rules instead of {expected_rules}",
            snap.rules.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_the_listed_table() {
        let v = serde_json::json!({"nftables": [
            {"metainfo": {"json_schema_version": 1}},
            {"set": {"name": "authorized", "elem": [{"elem": {
                "val": "02:00:00:0c:11:01", "timeout": 1800, "expires": 1700,
                "counter": {"packets": 9, "bytes": 900}}}]}},
            {"set": {"name": "down4", "elem": [{"elem": {
                "val": "198.51.100.20", "timeout": 1800, "expires": 1700,
                "counter": {"packets": 20, "bytes": 30000}}}]}},
            {"set": {"name": "down6", "elem": [{"elem": {
                "val": "2001:db8::20", "counter": {"packets": 1, "bytes": 80}}}]}},
            {"set": {"name": "trusted", "elem": ["02:00:00:0c:11:09"]}}
        ]});
        let t = parse_traffic(&v);
        assert_eq!(t.authorized.len(), 1);
        assert_eq!(t.authorized[0].bytes, 900);
        assert_eq!(t.authorized[0].expires, Duration::from_secs(1700));
        assert_eq!(
            t.to_addresses,
            vec![
                ("198.51.100.20".parse().expect("ip"), 30000),
                ("2001:db8::20".parse().expect("ip"), 80)
            ]
        );
    }
}
