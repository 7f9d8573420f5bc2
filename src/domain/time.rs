//! Wall-clock timestamps in milliseconds since the Unix epoch, and the
//! venue-local weekday/minute used by opening hours.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current time from the system clock (a clock before 1970 reads as 0).
    pub fn now() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Self(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// `self` plus `ms` milliseconds.
    pub fn plus_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Weekday (0 = Monday) and minute of the day at the venue, which is
    /// `utc_offset_minutes` ahead of UTC.
    pub fn local_week_minute(self, utc_offset_minutes: i32) -> (u8, u16) {
        let minutes =
            i64::try_from(self.0 / 60_000).unwrap_or(i64::MAX) + i64::from(utc_offset_minutes);
        let day = minutes.div_euclid(1440);
        let minute = minutes.rem_euclid(1440);
        // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
        let weekday = (day + 3).rem_euclid(7);
        (
            u8::try_from(weekday).unwrap_or(0),
            u16::try_from(minute).unwrap_or(0),
        )
    }

    /// The start of the venue-local day that contains `self`.
    pub fn local_day_start(self, utc_offset_minutes: i32) -> Timestamp {
        let offset_ms = i64::from(utc_offset_minutes) * 60_000;
        let local = i64::try_from(self.0).unwrap_or(i64::MAX) + offset_ms;
        let start_local = local - local.rem_euclid(86_400_000);
        Timestamp(u64::try_from(start_local - offset_ms).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_was_a_thursday() {
        assert_eq!(Timestamp(0).local_week_minute(0), (3, 0));
        // 2026-11-23T12:30:00Z was a Monday.
        assert_eq!(
            Timestamp(1_795_437_000_000).local_week_minute(0),
            (0, 12 * 60 + 30)
        );
    }

    #[test]
    fn offset_moves_the_local_clock() {
        // 23:30 UTC on a Thursday is 01:00 Friday at UTC+01:30.
        let t = Timestamp((23 * 60 + 30) * 60_000);
        assert_eq!(t.local_week_minute(0), (3, 23 * 60 + 30));
        assert_eq!(t.local_week_minute(90), (4, 60));
        assert_eq!(t.local_week_minute(-60), (3, 22 * 60 + 30));
    }

    #[test]
    fn day_start_is_local_midnight() {
        let t = Timestamp(86_400_000 + 5 * 3_600_000); // day 1, 05:00 UTC
        assert_eq!(t.local_day_start(0), Timestamp(86_400_000));
        // At UTC-06:00 it is 23:00 of day 0, which started at 06:00 UTC of day 0.
        assert_eq!(t.local_day_start(-360), Timestamp(6 * 3_600_000));
    }
}
