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

/// Runs one request against the store.
pub async fn handle(store: &Store, req: Request) -> Response {
    match run(store, req).await {
        Ok(r) => r,
        Err(e) => Response::err(e.to_string()),
    }
}

async fn run(store: &Store, req: Request) -> Result<Response, StoreError> {
    Ok(match req {
        Request::Status => Response::ok(
            format!(
                "queueless {} running, database {}",
                env!("CARGO_PKG_VERSION"),
                store.path().display()
            ),
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "database": store.path() }),
        ),
        Request::Backup { to } => {
            let target = to.clone();
            let entries = store.read(move |r| backup::copy_all(r, &target)).await?;
            Response::ok(
                format!("backed up {entries} entries to {}", to.display()),
                serde_json::json!({ "entries": entries, "to": to }),
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
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &store).await {
                tracing::debug!(error = %e, "control connection failed");
            }
        });
    }
}

async fn answer(stream: UnixStream, store: &Store) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // Control requests are small: never buffer more than 64 KiB of one.
    BufReader::new(tokio::io::AsyncReadExt::take(read, 64 * 1024))
        .read_line(&mut line)
        .await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(req) => handle(store, req).await,
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
