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
use crate::error::input;
use crate::linear::{check_features, sigmoid};
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
    fn params_mut(&mut self) -> [&mut [f64]; 4] {
        [&mut self.w, &mut self.r, &mut self.b, &mut self.head]
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

/// Per-step activations kept for backpropagation.
struct Trace {
    /// Per step: i, o, f, g (each H), c, h.
    gates: Vec<[Vec<f64>; 4]>,
    c: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
}

fn tanh(x: f64) -> f64 {
    x.tanh()
}

impl Lstm {
    fn p(&self) -> usize {
        self.features.len()
    }

    /// Forward over one standardized sequence (`seq_len × p`); returns the logit and the trace.
    fn forward(&self, x: &[f64], keep: bool) -> (f64, Option<Trace>) {
        let (p, hd) = (self.p(), self.hidden);
        let wt = &self.weights;
        let mut h = vec![0.0; hd];
        let mut c = vec![0.0; hd];
        let mut a = vec![0.0; 4 * hd];
        let mut tr = keep.then(|| Trace {
            gates: vec![],
            c: vec![c.clone()],
            h: vec![h.clone()],
        });
        for t in 0..self.seq_len {
            let xt = &x[t * p..(t + 1) * p];
            for (g, ag) in a.iter_mut().enumerate() {
                let mut s = wt.b[g];
                let wr = &wt.w[g * p..(g + 1) * p];
                for k in 0..p {
                    s += wr[k] * xt[k];
                }
                let rr = &wt.r[g * hd..(g + 1) * hd];
                for k in 0..hd {
                    s += rr[k] * h[k];
                }
                *ag = s;
            }
            let gi: Vec<f64> = a[..hd].iter().map(|&v| sigmoid(v)).collect();
            let go: Vec<f64> = a[hd..2 * hd].iter().map(|&v| sigmoid(v)).collect();
            let gf: Vec<f64> = a[2 * hd..3 * hd].iter().map(|&v| sigmoid(v)).collect();
            let gg: Vec<f64> = a[3 * hd..].iter().map(|&v| tanh(v)).collect();
            for k in 0..hd {
                c[k] = gf[k] * c[k] + gi[k] * gg[k];
                h[k] = go[k] * tanh(c[k]);
            }
            if let Some(tr) = tr.as_mut() {
                tr.gates.push([gi, go, gf, gg]);
                tr.c.push(c.clone());
                tr.h.push(h.clone());
            }
        }
        let z = wt.head_b + wt.head.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>();
        (z, tr)
    }

    /// Add the gradient of the log-loss of one sequence to `g`; returns the loss.
    fn backward(&self, x: &[f64], y: f64, g: &mut Weights) -> f64 {
        let (p, hd) = (self.p(), self.hidden);
        let (z, tr) = self.forward(x, true);
        let Some(tr) = tr else { return 0.0 };
        let prob = sigmoid(z);
        let loss = -(y * prob.max(1e-15).ln() + (1.0 - y) * (1.0 - prob).max(1e-15).ln());
        let dz = prob - y;
        let hl = &tr.h[self.seq_len];
        for k in 0..hd {
            g.head[k] += dz * hl[k];
        }
        g.head_b += dz;
        let wt = &self.weights;
        let mut dh: Vec<f64> = wt.head.iter().map(|w| dz * w).collect();
        let mut dc = vec![0.0; hd];
        let mut da = vec![0.0; 4 * hd];
        for t in (0..self.seq_len).rev() {
            let [gi, go, gf, gg] = &tr.gates[t];
            let (c, cprev, hprev) = (&tr.c[t + 1], &tr.c[t], &tr.h[t]);
            for k in 0..hd {
                let tc = tanh(c[k]);
                let d_o = dh[k] * tc;
                dc[k] += dh[k] * go[k] * (1.0 - tc * tc);
                let di = dc[k] * gg[k];
                let dgg = dc[k] * gi[k];
                let df = dc[k] * cprev[k];
                da[k] = di * gi[k] * (1.0 - gi[k]);
                da[hd + k] = d_o * go[k] * (1.0 - go[k]);
                da[2 * hd + k] = df * gf[k] * (1.0 - gf[k]);
                da[3 * hd + k] = dgg * (1.0 - gg[k] * gg[k]);
                dc[k] *= gf[k];
            }
            let xt = &x[t * p..(t + 1) * p];
            let mut dh_prev = vec![0.0; hd];
            for (gate, &d) in da.iter().enumerate() {
                if d == 0.0 {
                    continue;
                }
                let gw = &mut g.w[gate * p..(gate + 1) * p];
                for k in 0..p {
                    gw[k] += d * xt[k];
                }
                let gr = &mut g.r[gate * hd..(gate + 1) * hd];
                let rr = &wt.r[gate * hd..(gate + 1) * hd];
                for k in 0..hd {
                    gr[k] += d * hprev[k];
                    dh_prev[k] += d * rr[k];
                }
                g.b[gate] += d;
            }
            dh = dh_prev;
        }
        loss
    }

    /// Standardized window of row `i`.
    fn input(&self, data: &Dataset, i: usize, buf: &mut Vec<f64>) -> Result<Vec<f64>> {
        let w = data.window(i, self.seq_len).ok_or_else(|| {
            input(
                format!("row {i}"),
                format!("fewer than {} bars of history", self.seq_len),
            )
        })?;
        let p = self.p();
        let mut out = Vec::with_capacity(w.len());
        for t in 0..self.seq_len {
            self.scaler.apply(&w[t * p..(t + 1) * p], buf);
            out.extend_from_slice(buf);
        }
        Ok(out)
    }

    /// P(up) for one raw (unstandardized) window `seq_len × p`.
    pub fn prob_raw(&self, window: &[f64]) -> f64 {
        let p = self.p();
        let mut x = Vec::with_capacity(window.len());
        let mut buf = vec![];
        for t in 0..self.seq_len {
            self.scaler.apply(&window[t * p..(t + 1) * p], &mut buf);
            x.extend_from_slice(&buf);
        }
        sigmoid(self.forward(&x, false).0)
    }

    /// Total log-loss and gradient over sequences (for tests: finite-difference checks).
    pub fn loss_and_grad(&self, xs: &[Vec<f64>], ys: &[f64]) -> (f64, Weights) {
        let mut g = Weights::zeros(self.p(), self.hidden);
        let loss = xs
            .iter()
            .zip(ys)
            .map(|(x, &y)| self.backward(x, y, &mut g))
            .sum();
        (loss, g)
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
        check_features(&self.features, &data.features)?;
        let mut buf = vec![];
        rows.iter()
            .map(|&i| {
                let x = self.input(data, i, &mut buf)?;
                Ok(sigmoid(self.forward(&x, false).0))
            })
            .collect()
    }
    fn save(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }
}

/// Adam optimizer state.
struct Adam {
    m: Weights,
    v: Weights,
    mb: (f64, f64),
    t: i32,
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
        let scaler = Standardizer::fit(data, rows);
        let mut net = Lstm::init(
            data.features.clone(),
            scaler,
            pr.seq_len,
            pr.hidden,
            pr.seed,
        );
        let mut buf = vec![];
        let xs: Vec<Vec<f64>> = rows
            .iter()
            .map(|&i| net.input(data, i, &mut buf))
            .collect::<Result<_>>()?;
        let ys = data.targets(rows)?;
        let (p, hd) = (data.p(), pr.hidden);
        let mut adam = Adam {
            m: Weights::zeros(p, hd),
            v: Weights::zeros(p, hd),
            mb: (0.0, 0.0),
            t: 0,
        };
        let mut rng = SplitMix64::new(pr.seed ^ 0x5eed);
        let mut order: Vec<usize> = (0..xs.len()).collect();
        for _ in 0..pr.epochs {
            rng.shuffle(&mut order);
            for chunk in order.chunks(pr.batch) {
                let mut g = Weights::zeros(p, hd);
                for &k in chunk {
                    net.backward(&xs[k], ys[k], &mut g);
                }
                let scale = 1.0 / chunk.len() as f64;
                step(&mut net.weights, &mut g, &mut adam, scale, pr);
            }
        }
        Ok(net)
    }
}

fn step(w: &mut Weights, g: &mut Weights, s: &mut Adam, scale: f64, pr: &LstmParams) {
    let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    s.t += 1;
    let (c1, c2) = (1.0 - b1.powi(s.t), 1.0 - b2.powi(s.t));
    // Clip the global gradient norm at 5.
    let mut norm = g.head_b * g.head_b * scale * scale;
    for part in g.params_mut() {
        norm += part.iter().map(|v| v * v * scale * scale).sum::<f64>();
    }
    let clip = if norm.sqrt() > 5.0 {
        5.0 / norm.sqrt()
    } else {
        1.0
    };
    let lr = pr.learning_rate;
    let wd = pr.weight_decay;
    let wp = w.params_mut();
    let gp = g.params_mut();
    let mp = s.m.params_mut();
    let vp = s.v.params_mut();
    for (((wv, gv), mv), vv) in wp.into_iter().zip(gp).zip(mp).zip(vp) {
        for k in 0..wv.len() {
            let gr = gv[k] * scale * clip + wd * wv[k];
            mv[k] = b1 * mv[k] + (1.0 - b1) * gr;
            vv[k] = b2 * vv[k] + (1.0 - b2) * gr * gr;
            wv[k] -= lr * (mv[k] / c1) / ((vv[k] / c2).sqrt() + eps);
        }
    }
    let gr = g.head_b * scale * clip;
    s.mb.0 = b1 * s.mb.0 + (1.0 - b1) * gr;
    s.mb.1 = b2 * s.mb.1 + (1.0 - b2) * gr * gr;
    w.head_b -= lr * (s.mb.0 / c1) / ((s.mb.1 / c2).sqrt() + eps);
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
