//! The allocator: capital moved between strategies' books by recent risk-adjusted performance.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Engine, SubBook};
use crate::money::Money;

/// Moves capital between strategies by recent risk-adjusted performance.
///
/// Every `every` instants, each strategy's Sharpe ratio over its last `lookback` instant returns
/// (of its own book) gives its weight ∝ max(Sharpe, 0) (all non-positive: equal weights); weights
/// are then held within `[floor, cap]` (excess redistributed) and capital is moved between the
/// strategies' books as cash to match them. Positions are not traded by the move: each strategy
/// resizes at its next decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllocatorConfig {
    pub every: usize,
    pub lookback: usize,
    #[serde(default)]
    pub floor: f64,
    #[serde(default = "one")]
    pub cap: f64,
}

fn one() -> f64 {
    1.0
}

/// Weights ∝ max(score, 0), equal when none is positive, held in `[floor, cap]`.
pub fn allocate(scores: &[f64], floor: f64, cap: f64) -> Vec<f64> {
    let n = scores.len();
    if n == 0 {
        return vec![];
    }
    let pos: Vec<f64> = scores
        .iter()
        .map(|s| if s.is_finite() { s.max(0.0) } else { 0.0 })
        .collect();
    let total: f64 = pos.iter().sum();
    let mut w: Vec<f64> = if total > 0.0 {
        pos.iter().map(|p| p / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    let (floor, cap) = (floor.clamp(0.0, 1.0 / n as f64), cap.max(1.0 / n as f64));
    // Clamp and give the excess (or take the shortfall) pro rata from the unclamped weights.
    for _ in 0..n {
        let mut fixed = vec![false; n];
        let mut excess = 0.0;
        for i in 0..n {
            if w[i] > cap {
                excess += w[i] - cap;
                w[i] = cap;
                fixed[i] = true;
            } else if w[i] < floor {
                excess -= floor - w[i];
                w[i] = floor;
                fixed[i] = true;
            }
        }
        if excess.abs() < 1e-15 {
            break;
        }
        let free: f64 = (0..n).filter(|i| !fixed[*i]).map(|i| w[i]).sum();
        let k = (0..n).filter(|i| !fixed[*i]).count();
        for i in (0..n).filter(|i| !fixed[*i]) {
            w[i] += if free > 0.0 {
                excess * w[i] / free
            } else {
                excess / k.max(1) as f64
            };
        }
    }
    w
}

impl Engine {
    /// Move capital between strategies' books (as cash) so that they hold `w` of their total.
    pub fn set_weights(&mut self, w: &[f64], ts: Timestamp) {
        let total: f64 = self.subs.iter().map(SubBook::equity_now).sum();
        for (sub, wk) in self.subs.iter_mut().zip(w) {
            let delta = Money::from_f64(wk * total - sub.equity_now()).unwrap_or_default();
            sub.ledger.cash += delta;
            sub.ledger.initial += delta; // a capital transfer, not P&L
            sub.base += delta.to_f64();
        }
        self.journal.allocations.push((ts, w.to_vec()));
    }

    pub(super) fn allocate_now(&mut self, ts: Timestamp) {
        let Some(a) = self.allocator.clone() else {
            return;
        };
        if a.every == 0 || !self.instants.is_multiple_of(a.every) || self.subs.len() < 2 {
            return;
        }
        let scores: Vec<f64> = self
            .subs
            .iter()
            .map(|s| {
                let e = &s.equity[s.equity.len().saturating_sub(a.lookback + 1)..];
                let r: Vec<f64> = e
                    .windows(2)
                    .map(|w| if w[0] > 0.0 { w[1] / w[0] - 1.0 } else { 0.0 })
                    .collect();
                let n = r.len() as f64;
                if n < 2.0 {
                    return 0.0;
                }
                let m = r.iter().sum::<f64>() / n;
                let sd = (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                if sd > 0.0 { m / sd } else { 0.0 }
            })
            .collect();
        let w = allocate(&scores, a.floor, a.cap);
        self.set_weights(&w, ts);
    }
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn allocator_weights() {
        // ∝ max(score, 0): 2 / 3 and 1 / 3, then capped at 0.6 with the excess to the other.
        let w = allocate(&[2.0, 1.0, -1.0], 0.0, 0.6);
        assert!(
            (w[0] - 0.6).abs() < 1e-12 && (w[1] - 0.4).abs() < 1e-12 && w[2] == 0.0,
            "{w:?}"
        );
        // A floor of 10%: the loser keeps 0.1, the rest is shared 2:1.
        let w = allocate(&[2.0, 1.0, -1.0], 0.1, 1.0);
        assert!(
            (w[2] - 0.1).abs() < 1e-12 && (w[0] - 0.6).abs() < 1e-12 && (w[1] - 0.3).abs() < 1e-12,
            "{w:?}"
        );
        assert_eq!(allocate(&[-1.0, 0.0], 0.0, 1.0), vec![0.5, 0.5]);
    }
}
