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
pub mod clock;
pub mod compaction;
pub mod folded;
pub mod kitchen;
mod migrate_options;
pub mod options;
pub mod orders;
pub mod photos;
pub mod pickup;
pub mod printing;
pub mod queue;
pub mod report;
pub mod retention;
pub mod service;
pub mod space;
pub mod staff;
pub mod tables;
pub mod wifi;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use accounts::NewUser;
pub use catalog::{ItemDraft, ItemPatch, ItemView, MenuView, ShopPatch};
pub use checkout::{Checkout, CheckoutLine, MAX_LINES, MAX_QUANTITY, Placed};
pub use clock::Clock;
pub use orders::{OrderView, Report, ReportLine, Scope};
pub use space::{SpaceLevel, SpaceLevels, SpaceReport};
pub use tables::View;
pub use writer::{Tx, WriterSettings};

use crate::domain::order::TransitionError;
use crate::domain::shop::Refusal;
use crate::domain::{ItemId, Timestamp};
use crate::events::DomainEvent;

/// The schema this binary writes. Bump it with a migration below.
pub const SCHEMA_VERSION: u64 = 3;

type Migration = fn(&redb::WriteTransaction) -> Result<(), StoreError>;

/// Migrations: entry `i` upgrades a file from version `i + 1` to `i + 2`.
const MIGRATIONS: &[Migration] = &[
    migrate_options::orders_gain_options,
    wifi::migrate_typed_sessions,
];

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
    /// The database hit an I/O error (a full disk, a failing flash) and
    /// cannot be used until the writer has re-opened it, which it does by
    /// itself as soon as writing works again.
    #[error(
        "the database cannot be used right now ({0}); it is re-opened as soon as writing works again"
    )]
    StorageDown(String),
    /// New orders are refused: the data directory's filesystem is below
    /// its floor of free space (what is left is kept for placed orders).
    #[error("the venue's system is out of storage and takes no new orders; ask at the counter")]
    OutOfSpace,
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
    /// The options chosen for an item break its groups' rules.
    #[error(transparent)]
    Choice(crate::domain::options::ChoiceError),
    /// An uploaded photo is too large or not an image.
    #[error(transparent)]
    Photo(crate::domain::photo::PhotoError),
    /// An option is switched off by its shop.
    #[error("{name} is not available right now; choose another option")]
    OptionUnavailable {
        /// The option.
        option: crate::domain::OptionId,
        /// Its name.
        name: String,
    },
    /// An option cannot be had in the quantity asked.
    #[error("{name} is sold out (only {left} left); choose another option")]
    OptionOutOfStock {
        /// The option that ran out.
        option: crate::domain::OptionId,
        /// Its name.
        name: String,
        /// Portions that can still be ordered.
        left: u64,
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

impl StoreError {
    /// Sorts a redb error: I/O failures (which latch redb until the file
    /// is re-opened) are [`StoreError::StorageDown`], the rest `Storage`.
    fn from_redb(e: redb::Error) -> Self {
        match e {
            redb::Error::Io(io) => StoreError::StorageDown(io.to_string()),
            redb::Error::PreviousIo => StoreError::StorageDown("an earlier write failed".into()),
            redb::Error::DatabaseClosed => {
                StoreError::StorageDown("the database is being re-opened".into())
            }
            other => StoreError::Storage(Arc::new(other)),
        }
    }

    /// Whether this error means the database must be closed and re-opened.
    pub fn is_storage_down(&self) -> bool {
        matches!(self, StoreError::StorageDown(_))
    }
}

macro_rules! storage_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::from_redb(e.into())
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
            space: SpaceLevels::default(),
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
    shared: Arc<Shared>,
    jobs: mpsc::Sender<writer::Job>,
    events: broadcast::Sender<Arc<DomainEvent>>,
    closed: tokio::sync::watch::Receiver<bool>,
}

/// What the handles and the writer share: the open database (none while
/// it is being re-opened after an I/O error), the clock, the space watch.
#[derive(Debug)]
pub(crate) struct Shared {
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    settings: StoreSettings,
    clock: Clock,
    space: space::SpaceState,
    /// A compaction asked for: the writer does it before its next batch.
    compaction: std::sync::Mutex<Option<oneshot::Sender<Result<bool, StoreError>>>>,
}

impl Shared {
    /// The open database, or `StorageDown` while it is being re-opened.
    fn current(&self) -> Result<Arc<Database>, StoreError> {
        let slot = self
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.clone().ok_or_else(|| {
            StoreError::StorageDown("the database is being re-opened after a write failed".into())
        })
    }

    /// Whether the database is closed for re-opening.
    fn is_down(&self) -> bool {
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
    }

    /// Closes the database after an I/O error: new reads and writes get
    /// `StorageDown` until [`Shared::reopen`] succeeds. The file closes
    /// when the last read in flight lets go of it.
    pub(crate) fn take_down(&self) {
        let old = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(old);
    }

    /// Opens the file again and commits a write (the schema check) to
    /// prove writing works; on success the store is back in service.
    pub(crate) fn reopen(&self) -> Result<Arc<Database>, StoreError> {
        let db = Arc::new(open_file(&self.path, self.settings)?);
        *self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&db));
        Ok(db)
    }

    /// The compaction asked for, if any (taken by the writer).
    pub(crate) fn compaction_wanted(&self) -> Option<oneshot::Sender<Result<bool, StoreError>>> {
        self.compaction
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Compacts the file (on the writer thread, which holds no
    /// transaction). Reads wait meanwhile (the slot's lock is held); reads
    /// in flight get up to two seconds to finish, else nothing is done.
    pub(crate) fn compact(&self) -> Result<bool, StoreError> {
        let mut slot = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mut held) = slot.take() else {
            return Err(StoreError::StorageDown(
                "the database is being re-opened".into(),
            ));
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match Arc::try_unwrap(held) {
                Ok(mut database) => {
                    let mut compacted = false;
                    let mut result = Ok(());
                    // Each call moves what it can; a few rounds suffice.
                    for _ in 0..8 {
                        match database.compact() {
                            Ok(true) => compacted = true,
                            Ok(false) => break,
                            Err(e) => {
                                result = Err(StoreError::from(redb::Error::from(e)));
                                break;
                            }
                        }
                    }
                    *slot = Some(Arc::new(database));
                    return result.map(|()| compacted);
                }
                Err(back) if std::time::Instant::now() < deadline => {
                    held = back;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(back) => {
                    *slot = Some(back);
                    return Ok(false);
                }
            }
        }
    }

    /// Measures free space now (see [`space`]).
    pub(crate) fn check_space(&self) -> SpaceReport {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        self.space.check(dir, self.settings.space)
    }
}

/// Opens (or creates) the file and checks or migrates its schema.
fn open_file(path: &Path, settings: StoreSettings) -> Result<Database, StoreError> {
    let db = Database::builder()
        .set_cache_size(settings.cache_bytes)
        .create(path)?;
    prepare_schema(&db)?;
    Ok(db)
}

/// How many events a slow subscriber may fall behind before it is told to resync.
const EVENT_BUFFER: usize = 4096;

impl Store {
    /// Opens (or creates) the database at `path`, checks or migrates its
    /// schema, and starts the writer thread. Blocking: call it at start-up.
    pub fn open(path: &Path, settings: StoreSettings) -> Result<Self, StoreError> {
        Self::open_with_clock(path, settings, Clock::system())
    }

    /// [`Store::open`] with a clock of the caller's (tests move it by hand).
    pub fn open_with_clock(
        path: &Path,
        settings: StoreSettings,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        let db = open_file(path, settings)?;
        let shared = Arc::new(Shared {
            db: RwLock::new(Some(Arc::new(db))),
            path: path.to_owned(),
            settings,
            clock,
            space: space::SpaceState::default(),
            compaction: std::sync::Mutex::default(),
        });
        shared.check_space();
        let (jobs, rx) = mpsc::channel(1024);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let writer_shared = Arc::clone(&shared);
        let writer_events = events.clone();
        let (closed_tx, closed) = tokio::sync::watch::channel(false);
        std::thread::Builder::new()
            .name("queueless-writer".into())
            .spawn(move || {
                // Returns once every handle is gone; the file is closed then.
                writer::run(&writer_shared, rx, &writer_events);
                writer_shared.take_down();
                let _ = closed_tx.send(true);
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                jobs,
                events,
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

    /// Where item photos are kept: `photos/` beside the database file.
    pub fn photos_dir(&self) -> std::path::PathBuf {
        photos::dir(self.path())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.shared.path
    }

    /// The settings it was opened with.
    pub fn settings(&self) -> StoreSettings {
        self.inner.shared.settings
    }

    /// Measures the free space of the database's filesystem now.
    pub fn check_space(&self) -> SpaceReport {
        self.inner.shared.check_space()
    }

    /// The last measurement of free space.
    pub fn space(&self) -> SpaceReport {
        self.inner
            .shared
            .space
            .report(self.inner.shared.settings.space)
    }

    /// Whether the database is closed after an I/O error, waiting to be
    /// re-opened.
    pub fn is_down(&self) -> bool {
        self.inner.shared.is_down()
    }

    /// Why a job got no answer: the writer dropped it while the database
    /// was down, or the store is shutting down.
    fn lost(&self) -> StoreError {
        if self.inner.shared.is_down() {
            StoreError::StorageDown("the database is being re-opened after a write failed".into())
        } else {
            StoreError::Unavailable
        }
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
        let db = self.inner.shared.current()?;
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
        if self.inner.shared.is_down() {
            return Err(self.lost());
        }
        let (job, answer) = job(f);
        self.inner
            .jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| self.lost())?
    }

    /// Compacts the database file now (see [`compaction::maybe_compact`]
    /// for when it is worth it); returns whether it moved anything.
    pub async fn compact(&self) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        *self
            .inner
            .shared
            .compaction
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reply);
        // Wakes the writer; it compacts before its next batch.
        self.write(|_| Ok(())).await?;
        answer.await.map_err(|_| self.lost())?
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
        answer.blocking_recv().map_err(|_| self.lost())?
    }

    /// Blocking read for the CLI.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.inner.shared.current()?.begin_read()?;
        f(&txn)
    }

    /// The current time as the store sees it.
    pub fn now(&self) -> Timestamp {
        self.inner.shared.clock.now()
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.shared.clock
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
