//! The portal's secret key and what is signed with it: device ids (so a
//! device cookie is one this server issued, never one a client made up or
//! a neighbour planted) and form tokens (bound to the device and, for
//! staff, to their login).
//!
//! The key lives in `DATA_DIR/portal.key` (32 random bytes, mode 0600,
//! written once and synced), so cookies and open forms survive a restart.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use blake2::{Blake2b256, Digest};

use crate::domain::Token;

/// File name of the key in the data directory.
pub const KEY_FILE: &str = "portal.key";

/// The secret key.
#[derive(Clone)]
pub struct PortalKey([u8; 32]);

impl std::fmt::Debug for PortalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalKey(…)")
    }
}

impl PortalKey {
    /// A key that lives as long as the process (tests, `AppState::new`).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut key) {
            // Without randomness no token is safe; refuse to run rather than guess.
            panic!("the system has no randomness: {e}");
        }
        Self(key)
    }

    /// The key in `dir`, made on first use.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "{} is damaged ({} bytes, not 32); delete it to make a new one \
                         (guests then get new device ids)",
                        path.display(),
                        bytes.len()
                    )
                })?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::random();
                let tmp = dir.join(format!("{KEY_FILE}.new"));
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&tmp)
                    .with_context(|| format!("creating {}", tmp.display()))?;
                f.write_all(&key.0)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
                    .with_context(|| format!("writing {}", path.display()))?;
                std::fs::File::open(dir)?.sync_all()?;
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn mac(&self, purpose: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Blake2b256::new();
        h.update(self.0);
        h.update((purpose.len() as u64).to_le_bytes());
        h.update(purpose);
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        h.finalize().into()
    }

    /// The device cookie's value for `device`: its id and a MAC.
    pub fn sign_device(&self, device: Token) -> String {
        let id = device.to_string();
        format!("{id}.{}", hex(&self.mac(b"device", &[id.as_bytes()])[..16]))
    }

    /// The device a cookie names, if this server issued it.
    pub fn verify_device(&self, cookie: &str) -> Option<Token> {
        let (id, mac) = cookie.split_once('.')?;
        let device = id.parse::<Token>().ok()?;
        let expected = hex(&self.mac(b"device", &[id.as_bytes()])[..16]);
        constant_time_eq(mac.as_bytes(), expected.as_bytes()).then_some(device)
    }

    /// The form token of a device, bound to the staff login cookie when
    /// there is one (a form rendered for one login is refused for another).
    pub fn form_token(&self, device: Token, login: Option<&str>) -> String {
        let id = device.to_string();
        let login = login.unwrap_or("");
        hex(&self.mac(b"csrf", &[id.as_bytes(), login.as_bytes()])[..16])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_cookie_is_only_what_the_server_signed() {
        let key = PortalKey::random();
        let device = Token::random().expect("random");
        let cookie = key.sign_device(device);
        assert_eq!(key.verify_device(&cookie), Some(device));
        // Made up, planted without the key, or signed by another server.
        assert_eq!(key.verify_device(&device.to_string()), None);
        let (id, mac) = cookie.split_once('.').expect("dot");
        let mut flipped = mac.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(key.verify_device(&format!("{id}.{flipped}")), None);
        let other = Token::random().expect("random");
        assert_eq!(key.verify_device(&format!("{other}.{mac}")), None);
        assert_eq!(PortalKey::random().verify_device(&cookie), None);
        assert_eq!(key.verify_device(""), None);
        assert_eq!(key.verify_device("."), None);
    }

    #[test]
    fn form_tokens_are_bound_to_device_and_login() {
        let key = PortalKey::random();
        let a = Token::random().expect("random");
        let b = Token::random().expect("random");
        assert_eq!(key.form_token(a, None), key.form_token(a, None));
        assert_ne!(key.form_token(a, None), key.form_token(b, None));
        assert_ne!(key.form_token(a, None), key.form_token(a, Some("login")));
        assert_ne!(key.form_token(a, Some("x")), key.form_token(a, Some("y")));
    }

    #[test]
    fn the_key_is_kept_across_starts() {
        let dir = tempfile::tempdir().expect("dir");
        let first = PortalKey::load_or_create(dir.path()).expect("made");
        let again = PortalKey::load_or_create(dir.path()).expect("read");
        assert_eq!(first.0, again.0);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.path().join(KEY_FILE), b"short").expect("damage");
        let e = PortalKey::load_or_create(dir.path()).expect_err("damaged");
        assert!(e.to_string().contains("damaged"), "{e}");
    }
}
