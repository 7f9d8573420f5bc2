//! Every setting, defined once: its file key (and `[section]`), its
//! `QUEUELESS_*` environment variable and its command-line flag all come from
//! one entry in the `settings!` table below. The table makes the layer types
//! (`Layer`, `GatewayLayer`, `AcmeLayer`), the [`SETTINGS`] list (README's table, the
//! unknown-variable check, the flags) and the code that sets a field from
//! text. It does not merge or validate: `config::merge` does.
//!
//! To add a setting, add one line (its doc comment is its help text); to add
//! a section, add a block like `[gateway]` and its typed result in `merge`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::gateway::policy::Internet;
use crate::i18n::Lang;

/// One setting as the outside sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The `[section]` it is under in the file, or "" at the top.
    pub section: &'static str,
    /// The key in the file.
    pub key: &'static str,
    /// What it does (its doc comment).
    pub help: &'static str,
    /// What a value looks like, for messages and the README.
    pub what: &'static str,
    /// A list: the variable takes values separated by commas, the flag repeats.
    pub list: bool,
    /// The value a flag given alone means (`--demo` is `--demo=true`).
    pub alone: Option<&'static str>,
    /// Its flag.
    pub flag: Flag,
}

/// How a setting appears on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// `--name`, when not the key with `-` for `_`.
    pub name: Option<&'static str>,
    /// Left out of `--help` (for tests).
    pub hidden: bool,
    /// Given before the command (`queueless --data-dir D status`), not to `serve`.
    pub global: bool,
}

impl Flag {
    /// `--key-with-dashes` on `serve` and `check`.
    pub const PLAIN: Flag = Flag {
        name: None,
        hidden: false,
        global: false,
    };
    /// The same, left out of `--help`.
    pub const HIDDEN: Flag = Flag {
        hidden: true,
        ..Flag::PLAIN
    };
    /// Before the command, for every command.
    pub const GLOBAL: Flag = Flag {
        global: true,
        ..Flag::PLAIN
    };

    /// A flag with another name (a list's flag is singular: it repeats).
    pub const fn named(name: &'static str) -> Flag {
        Flag {
            name: Some(name),
            ..Flag::PLAIN
        }
    }
}

impl Setting {
    /// `QUEUELESS_KEY`, or `QUEUELESS_SECTION_KEY` under a section.
    pub fn env(&self) -> String {
        let name = if self.section.is_empty() {
            format!("QUEUELESS_{}", self.key)
        } else {
            format!("QUEUELESS_{}_{}", self.section, self.key)
        };
        name.to_ascii_uppercase()
    }

    /// The flag's name without `--`.
    pub fn flag_name(&self) -> String {
        self.flag
            .name
            .map_or_else(|| self.key.replace('_', "-"), str::to_owned)
    }

    /// `key` or `section.key`, as messages and the README name it.
    pub fn path(&self) -> String {
        if self.section.is_empty() {
            self.key.to_owned()
        } else {
            format!("{}.{}", self.section, self.key)
        }
    }
}

/// A setting's value type: how it reads from a variable or a flag.
pub trait Value: Sized {
    /// What a value looks like.
    const WHAT: &'static str;
    /// Values separated by commas.
    const LIST: bool = false;
    /// The value a flag given alone means, if it may be.
    const ALONE: Option<&'static str> = None;
    /// Reads one value; the error says what was expected.
    fn parse(raw: &str) -> Result<Self, String>;
}

macro_rules! from_str_values {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl Value for $t {
            const WHAT: &'static str = $what;
            fn parse(raw: &str) -> Result<Self, String> {
                raw.parse().map_err(|_| format!("expected {}", Self::WHAT))
            }
        }
    )*};
}

from_str_values!(
    u32 => "a whole number from 0",
    i32 => "a whole number, may be negative",
    SocketAddr => "an address and port like 0.0.0.0:80 or [::]:443",
);

impl Value for bool {
    const WHAT: &'static str = "true or false";
    const ALONE: Option<&'static str> = Some("true");
    fn parse(raw: &str) -> Result<Self, String> {
        raw.parse().map_err(|_| format!("expected {}", Self::WHAT))
    }
}

impl Value for String {
    const WHAT: &'static str = "text";
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl Value for PathBuf {
    const WHAT: &'static str = "a path";
    fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("expected a path, not nothing".into());
        }
        Ok(PathBuf::from(raw))
    }
}

impl Value for Vec<String> {
    const WHAT: &'static str = "a list (separated by commas)";
    const LIST: bool = true;
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(raw
            .split([',', ' ', '\t', '\n'])
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

impl Value for Internet {
    const WHAT: &'static str = "after_accept or none";
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "after_accept" => Ok(Internet::AfterAccept),
            "none" => Ok(Internet::None),
            _ => Err(format!("expected {}", Self::WHAT)),
        }
    }
}

impl Value for Lang {
    const WHAT: &'static str = "en or de";
    fn parse(raw: &str) -> Result<Self, String> {
        raw.parse()
            .map_err(|e: crate::i18n::UnknownLang| e.to_string())
    }
}

/// Makes the layer types, [`SETTINGS`] and `Layer::set` from the table.
macro_rules! settings {
    (
        top {
            $( #[doc = $doc:literal] $key:ident : $ty:ty => $flag:expr, )*
        }
        $(
            #[doc = $sdoc:literal]
            [$sec:ident] $sty:ident {
                $( #[doc = $sfdoc:literal] $skey:ident : $sfty:ty => $sflag:expr, )*
            }
        )*
    ) => {
        /// One layer of settings; every field optional. The file, the
        /// environment and the flags each give one.
        #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $( #[doc = $doc] pub $key: Option<$ty>, )*
            $( #[doc = $sdoc] pub $sec: Option<$sty>, )*
        }

        $(
            #[doc = $sdoc]
            #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
            #[serde(deny_unknown_fields)]
            pub struct $sty {
                $( #[doc = $sfdoc] pub $skey: Option<$sfty>, )*
            }
        )*

        /// Every setting, in the table's order.
        pub static SETTINGS: &[Setting] = &[
            $( Setting {
                section: "",
                key: stringify!($key),
                help: $doc,
                what: <$ty as Value>::WHAT,
                list: <$ty as Value>::LIST,
                alone: <$ty as Value>::ALONE,
                flag: $flag,
            }, )*
            $( $( Setting {
                section: stringify!($sec),
                key: stringify!($skey),
                help: $sfdoc,
                what: <$sfty as Value>::WHAT,
                list: <$sfty as Value>::LIST,
                alone: <$sfty as Value>::ALONE,
                flag: $sflag,
            }, )* )*
        ];

        impl Layer {
            /// Sets `setting` from its text (a variable's value, a flag's).
            pub fn set(&mut self, setting: &Setting, raw: &str) -> Result<(), String> {
                match (setting.section, setting.key) {
                    $( ("", stringify!($key)) => self.$key = Some(Value::parse(raw)?), )*
                    $( $( (stringify!($sec), stringify!($skey)) => {
                        self.$sec.get_or_insert_with(Default::default).$skey =
                            Some(Value::parse(raw)?)
                    } )* )*
                    _ => return Err(format!("no setting {}", setting.path())),
                }
                Ok(())
            }

            /// Whether `setting` has a value in this layer, and which (for tests).
            pub fn get(&self, setting: &Setting) -> Option<String> {
                match (setting.section, setting.key) {
                    $( ("", stringify!($key)) => self.$key.as_ref().map(|v| format!("{v:?}")), )*
                    $( $( (stringify!($sec), stringify!($skey)) => self
                        .$sec
                        .as_ref()
                        .and_then(|s| s.$skey.as_ref())
                        .map(|v| format!("{v:?}")), )* )*
                    _ => None,
                }
            }

            /// Lays `over` on top: each setting it has wins.
            pub fn overlay(&mut self, over: Layer) {
                $( if over.$key.is_some() { self.$key = over.$key; } )*
                $( if let Some(o) = over.$sec {
                    let s = self.$sec.get_or_insert_with(Default::default);
                    $( if o.$skey.is_some() { s.$skey = o.$skey; } )*
                } )*
            }
        }
    };
}

settings! {
    top {
        /// Where the database and certificates live.
        data_dir: PathBuf => Flag::GLOBAL,
        /// Plain HTTP listener (captive redirect, API during development).
        http: SocketAddr => Flag::PLAIN,
        /// HTTPS listener.
        https: SocketAddr => Flag::PLAIN,
        /// The venue's name, shown on the portal.
        venue_name: String => Flag::PLAIN,
        /// The venue's currency, an ISO 4217 code ("EUR", "JPY", "KWD").
        currency: String => Flag::PLAIN,
        /// The interface's default language, `en` or `de` (a guest's browser or the page's switch overrides it).
        language: Lang => Flag::PLAIN,
        /// Venue-local time is UTC plus this many minutes.
        utc_offset_minutes: i32 => Flag::PLAIN,
        /// Approve newly registered shops without the operator.
        auto_approve_shops: bool => Flag::PLAIN,
        /// Cancel orders no shop accepted within this many seconds (0: never).
        auto_cancel_seconds: u32 => Flag::PLAIN,
        /// Batch concurrent writes into one commit.
        group_commit: bool => Flag::PLAIN,
        /// Most memory the database may keep as page cache, in MiB.
        database_cache_mib: u32 => Flag::PLAIN,
        /// Threads running requests (the async runtime's workers; 1 to 64).
        worker_threads: u32 => Flag::PLAIN,
        /// Keep finished orders' details this many days, then only per-day totals (0: forever).
        order_retention_days: u32 => Flag::PLAIN,
        /// Keep ended Wi-Fi sessions this many days (0: forever).
        wifi_session_days: u32 => Flag::PLAIN,
        /// Remove a guest's notifications this many hours after the order finished (0: never).
        notification_hours: u32 => Flag::PLAIN,
        /// Warn when the data directory's filesystem has less than this many MiB free.
        space_warning_mib: u32 => Flag::PLAIN,
        /// Refuse new orders when it has less than this many MiB free (0: never).
        space_floor_mib: u32 => Flag::PLAIN,
        /// How long a staff login lasts, in hours.
        login_hours: u32 => Flag::PLAIN,
        /// Login and registration attempts per minute from one address.
        login_attempts_per_minute: u32 => Flag::PLAIN,
        /// Mark cookies `Secure` (default: when HTTPS is on).
        secure_cookies: bool => Flag::PLAIN,
        /// Seed a demo venue on first start (and print its logins).
        demo: bool => Flag::PLAIN,
        /// TLS certificate chain (PEM); without it a self-signed one is made.
        tls_cert: PathBuf => Flag::PLAIN,
        /// TLS private key (PEM).
        tls_key: PathBuf => Flag::PLAIN,
        /// The host name or address guests reach the portal at (in links and QR codes).
        portal_host: String => Flag::PLAIN,
        /// Most open live-update streams per client address.
        max_streams_per_client: u32 => Flag::PLAIN,
        /// Let staff log in from the guest network.
        staff_from_guest_network: bool => Flag::PLAIN,
        /// Ready numbers leave the pickup board after this many minutes (0: when collected).
        board_ready_minutes: u32 => Flag::PLAIN,
    }
    /// `[gateway]`: capture guest interfaces (changes the host's firewall).
    [gateway] GatewayLayer {
        /// Guest interfaces; the gateway is on when there is at least one.
        guest_interfaces: Vec<String> => Flag::named("guest-interface"),
        /// Session length after joining, in minutes.
        session_minutes: u32 => Flag::PLAIN,
        /// The same in seconds (wins over minutes; for tests).
        session_seconds: u32 => Flag::HIDDEN,
        /// Let a joined client go after this many minutes without traffic (0: never).
        idle_minutes: u32 => Flag::PLAIN,
        /// The same in seconds (wins over minutes; for tests).
        idle_seconds: u32 => Flag::HIDDEN,
        /// Internet for joined guests: after_accept, or none (the Wi-Fi is for ordering only).
        internet: Internet => Flag::PLAIN,
        /// Addresses or networks reachable before joining.
        walled_garden: Vec<String> => Flag::named("walled-garden"),
        /// MACs always let through.
        trusted_macs: Vec<String> => Flag::named("trusted-mac"),
        /// MACs never let through.
        blocked_macs: Vec<String> => Flag::named("blocked-mac"),
        /// Remove the firewall table when queueless stops (guests pass freely).
        fail_open: bool => Flag::PLAIN,
    }
    /// `[acme]`: the portal's certificate from an ACME CA (RFC 8555); on when `challenge` is set.
    [acme] AcmeLayer {
        /// `http-01` (port 80 answers the CA) or `dns-01` (RFC 2136 updates signed with TSIG).
        challenge: String => Flag::named("acme-challenge"),
        /// The CA's directory URL (default: Let's Encrypt).
        directory: String => Flag::named("acme-directory"),
        /// An e-mail address the CA may write to about the certificate.
        contact: String => Flag::named("acme-contact"),
        /// PEM roots trusted for the CA's own HTTPS (default: the system's).
        ca_bundle: PathBuf => Flag::named("acme-ca-bundle"),
        /// DNS-01: the zone's primary server, `address:port`.
        dns_server: SocketAddr => Flag::named("acme-dns-server"),
        /// DNS-01: the zone that holds `portal_host`.
        dns_zone: String => Flag::named("acme-dns-zone"),
        /// DNS-01: the TSIG key's name (HMAC-SHA256).
        tsig_key_name: String => Flag::named("acme-tsig-key-name"),
        /// DNS-01: a file with the key's base64 secret, or a BIND key stanza (`tsig-keygen`).
        tsig_secret_file: PathBuf => Flag::named("acme-tsig-secret-file"),
        /// DNS-01: seconds to wait after the update before the CA looks (for secondaries).
        dns_wait_seconds: u32 => Flag::named("acme-dns-wait-seconds"),
    }
}

/// `QUEUELESS_*` variables that are not settings, and who reads them.
pub const OTHER_VARIABLES: &[(&str, &str)] = &[
    ("QUEUELESS_CONFIG", "the settings file (`--config`)"),
    (
        "QUEUELESS_LOG",
        "what is logged (`warn`, `info`, `queueless=debug`)",
    ),
    (
        "QUEUELESS_NOTIFY_CHILD",
        "the notify unit test's child process",
    ),
    (
        "QUEUELESS_PROCD_EVENT",
        "the OpenWrt init script: the procd event sent after the first ACME certificate",
    ),
    ("QUEUELESS_BIN", "the load bench: which binary to start"),
    (
        "QUEUELESS_SCREENSHOTS",
        "the page tests: where screenshots go",
    ),
    (
        "QUEUELESS_TARGET",
        "the build: the target `--version` names",
    ),
];

/// The known name closest to an unknown `QUEUELESS_*` one, if any is close.
pub fn closest_variable(unknown: &str) -> Option<String> {
    let known = SETTINGS
        .iter()
        .map(Setting::env)
        .chain(OTHER_VARIABLES.iter().map(|(n, _)| (*n).to_owned()));
    let tail = |n: &str| n.trim_start_matches("QUEUELESS_").to_owned();
    let u = tail(&unknown.to_ascii_uppercase());
    known
        .map(|k| {
            let t = tail(&k);
            // A section's key given without its section is close, too.
            let distance = if t.ends_with(&format!("_{u}")) {
                1
            } else {
                strsim::damerau_levenshtein(&u, &t)
            };
            (distance, k, t.len())
        })
        .filter(|(d, _, len)| *d <= (len / 3).max(2))
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, k, _)| k)
}

/// The README's settings table (Markdown), made from [`SETTINGS`].
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| File key | Environment variable | Flag | Value | What it does |\n|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let flag = if s.flag.hidden {
            "(hidden) ".to_owned()
        } else {
            String::new()
        } + &format!("`--{}`", s.flag_name())
            + if s.list { " (repeats)" } else { "" };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            s.path(),
            s.env(),
            flag,
            s.what,
            s.help.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::config::{ConfigError, defaults, env_layer, merge};

    /// Two valid, different values for `s`, as a variable or flag gives them.
    fn samples(s: &Setting) -> [&'static str; 2] {
        match (s.key, s.what) {
            ("guest_interfaces", _) => ["wlan1", "wlan2,br-guest"],
            ("walled_garden", _) => ["192.0.2.1", "198.51.100.0/24,192.0.2.9"],
            ("trusted_macs" | "blocked_macs", _) => ["aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"],
            ("challenge", _) => ["http-01", "dns-01"],
            ("directory", _) => ["https://a.example/dir", "https://b.example/dir"],
            ("contact", _) => ["a@example.com", "b@example.com"],
            ("dns_zone", _) => ["example.com", "portal.example.com"],
            ("tsig_key_name", _) => ["a-key", "b-key"],
            (_, w) if w == <u32 as Value>::WHAT => ["5", "7"],
            (_, w) if w == <i32 as Value>::WHAT => ["60", "-60"],
            (_, w) if w == <bool as Value>::WHAT => ["true", "false"],
            (_, w) if w == <SocketAddr as Value>::WHAT => ["127.0.0.1:1", "[::1]:2"],
            (_, w) if w == <PathBuf as Value>::WHAT => ["/tmp/a", "/tmp/b"],
            (_, w) if w == <Internet as Value>::WHAT => ["none", "after_accept"],
            (_, w) if w == <Lang as Value>::WHAT => ["de", "en"],
            // Valid as a venue name, a currency and a portal host alike.
            (_, w) if w == <String as Value>::WHAT => ["JPY", "EUR"],
            (key, what) => panic!("no samples for {key} ({what}): add them here"),
        }
    }

    /// The same value as the file writes it.
    fn toml_line(s: &Setting, raw: &str) -> String {
        let value = if s.list {
            let items: Vec<String> = raw.split(',').map(|v| format!("{v:?}")).collect();
            format!("[{}]", items.join(", "))
        } else if raw.parse::<i64>().is_ok() || raw == "true" || raw == "false" {
            raw.to_owned()
        } else {
            format!("{raw:?}")
        };
        if s.section.is_empty() {
            format!("{} = {value}\n", s.key)
        } else {
            format!("[{}]\n{} = {value}\n", s.section, s.key)
        }
    }

    fn env(pairs: &[(String, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(n, v)| (n.into(), (*v).into())).collect()
    }

    /// `queueless [global flags] serve [serve flags]` with `s` given as `raw`.
    fn cli(s: Option<(&Setting, &str)>, config: &std::path::Path) -> Cli {
        let mut args = vec![
            "queueless".to_owned(),
            format!("--config={}", config.display()),
        ];
        let flag = s.map(|(s, raw)| {
            let flag = format!("--{}={raw}", s.flag_name());
            (s.flag.global, flag)
        });
        if let Some((true, f)) = &flag {
            args.push(f.clone());
        }
        args.push("serve".into());
        if let Some((false, f)) = &flag {
            args.push(f.clone());
        }
        Cli::try_parse_from(args).expect("flags parse")
    }

    #[test]
    fn every_setting_reads_from_file_env_and_flag_and_later_wins() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("q.toml");
        let empty = dir.path().join("empty.toml");
        std::fs::write(&empty, "").expect("write");
        for s in SETTINGS {
            let [a, b] = samples(s);
            std::fs::write(&file, toml_line(s, a)).expect("write");
            let [from_file, _, _] = cli(None, &file).layers([]).expect("file");
            let [_, from_env, _] = cli(None, &empty).layers(env(&[(s.env(), a)])).expect("env");
            let [_, _, from_flag] = cli(Some((s, a)), &empty).layers([]).expect("flag");
            assert!(from_file.get(s).is_some(), "{} from the file", s.path());
            assert_eq!(from_file, from_env, "{}: file and {}", s.path(), s.env());
            assert_eq!(
                from_file,
                from_flag,
                "{}: file and --{}",
                s.path(),
                s.flag_name()
            );

            let merged = |cli: Cli, vars: Vec<(OsString, OsString)>| {
                let mut l = Layer::default();
                for layer in cli.layers(vars).expect("layers") {
                    l.overlay(layer);
                }
                l.get(s)
            };
            let [_, only_b, _] = cli(None, &empty)
                .layers(env(&[(s.env(), b)]))
                .expect("env b");
            let want_b = only_b.get(s);
            assert_ne!(from_file.get(s), want_b, "{}: samples differ", s.path());
            // The environment wins over the file, a flag over both.
            assert_eq!(merged(cli(None, &file), env(&[(s.env(), b)])), want_b);
            std::fs::write(&file, toml_line(s, b)).expect("write");
            let want_a = from_file.get(s);
            assert_eq!(merged(cli(Some((s, a)), &file), vec![]), want_a);
            assert_eq!(
                merged(cli(Some((s, a)), &file), env(&[(s.env(), b)])),
                want_a,
                "{}: the flag wins",
                s.path()
            );
        }
    }

    #[test]
    fn every_setting_reaches_the_config() {
        // Valid together: HTTPS with a certificate, and a guest interface.
        let base = || Layer {
            https: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
            tls_cert: Some("/c".into()),
            tls_key: Some("/k".into()),
            gateway: Some(GatewayLayer {
                guest_interfaces: Some(vec!["wlan9".into()]),
                ..GatewayLayer::default()
            }),
            ..Layer::default()
        };
        // ACME instead of a certificate: a DNS name and DNS-01 in full.
        let acme = || Layer {
            https: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
            portal_host: Some("portal.example.com".into()),
            acme: Some(AcmeLayer {
                challenge: Some("dns-01".into()),
                dns_server: Some(SocketAddr::from(([127, 0, 0, 1], 53))),
                dns_zone: Some("example.com".into()),
                tsig_key_name: Some("key".into()),
                tsig_secret_file: Some("/s".into()),
                ..AcmeLayer::default()
            }),
            ..Layer::default()
        };
        for s in SETTINGS {
            let config = |raw: &str| {
                let mut l = if s.section == "acme" { acme() } else { base() };
                l.set(s, raw).expect("sample is valid");
                merge(defaults(), &[l]).unwrap_or_else(|e| panic!("{}={raw}: {e}", s.path()))
            };
            let [a, b] = samples(s);
            assert_ne!(config(a), config(b), "{} changes nothing", s.path());
        }
    }

    #[test]
    fn a_misspelt_variable_is_named_with_the_closest_known_one() {
        let err = |name: &str| match env_layer(env(&[(name.to_owned(), "1")])) {
            Err(ConfigError::UnknownEnv { name, suggestion }) => (name, suggestion),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            err("QUEUELESS_HTPS"),
            (
                "QUEUELESS_HTPS".to_owned(),
                " (did you mean QUEUELESS_HTTPS?)".to_owned()
            )
        );
        assert_eq!(
            err("QUEUELESS_SESSION_MINUTES").1,
            " (did you mean QUEUELESS_GATEWAY_SESSION_MINUTES?)"
        );
        assert_eq!(
            err("QUEUELESS_AUTO_CANCEL_SECOND").1,
            " (did you mean QUEUELESS_AUTO_CANCEL_SECONDS?)"
        );
        assert_eq!(err("QUEUELESS_ZZZZZZZZZZZZZZZZ").1, "");
        let message = env_layer(env(&[("QUEUELESS_DEMOO".into(), "true")]))
            .expect_err("unknown")
            .to_string();
        assert!(
            message.contains("QUEUELESS_DEMOO") && message.contains("QUEUELESS_DEMO?"),
            "{message}"
        );
        // Variables that are no settings still pass; other prefixes are not ours.
        let others: Vec<(String, &str)> = OTHER_VARIABLES
            .iter()
            .map(|(n, _)| ((*n).to_owned(), "x"))
            .chain([("QUEUELESSX".to_owned(), "1"), ("HOME".to_owned(), "/")])
            .collect();
        assert_eq!(env_layer(env(&others)).expect("known"), Layer::default());
    }

    #[test]
    fn a_variable_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0xff, 0xfe]);
        let err = env_layer([("QUEUELESS_VENUE_NAME".into(), bad)]).expect_err("not UTF-8");
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn readme_lists_every_setting() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's settings table is not the one SETTINGS makes; replace it with:\n\n{table}"
        );
        for (name, _) in OTHER_VARIABLES {
            if *name != "QUEUELESS_TARGET" && *name != "QUEUELESS_NOTIFY_CHILD" {
                assert!(readme.contains(name), "README.md does not mention {name}");
            }
        }
    }
}
