//! Compaction: gives the file's free pages back to the filesystem once
//! retention has freed enough of them, and only while the venue is quiet.
//!
//! redb reuses freed pages, so with retention the file stops growing by
//! itself; compaction only shrinks it after a peak (a busy fortnight, a
//! lowered retention). It rewrites much of the file (flash wear) and holds
//! reads back while it runs, so it is done when it is worth it — at least
//! [`MIN_GAIN`] and a third of the file free — and never during a rush:
//! no open order and none placed in the last [`QUIET_MS`].

use redb::ReadableTable;

use super::tables::{ID_TO_ORDER, SHOP_TO_OPEN_ORDER};
use super::{Store, StoreError, Tx};
use crate::domain::order::Order;

/// Free bytes in the file below which compaction is not worth its writes.
pub const MIN_GAIN: u64 = 2 * 1024 * 1024;
/// How long after the last order placed the venue counts as quiet.
pub const QUIET_MS: u64 = 30 * 60_000;

/// How much of the file holds data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileUse {
    /// The file's length.
    pub file_bytes: u64,
    /// Pages in use (data, indexes, the allocator's own state).
    pub used_bytes: u64,
}

impl FileUse {
    /// Bytes compaction could give back.
    pub fn free_bytes(&self) -> u64 {
        self.file_bytes.saturating_sub(self.used_bytes)
    }

    /// At least [`MIN_GAIN`] and a third of the file free.
    pub fn worth_compacting(&self) -> bool {
        let free = self.free_bytes();
        free >= MIN_GAIN && free.saturating_mul(3) >= self.file_bytes
    }
}

/// Whether nothing is going on: no open order, none placed lately.
fn quiet(tx: &Tx<'_>) -> Result<bool, StoreError> {
    if tx.open_table(SHOP_TO_OPEN_ORDER)?.first()?.is_some() {
        return Ok(false);
    }
    let table = tx.open_table(ID_TO_ORDER)?;
    let Some((_, v)) = table.last()? else {
        return Ok(true);
    };
    let order: Order = super::tables::decode(v.value())?;
    Ok(order.created_at.0.saturating_add(QUIET_MS) <= tx.now.0)
}

/// What [`maybe_compact`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compaction {
    /// Before.
    pub before: FileUse,
    /// The file's length after (equal to before's when nothing was done).
    pub after_bytes: u64,
    /// Whether the venue was quiet.
    pub quiet: bool,
    /// Whether it compacted.
    pub compacted: bool,
}

/// Compacts when it is worth it and the venue is quiet.
pub async fn maybe_compact(store: &Store) -> Result<Compaction, StoreError> {
    let (quiet, used_bytes) = store
        .write(|tx| {
            let stats = tx.stats()?;
            let page = u64::try_from(stats.page_size()).unwrap_or(4096);
            Ok((quiet(tx)?, stats.allocated_pages() * page))
        })
        .await?;
    let file_bytes = std::fs::metadata(store.path()).map_or(0, |m| m.len());
    let before = FileUse {
        file_bytes,
        used_bytes,
    };
    let mut done = Compaction {
        before,
        after_bytes: file_bytes,
        quiet,
        compacted: false,
    };
    if quiet && before.worth_compacting() {
        done.compacted = store.compact().await?;
        done.after_bytes = std::fs::metadata(store.path()).map_or(0, |m| m.len());
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worth_it_needs_both_the_gain_and_a_third() {
        let mib = 1024 * 1024;
        let f = |file_bytes, used_bytes| FileUse {
            file_bytes,
            used_bytes,
        };
        assert!(
            !f(3 * mib, 2 * mib).worth_compacting(),
            "1 MiB is too little"
        );
        assert!(!f(30 * mib, 27 * mib).worth_compacting(), "a tenth");
        assert!(f(9 * mib, 6 * mib).worth_compacting());
        assert!(f(12 * mib, 2 * mib).worth_compacting());
    }
}
