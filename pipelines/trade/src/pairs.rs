//! Pairs / statistical arbitrage: hedge ratio, spread z-score and the Engle-Granger
//! cointegration test (OLS of one log price on the other, then an augmented Dickey-Fuller test
//! without constant or lags on the residuals).

/// `y = α + β x` by ordinary least squares: (α, β, residuals).
pub fn ols(y: &[f64], x: &[f64]) -> Option<(f64, f64, Vec<f64>)> {
    let n = y.len();
    if n < 3 || x.len() != n {
        return None;
    }
    let (mx, my) = (
        x.iter().sum::<f64>() / n as f64,
        y.iter().sum::<f64>() / n as f64,
    );
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let beta = sxy / sxx;
    let alpha = my - beta * mx;
    let res = x.iter().zip(y).map(|(a, b)| b - alpha - beta * a).collect();
    Some((alpha, beta, res))
}

/// Dickey-Fuller t-statistic of `γ` in `Δs_t = γ s_{t−1} + ε_t` (no constant, no lags; the
/// Engle-Granger second step on OLS residuals).
pub fn adf_t(s: &[f64]) -> Option<f64> {
    let n = s.len();
    if n < 4 {
        return None;
    }
    let lag = &s[..n - 1];
    let d: Vec<f64> = s.windows(2).map(|w| w[1] - w[0]).collect();
    let sxx: f64 = lag.iter().map(|v| v * v).sum();
    if sxx <= 0.0 {
        return None;
    }
    let gamma = lag.iter().zip(&d).map(|(a, b)| a * b).sum::<f64>() / sxx;
    let rss: f64 = lag
        .iter()
        .zip(&d)
        .map(|(a, b)| (b - gamma * a).powi(2))
        .sum();
    let se = (rss / (d.len() as f64 - 1.0) / sxx).sqrt();
    (se > 0.0).then(|| gamma / se)
}

/// MacKinnon (2010) 5% critical value of the Engle-Granger test for two variables with a
/// constant: −3.33613 − 6.1101/T − 6.823/T² (the response surface statsmodels' `mackinnoncrit`
/// uses).
pub fn eg_critical_5pct(t: usize) -> f64 {
    let t = t as f64;
    -3.33613 - 6.1101 / t - 6.823 / (t * t)
}

/// The state of a pair at the end of a window of log prices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairStat {
    pub beta: f64,
    pub z: f64,
    pub adf: f64,
    pub cointegrated: bool,
}

/// Hedge ratio, z-score of the last spread value and cointegration over a window of log prices.
pub fn pair_stat(log_a: &[f64], log_b: &[f64]) -> Option<PairStat> {
    let (_, beta, res) = ols(log_a, log_b)?;
    let n = res.len() as f64;
    let m = res.iter().sum::<f64>() / n;
    let sd = (res.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    if sd <= 0.0 {
        return None;
    }
    let z = (res[res.len() - 1] - m) / sd;
    let adf = adf_t(&res)?;
    Some(PairStat {
        beta,
        z,
        adf,
        cointegrated: adf < eg_critical_5pct(res.len() - 1),
    })
}
