//! `queueless check`: looks at everything `serve` will need — settings,
//! certificate (and its ACME state), data directory, guest interfaces,
//! `nft` with JSON, the privileges — and says, line by line, what is fine
//! and what to fix.

use std::path::Path;

use crate::config::Config;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Fine or not.
    pub ok: bool,
    /// What was looked at and, if wrong, the fix.
    pub text: String,
}

fn ok(text: impl Into<String>) -> Finding {
    Finding {
        ok: true,
        text: text.into(),
    }
}

fn fix(text: impl Into<String>) -> Finding {
    Finding {
        ok: false,
        text: text.into(),
    }
}

/// Effective capabilities of this process, from `/proc/self/status`.
fn capabilities() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("CapEff:"))?;
            u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
        })
        .unwrap_or(0)
}

const CAP_NET_BIND_SERVICE: u32 = 10;
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

fn has_cap(caps: u64, bit: u32) -> bool {
    caps & (1 << bit) != 0
}

fn check_data_dir(dir: &Path) -> Finding {
    let probe = dir.join(".queueless-check");
    let made = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&probe, b"x"));
    let _ = std::fs::remove_file(&probe);
    match made {
        Ok(()) => ok(format!("data directory {} is writable", dir.display())),
        Err(e) => fix(format!(
            "data directory {} is not writable ({e}): create it or choose another with --data-dir",
            dir.display()
        )),
    }
}

fn check_pem(cert: &Path, key: &Path) -> Finding {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(cert)
        .map(|i| i.filter_map(Result::ok).count())
        .unwrap_or(0);
    if certs == 0 {
        return fix(format!("{} holds no PEM certificate", cert.display()));
    }
    if rustls_pki_types::PrivateKeyDer::from_pem_file(key).is_err() {
        return fix(format!("{} holds no PEM private key", key.display()));
    }
    ok(format!(
        "certificate {} ({certs} in chain) and key {}",
        cert.display(),
        key.display()
    ))
}

fn check_space(config: &Config) -> Finding {
    use crate::store::space::{SpaceLevel, SpaceLevels, SpaceReport, judge, measure};
    let levels = SpaceLevels {
        warning_bytes: u64::from(config.space_warning_mib) * 1024 * 1024,
        floor_bytes: u64::from(config.space_floor_mib) * 1024 * 1024,
    };
    match measure(&config.data_dir) {
        Ok((free, total)) => {
            let report = SpaceReport {
                free_bytes: free,
                total_bytes: total,
                level: judge(free, levels),
                warning_bytes: levels.warning_bytes,
                floor_bytes: levels.floor_bytes,
            };
            let text = format!(
                "{} (warning below {} MiB, new orders refused below {} MiB)",
                report.describe(),
                config.space_warning_mib,
                config.space_floor_mib
            );
            if report.level == SpaceLevel::Ok {
                ok(text)
            } else {
                fix(text)
            }
        }
        Err(e) => fix(format!(
            "cannot measure the free space of {} ({e})",
            config.data_dir.display()
        )),
    }
}

/// Runs every check.
pub fn run(config: &Config) -> Vec<Finding> {
    let mut out = vec![ok("settings parse")];
    out.push(check_data_dir(&config.data_dir));
    out.push(check_space(config));
    match &config.tls {
        Some((c, k)) => out.push(check_pem(c, k)),
        None if config.acme.is_some() => {
            if let Some(a) = &config.acme {
                out.extend(
                    crate::acme::check(config, a)
                        .into_iter()
                        .map(|(fine, text)| if fine { ok(text) } else { fix(text) }),
                );
            }
        }
        None if config.https.is_some() => out.push(ok(
            "no certificate configured: a self-signed one is made in the data directory",
        )),
        None => {}
    }
    let caps = capabilities();
    let low_port = config.http.port() < 1024 || config.https.is_some_and(|a| a.port() < 1024);
    if low_port && !has_cap(caps, CAP_NET_BIND_SERVICE) {
        out.push(fix("ports below 1024 need root or CAP_NET_BIND_SERVICE"));
    }
    if let Some(g) = &config.gateway {
        for i in &g.interfaces {
            if Path::new("/sys/class/net").join(i).exists() {
                out.push(ok(format!("guest interface {i} exists")));
            } else {
                out.push(fix(format!(
                    "guest interface {i} does not exist (see `ip link`)"
                )));
            }
        }
        if !has_cap(caps, CAP_NET_ADMIN) || !has_cap(caps, CAP_NET_RAW) {
            out.push(fix(
                "the gateway needs root or CAP_NET_ADMIN and CAP_NET_RAW",
            ));
        } else {
            out.push(ok("privileges for the firewall and packet reading"));
        }
        match crate::gateway::nft::check() {
            Ok(()) => out.push(ok("nft runs and speaks JSON")),
            Err(e) => out.push(fix(e.to_string())),
        }
    } else {
        out.push(ok("no guest interface: the firewall is left alone"));
    }
    out
}
