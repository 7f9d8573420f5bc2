//! Shops: approval, pause, opening hours, the open-order limit, and the
//! rule that decides whether a shop takes a new order right now.

use serde::{Deserialize, Serialize};

use super::{ShopId, Timestamp, UserId};

/// Where a shop stands with the venue operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approval {
    /// Registered, waiting for the operator.
    Pending,
    /// Listed to guests and able to take orders.
    Approved,
    /// Refused by the operator; never listed.
    Rejected,
}

/// One opening window on one weekday, in venue-local minutes of the day.
/// `close <= open` means the window runs past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minute of the day the shop opens (0..1440).
    pub open: u16,
    /// Minute of the day the shop closes (0..=1440).
    pub close: u16,
}

/// Weekly opening hours. No windows at all means "always open".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    /// The windows; several per day are allowed.
    pub windows: Vec<Window>,
}

impl OpeningHours {
    /// Checks every window is well formed.
    pub fn validate(&self) -> Result<(), &'static str> {
        for w in &self.windows {
            if w.weekday > 6 {
                return Err("weekday must be 0 (Monday) to 6 (Sunday)");
            }
            if w.open >= 1440 || w.close > 1440 {
                return Err("times must be minutes of the day (0 to 1440)");
            }
        }
        if self.windows.len() > 28 {
            return Err("at most 28 opening windows");
        }
        Ok(())
    }

    /// Whether the shop is open at local `(weekday, minute)`.
    pub fn is_open(&self, weekday: u8, minute: u16) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let yesterday = (weekday + 6) % 7;
        self.windows.iter().any(|w| {
            if w.close > w.open {
                w.weekday == weekday && (w.open..w.close).contains(&minute)
            } else {
                // Runs past midnight: the evening part today, the early part tomorrow.
                (w.weekday == weekday && minute >= w.open)
                    || (w.weekday == yesterday && minute < w.close)
            }
        })
    }
}

/// How many recent preparation times a shop remembers for its wait estimate.
pub const PREP_SAMPLES: usize = 20;
/// The wait estimate per order before a shop has any history, unless the
/// shop set its own ([`Pickup::default_prep_seconds`]).
pub const DEFAULT_PREP_SECONDS: u32 = 300;
/// Longest usual preparation time a shop may set.
pub const MAX_DEFAULT_PREP_SECONDS: u32 = 4 * 3600;

/// How a shop's orders are called and estimated; stored beside the shop
/// record (its own table, so that older files need no migration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pickup {
    /// The prefix the shop chose for its called numbers (checked by
    /// [`super::callsign::check_prefix`]); `None` derives one from its name.
    pub prefix: Option<String>,
    /// The usual preparation time while the shop has little history.
    pub default_prep_seconds: Option<u32>,
}

impl Pickup {
    /// The usual preparation time to start from.
    pub fn default_prep(&self) -> u32 {
        self.default_prep_seconds.unwrap_or(DEFAULT_PREP_SECONDS)
    }
}

/// A shop of the venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    /// Its id.
    pub id: ShopId,
    /// Display name.
    pub name: String,
    /// The shopkeeper who registered it.
    pub owner: UserId,
    /// Where in the venue ("Stall 12, north hall").
    pub location: String,
    /// Phone or other contact.
    pub contact: String,
    /// The operator's decision.
    pub approval: Approval,
    /// Paused by the shopkeeper: listed, but refusing new orders.
    pub paused: bool,
    /// Weekly opening hours.
    pub hours: OpeningHours,
    /// Refuse new orders while this many are open (placed … ready).
    pub open_order_limit: Option<u32>,
    /// The number the next order gets.
    pub next_number: u32,
    /// The most recent preparation times (accepted → ready), in seconds.
    pub prep_seconds: Vec<u32>,
    /// When it registered.
    pub created_at: Timestamp,
}

/// Why a shop refuses a new order right now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The operator has not approved the shop.
    #[error("{shop} is not open for orders yet")]
    NotApproved {
        /// The shop's name.
        shop: String,
    },
    /// The shopkeeper paused ordering.
    #[error("{shop} has paused ordering for now")]
    Paused {
        /// The shop's name.
        shop: String,
    },
    /// Outside opening hours.
    #[error("{shop} is closed right now")]
    Closed {
        /// The shop's name.
        shop: String,
    },
    /// Too many open orders.
    #[error("{shop} is busy ({open} open orders); please try again in a few minutes")]
    Busy {
        /// The shop's name.
        shop: String,
        /// How many orders are open.
        open: u32,
    },
}

impl Shop {
    /// Whether a new order may be placed now, given how many are open.
    pub fn accepts_orders(
        &self,
        now: Timestamp,
        utc_offset_minutes: i32,
        open_orders: u32,
    ) -> Result<(), Refusal> {
        let shop = self.name.clone();
        if self.approval != Approval::Approved {
            return Err(Refusal::NotApproved { shop });
        }
        if self.paused {
            return Err(Refusal::Paused { shop });
        }
        let (weekday, minute) = now.local_week_minute(utc_offset_minutes);
        if !self.hours.is_open(weekday, minute) {
            return Err(Refusal::Closed { shop });
        }
        if let Some(limit) = self.open_order_limit
            && open_orders >= limit
        {
            return Err(Refusal::Busy {
                shop,
                open: open_orders,
            });
        }
        Ok(())
    }

    /// The shop's preparation time: the median of its recent orders, with
    /// its usual time filling in while history is short.
    pub fn prep_time(&self, pickup: &Pickup) -> super::wait::PrepTime {
        super::wait::PrepTime::from_samples(&self.prep_seconds, pickup.default_prep())
    }

    /// Average preparation time of the recent orders, or the default.
    pub fn average_prep_seconds(&self) -> u32 {
        if self.prep_seconds.is_empty() {
            return DEFAULT_PREP_SECONDS;
        }
        let sum: u64 = self.prep_seconds.iter().map(|&s| u64::from(s)).sum();
        let n = u64::try_from(self.prep_seconds.len()).unwrap_or(1);
        u32::try_from(sum / n).unwrap_or(u32::MAX)
    }

    /// Remembers one more preparation time, forgetting the oldest.
    pub fn record_prep(&mut self, seconds: u32) {
        if self.prep_seconds.len() >= PREP_SAMPLES {
            self.prep_seconds.remove(0);
        }
        self.prep_seconds.push(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Shop {
        Shop {
            id: ShopId(1),
            name: "Tea".into(),
            owner: UserId(1),
            location: String::new(),
            contact: String::new(),
            approval: Approval::Approved,
            paused: false,
            hours: OpeningHours::default(),
            open_order_limit: None,
            next_number: 1,
            prep_seconds: vec![],
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn empty_hours_are_always_open() {
        assert!(OpeningHours::default().is_open(2, 700));
    }

    #[test]
    fn windows_and_overnight_windows() {
        let hours = OpeningHours {
            windows: vec![
                Window {
                    weekday: 0,
                    open: 600,
                    close: 1200,
                },
                Window {
                    weekday: 4,
                    open: 1200,
                    close: 120,
                },
            ],
        };
        assert!(hours.is_open(0, 600));
        assert!(!hours.is_open(0, 1200));
        assert!(!hours.is_open(1, 700));
        assert!(hours.is_open(4, 1300));
        assert!(hours.is_open(5, 60)); // Saturday early morning, from Friday's window
        assert!(!hours.is_open(5, 130));
    }

    #[test]
    fn refusals_in_order_of_importance() {
        let now = Timestamp(0);
        let mut s = shop();
        assert_eq!(s.accepts_orders(now, 0, 0), Ok(()));
        s.open_order_limit = Some(2);
        assert!(matches!(
            s.accepts_orders(now, 0, 2),
            Err(Refusal::Busy { open: 2, .. })
        ));
        s.paused = true;
        assert!(matches!(
            s.accepts_orders(now, 0, 0),
            Err(Refusal::Paused { .. })
        ));
        s.approval = Approval::Pending;
        assert!(matches!(
            s.accepts_orders(now, 0, 0),
            Err(Refusal::NotApproved { .. })
        ));
    }

    #[test]
    fn closed_outside_hours() {
        let mut s = shop();
        // Epoch is Thursday 00:00; open Thursdays 10:00–12:00 only.
        s.hours.windows.push(Window {
            weekday: 3,
            open: 600,
            close: 720,
        });
        assert!(matches!(
            s.accepts_orders(Timestamp(0), 0, 0),
            Err(Refusal::Closed { .. })
        ));
        assert_eq!(s.accepts_orders(Timestamp(11 * 3_600_000), 0, 0), Ok(()));
    }

    #[test]
    fn prep_average_keeps_recent_samples() {
        let mut s = shop();
        assert_eq!(s.average_prep_seconds(), DEFAULT_PREP_SECONDS);
        for i in 0..30 {
            s.record_prep(i);
        }
        assert_eq!(s.prep_seconds.len(), PREP_SAMPLES);
        assert_eq!(s.average_prep_seconds(), (10..30).sum::<u32>() / 20);
    }
}
