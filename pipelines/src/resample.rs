//! Multi-timeframe bars: aggregate bars (or ticks) into a longer timeframe along an exchange's
//! session calendar, as one state machine used by batch and stream alike.
//!
//! Rules (stated, and tested):
//! - **Buckets follow the session.** Intraday buckets start at the session open and step by the
//!   timeframe (NSE 1h: 09:15, 10:15, … 15:15); the last bucket of a session ends at the close
//!   and may be shorter (NSE 15:15–15:30). A day is one session, stamped at local midnight like
//!   ingested daily bars; a week runs Monday–Sunday, a month by calendar month, both over
//!   trading days only.
//! - **Input outside any session** (pre-market prints, a holiday) is not aggregated; it is
//!   counted in `outside()`. Input older than the open bucket is counted in `late()` and ignored.
//! - **A bucket is emitted once complete**: when input from a later bucket arrives, or when the
//!   clock (`on_time`) reaches the bucket's end. A bucket with missing base bars (minutes without
//!   trades) is complete at its end all the same. An incomplete bucket is never emitted: at the
//!   end of a batch it stays open, exactly as in a stream that has not yet reached its end.
//! - **ts_recv** of an output bar is the later of the bucket's end and the latest `ts_recv` of
//!   its inputs: a higher-timeframe bar is never knowable before it has closed, so joining it
//!   as-of `ts_recv` onto shorter bars uses only completed bars.
//! - OHLCV: open of the first input, max high, min low, close of the last, sum of volume.

use chrono::{Datelike, Duration as ChronoDuration, NaiveDate};
use elite_warehouse::{Timeframe, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::indicators::Ohlcv;
use crate::{Error, Result};

/// One input bar (a tick is a bar with o = h = l = c = price and volume = size).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedBar {
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub bar: Ohlcv,
}

impl TimedBar {
    /// A trade print as a bar.
    pub fn tick(ts: Timestamp, price: f64, size: f64) -> Self {
        Self {
            ts_event: ts,
            ts_recv: ts,
            bar: Ohlcv::new(price, price, price, price, size),
        }
    }
}

/// An aggregated bar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutBar {
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub bar: Ohlcv,
    /// Number of inputs aggregated.
    pub inputs: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Target {
    Intraday(i64),
    Day,
    Week,
    Month,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Bucket {
    start: Timestamp,
    end: Timestamp,
    bar: Ohlcv,
    inputs: u32,
    last_recv: Timestamp,
}

/// Aggregates one series into `target` bars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resampler {
    cal: Calendar,
    target: Target,
    open: Option<Bucket>,
    outside: u64,
    late: u64,
}

impl Resampler {
    pub fn new(cal: Calendar, target: Timeframe) -> Result<Self> {
        let target = match target {
            Timeframe::Days(1) => Target::Day,
            Timeframe::Weeks(1) => Target::Week,
            Timeframe::Months(1) => Target::Month,
            tf => match tf.fixed_nanos() {
                Some(ns) if ns > 0 && ns < 86_400_000_000_000 => Target::Intraday(ns),
                _ => {
                    return Err(Error::Input {
                        context: "resample".into(),
                        reason: format!(
                            "cannot aggregate into {tf}: use an intraday timeframe, 1d, 1w or 1mo"
                        ),
                    });
                }
            },
        };
        Ok(Self {
            cal,
            target,
            open: None,
            outside: 0,
            late: 0,
        })
    }

    /// Inputs skipped because no session contained them.
    pub fn outside(&self) -> u64 {
        self.outside
    }
    /// Inputs skipped because they were older than the open bucket.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// The last session close in `[from, to]` (local dates), for week and month ends.
    fn last_close(&self, from: NaiveDate, to: NaiveDate) -> Option<Timestamp> {
        let mut d = to;
        while d >= from {
            if let Some(s) = self.cal.session_on(d) {
                return Some(s.close);
            }
            d = d.pred_opt()?;
        }
        None
    }

    fn bucket_of(&self, ts: Timestamp) -> Option<(Timestamp, Timestamp)> {
        match self.target {
            Target::Intraday(d) => {
                let s = self.cal.session_at(ts)?;
                let k = (ts.as_nanos() - s.open.as_nanos()).div_euclid(d);
                let start = s.open.add_nanos(k * d);
                let end = start.add_nanos(d).min(s.close);
                Some((start, end))
            }
            Target::Day | Target::Week | Target::Month => {
                let date = self.cal.local_date(ts);
                let s = self.cal.session_on(date)?;
                // Daily inputs are stamped at local midnight; intraday inputs must be in session.
                let midnight = self.cal.midnight(date)?;
                if ts != midnight && !(s.open <= ts && ts < s.close) {
                    return None;
                }
                match self.target {
                    Target::Day => Some((midnight, s.close)),
                    Target::Week => {
                        let monday = date
                            - ChronoDuration::days(date.weekday().num_days_from_monday() as i64);
                        let sunday = monday + ChronoDuration::days(6);
                        Some((self.cal.midnight(monday)?, self.last_close(monday, sunday)?))
                    }
                    _ => {
                        let first = date.with_day(1)?;
                        let next = if first.month() == 12 {
                            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
                        } else {
                            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
                        };
                        Some((
                            self.cal.midnight(first)?,
                            self.last_close(first, next.pred_opt()?)?,
                        ))
                    }
                }
            }
        }
    }

    fn emit(b: Bucket) -> OutBar {
        OutBar {
            ts_event: b.start,
            ts_recv: b.end.max(b.last_recv),
            bar: b.bar,
            inputs: b.inputs,
        }
    }

    /// Feed one input (in ts_event order); completed buckets are pushed onto `out`.
    pub fn update(&mut self, x: &TimedBar, out: &mut Vec<OutBar>) {
        let Some((start, end)) = self.bucket_of(x.ts_event) else {
            self.outside += 1;
            return;
        };
        if let Some(b) = self.open.as_mut() {
            if start == b.start {
                b.bar.high = b.bar.high.max(x.bar.high);
                b.bar.low = b.bar.low.min(x.bar.low);
                b.bar.close = x.bar.close;
                b.bar.volume += x.bar.volume;
                b.inputs += 1;
                b.last_recv = b.last_recv.max(x.ts_recv);
                return;
            }
            if start < b.start {
                self.late += 1;
                return;
            }
            out.push(Self::emit(*b));
        }
        self.open = Some(Bucket {
            start,
            end,
            bar: x.bar,
            inputs: 1,
            last_recv: x.ts_recv,
        });
    }

    /// The clock reached `now`: emit the open bucket if it has ended.
    pub fn on_time(&mut self, now: Timestamp, out: &mut Vec<OutBar>) {
        if let Some(b) = self.open
            && now >= b.end
        {
            out.push(Self::emit(b));
            self.open = None;
        }
    }
}

/// Batch form: aggregate `inputs` (ts_event order), then let the clock reach `until` (for a
/// historical batch: the time the data was read up to).
pub fn resample(
    cal: &Calendar,
    target: Timeframe,
    inputs: &[TimedBar],
    until: Timestamp,
) -> Result<(Vec<OutBar>, Resampler)> {
    let mut r = Resampler::new(cal.clone(), target)?;
    let mut out = Vec::with_capacity(inputs.len() / 2 + 1);
    for x in inputs {
        r.update(x, &mut out);
    }
    r.on_time(until, &mut out);
    Ok((out, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn nse_hourly_buckets_start_at_the_open_and_the_last_is_short() {
        let open = ts("2024-06-03T03:45:00Z"); // 09:15 IST
        let bars: Vec<TimedBar> = (0..375)
            .map(|i| {
                let t = open.add_nanos(i * 60_000_000_000);
                TimedBar {
                    ts_event: t,
                    ts_recv: t.add_nanos(60_000_000_000),
                    bar: Ohlcv::new(1.0, 2.0, 0.5, 1.5, 10.0),
                }
            })
            .collect();
        let (out, r) = resample(
            &Calendar::nse(),
            Timeframe::parse("1h").unwrap(),
            &bars,
            ts("2024-06-03T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(out.len(), 7);
        assert_eq!(out[0].ts_event, open);
        assert_eq!(out[6].ts_event, ts("2024-06-03T09:45:00Z")); // 15:15 IST
        assert_eq!(out[6].ts_recv, ts("2024-06-03T10:00:00Z")); // 15:30 IST
        assert_eq!(out[6].inputs, 15);
        assert_eq!(out.iter().map(|b| b.bar.volume).sum::<f64>(), 3750.0);
        assert_eq!(r.outside(), 0);
    }

    #[test]
    fn incomplete_bucket_waits_for_the_clock() {
        let t0 = ts("2024-06-03T03:45:00Z");
        let b = TimedBar {
            ts_event: t0,
            ts_recv: t0.add_nanos(60_000_000_000),
            bar: Ohlcv::new(1.0, 1.0, 1.0, 1.0, 1.0),
        };
        let mut r = Resampler::new(Calendar::nse(), Timeframe::parse("5m").unwrap()).unwrap();
        let mut out = vec![];
        r.update(&b, &mut out);
        r.on_time(ts("2024-06-03T03:49:59Z"), &mut out);
        assert!(out.is_empty());
        r.on_time(ts("2024-06-03T03:50:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        // Outside the session: counted, not aggregated.
        r.update(
            &TimedBar {
                ts_event: ts("2024-06-03T02:00:00Z"),
                ..b
            },
            &mut out,
        );
        assert_eq!(r.outside(), 1);
    }
}
