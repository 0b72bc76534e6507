//! A portfolio of every symbol, rebalanced to optimized weights.

use serde::{Deserialize, Serialize};

use super::bad;
use crate::engine::{Ctx, Strategy};
use crate::types::{Bar, Sym};

/// How the portfolio's weights are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortfolioMethod {
    Equal,
    MinVariance,
    MaxSharpe,
    RiskParity,
    Hrp,
}

/// The covariance the optimizing methods (`min_variance`, `max_sharpe`, `risk_parity`, `hrp`)
/// estimate from the lookback's returns. TOML: `risk_model = { model = "pca", factors = 10 }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum RiskModel {
    /// Ledoit-Wolf shrinkage of the sample covariance (dense).
    #[default]
    LedoitWolf,
    /// A statistical factor model: the `factors` leading principal components plus specific
    /// variances; mean-variance then solves in factor form (sparse).
    Pca { factors: usize },
}

/// Settings of [`StrategySpec::Portfolio`](super::StrategySpec::Portfolio).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortfolioConfig {
    pub method: PortfolioMethod,
    /// Returns the weights are estimated from.
    #[serde(default = "d_lookback")]
    pub lookback: usize,
    /// Rebalance every this many instants.
    #[serde(default = "d_every")]
    pub every: usize,
    /// Also rebalance when a weight drifts more than this from its target.
    #[serde(default)]
    pub drift: Option<f64>,
    #[serde(default = "d_max_weight")]
    pub max_weight: f64,
    /// The share of capital invested.
    #[serde(default = "d_invested")]
    pub invested: f64,
    /// Trades smaller than this × capital are skipped.
    #[serde(default)]
    pub min_trade: f64,
    #[serde(default)]
    pub risk_model: RiskModel,
}

fn d_lookback() -> usize {
    60
}
fn d_every() -> usize {
    20
}
fn d_max_weight() -> f64 {
    1.0
}
fn d_invested() -> f64 {
    0.95
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self {
            method: PortfolioMethod::Equal,
            lookback: d_lookback(),
            every: d_every(),
            drift: None,
            max_weight: d_max_weight(),
            invested: d_invested(),
            min_trade: 0.0,
            risk_model: RiskModel::LedoitWolf,
        }
    }
}

impl PortfolioConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let PortfolioConfig {
            method,
            lookback,
            every,
            drift,
            max_weight,
            invested,
            min_trade,
            risk_model,
        } = *self;
        if let RiskModel::Pca { factors } = risk_model
            && (factors == 0 || factors >= lookback)
        {
            return Err(bad(
                name,
                format!(
                    "a pca risk model needs 1 ≤ factors < lookback (got {factors}, {lookback})"
                ),
            ));
        }
        if lookback < 2 || every == 0 || !(0.0..=1.0).contains(&invested) || max_weight <= 0.0 {
            return Err(bad(
                name,
                format!(
                    "lookback ≥ 2, every ≥ 1, 0 ≤ invested ≤ 1 and max_weight > 0 are needed \
                     (got {lookback}, {every}, {invested}, {max_weight})"
                ),
            ));
        }
        Ok(Box::new(Portfolio {
            name: name.into(),
            method,
            lookback,
            every,
            drift,
            max_weight,
            invested,
            min_trade,
            risk_model,
            hist: std::collections::VecDeque::new(),
            last: vec![],
            since: usize::MAX,
            target: vec![],
            errors: 0,
        }))
    }
}

struct Portfolio {
    name: String,
    method: PortfolioMethod,
    lookback: usize,
    every: usize,
    drift: Option<f64>,
    max_weight: f64,
    invested: f64,
    min_trade: f64,
    risk_model: RiskModel,
    /// Closes at the end of each completed instant (the last `lookback + 1`).
    hist: std::collections::VecDeque<Vec<f64>>,
    last: Vec<f64>,
    since: usize,
    target: Vec<f64>,
    /// Optimizations that failed (the portfolio then keeps its previous weights).
    errors: usize,
}

impl Portfolio {
    fn weights(&self, ret: &[Vec<f64>]) -> Result<Vec<f64>, crate::portfolio::OptError> {
        use crate::factor::{mean_variance_factor, pca_factor};
        use crate::portfolio::{Bounds, Objective, hrp, ledoit_wolf, mean_variance, risk_parity};
        let n = ret.first().map_or(0, Vec::len);
        let bounds = Bounds::long_only(self.max_weight.max(1.0 / n as f64));
        let objective = match self.method {
            PortfolioMethod::Equal => return Ok(vec![1.0 / n as f64; n]),
            PortfolioMethod::MinVariance => Some(Objective::MinVariance),
            PortfolioMethod::MaxSharpe => Some(Objective::MaxSharpe),
            PortfolioMethod::RiskParity | PortfolioMethod::Hrp => None,
        };
        let (cov, mu) = match self.risk_model {
            RiskModel::LedoitWolf => {
                let (cov, _, mu) = ledoit_wolf(ret)?;
                (cov, mu)
            }
            RiskModel::Pca { factors } => {
                let (fc, mu) = pca_factor(ret, factors.min(ret.len().min(n)))?;
                if let Some(obj) = objective {
                    return mean_variance_factor(&mu, &fc, obj, &bounds);
                }
                (fc.dense(), mu)
            }
        };
        match objective {
            Some(obj) => mean_variance(&mu, &cov, obj, &bounds),
            None if self.method == PortfolioMethod::Hrp => hrp(&cov),
            None => risk_parity(&cov),
        }
    }

    fn rebalance(&mut self, ctx: &mut Ctx<'_>) {
        let n = self.last.len();
        let window: Vec<&Vec<f64>> = self.hist.iter().collect();
        // Assets with a full, positive price window.
        let assets: Vec<usize> = (0..n)
            .filter(|&i| {
                window
                    .iter()
                    .all(|c| c.get(i).is_some_and(|p| p.is_finite() && *p > 0.0))
            })
            .collect();
        if assets.len() < 2 {
            return;
        }
        let ret: Vec<Vec<f64>> = window
            .windows(2)
            .map(|w| assets.iter().map(|&i| w[1][i] / w[0][i] - 1.0).collect())
            .collect();
        let w = match self.weights(&ret) {
            Ok(w) => w,
            Err(_) => {
                self.errors += 1;
                return;
            }
        };
        let mut target = vec![0.0; n];
        for (k, &i) in assets.iter().enumerate() {
            target[i] = w[k] * self.invested;
        }
        self.target = target;
        self.trade(ctx);
    }

    fn trade(&mut self, ctx: &mut Ctx<'_>) {
        for (i, &t) in self.target.iter().enumerate() {
            let p = ctx.prices.get(i).copied().unwrap_or(f64::NAN);
            if !(p.is_finite() && p > 0.0) {
                continue;
            }
            let want = (t * ctx.capital / p).trunc() as i64;
            let have = ctx.exposure(i as Sym);
            if ((want - have) as f64 * p).abs() >= self.min_trade * ctx.capital && want != have {
                ctx.target_qty(i as Sym, want);
            }
        }
    }

    fn drifted(&self, ctx: &Ctx<'_>) -> bool {
        let Some(th) = self.drift else { return false };
        if self.target.is_empty() || ctx.capital <= 0.0 {
            return false;
        }
        let cur: Vec<f64> = (0..self.target.len())
            .map(|i| {
                let p = ctx.prices.get(i).copied().unwrap_or(0.0);
                ctx.book.qty(i as Sym) as f64 * if p.is_finite() { p } else { 0.0 } / ctx.capital
            })
            .collect();
        crate::portfolio::drifted(&cur, &self.target, th)
    }
}

impl Strategy for Portfolio {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, _ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.last.len() <= i {
            self.last.resize(i + 1, f64::NAN);
        }
        self.last[i] = bar.close;
    }
    fn on_instant_close(&mut self, ctx: &mut Ctx<'_>) {
        // The instant is complete: its closes are known, decide now.
        self.hist.push_back(self.last.clone());
        while self.hist.len() > self.lookback + 1 {
            self.hist.pop_front();
        }
        self.since = self.since.saturating_add(1);
        if self.hist.len() == self.lookback + 1 && (self.since >= self.every || self.drifted(ctx)) {
            self.since = 0;
            self.rebalance(ctx);
        }
    }
}
