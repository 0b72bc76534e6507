//! Drawdown probability over a horizon, by simulating the fitted GARCH / GJR-GARCH forward.
//!
//! Each path starts at today's price with the model's one-step variance `σ²_{T+1}` and draws
//! `r = μ + σ_t z` (percent log returns; `z` standard normal, or Student-t scaled to unit
//! variance), updating `σ²` by the model's own recursion. Per path it records the **maximum
//! drawdown** within the horizon (from the running peak, today's price included) and the
//! **largest loss from today** (`1 − min price / today`). The probabilities are the shares of
//! paths reaching each threshold. Seeded, so a forecast is reproducible.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, StudentT};
use serde::{Deserialize, Serialize};

use crate::forecast::{Dist, Garch};

/// What to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawdownOptions {
    /// Periods ahead.
    pub horizon: usize,
    pub paths: usize,
    /// Drawdown levels (fractions, e.g. 0.1 for 10%).
    pub thresholds: Vec<f64>,
    pub seed: u64,
}

/// One threshold's probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawdownProb {
    pub threshold: f64,
    /// P(maximum drawdown within the horizon ≥ threshold).
    pub drawdown: f64,
    /// P(price falls at least `threshold` below today's at some point within the horizon).
    pub loss: f64,
    /// P(price at the horizon at least `threshold` below today's).
    pub final_loss: f64,
}

/// The simulation's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawdownForecast {
    pub horizon: usize,
    pub paths: usize,
    pub seed: u64,
    pub probabilities: Vec<DrawdownProb>,
    pub expected_max_drawdown: f64,
    /// Quantiles (0.5, 0.9, 0.95, 0.99) of the maximum drawdown.
    pub max_drawdown_quantiles: Vec<(f64, f64)>,
}

/// Simulate `g` forward (see the module docs). `None` for a zero horizon or no paths.
pub fn simulate(g: &Garch, o: &DrawdownOptions) -> Option<DrawdownForecast> {
    if o.horizon == 0 || o.paths == 0 {
        return None;
    }
    let s2_0 = *g.forecast(1).first()?;
    let t = match (g.dist, g.nu) {
        (Dist::StudentT, Some(nu)) if nu > 2.0 => {
            Some((StudentT::new(nu).ok()?, ((nu - 2.0) / nu).sqrt()))
        }
        _ => None,
    };
    let mut rng = StdRng::seed_from_u64(o.seed);
    let mut mdd = Vec::with_capacity(o.paths);
    let mut losses = Vec::with_capacity(o.paths);
    let mut finals = Vec::with_capacity(o.paths);
    for _ in 0..o.paths {
        let (mut s2, mut logp, mut peak, mut low, mut dd) = (s2_0, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for _ in 0..o.horizon {
            let z: f64 = match &t {
                Some((d, scale)) => d.sample(&mut rng) * scale,
                None => StandardNormal.sample(&mut rng),
            };
            let e = s2.sqrt() * z;
            logp += (g.mu + e) / 100.0;
            peak = peak.max(logp);
            low = low.min(logp);
            dd = dd.max(1.0 - (logp - peak).exp());
            let neg = if e < 0.0 { 1.0 } else { 0.0 };
            s2 = g.omega + g.alpha * e * e + g.gamma * e * e * neg + g.beta * s2;
        }
        mdd.push(dd);
        losses.push(1.0 - low.exp());
        finals.push(1.0 - logp.exp());
    }
    let n = o.paths as f64;
    let share = |v: &[f64], x: f64| v.iter().filter(|d| **d >= x).count() as f64 / n;
    let probabilities = o
        .thresholds
        .iter()
        .map(|&x| DrawdownProb {
            threshold: x,
            drawdown: share(&mdd, x),
            loss: share(&losses, x),
            final_loss: share(&finals, x),
        })
        .collect();
    let expected = mdd.iter().sum::<f64>() / n;
    mdd.sort_by(f64::total_cmp);
    let q = |p: f64| mdd[((p * n).ceil() as usize).clamp(1, mdd.len()) - 1];
    Some(DrawdownForecast {
        horizon: o.horizon,
        paths: o.paths,
        seed: o.seed,
        probabilities,
        expected_max_drawdown: expected,
        max_drawdown_quantiles: [0.5, 0.9, 0.95, 0.99].iter().map(|&p| (p, q(p))).collect(),
    })
}
