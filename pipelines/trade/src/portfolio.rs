//! Portfolio construction: covariance shrinkage, mean-variance (a conic QP solved by Clarabel),
//! risk parity, hierarchical risk parity, fractional Kelly, and drift-triggered rebalancing.
//!
//! Matrices are row-major `Vec<Vec<f64>>` (n ≤ a few thousand assets; analytics use f64).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use serde::{Deserialize, Serialize};

use crate::dense_qp::{self, Row};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OptError {
    #[error("portfolio: {0}")]
    Input(String),
    #[error("portfolio: the solver stopped with {0}")]
    Solver(String),
}

/// A covariance matrix, row-major.
pub type Matrix = Vec<Vec<f64>>;

/// Sample covariance of `returns` (rows = periods, columns = assets), normalized by `n` (the
/// maximum-likelihood estimate, as Ledoit-Wolf uses it), and the column means.
pub(crate) fn centered(returns: &[Vec<f64>]) -> Result<(Matrix, Vec<f64>), OptError> {
    let n = returns.len();
    let p = returns.first().map_or(0, Vec::len);
    if n < 2 || p == 0 || returns.iter().any(|r| r.len() != p) {
        return Err(OptError::Input(format!(
            "need at least 2 periods of equal width, got {n} × {p}"
        )));
    }
    if returns.iter().flatten().any(|x| !x.is_finite()) {
        return Err(OptError::Input("returns contain NaN or infinity".into()));
    }
    let mean: Vec<f64> = (0..p)
        .map(|j| returns.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let x: Vec<Vec<f64>> = returns
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(a, m)| a - m).collect())
        .collect();
    Ok((x, mean))
}

/// `α Aᵀ A` (`columns`: the p × p Gram of the columns of the row-major T × p `a`) or `α A Aᵀ`
/// (the T × T Gram of its rows), exactly symmetric: one triangle by faer's blocked SIMD product,
/// mirrored. On 252 × 500 returns that is 2.3–2.9 ms against 8.6–10.2 ms for the triple loop it
/// replaced (the same values to 1e-16).
pub(crate) fn gram(a: &[Vec<f64>], columns: bool, alpha: f64) -> Matrix {
    use faer::linalg::matmul::triangular::{BlockStructure, matmul};
    let (t, p) = (a.len(), a.first().map_or(0, Vec::len));
    let m = faer::Mat::<f64>::from_fn(t, p, |i, j| a[i][j]);
    let (lhs, rhs) = if columns {
        (m.transpose(), m.as_ref())
    } else {
        (m.as_ref(), m.transpose())
    };
    let k = lhs.nrows();
    let mut g = faer::Mat::<f64>::zeros(k, k);
    matmul(
        g.as_mut(),
        BlockStructure::TriangularLower,
        faer::Accum::Replace,
        lhs,
        BlockStructure::Rectangular,
        rhs,
        BlockStructure::Rectangular,
        alpha,
        faer::Par::Seq,
    );
    // Column i of the lower triangle is row i of the upper one; then mirror it below.
    let mut out: Matrix = (0..k).map(|i| g.col(i).iter().copied().collect()).collect();
    for i in 1..k {
        let (upper, lower) = out.split_at_mut(i);
        for (j, row) in upper.iter().enumerate() {
            lower[0][j] = row[i];
        }
    }
    out
}

/// Ledoit-Wolf (2004) shrinkage of the sample covariance toward `μ·I` (μ = mean variance), with
/// the optimal intensity estimated from the data — the estimator scikit-learn's `LedoitWolf`
/// computes. Returns the shrunk covariance, the shrinkage and the column means.
pub fn ledoit_wolf(returns: &[Vec<f64>]) -> Result<(Matrix, f64, Vec<f64>), OptError> {
    let (x, mean) = centered(returns)?;
    let (n, p) = (x.len() as f64, mean.len());
    let mut s = gram(&x, true, 1.0 / n);
    // β's Σ_ij Σ_t x_ti² x_tj² = Σ_t (Σ_i x_ti²)²: O(T p) instead of a second p × p product.
    let beta_: f64 = x
        .iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().powi(2))
        .sum();
    let trace: f64 = (0..p).map(|i| s[i][i]).sum();
    let mu = trace / p as f64;
    let delta_: f64 = s.iter().flatten().map(|v| v * v).sum(); // = Σ (XᵀX)² / n²
    let beta = (beta_ / n - delta_) / (p as f64 * n);
    let delta = (delta_ - 2.0 * mu * trace + p as f64 * mu * mu) / p as f64;
    let beta = beta.min(delta);
    let shrinkage = if beta == 0.0 { 0.0 } else { beta / delta };
    for (i, row) in s.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v *= 1.0 - shrinkage;
            if i == j {
                *v += shrinkage * mu;
            }
        }
    }
    Ok((s, shrinkage, mean))
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "objective", rename_all = "snake_case")]
pub enum Objective {
    MinVariance,
    /// Maximum Sharpe ratio (zero risk-free rate), by the Cornuejols–Tütüncü change of variables.
    MaxSharpe,
    /// Minimum variance with at least this expected return per period.
    TargetReturn {
        target: f64,
    },
}

/// Weight bounds and sector caps. Weights sum to 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub lower: f64,
    pub upper: f64,
    /// Sector of each asset (`None`: no sector).
    #[serde(default)]
    pub sectors: Vec<Option<usize>>,
    /// Largest total weight of one sector.
    #[serde(default)]
    pub sector_cap: Option<f64>,
}

impl Bounds {
    pub fn long_only(upper: f64) -> Self {
        Bounds {
            lower: 0.0,
            upper,
            sectors: vec![],
            sector_cap: None,
        }
    }
}

/// Mean-variance weights (sum 1) for expected returns `mu` and covariance `cov`.
pub fn mean_variance(
    mu: &[f64],
    cov: &[Vec<f64>],
    obj: Objective,
    b: &Bounds,
) -> Result<Vec<f64>, OptError> {
    let n = mu.len();
    if n == 0 || cov.len() != n || cov.iter().any(|r| r.len() != n) {
        return Err(OptError::Input(format!(
            "{n} expected returns but a {}-row covariance",
            cov.len()
        )));
    }
    solve(mu, Risk::Dense(cov), obj, b)
}

/// The covariance of a mean-variance problem: dense, or `Lᵀ L + D` (rows of `L`, diagonal of `D`).
pub(crate) enum Risk<'a> {
    Dense(&'a [Vec<f64>]),
    Factor {
        loadings: &'a [Vec<f64>],
        specific: &'a [f64],
    },
}

/// One way of solving the problem; [`solve`] tries them in turn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Pass {
    /// The dense interior-point method of [`dense_qp`] (a dense covariance only; skipped for the
    /// factor form, whose sparse KKT system Clarabel already solves in a few milliseconds).
    Dense,
    /// faer's supernodal LDLᵀ, no iterative refinement.
    Fast,
    /// QDLDL with iterative refinement (Clarabel's defaults).
    Careful,
}

/// A dense covariance goes first to [`dense_qp`]: on the dense 500-asset problem of `elite bench
/// cycle` it takes 12–13 iterations at one 500 × 500 Cholesky each, 25–38 ms against 88–103 ms for
/// the Clarabel pass below and 269 ms for the careful one (one binary, the same hour; its variance
/// 2e-9 relative below Clarabel's). Over 300 random problems (5–205 assets, all three objectives,
/// random bounds and sector caps) it solved every feasible one, its objective never more than
/// 2e-8 (relative) worse than the careful pass's. Then Clarabel with faer's
/// supernodal LDLᵀ without iterative refinement: on the dense 500-asset problem of `elite bench
/// cycle` that solved in 86 ms against 126 ms with refinement and 257 ms with QDLDL (the same 10
/// iterations, variances equal to 1e-9 relative). Iterative refinement only sharpens each Newton
/// step; the interior-point method checks the true residuals itself, so a less exact step can cost
/// iterations, not accuracy. Anything short of `Solved` is solved again the careful way, whose
/// `AlmostSolved` is also accepted.
const PASSES: [Pass; 3] = [Pass::Dense, Pass::Fast, Pass::Careful];

pub(crate) fn solve(
    mu: &[f64],
    risk: Risk<'_>,
    obj: Objective,
    b: &Bounds,
) -> Result<Vec<f64>, OptError> {
    solve_with(mu, risk, obj, b, &PASSES)
}

/// [`solve`] with the given passes, each tried until one reaches `Solved` (the last one may end
/// `AlmostSolved`).
pub(crate) fn solve_with(
    mu: &[f64],
    risk: Risk<'_>,
    obj: Objective,
    b: &Bounds,
    passes: &[Pass],
) -> Result<Vec<f64>, OptError> {
    let n = mu.len();
    if b.lower.is_nan() || b.upper.is_nan() || b.sector_cap.is_some_and(f64::is_nan) {
        return Err(OptError::Input("a bound is NaN".into()));
    }
    // Expected returns enter only these objectives' constraints (minimum variance ignores them).
    if !matches!(obj, Objective::MinVariance) && mu.iter().any(|m| !m.is_finite()) {
        return Err(OptError::Input(
            "expected returns contain NaN or infinity".into(),
        ));
    }
    if b.lower > b.upper || b.upper * n as f64 + 1e-12 < 1.0 || b.lower * n as f64 > 1.0 + 1e-12 {
        return Err(OptError::Input(format!(
            "bounds [{}, {}] cannot hold {n} weights summing to 1",
            b.lower, b.upper
        )));
    }
    let sharpe = matches!(obj, Objective::MaxSharpe);
    if sharpe && mu.iter().all(|m| *m <= 0.0) {
        return Err(OptError::Input(
            "max Sharpe needs at least one positive expected return".into(),
        ));
    }
    // Variables: w (n), or (y (n), κ) for max Sharpe; then f (k) for a factor model.
    let nw = if sharpe { n + 1 } else { n };
    let k = match risk {
        Risk::Dense(_) => 0,
        Risk::Factor { loadings, .. } => loadings.len(),
    };
    let nv = nw + k;
    // The objective is scaled to unit mean variance (the argmin is unchanged; the solver's
    // absolute tolerances then mean the same for daily and annual covariances).
    let var_i = |i: usize| match risk {
        Risk::Dense(cov) => cov[i][i],
        Risk::Factor { loadings, specific } => {
            specific[i] + loadings.iter().map(|l| l[i] * l[i]).sum::<f64>()
        }
    };
    let scale = (0..n).map(var_i).sum::<f64>() / n as f64;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(OptError::Input(
            "covariance has no positive variance".into(),
        ));
    }
    let mut p = vec![vec![0.0; nv]; nv];
    match risk {
        Risk::Dense(cov) => {
            for i in 0..n {
                for j in i..n {
                    p[i][j] = cov[i][j] / scale; // upper triangle only
                }
            }
        }
        Risk::Factor { specific, .. } => {
            for (i, d) in specific.iter().enumerate() {
                p[i][i] = d / scale;
            }
            for j in 0..k {
                p[nw + j][nw + j] = 1.0 / scale;
            }
        }
    }
    // Constraint rows, sparse: (column, coefficient) over (w or y, κ, f).
    let mut eq: Vec<(Row, f64)> = vec![];
    let mut le: Vec<(Row, f64)> = vec![];
    if sharpe {
        // μᵀy = 1 with μ in units of its largest value, so that y = w/(μᵀw) is O(1), not
        // O(1/μ) (daily expected returns of 1e-5 put y near 1e5 and slow every method down).
        // μ is finite (checked above) with a positive entry, so this maximum is that entry.
        let top = mu.iter().copied().fold(0.0, f64::max);
        eq.push(((0..n).map(|k| (k, mu[k] / top)).collect(), 1.0));
        eq.push(((0..n).map(|k| (k, 1.0)).chain([(n, -1.0)]).collect(), 0.0));
        for i in 0..n {
            if b.upper.is_finite() {
                le.push((vec![(i, 1.0), (n, -b.upper)], 0.0));
            }
            if b.lower.is_finite() {
                le.push((vec![(i, -1.0), (n, b.lower)], 0.0));
            }
        }
        le.push((vec![(n, -1.0)], 0.0));
    } else {
        eq.push(((0..n).map(|k| (k, 1.0)).collect(), 1.0));
        if let Objective::TargetReturn { target } = obj {
            le.push(((0..n).map(|k| (k, -mu[k])).collect(), -target));
        }
        for i in 0..n {
            if b.upper.is_finite() {
                le.push((vec![(i, 1.0)], b.upper));
            }
            if b.lower.is_finite() {
                le.push((vec![(i, -1.0)], -b.lower));
            }
        }
    }
    if let Some(cap) = b.sector_cap {
        let mut sectors: Vec<usize> = b.sectors.iter().flatten().copied().collect();
        sectors.sort_unstable();
        sectors.dedup();
        for s in sectors {
            let mut r: Row = (0..n)
                .filter(|&k| b.sectors.get(k).copied().flatten() == Some(s))
                .map(|k| (k, 1.0))
                .collect();
            if sharpe {
                r.push((n, -cap));
                le.push((r, 0.0));
            } else {
                le.push((r, cap));
            }
        }
    }
    if let Risk::Factor { loadings, .. } = risk {
        // f_j = L_j · w (or · y for max Sharpe, where the variance is in y's scale).
        for (j, l) in loadings.iter().enumerate() {
            let mut r: Row = (0..n).map(|c| (c, l[c])).collect();
            r.push((nw + j, -1.0));
            eq.push((r, 0.0));
        }
    }
    // Zeros dropped once here for every row; a non-finite coefficient (a factor loading, the
    // sector cap) is refused.
    for (r, v) in eq.iter_mut().chain(le.iter_mut()) {
        r.retain(|e| e.1 != 0.0);
        if !v.is_finite() || r.iter().any(|e| !e.1.is_finite()) {
            return Err(OptError::Input(
                "a constraint coefficient (factor loading or sector cap) is not finite".into(),
            ));
        }
    }
    let q = vec![0.0; nv];
    let mut x = None;
    let mut last_status = String::new();
    for (i, &pass) in passes.iter().enumerate() {
        let last_pass = i + 1 == passes.len();
        match pass {
            Pass::Dense => {
                if !matches!(risk, Risk::Dense(_)) {
                    continue;
                }
                let qp = dense_qp::Qp {
                    p: &p,
                    q: &q,
                    eq: &eq,
                    le: &le,
                };
                match dense_qp::solve(&qp) {
                    Ok(v) => x = Some(v),
                    Err(why) => last_status = format!("{why:?}"),
                }
            }
            Pass::Fast | Pass::Careful => {
                let (status, v) = clarabel_pass(&p, &q, &eq, &le, nv, pass)?;
                match status {
                    SolverStatus::Solved => x = Some(v),
                    SolverStatus::AlmostSolved if last_pass => x = Some(v),
                    s => last_status = format!("{s:?}"),
                }
            }
        }
        if x.is_some() {
            break;
        }
    }
    let Some(x) = x else {
        return Err(if passes.is_empty() {
            OptError::Input("no solver pass given".into())
        } else {
            OptError::Solver(last_status)
        });
    };
    let w: Vec<f64> = if sharpe {
        let k = x[n];
        if k <= 0.0 {
            return Err(OptError::Solver("max Sharpe: κ = 0".into()));
        }
        x[..n].iter().map(|y| y / k).collect()
    } else {
        x[..n].to_vec()
    };
    // Clean solver noise: clip into the bounds and renormalize.
    let mut w: Vec<f64> = w.iter().map(|v| v.clamp(b.lower, b.upper)).collect();
    let s: f64 = w.iter().sum();
    if s.abs() > 1e-12 {
        w.iter_mut().for_each(|v| *v /= s);
    }
    Ok(w)
}

/// One Clarabel solve of `min ½xᵀPx + qᵀx, eq rows = their values, le rows ≤ their values` (`p`:
/// the upper triangle, dense), factoring the KKT system as `pass` says.
fn clarabel_pass(
    p: &[Vec<f64>],
    q: &[f64],
    eq: &[(Row, f64)],
    le: &[(Row, f64)],
    nv: usize,
    pass: Pass,
) -> Result<(SolverStatus, Vec<f64>), OptError> {
    let upper: Vec<Row> = p
        .iter()
        .enumerate()
        .map(|(i, r)| (i..nv).map(|j| (j, r[j])).filter(|e| e.1 != 0.0).collect())
        .collect();
    let pm = csc_from_rows(&upper.iter().map(Vec::as_slice).collect::<Vec<_>>(), nv);
    let a: Vec<&[(usize, f64)]> = eq.iter().chain(le).map(|(r, _)| r.as_slice()).collect();
    let bv: Vec<f64> = eq.iter().chain(le).map(|(_, v)| *v).collect();
    let am = csc_from_rows(&a, nv);
    let cones = [
        SupportedConeT::ZeroConeT(eq.len()),
        SupportedConeT::NonnegativeConeT(le.len()),
    ];
    let (method, refine) = match pass {
        Pass::Careful => ("qdldl", true),
        _ => ("faer", false),
    };
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-9)
        .tol_gap_rel(1e-9)
        .tol_feas(1e-9)
        .direct_solve_method(method.to_string())
        .iterative_refinement_enable(refine)
        // One thread: a rebalance shares the machine with the feed and the stream jobs, and
        // faer's second thread bought nothing on the 500-asset problem (130.9 vs 128.4 ms).
        .max_threads(1)
        .build()
        .map_err(|e| OptError::Solver(e.to_string()))?;
    let mut s = DefaultSolver::new(&pm, q, &am, &bv, &cones, settings)
        .map_err(|e| OptError::Solver(format!("{e:?}")))?;
    s.solve();
    Ok((s.solution.status, s.solution.x.clone()))
}

/// The compressed-column form of the matrix with sparse rows `rows` (`(column, value)` pairs,
/// columns increasing, no zeros). Two passes in row order (count per column, then fill).
fn csc_from_rows(rows: &[&[(usize, f64)]], ncols: usize) -> CscMatrix<f64> {
    let mut colptr = vec![0usize; ncols + 1];
    for r in rows {
        for (c, _) in r.iter() {
            colptr[c + 1] += 1;
        }
    }
    for c in 0..ncols {
        colptr[c + 1] += colptr[c];
    }
    let nnz = colptr[ncols];
    let mut next = colptr.clone();
    let (mut rowval, mut nzval) = (vec![0usize; nnz], vec![0.0; nnz]);
    for (i, r) in rows.iter().enumerate() {
        for &(c, v) in r.iter() {
            let k = next[c];
            rowval[k] = i;
            nzval[k] = v;
            next[c] += 1;
        }
    }
    CscMatrix::new(rows.len(), ncols, colptr, rowval, nzval)
}

/// Equal risk contribution weights (each asset contributes `w_i (Σw)_i = σ²/n`), by cyclical
/// coordinate descent (Griveau-Billion, Richard & Roncalli 2013).
pub fn risk_parity(cov: &[Vec<f64>]) -> Result<Vec<f64>, OptError> {
    let n = cov.len();
    if n == 0
        || cov
            .iter()
            .enumerate()
            .any(|(i, r)| r.len() != n || r[i] <= 0.0)
    {
        return Err(OptError::Input(
            "risk parity needs a square covariance with positive variances".into(),
        ));
    }
    let budget = 1.0 / n as f64;
    let mut x: Vec<f64> = (0..n).map(|i| 1.0 / cov[i][i].sqrt()).collect();
    for _ in 0..10_000 {
        let mut moved = 0.0f64;
        for i in 0..n {
            let others: f64 = (0..n).filter(|j| *j != i).map(|j| cov[i][j] * x[j]).sum();
            let s = cov[i][i];
            let xi = (-others + (others * others + 4.0 * s * budget).sqrt()) / (2.0 * s);
            moved = moved.max((xi - x[i]).abs() / x[i].abs().max(1e-300));
            x[i] = xi;
        }
        if moved < 1e-13 {
            break;
        }
    }
    let s: f64 = x.iter().sum();
    Ok(x.iter().map(|v| v / s).collect())
}

/// Hierarchical risk parity (López de Prado 2016): single-linkage clustering on the correlation
/// distance `√((1 − ρ)/2)`, quasi-diagonal ordering, then recursive bisection with
/// inverse-variance cluster weights.
pub fn hrp(cov: &[Vec<f64>]) -> Result<Vec<f64>, OptError> {
    let n = cov.len();
    if n == 0
        || cov
            .iter()
            .enumerate()
            .any(|(i, r)| r.len() != n || r[i] <= 0.0)
    {
        return Err(OptError::Input(
            "HRP needs a square covariance with positive variances".into(),
        ));
    }
    let d = |i: usize, j: usize| {
        let rho = cov[i][j] / (cov[i][i] * cov[j][j]).sqrt();
        ((1.0 - rho.clamp(-1.0, 1.0)) / 2.0).sqrt()
    };
    // Single linkage, agglomerative: clusters as leaf lists, merged nearest-first.
    let mut clusters: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut dist: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| d(i, j)).collect()).collect();
    let mut alive: Vec<bool> = vec![true; n];
    for _ in 1..n {
        let (mut bi, mut bj, mut best) = (0, 0, f64::INFINITY);
        for i in 0..clusters.len() {
            if !alive[i] {
                continue;
            }
            for j in i + 1..clusters.len() {
                if alive[j] && dist[i][j] < best {
                    (bi, bj, best) = (i, j, dist[i][j]);
                }
            }
        }
        let merged = [clusters[bi].clone(), clusters[bj].clone()].concat();
        alive[bi] = false;
        alive[bj] = false;
        let k = clusters.len();
        let row: Vec<f64> = (0..k).map(|m| dist[bi][m].min(dist[bj][m])).collect();
        for (m, r) in dist.iter_mut().enumerate() {
            r.push(row[m]);
        }
        let mut last = row;
        last.push(0.0);
        dist.push(last);
        clusters.push(merged);
        alive.push(true);
    }
    let order = clusters.last().cloned().unwrap_or_default();
    let ivp_var = |items: &[usize]| {
        let iv: Vec<f64> = items.iter().map(|&i| 1.0 / cov[i][i]).collect();
        let s: f64 = iv.iter().sum();
        let w: Vec<f64> = iv.iter().map(|v| v / s).collect();
        let mut var = 0.0;
        for (a, &i) in items.iter().enumerate() {
            for (b, &j) in items.iter().enumerate() {
                var += w[a] * w[b] * cov[i][j];
            }
        }
        var
    };
    let mut w = vec![1.0; n];
    let mut stack: Vec<Vec<usize>> = vec![order];
    while let Some(c) = stack.pop() {
        if c.len() < 2 {
            continue;
        }
        let (l, r) = c.split_at(c.len() / 2);
        let (vl, vr) = (ivp_var(l), ivp_var(r));
        let alpha = 1.0 - vl / (vl + vr);
        for &i in l {
            w[i] *= alpha;
        }
        for &i in r {
            w[i] *= 1.0 - alpha;
        }
        stack.push(l.to_vec());
        stack.push(r.to_vec());
    }
    Ok(w)
}

/// Fractional Kelly fraction of capital for one asset with per-period mean `mu` and variance
/// `var` (full Kelly = μ/σ²), capped at ±`cap`.
pub fn kelly(mu: f64, var: f64, fraction: f64, cap: f64) -> f64 {
    if var <= 0.0 || !mu.is_finite() {
        return 0.0;
    }
    (fraction * mu / var).clamp(-cap, cap)
}

/// Whether any weight drifted more than `threshold` from its target.
pub fn drifted(current: &[f64], target: &[f64], threshold: f64) -> bool {
    current
        .iter()
        .zip(target)
        .any(|(c, t)| (c - t).abs() > threshold)
}

/// Portfolio variance `wᵀΣw`.
pub fn variance(w: &[f64], cov: &[Vec<f64>]) -> f64 {
    w.iter()
        .enumerate()
        .map(|(i, wi)| wi * cov[i].iter().zip(w).map(|(c, wj)| c * wj).sum::<f64>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `periods` × `assets` returns with a market factor, 4 sector factors and noise (seeded), and
    /// a drift so that some expected returns are positive.
    fn returns(periods: usize, assets: usize) -> Vec<Vec<f64>> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut normal = move || -> f64 { StandardNormal.sample(&mut rng) };
        (0..periods)
            .map(|_| {
                let m = normal();
                let s: Vec<f64> = (0..4).map(|_| normal()).collect();
                (0..assets)
                    .map(|i| {
                        let beta = 0.5 + (i % 7) as f64 / 7.0;
                        0.0004 * (i % 5) as f64
                            + 0.01 * beta * m
                            + 0.005 * s[i % 4]
                            + 0.012 * normal()
                    })
                    .collect()
            })
            .collect()
    }

    /// `gram` against the definition, both orientations, on a shape faer blocks unevenly.
    #[test]
    fn gram_is_the_symmetric_product() {
        let a = returns(37, 53);
        for columns in [true, false] {
            let g = gram(&a, columns, 0.5);
            let k = if columns { 53 } else { 37 };
            assert_eq!(g.len(), k);
            for i in 0..k {
                assert_eq!(g[i].len(), k);
                for j in 0..k {
                    let want: f64 = if columns {
                        a.iter().map(|r| r[i] * r[j]).sum::<f64>() * 0.5
                    } else {
                        a[i].iter().zip(&a[j]).map(|(x, y)| x * y).sum::<f64>() * 0.5
                    };
                    assert!(
                        (g[i][j] - want).abs() <= 1e-15,
                        "{i},{j}: {} vs {want}",
                        g[i][j]
                    );
                    assert_eq!(g[i][j].to_bits(), g[j][i].to_bits());
                }
            }
        }
    }

    /// The dense interior-point pass and the fast Clarabel pass (faer, no refinement), each alone,
    /// reach the same weights as the careful pass (QDLDL, refinement) on every objective, dense
    /// and in factor form.
    #[test]
    fn fast_pass_equals_careful_pass() {
        let (t, n) = (150, 120);
        let r = returns(t, n);
        let (cov, _, mu) = ledoit_wolf(&r).unwrap();
        let (x, _) = centered(&r).unwrap();
        // An exact factor form of a covariance: L = X/√T (T rows), D = 1e-5.
        let loadings: Vec<Vec<f64>> = x
            .iter()
            .map(|row| row.iter().map(|v| v / (t as f64).sqrt()).collect())
            .collect();
        let specific = vec![1e-5; n];
        let b = Bounds {
            lower: 0.0,
            upper: 0.04,
            sectors: (0..n).map(|i| Some(i % 6)).collect(),
            sector_cap: Some(0.3),
        };
        let target = mu.iter().sum::<f64>() / n as f64;
        for obj in [
            Objective::MinVariance,
            Objective::MaxSharpe,
            Objective::TargetReturn { target },
        ] {
            for factor in [false, true] {
                let risk = || match factor {
                    false => Risk::Dense(&cov),
                    true => Risk::Factor {
                        loadings: &loadings,
                        specific: &specific,
                    },
                };
                let careful = solve_with(&mu, risk(), obj, &b, &[Pass::Careful]).unwrap();
                assert_eq!(careful.len(), n);
                // The dense method alone (no fallback) on the dense covariance only.
                let others: &[Pass] = if factor {
                    &[Pass::Fast]
                } else {
                    &[Pass::Fast, Pass::Dense]
                };
                for &pass in others {
                    let w = solve_with(&mu, risk(), obj, &b, &[pass]).unwrap();
                    // Length-checked and NaN-aware.
                    let (dw, _) = elite_warehouse::approx::max_abs_diff(&w, &careful).unwrap();
                    assert!(
                        dw <= 1e-6,
                        "{pass:?} {obj:?} factor={factor}: max |Δw| {dw:e}"
                    );
                }
            }
        }
    }
}
