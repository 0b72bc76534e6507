//! Time: nanosecond UTC timestamps and bar timeframes.
//!
//! Only a clock (introduced with the stream jobs) tells the current time; nothing here reads it.

use std::fmt;

use chrono::{DateTime, Months, TimeZone, Utc};

use crate::{Error, Result};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Nanoseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: i64) -> Self {
        Self(ns)
    }

    /// From whole seconds since the epoch; `None` on overflow.
    pub fn from_secs(s: i64) -> Option<Self> {
        s.checked_mul(NANOS_PER_SEC).map(Self)
    }

    /// From milliseconds since the epoch; `None` on overflow.
    pub fn from_millis(ms: i64) -> Option<Self> {
        ms.checked_mul(1_000_000).map(Self)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Microseconds since the epoch (floor), the precision stored in warehouse tables.
    pub const fn as_micros(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    /// Add nanoseconds, saturating at the representable range.
    pub const fn add_nanos(self, ns: i64) -> Self {
        Self(self.0.saturating_add(ns))
    }

    /// From a chrono UTC datetime; `None` outside 1677..2262.
    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Option<Self> {
        dt.timestamp_nanos_opt().map(Self)
    }

    /// As a chrono UTC datetime.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// Parse an RFC 3339 timestamp with an offset (`2024-06-03T09:15:00+05:30`).
    pub fn parse_rfc3339(s: &str) -> Result<Self> {
        let dt = DateTime::parse_from_rfc3339(s).map_err(|e| Error::InvalidTimestamp {
            value: s.to_string(),
            reason: e.to_string(),
        })?;
        Self::from_datetime(&dt).ok_or_else(|| Error::InvalidTimestamp {
            value: s.to_string(),
            reason: "outside the nanosecond range 1677..2262".into(),
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.to_datetime()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        )
    }
}

/// The length of a bar: `tick`, `Ns`, `Nm`, `Nh`, `Nd`, `Nw` or `Nmo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timeframe {
    /// Individual prints (no aggregation).
    Tick,
    Seconds(u32),
    Minutes(u32),
    Hours(u32),
    Days(u32),
    Weeks(u32),
    Months(u32),
}

impl Timeframe {
    /// Parse `1m`, `5m`, `1h`, `1d`, `1w`, `1mo`, `30s`, `tick` (also `1min`, `minute`, `day`, `D`, `W`, `M` aliases).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::InvalidTimeframe {
            value: s.to_string(),
        };
        let t = s.trim();
        match t {
            "tick" => return Ok(Self::Tick),
            "minute" | "min" => return Ok(Self::Minutes(1)),
            "hour" => return Ok(Self::Hours(1)),
            "day" | "D" | "daily" => return Ok(Self::Days(1)),
            "week" | "W" | "weekly" => return Ok(Self::Weeks(1)),
            "month" | "M" | "monthly" => return Ok(Self::Months(1)),
            _ => {}
        }
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let n: u32 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        if n == 0 {
            return Err(bad());
        }
        let tf = match unit {
            "s" | "sec" => Self::Seconds(n),
            "m" | "min" | "minute" | "minutes" => Self::Minutes(n),
            "h" | "hour" | "hours" => Self::Hours(n),
            "d" | "day" | "days" => Self::Days(n),
            "w" | "wk" | "week" | "weeks" => Self::Weeks(n),
            "mo" | "mon" | "month" | "months" => Self::Months(n),
            _ => return Err(bad()),
        };
        Ok(tf.canonical())
    }

    /// One spelling per length: `60m` is `1h`, `24h` is `1d`, `120s` is `2m`.
    fn canonical(self) -> Self {
        match self {
            Self::Seconds(n) if n % 60 == 0 => Self::Minutes(n / 60).canonical(),
            Self::Minutes(n) if n % 60 == 0 => Self::Hours(n / 60).canonical(),
            Self::Hours(n) if n % 24 == 0 => Self::Days(n / 24),
            other => other,
        }
    }

    /// Fixed length in nanoseconds; `None` for ticks and months (calendar-dependent).
    pub fn fixed_nanos(self) -> Option<i64> {
        let s = |n: u32, unit: i64| Some(i64::from(n) * unit * NANOS_PER_SEC);
        match self {
            Self::Tick | Self::Months(_) => None,
            Self::Seconds(n) => s(n, 1),
            Self::Minutes(n) => s(n, 60),
            Self::Hours(n) => s(n, 3_600),
            Self::Days(n) => s(n, 86_400),
            Self::Weeks(n) => s(n, 7 * 86_400),
        }
    }

    /// The end of a bar that starts at `start` (start of the next bar). For ticks, `start`.
    pub fn bar_end(self, start: Timestamp) -> Timestamp {
        match self {
            Self::Tick => start,
            Self::Months(n) => start
                .to_datetime()
                .checked_add_months(Months::new(n))
                .and_then(|d| Timestamp::from_datetime(&d))
                .unwrap_or(start),
            other => start.add_nanos(other.fixed_nanos().unwrap_or(0)),
        }
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tick => f.write_str("tick"),
            Self::Seconds(n) => write!(f, "{n}s"),
            Self::Minutes(n) => write!(f, "{n}m"),
            Self::Hours(n) => write!(f, "{n}h"),
            Self::Days(n) => write!(f, "{n}d"),
            Self::Weeks(n) => write!(f, "{n}w"),
            Self::Months(n) => write!(f, "{n}mo"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeframes_round_trip() {
        for s in [
            "tick", "30s", "1m", "5m", "15m", "1h", "4h", "1d", "1w", "1mo",
        ] {
            assert_eq!(Timeframe::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Timeframe::parse("day").unwrap(), Timeframe::Days(1));
        assert_eq!(Timeframe::parse("minutes").unwrap(), Timeframe::Minutes(1));
        assert_eq!(Timeframe::parse("60m").unwrap(), Timeframe::Hours(1));
        assert_eq!(Timeframe::parse("1wk").unwrap(), Timeframe::Weeks(1));
        for s in ["", "0m", "5x", "m5", "1.5h"] {
            assert!(Timeframe::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn bar_end_handles_calendar_months() {
        let jan31 = Timestamp::parse_rfc3339("2024-01-31T00:00:00Z").unwrap();
        assert_eq!(
            Timeframe::Months(1).bar_end(jan31).to_string(),
            "2024-02-29T00:00:00Z"
        );
        let t = Timestamp::parse_rfc3339("2024-06-03T09:15:00+05:30").unwrap();
        assert_eq!(
            Timeframe::Minutes(5).bar_end(t).to_string(),
            "2024-06-03T03:50:00Z"
        );
    }

    #[test]
    fn micros_floor_for_pre_epoch() {
        assert_eq!(Timestamp::from_nanos(-1).as_micros(), -1);
        assert_eq!(Timestamp::from_nanos(1_999).as_micros(), 1);
    }
}

/// The only source of "now". Live jobs use [`SystemClock`]; replays and tests inject another.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time. The one place in Elite that reads the system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(&Utc::now()).unwrap_or_default()
    }
}

/// A clock stopped at one instant (tests, deterministic replays).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
