//! `[acme]`: the settings for getting the portal's certificate from an
//! ACME CA (RFC 8555), kept apart from the rest of `config.rs` so that file
//! only names the table. The certificate is for `portal_host`; the
//! challenge is HTTP-01 (the plain listener answers on port 80) or DNS-01
//! (RFC 2136 updates signed with TSIG to the zone's primary server).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{Config, ConfigError};

/// Let's Encrypt's production directory: the default CA.
pub const DEFAULT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// The system's CA bundle (Debian and OpenWrt's `ca-bundle` alike).
pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub use crate::config::settings::AcmeLayer;

/// How the CA checks that we hold the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// `http://<name>/.well-known/acme-challenge/<token>` on port 80.
    Http01,
    /// A TXT record at `_acme-challenge.<name>`, set by dynamic update.
    Dns01(DnsUpdate),
}

/// Where and how DNS-01 records are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsUpdate {
    /// The zone's primary server.
    pub server: SocketAddr,
    /// The zone (lowercase, no trailing dot).
    pub zone: String,
    /// The TSIG key's name.
    pub key_name: String,
    /// The file with the key's secret.
    pub secret_file: PathBuf,
    /// Seconds to wait after the update.
    pub wait_seconds: u32,
}

/// The merged `[acme]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The name the certificate is for (`portal_host`).
    pub name: String,
    /// The CA's directory URL.
    pub directory: String,
    /// `mailto:` contact, if any.
    pub contact: Option<String>,
    /// Roots for the CA's HTTPS.
    pub ca_bundle: PathBuf,
    /// The challenge.
    pub challenge: Challenge,
}

fn invalid(text: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(text.into())
}

/// Checks the merged table against the rest of the settings (`c` has its
/// `portal_host`, `https` and `tls` settled).
pub fn settle(layer: Option<AcmeLayer>, c: &Config) -> Result<Option<AcmeSettings>, ConfigError> {
    let Some(l) = layer else { return Ok(None) };
    if cfg!(not(feature = "acme")) {
        return Err(invalid(
            "[acme]: this queueless was built without ACME (the `acme` feature); use tls_cert/tls_key",
        ));
    }
    let Some(kind) = l.challenge.as_deref() else {
        return Err(invalid(
            "[acme] needs challenge = \"http-01\" or \"dns-01\"",
        ));
    };
    if c.https.is_none() {
        return Err(invalid(
            "[acme] needs https (like https = \"0.0.0.0:443\"): the certificate is for the HTTPS listener",
        ));
    }
    if c.tls.is_some() {
        return Err(invalid(
            "tls_cert/tls_key and [acme] both name a certificate: keep one",
        ));
    }
    let name = c.portal_host.clone().unwrap_or_default();
    let is_address = name.starts_with('[') || name.parse::<std::net::Ipv4Addr>().is_ok();
    if name.is_empty() || is_address || !name.contains('.') {
        return Err(invalid(format!(
            "[acme] needs portal_host to be a DNS name the CA can reach (like portal.example.com), not {name:?}"
        )));
    }
    let directory = l
        .directory
        .clone()
        .unwrap_or_else(|| DEFAULT_DIRECTORY.to_owned());
    if !directory.starts_with("https://") {
        return Err(invalid(format!(
            "[acme] directory {directory:?} must be an https:// URL"
        )));
    }
    let contact = match l.contact.clone() {
        Some(m) if m.contains('@') && !m.contains(char::is_whitespace) => {
            Some(format!("mailto:{}", m.trim_start_matches("mailto:")))
        }
        Some(m) => {
            return Err(invalid(format!(
                "[acme] contact {m:?} must be an e-mail address"
            )));
        }
        None => None,
    };
    let challenge = match kind {
        "http-01" => Challenge::Http01,
        "dns-01" => Challenge::Dns01(dns_update(&l, &name)?),
        other => {
            return Err(invalid(format!(
                "[acme] challenge {other:?}: use \"http-01\" or \"dns-01\""
            )));
        }
    };
    Ok(Some(AcmeSettings {
        name,
        directory,
        contact,
        ca_bundle: l
            .ca_bundle
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CA_BUNDLE)),
        challenge,
    }))
}

fn dns_update(l: &AcmeLayer, name: &str) -> Result<DnsUpdate, ConfigError> {
    let missing = |key: &str| invalid(format!("[acme] challenge \"dns-01\" needs {key}"));
    let zone = l
        .dns_zone
        .as_deref()
        .ok_or_else(|| missing("dns_zone"))?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if name != zone && !name.ends_with(&format!(".{zone}")) {
        return Err(invalid(format!(
            "[acme] portal_host {name:?} is not in dns_zone {zone:?}"
        )));
    }
    let key_name = l
        .tsig_key_name
        .clone()
        .ok_or_else(|| missing("tsig_key_name"))?;
    if key_name.is_empty() || key_name.split('.').any(|p| p.len() > 63) {
        return Err(invalid(format!(
            "[acme] tsig_key_name {key_name:?} is not a DNS name"
        )));
    }
    Ok(DnsUpdate {
        server: l.dns_server.ok_or_else(|| missing("dns_server"))?,
        zone,
        key_name,
        secret_file: l
            .tsig_secret_file
            .clone()
            .ok_or_else(|| missing("tsig_secret_file"))?,
        wait_seconds: l.dns_wait_seconds.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Layer, defaults, merge};

    fn settle(text: &str) -> Result<Option<super::AcmeSettings>, String> {
        let l: Layer = toml::from_str(text).map_err(|e| e.to_string())?;
        merge(defaults(), &[l])
            .map(|c| c.acme)
            .map_err(|e| e.to_string())
    }

    const BASE: &str = "https = \"0.0.0.0:443\"\nportal_host = \"Portal.Example.com\"\n";

    #[test]
    fn http_01_takes_the_portal_host_and_defaults() {
        let a = settle(&format!(
            "{BASE}[acme]\nchallenge = \"http-01\"\ncontact = \"ops@example.com\"\n"
        ))
        .expect("valid")
        .expect("on");
        assert_eq!(a.name, "portal.example.com");
        assert_eq!(a.directory, super::DEFAULT_DIRECTORY);
        assert_eq!(a.contact.as_deref(), Some("mailto:ops@example.com"));
        assert_eq!(a.challenge, super::Challenge::Http01);
        assert_eq!(settle(BASE).expect("valid"), None, "off without [acme]");
    }

    #[test]
    fn dns_01_needs_its_server_key_and_a_zone_holding_the_name() {
        let dns = "[acme]\nchallenge = \"dns-01\"\ndns_server = \"192.0.2.53:53\"\n\
                   dns_zone = \"example.com.\"\ntsig_key_name = \"queueless\"\n\
                   tsig_secret_file = \"/etc/queueless/tsig.key\"\n";
        let a = settle(&format!("{BASE}{dns}")).expect("valid").expect("on");
        let super::Challenge::Dns01(d) = a.challenge else {
            panic!("dns-01")
        };
        assert_eq!(d.zone, "example.com");
        let err = settle(&format!(
            "{BASE}{}",
            dns.replace("example.com.", "other.org")
        ))
        .expect_err("name outside the zone");
        assert!(err.contains("dns_zone"), "{err}");
        let err = settle(&format!(
            "{BASE}{}",
            dns.replace("dns_server = \"192.0.2.53:53\"\n", "")
        ))
        .expect_err("no server");
        assert!(err.contains("dns_server"), "{err}");
    }

    #[test]
    fn wrong_combinations_are_refused_with_the_fix() {
        for (text, words) in [
            (
                "portal_host = \"p.example.com\"\n[acme]\nchallenge = \"http-01\"\n",
                "https",
            ),
            (
                "https = \"0.0.0.0:443\"\n[acme]\nchallenge = \"http-01\"\n",
                "portal_host",
            ),
            (
                "https = \"0.0.0.0:443\"\nportal_host = \"192.0.2.1\"\n[acme]\nchallenge = \"http-01\"\n",
                "DNS name",
            ),
            (
                &format!("{BASE}[acme]\ndirectory = \"https://ca.example/dir\"\n"),
                "challenge",
            ),
            (
                &format!("{BASE}[acme]\nchallenge = \"tls-alpn-01\"\n"),
                "http-01",
            ),
            (
                &format!(
                    "{BASE}[acme]\nchallenge = \"http-01\"\ndirectory = \"http://ca.example/\"\n"
                ),
                "https://",
            ),
            (
                &format!(
                    "{BASE}tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n[acme]\nchallenge = \"http-01\"\n"
                ),
                "keep one",
            ),
        ] {
            let err = settle(text).expect_err(text);
            assert!(err.contains(words), "{text}: {err}");
        }
    }
}
