//! Regimes and volatility forecasts as model features, computed bar by bar (the `regime` feature
//! set): the same numbers in batch, in stream and in a restarted stream, each from bars up to its
//! own.
//!
//! - `regime_trend`: close / 200-bar mean − 1 ([`super::rules`]);
//! - `regime_trend_state`: +1 bull, 0 sideways, −1 bear ([`super::rules`]);
//! - `regime_vol_pct`: the 21-bar volatility's percentile among its own past ([`super::rules`]);
//! - `hmm_turbulent`: the filtered probability of the turbulent state of a 2-state Gaussian HMM on
//!   (return, 20-bar volatility), refitted every 63 rows once 504 exist ([`super::walk_forward`]);
//! - `garch_vol`: the one-step-ahead volatility forecast (percent) of a GARCH(1,1) with normal
//!   errors, refitted every 252 returns once 500 exist and run forward by its own recursion in
//!   between ([`crate::forecast`]).

use serde::{Deserialize, Serialize};

use super::hmm::{self, Hmm, HmmOptions};
use super::rules::{RuleOptions, RuleStream};
use crate::forecast::{Dist, Garch, VolModel, fit};

/// The features' names, in output order.
pub const NAMES: [&str; 5] = [
    "regime_trend",
    "regime_trend_state",
    "regime_vol_pct",
    "hmm_turbulent",
    "garch_vol",
];

const HMM_WINDOW: usize = 20;
const HMM_MIN_TRAIN: usize = 504;
const HMM_REFIT: usize = 63;
const GARCH_MIN: usize = 500;
const GARCH_REFIT: usize = 252;

/// One symbol's regime features, bar by bar. Serializable (the runner checkpoints it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegimeFeatures {
    rules: RuleStream,
    last_close: Option<f64>,
    /// The HMM's feature rows so far.
    rows: Vec<Vec<f64>>,
    hmm: Option<Hmm>,
    /// The last filtered probabilities.
    alpha: Option<Vec<f64>>,
    /// Percent log returns so far.
    returns: Vec<f64>,
    garch: Option<Garch>,
    /// The GARCH variance forecast for the next return.
    next_var: Option<f64>,
}

impl Default for RegimeFeatures {
    fn default() -> Self {
        RegimeFeatures {
            rules: RuleStream::new(RuleOptions::default()),
            last_close: None,
            rows: vec![],
            hmm: None,
            alpha: None,
            returns: vec![],
            garch: None,
            next_var: None,
        }
    }
}

impl RegimeFeatures {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one close; appends the five features to `out` (`None` while warming up).
    pub fn update(&mut self, close: f64, out: &mut Vec<Option<f64>>) {
        if !(close.is_finite() && close > 0.0) {
            out.extend([None; 5]);
            return;
        }
        let prev = self.last_close.replace(close);
        let rule = self.rules.update(close);
        out.push(rule.map(|r| r.trend));
        out.push(rule.map(|r| match r.state / 3 {
            0 => 1.0,
            1 => 0.0,
            _ => -1.0,
        }));
        out.push(rule.map(|r| r.vol_pct));
        let Some(prev) = prev else {
            out.extend([None, None]);
            return;
        };
        let r = 100.0 * (close / prev).ln();
        self.returns.push(r);
        out.push(self.hmm_step());
        out.push(self.garch_step(r));
    }

    fn hmm_step(&mut self) -> Option<f64> {
        let n = self.returns.len();
        if n < HMM_WINDOW {
            return None;
        }
        let w = &self.returns[n - HMM_WINDOW..];
        let v = (w.iter().map(|x| x * x).sum::<f64>() / HMM_WINDOW as f64).sqrt();
        self.rows.push(vec![self.returns[n - 1], v]);
        let t = self.rows.len() - 1;
        let opts = HmmOptions::default();
        // At a refit point: refit through this row, then filter from the first row with the new
        // model (as `walk_forward` does).
        if t + 1 >= HMM_MIN_TRAIN
            && (t + 1 - HMM_MIN_TRAIN).is_multiple_of(HMM_REFIT)
            && let Some(m) = hmm::fit(&self.rows, &opts)
        {
            let f = m.filter(&self.rows);
            self.alpha = f.last().cloned();
            self.hmm = Some(m);
            return self.alpha.as_ref().map(|a| a[a.len() - 1]);
        }
        let m = self.hmm.as_ref()?;
        let a = m.filter_next(self.alpha.as_deref(), &self.rows[t]);
        let p = a[a.len() - 1];
        self.alpha = Some(a);
        Some(p)
    }

    fn garch_step(&mut self, r: f64) -> Option<f64> {
        let n = self.returns.len();
        if n >= GARCH_MIN
            && (n - GARCH_MIN).is_multiple_of(GARCH_REFIT)
            && let Some(g) = fit(&self.returns, VolModel::Garch, Dist::Normal)
        {
            self.next_var = g.forecast(1).first().copied();
            self.garch = Some(g);
            return self.next_var.map(f64::sqrt);
        }
        let g = self.garch.as_ref()?;
        let s2 = self.next_var?;
        let e = r - g.mu;
        let neg = if e < 0.0 { 1.0 } else { 0.0 };
        let next = g.omega + g.alpha * e * e + g.gamma * e * e * neg + g.beta * s2;
        self.next_var = Some(next);
        Some(next.sqrt())
    }
}
