//! Settings: defaults, then the TOML file, then `QUEUELESS_*` environment
//! variables, then command-line flags, merged by one pure function.
//! Unknown keys in the file are errors, so a typo never goes unnoticed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::gateway::GatewaySettings;
use crate::gateway::mac::Mac;
use crate::gateway::policy::{Internet, Net};

/// One layer of settings; every field optional. The file, the environment
/// and the flags each give one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Where the database and certificates live.
    pub data_dir: Option<PathBuf>,
    /// Plain HTTP listener (captive redirect, API during development).
    pub http: Option<SocketAddr>,
    /// HTTPS listener.
    pub https: Option<SocketAddr>,
    /// The venue's name, shown on the portal.
    pub venue_name: Option<String>,
    /// The venue's currency, an ISO 4217 code ("EUR", "JPY", "KWD").
    pub currency: Option<String>,
    /// Venue-local time is UTC plus this many minutes.
    pub utc_offset_minutes: Option<i32>,
    /// Approve newly registered shops without the operator.
    pub auto_approve_shops: Option<bool>,
    /// Cancel orders no shop accepted within this many seconds (0: never).
    pub auto_cancel_seconds: Option<u32>,
    /// Batch concurrent writes into one commit.
    pub group_commit: Option<bool>,
    /// Most memory the database may keep as page cache, in MiB.
    pub database_cache_mib: Option<u32>,
    /// Threads running requests (the async runtime's workers).
    pub worker_threads: Option<u32>,
    /// Keep finished orders' details this many days, then fold them into
    /// per-day per-item totals (0: keep forever).
    pub order_retention_days: Option<u32>,
    /// Keep ended Wi-Fi sessions this many days (0: forever).
    pub wifi_session_days: Option<u32>,
    /// Remove a guest's notifications this many hours after the order finished (0: never).
    pub notification_hours: Option<u32>,
    /// Warn when the data directory's filesystem has less than this many MiB free.
    pub space_warning_mib: Option<u32>,
    /// Refuse new orders when it has less than this many MiB free (0: never).
    pub space_floor_mib: Option<u32>,
    /// How long a staff login lasts.
    pub login_hours: Option<u32>,
    /// Login and registration attempts per minute from one address.
    pub login_attempts_per_minute: Option<u32>,
    /// Mark cookies `Secure` (default: when HTTPS is on).
    pub secure_cookies: Option<bool>,
    /// Seed a demo venue on first start.
    pub demo: Option<bool>,
    /// TLS certificate chain (PEM); without it a self-signed one is made.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// The host name or address guests reach the portal at.
    pub portal_host: Option<String>,
    /// Most open live-update streams per client address.
    pub max_streams_per_client: Option<u32>,
    /// Let staff log in from the guest network.
    pub staff_from_guest_network: Option<bool>,
    /// Ready numbers leave the pickup board after this many minutes (0:
    /// only when collected).
    pub board_ready_minutes: Option<u32>,
    /// The captive gateway (`[gateway]`).
    pub gateway: Option<GatewayLayer>,
}

/// `[gateway]`: capture guest interfaces (changes the host's firewall).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GatewayLayer {
    /// Guest interfaces; the gateway is on when there is at least one.
    pub guest_interfaces: Option<Vec<String>>,
    /// Session length after joining, in minutes.
    pub session_minutes: Option<u32>,
    /// The same in seconds (wins over minutes; for tests).
    pub session_seconds: Option<u32>,
    /// Let a joined client go after this many minutes without traffic (0: never).
    pub idle_minutes: Option<u32>,
    /// The same in seconds (wins over minutes; for tests).
    pub idle_seconds: Option<u32>,
    /// `after_accept` or `none`.
    pub internet: Option<Internet>,
    /// Addresses or networks reachable before joining.
    pub walled_garden: Option<Vec<String>>,
    /// MACs always let through.
    pub trusted_macs: Option<Vec<String>>,
    /// MACs never let through.
    pub blocked_macs: Option<Vec<String>>,
    /// Remove the firewall table when queueless stops (guests pass freely).
    pub fail_open: Option<bool>,
}

/// The merged settings the daemon runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the database and certificates live.
    pub data_dir: PathBuf,
    /// Plain HTTP listener.
    pub http: SocketAddr,
    /// HTTPS listener, if any.
    pub https: Option<SocketAddr>,
    /// The venue's name.
    pub venue_name: String,
    /// The venue's currency: every price is in its minor units.
    pub currency: crate::domain::currency::Currency,
    /// Venue-local time is UTC plus this many minutes.
    pub utc_offset_minutes: i32,
    /// Approve new shops without the operator.
    pub auto_approve_shops: bool,
    /// Auto-cancel after this many seconds (0: never).
    pub auto_cancel_seconds: u32,
    /// Group commit on.
    pub group_commit: bool,
    /// The database's page cache limit, MiB.
    pub database_cache_mib: u32,
    /// The async runtime's worker threads (each holds a stack and a
    /// per-thread allocator arena; a router's one or two cores need no more).
    pub worker_threads: u32,
    /// Days finished orders keep their details (0: forever).
    pub order_retention_days: u32,
    /// Days ended Wi-Fi sessions are kept (0: forever).
    pub wifi_session_days: u32,
    /// Hours notifications outlive their finished order (0: forever).
    pub notification_hours: u32,
    /// Free MiB below which the daemon warns.
    pub space_warning_mib: u32,
    /// Free MiB below which new orders are refused (0: never).
    pub space_floor_mib: u32,
    /// Staff login length.
    pub login_hours: u32,
    /// Login attempts per minute per address.
    pub login_attempts_per_minute: u32,
    /// Cookies carry `Secure`.
    pub secure_cookies: bool,
    /// Seed the demo venue.
    pub demo: bool,
    /// Configured certificate and key, if any.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Host in portal links.
    pub portal_host: Option<String>,
    /// Live streams per client address.
    pub max_streams_per_client: u32,
    /// Staff may log in from the guest network.
    pub staff_from_guest_network: bool,
    /// Minutes a ready number stays on the board (0: until collected).
    pub board_ready_minutes: u32,
    /// The captive gateway, when guest interfaces are configured.
    pub gateway: Option<GatewaySettings>,
}

impl Config {
    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("queueless.redb")
    }

    /// The control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.data_dir.join("control.sock")
    }
}

/// The embedded default: portal only, on loopback, data in `./queueless-data`.
pub fn defaults() -> Config {
    Config {
        data_dir: PathBuf::from("queueless-data"),
        http: SocketAddr::from(([127, 0, 0, 1], 8080)),
        https: None,
        venue_name: "queueless venue".into(),
        currency: crate::domain::currency::Currency::default(),
        utc_offset_minutes: 0,
        auto_approve_shops: false,
        auto_cancel_seconds: 900,
        group_commit: true,
        database_cache_mib: 16,
        worker_threads: 2,
        order_retention_days: 5,
        wifi_session_days: 2,
        notification_hours: 24,
        space_warning_mib: 8,
        space_floor_mib: 2,
        login_hours: 12,
        login_attempts_per_minute: 10,
        secure_cookies: false,
        demo: false,
        tls: None,
        portal_host: None,
        max_streams_per_client: 16,
        staff_from_guest_network: false,
        board_ready_minutes: 10,
        gateway: None,
    }
}

/// What is wrong with the settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {name}={value:?}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What is expected.
        message: String,
    },
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Reads a config file layer.
pub fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Reads the `QUEUELESS_*` environment layer from `vars`.
pub fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Result<Layer, ConfigError> {
    fn parse<T: std::str::FromStr>(name: &str, value: &str, what: &str) -> Result<T, ConfigError> {
        value.parse().map_err(|_| ConfigError::Env {
            name: name.into(),
            value: value.into(),
            message: format!("expected {what}"),
        })
    }
    let mut l = Layer::default();
    for (name, value) in vars {
        let v = value.as_str();
        match name.as_str() {
            "QUEUELESS_DATA_DIR" => l.data_dir = Some(PathBuf::from(v)),
            "QUEUELESS_HTTP" => l.http = Some(parse(&name, v, "an address like 0.0.0.0:80")?),
            "QUEUELESS_HTTPS" => l.https = Some(parse(&name, v, "an address like 0.0.0.0:443")?),
            "QUEUELESS_VENUE_NAME" => l.venue_name = Some(value.clone()),
            "QUEUELESS_CURRENCY" => l.currency = Some(value.clone()),
            "QUEUELESS_UTC_OFFSET_MINUTES" => {
                l.utc_offset_minutes = Some(parse(&name, v, "minutes, like 330 or -300")?)
            }
            "QUEUELESS_AUTO_APPROVE_SHOPS" => {
                l.auto_approve_shops = Some(parse(&name, v, "true or false")?)
            }
            "QUEUELESS_WORKER_THREADS" => {
                l.worker_threads = Some(parse(&name, v, "a number of threads")?)
            }
            "QUEUELESS_AUTO_CANCEL_SECONDS" => {
                l.auto_cancel_seconds = Some(parse(&name, v, "a number of seconds")?)
            }
            "QUEUELESS_ORDER_RETENTION_DAYS" => {
                l.order_retention_days = Some(parse(&name, v, "a number of days")?)
            }
            "QUEUELESS_SPACE_WARNING_MIB" => {
                l.space_warning_mib = Some(parse(&name, v, "a number of MiB")?)
            }
            "QUEUELESS_SPACE_FLOOR_MIB" => {
                l.space_floor_mib = Some(parse(&name, v, "a number of MiB")?)
            }
            "QUEUELESS_BOARD_READY_MINUTES" => {
                l.board_ready_minutes = Some(parse(&name, v, "a number of minutes")?)
            }
            "QUEUELESS_DEMO" => l.demo = Some(parse(&name, v, "true or false")?),
            "QUEUELESS_TLS_CERT" => l.tls_cert = Some(PathBuf::from(v)),
            "QUEUELESS_TLS_KEY" => l.tls_key = Some(PathBuf::from(v)),
            "QUEUELESS_PORTAL_HOST" => l.portal_host = Some(value.clone()),
            _ => {}
        }
    }
    Ok(l)
}

/// Merges layers over the defaults: later layers win.
pub fn merge(defaults: Config, layers: &[Layer]) -> Result<Config, ConfigError> {
    let mut c = defaults;
    let mut secure: Option<bool> = None;
    let mut gw = GatewayLayer::default();
    let (mut cert, mut key) = (None, None);
    for l in layers {
        let l = l.clone();
        cert = l.tls_cert.or(cert);
        key = l.tls_key.or(key);
        if let Some(v) = l.portal_host {
            c.portal_host = Some(v);
        }
        if let Some(v) = l.max_streams_per_client {
            c.max_streams_per_client = v;
        }
        if let Some(v) = l.staff_from_guest_network {
            c.staff_from_guest_network = v;
        }
        if let Some(v) = l.board_ready_minutes {
            c.board_ready_minutes = v;
        }
        if let Some(g) = l.gateway {
            gw = merge_gateway(gw, g);
        }
        if let Some(v) = l.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = l.http {
            c.http = v;
        }
        if let Some(v) = l.https {
            c.https = Some(v);
        }
        if let Some(v) = l.venue_name {
            c.venue_name = v;
        }
        if let Some(v) = l.currency {
            c.currency = v
                .parse()
                .map_err(|e: crate::domain::currency::UnknownCurrency| {
                    ConfigError::Invalid(e.to_string())
                })?;
        }
        if let Some(v) = l.utc_offset_minutes {
            c.utc_offset_minutes = v;
        }
        if let Some(v) = l.auto_approve_shops {
            c.auto_approve_shops = v;
        }
        if let Some(v) = l.auto_cancel_seconds {
            c.auto_cancel_seconds = v;
        }
        if let Some(v) = l.group_commit {
            c.group_commit = v;
        }
        if let Some(v) = l.database_cache_mib {
            c.database_cache_mib = v;
        }
        if let Some(v) = l.worker_threads {
            c.worker_threads = v;
        }
        if let Some(v) = l.order_retention_days {
            c.order_retention_days = v;
        }
        if let Some(v) = l.wifi_session_days {
            c.wifi_session_days = v;
        }
        if let Some(v) = l.notification_hours {
            c.notification_hours = v;
        }
        if let Some(v) = l.space_warning_mib {
            c.space_warning_mib = v;
        }
        if let Some(v) = l.space_floor_mib {
            c.space_floor_mib = v;
        }
        if let Some(v) = l.login_hours {
            c.login_hours = v;
        }
        if let Some(v) = l.login_attempts_per_minute {
            c.login_attempts_per_minute = v;
        }
        if let Some(v) = l.secure_cookies {
            secure = Some(v);
        }
        if let Some(v) = l.demo {
            c.demo = v;
        }
    }
    c.secure_cookies = secure.unwrap_or(c.https.is_some());
    c.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Invalid(
                "tls_cert and tls_key go together: give both, or neither for a self-signed certificate".into(),
            ));
        }
    };
    if c.tls.is_some() && c.https.is_none() {
        return Err(ConfigError::Invalid(
            "tls_cert is set but https is not: add https = \"0.0.0.0:443\"".into(),
        ));
    }
    c.portal_host = c.portal_host.as_deref().map(url_host).transpose()?;
    if c.max_streams_per_client == 0 {
        return Err(ConfigError::Invalid(
            "max_streams_per_client must be at least 1".into(),
        ));
    }
    c.gateway = gateway_settings(gw)?;
    if !(-14 * 60..=14 * 60).contains(&c.utc_offset_minutes) {
        return Err(ConfigError::Invalid(
            "utc_offset_minutes must be between -840 and 840".into(),
        ));
    }
    if !(1..=64).contains(&c.worker_threads) {
        return Err(ConfigError::Invalid(
            "worker_threads must be 1 to 64".into(),
        ));
    }
    if c.database_cache_mib == 0 {
        return Err(ConfigError::Invalid(
            "database_cache_mib must be at least 1".into(),
        ));
    }
    if c.space_floor_mib > c.space_warning_mib {
        return Err(ConfigError::Invalid(
            "space_floor_mib must not be above space_warning_mib (the warning comes first)".into(),
        ));
    }
    if c.login_hours == 0 || c.login_attempts_per_minute == 0 {
        return Err(ConfigError::Invalid(
            "login_hours and login_attempts_per_minute must be at least 1".into(),
        ));
    }
    if c.venue_name.trim().is_empty() {
        return Err(ConfigError::Invalid("venue_name must not be empty".into()));
    }
    Ok(c)
}

/// `portal_host` as it goes into a URL: a DNS name, an IPv4 address, or an
/// IPv6 address in brackets (added when missing). No port: the port is the
/// `https` listener's.
fn url_host(h: &str) -> Result<String, ConfigError> {
    let bad = || {
        ConfigError::Invalid(format!(
            "portal_host {h:?} must be a host name or an address, without a port \
             (like portal.example, 192.168.2.1 or [fd00::1])"
        ))
    };
    let bare = h.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
    if let Ok(v6) = bare.unwrap_or(h).parse::<std::net::Ipv6Addr>() {
        return Ok(format!("[{v6}]"));
    }
    if bare.is_some() {
        return Err(bad());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let name = h.strip_suffix('.').unwrap_or(h);
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(name.to_ascii_lowercase())
}

fn merge_gateway(mut a: GatewayLayer, b: GatewayLayer) -> GatewayLayer {
    macro_rules! take {
        ($($f:ident),*) => { $( if b.$f.is_some() { a.$f = b.$f; } )* };
    }
    take!(
        guest_interfaces,
        session_minutes,
        session_seconds,
        idle_minutes,
        idle_seconds,
        internet,
        walled_garden,
        trusted_macs,
        blocked_macs,
        fail_open
    );
    a
}

fn gateway_settings(g: GatewayLayer) -> Result<Option<GatewaySettings>, ConfigError> {
    let interfaces = g.guest_interfaces.unwrap_or_default();
    if interfaces.is_empty() {
        return Ok(None);
    }
    for i in &interfaces {
        if i.is_empty()
            || i.len() > 15
            || !i
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
        {
            return Err(ConfigError::Invalid(format!(
                "{i:?} is not an interface name"
            )));
        }
    }
    let session = match (g.session_seconds, g.session_minutes) {
        (Some(s), _) => s,
        (None, Some(m)) => m.saturating_mul(60),
        (None, None) => 120 * 60,
    };
    if session == 0 {
        return Err(ConfigError::Invalid(
            "the session length must be at least 1 second".into(),
        ));
    }
    let idle = match (g.idle_seconds, g.idle_minutes) {
        (Some(s), _) => s,
        (None, Some(m)) => m.saturating_mul(60),
        (None, None) => 30 * 60,
    };
    let macs = |list: Option<Vec<String>>| -> Result<Vec<Mac>, ConfigError> {
        list.unwrap_or_default()
            .iter()
            .map(|m| {
                m.parse::<Mac>()
                    .map_err(|e| ConfigError::Invalid(e.to_string()))
            })
            .collect()
    };
    Ok(Some(GatewaySettings {
        interfaces,
        session_seconds: session,
        idle_seconds: idle,
        internet: g.internet.unwrap_or(Internet::AfterAccept),
        garden: g
            .walled_garden
            .unwrap_or_default()
            .iter()
            .map(|n| {
                n.parse::<Net>()
                    .map_err(|e| ConfigError::Invalid(e.to_string()))
            })
            .collect::<Result<_, _>>()?,
        trusted: macs(g.trusted_macs)?,
        blocked: macs(g.blocked_macs)?,
        fail_open: g.fail_open.unwrap_or(false),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win() {
        let file: Layer =
            toml::from_str("http = \"0.0.0.0:80\"\nauto_cancel_seconds = 5\n").expect("toml");
        let env =
            env_layer([("QUEUELESS_AUTO_CANCEL_SECONDS".to_owned(), "7".to_owned())]).expect("env");
        let flags = Layer {
            data_dir: Some("/srv/q".into()),
            ..Layer::default()
        };
        let c = merge(defaults(), &[file, env, flags]).expect("merges");
        assert_eq!(c.http, SocketAddr::from(([0, 0, 0, 0], 80)));
        assert_eq!(c.auto_cancel_seconds, 7);
        assert_eq!(c.data_dir, PathBuf::from("/srv/q"));
        assert!(!c.secure_cookies);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(toml::from_str::<Layer>("htp = \"x\"").is_err());
        let err = env_layer([("QUEUELESS_HTTP".to_owned(), "nope".to_owned())]).expect_err("bad");
        assert!(err.to_string().contains("0.0.0.0:80"));
        let bad = Layer {
            utc_offset_minutes: Some(2000),
            ..Layer::default()
        };
        assert!(merge(defaults(), &[bad]).is_err());
        let no_cache: Layer = toml::from_str("database_cache_mib = 0").expect("toml");
        let err = merge(defaults(), &[no_cache]).expect_err("no cache");
        assert!(err.to_string().contains("database_cache_mib"), "{err}");
        let cache: Layer = toml::from_str("database_cache_mib = 4").expect("toml");
        assert_eq!(
            merge(defaults(), &[cache])
                .expect("merges")
                .database_cache_mib,
            4
        );
        let upside_down: Layer =
            toml::from_str("space_warning_mib = 1\nspace_floor_mib = 2").expect("toml");
        let err = merge(defaults(), &[upside_down]).expect_err("floor above warning");
        assert!(err.to_string().contains("space_floor_mib"), "{err}");
        let retention: Layer = toml::from_str("order_retention_days = 3").expect("toml");
        let env =
            env_layer([("QUEUELESS_SPACE_FLOOR_MIB".to_owned(), "1".to_owned())]).expect("env");
        let c = merge(defaults(), &[retention, env]).expect("merges");
        assert_eq!((c.order_retention_days, c.space_floor_mib), (3, 1));
    }

    #[test]
    fn https_makes_cookies_secure_unless_told_otherwise() {
        let https = Layer {
            https: Some(SocketAddr::from(([0, 0, 0, 0], 443))),
            ..Layer::default()
        };
        assert!(
            merge(defaults(), std::slice::from_ref(&https))
                .expect("ok")
                .secure_cookies
        );
        let off = Layer {
            secure_cookies: Some(false),
            ..Layer::default()
        };
        assert!(!merge(defaults(), &[https, off]).expect("ok").secure_cookies);
    }

    #[test]
    fn gateway_section_is_checked_and_merged() {
        let file: Layer = toml::from_str(
            "[gateway]\nguest_interfaces = [\"wlan1\"]\nsession_minutes = 60\nwalled_garden = [\"192.0.2.0/24\"]\ntrusted_macs = [\"AA-BB-CC-DD-EE-FF\"]\n",
        )
        .expect("toml");
        let flags = Layer {
            gateway: Some(GatewayLayer {
                idle_seconds: Some(5),
                ..GatewayLayer::default()
            }),
            ..Layer::default()
        };
        let g = merge(defaults(), &[file, flags])
            .expect("ok")
            .gateway
            .expect("on");
        assert_eq!(g.session_seconds, 3600);
        assert_eq!(g.idle_seconds, 5);
        assert_eq!(g.trusted[0].to_string(), "aa:bb:cc:dd:ee:ff");
        assert!(
            merge(defaults(), &[Layer::default()])
                .expect("ok")
                .gateway
                .is_none()
        );
        let bad: Layer = toml::from_str(
            "[gateway]\nguest_interfaces = [\"wlan1\"]\nblocked_macs = [\"nope\"]\n",
        )
        .expect("toml");
        assert!(merge(defaults(), &[bad]).is_err());
        let half = Layer {
            tls_cert: Some("/x.pem".into()),
            ..Layer::default()
        };
        assert!(merge(defaults(), &[half]).is_err(), "cert without key");
    }

    #[test]
    fn portal_host_is_a_bare_host_for_urls() {
        let host = |h: &str| {
            let l = Layer {
                portal_host: Some(h.to_owned()),
                ..Layer::default()
            };
            merge(defaults(), &[l]).map(|c| c.portal_host.expect("set"))
        };
        assert_eq!(host("Portal.Example").expect("name"), "portal.example");
        assert_eq!(host("192.168.2.1").expect("v4"), "192.168.2.1");
        assert_eq!(host("fd00::1").expect("v6"), "[fd00::1]");
        assert_eq!(host("[fd00::1]").expect("v6"), "[fd00::1]");
        for bad in [
            "",
            "portal.example:8443",
            "[fd00::1]:443",
            "a b",
            "evil.example/x",
            "-x.example",
            "x..example",
            "[portal.example]",
        ] {
            let err = host(bad).expect_err(bad);
            assert!(err.to_string().contains("portal_host"), "{err}");
        }
    }
}
