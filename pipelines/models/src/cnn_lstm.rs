//! A CNN-LSTM sequence classifier trained on the CPU and exported to ONNX.
//!
//! Input: the last `seq_len` bars of a symbol's features, standardized with the training rows'
//! statistics. A 1-D convolution over time (`filters` channels, `kernel` bars, no padding) with
//! ReLU extracts local patterns; an LSTM runs over the `seq_len − kernel + 1` convolved steps;
//! p(up) = σ(w·h_last + b). The exported graph (opset 17): Sub/Div → Transpose → Conv → Relu →
//! Transpose → LSTM → Squeeze → Gemm → Sigmoid.

#![allow(clippy::needless_range_loop)] // index loops over several parallel arrays read best here

use crate::data::Dataset;
use crate::deep::{self, Blocks, SeqNet};
use crate::error::input;
use crate::model::{Learner, Model, Standardizer, Task};
use crate::onnx_proto as pb;
use crate::rng::SplitMix64;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// CNN-LSTM training parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnLstmParams {
    #[serde(default = "d_seq")]
    pub seq_len: usize,
    /// Convolution channels.
    #[serde(default = "d_filters")]
    pub filters: usize,
    /// Convolution width in bars.
    #[serde(default = "d_kernel")]
    pub kernel: usize,
    /// LSTM hidden size.
    #[serde(default = "d_hidden")]
    pub hidden: usize,
    #[serde(default = "d_epochs")]
    pub epochs: usize,
    #[serde(default = "d_batch")]
    pub batch: usize,
    #[serde(default = "d_lr")]
    pub learning_rate: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default = "d_seed")]
    pub seed: u64,
}

fn d_seq() -> usize {
    20
}
fn d_filters() -> usize {
    8
}
fn d_kernel() -> usize {
    3
}
fn d_hidden() -> usize {
    16
}
fn d_epochs() -> usize {
    3
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

impl Default for CnnLstmParams {
    fn default() -> Self {
        Self {
            seq_len: d_seq(),
            filters: d_filters(),
            kernel: d_kernel(),
            hidden: d_hidden(),
            epochs: d_epochs(),
            batch: d_batch(),
            learning_rate: d_lr(),
            weight_decay: 0.0,
            seed: d_seed(),
        }
    }
}

/// Weights, flat and row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CnnLstmWeights {
    /// [filters, p, kernel] (ONNX Conv's layout).
    pub conv: Vec<f64>,
    pub conv_b: Vec<f64>,
    /// LSTM [4H, filters], [4H, H], [4H]; gate blocks i, o, f, c.
    pub w: Vec<f64>,
    pub r: Vec<f64>,
    pub b: Vec<f64>,
    pub head: Vec<f64>,
    pub head_b: Vec<f64>,
}

impl Blocks for CnnLstmWeights {
    fn blocks_mut(&mut self) -> Vec<&mut [f64]> {
        vec![
            &mut self.conv,
            &mut self.conv_b,
            &mut self.w,
            &mut self.r,
            &mut self.b,
            &mut self.head,
            &mut self.head_b,
        ]
    }
}

/// A trained CNN-LSTM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CnnLstm {
    pub features: Vec<String>,
    pub seq_len: usize,
    pub filters: usize,
    pub kernel: usize,
    pub hidden: usize,
    pub scaler: Standardizer,
    pub weights: CnnLstmWeights,
}

impl CnnLstm {
    fn p(&self) -> usize {
        self.features.len()
    }

    /// A model with random weights (the training start).
    pub fn init(features: Vec<String>, scaler: Standardizer, pr: &CnnLstmParams) -> Result<Self> {
        let (p, c, k, hd) = (features.len(), pr.filters, pr.kernel, pr.hidden);
        if p == 0 || c == 0 || k == 0 || hd == 0 || pr.seq_len < k {
            return Err(input(
                "cnn_lstm",
                format!(
                    "needs features, filters, hidden > 0 and 0 < kernel ({k}) ≤ seq_len ({})",
                    pr.seq_len
                ),
            ));
        }
        let mut rng = SplitMix64::new(pr.seed);
        let a = 1.0 / (hd as f64).sqrt();
        let mut b = vec![0.0; 4 * hd];
        // Forget-gate bias 1 (remember by default).
        b[2 * hd..3 * hd].fill(1.0);
        let weights = CnnLstmWeights {
            conv: deep::uniform(&mut rng, c * p * k, 1.0 / ((p * k) as f64).sqrt()),
            conv_b: vec![0.0; c],
            w: deep::uniform(&mut rng, 4 * hd * c, a),
            r: deep::uniform(&mut rng, 4 * hd * hd, a),
            b,
            head: deep::uniform(&mut rng, hd, a),
            head_b: vec![0.0],
        };
        Ok(Self {
            features,
            seq_len: pr.seq_len,
            filters: c,
            kernel: k,
            hidden: hd,
            scaler,
            weights,
        })
    }

    /// The convolution with ReLU: `(seq_len − kernel + 1) × filters`.
    fn conv(&self, x: &[f64]) -> Vec<f64> {
        let (p, c, k) = (self.p(), self.filters, self.kernel);
        let steps = self.seq_len + 1 - k;
        let w = &self.weights;
        let mut y = vec![0.0; steps * c];
        for t in 0..steps {
            for ch in 0..c {
                let mut s = w.conv_b[ch];
                for i in 0..p {
                    let wr = &w.conv[(ch * p + i) * k..(ch * p + i + 1) * k];
                    for j in 0..k {
                        s += wr[j] * x[(t + j) * p + i];
                    }
                }
                y[t * c + ch] = s.max(0.0);
            }
        }
        y
    }

    /// P(up) for one raw (unstandardized) window `seq_len × p`.
    pub fn prob_raw(&self, window: &[f64]) -> f64 {
        crate::linear::sigmoid(self.logit(&deep::standardize(&self.scaler, window, self.p())))
    }

    /// The ONNX model (opset 17) of this network, standardization included.
    pub fn to_onnx(&self) -> Vec<u8> {
        let (p, l, c, k, hd) = (
            self.p() as i64,
            self.seq_len as i64,
            self.filters as i64,
            self.kernel as i64,
            self.hidden as i64,
        );
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let w = &self.weights;
        let mut bias = f(&w.b);
        bias.extend(std::iter::repeat_n(0.0f32, 4 * self.hidden)); // Rb = 0
        let graph = pb::GraphProto {
            name: Some("elite_cnn_lstm".into()),
            node: vec![
                pb::node("Sub", "center", &["x", "mean"], &["xc"], vec![]),
                pb::node("Div", "scale", &["xc", "sd"], &["xs"], vec![]),
                pb::node(
                    "Transpose",
                    "channels_first",
                    &["xs"],
                    &["xcf"],
                    vec![pb::attr_ints("perm", &[0, 2, 1])],
                ),
                pb::node(
                    "Conv",
                    "conv",
                    &["xcf", "conv_w", "conv_b"],
                    &["y0"],
                    vec![pb::attr_ints("kernel_shape", &[k])],
                ),
                pb::node("Relu", "conv_relu", &["y0"], &["y1"], vec![]),
                pb::node(
                    "Transpose",
                    "time_major",
                    &["y1"],
                    &["yt"],
                    vec![pb::attr_ints("perm", &[2, 0, 1])],
                ),
                pb::node(
                    "LSTM",
                    "lstm",
                    &["yt", "W", "R", "B"],
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
                pb::tensor_f32("conv_w", &[c, p, k], f(&w.conv)),
                pb::tensor_f32("conv_b", &[c], f(&w.conv_b)),
                pb::tensor_f32("W", &[1, 4 * hd, c], f(&w.w)),
                pb::tensor_f32("R", &[1, 4 * hd, hd], f(&w.r)),
                pb::tensor_f32("B", &[1, 8 * hd], bias),
                pb::tensor_i64("axes0", &[1], &[0]),
                pb::tensor_f32("head_w", &[1, hd], f(&w.head)),
                pb::tensor_f32("head_b", &[1], f(&w.head_b)),
            ],
            input: vec![pb::value_f32("x", &[None, Some(l), Some(p)])],
            output: vec![pb::value_f32("p_up", &[None, Some(1)])],
        };
        let m = pb::model(
            graph,
            "Elite CNN-LSTM: P(forward return > 0) from the last seq_len bars of features",
            &[
                ("elite.features", self.features.join(",")),
                ("elite.seq_len", self.seq_len.to_string()),
                ("elite.kind", "cnn_lstm".into()),
            ],
        );
        pb::encode(&m)
    }

    /// Load from [`Model::save`] bytes.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Artifact(format!("cnn_lstm: {e}")))
    }
}

impl SeqNet for CnnLstm {
    type W = CnnLstmWeights;
    fn weights(&self) -> &CnnLstmWeights {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut CnnLstmWeights {
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
        let w = &self.weights;
        let y = self.conv(x);
        let (h, _) = deep::lstm_forward(&w.w, &w.r, &w.b, &y, self.filters, self.hidden, false);
        w.head_b[0] + w.head.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>()
    }

    fn backward(&self, x: &[f64], y: f64, g: &mut CnnLstmWeights) -> f64 {
        let (p, c, k, hd) = (self.p(), self.filters, self.kernel, self.hidden);
        let w = &self.weights;
        let conv = self.conv(x);
        let (h, tr) = deep::lstm_forward(&w.w, &w.r, &w.b, &conv, c, hd, true);
        let Some(tr) = tr else { return 0.0 };
        let z = w.head_b[0] + w.head.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>();
        let (loss, dz) = deep::log_loss(z, y);
        for j in 0..hd {
            g.head[j] += dz * h[j];
        }
        g.head_b[0] += dz;
        let dh = w.head.iter().map(|v| dz * v).collect();
        let dy = deep::lstm_backward(
            &w.w, &w.r, &conv, c, hd, &tr, dh, &mut g.w, &mut g.r, &mut g.b, true,
        );
        let steps = self.seq_len + 1 - k;
        for t in 0..steps {
            for ch in 0..c {
                if conv[t * c + ch] <= 0.0 {
                    continue;
                }
                let d = dy[t * c + ch];
                g.conv_b[ch] += d;
                for i in 0..p {
                    let gr = &mut g.conv[(ch * p + i) * k..(ch * p + i + 1) * k];
                    for j in 0..k {
                        gr[j] += d * x[(t + j) * p + i];
                    }
                }
            }
        }
        loss
    }
}

impl Model for CnnLstm {
    fn kind(&self) -> &str {
        "cnn_lstm"
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

/// The CNN-LSTM learner.
#[derive(Clone, Debug)]
pub struct CnnLstmLearner {
    pub name: String,
    pub params: CnnLstmParams,
}

impl CnnLstmLearner {
    /// Train on `rows` (each needs `seq_len` bars of history and a label).
    pub fn train(&self, data: &Dataset, rows: &[usize]) -> Result<CnnLstm> {
        let pr = &self.params;
        if rows.is_empty() || pr.batch == 0 {
            return Err(input("cnn_lstm", "needs rows and batch > 0"));
        }
        let schedule = deep::Schedule {
            epochs: pr.epochs,
            batch: pr.batch,
            learning_rate: pr.learning_rate,
            weight_decay: pr.weight_decay,
            seed: pr.seed,
        };
        deep::fit(data, rows, pr.seq_len, schedule, |scaler| {
            CnnLstm::init(data.features.clone(), scaler, pr)
        })
    }
}

impl Learner for CnnLstmLearner {
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
