//! A statistical factor risk model: the covariance of asset returns as `Σ = Lᵀ L + D`, with `L`
//! the `k` leading principal components of the sample covariance (each scaled by the square root
//! of its eigenvalue) and `D` diagonal, the variance the factors leave unexplained — so that every
//! asset's own variance is the sample's.
//!
//! Why: the dense mean-variance QP factors a p × p KKT block at every interior-point iteration
//! (O(p³)); with `Σ = Lᵀ L + D` the QP takes `k` extra variables `f = L w` and a diagonal objective
//! (`wᵀ D w + fᵀ f`), so its KKT system is sparse and the solve is O(p k²) (see
//! [`mean_variance_factor`](crate::portfolio::mean_variance_factor)).
//!
//! The leading eigenvectors are found by block (subspace) iteration with Rayleigh–Ritz on the
//! smaller Gram matrix of the centered returns `X` — `X Xᵀ` (T × T) when there are fewer periods
//! than assets, which has the covariance's nonzero eigenvalues, its eigenvectors mapped back by
//! `Xᵀ` — with the small `l × l` Ritz problem (`l = k + 8`, every 4th iteration; plain `V ← orth(G V)` between) solved by cyclic Jacobi, until each of
//! the `k` pairs' residual `‖G v − λ v‖` is below `1e-9 λ₁`, or the variance the `k` factors
//! capture stops growing (eigenvalues inside the noise bulk are near-degenerate: no rotation among
//! them captures more), at most 100 iterations. A rebalance passes the previous model as the start
//! (`warm`): a window moved by one period starts near the answer.

use crate::portfolio::{Matrix, OptError, centered};

/// The iteration stops when every leading Ritz pair's residual `‖Σ v − λ v‖` is below this
/// times the largest eigenvalue (eigenvalues are then exact to about its square).
const TOLERANCE: f64 = 1e-9;
/// Or when the variance the factors capture (the sum of their eigenvalues) changed by less than
/// this, relatively, in one iteration.
const STALL: f64 = 1e-10;
/// Iterations per Rayleigh–Ritz step (the others are plain block power steps).
const RITZ_EVERY: usize = 4;
/// The iteration stops here at the latest (a flat spectrum converges slowly; the model is then
/// the best subspace found, still a valid covariance: `D` keeps every asset's own variance).
const MAX_ITERATIONS: usize = 100;

/// `Σ = Lᵀ L + D`.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorCov {
    /// `k` rows of `p` loadings: row j is `√λⱼ vⱼ`.
    pub loadings: Vec<Vec<f64>>,
    /// `p` specific (idiosyncratic) variances.
    pub specific: Vec<f64>,
    /// The `k` leading eigenvalues of the sample covariance, largest first.
    pub eigenvalues: Vec<f64>,
    /// Subspace iterations this estimate took.
    pub iterations: usize,
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
/// means. `warm`: a previous model of the same assets to start the iteration from.
pub fn pca_factor(
    returns: &[Vec<f64>],
    factors: usize,
    warm: Option<&FactorCov>,
) -> Result<(FactorCov, Vec<f64>), OptError> {
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
    let l = (factors + 8).min(rank);
    // Iterate on the smaller of the two Gram matrices: X Xᵀ (T × T) when there are fewer periods
    // than assets, else Xᵀ X (p × p); both have the eigenvalues of the covariance.
    let by_period = t <= p;
    let m = if by_period { t } else { p };
    let mut g = vec![vec![0.0; m]; m];
    if by_period {
        for a in 0..t {
            for b in a..t {
                let v = dot(&x[a], &x[b]);
                g[a][b] = v;
                g[b][a] = v;
            }
        }
    } else {
        for r in &x {
            for a in 0..p {
                let ra = r[a];
                for (gb, rb) in g[a][a..].iter_mut().zip(&r[a..]) {
                    *gb += ra * rb;
                }
            }
        }
        for a in 1..p {
            let (upper, lower) = g.split_at_mut(a);
            for (b, row) in upper.iter().enumerate() {
                lower[0][b] = row[a];
            }
        }
    }
    // Start: the previous factors in this space (X L for X Xᵀ), then a fixed pseudo-random fill.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut v: Vec<Vec<f64>> = (0..l).map(|_| (0..m).map(|_| next()).collect()).collect();
    if let Some(w) = warm.filter(|w| w.assets() == p) {
        for (dst, src) in v.iter_mut().zip(&w.loadings) {
            *dst = if by_period { xv(&x, src) } else { src.clone() };
        }
    }
    orthonormalize(&mut v);
    let mut iterations = 0;
    let mut captured = 0.0;
    let (values, vectors) = loop {
        iterations += 1;
        // Z = G V: l columns of length m.
        let z: Vec<Vec<f64>> = v.iter().map(|c| xv(&g, c)).collect();
        if iterations % RITZ_EVERY != 1 && iterations < MAX_ITERATIONS {
            // A plain step: the Rayleigh–Ritz projection (and the convergence check) only on
            // every RITZ_EVERY-th; in between the block just moves towards the dominant subspace.
            v = z;
            orthonormalize(&mut v);
            continue;
        }
        // Rayleigh–Ritz: H = Vᵀ Z (l × l), H = U Λ Uᵀ; new V = orth(Z U) (ordered by Λ).
        let h: Vec<Vec<f64>> = v
            .iter()
            .map(|a| z.iter().map(|b| dot(a, b)).collect())
            .collect();
        let (lam, u) = jacobi_eigen(h);
        let combine = |basis: &[Vec<f64>], j: usize| {
            let mut c = vec![0.0; m];
            for (b, row) in basis.iter().zip(&u) {
                axpy(&mut c, row[j], b);
            }
            c
        };
        let nv_raw: Vec<Vec<f64>> = (0..l).map(|j| combine(&z, j)).collect();
        let mut nv = nv_raw.clone();
        orthonormalize(&mut nv);
        // The Ritz pairs of this step: λⱼ and V Uⱼ (orthonormal: V is, U is orthogonal); each
        // one's residual ‖G V Uⱼ − λⱼ V Uⱼ‖ = ‖Z Uⱼ − λⱼ V Uⱼ‖, relative to λ₁.
        let ritz: Vec<Vec<f64>> = (0..factors).map(|j| combine(&v, j)).collect();
        let top = lam[0].abs().max(f64::MIN_POSITIVE);
        let worst = (0..factors)
            .map(|j| {
                let r: f64 = nv_raw[j]
                    .iter()
                    .zip(&ritz[j])
                    .map(|(a, b)| (a - lam[j] * b).powi(2))
                    .sum();
                r.sqrt() / top
            })
            .fold(
                0.0_f64,
                |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
            );
        // The variance the k factors capture only grows; once it stops growing, eigenvalues
        // left unconverged are (near-)degenerate with the next ones, where no rotation captures
        // more.
        let now: f64 = lam[..factors].iter().sum();
        let stalled = (now - captured).abs() <= STALL * now.abs();
        captured = now;
        if worst < TOLERANCE || (stalled && iterations > 1) || iterations >= MAX_ITERATIONS {
            break (lam, ritz);
        }
        v = nv;
    };
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
            iterations,
        },
        mean,
    ))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// X c (T values) for X stored by rows.
fn xv(x: &[Vec<f64>], c: &[f64]) -> Vec<f64> {
    x.iter().map(|r| dot(r, c)).collect()
}

/// Xᵀ y (p values).
fn xt(x: &[Vec<f64>], y: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p];
    for (r, yt) in x.iter().zip(y) {
        axpy(&mut out, *yt, r);
    }
    out
}

/// Modified Gram–Schmidt (twice, for orthogonality to rounding) on the vectors in place; a vector
/// that vanishes is replaced by a unit vector orthogonal to the others.
fn orthonormalize(v: &mut [Vec<f64>]) {
    for k in 0..v.len() {
        for _ in 0..2 {
            for j in 0..k {
                let (done, rest) = v.split_at_mut(k);
                let r = dot(&done[j], &rest[0]);
                axpy(&mut rest[0], -r, &done[j]);
            }
        }
        let norm = dot(&v[k], &v[k]).sqrt();
        if norm > 1e-300 {
            v[k].iter_mut().for_each(|x| *x /= norm);
        } else {
            let p = v[k].len();
            'unit: for e in 0..p {
                let mut u = vec![0.0; p];
                u[e] = 1.0;
                for vj in &v[..k] {
                    let r = dot(vj, &u);
                    axpy(&mut u, -r, vj);
                }
                let n = dot(&u, &u).sqrt();
                if n > 1e-8 {
                    u.iter_mut().for_each(|x| *x /= n);
                    v[k] = u;
                    break 'unit;
                }
            }
        }
    }
}

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
