//! Volatility forecasts: GARCH(1,1) and GJR-GARCH(1,1,1) with a constant mean, normal or
//! standardized Student-t errors, fitted by maximum likelihood — the model, recursion,
//! initialization and forecasts of Python's `arch` (`arch_model(r, mean="Constant",
//! vol="GARCH", p=1, o=0|1, q=1, dist="normal"|"t")`), tested against it on the same returns.
//!
//! `r_t = μ + ε_t`, `σ²_t = ω + α ε²_{t−1} + γ ε²_{t−1} 1[ε_{t−1} < 0] + β σ²_{t−1}`. Before the
//! first observation the squared residual and the variance are the backcast (`arch`'s: the
//! 0.94-decaying weighted mean of the first 75 squared residuals about the sample mean), and
//! the asymmetric term takes half of it. Forecasts h steps ahead are analytic:
//! `σ²_{T+h} = ω + (α + γ/2 + β) σ²_{T+h−1}` from the one-step `σ²_{T+1}`.

use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;

/// Which variance equation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolModel {
    Garch,
    Gjr,
}

/// The errors' distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dist {
    Normal,
    StudentT,
}

/// A fitted model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Garch {
    pub model: VolModel,
    pub dist: Dist,
    pub mu: f64,
    pub omega: f64,
    pub alpha: f64,
    /// The asymmetry (GJR only; 0 for GARCH).
    pub gamma: f64,
    pub beta: f64,
    /// Degrees of freedom (Student-t only).
    pub nu: Option<f64>,
    pub loglik: f64,
    pub observations: usize,
    /// The variance at the last observation and the last residual (what forecasts start from).
    last_sigma2: f64,
    last_resid: f64,
}

/// `arch`'s backcast: the weighted mean of the first (up to) 75 squared residuals, weights
/// 0.94^i normalized.
fn backcast(resids: &[f64]) -> f64 {
    let tau = resids.len().min(75);
    let (mut s, mut w) = (0.0, 0.0);
    for (i, e) in resids[..tau].iter().enumerate() {
        let wi = 0.94f64.powi(i as i32);
        s += wi * e * e;
        w += wi;
    }
    s / w
}

/// The log-likelihood of `p` = (μ, ω, α, γ, β, ν), and the last variance and residual; every
/// conditional variance is pushed to `path` when one is given.
fn loglik(
    r: &[f64],
    p: &[f64; 6],
    dist: Dist,
    bc: f64,
    mut path: Option<&mut Vec<f64>>,
) -> (f64, f64, f64) {
    let [mu, omega, alpha, gamma, beta, nu] = *p;
    let (mut prev_e2, mut prev_neg, mut prev_s2) = (bc, 0.5, bc);
    let mut ll = 0.0;
    let tconst = match dist {
        Dist::Normal => 0.0,
        Dist::StudentT => {
            ln_gamma((nu + 1.0) / 2.0)
                - ln_gamma(nu / 2.0)
                - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln()
        }
    };
    let mut e = 0.0;
    let mut s2 = bc;
    for x in r {
        // Before the first observation the asymmetric term takes half the backcast (arch).
        s2 = omega + alpha * prev_e2 + gamma * prev_e2 * prev_neg + beta * prev_s2;
        e = x - mu;
        if let Some(v) = path.as_deref_mut() {
            v.push(s2);
        }
        ll += match dist {
            Dist::Normal => -0.5 * ((2.0 * std::f64::consts::PI).ln() + s2.ln() + e * e / s2),
            Dist::StudentT => {
                tconst - 0.5 * s2.ln() - (nu + 1.0) / 2.0 * (1.0 + e * e / (s2 * (nu - 2.0))).ln()
            }
        };
        prev_e2 = e * e;
        prev_neg = if e < 0.0 { 1.0 } else { 0.0 };
        prev_s2 = s2;
    }
    (ll, s2, e)
}

/// Whether `p` satisfies the constraints `arch` imposes (positive variance, stationarity,
/// ν > 2.05).
fn feasible(p: &[f64; 6], model: VolModel, dist: Dist) -> bool {
    let [_, omega, alpha, gamma, beta, nu] = *p;
    let gamma_ok = match model {
        VolModel::Garch => gamma == 0.0,
        VolModel::Gjr => alpha + gamma >= 0.0,
    };
    omega > 0.0
        && alpha >= 0.0
        && beta >= 0.0
        && gamma_ok
        && alpha + gamma / 2.0 + beta < 1.0
        && (dist == Dist::Normal || (nu > 2.05 && nu < 500.0))
}

/// Nelder-Mead minimization of `f` from `x0` with initial steps `step`.
#[doc(hidden)]
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: &[f64], iters: usize) -> Vec<f64> {
    let n = x0.len();
    let mut pts: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..n {
        let mut p = x0.to_vec();
        p[i] += step[i];
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| f(p)).collect();
    for _ in 0..iters {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = order.iter().map(|&i| pts[i].clone()).collect();
        vals = order.iter().map(|&i| vals[i]).collect();
        if (vals[n] - vals[0]).abs() <= 1e-13 * (1.0 + vals[0].abs()) {
            // The simplex's extent; a NaN coordinate makes it NaN (never "converged").
            let first = &pts[0];
            let spread = pts
                .iter()
                .flat_map(|p| p.iter().zip(first).map(|(a, b)| (a - b).abs()))
                .max_by(f64::total_cmp)
                .unwrap_or(f64::NAN);
            if spread < 1e-10 {
                break;
            }
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| pts[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (pts[n][j] - centroid[j]))
                .collect()
        };
        let xr = along(-1.0);
        let fr = f(&xr);
        if fr < vals[0] {
            let xe = along(-2.0);
            let fe = f(&xe);
            if fe < fr {
                (pts[n], vals[n]) = (xe, fe);
            } else {
                (pts[n], vals[n]) = (xr, fr);
            }
        } else if fr < vals[n - 1] {
            (pts[n], vals[n]) = (xr, fr);
        } else {
            let xc = if fr < vals[n] {
                along(-0.5)
            } else {
                along(0.5)
            };
            let fc = f(&xc);
            if fc < vals[n].min(fr) {
                (pts[n], vals[n]) = (xc, fc);
            } else {
                for i in 1..=n {
                    pts[i] = (0..n)
                        .map(|j| pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]))
                        .collect();
                    vals[i] = f(&pts[i]);
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    pts[best].clone()
}

/// Fit by maximum likelihood (Nelder-Mead, restarted from its own optimum until the
/// log-likelihood stops improving). `None` with fewer than 100 returns.
pub fn fit(r: &[f64], model: VolModel, dist: Dist) -> Option<Garch> {
    if r.len() < 100 || r.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let resid: Vec<f64> = r.iter().map(|x| x - mean).collect();
    let bc = backcast(&resid);
    let var = resid.iter().map(|e| e * e).sum::<f64>() / n;
    // Free parameters: μ, ω, α, (γ), β, (ν).
    let gjr = model == VolModel::Gjr;
    let t = dist == Dist::StudentT;
    let unpack = |x: &[f64]| -> [f64; 6] {
        let mut k = 0;
        let mut take = || {
            let v = x[k];
            k += 1;
            v
        };
        let mu = take();
        let omega = take();
        let alpha = take();
        let gamma = if gjr { take() } else { 0.0 };
        let beta = take();
        let nu = if t { take() } else { 0.0 };
        [mu, omega, alpha, gamma, beta, nu]
    };
    let obj = |x: &[f64]| -> f64 {
        let p = unpack(x);
        if !feasible(&p, model, dist) {
            return f64::INFINITY;
        }
        let (ll, _, _) = loglik(r, &p, dist, bc, None);
        if ll.is_finite() { -ll } else { f64::INFINITY }
    };
    let mut x0 = vec![mean, 0.05 * var, 0.05];
    let mut step = vec![0.1 * var.sqrt().max(1e-8), 0.02 * var, 0.02];
    if gjr {
        x0[2] = 0.03;
        x0.push(0.04);
        step.push(0.02);
    }
    x0.push(0.9);
    step.push(0.03);
    if t {
        x0.push(8.0);
        step.push(1.0);
    }
    let mut x = x0;
    let mut best = obj(&x);
    for _ in 0..20 {
        let step: Vec<f64> = x
            .iter()
            .zip(&step)
            .map(|(v, s)| (0.05 * v.abs()).max(s * 0.01))
            .collect();
        let y = nelder_mead(&obj, &x, &step, 20_000);
        let v = obj(&y);
        let done = (best - v).abs() < 1e-10;
        if v < best {
            (x, best) = (y, v);
        }
        if done {
            break;
        }
    }
    let p = unpack(&x);
    let (ll, s2, e) = loglik(r, &p, dist, bc, None);
    Some(Garch {
        model,
        dist,
        mu: p[0],
        omega: p[1],
        alpha: p[2],
        gamma: p[3],
        beta: p[4],
        nu: t.then_some(p[5]),
        loglik: ll,
        observations: r.len(),
        last_sigma2: s2,
        last_resid: e,
    })
}

impl Garch {
    /// A random walk with constant variance `variance` and drift `mu` (percent): GARCH with
    /// `α = γ = β = 0`, a baseline (and a model whose drawdown odds have closed forms).
    pub fn constant(mu: f64, variance: f64) -> Garch {
        Garch {
            model: VolModel::Garch,
            dist: Dist::Normal,
            mu,
            omega: variance,
            alpha: 0.0,
            gamma: 0.0,
            beta: 0.0,
            nu: None,
            loglik: f64::NAN,
            observations: 0,
            last_sigma2: variance,
            last_resid: 0.0,
        }
    }

    /// Variance forecasts for the next `horizon` periods (in squared return units).
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        let neg = if self.last_resid < 0.0 { 1.0 } else { 0.0 };
        let e2 = self.last_resid * self.last_resid;
        let mut s2 =
            self.omega + self.alpha * e2 + self.gamma * e2 * neg + self.beta * self.last_sigma2;
        let persistence = self.alpha + self.gamma / 2.0 + self.beta;
        (0..horizon)
            .map(|h| {
                if h > 0 {
                    s2 = self.omega + persistence * s2;
                }
                s2
            })
            .collect()
    }

    /// The conditional variance `σ²_t` of every return of `r` (the series this model was fitted
    /// to) and the standardized residuals `(r_t − μ) / σ_t`.
    pub fn standardized(&self, r: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = r.len() as f64;
        let mean = r.iter().sum::<f64>() / n;
        let resid: Vec<f64> = r.iter().map(|x| x - mean).collect();
        let bc = backcast(&resid);
        let p = [
            self.mu,
            self.omega,
            self.alpha,
            self.gamma,
            self.beta,
            self.nu.unwrap_or(0.0),
        ];
        let mut var = Vec::with_capacity(r.len());
        loglik(r, &p, self.dist, bc, Some(&mut var));
        let z = r
            .iter()
            .zip(&var)
            .map(|(x, v)| (x - self.mu) / v.sqrt())
            .collect();
        (var, z)
    }

    /// The long-run variance `ω / (1 − α − γ/2 − β)`.
    pub fn long_run_variance(&self) -> f64 {
        self.omega / (1.0 - self.alpha - self.gamma / 2.0 - self.beta)
    }
}
