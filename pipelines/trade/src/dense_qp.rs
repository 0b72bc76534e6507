//! A primal-dual interior-point method (Mehrotra's predictor-corrector) for the dense
//! mean-variance QP
//!
//! ```text
//! minimize ½ xᵀPx + qᵀx   subject to   E x = e,   G x ≤ h
//! ```
//!
//! with a dense positive semidefinite `P` (a covariance) and sparse constraint rows (weight bounds,
//! sector caps, a return floor, the budget).
//!
//! Why not only Clarabel: Clarabel factors the whole (n + m)-square KKT matrix by a sparse LDLᵀ at
//! every iteration. Here every inequality is eliminated into the diagonal-plus-low-rank
//! `H = P + Gᵀ diag(z/s) G`, which is factored by faer's dense blocked Cholesky (n³/3 flops, the
//! cache-friendly kernel a dense covariance wants), and the few equalities are handled by their
//! Schur complement. The iteration is the textbook one (Nocedal & Wright, *Numerical
//! Optimization*, §16.6, with the starting point of CVXOPT's `coneqp`). It stops at the same
//! tolerances the Clarabel passes use; when it cannot (a singular `H`, or no convergence in
//! [`MAX_ITER`] iterations — an infeasible problem ends here too), the caller solves the problem
//! again with Clarabel, which also reports *why* a problem has no solution.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt;
use faer::{Mat, Par};

/// A sparse constraint row: `(column, coefficient)` pairs.
pub(crate) type Row = Vec<(usize, f64)>;

/// The problem. `p` holds the upper triangle of `P` (row `i` from column `i` on is read).
pub(crate) struct Qp<'a> {
    pub p: &'a [Vec<f64>],
    pub q: &'a [f64],
    pub eq: &'a [(Row, f64)],
    pub le: &'a [(Row, f64)],
}

/// Iterations before giving up (a well-posed portfolio problem takes 10–20).
const MAX_ITER: usize = 60;
/// Feasibility and duality-gap tolerance (the Clarabel passes use 1e-9 too).
const TOL: f64 = 1e-9;
/// Fraction of the distance to the boundary a step may go.
const STEP: f64 = 0.99;

/// Why the method stopped without a solution; the caller falls back to Clarabel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stop {
    /// `H` is not numerically positive definite (a variable no inequality bounds and `P` does not
    /// curve), or the equality rows are dependent.
    Singular,
    /// Not converged in [`MAX_ITER`] iterations (infeasible, or badly conditioned).
    NotConverged,
    /// A value turned non-finite.
    NonFinite,
}

/// `P x` from the upper triangle.
fn sym_mul(p: &[Vec<f64>], x: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (i, row) in p.iter().enumerate() {
        let (xi, mut acc) = (x[i], row[i] * x[i]);
        for j in i + 1..x.len() {
            acc += row[j] * x[j];
            out[j] += row[j] * xi;
        }
        out[i] += acc;
    }
}

/// `R x` for sparse rows `R`.
fn rows_mul(rows: &[(Row, f64)], x: &[f64], out: &mut [f64]) {
    for (o, (r, _)) in out.iter_mut().zip(rows) {
        *o = r.iter().map(|&(j, v)| v * x[j]).sum();
    }
}

/// `out += Rᵀ v`.
fn rows_tmul_add(rows: &[(Row, f64)], v: &[f64], out: &mut [f64]) {
    for ((r, _), vk) in rows.iter().zip(v) {
        for &(j, a) in r {
            out[j] += a * vk;
        }
    }
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| {
        if x.abs() > m || x.is_nan() {
            x.abs()
        } else {
            m
        }
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A Cholesky factor (lower triangle of `l`) and the solves with it.
struct Chol {
    l: Mat<f64>,
}

impl Chol {
    /// Factors `a` (its lower triangle is read) in place.
    fn new(mut a: Mat<f64>) -> Result<Self, Stop> {
        let n = a.nrows();
        // A non-finite diagonal is refused first, so the maximum below cannot skip a NaN.
        if !(0..n).all(|i| a[(i, i)].is_finite()) {
            return Err(Stop::NonFinite);
        }
        let top = (0..n).fold(0.0, |m: f64, i| m.max(a[(i, i)].abs()));
        let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ));
        llt::factor::cholesky_in_place(
            a.as_mut(),
            Default::default(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        )
        .map_err(|_| Stop::Singular)?;
        // A pivot at rounding level (faer accepts a zero one) is a singular matrix, not a solve.
        let floor = top.sqrt() * 1e-10;
        if (0..n).any(|i| a[(i, i)].is_nan() || a[(i, i)] <= floor) {
            return Err(Stop::Singular);
        }
        Ok(Chol { l: a })
    }

    /// `x ← A⁻¹ x`.
    fn solve(&self, x: &mut [f64]) {
        let n = x.len();
        let mut m = faer::MatMut::from_column_major_slice_mut(x, n, 1);
        let mut mem = MemBuffer::new(StackReq::EMPTY);
        llt::solve::solve_in_place(
            self.l.as_ref(),
            m.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
        );
    }
}

/// The Newton system of one iteration: `H = P + Gᵀ W G` factored, and the equality rows'
/// Schur complement `S = E H⁻¹ Eᵀ` with `H⁻¹ Eᵀ` kept.
struct Kkt<'a> {
    qp: &'a Qp<'a>,
    h: Chol,
    /// Column `k`: `H⁻¹ E_kᵀ`.
    y: Vec<Vec<f64>>,
    s: Option<Chol>,
}

impl<'a> Kkt<'a> {
    fn new(qp: &'a Qp<'a>, w: &[f64]) -> Result<Self, Stop> {
        let n = qp.q.len();
        // Column-major lower triangle: column i, rows i.. is row i of the upper triangle.
        let mut h = Mat::<f64>::zeros(n, n);
        for (i, row) in qp.p.iter().enumerate() {
            for (j, v) in row.iter().enumerate().take(n).skip(i) {
                h[(j, i)] = *v;
            }
        }
        for ((r, _), wk) in qp.le.iter().zip(w) {
            for &(a, va) in r {
                for &(c, vc) in r {
                    if a >= c {
                        h[(a, c)] += wk * va * vc;
                    }
                }
            }
        }
        let h = Chol::new(h)?;
        let me = qp.eq.len();
        let mut y = Vec::with_capacity(me);
        for (r, _) in qp.eq {
            let mut col = vec![0.0; n];
            for &(j, v) in r {
                col[j] = v;
            }
            h.solve(&mut col);
            y.push(col);
        }
        let s = if me == 0 {
            None
        } else {
            let mut s = Mat::<f64>::zeros(me, me);
            for (a, (ra, _)) in qp.eq.iter().enumerate() {
                for (b, yb) in y.iter().enumerate().take(a + 1) {
                    s[(a, b)] = ra.iter().map(|&(j, v)| v * yb[j]).sum();
                }
            }
            Some(Chol::new(s)?)
        };
        Ok(Kkt { qp, h, y, s })
    }

    /// Solves `[H Eᵀ; E 0] [dx; dy] = [r1; r2]`.
    fn solve(&self, mut r1: Vec<f64>, r2: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.h.solve(&mut r1);
        let Some(s) = &self.s else {
            return (r1, vec![]);
        };
        let mut dy = vec![0.0; r2.len()];
        rows_mul(self.qp.eq, &r1, &mut dy);
        dy.iter_mut().zip(r2).for_each(|(t, r)| *t -= r);
        s.solve(&mut dy);
        for (yk, dk) in self.y.iter().zip(&dy) {
            r1.iter_mut().zip(yk).for_each(|(x, y)| *x -= dk * y);
        }
        (r1, dy)
    }
}

/// The largest `α` with `v + α dv ≥ 0` (infinite when `dv ≥ 0`).
fn max_step(v: &[f64], dv: &[f64]) -> f64 {
    v.iter()
        .zip(dv)
        .filter(|(_, d)| **d < 0.0)
        .map(|(x, d)| -x / d)
        .fold(f64::INFINITY, f64::min)
}

/// Solves the QP; `Err` says why it stopped short (the caller then uses Clarabel).
pub(crate) fn solve(qp: &Qp<'_>) -> Result<Vec<f64>, Stop> {
    let (n, me, m) = (qp.q.len(), qp.eq.len(), qp.le.len());
    let e: Vec<f64> = qp.eq.iter().map(|(_, v)| *v).collect();
    let d: Vec<f64> = qp.le.iter().map(|(_, v)| *v).collect();
    let (ne, nd, nq) = (inf_norm(&e), inf_norm(&d), inf_norm(qp.q));

    // Start (CVXOPT's coneqp): minimize ½xᵀPx + qᵀx + ½‖Gx − h‖² subject to Ex = e, then shift
    // s = h − Gx and z = Gx − h into the positive orthant.
    let kkt = Kkt::new(qp, &vec![1.0; m])?;
    let mut r1: Vec<f64> = qp.q.iter().map(|v| -v).collect();
    rows_tmul_add(qp.le, &d, &mut r1);
    let (mut x, _) = kkt.solve(r1, &e);
    let mut gx = vec![0.0; m];
    rows_mul(qp.le, &x, &mut gx);
    let shift = |v: Vec<f64>| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        if lo > 0.0 {
            v
        } else {
            v.into_iter().map(|x| x - lo + 1.0).collect()
        }
    };
    let mut s = shift(d.iter().zip(&gx).map(|(h, g)| h - g).collect());
    let mut z = shift(d.iter().zip(&gx).map(|(h, g)| g - h).collect());
    let mut y = vec![0.0; me];

    let (mut px, mut ex) = (vec![0.0; n], vec![0.0; me]);
    for _ in 0..MAX_ITER {
        sym_mul(qp.p, &x, &mut px);
        rows_mul(qp.eq, &x, &mut ex);
        rows_mul(qp.le, &x, &mut gx);
        // Residuals: dual rd = Px + q + Eᵀy + Gᵀz, primal rp = Ex − e and rc = Gx + s − h.
        let mut rd: Vec<f64> = px.iter().zip(qp.q).map(|(a, b)| a + b).collect();
        rows_tmul_add(qp.eq, &y, &mut rd);
        rows_tmul_add(qp.le, &z, &mut rd);
        let rp: Vec<f64> = ex.iter().zip(&e).map(|(a, b)| a - b).collect();
        let rc: Vec<f64> = (0..m).map(|k| gx[k] + s[k] - d[k]).collect();
        let gap = dot(&s, &z);
        let pobj = 0.5 * dot(&x, &px) + dot(qp.q, &x);
        let nx = inf_norm(&x);
        if !(gap.is_finite() && pobj.is_finite() && nx.is_finite()) {
            return Err(Stop::NonFinite);
        }
        if inf_norm(&rp) <= TOL * (1.0 + ne + nx)
            && inf_norm(&rc) <= TOL * (1.0 + nd + nx)
            && inf_norm(&rd) <= TOL * (1.0 + nq + inf_norm(&px))
            && gap <= TOL * pobj.abs().max(1.0)
        {
            return Ok(x);
        }
        let w: Vec<f64> = z.iter().zip(&s).map(|(z, s)| z / s).collect();
        let kkt = Kkt::new(qp, &w)?;
        let rp_neg: Vec<f64> = rp.iter().map(|v| -v).collect();
        // One Newton direction for the complementarity right-hand side rsz:
        //   dz = W (G dx + rc) − rsz/s,  ds = −(rsz + s dz)/z,
        //   H dx + Eᵀ dy = −rd − Gᵀ(W rc − rsz/s),  E dx = −rp.
        let newton = |rsz: &[f64]| {
            let t: Vec<f64> = (0..m).map(|k| rsz[k] / s[k] - w[k] * rc[k]).collect();
            let mut r1: Vec<f64> = rd.iter().map(|v| -v).collect();
            rows_tmul_add(qp.le, &t, &mut r1);
            let (dx, dy) = kkt.solve(r1, &rp_neg);
            let mut gdx = vec![0.0; m];
            rows_mul(qp.le, &dx, &mut gdx);
            let dz: Vec<f64> = (0..m)
                .map(|k| w[k] * (gdx[k] + rc[k]) - rsz[k] / s[k])
                .collect();
            let ds: Vec<f64> = (0..m).map(|k| -(rsz[k] + s[k] * dz[k]) / z[k]).collect();
            (dx, dy, dz, ds)
        };
        let mu = gap / m.max(1) as f64;
        // Predictor (affine scaling), then the centred, second-order corrected step.
        let rsz: Vec<f64> = s.iter().zip(&z).map(|(a, b)| a * b).collect();
        let (_, _, dz_a, ds_a) = newton(&rsz);
        let alpha = max_step(&s, &ds_a).min(max_step(&z, &dz_a)).min(1.0);
        let mu_a = (0..m)
            .map(|k| (s[k] + alpha * ds_a[k]) * (z[k] + alpha * dz_a[k]))
            .sum::<f64>()
            / m.max(1) as f64;
        let sigma = if mu > 0.0 {
            (mu_a / mu).clamp(0.0, 1.0).powi(3)
        } else {
            0.0
        };
        let rsz: Vec<f64> = (0..m)
            .map(|k| s[k] * z[k] + ds_a[k] * dz_a[k] - sigma * mu)
            .collect();
        let (dx, dy, dz, ds) = newton(&rsz);
        let alpha = (STEP * max_step(&s, &ds).min(max_step(&z, &dz))).min(1.0);
        x.iter_mut().zip(&dx).for_each(|(v, d)| *v += alpha * d);
        y.iter_mut().zip(&dy).for_each(|(v, d)| *v += alpha * d);
        s.iter_mut().zip(&ds).for_each(|(v, d)| *v += alpha * d);
        z.iter_mut().zip(&dz).for_each(|(v, d)| *v += alpha * d);
    }
    Err(Stop::NotConverged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `min ½‖x − c‖²` over `{Σx = 1, 0 ≤ x ≤ u}` is the Euclidean projection of `c` onto the
    /// capped simplex: `x_i = clamp(c_i − τ, 0, u)` with `τ` the root of `Σ x_i(τ) = 1`, found
    /// here by bisection — a reference that shares nothing with the interior-point method.
    #[test]
    fn projection_onto_the_capped_simplex() {
        let c = [0.9, -0.3, 0.35, 0.2, 0.05, 0.6, -1.0, 0.33];
        let u = 0.3;
        let n = c.len();
        let x_of = |tau: f64| -> Vec<f64> { c.iter().map(|ci| (ci - tau).clamp(0.0, u)).collect() };
        let (mut lo, mut hi) = (-2.0, 2.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if x_of(mid).iter().sum::<f64>() > 1.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let want = x_of(0.5 * (lo + hi));

        let p: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        let q: Vec<f64> = c.iter().map(|v| -v).collect();
        let eq = vec![((0..n).map(|j| (j, 1.0)).collect::<Row>(), 1.0)];
        let mut le = vec![];
        for i in 0..n {
            le.push((vec![(i, 1.0)], u));
            le.push((vec![(i, -1.0)], 0.0));
        }
        let qp = Qp {
            p: &p,
            q: &q,
            eq: &eq,
            le: &le,
        };
        let got = solve(&qp).unwrap();
        let (d, at) = elite_warehouse::approx::max_abs_diff(&got, &want).unwrap();
        assert!(d <= 1e-7, "x[{at}]: |Δ| {d:e}; {got:?} vs {want:?}");
    }

    /// No feasible point (five weights of at most 0.1 cannot sum to 1): the method stops instead of
    /// returning a point; a variable that nothing curves or bounds makes `H` singular.
    #[test]
    fn infeasible_and_singular_problems_stop() {
        let n = 5;
        let p: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        let q = vec![0.0; n];
        let eq = vec![((0..n).map(|j| (j, 1.0)).collect::<Row>(), 1.0)];
        let le: Vec<(Row, f64)> = (0..n).map(|i| (vec![(i, 1.0)], 0.1)).collect();
        let qp = Qp {
            p: &p,
            q: &q,
            eq: &eq,
            le: &le,
        };
        // The iterates run off to infinity, or the iteration limit comes first.
        let got = solve(&qp);
        assert!(
            matches!(got, Err(Stop::NotConverged | Stop::NonFinite)),
            "{got:?}"
        );

        let mut flat = p.clone();
        flat[2][2] = 0.0;
        let qp = Qp {
            p: &flat,
            q: &q,
            eq: &[],
            le: &[],
        };
        assert_eq!(solve(&qp), Err(Stop::Singular));
    }
}
