//! Earnings features: what a bar could know about the symbol's announcements.
//!
//! | feature | what |
//! |---|---|
//! | `days_to_earnings` | days from the bar to the next scheduled announcement known by then (capped at 91, a quarter, when none is known) |
//! | `last_surprise` | the surprise (actual − estimate) / \|estimate\| of the latest quarter reported by then; 0 before any |
//! | `days_since_earnings` | days since that report became known (capped at 91) |
//!
//! Only records with `ts_recv <= t` count: a quarter's surprise is unknown until it was reported.

use std::collections::VecDeque;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

/// The features' names, in output order.
pub const NAMES: [&str; 3] = ["days_to_earnings", "last_surprise", "days_since_earnings"];

const DAY: f64 = 86_400e9;
const CAP_DAYS: f64 = 91.0;

/// One `earnings` row as the features see it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum EarningsEvent {
    /// An announcement expected at `at`, known from `ts_recv`.
    Scheduled { ts_recv: Timestamp, at: Timestamp },
    /// A quarter reported (known from `ts_recv`) with this surprise fraction.
    Reported { ts_recv: Timestamp, surprise: f64 },
}

impl EarningsEvent {
    fn ts_recv(&self) -> Timestamp {
        match *self {
            Self::Scheduled { ts_recv, .. } | Self::Reported { ts_recv, .. } => ts_recv,
        }
    }
}

/// Computes the earnings features of one symbol as of each decision time (ascending).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EarningsFeatures {
    pending: VecDeque<EarningsEvent>,
    /// Announcement times known so far.
    scheduled: Vec<Timestamp>,
    last: Option<(Timestamp, f64)>,
}

impl EarningsFeatures {
    pub fn new(mut events: Vec<EarningsEvent>) -> Self {
        events.retain(|e| match e {
            EarningsEvent::Reported { surprise, .. } => surprise.is_finite(),
            EarningsEvent::Scheduled { .. } => true,
        });
        events.sort_by_key(EarningsEvent::ts_recv);
        Self {
            pending: events.into(),
            ..Default::default()
        }
    }

    /// The features as of `t`, appended to `out`.
    pub fn update(&mut self, t: Timestamp, out: &mut Vec<Option<f64>>) {
        while self.pending.front().is_some_and(|e| e.ts_recv() <= t) {
            match self.pending.pop_front() {
                Some(EarningsEvent::Scheduled { at, .. }) => self.scheduled.push(at),
                Some(EarningsEvent::Reported { ts_recv, surprise }) => {
                    self.last = Some((ts_recv, surprise))
                }
                None => {}
            }
        }
        let days = |a: Timestamp, b: Timestamp| (b.as_nanos() - a.as_nanos()) as f64 / DAY;
        let next = self.scheduled.iter().filter(|a| **a > t).min();
        out.extend([
            Some(next.map_or(CAP_DAYS, |a| days(t, *a).min(CAP_DAYS))),
            Some(self.last.map_or(0.0, |(_, s)| s)),
            Some(
                self.last
                    .map_or(CAP_DAYS, |(r, _)| days(r, t).min(CAP_DAYS)),
            ),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> Timestamp {
        Timestamp::from_nanos(1_700_000_000_000_000_000 + d * 86_400_000_000_000)
    }

    #[test]
    fn known_only_after_ts_recv() {
        let events = vec![
            EarningsEvent::Scheduled {
                ts_recv: day(0),
                at: day(30),
            },
            EarningsEvent::Reported {
                ts_recv: day(30),
                surprise: 0.05,
            },
            EarningsEvent::Scheduled {
                ts_recv: day(35),
                at: day(120),
            },
        ];
        let mut f = EarningsFeatures::new(events);
        let at = |f: &mut EarningsFeatures, d| {
            let mut out = vec![];
            f.update(day(d), &mut out);
            out.into_iter().map(Option::unwrap).collect::<Vec<_>>()
        };
        assert_eq!(at(&mut f, -1), [91.0, 0.0, 91.0]); // nothing known yet
        assert_eq!(at(&mut f, 10), [20.0, 0.0, 91.0]);
        assert_eq!(at(&mut f, 29), [1.0, 0.0, 91.0]); // the result is not known before day 30
        assert_eq!(at(&mut f, 31), [91.0, 0.05, 1.0]); // next date not yet known
        assert_eq!(at(&mut f, 40), [80.0, 0.05, 10.0]);
    }
}
