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

/// Reads our table back and checks its chains and sets.
pub fn verify(expected_rules: usize) -> Result<(), NftError> {
    let v = list(&["list", "table", "inet", TABLE])?;
    let objs = v["nftables"].as_array().cloned().unwrap_or_default();
    let names = |kind: &str| -> Vec<String> {
        objs.iter()
            .filter_map(|o| o[kind]["name"].as_str().map(str::to_owned))
            .collect()
    };
    let chains = names("chain");
    for c in CHAINS {
        if !chains.iter().any(|x| x == c) {
            return Err(NftError::Mismatch(format!("chain {c} is missing")));
        }
    }
    let sets = names("set");
    for s in [
        AUTHORIZED,
        policy::DOWN4,
        policy::DOWN6,
        policy::TRUSTED,
        policy::BLOCKED,
        policy::GARDEN4,
        policy::GARDEN6,
    ] {
        if !sets.iter().any(|x| x == s) {
            return Err(NftError::Mismatch(format!("set {s} is missing")));
        }
    }
    let rules = objs.iter().filter(|o| o.get("rule").is_some()).count();
    if rules != expected_rules {
        return Err(NftError::Mismatch(format!(
            "{rules} rules instead of {expected_rules}"
        )));
    }
    Ok(())
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
