//! DNS-01's record: an RFC 2136 dynamic update of one TXT record, signed
//! with a TSIG key (RFC 8945, HMAC-SHA256 from ring), sent over TCP to the
//! zone's primary server. Only what ACME needs: replace the TXT set at
//! `_acme-challenge.<name>` with one value, and delete it afterwards.
//!
//! The server's answer is judged by its response code; its own TSIG is
//! not verified (someone able to forge it could only make us believe an
//! update worked, and the CA's check then fails).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::Engine;
use ring::hmac;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TXT: u16 = 16;
const SOA: u16 = 6;
const TSIG: u16 = 250;
const IN: u16 = 1;
const ANY: u16 = 255;
const OPCODE_UPDATE: u16 = 5 << 11;
const ALGORITHM: &str = "hmac-sha256";
/// Seconds of clock difference the server may allow (RFC 8945 says 300).
const FUDGE: u16 = 300;
const TTL: u32 = 60;
const TIMEOUT: Duration = Duration::from_secs(15);

/// A TSIG key.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key's name, as the server knows it.
    pub name: String,
    secret: Vec<u8>,
}

impl Key {
    /// A key from its name and raw secret.
    pub fn new(name: &str, secret: Vec<u8>) -> Key {
        Key {
            name: name.to_owned(),
            secret,
        }
    }

    /// Reads the secret from `path`: the base64 text alone, or a BIND key
    /// stanza (`secret "…";`) as `tsig-keygen` writes it.
    pub fn read(name: &str, path: &Path) -> anyhow::Result<Key> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the TSIG secret {}", path.display()))?;
        let b64 = match text.find("secret") {
            Some(at) => text[at..].split('"').nth(1).unwrap_or_default(),
            None => text.trim(),
        };
        let secret = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .with_context(|| format!("{} holds no base64 TSIG secret", path.display()))?;
        anyhow::ensure!(
            !secret.is_empty(),
            "{} holds an empty secret",
            path.display()
        );
        Ok(Key::new(name, secret))
    }
}

/// One change to the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// Replace every TXT record at the name with this one value.
    SetTxt(&'a str),
    /// Remove every TXT record at the name.
    DeleteTxt,
}

/// Appends `name` in wire form (lowercase, uncompressed, root-terminated).
fn put_name(out: &mut Vec<u8>, name: &str) -> anyhow::Result<()> {
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..=63).contains(l));
        let len = len.with_context(|| format!("{name:?} is not a DNS name"))?;
        out.push(len);
        out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    out.push(0);
    Ok(())
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The signed update message for `change` at `name` in `zone`, with
/// message id `id`, signed at `now` (seconds since 1970).
pub fn update_message(
    id: u16,
    zone: &str,
    name: &str,
    change: Change<'_>,
    key: &Key,
    now: u64,
) -> anyhow::Result<Vec<u8>> {
    let mut m = Vec::with_capacity(256);
    put16(&mut m, id);
    put16(&mut m, OPCODE_UPDATE);
    let updates = match change {
        Change::SetTxt(_) => 2,
        Change::DeleteTxt => 1,
    };
    for count in [1, 0, updates, 0] {
        put16(&mut m, count);
    }
    // Zone section: the zone, SOA, IN.
    put_name(&mut m, zone)?;
    put16(&mut m, SOA);
    put16(&mut m, IN);
    // Update section: delete the TXT set (class ANY, no data) …
    put_name(&mut m, name)?;
    put16(&mut m, TXT);
    put16(&mut m, ANY);
    put32(&mut m, 0);
    put16(&mut m, 0);
    // … then add the one record.
    if let Change::SetTxt(value) = change {
        let text = u8::try_from(value.len()).context("a TXT string holds 255 bytes at most")?;
        put_name(&mut m, name)?;
        put16(&mut m, TXT);
        put16(&mut m, IN);
        put32(&mut m, TTL);
        put16(&mut m, u16::from(text) + 1);
        m.push(text);
        m.extend_from_slice(value.as_bytes());
    }
    sign(&mut m, id, key, now)?;
    Ok(m)
}

/// Appends the TSIG record (RFC 8945 §4.3) and counts it.
fn sign(m: &mut Vec<u8>, id: u16, key: &Key, now: u64) -> anyhow::Result<()> {
    let mut key_name = Vec::new();
    put_name(&mut key_name, &key.name)?;
    let mut algorithm = Vec::new();
    put_name(&mut algorithm, ALGORITHM)?;
    let time = &now.to_be_bytes()[2..];
    // The digest covers the message, then the TSIG variables.
    let mut vars = Vec::new();
    vars.extend_from_slice(&key_name);
    put16(&mut vars, ANY);
    put32(&mut vars, 0);
    vars.extend_from_slice(&algorithm);
    vars.extend_from_slice(time);
    put16(&mut vars, FUDGE);
    put16(&mut vars, 0); // error
    put16(&mut vars, 0); // other length
    let hkey = hmac::Key::new(hmac::HMAC_SHA256, &key.secret);
    let mut ctx = hmac::Context::with_key(&hkey);
    ctx.update(m);
    ctx.update(&vars);
    let mac = ctx.sign();
    let mac = mac.as_ref();
    let mut rdata = Vec::new();
    rdata.extend_from_slice(&algorithm);
    rdata.extend_from_slice(time);
    put16(&mut rdata, FUDGE);
    put16(&mut rdata, u16::try_from(mac.len()).context("MAC size")?);
    rdata.extend_from_slice(mac);
    put16(&mut rdata, id);
    put16(&mut rdata, 0);
    put16(&mut rdata, 0);
    m.extend_from_slice(&key_name);
    put16(m, TSIG);
    put16(m, ANY);
    put32(m, 0);
    put16(m, u16::try_from(rdata.len()).context("TSIG size")?);
    m.extend_from_slice(&rdata);
    // One additional record now: the TSIG.
    m[10..12].copy_from_slice(&1u16.to_be_bytes());
    Ok(())
}

/// What a response code means for an update, in words naming the fix.
fn rcode_text(rcode: u16) -> &'static str {
    match rcode {
        1 => "FORMERR: the server did not understand the update",
        2 => "SERVFAIL: the server failed to apply the update",
        5 => {
            "REFUSED: the server does not allow this key to update the zone (check its update-policy / allow-update)"
        }
        9 => {
            "NOTAUTH: the server refused the TSIG key (wrong key name or secret, or the clocks differ by more than 5 minutes), or is not authoritative for the zone"
        }
        10 => "NOTZONE: the name is not in the zone",
        _ => "the server refused the update",
    }
}

/// Sends `change` for `name` to `server` and waits for its answer.
pub async fn update(
    server: SocketAddr,
    zone: &str,
    name: &str,
    change: Change<'_>,
    key: &Key,
) -> anyhow::Result<()> {
    let mut id = [0u8; 2];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("random id: {e}"))?;
    let id = u16::from_be_bytes(id);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let message = update_message(id, zone, name, change, key, now)?;
    let exchange = async {
        let mut tcp = tokio::net::TcpStream::connect(server).await?;
        let len = u16::try_from(message.len()).unwrap_or(u16::MAX);
        tcp.write_all(&len.to_be_bytes()).await?;
        tcp.write_all(&message).await?;
        let len = tcp.read_u16().await?;
        let mut answer = vec![0u8; usize::from(len)];
        tcp.read_exact(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    let answer = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("DNS server {server} did not answer within {TIMEOUT:?}"))?
        .with_context(|| format!("sending the DNS update to {server}"))?;
    anyhow::ensure!(
        answer.len() >= 12 && answer[..2] == id.to_be_bytes(),
        "DNS server {server} answered something that is not the update's response"
    );
    let rcode = u16::from(answer[3] & 0x0f);
    anyhow::ensure!(
        rcode == 0,
        "DNS update of {name} at {server} failed: {} (rcode {rcode})",
        rcode_text(rcode)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::new("queueless.", b"0123456789abcdef0123456789abcdef".to_vec())
    }

    #[test]
    fn the_update_replaces_the_txt_set_and_is_signed_over_the_unsigned_message() {
        let m = update_message(
            0x1234,
            "Example.com.",
            "_acme-challenge.portal.example.com",
            Change::SetTxt("abc"),
            &key(),
            1_700_000_000,
        )
        .expect("encodes");
        // Header: id, UPDATE opcode, one zone, no prerequisite, two updates, one TSIG.
        assert_eq!(&m[..12], &[0x12, 0x34, 0x28, 0, 0, 1, 0, 0, 0, 2, 0, 1]);
        // The zone is written lowercase.
        assert_eq!(&m[12..25], b"\x07example\x03com\x00");
        // The MAC is the HMAC of the message as it was before the TSIG
        // record, followed by the TSIG variables.
        let unsigned_len = m.len() - (11 + 10 + 13 + 6 + 2 + 2 + 32 + 6);
        let mut unsigned = m[..unsigned_len].to_vec();
        unsigned[10..12].copy_from_slice(&[0, 0]);
        let mut vars = b"\x09queueless\x00\x00\xff\x00\x00\x00\x00\x0bhmac-sha256\x00".to_vec();
        vars.extend_from_slice(&1_700_000_000u64.to_be_bytes()[2..]);
        vars.extend_from_slice(&[0x01, 0x2c, 0, 0, 0, 0]);
        let hkey = hmac::Key::new(hmac::HMAC_SHA256, b"0123456789abcdef0123456789abcdef");
        let want = hmac::sign(&hkey, &[unsigned, vars].concat());
        assert!(
            m.windows(32).any(|w| w == want.as_ref()),
            "the MAC is in the TSIG record"
        );
        assert_eq!(&m[m.len() - 6..], &[0x12, 0x34, 0, 0, 0, 0]);
    }

    #[test]
    fn bad_names_and_long_values_are_refused() {
        let k = key();
        assert!(update_message(1, "example.com", "a..b", Change::DeleteTxt, &k, 0).is_err());
        let long = "x".repeat(256);
        assert!(
            update_message(
                1,
                "example.com",
                "a.example.com",
                Change::SetTxt(&long),
                &k,
                0
            )
            .is_err()
        );
        let del = update_message(1, "example.com", "a.example.com", Change::DeleteTxt, &k, 0)
            .expect("delete");
        assert_eq!(&del[8..10], &[0, 1], "one update: the deletion");
    }

    #[test]
    fn secrets_are_read_bare_or_from_a_bind_key_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let bare = dir.path().join("bare");
        std::fs::write(&bare, "MDEyMzQ1Njc4OWFiY2RlZg==\n").expect("write");
        assert_eq!(
            Key::read("k", &bare).expect("bare").secret,
            b"0123456789abcdef"
        );
        let bind = dir.path().join("bind");
        std::fs::write(
            &bind,
            "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"MDEyMzQ1Njc4OWFiY2RlZg==\";\n};\n",
        )
        .expect("write");
        assert_eq!(
            Key::read("k", &bind).expect("bind").secret,
            b"0123456789abcdef"
        );
        std::fs::write(&bare, "not base64!").expect("write");
        assert!(Key::read("k", &bare).is_err());
    }
}
