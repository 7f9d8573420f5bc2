//! Settings: defaults, then the TOML file, then `QUEUELESS_*` environment
//! variables, then command-line flags, merged by one pure function into the
//! typed, checked [`Config`]. Which settings exist, and their names in each
//! place, is defined once in `settings.rs`. Unknown keys in the file and
//! unknown `QUEUELESS_*` variables are errors, so a typo never goes unnoticed.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub mod settings;

pub use settings::{
    Flag, GatewayLayer, Layer, OTHER_VARIABLES, SETTINGS, Setting, Value, closest_variable,
    markdown_table,
};

use crate::gateway::GatewaySettings;
use crate::gateway::mac::Mac;
use crate::gateway::policy::{Internet, Net};

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
    /// The interface's default language.
    pub language: crate::i18n::Lang,
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
    /// ACME, when `[acme]` names a challenge.
    pub acme: Option<crate::acme::settings::AcmeSettings>,
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
        language: crate::i18n::Lang::En,
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
        acme: None,
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
    /// A `QUEUELESS_*` variable that is no setting (a typo, or an old name).
    #[error(
        "unknown environment variable {name}{suggestion}: every QUEUELESS_* variable must be a setting (see the README's settings table)"
    )]
    UnknownEnv {
        /// The variable.
        name: String,
        /// " (did you mean …?)", or nothing.
        suggestion: String,
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

/// Reads the `QUEUELESS_*` environment layer from `vars`. A `QUEUELESS_*`
/// name that is neither a setting nor one of [`OTHER_VARIABLES`] is an error
/// naming it (and the closest known name), so a typo never goes unnoticed.
pub fn env_layer(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Layer, ConfigError> {
    let mut l = Layer::default();
    for (name, value) in vars {
        if !name.as_encoded_bytes().starts_with(b"QUEUELESS_") {
            continue;
        }
        let name = name.to_string_lossy().into_owned();
        let Some(setting) = SETTINGS.iter().find(|s| s.env() == name) else {
            if OTHER_VARIABLES.iter().any(|(n, _)| *n == name) {
                continue;
            }
            return Err(ConfigError::UnknownEnv {
                suggestion: closest_variable(&name)
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default(),
                name,
            });
        };
        let value = value.into_string().map_err(|v| ConfigError::Env {
            name: name.clone(),
            value: v.to_string_lossy().into_owned(),
            message: "expected UTF-8 text".into(),
        })?;
        l.set(setting, &value).map_err(|message| ConfigError::Env {
            name: name.clone(),
            value: value.clone(),
            message,
        })?;
    }
    Ok(l)
}

/// Merges layers over the defaults: later layers win.
pub fn merge(defaults: Config, layers: &[Layer]) -> Result<Config, ConfigError> {
    let mut l = Layer::default();
    for layer in layers {
        l.overlay(layer.clone());
    }
    let mut c = defaults;
    macro_rules! take {
        ($($f:ident),* $(,)?) => { $( if let Some(v) = l.$f { c.$f = v; } )* };
    }
    take!(
        data_dir,
        http,
        venue_name,
        language,
        utc_offset_minutes,
        auto_approve_shops,
        auto_cancel_seconds,
        group_commit,
        database_cache_mib,
        worker_threads,
        order_retention_days,
        wifi_session_days,
        notification_hours,
        space_warning_mib,
        space_floor_mib,
        login_hours,
        login_attempts_per_minute,
        demo,
        max_streams_per_client,
        staff_from_guest_network,
        board_ready_minutes,
    );
    c.https = l.https.or(c.https);
    c.portal_host = l.portal_host.or(c.portal_host);
    if let Some(v) = l.currency {
        c.currency = v
            .parse()
            .map_err(|e: crate::domain::currency::UnknownCurrency| {
                ConfigError::Invalid(e.to_string())
            })?;
    }
    let (secure, cert, key, gw, acme) =
        (l.secure_cookies, l.tls_cert, l.tls_key, l.gateway, l.acme);
    c.secure_cookies = secure.unwrap_or(c.https.is_some());
    c.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Invalid(
                "tls_cert and tls_key go together (--tls-cert and --tls-key, QUEUELESS_TLS_CERT and \
                 QUEUELESS_TLS_KEY): give both, or neither for a self-signed certificate"
                    .into(),
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
    c.gateway = gateway_settings(gw.unwrap_or_default())?;
    c.acme = crate::acme::settings::settle(acme, &c)?;
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
        let env = env_layer([("QUEUELESS_AUTO_CANCEL_SECONDS".into(), "7".into())]).expect("env");
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
        let err = env_layer([("QUEUELESS_HTTP".into(), "nope".into())]).expect_err("bad");
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
        let env = env_layer([("QUEUELESS_SPACE_FLOOR_MIB".into(), "1".into())]).expect("env");
        let c = merge(defaults(), &[retention, env]).expect("merges");
        assert_eq!((c.order_retention_days, c.space_floor_mib), (3, 1));
    }

    #[test]
    fn the_language_is_en_or_de_and_anything_else_is_refused() {
        use crate::i18n::Lang;
        assert_eq!(defaults().language, Lang::En);
        let err = env_layer([("QUEUELESS_LANGUAGE".into(), "fr".into())]).expect_err("fr");
        assert!(
            err.to_string().contains("en (English) or de (German)"),
            "{err}"
        );
        let err = toml::from_str::<Layer>("language = \"fr\"").expect_err("fr");
        assert!(
            err.to_string().contains("`en`, `de`") || err.to_string().contains("`en` or `de`"),
            "{err}"
        );
        let de: Layer = toml::from_str("language = \"de\"").expect("toml");
        let env = env_layer([("QUEUELESS_LANGUAGE".into(), "en".into())]).expect("env");
        assert_eq!(
            merge(defaults(), std::slice::from_ref(&de))
                .expect("merges")
                .language,
            Lang::De
        );
        assert_eq!(
            merge(defaults(), &[de, env]).expect("merges").language,
            Lang::En
        );
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
