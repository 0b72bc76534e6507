//! A rule-based market regime: trend × volatility, from closes up to each bar only.
//!
//! - Trend: **bull** when the close is above its 200-bar mean and the 50-bar mean is above the
//!   200-bar mean; **bear** when both are below; **sideways** otherwise.
//! - Volatility: the 21-bar standard deviation of log returns, ranked (percentile, ties averaged)
//!   among all its values so far (at least 252): **high** above 0.8, **low** below 0.2, **normal**
//!   between.
//!
//! State = 3 · trend (bull 0, sideways 1, bear 2) + volatility (low 0, normal 1, high 2).

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

/// The regime at every close (`None` until both the slow mean and the volatility history exist,
/// or where a close is not positive and finite).
pub fn classify(closes: &[f64], o: &RuleOptions) -> Vec<Option<RuleState>> {
    let n = closes.len();
    let mut out = vec![None; n];
    if closes.iter().any(|c| !(c.is_finite() && *c > 0.0)) || o.vol_window < 2 {
        return out;
    }
    let mean = |w: usize, t: usize| -> Option<f64> {
        (w > 0 && t + 1 >= w).then(|| closes[t + 1 - w..=t].iter().sum::<f64>() / w as f64)
    };
    let r: Vec<f64> = std::iter::once(f64::NAN)
        .chain(closes.windows(2).map(|w| (w[1] / w[0]).ln()))
        .collect();
    let mut hist: Vec<f64> = vec![];
    for t in 0..n {
        // r[0] does not exist: the window needs t ≥ vol_window.
        let vol = (t >= o.vol_window).then(|| {
            let w = &r[t + 1 - o.vol_window..=t];
            let m = w.iter().sum::<f64>() / w.len() as f64;
            (w.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (w.len() - 1) as f64).sqrt()
        });
        let Some(vol) = vol else { continue };
        let at = hist.partition_point(|v| *v < vol);
        hist.insert(at, vol);
        if hist.len() < o.vol_history.max(1) {
            continue;
        }
        let (Some(fast), Some(slow)) = (mean(o.fast, t), mean(o.slow, t)) else {
            continue;
        };
        let c = closes[t];
        let trend = if c > slow && fast > slow {
            0
        } else if c < slow && fast < slow {
            2
        } else {
            1
        };
        let pct = pct_rank(&hist, vol);
        let v = if pct > o.high {
            2
        } else if pct < o.low {
            0
        } else {
            1
        };
        out[t] = Some(RuleState {
            state: trend * 3 + v,
            trend: c / slow - 1.0,
            vol_pct: pct,
        });
    }
    out
}
