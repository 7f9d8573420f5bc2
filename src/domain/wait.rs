//! Wait estimates: how long until an order in line is ready, from the
//! shop's recent preparation times (accepted → ready).
//!
//! Rules owned here:
//! - one slow or forgotten order must not move the estimate: the typical
//!   time is the median of the recent samples, and the spread is their
//!   quartiles, never the mean;
//! - a shop with little history starts from its own default (the venue's
//!   when it set none): missing samples are filled with the default, so
//!   the first real times move the estimate gradually;
//! - an order in line never reads "0 min": every estimate is at least
//!   [`FLOOR_SECONDS`], also when its own preparation runs late;
//! - uncertain estimates (little history, or times that vary a lot) are a
//!   range ("4–9 min"); settled ones a single figure ("about 5 min").

use serde::{Deserialize, Serialize};

/// The shortest estimate for an order still in line.
pub const FLOOR_SECONDS: u32 = 60;
/// Below this many samples the default fills in and the estimate is a range.
pub const SETTLED_SAMPLES: usize = 5;

/// Typical preparation time of one order and its spread, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrepTime {
    /// Faster orders (lower quartile, or lower when history is short).
    pub low: u32,
    /// The median.
    pub typical: u32,
    /// Slower orders (upper quartile, or higher when history is short).
    pub high: u32,
}

impl PrepTime {
    /// From recent samples (any order) and the shop's default.
    pub fn from_samples(samples: &[u32], default_seconds: u32) -> PrepTime {
        let default_seconds = default_seconds.max(1);
        let mut pool: Vec<u32> = samples.to_vec();
        let missing = SETTLED_SAMPLES.saturating_sub(pool.len());
        pool.extend(std::iter::repeat_n(default_seconds, missing));
        pool.sort_unstable();
        let at = |num: usize, den: usize| pool[(pool.len() - 1) * num / den];
        let typical = median(&pool);
        let (mut low, mut high) = (at(1, 4), at(3, 4));
        // With short history the spread is unknown: widen it, by half the
        // typical time with no samples, down to nothing once settled.
        let widen = u64::from(typical) * missing as u64 / (2 * SETTLED_SAMPLES as u64);
        let widen = u32::try_from(widen).unwrap_or(u32::MAX);
        low = low.min(typical.saturating_sub(widen));
        high = high.max(typical.saturating_add(widen));
        // Quartiles close to the median are noise, not uncertainty.
        if missing == 0 && high - low <= typical / 2 {
            (low, high) = (typical, typical);
        }
        PrepTime { low, typical, high }
    }
}

fn median(sorted: &[u32]) -> u32 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        let sum = u64::from(sorted[n / 2 - 1]) + u64::from(sorted[n / 2]);
        u32::try_from(sum / 2).unwrap_or(u32::MAX)
    }
}

/// An estimate of the time until an order is ready, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    /// The earliest plausible.
    pub low: u32,
    /// The best single guess.
    pub typical: u32,
    /// The latest plausible.
    pub high: u32,
}

impl Wait {
    /// For the order at `position` in line (1 = next), whose own
    /// preparation started `elapsed` seconds ago (0 while not accepted).
    pub fn estimate(prep: PrepTime, position: u32, elapsed: u32) -> Wait {
        let ahead = position.saturating_sub(1);
        let total = |per_order: u32| {
            ahead
                .saturating_mul(per_order)
                .saturating_add(per_order.saturating_sub(elapsed))
                .max(FLOOR_SECONDS)
        };
        Wait {
            low: total(prep.low),
            typical: total(prep.typical),
            high: total(prep.high),
        }
    }

    /// Whole minutes, rounded up: `(low, typical, high)`, each at least 1.
    pub fn minutes(&self) -> (u32, u32, u32) {
        let m = |s: u32| s.div_ceil(60).max(1);
        (m(self.low), m(self.typical), m(self.high))
    }

    /// Whether the guest is shown a range rather than one figure.
    pub fn is_range(&self) -> bool {
        let (low, _, high) = self.minutes();
        low != high
    }

    /// As the guest reads it: "about 5 min" or "4–9 min".
    pub fn text(&self) -> String {
        let (low, typical, high) = self.minutes();
        if self.is_range() {
            format!("{low}–{high} min")
        } else {
            format!("about {typical} min")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_history_the_default_gives_a_range_around_it() {
        let p = PrepTime::from_samples(&[], 300);
        assert_eq!(p.typical, 300);
        assert_eq!((p.low, p.high), (150, 450));
        let w = Wait::estimate(p, 1, 0);
        assert_eq!(w.text(), "3–8 min");
    }

    #[test]
    fn the_median_ignores_an_outlier() {
        // Nine two-minute orders and one forgotten for an hour.
        let mut samples = vec![120; 9];
        samples.push(3600);
        let p = PrepTime::from_samples(&samples, 300);
        assert_eq!(p.typical, 120);
        let w = Wait::estimate(p, 2, 0);
        assert_eq!(w.text(), "about 4 min");
    }

    #[test]
    fn fast_history_never_reads_zero() {
        let p = PrepTime::from_samples(&[5; 20], 300);
        for position in 1..4 {
            let w = Wait::estimate(p, position, 0);
            assert!(w.low >= FLOOR_SECONDS, "{w:?}");
            assert_eq!(w.minutes().0, 1);
            assert_ne!(w.text(), "about 0 min");
        }
        // Its own preparation running late does not bring it to zero either.
        let late = Wait::estimate(PrepTime::from_samples(&[120; 10], 300), 1, 900);
        assert_eq!(late.text(), "about 1 min");
    }

    #[test]
    fn the_default_gives_way_to_history_gradually() {
        let two = PrepTime::from_samples(&[60, 60], 600);
        assert_eq!(two.typical, 600, "three of five still the default");
        let four = PrepTime::from_samples(&[60; 4], 600);
        assert_eq!(four.typical, 60);
        assert!(four.high > 60, "not settled yet: {four:?}");
        let settled = PrepTime::from_samples(&[60; 5], 600);
        assert_eq!((settled.low, settled.high), (60, 60));
    }

    #[test]
    fn varied_times_are_a_range() {
        let p = PrepTime::from_samples(&[60, 90, 120, 300, 400, 420, 600, 660], 300);
        assert!(p.high - p.low > p.typical / 2, "{p:?}");
        let w = Wait::estimate(p, 1, 0);
        assert!(w.is_range());
        assert_eq!(w.text(), format!("{}–{} min", w.minutes().0, w.minutes().2));
    }

    #[test]
    fn position_and_elapsed_time_count() {
        let p = PrepTime::from_samples(&[240; 10], 300);
        assert_eq!(Wait::estimate(p, 3, 0).typical, 720);
        assert_eq!(Wait::estimate(p, 1, 60).typical, 180);
        assert_eq!(Wait::estimate(p, 2, 60).typical, 420);
    }
}
