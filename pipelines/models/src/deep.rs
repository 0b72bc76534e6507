//! What the deep sequence models (LSTM, Transformer encoder, CNN-LSTM) share: standardized input
//! windows, parameter blocks trained by mini-batch Adam with global-norm clipping, the LSTM layer
//! (forward with a trace; backward with input gradients, so layers can sit below it), dense and
//! layer-norm layers with their backward passes.
//!
//! Every model takes `seq_len × p` raw features, standardizes them with the training rows' mean
//! and deviation, and outputs a logit for P(up). Gradients are exact (checked against finite
//! differences in the tests); training is deterministic for a seed.

#![allow(clippy::needless_range_loop)] // index loops over several parallel arrays read best here
#![allow(clippy::too_many_arguments)] // layer kernels take their shapes explicitly

use crate::Result;
use crate::data::Dataset;
use crate::error::input;
use crate::linear::{check_features, sigmoid};
use crate::model::Standardizer;
use crate::rng::SplitMix64;

/// The optimizer schedule every deep model shares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

/// A model's parameters as flat blocks (the order is fixed; gradients have the same shape).
pub trait Blocks: Clone {
    fn blocks_mut(&mut self) -> Vec<&mut [f64]>;
    /// Same shapes, all zero.
    fn zeroed(&self) -> Self {
        let mut z = self.clone();
        for b in z.blocks_mut() {
            b.fill(0.0);
        }
        z
    }
}

/// A sequence network on standardized windows.
pub trait SeqNet {
    type W: Blocks;
    fn weights(&self) -> &Self::W;
    fn weights_mut(&mut self) -> &mut Self::W;
    fn features(&self) -> &[String];
    fn scaler(&self) -> &Standardizer;
    fn seq_len(&self) -> usize;
    /// The logit of one standardized window (`seq_len × p`).
    fn logit(&self, x: &[f64]) -> f64;
    /// Add the log-loss gradient of one window to `g`; returns the loss.
    fn backward(&self, x: &[f64], y: f64, g: &mut Self::W) -> f64;
}

/// Log-loss of a logit and its derivative.
pub fn log_loss(z: f64, y: f64) -> (f64, f64) {
    let p = sigmoid(z);
    let loss = -(y * p.max(1e-15).ln() + (1.0 - y) * (1.0 - p).max(1e-15).ln());
    (loss, p - y)
}

/// Standardize a raw `seq_len × p` window.
pub fn standardize(scaler: &Standardizer, raw: &[f64], p: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(raw.len());
    let mut buf = vec![];
    for row in raw.chunks(p.max(1)) {
        scaler.apply(row, &mut buf);
        out.extend_from_slice(&buf);
    }
    out
}

/// Standardized window of row `i`, or a clear error when the series is too short.
pub fn window(scaler: &Standardizer, data: &Dataset, i: usize, seq_len: usize) -> Result<Vec<f64>> {
    let w = data.window(i, seq_len).ok_or_else(|| {
        input(
            format!("row {i}"),
            format!("fewer than {seq_len} bars of history"),
        )
    })?;
    Ok(standardize(scaler, w, data.p()))
}

/// P(up) of `rows` (the [`crate::model::Model::predict`] of every deep model).
pub fn predict<N: SeqNet>(net: &N, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
    check_features(net.features(), &data.features)?;
    rows.iter()
        .map(|&i| {
            Ok(sigmoid(net.logit(&window(
                net.scaler(),
                data,
                i,
                net.seq_len(),
            )?)))
        })
        .collect()
}

/// Total log-loss and gradient over windows (for the finite-difference tests).
pub fn loss_and_grad<N: SeqNet>(net: &N, xs: &[Vec<f64>], ys: &[f64]) -> (f64, N::W) {
    let mut g = net.weights().zeroed();
    let loss = xs
        .iter()
        .zip(ys)
        .map(|(x, &y)| net.backward(x, y, &mut g))
        .sum();
    (loss, g)
}

/// Windows and 0/1 targets of `rows` for training.
pub fn training_set(
    scaler: &Standardizer,
    data: &Dataset,
    rows: &[usize],
    seq_len: usize,
) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    let xs = rows
        .iter()
        .map(|&i| window(scaler, data, i, seq_len))
        .collect::<Result<_>>()?;
    Ok((xs, data.targets(rows)?))
}

/// Fit a sequence net on `rows`: standardize on them, build the net from the scaler with
/// `init`, and train it on their windows with schedule `s`.
pub fn fit<N: SeqNet>(
    data: &Dataset,
    rows: &[usize],
    seq_len: usize,
    s: Schedule,
    init: impl FnOnce(Standardizer) -> Result<N>,
) -> Result<N> {
    let scaler = Standardizer::fit(data, rows);
    let (xs, ys) = training_set(&scaler, data, rows, seq_len)?;
    let mut net = init(scaler)?;
    train(&mut net, &xs, &ys, s);
    Ok(net)
}

/// Mini-batch Adam over shuffled windows, the global gradient norm clipped at 5.
pub fn train<N: SeqNet>(net: &mut N, xs: &[Vec<f64>], ys: &[f64], s: Schedule) {
    let mut m = net.weights().zeroed();
    let mut v = net.weights().zeroed();
    let mut t = 0i32;
    let mut rng = SplitMix64::new(s.seed ^ 0x5eed);
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    for _ in 0..s.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(s.batch.max(1)) {
            let mut g = net.weights().zeroed();
            for &k in chunk {
                net.backward(&xs[k], ys[k], &mut g);
            }
            let scale = 1.0 / chunk.len() as f64;
            t += 1;
            let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
            let mut gb = g.blocks_mut();
            let norm = gb
                .iter()
                .map(|b| b.iter().map(|x| x * x).sum::<f64>())
                .sum::<f64>()
                .sqrt()
                * scale;
            let clip = if norm > 5.0 { 5.0 / norm } else { 1.0 };
            let w = net.weights_mut();
            for (((wv, gv), mv), vv) in w
                .blocks_mut()
                .into_iter()
                .zip(gb.iter_mut())
                .zip(m.blocks_mut())
                .zip(v.blocks_mut())
            {
                for k in 0..wv.len() {
                    let gr = gv[k] * scale * clip + s.weight_decay * wv[k];
                    mv[k] = b1 * mv[k] + (1.0 - b1) * gr;
                    vv[k] = b2 * vv[k] + (1.0 - b2) * gr * gr;
                    wv[k] -= s.learning_rate * (mv[k] / c1) / ((vv[k] / c2).sqrt() + eps);
                }
            }
        }
    }
}

/// Uniform(−a, a) values.
pub fn uniform(rng: &mut SplitMix64, n: usize, a: f64) -> Vec<f64> {
    (0..n).map(|_| rng.sym(a)).collect()
}

// ---------------------------------------------------------------------------------------------
// LSTM layer (ONNX gate order i, o, f, c; W [4H, p], R [4H, H], B [4H]).

/// Per-step activations of an LSTM layer.
pub struct LstmTrace {
    /// Per step: i, o, f, g.
    gates: Vec<[Vec<f64>; 4]>,
    /// c_0..c_T and h_0..h_T.
    c: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
}

/// Run an LSTM layer over `x` (`T × p`, T = x.len() / p); returns the last hidden state.
pub fn lstm_forward(
    w: &[f64],
    r: &[f64],
    b: &[f64],
    x: &[f64],
    p: usize,
    hd: usize,
    keep: bool,
) -> (Vec<f64>, Option<LstmTrace>) {
    let steps = x.len() / p.max(1);
    let mut h = vec![0.0; hd];
    let mut c = vec![0.0; hd];
    let mut a = vec![0.0; 4 * hd];
    let mut tr = keep.then(|| LstmTrace {
        gates: vec![],
        c: vec![c.clone()],
        h: vec![h.clone()],
    });
    for t in 0..steps {
        let xt = &x[t * p..(t + 1) * p];
        for (g, ag) in a.iter_mut().enumerate() {
            let mut s = b[g];
            let wr = &w[g * p..(g + 1) * p];
            for k in 0..p {
                s += wr[k] * xt[k];
            }
            let rr = &r[g * hd..(g + 1) * hd];
            for k in 0..hd {
                s += rr[k] * h[k];
            }
            *ag = s;
        }
        let gi: Vec<f64> = a[..hd].iter().map(|&v| sigmoid(v)).collect();
        let go: Vec<f64> = a[hd..2 * hd].iter().map(|&v| sigmoid(v)).collect();
        let gf: Vec<f64> = a[2 * hd..3 * hd].iter().map(|&v| sigmoid(v)).collect();
        let gg: Vec<f64> = a[3 * hd..].iter().map(|&v| v.tanh()).collect();
        for k in 0..hd {
            c[k] = gf[k] * c[k] + gi[k] * gg[k];
            h[k] = go[k] * c[k].tanh();
        }
        if let Some(tr) = tr.as_mut() {
            tr.gates.push([gi, go, gf, gg]);
            tr.c.push(c.clone());
            tr.h.push(h.clone());
        }
    }
    (h, tr)
}

/// Backpropagate `dh_last` through an LSTM layer: adds to `gw`, `gr`, `gb`, and returns dL/dx
/// (`T × p`) when `want_dx`.
pub fn lstm_backward(
    w: &[f64],
    r: &[f64],
    x: &[f64],
    p: usize,
    hd: usize,
    tr: &LstmTrace,
    mut dh: Vec<f64>,
    gw: &mut [f64],
    gr: &mut [f64],
    gb: &mut [f64],
    want_dx: bool,
) -> Vec<f64> {
    let steps = tr.gates.len();
    let mut dx = if want_dx { vec![0.0; x.len()] } else { vec![] };
    let mut dc = vec![0.0; hd];
    let mut da = vec![0.0; 4 * hd];
    for t in (0..steps).rev() {
        let [gi, go, gf, gg] = &tr.gates[t];
        let (c, cprev, hprev) = (&tr.c[t + 1], &tr.c[t], &tr.h[t]);
        for k in 0..hd {
            let tc = c[k].tanh();
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
            let gwr = &mut gw[gate * p..(gate + 1) * p];
            for k in 0..p {
                gwr[k] += d * xt[k];
            }
            if want_dx {
                let wr = &w[gate * p..(gate + 1) * p];
                let dxt = &mut dx[t * p..(t + 1) * p];
                for k in 0..p {
                    dxt[k] += d * wr[k];
                }
            }
            let grr = &mut gr[gate * hd..(gate + 1) * hd];
            let rr = &r[gate * hd..(gate + 1) * hd];
            for k in 0..hd {
                grr[k] += d * hprev[k];
                dh_prev[k] += d * rr[k];
            }
            gb[gate] += d;
        }
        dh = dh_prev;
    }
    dx
}

// ---------------------------------------------------------------------------------------------
// Dense and layer-norm layers on `n × d` row-major matrices; weights `W [in, out]` (ONNX MatMul).

/// `y = x W + b` for `x: n × din`.
pub fn affine(x: &[f64], w: &[f64], b: &[f64], n: usize, din: usize, dout: usize) -> Vec<f64> {
    let mut y = Vec::with_capacity(n * dout);
    for t in 0..n {
        y.extend_from_slice(b);
        let yr = &mut y[t * dout..(t + 1) * dout];
        for (i, &xi) in x[t * din..(t + 1) * din].iter().enumerate() {
            if xi == 0.0 {
                continue;
            }
            let wr = &w[i * dout..(i + 1) * dout];
            for j in 0..dout {
                yr[j] += xi * wr[j];
            }
        }
    }
    y
}

/// Backward of [`affine`]: adds to `gw`, `gb`; returns dL/dx.
pub fn affine_back(
    x: &[f64],
    w: &[f64],
    dy: &[f64],
    n: usize,
    din: usize,
    dout: usize,
    gw: &mut [f64],
    gb: &mut [f64],
) -> Vec<f64> {
    let mut dx = vec![0.0; n * din];
    for t in 0..n {
        let dyr = &dy[t * dout..(t + 1) * dout];
        for j in 0..dout {
            gb[j] += dyr[j];
        }
        for i in 0..din {
            let xi = x[t * din + i];
            let wr = &w[i * dout..(i + 1) * dout];
            let gwr = &mut gw[i * dout..(i + 1) * dout];
            let mut s = 0.0;
            for j in 0..dout {
                gwr[j] += xi * dyr[j];
                s += wr[j] * dyr[j];
            }
            dx[t * din + i] = s;
        }
    }
    dx
}

/// ONNX LayerNormalization's default epsilon.
pub const LN_EPS: f64 = 1e-5;

/// Output of a layer norm over the last axis, with what the backward pass needs.
pub struct Norm {
    pub y: Vec<f64>,
    xhat: Vec<f64>,
    inv: Vec<f64>,
}

pub fn layer_norm(x: &[f64], g: &[f64], b: &[f64], n: usize, d: usize) -> Norm {
    let mut out = Norm {
        y: vec![0.0; n * d],
        xhat: vec![0.0; n * d],
        inv: vec![0.0; n],
    };
    for t in 0..n {
        let r = &x[t * d..(t + 1) * d];
        let mu = r.iter().sum::<f64>() / d as f64;
        let var = r.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d as f64;
        let inv = 1.0 / (var + LN_EPS).sqrt();
        out.inv[t] = inv;
        for j in 0..d {
            let xh = (r[j] - mu) * inv;
            out.xhat[t * d + j] = xh;
            out.y[t * d + j] = g[j] * xh + b[j];
        }
    }
    out
}

/// Backward of [`layer_norm`]: adds to `gg`, `gb`; returns dL/dx.
pub fn layer_norm_back(
    dy: &[f64],
    nm: &Norm,
    g: &[f64],
    n: usize,
    d: usize,
    gg: &mut [f64],
    gb: &mut [f64],
) -> Vec<f64> {
    let mut dx = vec![0.0; n * d];
    let mut dxh = vec![0.0; d];
    for t in 0..n {
        let (dyr, xh) = (&dy[t * d..(t + 1) * d], &nm.xhat[t * d..(t + 1) * d]);
        let (mut s1, mut s2) = (0.0, 0.0);
        for j in 0..d {
            gg[j] += dyr[j] * xh[j];
            gb[j] += dyr[j];
            dxh[j] = dyr[j] * g[j];
            s1 += dxh[j];
            s2 += dxh[j] * xh[j];
        }
        let k = nm.inv[t] / d as f64;
        for j in 0..d {
            dx[t * d + j] = k * (d as f64 * dxh[j] - s1 - xh[j] * s2);
        }
    }
    dx
}
