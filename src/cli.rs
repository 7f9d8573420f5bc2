//! The command line: `serve`, and the operator's commands, which talk to a
//! running daemon over the control socket or, when none runs, open the
//! database directly.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, Layer};
use crate::control::{self, Request};
use crate::store::{Store, StoreSettings};

/// Order from every stall over the venue Wi-Fi, and skip the queue.
#[derive(Debug, Parser)]
#[command(name = "queueless", version, about)]
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
    Serve(ServeArgs),
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
    Status,
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
        if let Command::Serve(s) = &self.command {
            flags.http = s.http;
            flags.https = s.https;
            flags.demo = s.demo.then_some(true);
        }
        Ok(config::merge(config::defaults(), &[file, env, flags])?)
    }
}

/// Runs an operator command (anything but `serve`).
pub async fn run_command(cli: &Cli, config: &Config) -> anyhow::Result<()> {
    let (request, json) = match &cli.command {
        Command::Serve(_) => bail!("serve is not an operator command"),
        Command::Status => (Request::Status, false),
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
            if matches!(request, Request::Status) {
                bail!(
                    "queueless is not running (no answer on {})",
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
