//! What every model is to the rest of the platform: a [`Learner`] fits on rows of a
//! [`Dataset`] and returns a [`Model`], which scores rows and saves itself as bytes.

use crate::Result;
use crate::data::Dataset;
use serde::{Deserialize, Serialize};

/// What a model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// P(forward return > 0).
    Classification,
    /// The forward return itself.
    Regression,
}

impl Task {
    /// The score at which a prediction says "up".
    pub fn threshold(self) -> f64 {
        match self {
            Task::Classification => 0.5,
            Task::Regression => 0.0,
        }
    }
}

/// A fitted model.
pub trait Model {
    /// The model family (`logistic`, `lightgbm`, `lstm`, `onnx`, …).
    fn kind(&self) -> &str;
    fn task(&self) -> Task;
    /// Bars of history each prediction reads (1 for tabular models).
    fn seq_len(&self) -> usize {
        1
    }
    /// One score per row: P(up) for classification, the forward return for regression.
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>>;
    /// The artifact: everything needed to load the model again.
    fn save(&self) -> Result<Vec<u8>>;
    /// The model as an ONNX graph (standardization included), for models that export one.
    fn onnx(&self) -> Option<Vec<u8>> {
        None
    }
    /// Feature importance (name, value), where the family has one.
    fn importance(&self) -> Vec<(String, f64)> {
        vec![]
    }
}

/// A model family with its parameters.
pub trait Learner {
    /// A short unique name (`logistic`, `lgbm_gbdt`, …).
    fn name(&self) -> &str;
    /// Parameters as recorded in the registry.
    fn params(&self) -> serde_json::Value;
    fn task(&self) -> Task;
    /// Bars of history each prediction reads.
    fn seq_len(&self) -> usize {
        1
    }
    /// Fit on `rows` (all labelled). Must read nothing but those rows' features and labels.
    fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn Model>>;
    /// An online learner keeps learning from rows as their labels become known.
    fn online(&self) -> Option<&dyn OnlineLearning> {
        None
    }
}

/// A learner whose fitted models keep learning, one newly labelled row at a time.
pub trait OnlineLearning {
    /// Fit on `rows` (all labelled), ready to learn online.
    fn fit_online(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn OnlineModel>>;
}

/// A fitted model that learns online.
pub trait OnlineModel {
    /// The score of one row's features.
    fn score_row(&self, x: &[f64]) -> f64;
    /// Learn from one row whose label has become known.
    fn learn(&mut self, x: &[f64], up: bool) -> Result<()>;
}

/// Mean and standard deviation per feature, fitted on training rows only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

impl Standardizer {
    pub fn fit(data: &Dataset, rows: &[usize]) -> Self {
        let p = data.p();
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; p];
        for &i in rows {
            for (m, v) in mean.iter_mut().zip(data.row_x(i)) {
                *m += v / n;
            }
        }
        let mut var = vec![0.0; p];
        for &i in rows {
            for ((s, v), m) in var.iter_mut().zip(data.row_x(i)).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        let sd = var
            .into_iter()
            .map(|v| if v.sqrt() > 1e-12 { v.sqrt() } else { 1.0 })
            .collect();
        Self { mean, sd }
    }

    /// Standardize one row into `out`.
    pub fn apply(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            x.iter()
                .zip(self.mean.iter().zip(&self.sd))
                .map(|(v, (m, s))| (v - m) / s),
        );
    }
}
