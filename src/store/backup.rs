//! Online backup: a consistent copy of every table, read from one snapshot
//! while the daemon keeps writing, into a new redb file that is renamed
//! into place only when complete. Item photos are files, not tables: the
//! daemon copies them into `<file>.photos/` beside the copy
//! ([`photos_beside`]); to restore, put them back as `photos/` beside the
//! database.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use redb::{Database, Key, ReadTransaction, ReadableTable, TableDefinition, Value};

use super::StoreError;
use super::tables::{TableVisitor, visit_all};

struct Copy<'a> {
    from: &'a ReadTransaction,
    to: &'a redb::WriteTransaction,
    entries: u64,
}

impl TableVisitor for Copy<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), StoreError> {
        let src = self.from.open_table(def)?;
        let mut dst = self.to.open_table(def)?;
        for entry in src.iter()? {
            let (k, v) = entry?;
            dst.insert(k.value(), v.value())?;
            self.entries += 1;
        }
        Ok(())
    }
}

/// Where a backup at `to` keeps the photos: `<to>.photos/` beside it.
pub fn photos_beside(to: &Path) -> std::path::PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".photos");
    name.into()
}

/// Copies the snapshot `from` into a new database at `to`; returns the
/// number of entries copied. `to` must not exist.
pub fn copy_all(from: &ReadTransaction, to: &Path) -> Result<u64, StoreError> {
    if to.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists already; choose a new file name",
            to.display()
        )));
    }
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let db = Database::create(&partial)?;
    // The copy holds password hashes and session digests: owner only.
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::Internal(format!("cannot restrict {}: {e}", partial.display())))?;
    let txn = db.begin_write()?;
    let mut copy = Copy {
        from,
        to: &txn,
        entries: 0,
    };
    visit_all(&mut copy)?;
    let n = copy.entries;
    txn.commit()?;
    drop(db);
    std::fs::rename(&partial, to).map_err(|e| {
        StoreError::Internal(format!(
            "cannot move the backup into place at {}: {e}",
            to.display()
        ))
    })?;
    Ok(n)
}
