//! A market stress index over a universe of instruments: the mean of four standardized
//! components, each computed from data up to the day it describes.
//!
//! From the daily log returns `r_{t,s}` of every instrument `s` and their equal-weight mean
//! `m_t = mean_s r_{t,s}` (an equal-weight index with level `L_t = exp Σ m`):
//!
//! 1. **volatility**: the sample standard deviation of `m` over 21 days, × √252;
//! 2. **correlation**: the mean pairwise Pearson correlation of the instruments over 63 days;
//! 3. **dispersion**: the 21-day mean of the cross-sectional standard deviation of `r_t`;
//! 4. **drawdown**: `1 − L_t / max_{u ≤ t} L_u`.
//!
//! Each component is turned into a z-score against its own history up to and including `t`
//! (expanding mean and sample standard deviation, at least 252 values), and the index is the
//! mean of the four z-scores. 0 is an ordinary day by the universe's own past; 1 is one standard
//! deviation more stressed. Levels: **low** below 0, **normal** below 1, **elevated** below 2,
//! **high** from 2. Credit and term spreads would enter the same way once macro series are
//! landed.

use serde::{Deserialize, Serialize};

/// Window lengths and the history the z-scores need.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StressOptions {
    pub vol_window: usize,
    pub corr_window: usize,
    pub dispersion_window: usize,
    pub min_history: usize,
}

impl Default for StressOptions {
    fn default() -> Self {
        StressOptions {
            vol_window: 21,
            corr_window: 63,
            dispersion_window: 21,
            min_history: 252,
        }
    }
}

/// One day of the index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StressPoint {
    pub vol: Option<f64>,
    pub corr: Option<f64>,
    pub dispersion: Option<f64>,
    pub drawdown: Option<f64>,
    /// The mean z-score (`None` until every component has its history).
    pub index: Option<f64>,
}

pub const LEVELS: [&str; 4] = ["low", "normal", "elevated", "high"];

/// The level (an index into [`LEVELS`]) of an index value.
pub fn level(index: f64) -> u8 {
    if index < 0.0 {
        0
    } else if index < 1.0 {
        1
    } else if index < 2.0 {
        2
    } else {
        3
    }
}

fn sd(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// Welford's running mean and variance.
#[derive(Default, Clone, Copy)]
struct Running {
    n: usize,
    mean: f64,
    m2: f64,
}

impl Running {
    fn z(&mut self, x: f64, min: usize) -> Option<f64> {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        (self.n >= min.max(2)).then(|| (x - self.mean) / (self.m2 / (self.n - 1) as f64).sqrt())
    }
}

/// Mean pairwise correlation of the columns of `r[from..=to]`.
fn mean_corr(r: &[Vec<f64>], from: usize, to: usize) -> f64 {
    let s = r[0].len();
    let n = (to - from + 1) as f64;
    let means: Vec<f64> = (0..s)
        .map(|j| r[from..=to].iter().map(|x| x[j]).sum::<f64>() / n)
        .collect();
    let sds: Vec<f64> = (0..s)
        .map(|j| {
            r[from..=to]
                .iter()
                .map(|x| (x[j] - means[j]).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let (mut sum, mut pairs) = (0.0, 0usize);
    for a in 0..s {
        for b in a + 1..s {
            let cov: f64 = r[from..=to]
                .iter()
                .map(|x| (x[a] - means[a]) * (x[b] - means[b]))
                .sum();
            sum += cov / (sds[a] * sds[b]);
            pairs += 1;
        }
    }
    sum / pairs as f64
}

/// The index over `closes` (one row per day, one column per instrument, every value positive):
/// one point per day from the second on (the first return).
pub fn stress_index(closes: &[Vec<f64>], o: &StressOptions) -> Vec<StressPoint> {
    let r: Vec<Vec<f64>> = closes
        .windows(2)
        .map(|w| w[1].iter().zip(&w[0]).map(|(b, a)| (b / a).ln()).collect())
        .collect();
    let s = closes.first().map_or(0, Vec::len);
    let mut out = vec![StressPoint::default(); r.len()];
    if s < 2 || o.vol_window < 2 || o.dispersion_window < 1 || o.corr_window < 3 {
        return out;
    }
    let ew: Vec<f64> = r.iter().map(|x| x.iter().sum::<f64>() / s as f64).collect();
    let xsd: Vec<f64> = r.iter().map(|x| sd(x)).collect();
    let (mut cum, mut peak) = (0.0f64, f64::NEG_INFINITY);
    let mut z = [Running::default(); 4];
    for t in 0..r.len() {
        cum += ew[t];
        peak = peak.max(cum);
        let p = &mut out[t];
        p.drawdown = Some(1.0 - (cum - peak).exp());
        if t + 1 >= o.vol_window {
            p.vol = Some(sd(&ew[t + 1 - o.vol_window..=t]) * 252f64.sqrt());
        }
        if t + 1 >= o.dispersion_window {
            let w = &xsd[t + 1 - o.dispersion_window..=t];
            p.dispersion = Some(w.iter().sum::<f64>() / w.len() as f64);
        }
        if t + 1 >= o.corr_window {
            p.corr = Some(mean_corr(&r, t + 1 - o.corr_window, t));
        }
        let comps = [p.vol, p.corr, p.dispersion, p.drawdown];
        let zs: Vec<Option<f64>> = comps
            .iter()
            .zip(z.iter_mut())
            .map(|(c, run)| {
                c.filter(|v| v.is_finite())
                    .and_then(|v| run.z(v, o.min_history))
            })
            .collect();
        p.index = zs
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / v.len() as f64);
    }
    out
}
