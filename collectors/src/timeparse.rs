//! Parsing source timestamps into UTC [`Timestamp`]s.
//!
//! Recognised without a format: ISO 8601 / RFC 3339 (`2019-11-05 09:30:00`, `2024-06-03T09:15:00+05:30`,
//! `…Z`, fractional seconds), dates (`2006-01-02`, `20060102`), US dates (`11/5/2019 9:30`,
//! `11/05/2019`; month first — pass a format for day-first data), and epoch numbers (10 digits
//! seconds, 13 milliseconds, 16 microseconds, 19 nanoseconds). Anything else takes an explicit
//! chrono format (`--ts-format`). A time without an offset is local time in the configured zone
//! (e.g. `Asia/Kolkata` for NSE, `America/New_York` for NYSE) and converted to UTC; in a DST
//! overlap the earlier instant is taken, and a time inside a DST gap is an error.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use elite_warehouse::Timestamp;

/// Parses one column's timestamps, remembering the layout it detected on the first value.
#[derive(Clone, Debug)]
pub struct TimeParser {
    tz: Tz,
    format: Option<String>,
}

const NS: i64 = 1_000_000_000;

impl TimeParser {
    /// Local times are in `tz`; `format` (chrono syntax) overrides detection.
    pub fn new(tz: Tz, format: Option<String>) -> Self {
        Self { tz, format }
    }

    /// Parse a timestamp; the error says what was expected.
    pub fn parse(&self, s: &str) -> Result<Timestamp, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty timestamp".into());
        }
        if let Some(fmt) = &self.format {
            return self.parse_with(s, fmt);
        }
        if let Some(ts) = parse_iso(s) {
            return match ts {
                Iso::Utc(ns) => Ok(Timestamp::from_nanos(ns)),
                Iso::Local(ndt) => self.localize(ndt, s),
            };
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return parse_digits(s).map_or_else(|| self.localize_date8(s), Ok);
        }
        for fmt in [
            "%m/%d/%Y %H:%M:%S",
            "%m/%d/%Y %H:%M",
            "%Y/%m/%d %H:%M:%S",
            "%Y.%m.%d %H:%M:%S",
            "%d.%m.%Y %H:%M:%S%.f",
        ] {
            if let Ok(ndt) = NaiveDateTime::parse_from_str(s, fmt) {
                return self.localize(ndt, s);
            }
        }
        for fmt in ["%m/%d/%Y", "%Y/%m/%d", "%d-%b-%Y", "%b %d, %Y"] {
            if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
                return self.localize(d.and_time(NaiveTime::MIN), s);
            }
        }
        Err(format!(
            "cannot parse {s:?} as a timestamp (pass --ts-format, e.g. \"%d/%m/%Y %H:%M\")"
        ))
    }

    /// Parse separate date and time fields (e.g. backtrader's `Date,Time`).
    pub fn parse_date_time(&self, date: &str, time: &str) -> Result<Timestamp, String> {
        let d = date.trim();
        let t = time.trim();
        let joined = if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
            format!("{}-{}-{} {t}", &d[..4], &d[4..6], &d[6..])
        } else {
            format!("{d} {t}")
        };
        self.parse(&joined)
    }

    fn parse_with(&self, s: &str, fmt: &str) -> Result<Timestamp, String> {
        if let Ok(dt) = chrono::DateTime::parse_from_str(s, fmt) {
            return Timestamp::from_datetime(&dt).ok_or_else(|| format!("{s:?} is out of range"));
        }
        match NaiveDateTime::parse_from_str(s, fmt) {
            Ok(ndt) => self.localize(ndt, s),
            Err(e) => match NaiveDate::parse_from_str(s, fmt) {
                Ok(d) => self.localize(d.and_time(NaiveTime::MIN), s),
                Err(_) => Err(format!("cannot parse {s:?} with format {fmt:?}: {e}")),
            },
        }
    }

    fn localize_date8(&self, s: &str) -> Result<Timestamp, String> {
        NaiveDate::parse_from_str(s, "%Y%m%d")
            .map_err(|_| {
                format!(
                    "cannot parse {s:?}: {} digits is neither YYYYMMDD nor an epoch time",
                    s.len()
                )
            })
            .and_then(|d| self.localize(d.and_time(NaiveTime::MIN), s))
    }

    fn localize(&self, ndt: NaiveDateTime, s: &str) -> Result<Timestamp, String> {
        if self.tz == chrono_tz::UTC {
            return ndt
                .and_utc()
                .timestamp_nanos_opt()
                .map(Timestamp::from_nanos)
                .ok_or_else(|| format!("{s:?} is out of range"));
        }
        let dt = self
            .tz
            .from_local_datetime(&ndt)
            .earliest()
            .ok_or_else(|| format!("{s:?} does not exist in {} (daylight-saving gap)", self.tz))?;
        Timestamp::from_datetime(&dt).ok_or_else(|| format!("{s:?} is out of range"))
    }
}

enum Iso {
    Utc(i64),
    Local(NaiveDateTime),
}

fn num(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.f…]]][Z|±HH[:]MM]`, hand-parsed (the hot path of CSV import).
fn parse_iso(s: &str) -> Option<Iso> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(&b[..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    let mut i = 10;
    let (mut h, mut m, mut sec, mut nano) = (0, 0, 0, 0u32);
    if i < b.len() && (b[i] == b' ' || b[i] == b'T') {
        i += 1;
        if b.len() < i + 5 || b[i + 2] != b':' {
            return None;
        }
        h = num(&b[i..i + 2])?;
        m = num(&b[i + 3..i + 5])?;
        i += 5;
        if i < b.len() && b[i] == b':' {
            sec = num(b.get(i + 1..i + 3)?)?;
            i += 3;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let frac = &b[start..i];
                if frac.is_empty() || frac.len() > 9 {
                    return None;
                }
                nano = num(frac)? * 10u32.pow(9 - frac.len() as u32);
            }
        }
    }
    let ndt = date.and_time(NaiveTime::from_hms_nano_opt(h, m, sec, nano)?);
    let rest = &b[i..];
    let offset_secs: i64 = match rest {
        [] => return Some(Iso::Local(ndt)),
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (oh, om) = match tail {
                [a, b2, b':', c, d] | [a, b2, c, d] => (num(&[*a, *b2])?, num(&[*c, *d])?),
                [a, b2] => (num(&[*a, *b2])?, 0),
                _ => return None,
            };
            let off = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let ns = ndt.and_utc().timestamp_nanos_opt()?;
    Some(Iso::Utc(ns - offset_secs * NS))
}

/// Epoch numbers by digit count; `None` for 8 digits (a YYYYMMDD date) or other lengths.
fn parse_digits(s: &str) -> Option<Timestamp> {
    let v: i64 = s.parse().ok()?;
    match s.len() {
        9 | 10 => Timestamp::from_secs(v),
        12 | 13 => Timestamp::from_millis(v),
        15 | 16 => v.checked_mul(1_000).map(Timestamp::from_nanos),
        18 | 19 => Some(Timestamp::from_nanos(v)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> String {
        TimeParser::new(chrono_tz::UTC, None)
            .parse(s)
            .unwrap()
            .to_string()
    }

    #[test]
    fn detects_common_layouts() {
        assert_eq!(utc("2019-11-05 09:30:00"), "2019-11-05T09:30:00Z");
        assert_eq!(utc("2019-10-11T00:00:00Z"), "2019-10-11T00:00:00Z");
        assert_eq!(utc("2024-06-03T09:15:00+05:30"), "2024-06-03T03:45:00Z");
        assert_eq!(utc("2015-09-23T20:57:42.146"), "2015-09-23T20:57:42.146Z");
        assert_eq!(utc("2006-01-02"), "2006-01-02T00:00:00Z");
        assert_eq!(utc("20060102"), "2006-01-02T00:00:00Z");
        assert_eq!(utc("11/5/2019 9:30"), "2019-11-05T09:30:00Z");
        assert_eq!(utc("1726119160017"), "2024-09-12T05:32:40.017Z");
        assert_eq!(utc("1570752011"), "2019-10-11T00:00:11Z");
        assert_eq!(utc("2020-05-03 23:00:00-04:00"), "2020-05-04T03:00:00Z");
    }

    #[test]
    fn converts_exchange_local_time() {
        let ist = TimeParser::new(chrono_tz::Asia::Kolkata, None);
        assert_eq!(
            ist.parse("2024-06-03 09:15").unwrap().to_string(),
            "2024-06-03T03:45:00Z"
        );
        let ny = TimeParser::new(chrono_tz::America::New_York, None);
        // EST in January, EDT in July.
        assert_eq!(
            ny.parse("2019-01-07 09:30").unwrap().to_string(),
            "2019-01-07T14:30:00Z"
        );
        assert_eq!(
            ny.parse("2019-07-08 09:30").unwrap().to_string(),
            "2019-07-08T13:30:00Z"
        );
        assert!(
            ny.parse("2019-03-10 02:30")
                .unwrap_err()
                .contains("daylight-saving gap")
        );
        let bt = TimeParser::new(chrono_tz::UTC, None);
        assert_eq!(
            bt.parse_date_time("2006-01-02", "09:05:00")
                .unwrap()
                .to_string(),
            "2006-01-02T09:05:00Z"
        );
        assert_eq!(
            bt.parse_date_time("20060102", "09:05:00")
                .unwrap()
                .to_string(),
            "2006-01-02T09:05:00Z"
        );
    }

    #[test]
    fn rejects_garbage_with_a_hint() {
        let p = TimeParser::new(chrono_tz::UTC, None);
        for bad in [
            "",
            "yesterday",
            "2019-13-01",
            "2019-02-30",
            "2019-11-05 25:00",
            "12345",
        ] {
            assert!(p.parse(bad).is_err(), "{bad:?}");
        }
        let fmt = TimeParser::new(chrono_tz::UTC, Some("%d/%m/%Y".into()));
        assert_eq!(
            fmt.parse("02/03/2010").unwrap().to_string(),
            "2010-03-02T00:00:00Z"
        );
    }
}
