//! The local control socket (`<data_dir>/control.sock`, mode 0600): the CLI
//! talks to a running daemon through it, since the daemon holds the
//! database open. One JSON request per line, one JSON answer per line.
//! When no daemon answers, the CLI opens the database itself and runs the
//! same [`Request`] through [`handle`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::domain::account::Role;
use crate::gateway::mac::Mac;
use crate::gateway::{Gateway, GatewayError};
use crate::store::{NewUser, Store, StoreError, accounts, backup, catalog};

/// A command for the daemon.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Daemon status.
    Status,
    /// Consistent copy of the database to a new file.
    Backup {
        /// Target file; must not exist.
        to: PathBuf,
    },
    /// Every shop.
    ShopList,
    /// Create an admin account (the password arrives hashed).
    AdminCreate {
        /// Login email.
        email: String,
        /// Display name.
        name: String,
        /// argon2id PHC string.
        password_hash: String,
    },
    /// Wi-Fi clients the gateway knows.
    Clients,
    /// Let a client through.
    Auth {
        /// `aa:bb:cc:dd:ee:ff`.
        mac: String,
        /// Session length (default: the configured one).
        minutes: Option<u32>,
    },
    /// Put a client back behind the portal.
    Deauth {
        /// `aa:bb:cc:dd:ee:ff`.
        mac: String,
    },
    /// Always let a client through.
    Trust {
        /// `aa:bb:cc:dd:ee:ff`.
        mac: String,
    },
    /// Never let a client through.
    Block {
        /// `aa:bb:cc:dd:ee:ff`.
        mac: String,
    },
}

/// The daemon's answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Response {
    /// Whether the command worked.
    pub ok: bool,
    /// A line for people.
    pub message: String,
    /// Structured result.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Response {
    fn ok(message: impl Into<String>, data: serde_json::Value) -> Self {
        Self {
            ok: true,
            message: message.into(),
            data,
        }
    }
    fn err(message: impl Into<String>) -> Self {
        Self {
            ok: false,
            message: message.into(),
            data: serde_json::Value::Null,
        }
    }
}

/// Runs one request against the store (no daemon: no gateway).
pub async fn handle(store: &Store, req: Request) -> Response {
    handle_with(store, None, req).await
}

/// Runs one request against the store and, for client commands, the gateway.
pub async fn handle_with(store: &Store, gateway: Option<&Gateway>, req: Request) -> Response {
    let mac = match &req {
        Request::Auth { mac, .. }
        | Request::Deauth { mac }
        | Request::Trust { mac }
        | Request::Block { mac } => Some(mac.parse::<Mac>()),
        _ => None,
    };
    let mac = match mac.transpose() {
        Ok(m) => m,
        Err(e) => return Response::err(e.to_string()),
    };
    let gateway_cmd = matches!(
        req,
        Request::Clients
            | Request::Auth { .. }
            | Request::Deauth { .. }
            | Request::Trust { .. }
            | Request::Block { .. }
    );
    if gateway_cmd {
        let Some(gw) = gateway else {
            return Response::err(
                "the captive gateway is not running: start `queueless serve` with --guest-interface",
            );
        };
        return match gateway_run(gw, req, mac).await {
            Ok(r) => r,
            Err(e) => Response::err(e.to_string()),
        };
    }
    let mut r = match run(store, req.clone()).await {
        Ok(r) => r,
        Err(e) => Response::err(e.to_string()),
    };
    if req == Request::Status
        && let Some(gw) = gateway
        && let Some(obj) = r.data.as_object_mut()
    {
        let s = gw.settings();
        obj.insert(
            "gateway".into(),
            serde_json::json!({
                "interfaces": s.interfaces, "session_seconds": s.session_seconds,
                "idle_seconds": s.idle_seconds, "internet": s.internet, "fail_open": s.fail_open,
            }),
        );
        r.message
            .push_str(&format!(", gateway on {}", s.interfaces.join(", ")));
    }
    r
}

async fn gateway_run(
    gw: &Gateway,
    req: Request,
    mac: Option<Mac>,
) -> Result<Response, GatewayError> {
    let need = || mac.ok_or_else(|| GatewayError::Invalid("a MAC address is needed".into()));
    Ok(match req {
        Request::Clients => {
            let list = gw.clients().await?;
            let text = list
                .iter()
                .map(|c| {
                    format!(
                        "{}  {:<15} {:<16} {:<10} {:>6} min  {:>10} B",
                        c.session.mac,
                        c.session
                            .ips
                            .last()
                            .map_or_else(|| "-".to_owned(), ToString::to_string),
                        c.session.hostname.as_deref().unwrap_or("-"),
                        c.state(),
                        c.seconds_remaining / 60,
                        c.session.bytes_in,
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let data = serde_json::to_value(&list).unwrap_or_default();
            Response::ok(
                if text.is_empty() {
                    "no clients yet".into()
                } else {
                    text
                },
                data,
            )
        }
        Request::Auth { minutes, .. } => {
            let mac = need()?;
            let mut s = gw.authorize(mac, minutes).await?;
            // Device cookies never leave the store.
            s.devices.clear();
            Response::ok(
                format!("{mac} may pass"),
                serde_json::to_value(&s).unwrap_or_default(),
            )
        }
        Request::Deauth { .. } => {
            let mac = need()?;
            gw.deauthorize(mac, false).await?;
            Response::ok(
                format!("{mac} is back behind the portal"),
                serde_json::Value::Null,
            )
        }
        Request::Trust { .. } => {
            let mac = need()?;
            gw.trust(mac).await?;
            Response::ok(format!("{mac} is trusted"), serde_json::Value::Null)
        }
        Request::Block { .. } => {
            let mac = need()?;
            gw.block(mac).await?;
            Response::ok(format!("{mac} is blocked"), serde_json::Value::Null)
        }
        _ => Response::err("not a gateway command"),
    })
}

async fn run(store: &Store, req: Request) -> Result<Response, StoreError> {
    Ok(match req {
        Request::Clients
        | Request::Auth { .. }
        | Request::Deauth { .. }
        | Request::Trust { .. }
        | Request::Block { .. } => Response::err("client commands need the running daemon"),
        Request::Status => {
            let space = store.check_space();
            let state = if store.is_down() {
                "\ndatabase: DOWN after a write failed; re-opened as soon as writing works again"
            } else {
                ""
            };
            Response::ok(
                format!(
                    "queueless {} running, database {}\n{}{state}",
                    env!("CARGO_PKG_VERSION"),
                    store.path().display(),
                    space.describe()
                ),
                serde_json::json!({
                    "version": env!("CARGO_PKG_VERSION"),
                    "database": store.path(),
                    "space": space,
                    "database_down": store.is_down(),
                }),
            )
        }
        Request::Backup { to } => {
            let target = to.clone();
            let entries = store.read(move |r| backup::copy_all(r, &target)).await?;
            // Photos live beside the database, not in it: they go beside
            // the copy, in `<file>.photos/`.
            let (from, photo_dir) = (store.photos_dir(), backup::photos_beside(&to));
            let shown = photo_dir.clone();
            let copied = tokio::task::spawn_blocking(move || {
                crate::store::photos::copy_all(&from, &photo_dir)
            })
            .await
            .map_err(|e| StoreError::Internal(format!("copying photos: {e}")))??;
            Response::ok(
                format!(
                    "backed up {entries} entries to {} and {copied} photos to {}",
                    to.display(),
                    shown.display()
                ),
                serde_json::json!({ "entries": entries, "to": to, "photos": copied, "photos_to": shown }),
            )
        }
        Request::ShopList => {
            let shops = store.read(|r| catalog::shops(r, false)).await?;
            let rows: Vec<serde_json::Value> = shops
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id.0, "name": s.name, "location": s.location,
                        "approval": crate::web::api::dto::approval_str(s.approval),
                        "paused": s.paused, "owner_user_id": s.owner.0,
                    })
                })
                .collect();
            let text = shops
                .iter()
                .map(|s| {
                    format!(
                        "{:>4}  {:<28} {:<9} {}",
                        s.id.0,
                        s.name,
                        crate::web::api::dto::approval_str(s.approval),
                        if s.paused { "paused" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Response::ok(text, serde_json::Value::Array(rows))
        }
        Request::AdminCreate {
            email,
            name,
            password_hash,
        } => {
            let user = store
                .write(move |tx| {
                    accounts::create_user(
                        tx,
                        NewUser {
                            email,
                            name,
                            role: Role::Admin,
                            password_hash,
                        },
                    )
                })
                .await?;
            Response::ok(
                format!("admin {} created (user {})", user.email, user.id),
                serde_json::json!({ "user_id": user.id.0 }),
            )
        }
    })
}

/// Serves the control socket until the task is dropped.
pub async fn serve(listener: UnixListener, store: Store) {
    serve_with(listener, store, None).await;
}

/// Serves the control socket, with the gateway's client commands.
pub async fn serve_with(listener: UnixListener, store: Store, gateway: Option<Gateway>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        let gateway = gateway.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &store, gateway.as_ref()).await {
                tracing::debug!(error = %e, "control connection failed");
            }
        });
    }
}

async fn answer(
    stream: UnixStream,
    store: &Store,
    gateway: Option<&Gateway>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // Control requests are small: never buffer more than 64 KiB of one.
    BufReader::new(tokio::io::AsyncReadExt::take(read, 64 * 1024))
        .read_line(&mut line)
        .await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(req) => handle_with(store, gateway, req).await,
        Err(e) => Response::err(format!("bad request: {e}")),
    };
    let mut out = serde_json::to_vec(&response).unwrap_or_default();
    out.push(b'\n');
    write.write_all(&out).await
}

/// Binds the socket with mode 0600, replacing a stale file.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if path.exists() {
        // The database lock already guarantees no other daemon uses this
        // data dir, so a socket file here is left over from a crash.
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Sends one request to a running daemon; `Ok(None)` when none is running.
pub async fn request(path: &Path, req: &Request) -> std::io::Result<Option<Response>> {
    let stream = match UnixStream::connect(path).await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let (read, mut write) = stream.into_split();
    let mut out = serde_json::to_vec(req).map_err(std::io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    serde_json::from_str(&line)
        .map(Some)
        .map_err(std::io::Error::other)
}
