//! Correlation forecasts: RiskMetrics EWMA and Engle's DCC(1,1).
//!
//! **EWMA** (RiskMetrics, λ = 0.94 by default): `Σ_{t+1} = λ Σ_t + (1 − λ) r_t r_tᵀ` on returns
//! without demeaning, started from the backcast `arch` uses for its univariate EWMA (the
//! 0.94-decaying weighted mean of `r rᵀ` over the first 75 returns). Every horizon's forecast is
//! `Σ_{T+1}`.
//!
//! **DCC(1,1)** (Engle 2002), estimated in two steps: a GARCH(1,1) with a constant mean and normal
//! errors per series ([`crate::forecast::fit`], the model of Python's `arch`) gives standardized
//! residuals `z_t`; then with `Q̄ = (1/T) Σ z_t z_tᵀ`, `Q_1 = Q̄` and
//! `Q_t = (1 − a − b) Q̄ + a z_{t−1} z_{t−1}ᵀ + b Q_{t−1}`, `R_t = diag(Q_t)^{−½} Q_t diag(Q_t)^{−½}`,
//! `(a, b)` maximize the correlation part of the likelihood
//! `−½ Σ_t (ln |R_t| + z_tᵀ R_t⁻¹ z_t − z_tᵀ z_t)` subject to `a, b ≥ 0`, `a + b < 1`.
//! Forecasts: `R_{T+1}` from the recursion, then Engle & Sheppard's (2001)
//! `R_{T+h} = (1 − (a+b)^{h−1}) R̄ + (a+b)^{h−1} R_{T+1}` with `R̄` the correlation of `Q̄`;
//! covariances `H_{T+h} = D R D` with `D` the GARCH volatility forecasts.

use serde::{Deserialize, Serialize};

use crate::forecast::{Dist, Garch, VolModel, fit, nelder_mead};

/// A covariance or correlation matrix, row-major.
pub type Matrix = Vec<Vec<f64>>;

/// Correlations of a covariance matrix.
pub fn correlation(q: &[Vec<f64>]) -> Matrix {
    let n = q.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        1.0
                    } else {
                        q[i][j] / (q[i][i] * q[j][j]).sqrt()
                    }
                })
                .collect()
        })
        .collect()
}

/// The RiskMetrics EWMA covariance forecast `Σ_{T+1}` of the rows of `r` (T × N).
pub fn ewma(r: &[Vec<f64>], lambda: f64) -> Option<Matrix> {
    let n = r.first()?.len();
    if n == 0 || !(0.0..1.0).contains(&lambda) || r.iter().any(|x| x.len() != n) {
        return None;
    }
    let tau = r.len().min(75);
    let mut s = vec![vec![0.0; n]; n];
    let mut w = 0.0;
    for (k, x) in r[..tau].iter().enumerate() {
        let wk = 0.94f64.powi(k as i32);
        w += wk;
        for i in 0..n {
            for j in 0..n {
                s[i][j] += wk * x[i] * x[j];
            }
        }
    }
    for row in s.iter_mut() {
        for v in row.iter_mut() {
            *v /= w;
        }
    }
    for x in r {
        for i in 0..n {
            for j in 0..n {
                s[i][j] = lambda * s[i][j] + (1.0 - lambda) * x[i] * x[j];
            }
        }
    }
    Some(s)
}

/// ln |R| and R⁻¹ z by Cholesky; `None` when R is not positive definite.
fn chol_terms(r: &[Vec<f64>], z: &[f64]) -> Option<(f64, f64)> {
    let n = r.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = r[i][i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (r[i][j] - s) / l[j][j];
            }
        }
    }
    // z' R⁻¹ z = |L⁻¹ z|².
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (z[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let logdet = 2.0 * (0..n).map(|i| l[i][i].ln()).sum::<f64>();
    Some((logdet, y.iter().map(|v| v * v).sum()))
}

/// The DCC correlation log-likelihood of `(a, b)` on standardized residuals `z`, and the last
/// `Q` (the one for the last observation).
fn dcc_loglik(z: &[Vec<f64>], qbar: &[Vec<f64>], a: f64, b: f64) -> (f64, Matrix) {
    let n = qbar.len();
    let mut q = qbar.to_vec();
    let mut ll = 0.0;
    for t in 0..z.len() {
        if t > 0 {
            let zp = &z[t - 1];
            for i in 0..n {
                for j in 0..n {
                    q[i][j] = (1.0 - a - b) * qbar[i][j] + a * zp[i] * zp[j] + b * q[i][j];
                }
            }
        }
        let r = correlation(&q);
        let Some((logdet, quad)) = chol_terms(&r, &z[t]) else {
            return (f64::NEG_INFINITY, q);
        };
        let zz: f64 = z[t].iter().map(|v| v * v).sum();
        ll -= 0.5 * (logdet + quad - zz);
    }
    (ll, q)
}

/// A fitted DCC(1,1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dcc {
    pub a: f64,
    pub b: f64,
    /// The correlation part of the log-likelihood at `(a, b)`.
    pub loglik: f64,
    /// The univariate GARCH(1,1) of each series.
    pub garch: Vec<Garch>,
    pub qbar: Matrix,
    /// `Q_{T+1}`.
    q_next: Matrix,
}

/// Fit the two steps to returns `r` (T × N, percent). `None` with fewer than 100 rows, fewer
/// than 2 series, or a series GARCH cannot fit.
pub fn fit_dcc(r: &[Vec<f64>]) -> Option<Dcc> {
    let n = r.first()?.len();
    if n < 2 || r.len() < 100 || r.iter().any(|x| x.len() != n) {
        return None;
    }
    let mut garch = vec![];
    let mut zs: Vec<Vec<f64>> = vec![vec![0.0; n]; r.len()];
    for i in 0..n {
        let col: Vec<f64> = r.iter().map(|x| x[i]).collect();
        let g = fit(&col, VolModel::Garch, Dist::Normal)?;
        let (_, z) = g.standardized(&col);
        for (t, v) in z.into_iter().enumerate() {
            zs[t][i] = v;
        }
        garch.push(g);
    }
    fit_dcc_z(&zs, garch)
}

/// The second step alone, on standardized residuals `z` (T × N) from `garch`.
pub fn fit_dcc_z(z: &[Vec<f64>], garch: Vec<Garch>) -> Option<Dcc> {
    let n = z.first()?.len();
    let t = z.len() as f64;
    let mut qbar = vec![vec![0.0; n]; n];
    for x in z {
        for i in 0..n {
            for j in 0..n {
                qbar[i][j] += x[i] * x[j] / t;
            }
        }
    }
    let obj = |p: &[f64]| -> f64 {
        let (a, b) = (p[0], p[1]);
        if a < 0.0 || b < 0.0 || a + b >= 0.9999 {
            return f64::INFINITY;
        }
        let (ll, _) = dcc_loglik(z, &qbar, a, b);
        if ll.is_finite() { -ll } else { f64::INFINITY }
    };
    let mut x = vec![0.02, 0.95];
    let mut best = obj(&x);
    for _ in 0..20 {
        let step: Vec<f64> = x.iter().map(|v| (0.1 * v.abs()).max(1e-4)).collect();
        let y = nelder_mead(&obj, &x, &step, 5_000);
        let v = obj(&y);
        let done = (best - v).abs() < 1e-10;
        if v < best {
            (x, best) = (y, v);
        }
        if done {
            break;
        }
    }
    if !best.is_finite() {
        return None;
    }
    let (a, b) = (x[0], x[1]);
    let (ll, mut q) = dcc_loglik(z, &qbar, a, b);
    let zl = z.last()?;
    for i in 0..n {
        for j in 0..n {
            q[i][j] = (1.0 - a - b) * qbar[i][j] + a * zl[i] * zl[j] + b * q[i][j];
        }
    }
    Some(Dcc {
        a,
        b,
        loglik: ll,
        garch,
        qbar,
        q_next: q,
    })
}

impl Dcc {
    /// Correlation forecasts `R_{T+1} … R_{T+horizon}`.
    pub fn correlations(&self, horizon: usize) -> Vec<Matrix> {
        let r1 = correlation(&self.q_next);
        let rbar = correlation(&self.qbar);
        let p = self.a + self.b;
        (0..horizon)
            .map(|h| {
                let w = p.powi(h as i32);
                r1.iter()
                    .zip(&rbar)
                    .map(|(x, y)| {
                        x.iter()
                            .zip(y)
                            .map(|(a, b)| w * a + (1.0 - w) * b)
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// Covariance forecasts (percent²): `D R D` with each series' GARCH variance forecast.
    pub fn covariances(&self, horizon: usize) -> Vec<Matrix> {
        let vols: Vec<Vec<f64>> = self
            .garch
            .iter()
            .map(|g| g.forecast(horizon).iter().map(|v| v.sqrt()).collect())
            .collect();
        self.correlations(horizon)
            .into_iter()
            .enumerate()
            .map(|(h, r)| {
                r.iter()
                    .enumerate()
                    .map(|(i, row)| {
                        row.iter()
                            .enumerate()
                            .map(|(j, c)| c * vols[i][h] * vols[j][h])
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }
}
