//! The command line: `serve`, and the operator's commands, which talk to a
//! running daemon over the control socket or, when none runs, open the
//! database directly.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, GatewayLayer, Layer};
use crate::control::{self, Request};
use crate::gateway::policy::Internet;
use crate::store::{Store, StoreSettings};

/// `--version`: the release and the target it was built for.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("QUEUELESS_TARGET"),
    ")"
);

/// Order from every stall over the venue Wi-Fi, and skip the queue.
#[derive(Debug, Parser)]
#[command(name = "queueless", version = VERSION, about)]
pub struct Cli {
    /// Settings file (TOML).
    #[arg(long, global = true, env = "QUEUELESS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the database lives (default ./queueless-data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon.
    Serve(Box<ServeArgs>),
    /// Manage admin accounts.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Copy the database to a new file, consistently, even while it runs.
    Backup {
        /// The new file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Shops of the venue.
    Shop {
        /// What to do.
        #[command(subcommand)]
        command: ShopCommand,
    },
    /// Ask a running daemon how it is.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Wi-Fi clients the captive gateway knows.
    Clients {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Let a client through the captive portal.
    Auth {
        /// Its MAC address.
        mac: String,
        /// Session length (default: the configured one).
        #[arg(long)]
        minutes: Option<u32>,
    },
    /// Put a client back behind the captive portal.
    Deauth {
        /// Its MAC address.
        mac: String,
    },
    /// Always let a client through.
    Trust {
        /// Its MAC address.
        mac: String,
    },
    /// Never let a client through.
    Block {
        /// Its MAC address.
        mac: String,
    },
    /// Check the settings, certificate, interfaces, nft and privileges
    /// that `serve` with the same flags would use; say what to fix.
    Check(Box<ServeArgs>),
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Plain HTTP address (default 127.0.0.1:8080).
    #[arg(long)]
    pub http: Option<SocketAddr>,
    /// HTTPS address.
    #[arg(long)]
    pub https: Option<SocketAddr>,
    /// Seed a demo venue on first start and print its logins.
    #[arg(long)]
    pub demo: bool,
    /// The venue's name on the portal.
    #[arg(long)]
    pub venue_name: Option<String>,
    /// TLS certificate chain (PEM); without it a self-signed one is made.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Host name or address of this router in portal links.
    #[arg(long)]
    pub portal_host: Option<String>,
    /// Capture this guest interface (repeatable). Changes the firewall.
    #[arg(long = "guest-interface")]
    pub guest_interfaces: Vec<String>,
    /// Session length after joining.
    #[arg(long)]
    pub session_minutes: Option<u32>,
    /// Session length in seconds (for tests).
    #[arg(long, hide = true)]
    pub session_seconds: Option<u32>,
    /// Let joined clients go after this many idle minutes (0: never).
    #[arg(long)]
    pub idle_minutes: Option<u32>,
    /// Idle limit in seconds (for tests).
    #[arg(long, hide = true)]
    pub idle_seconds: Option<u32>,
    /// Internet for joined guests: after_accept or none.
    #[arg(long, value_parser = parse_internet)]
    pub internet: Option<Internet>,
    /// Reachable before joining: an address or network (repeatable).
    #[arg(long = "walled-garden")]
    pub walled_garden: Vec<String>,
    /// Always let this MAC through (repeatable).
    #[arg(long = "trusted-mac")]
    pub trusted_macs: Vec<String>,
    /// Never let this MAC through (repeatable).
    #[arg(long = "blocked-mac")]
    pub blocked_macs: Vec<String>,
    /// When queueless stops, remove the firewall table so guests pass.
    #[arg(long)]
    pub fail_open: bool,
}

fn parse_internet(s: &str) -> Result<Internet, String> {
    match s {
        "after_accept" => Ok(Internet::AfterAccept),
        "none" => Ok(Internet::None),
        _ => Err("expected after_accept or none".into()),
    }
}

fn some_vec(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// `admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin; the password is read from standard input.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "Venue operator")]
        name: String,
    },
}

/// `shop …`
#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// List every shop.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    /// Merges defaults, the file, the environment and these flags.
    pub fn config(&self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => config::read_file(path)?,
            None => Layer::default(),
        };
        let env = config::env_layer(std::env::vars())?;
        let mut flags = Layer {
            data_dir: self.data_dir.clone(),
            ..Layer::default()
        };
        if let Command::Serve(s) | Command::Check(s) = &self.command {
            flags.http = s.http;
            flags.https = s.https;
            flags.demo = s.demo.then_some(true);
            flags.venue_name = s.venue_name.clone();
            flags.tls_cert = s.tls_cert.clone();
            flags.tls_key = s.tls_key.clone();
            flags.portal_host = s.portal_host.clone();
            let g = GatewayLayer {
                guest_interfaces: some_vec(&s.guest_interfaces),
                session_minutes: s.session_minutes,
                session_seconds: s.session_seconds,
                idle_minutes: s.idle_minutes,
                idle_seconds: s.idle_seconds,
                internet: s.internet,
                walled_garden: some_vec(&s.walled_garden),
                trusted_macs: some_vec(&s.trusted_macs),
                blocked_macs: some_vec(&s.blocked_macs),
                fail_open: s.fail_open.then_some(true),
            };
            if g != GatewayLayer::default() {
                flags.gateway = Some(g);
            }
        }
        Ok(config::merge(config::defaults(), &[file, env, flags])?)
    }
}

/// Runs an operator command (anything but `serve`).
pub async fn run_command(cli: &Cli, config: &Config) -> anyhow::Result<()> {
    let (request, json) = match &cli.command {
        Command::Serve(_) | Command::Check(_) => bail!("not an operator command"),
        Command::Status { json } => (Request::Status, *json),
        Command::Clients { json } => (Request::Clients, *json),
        Command::Auth { mac, minutes } => (
            Request::Auth {
                mac: mac.clone(),
                minutes: *minutes,
            },
            false,
        ),
        Command::Deauth { mac } => (Request::Deauth { mac: mac.clone() }, false),
        Command::Trust { mac } => (Request::Trust { mac: mac.clone() }, false),
        Command::Block { mac } => (Request::Block { mac: mac.clone() }, false),
        Command::Backup { to } => {
            let to =
                std::path::absolute(to).with_context(|| format!("resolving {}", to.display()))?;
            (Request::Backup { to }, false)
        }
        Command::Shop {
            command: ShopCommand::List { json },
        } => (Request::ShopList, *json),
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            eprintln!("Password for {email} (one line on standard input):");
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            crate::domain::account::check_password(&password).map_err(anyhow::Error::msg)?;
            let password_hash = crate::auth::Passwords::default().hash(password).await?;
            (
                Request::AdminCreate {
                    email: email.clone(),
                    name: name.clone(),
                    password_hash,
                },
                false,
            )
        }
    };
    let socket = config.control_socket();
    let response = match control::request(&socket, &request).await? {
        Some(r) => r,
        None => {
            if matches!(
                request,
                Request::Status
                    | Request::Clients
                    | Request::Auth { .. }
                    | Request::Deauth { .. }
                    | Request::Trust { .. }
                    | Request::Block { .. }
            ) {
                bail!(
                    "queueless is not running (no answer on {}); start it with `queueless serve`",
                    socket.display()
                );
            }
            let path = config.database_path();
            if !path.exists() {
                bail!(
                    "no database at {} (start `queueless serve` once, or pass --data-dir)",
                    path.display()
                );
            }
            let store =
                tokio::task::spawn_blocking(move || Store::open(&path, StoreSettings::default()))
                    .await?
                    .with_context(|| {
                        format!("opening database {}", config.database_path().display())
                    })?;
            control::handle(&store, request).await
        }
    };
    if !response.ok {
        bail!("{}", response.message);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&response.data)?);
    } else {
        println!("{}", response.message);
    }
    Ok(())
}
