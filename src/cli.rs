//! The command line: `serve`, and the operator's commands, which talk to a
//! running daemon over the control socket or, when none runs, open the
//! database directly.

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

mod flags;

pub use flags::{GlobalFlags, ServeFlags, SettingFlags};

use crate::config::{self, Config, Layer};
use crate::control::{self, Request};
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
    /// Settings every command takes (`--data-dir`).
    #[command(flatten)]
    pub global: GlobalFlags,
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

/// Flags of `serve` (and `check`): one per setting, from `config::SETTINGS`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The settings given as flags.
    #[command(flatten)]
    pub settings: ServeFlags,
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
        self.config_with_env(std::env::vars_os())
    }

    /// The same, with these environment variables.
    pub fn config_with_env(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> anyhow::Result<Config> {
        Ok(config::merge(config::defaults(), &self.layers(vars)?)?)
    }

    /// The file's, the environment's and the flags' layers, in that order.
    pub fn layers(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> anyhow::Result<[Layer; 3]> {
        let file = match &self.config {
            Some(path) => config::read_file(path)?,
            None => Layer::default(),
        };
        let env = config::env_layer(vars)?;
        let mut flags = self.global.layer()?;
        if let Command::Serve(s) | Command::Check(s) = &self.command {
            flags.overlay(s.settings.layer()?);
        }
        Ok([file, env, flags])
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
