//! Exchange session calendars: when a market is open, in its own time zone, with holidays and
//! early closes taken from the warehouse's `calendar` rows (or given directly).
//!
//! Built in: `NSE` (09:15–15:30 Asia/Kolkata, Monday–Friday), `NYSE` (09:30–16:00
//! America/New_York, Monday–Friday) and `24x7` (UTC days, always open: crypto). Holidays are not
//! built in — exchanges publish them yearly — so a calendar without holiday rows treats every
//! weekday as a session; load the exchange's list with [`Calendar::with_holidays`].

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One trading session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The trading date, in the exchange's time zone.
    pub date: NaiveDate,
    pub open: Timestamp,
    pub close: Timestamp,
}

/// What a calendar row says about a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayRule {
    /// Closed all day.
    Holiday,
    /// Open, closing early at this local time.
    EarlyClose(NaiveTime),
}

/// A session calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    pub name: String,
    #[serde(with = "tz_name")]
    pub tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    weekdays_only: bool,
    always_open: bool,
    days: BTreeMap<NaiveDate, DayRule>,
}

/// Time zones serialize as their IANA name (no serde feature on chrono-tz: enabling it would
/// change the features of the whole dependency graph and rebuild DataFusion).
mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown time zone {name}")))
    }
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Calendar {
    pub const BUILT_IN: &'static [&'static str] = &["NSE", "NYSE", "24x7"];

    /// National Stock Exchange of India, normal market 09:15–15:30 IST.
    pub fn nse() -> Self {
        Self::regular("NSE", chrono_tz::Asia::Kolkata, t(9, 15), t(15, 30))
    }
    /// New York Stock Exchange, core session 09:30–16:00 New York time.
    pub fn nyse() -> Self {
        Self::regular("NYSE", chrono_tz::America::New_York, t(9, 30), t(16, 0))
    }
    /// Always open; sessions are UTC days (crypto).
    pub fn always_open() -> Self {
        Self {
            name: "24x7".into(),
            tz: chrono_tz::UTC,
            open: NaiveTime::MIN,
            close: NaiveTime::MIN,
            weekdays_only: false,
            always_open: true,
            days: BTreeMap::new(),
        }
    }
    /// A weekday session from `open` to `close` local time.
    pub fn regular(name: &str, tz: Tz, open: NaiveTime, close: NaiveTime) -> Self {
        Self {
            name: name.into(),
            tz,
            open,
            close,
            weekdays_only: true,
            always_open: false,
            days: BTreeMap::new(),
        }
    }
    pub fn by_name(name: &str) -> Result<Self> {
        match name.to_ascii_uppercase().as_str() {
            "NSE" => Ok(Self::nse()),
            "NYSE" => Ok(Self::nyse()),
            "24X7" | "UTC" | "CRYPTO" => Ok(Self::always_open()),
            _ => Err(Error::Calendar {
                calendar: name.into(),
                reason: format!("unknown; built in: {}", Self::BUILT_IN.join(", ")),
            }),
        }
    }
    /// Add holiday and early-close rows.
    pub fn with_holidays(mut self, rows: impl IntoIterator<Item = (NaiveDate, DayRule)>) -> Self {
        self.days.extend(rows);
        self
    }

    fn local(&self, date: NaiveDate, time: NaiveTime) -> Option<Timestamp> {
        let dt = self
            .tz
            .from_local_datetime(&date.and_time(time))
            .earliest()?;
        Timestamp::from_datetime(&dt)
    }

    /// The session on a local date, if the market opens that day.
    pub fn session_on(&self, date: NaiveDate) -> Option<Session> {
        if self.always_open {
            let open = self.local(date, NaiveTime::MIN)?;
            let close = self.local(date.succ_opt()?, NaiveTime::MIN)?;
            return Some(Session { date, open, close });
        }
        if self.weekdays_only && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return None;
        }
        let close_time = match self.days.get(&date) {
            Some(DayRule::Holiday) => return None,
            Some(DayRule::EarlyClose(c)) => *c,
            None => self.close,
        };
        Some(Session {
            date,
            open: self.local(date, self.open)?,
            close: self.local(date, close_time)?,
        })
    }

    /// The session containing `ts` (open <= ts < close), if any.
    pub fn session_at(&self, ts: Timestamp) -> Option<Session> {
        let date = ts.to_datetime().with_timezone(&self.tz).date_naive();
        self.session_on(date)
            .filter(|s| s.open <= ts && ts < s.close)
    }

    /// The local trading date of `ts` (whether or not the market was open then).
    pub fn local_date(&self, ts: Timestamp) -> NaiveDate {
        ts.to_datetime().with_timezone(&self.tz).date_naive()
    }

    /// Midnight of a local date, as a timestamp (how daily bars are stamped).
    pub fn midnight(&self, date: NaiveDate) -> Option<Timestamp> {
        self.local(date, NaiveTime::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn nse_and_nyse_sessions_in_utc() {
        let nse = Calendar::nse();
        let s = nse.session_at(ts("2024-06-03T04:00:00Z")).unwrap();
        assert_eq!(
            (s.open, s.close),
            (ts("2024-06-03T03:45:00Z"), ts("2024-06-03T10:00:00Z"))
        );
        assert!(nse.session_at(ts("2024-06-03T10:00:00Z")).is_none()); // close is exclusive
        assert!(nse.session_at(ts("2024-06-01T05:00:00Z")).is_none()); // Saturday
        // New York switches to daylight time: the same local session moves in UTC.
        let nyse = Calendar::nyse();
        assert_eq!(
            nyse.session_on(NaiveDate::from_ymd_opt(2019, 11, 5).unwrap())
                .unwrap()
                .open,
            ts("2019-11-05T14:30:00Z")
        );
        assert_eq!(
            nyse.session_on(NaiveDate::from_ymd_opt(2019, 7, 5).unwrap())
                .unwrap()
                .open,
            ts("2019-07-05T13:30:00Z")
        );
    }

    #[test]
    fn holidays_and_early_closes_come_from_rows() {
        let d = |m, d| NaiveDate::from_ymd_opt(2019, m, d).unwrap();
        // NYSE 2019: Thanksgiving closed, the day after closes at 13:00.
        let nyse = Calendar::nyse().with_holidays([
            (d(11, 28), DayRule::Holiday),
            (d(11, 29), DayRule::EarlyClose(t(13, 0))),
        ]);
        assert!(nyse.session_on(d(11, 28)).is_none());
        assert_eq!(
            nyse.session_on(d(11, 29)).unwrap().close,
            ts("2019-11-29T18:00:00Z")
        );
    }
}
