//! The store: one redb file, and the only module that touches redb.
//!
//! Reads run on the blocking pool against a snapshot (`Store::read`);
//! every write goes through the one writer thread (`Store::write`), which
//! batches concurrent jobs into one transaction and publishes their events
//! only after commit. Callers hold a cheap, cloneable [`Store`].
//!
//! Schema: [`tables`] lists every table; `SCHEMA_VERSION` is checked at
//! open, older files are migrated in order, newer ones refused.

pub mod accounts;
pub mod backup;
pub mod catalog;
pub mod checkout;
pub mod orders;
pub mod service;
pub mod tables;
pub mod wifi;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use accounts::NewUser;
pub use catalog::{ItemDraft, ItemPatch, ItemView, MenuView, ShopPatch};
pub use checkout::{Checkout, CheckoutLine, MAX_LINES, MAX_QUANTITY, Placed};
pub use orders::{OrderView, Report, ReportLine, Scope};
pub use tables::View;
pub use writer::{Tx, WriterSettings};

use crate::domain::order::TransitionError;
use crate::domain::shop::Refusal;
use crate::domain::{ItemId, Timestamp};
use crate::events::DomainEvent;

/// The schema this binary writes. Bump it with a migration below.
pub const SCHEMA_VERSION: u64 = 2;

type Migration = fn(&redb::WriteTransaction) -> Result<(), StoreError>;

/// Migrations: entry `i` upgrades a file from version `i + 1` to `i + 2`.
const MIGRATIONS: &[Migration] = &[wifi::migrate_typed_sessions];

/// What can go wrong in the store. Every variant is a fact a caller can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// redb failed (I/O, corruption, …).
    #[error("database error: {0}")]
    Storage(Arc<redb::Error>),
    /// A stored record does not decode (a bug or a damaged file).
    #[error("a stored record does not decode: {0}")]
    Codec(postcard::Error),
    /// The file was written by a newer queueless.
    #[error(
        "the database has schema version {found}, newer than this queueless ({supported}); upgrade queueless or restore a backup"
    )]
    NewerSchema {
        /// Version in the file.
        found: u64,
        /// Version this binary knows.
        supported: u64,
    },
    /// The writer has stopped (the daemon is shutting down).
    #[error("the store is shutting down")]
    Unavailable,
    /// No such thing (or not yours to see).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for ("order", "item 12").
        what: String,
    },
    /// The item cannot be ordered in the quantity asked.
    #[error("{name} is sold out (only {left} left)")]
    OutOfStock {
        /// The item that ran out.
        item: ItemId,
        /// Its name.
        name: String,
        /// How many can still be ordered.
        left: u64,
    },
    /// The item is switched off by its shop.
    #[error("{name} is not available right now")]
    ItemUnavailable {
        /// The item.
        item: ItemId,
        /// Its name.
        name: String,
    },
    /// The shop does not take orders now.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Not a valid stage change.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The input breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The change conflicts with what is stored (a taken email, a reused key, a closed table).
    #[error("{0}")]
    Conflict(String),
    /// A bug; the message is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

macro_rules! storage_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Storage(Arc::new(e.into()))
            }
        }
    )*};
}
storage_error!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Settings of the store (see [`WriterSettings`]).
pub type StoreSettings = WriterSettings;

impl Default for WriterSettings {
    fn default() -> Self {
        Self {
            group_commit: true,
            max_batch: 256,
            utc_offset_minutes: 0,
            cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A handle to the store: cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Arc<Database>,
    path: PathBuf,
    jobs: mpsc::Sender<writer::Job>,
    events: broadcast::Sender<Arc<DomainEvent>>,
    settings: StoreSettings,
    closed: tokio::sync::watch::Receiver<bool>,
}

/// How many events a slow subscriber may fall behind before it is told to resync.
const EVENT_BUFFER: usize = 4096;

impl Store {
    /// Opens (or creates) the database at `path`, checks or migrates its
    /// schema, and starts the writer thread. Blocking: call it at start-up.
    pub fn open(path: &Path, settings: StoreSettings) -> Result<Self, StoreError> {
        let db = Database::builder()
            .set_cache_size(settings.cache_bytes)
            .create(path)?;
        prepare_schema(&db)?;
        let db = Arc::new(db);
        let (jobs, rx) = mpsc::channel(1024);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let writer_db = Arc::clone(&db);
        let writer_events = events.clone();
        let (closed_tx, closed) = tokio::sync::watch::channel(false);
        std::thread::Builder::new()
            .name("queueless-writer".into())
            .spawn(move || {
                // Returns once every handle is gone; the file is closed then.
                writer::run(writer_db, rx, writer_events, settings);
                let _ = closed_tx.send(true);
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                path: path.to_owned(),
                jobs,
                events,
                settings,
                closed,
            }),
        })
    }

    /// Drops this handle and waits (up to `limit`) until the writer has
    /// finished and the file is closed, so it can be opened again at once.
    /// Returns whether it closed in time (other handles may still live).
    pub async fn close(self, limit: std::time::Duration) -> bool {
        let mut closed = self.inner.closed.clone();
        drop(self);
        tokio::time::timeout(limit, closed.wait_for(|c| *c))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The settings it was opened with.
    pub fn settings(&self) -> StoreSettings {
        self.inner.settings
    }

    /// Events published after each commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.inner.events.subscribe()
    }

    /// Runs `f` on a read snapshot, on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.inner.db);
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            f(&txn)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }

    /// Runs `f` in the writer's next batch; resolves after commit.
    /// `f` must check before it writes: on `Err` it must have written nothing.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = job(f);
        self.inner
            .jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }

    /// Blocking variant of [`Store::write`] for the CLI (outside a runtime).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = job(f);
        self.inner
            .jobs
            .blocking_send(job)
            .map_err(|_| StoreError::Unavailable)?;
        answer
            .blocking_recv()
            .map_err(|_| StoreError::Unavailable)?
    }

    /// Blocking read for the CLI.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.inner.db.begin_read()?;
        f(&txn)
    }

    /// The current time as the store sees it.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Wraps `f` as a writer job whose result arrives, after commit, on the receiver.
fn job<T, F>(f: F) -> (writer::Job, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: writer::Job = Box::new(move |tx| {
        let result = f(tx);
        let succeeded = result.is_ok();
        let completion: writer::Completion = Box::new(move |commit| {
            // The caller may have gone away (client disconnected): fine.
            let _ = reply.send(commit.and(result));
        });
        (succeeded, completion)
    });
    (job, answer)
}

/// Creates the tables of a new file, or checks and migrates an old one.
fn prepare_schema(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write()?;
    let found = {
        let meta = txn.open_table(tables::META)?;
        meta.get("schema_version")?.map(|g| g.value())
    };
    match found {
        None => tables::create_all(&txn)?,
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::NewerSchema {
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        Some(v) => {
            for (i, migrate) in MIGRATIONS.iter().enumerate() {
                let from = i as u64 + 1;
                if from >= v {
                    tracing::info!(from, to = from + 1, "migrating the database schema");
                    migrate(&txn)?;
                }
            }
            tables::create_all(&txn)?;
        }
    }
    txn.open_table(tables::META)?
        .insert("schema_version", SCHEMA_VERSION)?;
    txn.commit()?;
    Ok(())
}

/// Reads the schema version of the file at `path` (for tests and `check`).
pub fn schema_version(store: &Store) -> Result<u64, StoreError> {
    store.read_blocking(|txn| {
        let meta = txn.open_table(tables::META)?;
        let v = meta.get("schema_version")?.map(|g| g.value());
        Ok(v.unwrap_or(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_the_current_schema_and_reopens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.redb");
        {
            let store = Store::open(&path, StoreSettings::default()).expect("opens");
            assert_eq!(schema_version(&store).expect("reads"), SCHEMA_VERSION);
        }
        // The writer thread holds the database until its channel closes.
        let reopened = (0..100).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            Store::open(&path, StoreSettings::default()).ok()
        });
        assert!(reopened.is_some(), "the file reopens with the same schema");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.redb");
        {
            let db = Database::create(&path).expect("creates");
            let txn = db.begin_write().expect("write");
            txn.open_table(tables::META)
                .expect("meta")
                .insert("schema_version", SCHEMA_VERSION + 1)
                .expect("insert");
            txn.commit().expect("commit");
        }
        let err = Store::open(&path, StoreSettings::default()).expect_err("refused");
        assert!(
            matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1)
        );
        assert!(err.to_string().contains("upgrade queueless"));
    }
}
