//! Ensembles of out-of-sample member predictions, computed as a stream in decision-time order:
//! a combiner learns only from rows whose labels were known at the moment it combines, so an
//! ensemble's prediction is as out-of-sample as its members'.
//!
//! - `mean`: the average probability;
//! - `vote`: weighted majority vote (share of weight saying up), weights from config;
//! - `stacking`: a logistic meta-learner on the members' log-odds, fitted on earlier
//!   out-of-sample predictions whose labels are known (refitted every `refit` labels);
//! - `dynamic`: weights ∝ each member's exponentially weighted accuracy above 50%;
//! - `regime`: the same, kept separately per market regime (volatility × trend).
//!
//! Each prediction carries the members' agreement (share on the ensemble's side) and a
//! confidence, |2p − 1| × agreement.

use crate::Result;
use crate::data::Dataset;
use crate::error::input;
use crate::linear::{fit_logistic, sigmoid};
use serde::{Deserialize, Serialize};

/// How members are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Mean,
    Vote,
    Stacking,
    Dynamic,
    Regime,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Mean,
        Method::Vote,
        Method::Stacking,
        Method::Dynamic,
        Method::Regime,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Method::Mean => "mean",
            Method::Vote => "vote",
            Method::Stacking => "stacking",
            Method::Dynamic => "dynamic",
            Method::Regime => "regime",
        }
    }
}

/// Combiner settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Half-life of the accuracy averages, in labelled rows.
    #[serde(default = "d_halflife")]
    pub halflife: f64,
    /// Labelled rows before stacking/dynamic weights are used (the mean until then).
    #[serde(default = "d_min")]
    pub min_history: usize,
    /// Stacking refits after this many new labels.
    #[serde(default = "d_refit")]
    pub refit: usize,
    /// Vote weights per member (equal when empty).
    #[serde(default)]
    pub weights: Vec<f64>,
    /// The regimes the `regime` method keeps accuracies for: `builtin` (volatility above its
    /// long-run level × close above its 100-bar mean) or `rules` (bull or not × high volatility
    /// or not, from [`elite_pipelines::regime::rules`]).
    #[serde(default, skip_serializing_if = "RegimeSource::is_builtin")]
    pub regimes: RegimeSource,
}

/// Which regimes the `regime` ensemble conditions on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeSource {
    #[default]
    Builtin,
    Rules,
}

impl RegimeSource {
    fn is_builtin(&self) -> bool {
        *self == RegimeSource::Builtin
    }
    /// The row's regime bucket (0–3) under this source.
    pub fn bucket(self, regime: u8) -> usize {
        match self {
            RegimeSource::Builtin => regime as usize & 3,
            RegimeSource::Rules => (regime as usize >> 2) & 3,
        }
    }
}

fn d_halflife() -> f64 {
    250.0
}
fn d_min() -> usize {
    250
}
fn d_refit() -> usize {
    250
}

impl Default for Params {
    fn default() -> Self {
        Self {
            halflife: d_halflife(),
            min_history: d_min(),
            refit: d_refit(),
            weights: vec![],
            regimes: RegimeSource::Builtin,
        }
    }
}

/// Ensemble predictions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Combined {
    pub prob: Vec<f64>,
    pub agreement: Vec<f64>,
    pub confidence: Vec<f64>,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// Combine `members[m][k]` = P(up) of member m for `rows[k]`.
pub fn combine(
    method: Method,
    data: &Dataset,
    rows: &[usize],
    members: &[Vec<f64>],
    params: &Params,
) -> Result<Combined> {
    let m = members.len();
    if m == 0 || members.iter().any(|v| v.len() != rows.len()) {
        return Err(input(
            "ensemble",
            "every member needs one prediction per row",
        ));
    }
    let vote_w: Vec<f64> = if params.weights.is_empty() {
        vec![1.0; m]
    } else if params.weights.len() == m {
        params.weights.clone()
    } else {
        return Err(input(
            "ensemble weights",
            format!("{} weights for {m} members", params.weights.len()),
        ));
    };
    let alpha = 1.0 - 0.5f64.powf(1.0 / params.halflife.max(1.0));
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&k| (data.rows[rows[k]].ts_recv, k));
    // Labels become known in known_at order.
    let mut by_known: Vec<usize> = (0..rows.len()).collect();
    by_known.sort_by_key(|&k| (data.rows[rows[k]].label.map_or(i64::MAX, |l| l.known_at), k));
    let mut released = 0usize;
    // Dynamic state: EW accuracy per (regime or 0, member), and counts.
    let mut acc = vec![[0.5f64; 4]; m];
    let mut seen = [0usize; 4];
    let mut seen_all = 0usize;
    // Stacking state.
    let (mut meta_x, mut meta_y): (Vec<f64>, Vec<f64>) = (vec![], vec![]);
    let mut meta: Option<(f64, Vec<f64>)> = None;
    let mut since_fit = 0usize;
    let mut out = Combined {
        prob: vec![0.0; rows.len()],
        agreement: vec![0.0; rows.len()],
        confidence: vec![0.0; rows.len()],
    };
    for &k in &order {
        let now = data.rows[rows[k]].ts_recv;
        while released < by_known.len() {
            let j = by_known[released];
            let Some(l) = data.rows[rows[j]].label else {
                break;
            };
            if l.known_at > now {
                break;
            }
            released += 1;
            let reg = if method == Method::Regime {
                params.regimes.bucket(data.rows[rows[j]].regime)
            } else {
                0
            };
            for (a, mem) in acc.iter_mut().zip(members) {
                let hit = if (mem[j] > 0.5) == l.up { 1.0 } else { 0.0 };
                a[reg] += alpha * (hit - a[reg]);
            }
            seen[reg] += 1;
            seen_all += 1;
            if method == Method::Stacking {
                meta_x.extend(members.iter().map(|mem| logit(mem[j])));
                meta_y.push(if l.up { 1.0 } else { 0.0 });
                since_fit += 1;
                if meta_y.len() >= params.min_history
                    && (meta.is_none() || since_fit >= params.refit)
                {
                    meta = fit_logistic(&meta_x, &meta_y, m, 1.0, 50).ok();
                    since_fit = 0;
                }
            }
        }
        let ps: Vec<f64> = members.iter().map(|mem| mem[k]).collect();
        let mean = ps.iter().sum::<f64>() / m as f64;
        let weighted = |w: &[f64]| {
            let s: f64 = w.iter().sum();
            if s > 0.0 {
                ps.iter().zip(w).map(|(p, w)| p * w).sum::<f64>() / s
            } else {
                mean
            }
        };
        let p = match method {
            Method::Mean => mean,
            Method::Vote => {
                let s: f64 = vote_w.iter().sum();
                ps.iter()
                    .zip(&vote_w)
                    .filter(|(p, _)| **p > 0.5)
                    .map(|(_, w)| w)
                    .sum::<f64>()
                    / s
            }
            Method::Stacking => match &meta {
                Some((b, w)) => {
                    sigmoid(b + ps.iter().zip(w).map(|(p, w)| logit(*p) * w).sum::<f64>())
                }
                None => mean,
            },
            Method::Dynamic | Method::Regime => {
                let reg = if method == Method::Regime {
                    params.regimes.bucket(data.rows[rows[k]].regime)
                } else {
                    0
                };
                let n = if method == Method::Regime {
                    seen[reg]
                } else {
                    seen_all
                };
                if n < params.min_history {
                    mean
                } else {
                    let w: Vec<f64> = acc.iter().map(|a| (a[reg] - 0.5).max(0.0)).collect();
                    weighted(&w)
                }
            }
        };
        let side = p > 0.5;
        let agree = ps.iter().filter(|&&q| (q > 0.5) == side).count() as f64 / m as f64;
        out.prob[k] = p;
        out.agreement[k] = agree;
        out.confidence[k] = (2.0 * p - 1.0).abs() * agree;
    }
    Ok(out)
}

/// How a registered ensemble combines its members: fixed when it is registered, so it is served
/// as one model (same rows, same score in batch and stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frozen {
    /// The average P(up).
    Mean,
    /// The weighted average P(up).
    Weighted,
    /// The share of weight whose P(up) is above 0.5.
    Vote,
    /// A logistic meta-learner on the members' log-odds (fitted at registration).
    Stacking,
}

/// A registered ensemble: its members (registered model ids, in order) and its combiner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenSpec {
    pub members: Vec<String>,
    pub method: Frozen,
    /// `weighted` and `vote`: one non-negative weight per member (equal when empty).
    #[serde(default)]
    pub weights: Vec<f64>,
    /// `stacking`: the intercept and one coefficient per member's log-odds.
    #[serde(default)]
    pub meta: Option<(f64, Vec<f64>)>,
}

impl FrozenSpec {
    /// The spec must be one that [`FrozenSpec::combine`] can apply.
    pub fn check(&self) -> Result<()> {
        let m = self.members.len();
        if m < 2 {
            return Err(input(
                "ensemble members",
                format!("{m} members: an ensemble needs at least two"),
            ));
        }
        if !self.weights.is_empty() {
            if self.weights.len() != m {
                return Err(input(
                    "ensemble weights",
                    format!("{} weights for {m} members", self.weights.len()),
                ));
            }
            if self.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
                || self.weights.iter().sum::<f64>() <= 0.0
            {
                return Err(input(
                    "ensemble weights",
                    format!(
                        "{:?}: weights are finite, not negative, and not all zero",
                        self.weights
                    ),
                ));
            }
        }
        match (&self.method, &self.meta) {
            (Frozen::Stacking, Some((b, w)))
                if w.len() == m && b.is_finite() && w.iter().all(|x| x.is_finite()) => {}
            (Frozen::Stacking, _) => {
                return Err(input(
                    "ensemble meta",
                    format!("stacking needs an intercept and {m} finite coefficients"),
                ));
            }
            (_, Some(_)) => {
                return Err(input("ensemble meta", "only stacking has a meta-learner"));
            }
            _ => {}
        }
        Ok(())
    }

    fn weight(&self, k: usize) -> f64 {
        self.weights.get(k).copied().unwrap_or(1.0)
    }

    /// The ensemble's P(up) from its members' P(up), in member order.
    pub fn combine(&self, ps: &[f64]) -> f64 {
        let m = ps.len() as f64;
        match self.method {
            Frozen::Mean => ps.iter().sum::<f64>() / m,
            Frozen::Weighted => {
                let s: f64 = (0..ps.len()).map(|k| self.weight(k)).sum();
                ps.iter()
                    .enumerate()
                    .map(|(k, p)| p * self.weight(k))
                    .sum::<f64>()
                    / s
            }
            Frozen::Vote => {
                let s: f64 = (0..ps.len()).map(|k| self.weight(k)).sum();
                ps.iter()
                    .enumerate()
                    .filter(|(_, p)| **p > 0.5)
                    .map(|(k, _)| self.weight(k))
                    .sum::<f64>()
                    / s
            }
            Frozen::Stacking => match &self.meta {
                Some((b, w)) => {
                    sigmoid(b + ps.iter().zip(w).map(|(p, w)| logit(*p) * w).sum::<f64>())
                }
                None => f64::NAN,
            },
        }
    }

    /// Fit the stacking meta-learner on the members' out-of-sample predictions `members[m][k]`
    /// of rows whose outcome is `up[k]` (L2 1.0, 50 Newton steps: the walk-forward stacking's
    /// learner).
    pub fn fit_meta(members: &[Vec<f64>], up: &[bool]) -> Result<(f64, Vec<f64>)> {
        let m = members.len();
        if members.iter().any(|v| v.len() != up.len()) {
            return Err(input(
                "ensemble",
                "every member needs one prediction per row",
            ));
        }
        let mut x = Vec::with_capacity(up.len() * m);
        for k in 0..up.len() {
            x.extend(members.iter().map(|mem| logit(mem[k])));
        }
        let y: Vec<f64> = up.iter().map(|&u| if u { 1.0 } else { 0.0 }).collect();
        fit_logistic(&x, &y, m, 1.0, 50)
    }
}

/// A registered ensemble loaded with its member models: served like any model.
pub struct EnsembleModel {
    pub spec: FrozenSpec,
    pub members: Vec<Box<dyn crate::model::Model>>,
}

impl crate::model::Model for EnsembleModel {
    fn kind(&self) -> &str {
        "ensemble"
    }
    fn task(&self) -> crate::model::Task {
        crate::model::Task::Classification
    }
    fn seq_len(&self) -> usize {
        self.members.iter().map(|m| m.seq_len()).max().unwrap_or(1)
    }
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let preds = self
            .members
            .iter()
            .map(|m| m.predict(data, rows))
            .collect::<Result<Vec<_>>>()?;
        let mut ps = vec![0.0; preds.len()];
        Ok((0..rows.len())
            .map(|k| {
                for (p, mem) in ps.iter_mut().zip(&preds) {
                    *p = mem[k];
                }
                self.spec.combine(&ps)
            })
            .collect())
    }
    fn save(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(&self.spec).map_err(|e| input("ensemble", e.to_string()))
    }
}
