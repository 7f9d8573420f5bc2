//! The store's clock: the system time, or a manual one a test moves by
//! hand (retention and expiry are about days; tests cannot wait for them).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::Timestamp;

/// Where the store reads the time. Cheap to clone; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Timestamp) -> Self {
        Self {
            manual: Some(Arc::new(AtomicU64::new(start.0))),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(t) => Timestamp(t.load(Ordering::Acquire)),
            None => Timestamp::now(),
        }
    }

    /// Moves a manual clock forward by `ms` (the system clock ignores it).
    pub fn advance(&self, ms: u64) {
        if let Some(t) = &self.manual {
            t.fetch_add(ms, Ordering::AcqRel);
        }
    }
}
