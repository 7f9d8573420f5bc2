//! Wi-Fi sessions, kept by the gateway: one record per client MAC with its
//! addresses, host name, authorization and traffic.

use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::Timestamp;
use crate::domain::service::WifiSession;

/// A client's session.
pub fn session(v: &impl View, mac: &str) -> Result<Option<WifiSession>, StoreError> {
    v.get(MAC_TO_WIFI_SESSION, mac)
}

/// Every client, most recently seen first.
pub fn sessions(v: &impl View) -> Result<Vec<WifiSession>, StoreError> {
    let mut all: Vec<WifiSession> = v.all(MAC_TO_WIFI_SESSION)?;
    all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.mac.cmp(&b.mac)));
    Ok(all)
}

fn fresh(mac: &str, now: Timestamp) -> WifiSession {
    WifiSession {
        mac: mac.to_owned(),
        ips: Vec::new(),
        hostname: None,
        connected_at: now,
        authorized_until: None,
        last_seen: now,
        disconnected_at: None,
        bytes_in: 0,
        bytes_out: 0,
    }
}

fn put(tx: &mut Tx<'_>, s: &WifiSession) -> Result<(), StoreError> {
    tx.put(MAC_TO_WIFI_SESSION, s.mac.as_str(), s)
}

/// Records that a client was seen at `ip` (with its DHCP host name, if
/// known); a session that had ended starts anew.
pub fn seen(
    tx: &mut Tx<'_>,
    mac: &str,
    ip: Option<&str>,
    hostname: Option<&str>,
) -> Result<WifiSession, StoreError> {
    let now = tx.now;
    let mut s = match session(&**tx, mac)? {
        Some(s) if s.disconnected_at.is_none() => s,
        _ => fresh(mac, now),
    };
    s.last_seen = now;
    if let Some(ip) = ip
        && !s.ips.iter().any(|i| i == ip)
    {
        s.ips.push(ip.to_owned());
        // A client keeps few addresses; drop the oldest beyond eight.
        if s.ips.len() > 8 {
            s.ips.remove(0);
        }
    }
    if let Some(h) = hostname.filter(|h| !h.is_empty()) {
        s.hostname = Some(h.chars().take(64).collect());
    }
    put(tx, &s)?;
    Ok(s)
}

/// Authorizes a client until `until`.
pub fn authorize(tx: &mut Tx<'_>, mac: &str, until: Timestamp) -> Result<WifiSession, StoreError> {
    let now = tx.now;
    let mut s = match session(&**tx, mac)? {
        Some(s) if s.disconnected_at.is_none() => s,
        _ => fresh(mac, now),
    };
    s.authorized_until = Some(until);
    s.last_seen = now;
    put(tx, &s)?;
    Ok(s)
}

/// Ends a client's authorization (and its session, when `end`).
pub fn deauthorize(
    tx: &mut Tx<'_>,
    mac: &str,
    end: bool,
) -> Result<Option<WifiSession>, StoreError> {
    let Some(mut s) = session(&**tx, mac)? else {
        return Ok(None);
    };
    s.authorized_until = None;
    if end {
        s.disconnected_at = Some(tx.now);
    }
    put(tx, &s)?;
    Ok(Some(s))
}

/// Adds traffic read from the firewall's counters.
pub fn add_traffic(
    tx: &mut Tx<'_>,
    mac: &str,
    bytes_in: u64,
    bytes_out: u64,
    active: bool,
) -> Result<(), StoreError> {
    if let Some(mut s) = session(&**tx, mac)? {
        s.bytes_in = s.bytes_in.saturating_add(bytes_in);
        s.bytes_out = s.bytes_out.saturating_add(bytes_out);
        if active {
            s.last_seen = tx.now;
        }
        put(tx, &s)?;
    }
    Ok(())
}
