//! Space watch: the free space of the filesystem that holds the database.
//!
//! Below the warning level the daemon says so (log, `queueless status`,
//! `queueless check`); below the floor it refuses new orders
//! ([`super::StoreError::OutOfSpace`]) and keeps the space left as a reserve
//! for staff to finish, cancel and mark paid the orders already placed.
//! The writer measures before every batch (one `statvfs`), so the floor
//! holds during a rush; a background task measures when nothing is written.

use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Where the warning and the floor lie, in free bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceLevels {
    /// Below this much free space: warn.
    pub warning_bytes: u64,
    /// Below this much free space: refuse new orders (0: never).
    pub floor_bytes: u64,
}

impl Default for SpaceLevels {
    fn default() -> Self {
        Self {
            warning_bytes: 8 * 1024 * 1024,
            floor_bytes: 2 * 1024 * 1024,
        }
    }
}

/// How full the filesystem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceLevel {
    /// Enough room.
    Ok,
    /// Below the warning level: orders are still taken.
    Low,
    /// Below the floor: new orders are refused.
    Floor,
}

impl SpaceLevel {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Low,
            2 => Self::Floor,
            _ => Self::Ok,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Low => 1,
            Self::Floor => 2,
        }
    }
}

/// The last measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceReport {
    /// Bytes an unprivileged writer may still use.
    pub free_bytes: u64,
    /// Size of the filesystem.
    pub total_bytes: u64,
    /// What the free space means.
    pub level: SpaceLevel,
    /// The levels it was judged by.
    pub warning_bytes: u64,
    /// The floor it was judged by.
    pub floor_bytes: u64,
}

impl SpaceReport {
    /// One line for people (`queueless status`, `check`, the log).
    pub fn describe(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let state = match self.level {
            SpaceLevel::Ok => "ok",
            SpaceLevel::Low => "LOW (below the warning level; free space or shorten retention)",
            SpaceLevel::Floor => {
                "FULL (new orders are refused; staff can still finish placed orders)"
            }
        };
        format!(
            "storage: {:.1} MiB free of {:.1} MiB ({state})",
            mib(self.free_bytes),
            mib(self.total_bytes)
        )
    }
}

/// Free and total bytes of the filesystem holding `path`.
pub fn measure(path: &Path) -> std::io::Result<(u64, u64)> {
    let s = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    let free = s.f_bavail.saturating_mul(s.f_frsize);
    let total = s.f_blocks.saturating_mul(s.f_frsize);
    Ok((free, total))
}

/// What `free` bytes mean under `levels`.
pub fn judge(free: u64, levels: SpaceLevels) -> SpaceLevel {
    if free < levels.floor_bytes {
        SpaceLevel::Floor
    } else if free < levels.warning_bytes {
        SpaceLevel::Low
    } else {
        SpaceLevel::Ok
    }
}

/// The shared state the writer, the watch task and the status read.
#[derive(Debug, Default)]
pub(crate) struct SpaceState {
    free: AtomicU64,
    total: AtomicU64,
    level: AtomicU8,
}

impl SpaceState {
    /// Measures the filesystem of `dir` and records it; logs when the
    /// level changes. A failed measurement keeps the last one.
    pub(crate) fn check(&self, dir: &Path, levels: SpaceLevels) -> SpaceReport {
        match measure(dir) {
            Ok((free, total)) => {
                let level = judge(free, levels);
                self.free.store(free, Ordering::Release);
                self.total.store(total, Ordering::Release);
                let before = SpaceLevel::from_u8(self.level.swap(level.as_u8(), Ordering::AcqRel));
                if before != level {
                    let report = self.report(levels);
                    match level {
                        SpaceLevel::Ok => tracing::info!("{}", report.describe()),
                        SpaceLevel::Low => tracing::warn!("{}", report.describe()),
                        SpaceLevel::Floor => tracing::error!("{}", report.describe()),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot measure free space");
            }
        }
        self.report(levels)
    }

    /// The last measurement.
    pub(crate) fn report(&self, levels: SpaceLevels) -> SpaceReport {
        SpaceReport {
            free_bytes: self.free.load(Ordering::Acquire),
            total_bytes: self.total.load(Ordering::Acquire),
            level: SpaceLevel::from_u8(self.level.load(Ordering::Acquire)),
            warning_bytes: levels.warning_bytes,
            floor_bytes: levels.floor_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_judged_by_free_bytes() {
        let levels = SpaceLevels {
            warning_bytes: 100,
            floor_bytes: 10,
        };
        assert_eq!(judge(5, levels), SpaceLevel::Floor);
        assert_eq!(judge(10, levels), SpaceLevel::Low);
        assert_eq!(judge(99, levels), SpaceLevel::Low);
        assert_eq!(judge(100, levels), SpaceLevel::Ok);
        let off = SpaceLevels {
            warning_bytes: 0,
            floor_bytes: 0,
        };
        assert_eq!(judge(0, off), SpaceLevel::Ok);
    }

    #[test]
    fn the_temp_dir_has_a_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (free, total) = measure(dir.path()).expect("statvfs");
        assert!(total > 0 && free <= total, "{free} of {total}");
    }
}
