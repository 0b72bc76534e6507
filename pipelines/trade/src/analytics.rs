//! The analyst's numbers for a run: performance and risk metrics of its returns (beside a
//! benchmark when one is given), the probabilistic and deflated Sharpe ratios, calendar tables
//! (monthly and yearly returns), the drawdown and rolling series the report charts, and the
//! run's P&L by strategy and by symbol. Pure functions of the inputs; `elite-jobs` reads the run
//! tables and `elite report` prints or renders what these return.
//!
//! Conventions are those of `empyrical` and `quantstats` (PyPI), and each metric is tested
//! against them on the same returns (`golden/gen_report.py`): simple returns per period, zero
//! risk-free rate, standard deviations with ddof 1, annualization by `periods_per_year`.
//! - `annual_volatility`: `sd · √ppy` (`empyrical.annual_volatility`);
//! - `calmar`: CAGR / max drawdown (`empyrical.calmar_ratio`);
//! - `tail_ratio`: |95th percentile| / |5th percentile| (`empyrical.tail_ratio`);
//! - `stability`: R² of a line fitted to the cumulative log returns (`empyrical.stability_of_timeseries`);
//! - `omega`: Σ gains / Σ |losses| about 0 (`empyrical.omega_ratio`);
//! - `skew`, `kurtosis`: bias-corrected sample skewness and excess kurtosis (pandas, as
//!   `quantstats.skew` / `quantstats.kurtosis` report them);
//! - `alpha`, `beta`: `beta = cov(r, b) / var(b)`, `alpha = (1 + mean(r − beta·b))^ppy − 1`
//!   (`empyrical.alpha_beta`);
//! - `information_ratio`: mean / sd of the active return `r − b`, per period
//!   (`quantstats.information_ratio`);
//! - `psr`: probabilistic Sharpe ratio (Bailey & López de Prado 2012, "The Sharpe Ratio Efficient
//!   Frontier"): `Φ((SR − SR*) √(n − 1) / √(1 − γ₃ SR + (γ₄ − 1) / 4 · SR²))` with the per-period
//!   Sharpe SR, the population skewness γ₃ and (non-excess) kurtosis γ₄ of the returns, SR* = 0;
//! - `dsr`: deflated Sharpe ratio (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio"):
//!   the PSR against `SR* = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))`, N the trials (the
//!   runs of the same name) and V the variance of their per-period Sharpe ratios, γ the
//!   Euler–Mascheroni constant; with one trial it is the PSR.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::metrics::{
    annual_return, cvar_historical, max_drawdown, profit_factor, sharpe, sortino, var_historical,
    win_rate,
};

fn mean(r: &[f64]) -> f64 {
    r.iter().sum::<f64>() / r.len() as f64
}

/// Sample standard deviation (ddof 1).
fn sd(r: &[f64]) -> f64 {
    let m = mean(r);
    (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r.len() as f64 - 1.0)).sqrt()
}

/// numpy's default percentile (linear interpolation), `q` in [0, 1].
fn percentile(r: &[f64], q: f64) -> f64 {
    let mut s = r.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q * (n - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Annualized volatility (`empyrical.annual_volatility`).
pub fn annual_volatility(r: &[f64], periods_per_year: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    sd(r) * periods_per_year.sqrt()
}

/// CAGR over max drawdown (`empyrical.calmar_ratio`); NaN without a drawdown.
pub fn calmar(r: &[f64], periods_per_year: f64) -> f64 {
    let dd = max_drawdown(r);
    if dd > 0.0 {
        annual_return(r, periods_per_year) / dd
    } else {
        f64::NAN
    }
}

/// |95th percentile| / |5th percentile| (`empyrical.tail_ratio`).
pub fn tail_ratio(r: &[f64]) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    percentile(r, 0.95).abs() / percentile(r, 0.05).abs()
}

/// R² of a least-squares line through the cumulative log returns
/// (`empyrical.stability_of_timeseries`).
pub fn stability(r: &[f64]) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let mut acc = 0.0;
    let y: Vec<f64> = r
        .iter()
        .map(|x| {
            acc += x.ln_1p();
            acc
        })
        .collect();
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = mean(&y);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        let dy = v - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy * sxy / (sxx * syy)
}

/// Σ gains / Σ |losses| about a zero threshold (`empyrical.omega_ratio`); NaN without losses.
pub fn omega(r: &[f64]) -> f64 {
    let gain: f64 = r.iter().filter(|x| **x > 0.0).sum();
    let loss: f64 = -r.iter().filter(|x| **x < 0.0).sum::<f64>();
    if loss > 0.0 { gain / loss } else { f64::NAN }
}

/// Central moments m2, m3, m4 (population).
fn moments(r: &[f64]) -> (f64, f64, f64) {
    let m = mean(r);
    let n = r.len() as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in r {
        let d = x - m;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    (m2 / n, m3 / n, m4 / n)
}

/// Bias-corrected sample skewness (pandas `Series.skew`, G1).
pub fn skew(r: &[f64]) -> f64 {
    let n = r.len() as f64;
    if n < 3.0 {
        return f64::NAN;
    }
    let (m2, m3, _) = moments(r);
    let g1 = m3 / m2.powf(1.5);
    g1 * (n * (n - 1.0)).sqrt() / (n - 2.0)
}

/// Bias-corrected sample excess kurtosis (pandas `Series.kurt`, G2).
pub fn kurtosis(r: &[f64]) -> f64 {
    let n = r.len() as f64;
    if n < 4.0 {
        return f64::NAN;
    }
    let (m2, _, m4) = moments(r);
    let g2 = m4 / (m2 * m2) - 3.0;
    (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0)
}

/// (alpha, beta) against benchmark returns `b` aligned with `r` (`empyrical.alpha_beta`):
/// alpha annualized by compounding the mean per-period excess over `beta · b`.
pub fn alpha_beta(r: &[f64], b: &[f64], periods_per_year: f64) -> (f64, f64) {
    if r.len() != b.len() || r.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let mb = mean(b);
    let mr = mean(r);
    let cov = r
        .iter()
        .zip(b)
        .map(|(x, y)| (x - mr) * (y - mb))
        .sum::<f64>();
    let var = b.iter().map(|y| (y - mb).powi(2)).sum::<f64>();
    if var == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let beta = cov / var;
    let excess = mean(
        &r.iter()
            .zip(b)
            .map(|(x, y)| x - beta * y)
            .collect::<Vec<_>>(),
    );
    ((1.0 + excess).powf(periods_per_year) - 1.0, beta)
}

/// Mean over sd of the active return, per period (`quantstats.information_ratio`).
pub fn information_ratio(r: &[f64], b: &[f64]) -> f64 {
    if r.len() != b.len() || r.len() < 2 {
        return f64::NAN;
    }
    let active: Vec<f64> = r.iter().zip(b).map(|(x, y)| x - y).collect();
    mean(&active) / sd(&active)
}

fn std_normal() -> Normal {
    // Mean 0, sd 1 is always a valid normal.
    Normal::standard()
}

/// Probabilistic Sharpe ratio: the probability that the true per-period Sharpe exceeds
/// `sr_star`, given the sample's length, skewness and kurtosis.
pub fn psr(r: &[f64], sr_star: f64) -> f64 {
    let n = r.len() as f64;
    if n < 3.0 {
        return f64::NAN;
    }
    let s = sd(r);
    if s == 0.0 {
        return f64::NAN;
    }
    let sr = mean(r) / s;
    let (m2, m3, m4) = moments(r);
    let g3 = m3 / m2.powf(1.5);
    let g4 = m4 / (m2 * m2);
    let denom = (1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr).sqrt();
    std_normal().cdf((sr - sr_star) * (n - 1.0).sqrt() / denom)
}

/// The Sharpe ratio (per period) the best of `trials` would reach by luck when their Sharpe
/// ratios have variance `var_trials`: the deflated Sharpe's benchmark.
pub fn expected_max_sharpe(trials: usize, var_trials: f64) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    if trials < 2 || var_trials.is_nan() || var_trials <= 0.0 {
        return 0.0;
    }
    let n = trials as f64;
    let z = std_normal();
    var_trials.sqrt()
        * ((1.0 - EULER_GAMMA) * z.inverse_cdf(1.0 - 1.0 / n)
            + EULER_GAMMA * z.inverse_cdf(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// Deflated Sharpe ratio of `r`, one of `trials` tried whose per-period Sharpe ratios have
/// variance `var_trials`.
pub fn dsr(r: &[f64], trials: usize, var_trials: f64) -> f64 {
    psr(r, expected_max_sharpe(trials, var_trials))
}

/// The per-period (not annualized) Sharpe ratio: what PSR and DSR compare.
pub fn sharpe_per_period(r: &[f64]) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    mean(r) / sd(r)
}

/// Every number of the report, under the names `--format json` prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub periods: usize,
    pub periods_per_year: f64,
    pub total_return: f64,
    pub cagr: f64,
    pub annual_volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub max_drawdown: f64,
    /// Longest time under water (periods from a peak to its recovery, or to the end).
    pub max_drawdown_periods: usize,
    pub var_95: f64,
    pub cvar_95: f64,
    pub tail_ratio: f64,
    pub stability: f64,
    pub omega: f64,
    pub skew: f64,
    pub kurtosis: f64,
    pub best_period: f64,
    pub worst_period: f64,
    /// Share of positive periods among non-zero ones.
    pub win_rate: f64,
    /// Σ positive period returns / |Σ negative ones|.
    pub profit_factor: f64,
    pub psr: f64,
    pub dsr: f64,
    /// Runs of the same name the DSR deflates for (1: none).
    pub trials: usize,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub information_ratio: Option<f64>,
    pub benchmark_return: Option<f64>,
}

/// The largest (`f64::max`) or smallest (`f64::min`) of `r`; NaN when `r` is empty or holds a
/// NaN (a plain fold over `f64::max` would skip it).
fn extreme(r: &[f64], pick: fn(f64, f64) -> f64) -> f64 {
    if r.is_empty() || r.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    r.iter().copied().reduce(pick).unwrap_or(f64::NAN)
}

/// Periods from a peak to its recovery (or the end), the longest.
fn longest_underwater(r: &[f64]) -> usize {
    let (mut v, mut peak, mut run, mut best) = (1.0f64, 1.0f64, 0usize, 0usize);
    for x in r {
        v *= 1.0 + x;
        if v >= peak {
            peak = v;
            run = 0;
        } else {
            run += 1;
            best = best.max(run);
        }
    }
    best
}

/// The metrics of returns `r` (and of `benchmark`, aligned, when given); `trials` and
/// `var_trials` as [`dsr`] takes them.
pub fn metrics(
    r: &[f64],
    benchmark: Option<&[f64]>,
    periods_per_year: f64,
    trials: usize,
    var_trials: f64,
) -> Metrics {
    let total = r.iter().map(|x| 1.0 + x).product::<f64>() - 1.0;
    let (alpha, beta, ir, bret) = match benchmark {
        Some(b) if b.len() == r.len() => {
            let (a, be) = alpha_beta(r, b, periods_per_year);
            (
                Some(a),
                Some(be),
                Some(information_ratio(r, b)),
                Some(b.iter().map(|x| 1.0 + x).product::<f64>() - 1.0),
            )
        }
        _ => (None, None, None, None),
    };
    Metrics {
        periods: r.len(),
        periods_per_year,
        total_return: total,
        cagr: annual_return(r, periods_per_year),
        annual_volatility: annual_volatility(r, periods_per_year),
        sharpe: sharpe(r, periods_per_year),
        sortino: sortino(r, periods_per_year),
        calmar: calmar(r, periods_per_year),
        max_drawdown: max_drawdown(r),
        max_drawdown_periods: longest_underwater(r),
        var_95: var_historical(r),
        cvar_95: cvar_historical(r),
        tail_ratio: tail_ratio(r),
        stability: stability(r),
        omega: omega(r),
        skew: skew(r),
        kurtosis: kurtosis(r),
        best_period: extreme(r, f64::max),
        worst_period: extreme(r, f64::min),
        win_rate: win_rate(r),
        profit_factor: profit_factor(r),
        psr: psr(r, 0.0),
        dsr: dsr(r, trials.max(1), var_trials),
        trials: trials.max(1),
        alpha,
        beta,
        information_ratio: ir,
        benchmark_return: bret,
    }
}

/// Compounded returns by calendar bucket: `key(i)` names the bucket of period `i`
/// (e.g. `(year, month)`), buckets in key order.
pub fn compounded_by<K: Ord + Clone>(r: &[f64], key: impl Fn(usize) -> K) -> Vec<(K, f64)> {
    let mut by: BTreeMap<K, f64> = BTreeMap::new();
    for (i, x) in r.iter().enumerate() {
        let g = by.entry(key(i)).or_insert(1.0);
        *g *= 1.0 + x;
    }
    by.into_iter().map(|(k, g)| (k, g - 1.0)).collect()
}

/// The drawdown after each period, as a positive fraction below the running peak.
pub fn drawdown_series(r: &[f64]) -> Vec<f64> {
    let (mut v, mut peak) = (1.0f64, 1.0f64);
    r.iter()
        .map(|x| {
            v *= 1.0 + x;
            peak = peak.max(v);
            if peak > 0.0 { 1.0 - v / peak } else { 0.0 }
        })
        .collect()
}

/// Annualized Sharpe over the trailing `window` periods (NaN until the window fills).
pub fn rolling_sharpe(r: &[f64], window: usize, periods_per_year: f64) -> Vec<f64> {
    (0..r.len())
        .map(|i| {
            if window < 2 || i + 1 < window {
                f64::NAN
            } else {
                sharpe(&r[i + 1 - window..=i], periods_per_year)
            }
        })
        .collect()
}

/// Annualized volatility over the trailing `window` periods (NaN until the window fills).
pub fn rolling_volatility(r: &[f64], window: usize, periods_per_year: f64) -> Vec<f64> {
    (0..r.len())
        .map(|i| {
            if window < 2 || i + 1 < window {
                f64::NAN
            } else {
                annual_volatility(&r[i + 1 - window..=i], periods_per_year)
            }
        })
        .collect()
}

/// Beta against `b` over the trailing `window` periods (NaN until the window fills, or when the
/// benchmark does not move in it).
pub fn rolling_beta(r: &[f64], b: &[f64], window: usize) -> Vec<f64> {
    (0..r.len())
        .map(|i| {
            if window < 2 || i + 1 < window || b.len() != r.len() {
                return f64::NAN;
            }
            let (x, y) = (&b[i + 1 - window..=i], &r[i + 1 - window..=i]);
            let (mx, my) = (mean(x), mean(y));
            let cov: f64 = x.iter().zip(y).map(|(a, c)| (a - mx) * (c - my)).sum();
            let var: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
            if var > 0.0 { cov / var } else { f64::NAN }
        })
        .collect()
}

/// An ordinary least squares fit with an intercept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ols {
    /// `intercept` first, then one per regressor, in the order given.
    pub names: Vec<String>,
    pub coef: Vec<f64>,
    /// Standard errors (classical: σ² (XᵀX)⁻¹ with σ² = SSR / (n − k)).
    pub se: Vec<f64>,
    pub t: Vec<f64>,
    pub r2: f64,
    pub n: usize,
}

/// Regress `y` on the columns `x` (each `(name, values)`, as long as `y`) and an intercept.
/// `None` when there are no more rows than coefficients or the regressors are collinear.
pub fn ols(y: &[f64], x: &[(&str, Vec<f64>)]) -> Option<Ols> {
    let n = y.len();
    let k = x.len() + 1;
    if n <= k || x.iter().any(|(_, c)| c.len() != n) {
        return None;
    }
    let row = |i: usize| -> Vec<f64> {
        std::iter::once(1.0)
            .chain(x.iter().map(|(_, c)| c[i]))
            .collect()
    };
    // Normal equations XᵀX b = Xᵀy, solved by Gauss-Jordan with partial pivoting (k ≤ a few).
    let mut a = vec![vec![0.0; k]; k];
    let mut b = vec![0.0; k];
    for (i, yi) in y.iter().enumerate() {
        let r = row(i);
        for p in 0..k {
            b[p] += r[p] * yi;
            for q in 0..k {
                a[p][q] += r[p] * r[q];
            }
        }
    }
    let inv = invert(&a)?;
    let coef: Vec<f64> = (0..k)
        .map(|p| (0..k).map(|q| inv[p][q] * b[q]).sum())
        .collect();
    let fitted: Vec<f64> = (0..n)
        .map(|i| row(i).iter().zip(&coef).map(|(r, c)| r * c).sum())
        .collect();
    let ssr: f64 = y.iter().zip(&fitted).map(|(a, b)| (a - b).powi(2)).sum();
    let my = mean(y);
    let sst: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    let s2 = ssr / (n - k) as f64;
    let se: Vec<f64> = (0..k).map(|p| (s2 * inv[p][p]).sqrt()).collect();
    Some(Ols {
        names: std::iter::once("intercept".to_string())
            .chain(x.iter().map(|(n, _)| n.to_string()))
            .collect(),
        t: coef.iter().zip(&se).map(|(c, s)| c / s).collect(),
        coef,
        se,
        r2: if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN },
        n,
    })
}

/// The inverse of a small square matrix (Gauss-Jordan, partial pivoting); `None` if singular.
fn invert(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r.clone();
            row.extend((0..k).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    let scale = a.iter().flatten().fold(
        0.0f64,
        |s, v| if v.is_nan() { f64::NAN } else { s.max(v.abs()) },
    );
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))?;
        if m[p][c].abs() <= 1e-12 * scale {
            return None;
        }
        m.swap(c, p);
        let d = m[c][c];
        for v in &mut m[c] {
            *v /= d;
        }
        let pivot = m[c].clone();
        for (r, row) in m.iter_mut().enumerate() {
            let f = row[c];
            if r != c && f != 0.0 {
                for (v, p) in row.iter_mut().zip(&pivot) {
                    *v -= f * p;
                }
            }
        }
    }
    Some(m.into_iter().map(|r| r[k..].to_vec()).collect())
}

/// Monthly factor returns (fractions, not percent): the market's excess return over the
/// risk-free rate, size (SMB), value (HML) and the risk-free rate, keyed by (year, month).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Factors {
    pub rows: BTreeMap<(i32, u32), [f64; 4]>,
}

impl Factors {
    /// Ken French's 3-factor CSV (`Date,Mkt-RF,SMB,HML,RF`, dates `YYYYMM`, values in percent);
    /// other lines (notes, annual blocks) are skipped.
    pub fn from_french_csv(text: &str) -> Factors {
        let mut rows = BTreeMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() < 5 || f[0].len() != 6 {
                continue;
            }
            let (Ok(y), Ok(m)) = (f[0][..4].parse::<i32>(), f[0][4..].parse::<u32>()) else {
                continue;
            };
            let v: Option<Vec<f64>> = f[1..5].iter().map(|x| x.parse::<f64>().ok()).collect();
            if let Some(v) = v.filter(|_| (1..=12).contains(&m)) {
                rows.insert(
                    (y, m),
                    [v[0] / 100.0, v[1] / 100.0, v[2] / 100.0, v[3] / 100.0],
                );
            }
        }
        Factors { rows }
    }
}

/// Factor and timing regressions of a run's monthly returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FactorReport {
    /// First and last month used (`YYYY-MM`).
    pub from: String,
    pub to: String,
    /// Excess return on Mkt-RF, SMB and HML (Fama & French 1993).
    pub fama_french: Option<Ols>,
    /// Treynor & Mazuy (1966): excess return on Mkt-RF and (Mkt-RF)²; a positive square term
    /// is market timing, the intercept selection.
    pub treynor_mazuy: Option<Ols>,
    /// Henriksson & Merton (1981): excess return on Mkt-RF and max(0, Mkt-RF) (the up-market
    /// beta is the sum of the two slopes).
    pub henriksson_merton: Option<Ols>,
}

/// Regress the monthly returns `monthly` ((year, month, return)) in excess of the risk-free
/// rate on the factors of the same months. Months missing from either side are left out.
pub fn factor_report(monthly: &[(i32, u32, f64)], factors: &Factors) -> FactorReport {
    let mut y = vec![];
    let (mut mkt, mut smb, mut hml) = (vec![], vec![], vec![]);
    let mut months = vec![];
    for &(yr, mo, r) in monthly {
        if let Some(f) = factors.rows.get(&(yr, mo)) {
            y.push(r - f[3]);
            mkt.push(f[0]);
            smb.push(f[1]);
            hml.push(f[2]);
            months.push(format!("{yr:04}-{mo:02}"));
        }
    }
    let sq: Vec<f64> = mkt.iter().map(|m| m * m).collect();
    let up: Vec<f64> = mkt.iter().map(|m| m.max(0.0)).collect();
    FactorReport {
        from: months.first().cloned().unwrap_or_default(),
        to: months.last().cloned().unwrap_or_default(),
        fama_french: ols(&y, &[("mkt_rf", mkt.clone()), ("smb", smb), ("hml", hml)]),
        treynor_mazuy: ols(&y, &[("mkt_rf", mkt.clone()), ("mkt_rf_sq", sq)]),
        henriksson_merton: ols(&y, &[("mkt_rf", mkt), ("mkt_rf_up", up)]),
    }
}

/// One holding in one period of a Brinson attribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Holding {
    /// Sector index.
    pub sector: usize,
    /// Portfolio and benchmark weights at the start of the period (fractions of each one's
    /// value; what the portfolio does not hold in these is cash, returning 0).
    pub wp: f64,
    pub wb: f64,
    /// The holding's return over the period.
    pub r: f64,
}

/// One sector's Brinson-Fachler effects, linked over all periods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BrinsonRow {
    pub sector: String,
    pub allocation: f64,
    pub selection: f64,
    pub interaction: f64,
    pub total: f64,
}

/// Brinson-Fachler attribution against a benchmark, linked over time by Carino's method.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Brinson {
    pub periods: usize,
    /// Compounded returns over all periods.
    pub portfolio_return: f64,
    pub benchmark_return: f64,
    /// Sectors, then `cash` (the portfolio's uninvested weight, returning 0).
    pub by_sector: Vec<BrinsonRow>,
}

/// Brinson-Fachler (1985) effects of each sector in each period — allocation
/// `(wp − wb)(rb_j − Rb)`, selection `wb (rp_j − rb_j)`, interaction `(wp − wb)(rp_j − rb_j)`,
/// summing to `Rp − Rb` — linked over periods by Carino (1999): each period's effects are
/// scaled by `k_t / k`, `k_t = ln(1 + Rp_t) − ln(1 + Rb_t)` over `Rp_t − Rb_t` (and `k` the same
/// over the whole span), so the linked effects sum to the compounded excess `Rp − Rb`.
/// `periods[t]` holds the period's holdings; sectors are named by `sectors`.
pub fn brinson_fachler(periods: &[Vec<Holding>], sectors: &[String]) -> Brinson {
    let ns = sectors.len();
    let cash = ns;
    let kf = |rp: f64, rb: f64| {
        if (rp - rb).abs() < 1e-15 {
            1.0 / (1.0 + rp)
        } else {
            ((1.0 + rp).ln() - (1.0 + rb).ln()) / (rp - rb)
        }
    };
    let mut effects: Vec<Vec<[f64; 3]>> = vec![];
    let mut ks = vec![];
    let (mut gp, mut gb) = (1.0f64, 1.0f64);
    for hs in periods {
        // Per sector: Σ wp, Σ wb, Σ wp r, Σ wb r; cash takes the rest of the portfolio.
        let mut s = vec![[0.0f64; 4]; ns + 1];
        for h in hs {
            if h.sector >= ns {
                continue;
            }
            let e = &mut s[h.sector];
            e[0] += h.wp;
            e[1] += h.wb;
            e[2] += h.wp * h.r;
            e[3] += h.wb * h.r;
        }
        let invested: f64 = s[..ns].iter().map(|e| e[0]).sum();
        s[cash][0] = 1.0 - invested;
        let rp: f64 = s.iter().map(|e| e[2]).sum();
        let rb: f64 = s.iter().map(|e| e[3]).sum();
        let mut eff = vec![[0.0; 3]; ns + 1];
        for (j, e) in s.iter().enumerate() {
            let (wp, wb) = (e[0], e[1]);
            let rbj = if wb != 0.0 {
                e[3] / wb
            } else if j == cash {
                0.0
            } else if wp != 0.0 {
                e[2] / wp
            } else {
                rb
            };
            let rpj = if wp != 0.0 && j != cash {
                e[2] / wp
            } else if j == cash {
                0.0
            } else {
                rbj
            };
            eff[j] = [
                (wp - wb) * (rbj - rb),
                wb * (rpj - rbj),
                (wp - wb) * (rpj - rbj),
            ];
        }
        effects.push(eff);
        ks.push(kf(rp, rb));
        gp *= 1.0 + rp;
        gb *= 1.0 + rb;
    }
    let (rp, rb) = (gp - 1.0, gb - 1.0);
    let k = kf(rp, rb);
    let mut by_sector: Vec<BrinsonRow> = sectors
        .iter()
        .cloned()
        .chain(std::iter::once("cash".to_string()))
        .map(|sector| BrinsonRow {
            sector,
            ..Default::default()
        })
        .collect();
    for (eff, kt) in effects.iter().zip(&ks) {
        let scale = kt / k;
        for (row, e) in by_sector.iter_mut().zip(eff) {
            row.allocation += e[0] * scale;
            row.selection += e[1] * scale;
            row.interaction += e[2] * scale;
        }
    }
    for row in &mut by_sector {
        row.total = row.allocation + row.selection + row.interaction;
    }
    Brinson {
        periods: periods.len(),
        portfolio_return: rp,
        benchmark_return: rb,
        by_sector,
    }
}

/// One part of the book's return and risk (a strategy or a symbol).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskContribution {
    pub key: String,
    /// Its per-period contributions `w · r`, linked over time by Carino so the parts add up to
    /// the compounded holdings return.
    pub return_contribution: f64,
    /// Its share of the variance of the holdings return, `cov(c, R) / var(R)` (the shares add
    /// up to 1; a negative share hedges).
    pub risk_share: f64,
}

/// Return and risk contributions of parts whose per-period contributions to the book's return
/// are `parts[k][t]` (`w_{k,t} · r_{k,t}`, weights of the book's value at the period's start);
/// the book's return in period t is their sum.
pub fn contributions(parts: &[(String, Vec<f64>)]) -> Vec<RiskContribution> {
    let n = parts.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    if n == 0 || parts.iter().any(|(_, c)| c.len() != n) {
        return vec![];
    }
    let total: Vec<f64> = (0..n)
        .map(|t| parts.iter().map(|(_, c)| c[t]).sum())
        .collect();
    let link = |r: f64| {
        if r.abs() < 1e-15 { 1.0 } else { r.ln_1p() / r }
    };
    let grown = total.iter().map(|r| 1.0 + r).product::<f64>() - 1.0;
    let k = link(grown);
    let mt = mean(&total);
    let var: f64 = total.iter().map(|r| (r - mt).powi(2)).sum::<f64>();
    parts
        .iter()
        .map(|(key, c)| {
            let mc = mean(c);
            let cov: f64 = c.iter().zip(&total).map(|(a, b)| (a - mc) * (b - mt)).sum();
            RiskContribution {
                key: key.clone(),
                return_contribution: c
                    .iter()
                    .zip(&total)
                    .map(|(ci, rt)| ci * link(*rt) / k)
                    .sum(),
                risk_share: if var > 0.0 { cov / var } else { f64::NAN },
            }
        })
        .collect()
}
