//! Wi-Fi sessions, kept by the gateway: one record per client MAC with its
//! addresses, host name, authorization and traffic; and the migration of
//! schema 1's records (MAC and addresses as text) to typed ones.

use std::net::IpAddr;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::mac::Mac;
use crate::domain::service::WifiSession;
use crate::domain::{GuestId, Timestamp};

/// A client's session.
pub fn session(v: &impl View, mac: Mac) -> Result<Option<WifiSession>, StoreError> {
    v.get(MAC_TO_WIFI_SESSION, mac.to_string().as_str())
}

/// Every client, most recently seen first.
pub fn sessions(v: &impl View) -> Result<Vec<WifiSession>, StoreError> {
    let mut all: Vec<WifiSession> = v.all(MAC_TO_WIFI_SESSION)?;
    all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.mac.cmp(&b.mac)));
    Ok(all)
}

fn fresh(mac: Mac, now: Timestamp) -> WifiSession {
    WifiSession {
        mac,
        ips: Vec::new(),
        devices: Vec::new(),
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
    tx.put(MAC_TO_WIFI_SESSION, s.mac.to_string().as_str(), s)
}

/// Records that a client was seen at `ip` (with its DHCP host name, if
/// known); a session that had ended starts anew.
pub fn seen(
    tx: &mut Tx<'_>,
    mac: Mac,
    ip: Option<IpAddr>,
    hostname: Option<&str>,
) -> Result<WifiSession, StoreError> {
    let now = tx.now;
    let mut s = match session(&**tx, mac)? {
        Some(s) if s.disconnected_at.is_none() => s,
        _ => fresh(mac, now),
    };
    s.last_seen = now;
    if let Some(ip) = ip
        && !s.ips.contains(&ip)
    {
        s.ips.push(ip);
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

/// Records that guest device `guest` joined or ordered from client `mac`
/// (most recent last, the last four kept); a session that had ended starts
/// anew. Writes nothing when it is already the most recent.
pub fn saw_device(tx: &mut Tx<'_>, mac: Mac, guest: GuestId) -> Result<(), StoreError> {
    let now = tx.now;
    let mut s = match session(&**tx, mac)? {
        Some(s) if s.disconnected_at.is_none() => s,
        _ => fresh(mac, now),
    };
    if s.devices.last() == Some(&guest) {
        return Ok(());
    }
    s.devices.retain(|d| *d != guest);
    s.devices.push(guest);
    if s.devices.len() > 4 {
        s.devices.remove(0);
    }
    put(tx, &s)
}

/// Authorizes a client until `until`.
pub fn authorize(tx: &mut Tx<'_>, mac: Mac, until: Timestamp) -> Result<WifiSession, StoreError> {
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
    mac: Mac,
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
    mac: Mac,
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

/// A session as schema 1 stored it: MAC and addresses as text.
#[derive(Serialize, Deserialize)]
struct SessionV1 {
    mac: String,
    ips: Vec<String>,
    hostname: Option<String>,
    connected_at: Timestamp,
    authorized_until: Option<Timestamp>,
    last_seen: Timestamp,
    disconnected_at: Option<Timestamp>,
    bytes_in: u64,
    bytes_out: u64,
}

/// Schema 1 → 2: Wi-Fi sessions keep a [`Mac`] and [`IpAddr`]s (and the
/// guest devices seen from them, none yet). A record
/// whose MAC does not parse is dropped (the gateway could never match it),
/// as are addresses that do not parse; the key becomes the MAC's one form.
pub fn migrate_typed_sessions(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut table = txn.open_table(MAC_TO_WIFI_SESSION)?;
    let mut old = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        old.push((k.value().to_owned(), decode::<SessionV1>(v.value())?));
    }
    let (mut kept, mut dropped) = (0usize, 0usize);
    for (key, s) in old {
        table.remove(key.as_str())?;
        let Ok(mac) = s.mac.parse::<Mac>() else {
            dropped += 1;
            continue;
        };
        let new = WifiSession {
            mac,
            ips: s.ips.iter().filter_map(|i| i.parse().ok()).collect(),
            devices: Vec::new(),
            hostname: s.hostname,
            connected_at: s.connected_at,
            authorized_until: s.authorized_until,
            last_seen: s.last_seen,
            disconnected_at: s.disconnected_at,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
        };
        table.insert(mac.to_string().as_str(), encode(&new)?.as_slice())?;
        kept += 1;
    }
    tracing::info!(kept, dropped, "Wi-Fi sessions now typed (MAC, addresses)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreSettings, schema_version};

    /// tests/fixtures/wifi-sessions-v1.redb was written by the released
    /// store of schema 1 (main at 50d43bd, before this migration), through
    /// its `seen`, `authorize`, `add_traffic` and `deauthorize` with text
    /// MACs and addresses:
    /// 02:00:00:0c:11:01 seen at 198.51.100.20 and 2001:db8:1::20 as
    /// "pixel-7", authorized until 2100, 12,345 bytes in, 67,890 out;
    /// 02:00:00:0c:11:02 seen at 198.51.100.21 and at the text
    /// "not-an-address", session ended.
    #[tokio::test]
    async fn schema_1_sessions_become_typed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("queueless.redb");
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/wifi-sessions-v1.redb");
        std::fs::copy(&fixture, &path).expect("fixture copied");
        let store = Store::open(&path, StoreSettings::default()).expect("opens and migrates");
        assert_eq!(
            schema_version(&store).expect("version"),
            super::super::SCHEMA_VERSION
        );
        let all = store.read(sessions).await.expect("read");
        assert_eq!(all.len(), 2);
        let a: Mac = "02:00:00:0c:11:01".parse().expect("mac");
        let s = store
            .read(move |r| session(r, a))
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(
            s.ips,
            vec![
                "198.51.100.20".parse::<IpAddr>().expect("ip"),
                "2001:db8:1::20".parse::<IpAddr>().expect("ip")
            ]
        );
        assert_eq!(s.hostname.as_deref(), Some("pixel-7"));
        assert_eq!(s.authorized_until, Some(Timestamp(4_102_444_800_000)));
        assert_eq!((s.bytes_in, s.bytes_out), (12_345, 67_890));
        let b: Mac = "02:00:00:0c:11:02".parse().expect("mac");
        let s = store
            .read(move |r| session(r, b))
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(
            s.ips,
            vec!["198.51.100.21".parse::<IpAddr>().expect("ip")],
            "the address that does not parse is dropped"
        );
        assert!(s.disconnected_at.is_some());
        assert!(store.close(std::time::Duration::from_secs(10)).await);

        // Opened again: already version 2, nothing to migrate.
        let store = Store::open(&path, StoreSettings::default()).expect("opens again");
        assert_eq!(store.read(sessions).await.expect("read").len(), 2);
        assert!(store.close(std::time::Duration::from_secs(10)).await);
    }
}
