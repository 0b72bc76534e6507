//! Execution schedules: how a parent order is cut into child orders over time.
//!
//! - TWAP: equal slices over `n` intervals; the remainder goes one share at a time to the
//!   earliest slices (so every slice differs from another by at most one share).
//! - VWAP: slices proportional to a volume profile (the average share of a session's volume traded
//!   in each interval, learned from the warehouse's bars by [`volume_profile`]); rounding by
//!   largest remainder, ties to the earlier interval.
//! - POV: each interval takes `rate ×` the volume the market traded in it, until done.
//!
//! Every schedule sums exactly to the parent quantity.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::broker::Broker;
use crate::money::Money;
use crate::order::{OrderKind, OrderRequest};
use crate::risk::Approved;
use crate::types::{Bar, Side, Sym};

/// Equal slices over `n` intervals.
pub fn twap(qty: i64, n: usize) -> Vec<i64> {
    if n == 0 {
        return vec![];
    }
    let base = qty / n as i64;
    let rem = (qty % n as i64) as usize;
    (0..n).map(|i| base + i64::from(i < rem)).collect()
}

/// Slices proportional to `profile` (non-negative weights; all zero falls back to TWAP).
pub fn vwap(qty: i64, profile: &[f64]) -> Vec<i64> {
    let total: f64 = profile.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    if total <= 0.0 {
        return twap(qty, profile.len());
    }
    let exact: Vec<f64> = profile
        .iter()
        .map(|w| {
            if w.is_finite() && *w > 0.0 {
                qty as f64 * w / total
            } else {
                0.0
            }
        })
        .collect();
    let mut out: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut left = qty - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    // Largest remainder first; ties to the earlier interval (stable sort).
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.partial_cmp(&ra).unwrap_or(std::cmp::Ordering::Equal)
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// Percentage of volume: child quantities for the observed interval volumes.
pub fn pov(qty: i64, rate: f64, volumes: &[f64]) -> Vec<i64> {
    let mut left = qty;
    volumes
        .iter()
        .map(|v| {
            let q = ((rate * v.max(0.0)).floor() as i64).min(left);
            left -= q;
            q
        })
        .collect()
}

/// The intraday volume profile: for each of `buckets` intervals of a session, the average share
/// of the session's volume traded in it. `sessions` holds, per session, `(bucket, volume)` pairs.
pub fn volume_profile(sessions: &[Vec<(usize, f64)>], buckets: usize) -> Vec<f64> {
    let mut sum = vec![0.0; buckets];
    let mut n = 0usize;
    for s in sessions {
        let total: f64 = s
            .iter()
            .filter(|(b, _)| *b < buckets)
            .map(|(_, v)| v.max(0.0))
            .sum();
        if total <= 0.0 {
            continue;
        }
        n += 1;
        for &(b, v) in s {
            if b < buckets {
                sum[b] += v.max(0.0) / total;
            }
        }
    }
    if n > 0 {
        for x in &mut sum {
            *x /= n as f64;
        }
    }
    sum
}

/// Implementation shortfall of a parent order, in basis points of the arrival price: positive is
/// a cost. `fills` are `(qty, price)`; unfilled quantity is not counted.
pub fn shortfall_bps(buy: bool, arrival: f64, fills: &[(i64, f64)]) -> Option<f64> {
    let q: i64 = fills.iter().map(|f| f.0).sum();
    if q == 0 || arrival <= 0.0 {
        return None;
    }
    let avg = fills.iter().map(|f| f.0 as f64 * f.1).sum::<f64>() / q as f64;
    let s = if buy { 1.0 } else { -1.0 };
    Some(s * (avg - arrival) / arrival * 10_000.0)
}

// ---- Working parent orders (the engine's execution algorithms) -------------------------------

/// How approved market orders reach the broker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algo", rename_all = "snake_case")]
pub enum Execution {
    /// As they are.
    #[default]
    Direct,
    /// Market orders of at least `min_qty` are cut into `slices` equal children
    /// ([`crate::execution::twap`]), one per bar of the symbol, the first on the deciding bar.
    Twap {
        slices: usize,
        #[serde(default)]
        min_qty: i64,
    },
    /// VWAP over the rest of the session: children proportional to the symbol's intraday volume
    /// profile (the average share of a session's volume in each bar position, learned from its
    /// last `lookback` sessions, UTC days), for the next `slices` bar positions at most;
    /// [`crate::execution::vwap`] rounding. With one bar a session (daily bars) this is direct.
    Vwap {
        slices: usize,
        #[serde(default = "twenty")]
        lookback: usize,
        #[serde(default)]
        min_qty: i64,
    },
    /// Percentage of volume: each bar of the symbol gets a child of `rate` × the previous bar's
    /// volume (at least one share) until the parent is done.
    Pov {
        rate: f64,
        #[serde(default)]
        min_qty: i64,
    },
}

fn twenty() -> usize {
    20
}

/// Per symbol: the current session (UTC day, bar position, (position, volume) pairs) and the
/// completed sessions the VWAP profile is learned from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sessions {
    day: i64,
    position: usize,
    current: Vec<(usize, f64)>,
    done: std::collections::VecDeque<Vec<(usize, f64)>>,
}

impl Sessions {
    /// Record `bar` of this symbol: a new UTC day starts a new session (the finished one joins
    /// the last `lookback` sessions the profile is learned from).
    pub(crate) fn on_bar(&mut self, bar: &Bar, lookback: usize) {
        let day = bar.ts_event.as_nanos().div_euclid(86_400_000_000_000);
        if day != self.day || self.current.is_empty() {
            if !self.current.is_empty() {
                let done = std::mem::take(&mut self.current);
                self.done.push_back(done);
                while self.done.len() > lookback.max(1) {
                    self.done.pop_front();
                }
            }
            self.day = day;
            self.position = 0;
        } else {
            self.position += 1;
        }
        let pos = self.position;
        self.current.push((pos, bar.volume.max(0.0)));
    }
}

/// A parent order being worked by an execution algorithm.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    order: Approved,
    schedule: Vec<i64>,
    sent: i64,
    children: usize,
    last_volume: f64,
}

/// Quantities of parents on `sym` (of strategy `tag`, if given) not yet sent as children:
/// (buys, sells).
pub(crate) fn unsent(parents: &[Parent], sym: Sym, tag: Option<&str>) -> (i64, i64) {
    let mut out = (0, 0);
    for o in parents.iter().filter(|p| {
        let o = p.order.order();
        o.sym == sym && tag.is_none_or(|t| o.tag == t)
    }) {
        let left = o.order.order().qty - o.sent;
        match o.order.order().side {
            Side::Buy => out.0 += left,
            Side::Sell => out.1 += left,
        }
    }
    out
}

/// A parent for the execution algorithm, or `None` to send `a` directly.
pub(crate) fn work(
    execution: &Execution,
    sessions: &[Sessions],
    a: Approved,
    bar: Option<&Bar>,
) -> Option<Parent> {
    let o = a.order();
    // The volume of the order's own symbol's last bar, when that is the bar at hand.
    let volume = bar
        .filter(|b| b.sym == o.sym)
        .map_or(f64::NAN, |b| b.volume);
    if o.kind != OrderKind::Market || !o.attached.is_empty() {
        return None;
    }
    let schedule = match *execution {
        Execution::Direct => return None,
        Execution::Twap { slices, min_qty } if o.qty >= min_qty.max(2) && slices > 1 => {
            twap(o.qty, slices)
        }
        Execution::Pov { rate, min_qty } if o.qty >= min_qty.max(2) && rate > 0.0 => vec![],
        Execution::Vwap {
            slices, min_qty, ..
        } if o.qty >= min_qty.max(2) && slices > 0 => {
            let ss = sessions.get(o.sym as usize)?;
            let buckets = ss
                .done
                .iter()
                .flatten()
                .map(|(p, _)| p + 1)
                .max()
                .unwrap_or(0);
            let done: Vec<Vec<(usize, f64)>> = ss.done.iter().cloned().collect();
            let profile = volume_profile(&done, buckets);
            // Children fill from the next bar position on.
            let from = (ss.position + 1).min(profile.len());
            let rest = &profile[from..(from + slices).min(profile.len())];
            if rest.len() < 2 || rest.iter().sum::<f64>() <= 0.0 {
                return None;
            }
            vwap(o.qty, rest)
        }
        _ => return None,
    };
    Some(Parent {
        order: a,
        schedule,
        sent: 0,
        children: 0,
        last_volume: volume,
    })
}

/// Send the next child of every parent working on this bar's symbol (the first child goes
/// out on the deciding bar itself, as a direct order would).
pub(crate) fn send_children(
    execution: &Execution,
    parents: &mut Vec<Parent>,
    bar: &Bar,
    only_new: bool,
    submitted: &mut Vec<(Timestamp, OrderRequest)>,
    broker: &mut dyn Broker,
) {
    if parents.is_empty() {
        return;
    }
    let last = Money::from_f64(bar.close).unwrap_or_default();
    let mut i = 0;
    while i < parents.len() {
        let p = &mut parents[i];
        if p.order.order().sym != bar.sym || only_new && p.children > 0 {
            i += 1;
            continue;
        }
        let left = p.order.order().qty - p.sent;
        let q = match *execution {
            Execution::Pov { rate, .. } => {
                let v = if p.last_volume.is_finite() {
                    p.last_volume
                } else {
                    0.0
                };
                ((rate * v).floor() as i64).max(1).min(left)
            }
            _ => p
                .schedule
                .get(p.children)
                .copied()
                .unwrap_or(left)
                .min(left),
        };
        p.last_volume = bar.volume;
        let k = p.children;
        p.children += 1; // a zero slice (a bar position with no volume) still uses its turn
        if q > 0 {
            let child = p.order.child(format!("{}-c{k}", p.order.order().id), q);
            p.sent += q;
            submitted.push((bar.ts_recv, child.order().clone()));
            broker.submit(child, bar.ts_recv, last);
        }
        if parents[i].sent >= parents[i].order.order().qty {
            parents.remove(i);
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-computed: 1,000 shares over 7 slices = 142 r 6 → six slices of 143, one of 142.
    #[test]
    fn twap_by_hand() {
        assert_eq!(twap(1000, 7), vec![143, 143, 143, 143, 143, 143, 142]);
        assert_eq!(twap(5, 0), Vec::<i64>::new());
        assert_eq!(twap(3, 5), vec![1, 1, 1, 0, 0]);
    }

    // Hand-computed: profile 0.3/0.2/0.1/0.4 of 1,001 → 300.3, 200.2, 100.1, 400.4; floors sum to
    // 1,000; the one left goes to the largest remainder (400.4 → 401).
    #[test]
    fn vwap_by_hand() {
        assert_eq!(vwap(1001, &[0.3, 0.2, 0.1, 0.4]), vec![300, 200, 100, 401]);
        // A U-shaped profile (open and close heavy): 10,000 over 5 buckets 25/15/10/15/35 %.
        assert_eq!(
            vwap(10_000, &[25.0, 15.0, 10.0, 15.0, 35.0]),
            vec![2500, 1500, 1000, 1500, 3500]
        );
        // Equal remainders: ties to the earlier interval (10 over 3 equal → 4, 3, 3).
        assert_eq!(vwap(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(vwap(10, &[0.0, 0.0]), vec![5, 5]);
    }

    #[test]
    fn pov_and_profile() {
        assert_eq!(
            pov(100, 0.1, &[300.0, 450.0, 1000.0, 1000.0]),
            vec![30, 45, 25, 0]
        );
        let p = volume_profile(
            &[
                vec![(0, 30.0), (1, 10.0), (2, 60.0)],
                vec![(0, 50.0), (2, 50.0)],
            ],
            3,
        );
        // (0.3 + 0.5)/2, (0.1 + 0)/2, (0.6 + 0.5)/2
        assert!(
            (p[0] - 0.4).abs() < 1e-12
                && (p[1] - 0.05).abs() < 1e-12
                && (p[2] - 0.55).abs() < 1e-12
        );
        let s = shortfall_bps(true, 100.0, &[(50, 100.2), (50, 100.4)]).unwrap();
        assert!((s - 30.0).abs() < 1e-9); // average 100.3 vs arrival 100 = 30 bps
    }
}
