//! A rule-based market regime: trend × volatility, from closes up to each bar only.
//!
//! - Trend: **bull** when the close is above its 200-bar mean and the 50-bar mean is above the
//!   200-bar mean; **bear** when both are below; **sideways** otherwise.
//! - Volatility: the 21-bar standard deviation of log returns, ranked (percentile, ties averaged)
//!   among all its values so far (at least 252): **high** above 0.8, **low** below 0.2, **normal**
//!   between.
//!
//! State = 3 · trend (bull 0, sideways 1, bear 2) + volatility (low 0, normal 1, high 2).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// The rule parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleOptions {
    pub fast: usize,
    pub slow: usize,
    pub vol_window: usize,
    /// Volatility values needed before its percentile means anything.
    pub vol_history: usize,
    pub high: f64,
    pub low: f64,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            fast: 50,
            slow: 200,
            vol_window: 21,
            vol_history: 252,
            high: 0.8,
            low: 0.2,
        }
    }
}

/// One bar's regime.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    pub state: u8,
    /// Close / slow mean − 1.
    pub trend: f64,
    /// The volatility's percentile among its history.
    pub vol_pct: f64,
}

const TREND: [&str; 3] = ["bull", "sideways", "bear"];
const VOL: [&str; 3] = ["low_vol", "normal_vol", "high_vol"];

/// `bull/low_vol`, … for a state.
pub fn label(state: u8) -> String {
    let s = state as usize;
    format!("{}/{}", TREND[(s / 3).min(2)], VOL[s % 3])
}

/// Percentile rank of `x` among `sorted` (which contains it), ties averaged as pandas'
/// `rank(pct=True)`.
fn pct_rank(sorted: &[f64], x: f64) -> f64 {
    let less = sorted.partition_point(|v| *v < x);
    let le = sorted.partition_point(|v| *v <= x);
    (less as f64 + (le - less + 1) as f64 / 2.0) / sorted.len() as f64
}

/// The classifier bar by bar: [`classify`] is this run over a slice, so the two agree exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleStream {
    o: RuleOptions,
    /// The last `max(fast, slow)` closes, oldest first.
    closes: VecDeque<f64>,
    /// The last `vol_window` log returns, oldest first.
    returns: VecDeque<f64>,
    /// Every volatility so far, sorted.
    hist: Vec<f64>,
}

impl RuleStream {
    pub fn new(o: RuleOptions) -> Self {
        RuleStream {
            o,
            closes: VecDeque::new(),
            returns: VecDeque::new(),
            hist: vec![],
        }
    }

    /// Mean of the last `w` closes (`None` until there are `w`).
    fn mean(&self, w: usize) -> Option<f64> {
        let n = self.closes.len();
        (w > 0 && n >= w).then(|| self.closes.range(n - w..).sum::<f64>() / w as f64)
    }

    /// Feed one close (positive and finite); the regime at it.
    pub fn update(&mut self, c: f64) -> Option<RuleState> {
        let o = self.o;
        if let Some(&prev) = self.closes.back() {
            self.returns.push_back((c / prev).ln());
            if self.returns.len() > o.vol_window {
                self.returns.pop_front();
            }
        }
        self.closes.push_back(c);
        if self.closes.len() > o.fast.max(o.slow).max(1) {
            self.closes.pop_front();
        }
        if o.vol_window < 2 || self.returns.len() < o.vol_window {
            return None;
        }
        let m = self.returns.iter().sum::<f64>() / o.vol_window as f64;
        let vol = (self.returns.iter().map(|x| (x - m).powi(2)).sum::<f64>()
            / (o.vol_window - 1) as f64)
            .sqrt();
        let at = self.hist.partition_point(|v| *v < vol);
        self.hist.insert(at, vol);
        if self.hist.len() < o.vol_history.max(1) {
            return None;
        }
        let (fast, slow) = (self.mean(o.fast)?, self.mean(o.slow)?);
        let trend = if c > slow && fast > slow {
            0
        } else if c < slow && fast < slow {
            2
        } else {
            1
        };
        let pct = pct_rank(&self.hist, vol);
        let v = if pct > o.high {
            2
        } else if pct < o.low {
            0
        } else {
            1
        };
        Some(RuleState {
            state: trend * 3 + v,
            trend: c / slow - 1.0,
            vol_pct: pct,
        })
    }
}

/// The regime at every close (`None` until both the slow mean and the volatility history exist,
/// or where a close is not positive and finite).
pub fn classify(closes: &[f64], o: &RuleOptions) -> Vec<Option<RuleState>> {
    if closes.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
        return vec![None; closes.len()];
    }
    let mut s = RuleStream::new(*o);
    closes.iter().map(|c| s.update(*c)).collect()
}
