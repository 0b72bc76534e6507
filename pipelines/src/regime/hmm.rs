//! A Gaussian hidden Markov model with diagonal covariances, fitted by Baum-Welch (EM) — the
//! model, priors, M-step and stopping rule of Python's `hmmlearn` `GaussianHMM(covariance_type=
//! "diag")` with its defaults (covariance prior 1e-2 with weight 1, flat start/transition
//! priors), tested against it from the same initial parameters.
//!
//! The initial parameters are deterministic and come from the data alone ([`initial`]): rows
//! sorted by one feature (volatility), split into K groups of (nearly) equal size; the group
//! means and variances; a uniform start; 0.95 on the transition diagonal. States are then ordered
//! by that feature's fitted mean, so state 0 is the calmest wherever and whenever the model is fit.
//!
//! [`Hmm::filter`] gives the *filtered* probabilities `P(state_t | x_1..x_t)` (the forward pass):
//! what could be known at `t`. Smoothed probabilities and the Viterbi path look at the whole
//! sample and are for analysis only.

use serde::{Deserialize, Serialize};

/// How to fit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HmmOptions {
    pub states: usize,
    /// Most EM iterations.
    pub max_iter: usize,
    /// Stop when the log-likelihood gains less than this in one iteration.
    pub tol: f64,
    /// The feature whose mean orders the states (and sorts rows for the initial groups).
    pub order_by: usize,
}

impl Default for HmmOptions {
    fn default() -> Self {
        HmmOptions {
            states: 2,
            max_iter: 500,
            tol: 1e-6,
            order_by: 1,
        }
    }
}

/// A fitted (or initial) model: K states over D features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hmm {
    pub start: Vec<f64>,
    /// Row-major K×K: `trans[i * K + j]` = P(j next | i now).
    pub trans: Vec<f64>,
    /// K rows of D means.
    pub means: Vec<Vec<f64>>,
    /// K rows of D variances.
    pub covars: Vec<Vec<f64>>,
    /// Log-likelihood of the fitted sample under these parameters.
    pub loglik: f64,
    pub iterations: usize,
}

const COVARS_PRIOR: f64 = 1e-2;

impl Hmm {
    pub fn states(&self) -> usize {
        self.start.len()
    }

    /// ln N(x; μ_k, diag σ²_k) for every state.
    fn log_emission(&self, x: &[f64], out: &mut [f64]) {
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        for (k, o) in out.iter_mut().enumerate() {
            let mut s = 0.0;
            for ((xi, m), v) in x.iter().zip(&self.means[k]).zip(&self.covars[k]) {
                s += ln2pi + v.ln() + (xi - m) * (xi - m) / v;
            }
            *o = -0.5 * s;
        }
    }

    /// Row `x`'s emission likelihoods scaled by their largest (`exp(l − max l)`) into `out`;
    /// returns that max.
    fn emission_row(&self, x: &[f64], out: &mut [f64]) -> f64 {
        self.log_emission(x, out);
        let m = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for v in out.iter_mut() {
            *v = (*v - m).exp();
        }
        m
    }

    /// Emission likelihoods scaled per row, and each row's max.
    fn emissions(&self, xs: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
        let k = self.states();
        let mut b = vec![0.0; xs.len() * k];
        let shift = xs
            .iter()
            .zip(b.chunks_mut(k))
            .map(|(x, row)| self.emission_row(x, row))
            .collect();
        (b, shift)
    }

    /// One forward step: `cur` = the normalized `(prev · A) ∘ b` (the start distribution for the
    /// first row); returns the normalizer.
    fn forward_step(&self, prev: Option<&[f64]>, b: &[f64], cur: &mut [f64]) -> f64 {
        let k = self.states();
        for j in 0..k {
            let p = match prev {
                None => self.start[j],
                Some(pr) => (0..k).map(|i| pr[i] * self.trans[i * k + j]).sum(),
            };
            cur[j] = p * b[j];
        }
        let c: f64 = cur.iter().sum();
        for v in cur.iter_mut() {
            *v /= c;
        }
        c
    }

    /// The scaled forward pass: normalized α (the filtered probabilities), the scales, and the
    /// log-likelihood.
    fn forward(&self, b: &[f64], shift: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
        let k = self.states();
        let n = shift.len();
        let mut alpha = vec![0.0; n * k];
        let mut scale = vec![0.0; n];
        let mut ll = 0.0;
        for t in 0..n {
            let (prev, cur) = alpha.split_at_mut(t * k);
            let prev = t.checked_sub(1).map(|p| &prev[p * k..]);
            let c = self.forward_step(prev, &b[t * k..(t + 1) * k], &mut cur[..k]);
            scale[t] = c;
            ll += c.ln() + shift[t];
        }
        (alpha, scale, ll)
    }

    /// One step of the forward filter: the filtered probabilities after row `x`, from the
    /// previous row's (`None` at the first row) — the same step [`Hmm::filter`] takes, so a
    /// stream of steps equals the batch filter exactly.
    pub fn filter_next(&self, prev: Option<&[f64]>, x: &[f64]) -> Vec<f64> {
        let k = self.states();
        let mut b = vec![0.0; k];
        self.emission_row(x, &mut b);
        let mut cur = vec![0.0; k];
        self.forward_step(prev, &b, &mut cur);
        cur
    }

    /// Filtered state probabilities `P(state_t | x_1..x_t)`, one row of K per observation.
    pub fn filter(&self, xs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let k = self.states();
        let (b, shift) = self.emissions(xs);
        let (alpha, _, _) = self.forward(&b, &shift);
        alpha.chunks(k).map(<[f64]>::to_vec).collect()
    }

    /// Log-likelihood of `xs`.
    pub fn score(&self, xs: &[Vec<f64>]) -> f64 {
        let (b, shift) = self.emissions(xs);
        self.forward(&b, &shift).2
    }

    /// The most likely state path (Viterbi; uses the whole sample).
    pub fn viterbi(&self, xs: &[Vec<f64>]) -> Vec<usize> {
        let k = self.states();
        let n = xs.len();
        if n == 0 {
            return vec![];
        }
        let lt: Vec<f64> = self.trans.iter().map(|p| p.ln()).collect();
        let mut e = vec![0.0; k];
        let mut delta = vec![0.0; k];
        let mut back = vec![0usize; n * k];
        self.log_emission(&xs[0], &mut e);
        for j in 0..k {
            delta[j] = self.start[j].ln() + e[j];
        }
        for t in 1..n {
            self.log_emission(&xs[t], &mut e);
            let prev = delta.clone();
            for j in 0..k {
                let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
                for i in 0..k {
                    let v = prev[i] + lt[i * k + j];
                    if v > best {
                        (best, arg) = (v, i);
                    }
                }
                delta[j] = best + e[j];
                back[t * k + j] = arg;
            }
        }
        let mut s = (0..k)
            .max_by(|a, b| delta[*a].total_cmp(&delta[*b]))
            .unwrap_or(0);
        let mut path = vec![0; n];
        for t in (0..n).rev() {
            path[t] = s;
            s = back[t * k + s];
        }
        path
    }

    /// One EM step: the E-step's log-likelihood, then the M-step in place.
    fn em_step(&mut self, xs: &[Vec<f64>]) -> f64 {
        let k = self.states();
        let n = xs.len();
        let d = self.means[0].len();
        let (b, shift) = self.emissions(xs);
        let (alpha, scale, ll) = self.forward(&b, &shift);
        let mut beta = vec![1.0; n * k];
        for t in (0..n - 1).rev() {
            for i in 0..k {
                beta[t * k + i] = (0..k)
                    .map(|j| self.trans[i * k + j] * b[(t + 1) * k + j] * beta[(t + 1) * k + j])
                    .sum::<f64>()
                    / scale[t + 1];
            }
        }
        let mut xi = vec![0.0; k * k];
        for t in 0..n - 1 {
            for i in 0..k {
                let a = alpha[t * k + i];
                for j in 0..k {
                    xi[i * k + j] +=
                        a * self.trans[i * k + j] * b[(t + 1) * k + j] * beta[(t + 1) * k + j]
                            / scale[t + 1];
                }
            }
        }
        let mut post = vec![0.0; k];
        let mut obs = vec![vec![0.0; d]; k];
        let mut obs2 = vec![vec![0.0; d]; k];
        let mut start = vec![0.0; k];
        for t in 0..n {
            let g = &alpha[t * k..(t + 1) * k];
            let bt = &beta[t * k..(t + 1) * k];
            let z: f64 = g.iter().zip(bt).map(|(a, b)| a * b).sum();
            for s in 0..k {
                let gamma = g[s] * bt[s] / z;
                if t == 0 {
                    start[s] = gamma;
                }
                post[s] += gamma;
                for f in 0..d {
                    obs[s][f] += gamma * xs[t][f];
                    obs2[s][f] += gamma * xs[t][f] * xs[t][f];
                }
            }
        }
        normalize(&mut start);
        self.start = start;
        for i in 0..k {
            normalize(&mut xi[i * k..(i + 1) * k]);
        }
        self.trans = xi;
        for s in 0..k {
            for f in 0..d {
                let m = obs[s][f] / post[s];
                let cn = obs2[s][f] - 2.0 * m * obs[s][f] + m * m * post[s];
                self.means[s][f] = m;
                self.covars[s][f] = (COVARS_PRIOR + cn) / post[s].max(1e-5);
            }
        }
        ll
    }

    /// Order states by the mean of feature `by` (ascending).
    fn ordered(mut self, by: usize) -> Hmm {
        let k = self.states();
        let mut perm: Vec<usize> = (0..k).collect();
        perm.sort_by(|a, b| self.means[*a][by].total_cmp(&self.means[*b][by]));
        self.start = perm.iter().map(|&i| self.start[i]).collect();
        self.trans = perm
            .iter()
            .flat_map(|&i| perm.iter().map(move |&j| (i, j)))
            .map(|(i, j)| self.trans[i * k + j])
            .collect();
        self.means = perm.iter().map(|&i| self.means[i].clone()).collect();
        self.covars = perm.iter().map(|&i| self.covars[i].clone()).collect();
        self
    }
}

fn normalize(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        for x in v.iter_mut() {
            *x /= s;
        }
    }
}

/// The deterministic initial model (see the module docs). `None` when there are fewer rows than
/// twice the states, rows of unequal width, or a non-finite value.
pub fn initial(xs: &[Vec<f64>], opts: &HmmOptions) -> Option<Hmm> {
    let k = opts.states;
    let d = xs.first()?.len();
    if k < 2
        || xs.len() < 2 * k
        || opts.order_by >= d
        || xs
            .iter()
            .any(|x| x.len() != d || x.iter().any(|v| !v.is_finite()))
    {
        return None;
    }
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|a, b| xs[*a][opts.order_by].total_cmp(&xs[*b][opts.order_by]));
    // numpy's array_split: the first n % k groups take one row more.
    let (q, r) = (xs.len() / k, xs.len() % k);
    let mut at = 0;
    let (mut means, mut covars) = (vec![], vec![]);
    for g in 0..k {
        let len = q + usize::from(g < r);
        let rows = &order[at..at + len];
        at += len;
        let m: Vec<f64> = (0..d)
            .map(|f| rows.iter().map(|&i| xs[i][f]).sum::<f64>() / len as f64)
            .collect();
        let v: Vec<f64> = (0..d)
            .map(|f| {
                let var = rows.iter().map(|&i| (xs[i][f] - m[f]).powi(2)).sum::<f64>() / len as f64;
                // A group of identical values would give a zero variance (an infinite density).
                var.max(1e-6)
            })
            .collect();
        means.push(m);
        covars.push(v);
    }
    let off = 0.05 / (k - 1) as f64;
    let trans = (0..k * k)
        .map(|i| if i / k == i % k { 0.95 } else { off })
        .collect();
    Some(Hmm {
        start: vec![1.0 / k as f64; k],
        trans,
        means,
        covars,
        loglik: f64::NAN,
        iterations: 0,
    })
}

/// Fit by EM from [`initial`], stopping as hmmlearn does (after `max_iter` iterations, or when one
/// iteration gains less than `tol`), then order the states.
pub fn fit(xs: &[Vec<f64>], opts: &HmmOptions) -> Option<Hmm> {
    let mut m = initial(xs, opts)?;
    let mut prev = f64::NAN;
    for it in 0..opts.max_iter.max(1) {
        let ll = m.em_step(xs);
        m.iterations = it + 1;
        if !ll.is_finite() {
            return None;
        }
        if it > 0 && ll - prev < opts.tol {
            break;
        }
        prev = ll;
    }
    if m.covars
        .iter()
        .flatten()
        .any(|v| !v.is_finite() || *v <= 0.0)
    {
        return None;
    }
    m.loglik = m.score(xs);
    Some(m.ordered(opts.order_by))
}

/// The features the regime model reads from closes: `r_t = 100 ln(c_t / c_{t−1})` and
/// `v_t = √(mean of r² over the last `window` returns)`; one row per close from the
/// `window + 1`-th on (index `t` of the row is close `t + window`).
pub fn features(closes: &[f64], window: usize) -> Vec<Vec<f64>> {
    let r: Vec<f64> = closes
        .windows(2)
        .map(|w| 100.0 * (w[1] / w[0]).ln())
        .collect();
    if window == 0 || r.len() < window {
        return vec![];
    }
    (window - 1..r.len())
        .map(|t| {
            let ms = r[t + 1 - window..=t].iter().map(|x| x * x).sum::<f64>() / window as f64;
            vec![r[t], ms.sqrt()]
        })
        .collect()
}
