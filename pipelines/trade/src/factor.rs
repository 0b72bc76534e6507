//! A statistical factor risk model: the covariance of asset returns as `Σ = Lᵀ L + D`, with `L`
//! the `k` leading principal components of the sample covariance (each scaled by the square root
//! of its eigenvalue) and `D` diagonal, the variance the factors leave unexplained — so that every
//! asset's own variance is the sample's.
//!
//! Why: the dense mean-variance QP factors a p × p KKT block at every interior-point iteration
//! (O(p³)); with `Σ = Lᵀ L + D` the QP takes `k` extra variables `f = L w` and a diagonal objective
//! (`wᵀ D w + fᵀ f`), so its KKT system is sparse and the solve is O(p k²) (see
//! [`mean_variance_factor`]).
//!
//! The leading eigenpairs come from the smaller Gram matrix of the centered returns `X` —
//! `X Xᵀ` (T × T) when there are fewer periods than assets, which has the covariance's nonzero
//! eigenvalues, its eigenvectors mapped back by `Xᵀ` — decomposed exactly (Householder
//! tridiagonalization, bisection, inverse iteration: [`crate::symeig`]): no iteration count, no
//! dependence on a previous rebalance.

use crate::portfolio::{Bounds, Matrix, Objective, OptError, Risk, centered, gram, solve};

/// `Σ = Lᵀ L + D`.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorCov {
    /// `k` rows of `p` loadings: row j is `√λⱼ vⱼ`.
    pub loadings: Vec<Vec<f64>>,
    /// `p` specific (idiosyncratic) variances.
    pub specific: Vec<f64>,
    /// The `k` leading eigenvalues of the sample covariance, largest first.
    pub eigenvalues: Vec<f64>,
}

impl FactorCov {
    pub fn assets(&self) -> usize {
        self.specific.len()
    }
    /// The dense p × p covariance.
    pub fn dense(&self) -> Matrix {
        let p = self.assets();
        let mut s = vec![vec![0.0; p]; p];
        for l in &self.loadings {
            for i in 0..p {
                let li = l[i];
                for (v, lj) in s[i].iter_mut().zip(l) {
                    *v += li * lj;
                }
            }
        }
        for (i, d) in self.specific.iter().enumerate() {
            s[i][i] += d;
        }
        s
    }
    /// `wᵀ Σ w` without forming Σ.
    pub fn variance(&self, w: &[f64]) -> f64 {
        let f: f64 = self
            .loadings
            .iter()
            .map(|l| l.iter().zip(w).map(|(a, b)| a * b).sum::<f64>().powi(2))
            .sum();
        f + self
            .specific
            .iter()
            .zip(w)
            .map(|(d, x)| d * x * x)
            .sum::<f64>()
    }
}

/// The `factors`-factor model of `returns` (rows = periods, columns = assets) and the column
/// means.
pub fn pca_factor(returns: &[Vec<f64>], factors: usize) -> Result<(FactorCov, Vec<f64>), OptError> {
    let (mut x, mean) = centered(returns)?;
    let (t, p) = (x.len(), mean.len());
    let rank = t.min(p);
    if factors == 0 || factors > rank {
        return Err(OptError::Input(format!(
            "{factors} factors from {t} periods × {p} assets (1 ..= {rank})"
        )));
    }
    // X / √T, so that Xᵀ X is the maximum-likelihood sample covariance (as Ledoit-Wolf uses).
    let inv = 1.0 / (t as f64).sqrt();
    x.iter_mut().flatten().for_each(|v| *v *= inv);
    let sample_var: Vec<f64> = (0..p)
        .map(|i| x.iter().map(|r| r[i] * r[i]).sum())
        .collect();
    // Decompose the smaller of the two Gram matrices: X Xᵀ (T × T) when there are fewer periods
    // than assets, else Xᵀ X (p × p); both have the eigenvalues of the covariance.
    let by_period = t <= p;
    let g = gram(&x, !by_period, 1.0);
    let (values, vectors) = crate::symeig::top_eigen(g, factors);
    // Loadings √λⱼ vⱼ: for X Xᵀ's eigenvector uⱼ that is Xᵀ uⱼ; for Xᵀ X's vⱼ, √λⱼ vⱼ.
    let loadings: Vec<Vec<f64>> = (0..factors)
        .map(|j| {
            if by_period {
                xt(&x, &vectors[j], p)
            } else {
                let s = values[j].max(0.0).sqrt();
                vectors[j].iter().map(|x| x * s).collect()
            }
        })
        .collect();
    let mean_var = sample_var.iter().sum::<f64>() / p as f64;
    let specific: Vec<f64> = (0..p)
        .map(|i| {
            let explained: f64 = loadings.iter().map(|l| l[i] * l[i]).sum();
            (sample_var[i] - explained).max(1e-10 * mean_var)
        })
        .collect();
    Ok((
        FactorCov {
            loadings,
            specific,
            eigenvalues: values[..factors].to_vec(),
        },
        mean,
    ))
}

/// [`mean_variance`](crate::portfolio::mean_variance) with a factor covariance `Σ = Lᵀ L + D`: the same problem (the same argmin
/// as `mean_variance` on `fc.dense()`), posed with `k` more variables `f = L w` so that the
/// objective is diagonal (`wᵀ D w + fᵀ f`) and the solver's KKT system sparse — O(p k²) per
/// iteration instead of O(p³).
pub fn mean_variance_factor(
    mu: &[f64],
    fc: &FactorCov,
    obj: Objective,
    b: &Bounds,
) -> Result<Vec<f64>, OptError> {
    let n = mu.len();
    if n == 0 || fc.assets() != n || fc.loadings.iter().any(|l| l.len() != n) {
        return Err(OptError::Input(format!(
            "{n} expected returns but a factor model of {} assets",
            fc.assets()
        )));
    }
    solve(
        mu,
        Risk::Factor {
            loadings: &fc.loadings,
            specific: &fc.specific,
        },
        obj,
        b,
    )
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Xᵀ y (p values).
fn xt(x: &[Vec<f64>], y: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p];
    for (r, yt) in x.iter().zip(y) {
        axpy(&mut out, *yt, r);
    }
    out
}

#[cfg(test)]
/// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations: the eigenvalues in
/// descending order and, as rows of the second value, `u[i][j]` = component i of eigenvector j.
pub(crate) fn jacobi_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut u: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum::<f64>();
        if off <= 1e-30 * scale || off == 0.0 {
            break;
        }
        for pi in 0..n {
            for q in pi + 1..n {
                let apq = a[pi][q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[pi][pi]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[pi], row[q]);
                    row[pi] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (upper, lower) = a.split_at_mut(q);
                for (apk, aqk) in upper[pi].iter_mut().zip(lower[0].iter_mut()) {
                    let (x, y) = (*apk, *aqk);
                    *apk = c * x - s * y;
                    *aqk = s * x + c * y;
                }
                for row in u.iter_mut() {
                    let (ukp, ukq) = (row[pi], row[q]);
                    row[pi] = c * ukp - s * ukq;
                    row[q] = s * ukp + c * ukq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let values = order.iter().map(|&i| a[i][i]).collect();
    let vectors = (0..n)
        .map(|r| order.iter().map(|&j| u[r][j]).collect())
        .collect();
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalizes_a_known_matrix() {
        // [[2,1],[1,2]]: eigenvalues 3 and 1, vectors (1,1)/√2 and (1,-1)/√2.
        let (l, u) = jacobi_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        assert!(
            (l[0] - 3.0).abs() < 1e-15 && (l[1] - 1.0).abs() < 1e-15,
            "{l:?}"
        );
        assert!((u[0][0].abs() - 0.5f64.sqrt()).abs() < 1e-15);
        assert!((u[0][0] * u[1][0] - 0.5).abs() < 1e-15);
    }
}
