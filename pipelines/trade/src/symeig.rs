//! The leading eigenpairs of a dense symmetric matrix, the way LAPACK's `dsyevx` finds a few:
//! Householder reduction to tridiagonal form (`(4/3) n³` flops, the only cubic step), the wanted
//! eigenvalues of the tridiagonal matrix by Sturm-sequence bisection (to the last bits, `O(n)`
//! per step), their eigenvectors by inverse iteration on the tridiagonal matrix (re-orthogonalized
//! within clusters of close eigenvalues, as `dstein` does), and back-transformation by the
//! Householder reflectors (`n²` per vector).

/// The `k` largest eigenvalues of the symmetric `a` (read from its lower triangle), largest first,
/// and unit eigenvectors (`vectors[j]` belongs to `values[j]`).
pub(crate) fn top_eigen(mut a: Vec<Vec<f64>>, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let k = k.min(n);
    if n == 0 || k == 0 {
        return (vec![], vec![]);
    }
    // Householder: for each column j, v with H = I − 2 v vᵀ zeroing a[j+2..][j].
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n.saturating_sub(1)];
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(n.saturating_sub(2));
    for j in 0..n.saturating_sub(2) {
        let x: Vec<f64> = (j + 1..n).map(|i| a[i][j]).collect();
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        d[j] = a[j][j];
        if norm == 0.0 {
            e[j] = 0.0;
            reflectors.push(vec![0.0; x.len()]);
            continue;
        }
        let alpha = if x[0] > 0.0 { -norm } else { norm };
        let mut v = x;
        v[0] -= alpha;
        let vn = v.iter().map(|t| t * t).sum::<f64>().sqrt();
        v.iter_mut().for_each(|t| *t /= vn);
        e[j] = alpha;
        // A22 ← H A22 H = A22 − 2 (v qᵀ + q vᵀ), p = A22 v, q = p − (vᵀ p) v.
        let m = n - j - 1;
        let mut p = vec![0.0; m];
        for (r, pr) in p.iter_mut().enumerate() {
            let row = &a[j + 1 + r][j + 1..];
            *pr = row.iter().zip(&v).map(|(x, y)| x * y).sum();
        }
        let c: f64 = v.iter().zip(&p).map(|(x, y)| x * y).sum();
        let q: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi - c * vi).collect();
        for r in 0..m {
            let (vr, qr) = (2.0 * v[r], 2.0 * q[r]);
            let row = &mut a[j + 1 + r][j + 1..];
            for ((x, vc), qc) in row.iter_mut().zip(&v).zip(&q) {
                *x -= vr * qc + qr * vc;
            }
        }
        reflectors.push(v);
    }
    if n >= 2 {
        d[n - 2] = a[n - 2][n - 2];
        e[n - 2] = a[n - 1][n - 2];
    }
    d[n - 1] = a[n - 1][n - 1];

    // Gershgorin bounds and the matrix's scale.
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..n {
        let r = if i > 0 { e[i - 1].abs() } else { 0.0 } + if i + 1 < n { e[i].abs() } else { 0.0 };
        lo = lo.min(d[i] - r);
        hi = hi.max(d[i] + r);
    }
    let tnorm = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    // Eigenvalues below x (Sturm count of the LDLᵀ pivots of T − xI).
    let below = |x: f64| -> usize {
        let mut count = 0;
        let mut q = d[0] - x;
        let tiny = f64::EPSILON * tnorm;
        for i in 0..n {
            if i > 0 {
                let denom = if q.abs() < tiny { tiny.copysign(q) } else { q };
                q = d[i] - x - e[i - 1] * e[i - 1] / denom;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    // The j-th largest is the (n − 1 − j)-th smallest: bisect on the count.
    let values: Vec<f64> = (0..k)
        .map(|j| {
            let want = n - 1 - j; // eigenvalues below it
            let (mut l, mut h) = (lo - tnorm * f64::EPSILON, hi + tnorm * f64::EPSILON);
            for _ in 0..200 {
                let mid = 0.5 * (l + h);
                if mid <= l || mid >= h {
                    break;
                }
                if below(mid) > want {
                    h = mid;
                } else {
                    l = mid;
                }
            }
            0.5 * (l + h)
        })
        .collect();

    // Inverse iteration on T for each value; vectors of a cluster re-orthogonalized.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let cluster = 1e-3 * tnorm;
    let mut ys: Vec<Vec<f64>> = Vec::with_capacity(k);
    for (j, &lam) in values.iter().enumerate() {
        let lu = TriLu::new(&d, &e, lam, tnorm);
        let mut y: Vec<f64> = (0..n).map(|_| rnd()).collect();
        for _ in 0..3 {
            y = lu.solve(y);
            for (i, prev) in ys.iter().enumerate() {
                if (values[i] - lam).abs() <= cluster {
                    let r: f64 = prev.iter().zip(&y).map(|(a, b)| a * b).sum();
                    y.iter_mut().zip(prev).for_each(|(a, b)| *a -= r * b);
                }
            }
            let norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 && norm.is_finite() {
                y.iter_mut().for_each(|v| *v /= norm);
            } else {
                y = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
            }
        }
        ys.push(y);
    }
    // x = H_0 H_1 … y: the reflectors applied last-first.
    let vectors = ys
        .into_iter()
        .map(|mut y| {
            for (j, v) in reflectors.iter().enumerate().rev() {
                let tail = &mut y[j + 1..];
                let r: f64 = 2.0 * v.iter().zip(tail.iter()).map(|(a, b)| a * b).sum::<f64>();
                tail.iter_mut().zip(v).for_each(|(t, vi)| *t -= r * vi);
            }
            y
        })
        .collect();
    (values, vectors)
}

/// `T − σI` (T tridiagonal: diagonal `d`, off-diagonal `e`) factored by Gaussian elimination with
/// partial pivoting: `P (T − σI) = L U`, U with two super-diagonals. Zero pivots become
/// `ε ‖T‖` (inverse iteration wants the near-singular solve).
struct TriLu {
    u0: Vec<f64>,
    u1: Vec<f64>,
    u2: Vec<f64>,
    mult: Vec<f64>,
    swap: Vec<bool>,
}

impl TriLu {
    fn new(d: &[f64], e: &[f64], sigma: f64, tnorm: f64) -> Self {
        let n = d.len();
        let tiny = f64::EPSILON * tnorm;
        let (mut u0, mut u1, mut u2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut mult, mut swap) = (vec![0.0; n], vec![false; n]);
        // The working row: its entries at columns i, i+1, i+2.
        let (mut w0, mut w1, mut w2) = (d[0] - sigma, e.first().copied().unwrap_or(0.0), 0.0);
        for i in 0..n {
            if i + 1 == n {
                u0[i] = if w0.abs() < tiny { tiny } else { w0 };
                break;
            }
            // The next row's entries at columns i, i+1, i+2.
            let (n0, n1, n2) = (e[i], d[i + 1] - sigma, e.get(i + 1).copied().unwrap_or(0.0));
            if w0.abs() >= n0.abs() {
                let p = if w0.abs() < tiny { tiny } else { w0 };
                let m = n0 / p;
                (u0[i], u1[i], u2[i], mult[i]) = (p, w1, w2, m);
                (w0, w1, w2) = (n1 - m * w1, n2 - m * w2, 0.0);
            } else {
                let m = w0 / n0;
                (u0[i], u1[i], u2[i], mult[i], swap[i]) = (n0, n1, n2, m, true);
                (w0, w1, w2) = (w1 - m * n1, w2 - m * n2, 0.0);
            }
        }
        Self {
            u0,
            u1,
            u2,
            mult,
            swap,
        }
    }

    fn solve(&self, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for i in 0..n.saturating_sub(1) {
            if self.swap[i] {
                b.swap(i, i + 1);
            }
            b[i + 1] -= self.mult[i] * b[i];
        }
        for i in (0..n).rev() {
            let mut s = b[i];
            if i + 1 < n {
                s -= self.u1[i] * b[i + 1];
            }
            if i + 2 < n {
                s -= self.u2[i] * b[i + 2];
            }
            b[i] = s / self.u0[i];
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against cyclic Jacobi (an independent method) on a random symmetric matrix with a
    /// repeated eigenvalue: the values, and each vector's residual and orthogonality.
    #[test]
    fn equals_jacobi_and_gives_orthonormal_eigenvectors() {
        let n = 40;
        let mut s = 7u64;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        // B Bᵀ + (a rank-3 bump, twice repeated eigenvalue) keeps it symmetric PSD.
        let b: Vec<Vec<f64>> = (0..n).map(|_| (0..n).map(|_| rnd()).collect()).collect();
        let mut a: Vec<Vec<f64>> = b
            .iter()
            .map(|bi| {
                b.iter()
                    .map(|bj| bi.iter().zip(bj).map(|(x, y)| x * y).sum::<f64>())
                    .collect()
            })
            .collect();
        a[0][0] += 50.0; // a near-degenerate pair at the top
        a[1][1] += 50.0;
        let (want, _) = crate::factor::jacobi_eigen(a.clone());
        let (vals, vecs) = top_eigen(a.clone(), 12);
        for (j, v) in vals.iter().enumerate() {
            assert!(
                (v - want[j]).abs() <= 1e-12 * want[0],
                "λ{j} {v} vs {}",
                want[j]
            );
        }
        for (j, x) in vecs.iter().enumerate() {
            for (i, row) in a.iter().enumerate() {
                let ax: f64 = row.iter().zip(x).map(|(p, q)| p * q).sum();
                assert!(
                    (ax - vals[j] * x[i]).abs() <= 1e-10 * want[0],
                    "residual {j}"
                );
            }
            for y in &vecs[..j] {
                let d: f64 = x.iter().zip(y).map(|(p, q)| p * q).sum();
                assert!(d.abs() < 1e-10, "orthogonality {j}: {d}");
            }
        }
        let (one, _) = top_eigen(vec![vec![3.0]], 1);
        assert_eq!(one, vec![3.0]);
    }
}
