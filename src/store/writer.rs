//! The one writer: a dedicated thread that owns every redb write
//! transaction. Concurrent requests are batched into one transaction and
//! one fsync (group commit); replies and events go out only after commit.
//!
//! A job must check everything before it writes anything: a job that
//! returns an error must leave the transaction untouched. [`Tx`] tracks
//! writes, and a job that breaks this rule aborts its whole batch (every
//! caller in it gets an error, nothing is committed), so a half-written
//! order can never land.

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Duration;

use redb::{Database, Durability, Key, TableDefinition, WriteTransaction};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use super::space::{SpaceLevel, SpaceLevels};
use super::tables::{self, META};
use super::{Shared, StoreError};
use crate::domain::Timestamp;
use crate::events::DomainEvent;

/// What a job hands back to run after the batch commits (or fails).
pub(crate) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One unit of work for the writer: runs inside the batch's transaction
/// and says whether it succeeded.
pub(crate) type Job = Box<dyn FnOnce(&mut Tx<'_>) -> (bool, Completion) + Send>;

/// A write transaction as one job sees it.
pub struct Tx<'a> {
    txn: &'a WriteTransaction,
    /// The commit time of this batch.
    pub now: Timestamp,
    /// Venue-local time is UTC plus this many minutes.
    pub utc_offset_minutes: i32,
    events: Vec<DomainEvent>,
    writes: u64,
    /// The filesystem is below its floor: new orders are refused.
    refuse_new_orders: bool,
    /// The first I/O failure of this batch: it aborts the batch and makes
    /// the writer re-open the database.
    failure: Option<StoreError>,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> std::ops::Deref for Tx<'a> {
    type Target = WriteTransaction;
    fn deref(&self) -> &WriteTransaction {
        self.txn
    }
}

impl Tx<'_> {
    /// Refuses a new order while the filesystem is below its floor of
    /// free space; staff actions on placed orders use the reserve.
    pub fn admit_new_order(&self) -> Result<(), StoreError> {
        if self.refuse_new_orders {
            Err(StoreError::OutOfSpace)
        } else {
            Ok(())
        }
    }

    /// Keeps the first I/O failure, so the batch is aborted as a whole.
    fn note<T>(&mut self, r: Result<T, redb::Error>) -> Result<T, StoreError> {
        r.map_err(|e| {
            let e = StoreError::from_redb(e);
            if e.is_storage_down() && self.failure.is_none() {
                self.failure = Some(e.clone());
            }
            e
        })
    }

    /// Publishes `event` once the batch has committed.
    pub fn publish(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// Stores a record.
    pub fn put<'k, K: Key + 'static, T: Serialize>(
        &mut self,
        def: TableDefinition<'static, K, &'static [u8]>,
        key: impl Borrow<K::SelfType<'k>>,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = tables::encode(value)?;
        self.writes += 1;
        let r = self
            .txn
            .open_table(def)
            .map_err(redb::Error::from)
            .and_then(|mut t| {
                t.insert(key, bytes.as_slice())
                    .map(drop)
                    .map_err(redb::Error::from)
            });
        self.note(r)
    }

    /// Stores a plain value (ids, index entries).
    pub fn put_value<'k, 'v, K: Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
        key: impl Borrow<K::SelfType<'k>>,
        value: impl Borrow<V::SelfType<'v>>,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let r = self
            .txn
            .open_table(def)
            .map_err(redb::Error::from)
            .and_then(|mut t| t.insert(key, value).map(drop).map_err(redb::Error::from));
        self.note(r)
    }

    /// Removes an entry of any table.
    pub fn remove<'k, K: Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let r = self
            .txn
            .open_table(def)
            .map_err(redb::Error::from)
            .and_then(|mut t| t.remove(key).map(drop).map_err(redb::Error::from));
        self.note(r)
    }

    /// Allocates the next id of a sequence (`"shop"`, `"order"`, …), from 1.
    pub fn next_id(&mut self, sequence: &str) -> Result<u64, StoreError> {
        let key = format!("seq:{sequence}");
        let next = {
            let table = self.txn.open_table(META)?;
            let found = redb::ReadableTable::get(&table, key.as_str())?;
            found.map_or(1, |g| g.value())
        };
        self.put_value(META, key.as_str(), next + 1)?;
        Ok(next)
    }
}

/// The writer's settings.
#[derive(Clone, Copy, Debug)]
pub struct WriterSettings {
    /// Batch concurrent jobs into one transaction (off: one commit per job,
    /// for benchmarks).
    pub group_commit: bool,
    /// Most jobs in one batch.
    pub max_batch: usize,
    /// Venue-local time is UTC plus this many minutes.
    pub utc_offset_minutes: i32,
    /// Most memory redb keeps as page cache. Its own default is 1 GiB,
    /// which a busy day's database would grow into on a 128 MB router;
    /// the kernel's page cache still holds the file.
    pub cache_bytes: usize,
    /// Free-space warning and floor of the data directory's filesystem.
    pub space: SpaceLevels,
}

/// How often the writer tries to re-open a database that failed.
const REOPEN_EVERY: Duration = Duration::from_millis(250);

/// Runs the writer until every sender is gone. After an I/O error it
/// closes the database and re-opens it as soon as a write succeeds again;
/// meanwhile jobs are refused (`StorageDown`), nothing is lost that was
/// acknowledged (an answer goes out only after its commit).
pub(crate) fn run(
    shared: &Shared,
    mut jobs: mpsc::Receiver<Job>,
    events: &broadcast::Sender<Arc<DomainEvent>>,
) {
    let settings = shared.settings;
    let max_batch = if settings.group_commit {
        settings.max_batch.max(1)
    } else {
        1
    };
    let mut batch = Vec::with_capacity(max_batch);
    let mut db = shared.current().ok();
    loop {
        let open = match db.clone() {
            Some(open) => open,
            None => match shared.reopen() {
                Ok(open) => {
                    tracing::info!("the database is re-opened and takes writes again");
                    db = Some(Arc::clone(&open));
                    open
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the database cannot be re-opened yet");
                    // Jobs queued meanwhile are dropped: their callers see
                    // `StorageDown` at once rather than waiting.
                    loop {
                        match jobs.try_recv() {
                            Ok(job) => drop(job),
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => return,
                        }
                    }
                    std::thread::sleep(REOPEN_EVERY);
                    continue;
                }
            },
        };
        if let Some(reply) = shared.compaction_wanted() {
            // The writer lets go of the database too: compaction needs
            // the only handle.
            drop(open);
            drop(db.take());
            let _ = reply.send(shared.compact());
            db = shared.current().ok();
            continue;
        }
        let Some(first) = jobs.blocking_recv() else {
            break;
        };
        batch.push(first);
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let refuse_new_orders = shared.check_space().level == SpaceLevel::Floor;
        let outcome = run_batch(
            &open,
            &mut batch,
            events,
            Context {
                now: shared.clock.now(),
                utc_offset_minutes: settings.utc_offset_minutes,
                refuse_new_orders,
            },
        );
        if let Err(e) = outcome
            && e.is_storage_down()
        {
            tracing::error!(error = %e, "the database failed to write: closing it to re-open it once writing works again");
            drop(open);
            db = None;
            shared.take_down();
        }
    }
    tracing::debug!("writer stopped: no more senders");
}

/// What a batch needs to know besides its jobs.
#[derive(Clone, Copy, Debug)]
struct Context {
    now: Timestamp,
    utc_offset_minutes: i32,
    refuse_new_orders: bool,
}

/// Runs one batch in one transaction; the error, if any, is what every
/// job of the batch was answered with.
fn run_batch(
    db: &Database,
    batch: &mut Vec<Job>,
    events: &broadcast::Sender<Arc<DomainEvent>>,
    cx: Context,
) -> Result<(), StoreError> {
    let size = batch.len();
    let mut txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            let e = StoreError::from(e);
            tracing::error!(error = %e, "cannot begin a write transaction");
            // Dropping the unrun jobs drops their reply senders: each caller
            // sees `StorageDown` or `Unavailable`.
            batch.clear();
            return Err(e);
        }
    };
    if let Err(e) = txn.set_durability(Durability::Immediate) {
        tracing::warn!(error = %e, "cannot set immediate durability");
    }
    let mut completions = Vec::with_capacity(size);
    let mut published = Vec::new();
    let mut poisoned = false;
    let failure = {
        let mut tx = Tx {
            txn: &txn,
            now: cx.now,
            utc_offset_minutes: cx.utc_offset_minutes,
            events: Vec::new(),
            writes: 0,
            refuse_new_orders: cx.refuse_new_orders,
            failure: None,
        };
        for job in batch.drain(..) {
            let writes_before = tx.writes;
            let events_before = tx.events.len();
            let (succeeded, completion) = job(&mut tx);
            if !succeeded {
                tx.events.truncate(events_before);
                if tx.writes != writes_before {
                    tracing::error!("a failed write job had already written: aborting its batch");
                    poisoned = true;
                }
            }
            completions.push(completion);
        }
        published.append(&mut tx.events);
        tx.failure
    };
    let outcome = if let Some(failure) = failure {
        let _ = txn.abort();
        Err(failure)
    } else if poisoned {
        let _ = txn.abort();
        Err(StoreError::Internal(
            "a write failed half-way; nothing was saved".into(),
        ))
    } else {
        txn.commit().map_err(StoreError::from)
    };
    if let Err(e) = &outcome {
        tracing::error!(error = %e, jobs = size, "write batch failed");
    } else {
        for event in published {
            // No subscribers is fine: nobody is watching.
            let _ = events.send(Arc::new(event));
        }
    }
    for completion in completions {
        completion(outcome.clone());
    }
    outcome
}
