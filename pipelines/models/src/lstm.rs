//! An LSTM sequence classifier trained on the CPU (backpropagation through time, Adam) and
//! exported to ONNX.
//!
//! Input: the last `seq_len` bars of a symbol's features, standardized with the training rows'
//! mean and deviation. One LSTM layer (gates in ONNX's order i, o, f, c), then
//! p(up) = σ(w·h_L + b) from the last hidden state. The exported graph takes the raw features
//! `x[batch, seq_len, p]` and does the same: Sub/Div (standardize) → Transpose → LSTM →
//! Squeeze → Gemm → Sigmoid, so the ONNX file alone serves the model; its metadata carries the
//! input contract (feature names, sequence length).

#![allow(clippy::needless_range_loop)] // index loops over several parallel arrays read best here

use crate::data::Dataset;
use crate::deep::{self, Blocks, SeqNet};
use crate::error::input;
use crate::linear::sigmoid;
use crate::model::{Learner, Model, Standardizer, Task};
use crate::onnx_proto as pb;
use crate::rng::SplitMix64;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// LSTM training parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmParams {
    #[serde(default = "d_seq")]
    pub seq_len: usize,
    #[serde(default = "d_hidden")]
    pub hidden: usize,
    #[serde(default = "d_epochs")]
    pub epochs: usize,
    #[serde(default = "d_batch")]
    pub batch: usize,
    #[serde(default = "d_lr")]
    pub learning_rate: f64,
    /// L2 weight decay.
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default = "d_seed")]
    pub seed: u64,
}

fn d_seq() -> usize {
    20
}
fn d_hidden() -> usize {
    16
}
fn d_epochs() -> usize {
    5
}
fn d_batch() -> usize {
    64
}
fn d_lr() -> f64 {
    0.003
}
fn d_seed() -> u64 {
    7
}

impl Default for LstmParams {
    fn default() -> Self {
        Self {
            seq_len: d_seq(),
            hidden: d_hidden(),
            epochs: d_epochs(),
            batch: d_batch(),
            learning_rate: d_lr(),
            weight_decay: 0.0,
            seed: d_seed(),
        }
    }
}

/// Weights, flat (row-major).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// [4H, p], gate blocks i, o, f, c.
    pub w: Vec<f64>,
    /// [4H, H].
    pub r: Vec<f64>,
    /// [4H].
    pub b: Vec<f64>,
    /// [H].
    pub head: Vec<f64>,
    pub head_b: f64,
}

impl Weights {
    fn zeros(p: usize, h: usize) -> Self {
        Self {
            w: vec![0.0; 4 * h * p],
            r: vec![0.0; 4 * h * h],
            b: vec![0.0; 4 * h],
            head: vec![0.0; h],
            head_b: 0.0,
        }
    }
}

impl Blocks for Weights {
    fn blocks_mut(&mut self) -> Vec<&mut [f64]> {
        vec![
            &mut self.w,
            &mut self.r,
            &mut self.b,
            &mut self.head,
            std::slice::from_mut(&mut self.head_b),
        ]
    }
}

/// A trained LSTM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lstm {
    pub features: Vec<String>,
    pub seq_len: usize,
    pub hidden: usize,
    pub scaler: Standardizer,
    pub weights: Weights,
}

impl Lstm {
    fn p(&self) -> usize {
        self.features.len()
    }

    /// P(up) for one raw (unstandardized) window `seq_len × p`.
    pub fn prob_raw(&self, window: &[f64]) -> f64 {
        sigmoid(self.logit(&deep::standardize(&self.scaler, window, self.p())))
    }

    /// Total log-loss and gradient over standardized windows (for the finite-difference tests).
    pub fn loss_and_grad(&self, xs: &[Vec<f64>], ys: &[f64]) -> (f64, Weights) {
        deep::loss_and_grad(self, xs, ys)
    }

    /// A model with random weights (for tests and as the training start).
    pub fn init(
        features: Vec<String>,
        scaler: Standardizer,
        seq_len: usize,
        hidden: usize,
        seed: u64,
    ) -> Self {
        let p = features.len();
        let mut rng = SplitMix64::new(seed);
        let a = 1.0 / (hidden as f64).sqrt();
        let mut w = Weights::zeros(p, hidden);
        for v in
            w.w.iter_mut()
                .chain(w.r.iter_mut())
                .chain(w.head.iter_mut())
        {
            *v = rng.sym(a);
        }
        // Forget-gate bias 1 (the usual start: remember by default).
        for k in 0..hidden {
            w.b[2 * hidden + k] = 1.0;
        }
        Self {
            features,
            seq_len,
            hidden,
            scaler,
            weights: w,
        }
    }

    /// The ONNX model (opset 17) of this network, standardization included.
    pub fn to_onnx(&self) -> Vec<u8> {
        let (p, hd, l) = (self.p() as i64, self.hidden as i64, self.seq_len as i64);
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let wt = &self.weights;
        let mut bias = f(&wt.b);
        bias.extend(std::iter::repeat_n(0.0f32, 4 * self.hidden)); // Rb = 0
        let graph = pb::GraphProto {
            name: Some("elite_lstm".into()),
            node: vec![
                pb::node("Sub", "center", &["x", "mean"], &["xc"], vec![]),
                pb::node("Div", "scale", &["xc", "sd"], &["xs"], vec![]),
                pb::node(
                    "Transpose",
                    "time_major",
                    &["xs"],
                    &["xt"],
                    vec![pb::attr_ints("perm", &[1, 0, 2])],
                ),
                pb::node(
                    "LSTM",
                    "lstm",
                    &["xt", "W", "R", "B"],
                    &["", "h_last"],
                    vec![pb::attr_int("hidden_size", hd)],
                ),
                pb::node("Squeeze", "drop_dirs", &["h_last", "axes0"], &["h"], vec![]),
                pb::node(
                    "Gemm",
                    "head",
                    &["h", "head_w", "head_b"],
                    &["logit"],
                    vec![pb::attr_int("transB", 1)],
                ),
                pb::node("Sigmoid", "prob", &["logit"], &["p_up"], vec![]),
            ],
            initializer: vec![
                pb::tensor_f32("mean", &[p], f(&self.scaler.mean)),
                pb::tensor_f32("sd", &[p], f(&self.scaler.sd)),
                pb::tensor_f32("W", &[1, 4 * hd, p], f(&wt.w)),
                pb::tensor_f32("R", &[1, 4 * hd, hd], f(&wt.r)),
                pb::tensor_f32("B", &[1, 8 * hd], bias),
                pb::tensor_i64("axes0", &[1], &[0]),
                pb::tensor_f32("head_w", &[1, hd], f(&wt.head)),
                pb::tensor_f32("head_b", &[1], [wt.head_b as f32]),
            ],
            input: vec![pb::value_f32("x", &[None, Some(l), Some(p)])],
            output: vec![pb::value_f32("p_up", &[None, Some(1)])],
        };
        let m = pb::model(
            graph,
            "Elite LSTM: P(forward return > 0) from the last seq_len bars of features",
            &[
                ("elite.features", self.features.join(",")),
                ("elite.seq_len", self.seq_len.to_string()),
                ("elite.kind", "lstm".into()),
            ],
        );
        pb::encode(&m)
    }

    /// Load from [`Model::save`] bytes.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Artifact(format!("lstm: {e}")))
    }
}

impl SeqNet for Lstm {
    type W = Weights;
    fn weights(&self) -> &Weights {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut Weights {
        &mut self.weights
    }
    fn features(&self) -> &[String] {
        &self.features
    }
    fn scaler(&self) -> &Standardizer {
        &self.scaler
    }
    fn seq_len(&self) -> usize {
        self.seq_len
    }
    fn logit(&self, x: &[f64]) -> f64 {
        let wt = &self.weights;
        let (h, _) = deep::lstm_forward(&wt.w, &wt.r, &wt.b, x, self.p(), self.hidden, false);
        wt.head_b + wt.head.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>()
    }
    fn backward(&self, x: &[f64], y: f64, g: &mut Weights) -> f64 {
        let (p, hd) = (self.p(), self.hidden);
        let wt = &self.weights;
        let (h, tr) = deep::lstm_forward(&wt.w, &wt.r, &wt.b, x, p, hd, true);
        let Some(tr) = tr else { return 0.0 };
        let z = wt.head_b + wt.head.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>();
        let (loss, dz) = deep::log_loss(z, y);
        for k in 0..hd {
            g.head[k] += dz * h[k];
        }
        g.head_b += dz;
        let dh = wt.head.iter().map(|w| dz * w).collect();
        deep::lstm_backward(
            &wt.w, &wt.r, x, p, hd, &tr, dh, &mut g.w, &mut g.r, &mut g.b, false,
        );
        loss
    }
}

impl Model for Lstm {
    fn kind(&self) -> &str {
        "lstm"
    }
    fn task(&self) -> Task {
        Task::Classification
    }
    fn seq_len(&self) -> usize {
        self.seq_len
    }
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        deep::predict(self, data, rows)
    }
    fn save(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }
    fn onnx(&self) -> Option<Vec<u8>> {
        Some(self.to_onnx())
    }
}

/// The LSTM learner.
#[derive(Clone, Debug)]
pub struct LstmLearner {
    pub name: String,
    pub params: LstmParams,
}

impl LstmLearner {
    /// Train on `rows` (each needs `seq_len` bars of history and a label).
    pub fn train(&self, data: &Dataset, rows: &[usize]) -> Result<Lstm> {
        let pr = &self.params;
        if rows.is_empty() || pr.seq_len == 0 || pr.hidden == 0 || pr.batch == 0 {
            return Err(input("lstm", "needs rows, seq_len, hidden and batch > 0"));
        }
        let schedule = deep::Schedule {
            epochs: pr.epochs,
            batch: pr.batch,
            learning_rate: pr.learning_rate,
            weight_decay: pr.weight_decay,
            seed: pr.seed,
        };
        deep::fit(data, rows, pr.seq_len, schedule, |scaler| {
            Ok(Lstm::init(
                data.features.clone(),
                scaler,
                pr.seq_len,
                pr.hidden,
                pr.seed,
            ))
        })
    }
}

impl Learner for LstmLearner {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.params).unwrap_or_default()
    }
    fn task(&self) -> Task {
        Task::Classification
    }
    fn seq_len(&self) -> usize {
        self.params.seq_len
    }
    fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn Model>> {
        Ok(Box::new(self.train(data, rows)?))
    }
}
