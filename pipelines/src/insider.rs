//! Insider features: open-market buying against selling by the symbol's insiders, by window
//! and role, known-only.
//!
//! | feature | what |
//! |---|---|
//! | `insider_net_30d` | (bought − sold) / (bought + sold) shares over open-market trades of the last 30 days, all insiders; 0 when none |
//! | `insider_net_90d` | the same over 90 days |
//! | `insider_officer_net_90d` | 90 days, officers only (SEC officers; NSE key managerial personnel and designated employees) |
//! | `insider_director_net_90d` | 90 days, directors only |
//! | `insider_owner_net_90d` | 90 days, ten-percent owners only (SEC; NSE promoters and promoter group) |
//! | `insider_buys_90d` | open-market purchases (code P) in the last 90 days |
//! | `insider_sells_90d` | open-market sales (code S) in the last 90 days |
//!
//! A trade counts at decision time `t` when it became public by then (`ts_recv <= t`) and was
//! made within the window (`ts_event > t − window`). Ratios are by shares, so they are free of
//! currency and price. An insider holding several roles counts in each. The same engine runs in
//! batch and stream (it is part of [`crate::features::FeatureEngine`]).

use std::collections::VecDeque;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

/// The features' names, in output order.
pub const NAMES: [&str; 7] = [
    "insider_net_30d",
    "insider_net_90d",
    "insider_officer_net_90d",
    "insider_director_net_90d",
    "insider_owner_net_90d",
    "insider_buys_90d",
    "insider_sells_90d",
];

const DAY: i64 = 86_400_000_000_000;
const SHORT: i64 = 30 * DAY;
const LONG: i64 = 90 * DAY;

/// One open-market insider trade as the features see it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct InsiderEvent {
    /// When the trade was made.
    pub ts_event: Timestamp,
    /// When it became public.
    pub ts_recv: Timestamp,
    /// A purchase (code P); else a sale (code S).
    pub buy: bool,
    pub shares: f64,
    pub officer: bool,
    pub director: bool,
    pub owner: bool,
}

/// Computes the insider features of one symbol as of each decision time (ascending).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InsiderFeatures {
    /// Not yet public, by `ts_recv`.
    pending: VecDeque<InsiderEvent>,
    /// Public and within the longest window.
    known: Vec<InsiderEvent>,
}

/// Bought and sold shares.
#[derive(Default)]
struct Flow {
    bought: f64,
    sold: f64,
}

impl Flow {
    fn add(&mut self, e: &InsiderEvent) {
        if e.buy {
            self.bought += e.shares;
        } else {
            self.sold += e.shares;
        }
    }

    fn ratio(&self) -> f64 {
        let total = self.bought + self.sold;
        if total > 0.0 {
            (self.bought - self.sold) / total
        } else {
            0.0
        }
    }
}

impl InsiderFeatures {
    pub fn new(mut events: Vec<InsiderEvent>) -> Self {
        events.retain(|e| e.shares.is_finite() && e.shares > 0.0);
        events.sort_by_key(|e| (e.ts_recv, e.ts_event));
        Self {
            pending: events.into(),
            known: vec![],
        }
    }

    /// The features as of `t`, appended to `out`.
    pub fn update(&mut self, t: Timestamp, out: &mut Vec<Option<f64>>) {
        while self.pending.front().is_some_and(|e| e.ts_recv <= t) {
            if let Some(e) = self.pending.pop_front() {
                self.known.push(e);
            }
        }
        let t = t.as_nanos();
        // Decision times only grow: a trade older than the longest window never counts again.
        self.known.retain(|e| e.ts_event.as_nanos() > t - LONG);
        let (mut short, mut long) = (Flow::default(), Flow::default());
        let (mut officer, mut director, mut owner) =
            (Flow::default(), Flow::default(), Flow::default());
        let (mut buys, mut sells) = (0.0, 0.0);
        for e in &self.known {
            long.add(e);
            if e.ts_event.as_nanos() > t - SHORT {
                short.add(e);
            }
            if e.officer {
                officer.add(e);
            }
            if e.director {
                director.add(e);
            }
            if e.owner {
                owner.add(e);
            }
            if e.buy {
                buys += 1.0;
            } else {
                sells += 1.0;
            }
        }
        out.extend([
            Some(short.ratio()),
            Some(long.ratio()),
            Some(officer.ratio()),
            Some(director.ratio()),
            Some(owner.ratio()),
            Some(buys),
            Some(sells),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> Timestamp {
        Timestamp::from_nanos(1_700_000_000_000_000_000 + d * DAY)
    }

    fn trade(made: i64, public: i64, buy: bool, shares: f64, role: &str) -> InsiderEvent {
        InsiderEvent {
            ts_event: day(made),
            ts_recv: day(public),
            buy,
            shares,
            officer: role == "officer",
            director: role == "director",
            owner: role == "owner",
        }
    }

    fn at(f: &mut InsiderFeatures, d: i64) -> Vec<f64> {
        let mut out = vec![];
        f.update(day(d), &mut out);
        assert_eq!(out.len(), NAMES.len());
        out.into_iter().map(Option::unwrap).collect()
    }

    /// Hand-worked: a director buys 300 (public 2 days later), an officer sells 100, an owner
    /// buys 100 long ago.
    #[test]
    fn windows_roles_and_publication_times() {
        let mut f = InsiderFeatures::new(vec![
            trade(0, 2, true, 300.0, "director"),
            trade(10, 11, false, 100.0, "officer"),
            trade(-70, -69, true, 100.0, "owner"),
            trade(5, 6, true, f64::NAN, "owner"), // no shares: ignored
        ]);
        // Day 1: only the owner's purchase is public (71 days old: in 90d, not in 30d).
        assert_eq!(at(&mut f, 1), [0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        // Day 2: the director's 300 is public.
        assert_eq!(at(&mut f, 2), [1.0, 1.0, 0.0, 1.0, 1.0, 2.0, 0.0]);
        // Day 11: the officer's sale: 30d (300 − 100) / 400 = 0.5; 90d (400 − 100) / 500 = 0.6.
        assert_eq!(at(&mut f, 11), [0.5, 0.6, -1.0, 1.0, 1.0, 2.0, 1.0]);
        // Day 21: the owner's trade (day −70) has left the 90-day window.
        assert_eq!(at(&mut f, 21), [0.5, 0.5, -1.0, 1.0, 0.0, 1.0, 1.0]);
        // Day 35: the director's purchase (day 0) has left the 30-day window.
        assert_eq!(at(&mut f, 35), [-1.0, 0.5, -1.0, 1.0, 0.0, 1.0, 1.0]);
        // Day 101: everything has left.
        assert_eq!(at(&mut f, 101), [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
