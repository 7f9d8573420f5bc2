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

/// Days from 1970-01-01 to a proleptic Gregorian date, if it is one
/// (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The venue-local midnight starting `date` (`YYYY-MM-DD`), which is
/// `utc_offset_minutes` ahead of UTC; `None` if it is not a date (dates
/// before 1970 read as the epoch).
pub fn local_midnight(date: &str, utc_offset_minutes: i32) -> Option<Timestamp> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = date.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let days = days_from_civil(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let ms = days * 86_400_000 - i64::from(utc_offset_minutes) * 60_000;
    Some(Timestamp(u64::try_from(ms).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_local_midnights() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2026, 13, 1), None);
        // 2026-11-23T00:00:00Z, and the same midnight in UTC+5:30.
        assert_eq!(
            local_midnight("2026-11-23", 0),
            Some(Timestamp(1_795_392_000_000))
        );
        assert_eq!(
            local_midnight("2026-11-23", 330),
            Some(Timestamp(1_795_392_000_000 - 330 * 60_000))
        );
        for bad in [
            "2026-11-31",
            "2026-1-23",
            "20261123",
            "2026-11-2x",
            "+026-11-23",
        ] {
            assert_eq!(local_midnight(bad, 0), None, "{bad}");
        }
    }

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
