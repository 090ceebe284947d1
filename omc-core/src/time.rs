//! Wall-clock time as the registry writes it, and the clock a run reads it from.
//!
//! Odoo stamps `create_date` and `write_date` in UTC with second resolution and sends them as
//! `"YYYY-MM-DD HH:MM:SS"`; OMC's run ledger, its delta watermark and the in-memory registry use
//! the same [`Timestamp`], read from a [`Clock`] that tests can hold still or move by hand.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant with second resolution (seconds since 1970-01-01). Its `Display` is Odoo's
/// datetime text, `YYYY-MM-DD HH:MM:SS`, which also orders as the instants do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Now, from the system clock.
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self(secs)
    }

    /// This instant less `seconds` (saturating).
    pub fn minus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }

    /// This instant plus `seconds` (saturating).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// Reads Odoo's datetime text (`YYYY-MM-DD HH:MM:SS`, UTC); a date alone reads as its
    /// midnight. `None` for anything else.
    pub fn parse_odoo(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, m, s) = match b.len() {
            10 => (0, 0, 0),
            19 if b[10] == b' ' && b[13] == b':' && b[16] == b':' => {
                (num(11..13)?, num(14..16)?, num(17..19)?)
            }
            _ => return None,
        };
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 59 {
            return None;
        }
        Some(Self(
            days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s,
        ))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, rest) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
            rest / 3_600,
            rest % 3_600 / 60,
            rest % 60
        )
    }
}

/// A time of day at which a recurring connector's runs are anchored (`run_at = "02:00"`): hours
/// and minutes, in UTC unless an offset follows (`"02:00+03:00"`, `"21:30-05:00"`, `"02:00Z"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOfDay {
    /// Minutes after midnight UTC, 0..1440.
    minute_utc: i64,
    /// The offset it was written with, in minutes east of UTC (for showing it back).
    offset_minutes: i64,
}

impl TimeOfDay {
    /// Reads `HH:MM`, optionally followed by `Z` or `±HH:MM`. The error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wanted = "expected a time of day HH:MM (UTC), optionally with an offset such as \
                      +03:00";
        let t = text.trim();
        let clock = |part: &str| -> Option<(i64, i64)> {
            let (h, m) = part.split_once(':')?;
            let ok = |s: &str| s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit());
            if !ok(h) || !ok(m) {
                return None;
            }
            let (h, m) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some((h, m))
        };
        let (time, offset) = match t.find(['+', '-', 'Z']) {
            None => (t, 0),
            Some(at) => {
                let (time, zone) = t.split_at(at);
                let offset = match zone {
                    "Z" => 0,
                    _ => {
                        let (h, m) = clock(&zone[1..])
                            .ok_or_else(|| format!("'{text}': the offset: {wanted}"))?;
                        let minutes = h * 60 + m;
                        if zone.starts_with('-') {
                            -minutes
                        } else {
                            minutes
                        }
                    }
                };
                (time, offset)
            }
        };
        let (h, m) = clock(time).ok_or_else(|| format!("'{text}': {wanted}"))?;
        Ok(Self {
            minute_utc: (h * 60 + m - offset).rem_euclid(1_440),
            offset_minutes: offset,
        })
    }

    /// The first instant after `after` that is this time of day plus a whole number of
    /// `interval_minutes` (at least 1): runs at 02:00 every 720 minutes fall at 02:00 and
    /// 14:00 UTC.
    pub fn next_after(self, after: Timestamp, interval_minutes: u32) -> Timestamp {
        let step = i64::from(interval_minutes.max(1)) * 60;
        let day = after.0.div_euclid(86_400) * 86_400;
        let anchor = day + self.minute_utc * 60;
        // The anchor of the day, moved by whole steps to the first instant after `after`.
        let steps = (after.0 - anchor).div_euclid(step) + 1;
        Timestamp(anchor + steps * step)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = (self.minute_utc + self.offset_minutes).rem_euclid(1_440);
        write!(f, "{:02}:{:02}", local / 60, local % 60)?;
        match self.offset_minutes {
            0 => Ok(()),
            o => write!(
                f,
                "{}{:02}:{:02}",
                if o < 0 { '-' } else { '+' },
                o.abs() / 60,
                o.abs() % 60
            ),
        }
    }
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Where a run reads the time: the system clock in production, a [`ManualClock`] in tests.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to; clones share one time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(at.0)))
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_time_of_day_reads_utc_and_offsets() {
        let at = |t: &str| TimeOfDay::parse(t).map(|d| d.minute_utc);
        assert_eq!(at("02:00"), Ok(120));
        assert_eq!(at("02:00Z"), Ok(120));
        assert_eq!(at("02:00+03:00"), Ok(23 * 60));
        assert_eq!(at("21:30-05:00"), Ok(150));
        assert_eq!(
            TimeOfDay::parse("02:00+03:00").map(|d| d.to_string()),
            Ok("02:00+03:00".into())
        );
        for bad in ["2:00", "24:00", "02:60", "02-00", "", "02:00+3", "noon"] {
            let e = TimeOfDay::parse(bad).expect_err(bad);
            assert!(e.contains("HH:MM"), "{bad}: {e}");
        }
    }

    #[test]
    fn runs_anchored_at_a_time_of_day_fall_on_it_and_its_steps() {
        let two = TimeOfDay::parse("02:00").expect("a time");
        let t = |s: &str| Timestamp::parse_odoo(s).expect("a timestamp");
        assert_eq!(
            two.next_after(t("2026-11-27 01:59:59"), 1440),
            t("2026-11-27 02:00:00")
        );
        assert_eq!(
            two.next_after(t("2026-11-27 02:00:00"), 1440),
            t("2026-11-28 02:00:00")
        );
        assert_eq!(
            two.next_after(t("2026-11-27 14:00:00"), 720),
            t("2026-11-28 02:00:00")
        );
        assert_eq!(
            two.next_after(t("2026-11-27 13:00:00"), 720),
            t("2026-11-27 14:00:00")
        );
        assert_eq!(
            two.next_after(t("2026-11-27 00:10:00"), 60),
            t("2026-11-27 01:00:00")
        );
    }

    use super::*;

    #[test]
    fn odoo_text_round_trips() {
        for text in [
            "1970-01-01 00:00:00",
            "2000-02-29 23:59:59",
            "2026-11-27 11:34:51",
            "1969-12-31 23:59:59",
        ] {
            let t = Timestamp::parse_odoo(text).unwrap();
            assert_eq!(t.to_string(), text);
        }
        assert_eq!(Timestamp(0).to_string(), "1970-01-01 00:00:00");
        assert_eq!(
            Timestamp::parse_odoo("2026-11-27"),
            Timestamp::parse_odoo("2026-11-27 00:00:00")
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-11-27T11:34:51",
            "2026-11-27 25:00:00",
            "x",
        ] {
            assert_eq!(Timestamp::parse_odoo(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(Timestamp(100));
        let shared = clock.clone();
        assert_eq!(clock.now(), Timestamp(100));
        shared.advance(5);
        assert_eq!(clock.now(), Timestamp(105));
        assert!(Timestamp(1).minus_seconds(i64::MAX) < Timestamp(0));
    }
}
