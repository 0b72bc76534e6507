//! A Transformer encoder sequence classifier trained on the CPU and exported to ONNX.
//!
//! Input: the last `seq_len` bars of a symbol's features, standardized with the training rows'
//! statistics. A linear embedding plus a learned position embedding, one pre-norm encoder layer
//! (LayerNorm → multi-head self-attention → residual; LayerNorm → ReLU feed-forward → residual),
//! the mean over time, then p(up) = σ(w·pooled + b). The exported graph (opset 17) is the same
//! computation on raw features: Sub/Div → MatMul/Add → LayerNormalization → per-head
//! Reshape/Transpose/MatMul/Softmax → … → ReduceMean → Gemm → Sigmoid.

#![allow(clippy::needless_range_loop)] // index loops over several parallel arrays read best here

use crate::data::Dataset;
use crate::deep::{self, Blocks, Norm, SeqNet, affine, affine_back, layer_norm, layer_norm_back};
use crate::error::input;
use crate::model::{Learner, Model, Standardizer, Task};
use crate::onnx_proto as pb;
use crate::rng::SplitMix64;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Transformer training parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerParams {
    #[serde(default = "d_seq")]
    pub seq_len: usize,
    /// Model width (embedding size); a multiple of `heads`.
    #[serde(default = "d_model")]
    pub d_model: usize,
    #[serde(default = "d_heads")]
    pub heads: usize,
    /// Feed-forward width.
    #[serde(default = "d_ff")]
    pub ff: usize,
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
fn d_model() -> usize {
    16
}
fn d_heads() -> usize {
    2
}
fn d_ff() -> usize {
    32
}
fn d_epochs() -> usize {
    3
}
fn d_batch() -> usize {
    64
}
fn d_lr() -> f64 {
    0.001
}
fn d_seed() -> u64 {
    7
}

impl Default for TransformerParams {
    fn default() -> Self {
        Self {
            seq_len: d_seq(),
            d_model: d_model(),
            heads: d_heads(),
            ff: d_ff(),
            epochs: d_epochs(),
            batch: d_batch(),
            learning_rate: d_lr(),
            weight_decay: 0.0,
            seed: d_seed(),
        }
    }
}

/// Weights, flat and row-major; dense weights are `[in, out]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformerWeights {
    pub embed: Vec<f64>,
    pub embed_b: Vec<f64>,
    /// [seq_len, d].
    pub pos: Vec<f64>,
    pub ln1_g: Vec<f64>,
    pub ln1_b: Vec<f64>,
    pub wq: Vec<f64>,
    pub bq: Vec<f64>,
    pub wk: Vec<f64>,
    pub bk: Vec<f64>,
    pub wv: Vec<f64>,
    pub bv: Vec<f64>,
    pub wo: Vec<f64>,
    pub bo: Vec<f64>,
    pub ln2_g: Vec<f64>,
    pub ln2_b: Vec<f64>,
    pub w1: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: Vec<f64>,
    pub head: Vec<f64>,
    pub head_b: Vec<f64>,
}

impl Blocks for TransformerWeights {
    fn blocks_mut(&mut self) -> Vec<&mut [f64]> {
        vec![
            &mut self.embed,
            &mut self.embed_b,
            &mut self.pos,
            &mut self.ln1_g,
            &mut self.ln1_b,
            &mut self.wq,
            &mut self.bq,
            &mut self.wk,
            &mut self.bk,
            &mut self.wv,
            &mut self.bv,
            &mut self.wo,
            &mut self.bo,
            &mut self.ln2_g,
            &mut self.ln2_b,
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.head,
            &mut self.head_b,
        ]
    }
}

/// A trained Transformer encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transformer {
    pub features: Vec<String>,
    pub seq_len: usize,
    pub d_model: usize,
    pub heads: usize,
    pub ff: usize,
    pub scaler: Standardizer,
    pub weights: TransformerWeights,
}

/// Forward activations kept for the backward pass.
struct Fwd {
    n1: Norm,
    q: Vec<f64>,
    k: Vec<f64>,
    v: Vec<f64>,
    /// Attention, [heads, L, L].
    a: Vec<f64>,
    o: Vec<f64>,
    n2: Norm,
    hf: Vec<f64>,
    pooled: Vec<f64>,
    z: f64,
}

impl Transformer {
    fn p(&self) -> usize {
        self.features.len()
    }

    /// A model with random weights (the training start).
    pub fn init(
        features: Vec<String>,
        scaler: Standardizer,
        pr: &TransformerParams,
    ) -> Result<Self> {
        let (p, d, l, f) = (features.len(), pr.d_model, pr.seq_len, pr.ff);
        if d == 0 || pr.heads == 0 || d % pr.heads != 0 || l == 0 || f == 0 || p == 0 {
            return Err(input(
                "transformer",
                format!(
                    "needs features, seq_len, ff > 0 and d_model ({d}) a positive multiple of heads ({})",
                    pr.heads
                ),
            ));
        }
        let mut rng = SplitMix64::new(pr.seed);
        let u = |rng: &mut SplitMix64, n: usize, fan_in: usize| {
            deep::uniform(rng, n, 1.0 / (fan_in as f64).sqrt())
        };
        let weights = TransformerWeights {
            embed: u(&mut rng, p * d, p),
            embed_b: vec![0.0; d],
            pos: deep::uniform(&mut rng, l * d, 0.1),
            ln1_g: vec![1.0; d],
            ln1_b: vec![0.0; d],
            wq: u(&mut rng, d * d, d),
            bq: vec![0.0; d],
            wk: u(&mut rng, d * d, d),
            bk: vec![0.0; d],
            wv: u(&mut rng, d * d, d),
            bv: vec![0.0; d],
            wo: u(&mut rng, d * d, d),
            bo: vec![0.0; d],
            ln2_g: vec![1.0; d],
            ln2_b: vec![0.0; d],
            w1: u(&mut rng, d * f, d),
            b1: vec![0.0; f],
            w2: u(&mut rng, f * d, f),
            b2: vec![0.0; d],
            head: u(&mut rng, d, d),
            head_b: vec![0.0],
        };
        Ok(Self {
            features,
            seq_len: l,
            d_model: d,
            heads: pr.heads,
            ff: f,
            scaler,
            weights,
        })
    }

    fn forward(&self, x: &[f64]) -> Fwd {
        let (l, p, d, f) = (self.seq_len, self.p(), self.d_model, self.ff);
        let (h, dh) = (self.heads, self.d_model / self.heads);
        let w = &self.weights;
        let mut e = affine(x, &w.embed, &w.embed_b, l, p, d);
        for (ev, pv) in e.iter_mut().zip(&w.pos) {
            *ev += pv;
        }
        let n1 = layer_norm(&e, &w.ln1_g, &w.ln1_b, l, d);
        let q = affine(&n1.y, &w.wq, &w.bq, l, d, d);
        let k = affine(&n1.y, &w.wk, &w.bk, l, d, d);
        let v = affine(&n1.y, &w.wv, &w.bv, l, d, d);
        let scale = 1.0 / (dh as f64).sqrt();
        let mut a = vec![0.0; h * l * l];
        let mut o = vec![0.0; l * d];
        for hh in 0..h {
            let cols = hh * dh..(hh + 1) * dh;
            for t in 0..l {
                let row = &mut a[(hh * l + t) * l..(hh * l + t + 1) * l];
                let mut mx = f64::MIN;
                for s in 0..l {
                    let dot: f64 = cols.clone().map(|c| q[t * d + c] * k[s * d + c]).sum();
                    row[s] = dot * scale;
                    mx = mx.max(row[s]);
                }
                let mut sum = 0.0;
                for r in row.iter_mut() {
                    *r = (*r - mx).exp();
                    sum += *r;
                }
                for s in 0..l {
                    row[s] /= sum;
                    for c in cols.clone() {
                        o[t * d + c] += row[s] * v[s * d + c];
                    }
                }
            }
        }
        let att = affine(&o, &w.wo, &w.bo, l, d, d);
        let r1: Vec<f64> = e.iter().zip(&att).map(|(a, b)| a + b).collect();
        let n2 = layer_norm(&r1, &w.ln2_g, &w.ln2_b, l, d);
        let mut hf = affine(&n2.y, &w.w1, &w.b1, l, d, f);
        for v in hf.iter_mut() {
            *v = v.max(0.0);
        }
        let ffo = affine(&hf, &w.w2, &w.b2, l, f, d);
        let mut pooled = vec![0.0; d];
        for t in 0..l {
            for j in 0..d {
                pooled[j] += (r1[t * d + j] + ffo[t * d + j]) / l as f64;
            }
        }
        let z = w.head_b[0] + w.head.iter().zip(&pooled).map(|(a, b)| a * b).sum::<f64>();
        Fwd {
            n1,
            q,
            k,
            v,
            a,
            o,
            n2,
            hf,
            pooled,
            z,
        }
    }

    /// P(up) for one raw (unstandardized) window `seq_len × p`.
    pub fn prob_raw(&self, window: &[f64]) -> f64 {
        crate::linear::sigmoid(self.logit(&deep::standardize(&self.scaler, window, self.p())))
    }

    /// The ONNX model (opset 17) of this network, standardization included.
    pub fn to_onnx(&self) -> Vec<u8> {
        let (p, d, l, ff) = (
            self.p() as i64,
            self.d_model as i64,
            self.seq_len as i64,
            self.ff as i64,
        );
        let (h, dh) = (self.heads as i64, (self.d_model / self.heads) as i64);
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let w = &self.weights;
        let ln = |name: &str, x: &str, g: &str, b: &str, y: &str| {
            pb::node(
                "LayerNormalization",
                name,
                &[x, g, b],
                &[y],
                vec![
                    pb::attr_int("axis", -1),
                    pb::attr_float("epsilon", deep::LN_EPS as f32),
                ],
            )
        };
        let mut nodes = vec![
            pb::node("Sub", "center", &["x", "mean"], &["xc"], vec![]),
            pb::node("Div", "scale", &["xc", "sd"], &["xs"], vec![]),
            pb::node("MatMul", "embed", &["xs", "embed"], &["e0"], vec![]),
            pb::node("Add", "embed_bias", &["e0", "embed_b"], &["e1"], vec![]),
            pb::node("Add", "position", &["e1", "pos"], &["e"], vec![]),
            ln("ln1", "e", "ln1_g", "ln1_b", "n1"),
        ];
        for (m, perm) in [
            ("q", [0, 2, 1, 3]),
            ("k", [0, 2, 3, 1]),
            ("v", [0, 2, 1, 3]),
        ] {
            let (wn, bn) = (format!("w{m}"), format!("b{m}"));
            let (m0, m1, m2, m3) = (
                format!("{m}0"),
                format!("{m}1"),
                format!("{m}2"),
                format!("{m}h"),
            );
            nodes.extend([
                pb::node("MatMul", &format!("{m}_proj"), &["n1", &wn], &[&m0], vec![]),
                pb::node("Add", &format!("{m}_bias"), &[&m0, &bn], &[&m1], vec![]),
                pb::node(
                    "Reshape",
                    &format!("{m}_split"),
                    &[&m1, "heads_shape"],
                    &[&m2],
                    vec![],
                ),
                pb::node(
                    "Transpose",
                    &format!("{m}_heads"),
                    &[&m2],
                    &[&m3],
                    vec![pb::attr_ints("perm", &perm)],
                ),
            ]);
        }
        nodes.extend([
            pb::node("MatMul", "scores", &["qh", "kh"], &["s0"], vec![]),
            pb::node("Mul", "scaled", &["s0", "att_scale"], &["s"], vec![]),
            pb::node(
                "Softmax",
                "attention",
                &["s"],
                &["a"],
                vec![pb::attr_int("axis", -1)],
            ),
            pb::node("MatMul", "mix", &["a", "vh"], &["o0"], vec![]),
            pb::node(
                "Transpose",
                "merge_t",
                &["o0"],
                &["o1"],
                vec![pb::attr_ints("perm", &[0, 2, 1, 3])],
            ),
            pb::node("Reshape", "merge", &["o1", "model_shape"], &["o"], vec![]),
            pb::node("MatMul", "out_proj", &["o", "wo"], &["att0"], vec![]),
            pb::node("Add", "out_bias", &["att0", "bo"], &["att"], vec![]),
            pb::node("Add", "residual1", &["e", "att"], &["r1"], vec![]),
            ln("ln2", "r1", "ln2_g", "ln2_b", "n2"),
            pb::node("MatMul", "ff1", &["n2", "w1"], &["f0"], vec![]),
            pb::node("Add", "ff1_bias", &["f0", "b1"], &["f1"], vec![]),
            pb::node("Relu", "ff_relu", &["f1"], &["f2"], vec![]),
            pb::node("MatMul", "ff2", &["f2", "w2"], &["f3"], vec![]),
            pb::node("Add", "ff2_bias", &["f3", "b2"], &["f4"], vec![]),
            pb::node("Add", "residual2", &["r1", "f4"], &["r2"], vec![]),
            pb::node(
                "ReduceMean",
                "pool",
                &["r2"],
                &["pooled"],
                vec![pb::attr_ints("axes", &[1]), pb::attr_int("keepdims", 0)],
            ),
            pb::node(
                "Gemm",
                "head",
                &["pooled", "head_w", "head_b"],
                &["logit"],
                vec![pb::attr_int("transB", 1)],
            ),
            pb::node("Sigmoid", "prob", &["logit"], &["p_up"], vec![]),
        ]);
        let graph = pb::GraphProto {
            name: Some("elite_transformer".into()),
            node: nodes,
            initializer: vec![
                pb::tensor_f32("mean", &[p], f(&self.scaler.mean)),
                pb::tensor_f32("sd", &[p], f(&self.scaler.sd)),
                pb::tensor_f32("embed", &[p, d], f(&w.embed)),
                pb::tensor_f32("embed_b", &[d], f(&w.embed_b)),
                pb::tensor_f32("pos", &[l, d], f(&w.pos)),
                pb::tensor_f32("ln1_g", &[d], f(&w.ln1_g)),
                pb::tensor_f32("ln1_b", &[d], f(&w.ln1_b)),
                pb::tensor_f32("wq", &[d, d], f(&w.wq)),
                pb::tensor_f32("bq", &[d], f(&w.bq)),
                pb::tensor_f32("wk", &[d, d], f(&w.wk)),
                pb::tensor_f32("bk", &[d], f(&w.bk)),
                pb::tensor_f32("wv", &[d, d], f(&w.wv)),
                pb::tensor_f32("bv", &[d], f(&w.bv)),
                pb::tensor_i64("heads_shape", &[4], &[0, l, h, dh]),
                pb::tensor_f32("att_scale", &[], [1.0 / (dh as f32).sqrt()]),
                pb::tensor_i64("model_shape", &[3], &[0, l, d]),
                pb::tensor_f32("wo", &[d, d], f(&w.wo)),
                pb::tensor_f32("bo", &[d], f(&w.bo)),
                pb::tensor_f32("ln2_g", &[d], f(&w.ln2_g)),
                pb::tensor_f32("ln2_b", &[d], f(&w.ln2_b)),
                pb::tensor_f32("w1", &[d, ff], f(&w.w1)),
                pb::tensor_f32("b1", &[ff], f(&w.b1)),
                pb::tensor_f32("w2", &[ff, d], f(&w.w2)),
                pb::tensor_f32("b2", &[d], f(&w.b2)),
                pb::tensor_f32("head_w", &[1, d], f(&w.head)),
                pb::tensor_f32("head_b", &[1], f(&w.head_b)),
            ],
            input: vec![pb::value_f32("x", &[None, Some(l), Some(p)])],
            output: vec![pb::value_f32("p_up", &[None, Some(1)])],
        };
        let m = pb::model(
            graph,
            "Elite Transformer encoder: P(forward return > 0) from the last seq_len bars of features",
            &[
                ("elite.features", self.features.join(",")),
                ("elite.seq_len", self.seq_len.to_string()),
                ("elite.kind", "transformer".into()),
            ],
        );
        pb::encode(&m)
    }

    /// Load from [`Model::save`] bytes.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Artifact(format!("transformer: {e}")))
    }
}

impl SeqNet for Transformer {
    type W = TransformerWeights;
    fn weights(&self) -> &TransformerWeights {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut TransformerWeights {
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
        self.forward(x).z
    }

    fn backward(&self, x: &[f64], y: f64, g: &mut TransformerWeights) -> f64 {
        let (l, p, d, f) = (self.seq_len, self.p(), self.d_model, self.ff);
        let (h, dh) = (self.heads, self.d_model / self.heads);
        let w = &self.weights;
        let fw = self.forward(x);
        let (loss, dz) = deep::log_loss(fw.z, y);
        for j in 0..d {
            g.head[j] += dz * fw.pooled[j];
        }
        g.head_b[0] += dz;
        // Mean pooling: every step gets head / L.
        let mut dr2 = vec![0.0; l * d];
        for t in 0..l {
            for j in 0..d {
                dr2[t * d + j] = dz * w.head[j] / l as f64;
            }
        }
        // Feed-forward block (residual: dr1 starts as dr2).
        let mut dhf = affine_back(&fw.hf, &w.w2, &dr2, l, f, d, &mut g.w2, &mut g.b2);
        for (dv, &hv) in dhf.iter_mut().zip(&fw.hf) {
            if hv <= 0.0 {
                *dv = 0.0;
            }
        }
        let dn2 = affine_back(&fw.n2.y, &w.w1, &dhf, l, d, f, &mut g.w1, &mut g.b1);
        let mut dr1 = layer_norm_back(&dn2, &fw.n2, &w.ln2_g, l, d, &mut g.ln2_g, &mut g.ln2_b);
        for (a, b) in dr1.iter_mut().zip(&dr2) {
            *a += b;
        }
        // Attention block (residual: de starts as dr1).
        let d_o = affine_back(&fw.o, &w.wo, &dr1, l, d, d, &mut g.wo, &mut g.bo);
        let (mut dq, mut dk, mut dv) = (vec![0.0; l * d], vec![0.0; l * d], vec![0.0; l * d]);
        let scale = 1.0 / (dh as f64).sqrt();
        let mut da = vec![0.0; l];
        for hh in 0..h {
            let cols = hh * dh..(hh + 1) * dh;
            for t in 0..l {
                let arow = &fw.a[(hh * l + t) * l..(hh * l + t + 1) * l];
                for s in 0..l {
                    let mut acc = 0.0;
                    for c in cols.clone() {
                        acc += d_o[t * d + c] * fw.v[s * d + c];
                        dv[s * d + c] += arow[s] * d_o[t * d + c];
                    }
                    da[s] = acc;
                }
                let dot: f64 = arow.iter().zip(&da).map(|(a, b)| a * b).sum();
                for s in 0..l {
                    let ds = arow[s] * (da[s] - dot) * scale;
                    if ds == 0.0 {
                        continue;
                    }
                    for c in cols.clone() {
                        dq[t * d + c] += ds * fw.k[s * d + c];
                        dk[s * d + c] += ds * fw.q[t * d + c];
                    }
                }
            }
        }
        let mut dn1 = affine_back(&fw.n1.y, &w.wq, &dq, l, d, d, &mut g.wq, &mut g.bq);
        for (wm, gw, gb, dm) in [
            (&w.wk, &mut g.wk, &mut g.bk, &dk),
            (&w.wv, &mut g.wv, &mut g.bv, &dv),
        ] {
            let part = affine_back(&fw.n1.y, wm, dm, l, d, d, gw, gb);
            for (a, b) in dn1.iter_mut().zip(&part) {
                *a += b;
            }
        }
        let mut de = layer_norm_back(&dn1, &fw.n1, &w.ln1_g, l, d, &mut g.ln1_g, &mut g.ln1_b);
        for (a, b) in de.iter_mut().zip(&dr1) {
            *a += b;
        }
        for (gp, dv) in g.pos.iter_mut().zip(&de) {
            *gp += dv;
        }
        affine_back(x, &w.embed, &de, l, p, d, &mut g.embed, &mut g.embed_b);
        loss
    }
}

impl Model for Transformer {
    fn kind(&self) -> &str {
        "transformer"
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

/// The Transformer learner.
#[derive(Clone, Debug)]
pub struct TransformerLearner {
    pub name: String,
    pub params: TransformerParams,
}

impl TransformerLearner {
    /// Train on `rows` (each needs `seq_len` bars of history and a label).
    pub fn train(&self, data: &Dataset, rows: &[usize]) -> Result<Transformer> {
        let pr = &self.params;
        if rows.is_empty() || pr.batch == 0 {
            return Err(input("transformer", "needs rows and batch > 0"));
        }
        let schedule = deep::Schedule {
            epochs: pr.epochs,
            batch: pr.batch,
            learning_rate: pr.learning_rate,
            weight_decay: pr.weight_decay,
            seed: pr.seed,
        };
        deep::fit(data, rows, pr.seq_len, schedule, |scaler| {
            Transformer::init(data.features.clone(), scaler, pr)
        })
    }
}

impl Learner for TransformerLearner {
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
