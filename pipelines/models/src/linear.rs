//! The plain baseline every model is compared with — L2-regularized logistic regression fitted
//! by Newton's method (the objective of scikit-learn's `LogisticRegression(C = 1/l2)`, intercept
//! unpenalized) — and an online logistic learner updated one labelled row at a time.

#![allow(clippy::needless_range_loop)] // index loops over several parallel arrays read best here

use crate::data::Dataset;
use crate::error::input;
use crate::model::{Learner, Model, OnlineLearning, OnlineModel, Standardizer, Task};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Logistic regression parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticParams {
    /// L2 penalty on the weights (1/C in scikit-learn).
    #[serde(default = "one")]
    pub l2: f64,
    #[serde(default = "fifty")]
    pub max_iter: usize,
}

fn one() -> f64 {
    1.0
}
fn fifty() -> usize {
    50
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            l2: 1.0,
            max_iter: 50,
        }
    }
}

/// A fitted logistic model on standardized features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub features: Vec<String>,
    pub scaler: Standardizer,
    pub intercept: f64,
    pub coef: Vec<f64>,
    /// Set for the online learner: its step size and per-weight squared-gradient sums (AdaGrad).
    #[serde(default)]
    pub online: Option<Online>,
}

/// Online learning state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Online {
    pub rate: f64,
    pub l2: f64,
    pub g2: Vec<f64>,
    pub updates: u64,
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Fit `intercept, coef` minimizing Σ logloss + l2/2 ‖coef‖² on rows of `x` (row-major, p
/// columns) by Newton's method; the intercept is not penalized.
pub fn fit_logistic(
    x: &[f64],
    y: &[f64],
    p: usize,
    l2: f64,
    max_iter: usize,
) -> Result<(f64, Vec<f64>)> {
    let n = y.len();
    if n == 0 || x.len() != n * p {
        return Err(input(
            "logistic fit",
            format!("{n} labels for {} values", x.len()),
        ));
    }
    let k = p + 1; // [intercept, coef...]
    let mut w = vec![0.0; k];
    let mut g = vec![0.0; k];
    let mut h = vec![0.0; k * k];
    for _ in 0..max_iter {
        g.iter_mut().for_each(|v| *v = 0.0);
        h.iter_mut().for_each(|v| *v = 0.0);
        for r in 0..n {
            let xr = &x[r * p..(r + 1) * p];
            let z = w[0] + xr.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>();
            let mu = sigmoid(z);
            let d = mu - y[r];
            let s = (mu * (1.0 - mu)).max(1e-12);
            g[0] += d;
            for j in 0..p {
                g[j + 1] += d * xr[j];
            }
            h[0] += s;
            for a in 0..p {
                h[a + 1] += s * xr[a];
                let row = (a + 1) * k;
                for b in 0..=a {
                    h[row + b + 1] += s * xr[a] * xr[b];
                }
            }
        }
        for j in 1..k {
            g[j] += l2 * w[j];
            h[j * k + j] += l2;
        }
        // Symmetric fill of the lower triangle built above.
        for a in 0..k {
            for b in (a + 1)..k {
                h[a * k + b] = h[b * k + a];
            }
        }
        let step = cholesky_solve(&h, &g, k)
            .ok_or_else(|| input("logistic fit", "Hessian not positive definite"))?;
        let mut max = 0.0f64;
        for j in 0..k {
            w[j] -= step[j];
            max = max.max(step[j].abs());
        }
        if max < 1e-10 {
            break;
        }
    }
    Ok((w[0], w[1..].to_vec()))
}

/// Solve A x = b for symmetric positive definite A (k × k, row-major).
pub fn cholesky_solve(a: &[f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut s = a[i * k + j];
            for t in 0..j {
                s -= l[i * k + t] * l[j * k + t];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * k + i] = s.sqrt();
            } else {
                l[i * k + j] = s / l[j * k + j];
            }
        }
    }
    let mut y = vec![0.0; k];
    for i in 0..k {
        let mut s = b[i];
        for t in 0..i {
            s -= l[i * k + t] * y[t];
        }
        y[i] = s / l[i * k + i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let mut s = y[i];
        for t in (i + 1)..k {
            s -= l[t * k + i] * x[t];
        }
        x[i] = s / l[i * k + i];
    }
    Some(x)
}

impl Logistic {
    fn z(&self, x: &[f64], buf: &mut Vec<f64>) -> f64 {
        self.scaler.apply(x, buf);
        self.intercept + buf.iter().zip(&self.coef).map(|(a, b)| a * b).sum::<f64>()
    }

    /// P(up) of one raw feature row.
    pub fn prob(&self, x: &[f64]) -> f64 {
        let mut buf = Vec::with_capacity(x.len());
        sigmoid(self.z(x, &mut buf))
    }

    /// One online step on a newly labelled row (AdaGrad on the log-loss + L2). Only an online
    /// model learns; a batch model returns an error.
    pub fn update(&mut self, x: &[f64], up: bool) -> Result<()> {
        let mut buf = Vec::with_capacity(x.len());
        let mu = sigmoid(self.z(x, &mut buf));
        let on = self
            .online
            .as_mut()
            .ok_or_else(|| input("update", "this logistic model is not an online learner"))?;
        let d = mu - if up { 1.0 } else { 0.0 };
        let k = self.coef.len() + 1;
        for j in 0..k {
            let (xj, w) = if j == 0 {
                (1.0, &mut self.intercept)
            } else {
                (buf[j - 1], &mut self.coef[j - 1])
            };
            let grad = d * xj + if j == 0 { 0.0 } else { on.l2 * *w };
            on.g2[j] += grad * grad;
            *w -= on.rate * grad / (on.g2[j].sqrt() + 1e-8);
        }
        on.updates += 1;
        Ok(())
    }

    /// Load from [`Model::save`] bytes.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Artifact(format!("logistic: {e}")))
    }
}

impl Model for Logistic {
    fn kind(&self) -> &str {
        if self.online.is_some() {
            "online_logistic"
        } else {
            "logistic"
        }
    }
    fn task(&self) -> Task {
        Task::Classification
    }
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_features(&self.features, &data.features)?;
        let mut buf = Vec::with_capacity(data.p());
        Ok(rows
            .iter()
            .map(|&i| sigmoid(self.z(data.row_x(i), &mut buf)))
            .collect())
    }
    fn save(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }
    fn importance(&self) -> Vec<(String, f64)> {
        // |standardized coefficient|
        self.features
            .iter()
            .cloned()
            .zip(self.coef.iter().map(|c| c.abs()))
            .collect()
    }
}

/// A model's feature list must be the data's, in the same order.
pub fn check_features(model: &[String], data: &[String]) -> Result<()> {
    if model != data {
        let diff = model
            .iter()
            .zip(data)
            .position(|(a, b)| a != b)
            .map(|i| {
                format!(
                    "position {i}: model expects {:?}, data has {:?}",
                    model[i], data[i]
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "model expects {} features, data has {}",
                    model.len(),
                    data.len()
                )
            });
        return Err(Error::Contract(diff));
    }
    Ok(())
}

/// The batch logistic baseline.
#[derive(Clone, Debug, Default)]
pub struct LogisticLearner {
    pub name: String,
    pub params: LogisticParams,
}

impl Learner for LogisticLearner {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.params).unwrap_or_default()
    }
    fn task(&self) -> Task {
        Task::Classification
    }
    fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn Model>> {
        Ok(Box::new(fit_standardized(data, rows, &self.params)?))
    }
}

fn fit_standardized(data: &Dataset, rows: &[usize], p: &LogisticParams) -> Result<Logistic> {
    let scaler = Standardizer::fit(data, rows);
    let mut x = Vec::with_capacity(rows.len() * data.p());
    let mut buf = vec![];
    for &i in rows {
        scaler.apply(data.row_x(i), &mut buf);
        x.extend_from_slice(&buf);
    }
    let y = data.targets(rows)?;
    let (intercept, coef) = fit_logistic(&x, &y, data.p(), p.l2, p.max_iter)?;
    Ok(Logistic {
        features: data.features.clone(),
        scaler,
        intercept,
        coef,
        online: None,
    })
}

/// Online logistic regression: starts from the batch fit on its training rows, then learns from
/// each row as its label becomes known (see `validate::walk_forward_online`).
#[derive(Clone, Debug)]
pub struct OnlineLearner {
    pub name: String,
    pub params: LogisticParams,
    /// AdaGrad base step.
    pub rate: f64,
}

impl OnlineLearner {
    /// The batch fit, with the online state attached.
    pub fn fit_logistic(&self, data: &Dataset, rows: &[usize]) -> Result<Logistic> {
        let mut m = fit_standardized(data, rows, &self.params)?;
        m.online = Some(Online {
            rate: self.rate,
            // Per-row penalty equal to the batch objective's share.
            l2: self.params.l2 / rows.len().max(1) as f64,
            g2: vec![0.0; data.p() + 1],
            updates: 0,
        });
        Ok(m)
    }
}

impl Learner for OnlineLearner {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({"l2": self.params.l2, "max_iter": self.params.max_iter, "rate": self.rate})
    }
    fn task(&self) -> Task {
        Task::Classification
    }
    fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_logistic(data, rows)?))
    }
    fn online(&self) -> Option<&dyn OnlineLearning> {
        Some(self)
    }
}

impl OnlineLearning for OnlineLearner {
    fn fit_online(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn OnlineModel>> {
        Ok(Box::new(self.fit_logistic(data, rows)?))
    }
}

impl OnlineModel for Logistic {
    fn score_row(&self, x: &[f64]) -> f64 {
        self.prob(x)
    }
    fn learn(&mut self, x: &[f64], up: bool) -> Result<()> {
        self.update(x, up)
    }
}
