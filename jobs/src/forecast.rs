//! `elite forecast vol|corr|drawdown`: a GARCH or GJR-GARCH volatility forecast of one symbol's
//! bars (see [`elite_trade::forecast`]), fitted to its log returns in percent up to the newest
//! bar; EWMA or DCC correlation forecasts of several ([`elite_trade::dcc`]); and drawdown odds
//! simulated from the volatility model ([`elite_trade::drawdown`]). Every result lands in
//! `forecasts`, known when the newest bar it read was.

use elite_store::{CommitMeta, Warehouse};
use elite_trade::dcc::{correlation, ewma, fit_dcc};
use elite_trade::drawdown::{DrawdownForecast, DrawdownOptions, simulate};
use elite_trade::forecast::{Dist, Garch, VolModel, fit};
use elite_warehouse::{Symbol, Timeframe, Timestamp, tables};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bars::{BarQuery, aligned_closes, read_bars};
use crate::{Error, Result};

/// What to forecast.
#[derive(Clone, Debug)]
pub struct VolOptions {
    pub symbol: String,
    pub timeframe: Timeframe,
    pub model: VolModel,
    pub dist: Dist,
    pub horizon: usize,
}

/// One step of the forecast path.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub step: usize,
    /// Variance of the log return in percent².
    pub variance: f64,
    /// Annualized volatility in percent (`√(variance · periods per year)`).
    pub annualized_vol: f64,
}

/// A fitted model and its forecast.
#[derive(Clone, Debug, Serialize)]
pub struct VolForecast {
    pub symbol: String,
    pub timeframe: String,
    /// The newest bar the fit used.
    pub as_of: String,
    pub periods_per_year: f64,
    pub fit: Garch,
    pub long_run_annualized_vol: f64,
    pub path: Vec<Step>,
    /// `forecasts` rows landed (0 when this forecast was already recorded).
    pub rows_added: usize,
}

/// A `forecasts` row.
#[derive(Serialize)]
struct ForecastRow<'a> {
    forecast_id: String,
    symbol: &'a str,
    timeframe: &'a str,
    kind: &'a str,
    model: &'a str,
    step: i32,
    value: f64,
    annualized: f64,
    params: &'a str,
    ts_event: i64,
    ts_recv: i64,
}

/// What every row of one forecast shares (times in ns).
struct Batch<'a> {
    kind: &'a str,
    timeframe: &'a str,
    model: &'a str,
    params: &'a str,
    /// The last bar fitted, and when it was known.
    last: i64,
    known: i64,
    commit: String,
}

/// One forecast value: `key` (hashed into its `forecast_id`), symbol or pair, step, value.
struct Value<'a> {
    key: String,
    symbol: &'a str,
    step: usize,
    value: f64,
    annualized: f64,
}

/// Land `values` as `forecasts` rows; returns the rows that were new.
async fn land(wh: &Warehouse, b: &Batch<'_>, values: Vec<Value<'_>>) -> Result<usize> {
    let rows: Vec<ForecastRow<'_>> = values
        .iter()
        .map(|v| ForecastRow {
            forecast_id: hex::encode(&Sha256::digest(v.key.as_bytes())[..8]),
            symbol: v.symbol,
            timeframe: b.timeframe,
            kind: b.kind,
            model: b.model,
            step: v.step as i32,
            value: v.value,
            annualized: v.annualized,
            params: b.params,
            ts_event: b.last.div_euclid(1000),
            ts_recv: b.known.div_euclid(1000),
        })
        .collect();
    crate::run::journal::insert(
        wh,
        &tables::FORECASTS,
        &rows,
        CommitMeta::new(b.commit.clone()),
    )
    .await
}

/// The symbol's closes by `ts_event`, and when the newest bar was known (ns).
async fn closes(wh: &Warehouse, opts: &VolOptions) -> Result<(Vec<(Timestamp, f64)>, i64)> {
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(opts.timeframe),
            symbols: vec![Symbol::new(&opts.symbol)?],
            version: None,
        },
    )
    .await?;
    let mut closes: Vec<(Timestamp, f64)> =
        bars.iter().map(|b| (b.ts_event, b.bar.close)).collect();
    closes.sort_by_key(|c| c.0);
    // The forecast is known once the last bar fitted is.
    let known = bars
        .iter()
        .max_by_key(|b| b.ts_event)
        .map_or(0, |b| b.ts_recv.as_nanos());
    Ok((closes, known))
}

/// The model fitted to the closes' percent log returns.
fn fit_returns(closes: &[(Timestamp, f64)], opts: &VolOptions) -> Result<Garch> {
    let r: Vec<f64> = closes
        .windows(2)
        .filter(|w| w[0].1 > 0.0 && w[1].1 > 0.0)
        .map(|w| 100.0 * (w[1].1 / w[0].1).ln())
        .collect();
    fit(&r, opts.model, opts.dist).ok_or_else(|| {
        Error::Config(format!(
            "{} {}: {} returns; a GARCH fit needs at least 100 finite ones",
            opts.symbol,
            opts.timeframe,
            r.len()
        ))
    })
}

/// `garch_normal`, `gjr_student_t`, …
fn model_name(f: &Garch) -> Result<String> {
    Ok(format!(
        "{}_{}",
        serde_json::to_value(f.model)?.as_str().unwrap_or_default(),
        serde_json::to_value(f.dist)?.as_str().unwrap_or_default()
    ))
}

/// Fit and forecast.
pub async fn vol_forecast(wh: &Warehouse, opts: &VolOptions) -> Result<VolForecast> {
    let (closes, known) = closes(wh, opts).await?;
    let f = fit_returns(&closes, opts)?;
    let stamps: Vec<Timestamp> = closes.iter().map(|c| c.0).collect();
    let ppy = elite_trade::metrics::infer_periods_per_year(&stamps);
    let path: Vec<Step> = f
        .forecast(opts.horizon.max(1))
        .into_iter()
        .enumerate()
        .map(|(h, v)| Step {
            step: h + 1,
            variance: v,
            annualized_vol: (v * ppy).sqrt(),
        })
        .collect();
    let last = closes.last().map_or(0, |c| c.0.as_nanos());
    let timeframe = opts.timeframe.to_string();
    let params = serde_json::to_string(&f)?;
    let model = model_name(&f)?;
    let values = path
        .iter()
        .map(|s| Value {
            key: format!(
                "vol|{}|{timeframe}|{model}|{last}|{}|{params}",
                opts.symbol, s.step
            ),
            symbol: &opts.symbol,
            step: s.step,
            value: s.variance,
            annualized: s.annualized_vol,
        })
        .collect();
    let rows_added = land(
        wh,
        &Batch {
            kind: "volatility",
            timeframe: &timeframe,
            model: &model,
            params: &params,
            last,
            known,
            commit: format!("forecast:vol:{}", opts.symbol),
        },
        values,
    )
    .await?;
    Ok(VolForecast {
        symbol: opts.symbol.clone(),
        timeframe,
        as_of: closes.last().map(|c| c.0.to_string()).unwrap_or_default(),
        periods_per_year: ppy,
        long_run_annualized_vol: (f.long_run_variance() * ppy).sqrt(),
        fit: f,
        path,
        rows_added,
    })
}

/// Which correlation model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CorrModel {
    /// RiskMetrics EWMA with this λ.
    Ewma(f64),
    /// DCC(1,1) on GARCH(1,1) residuals.
    Dcc,
}

/// What to forecast.
#[derive(Clone, Debug)]
pub struct CorrOptions {
    pub symbols: Vec<String>,
    pub timeframe: Timeframe,
    pub model: CorrModel,
    pub horizon: usize,
}

/// One pair's forecast at one step.
#[derive(Clone, Debug, Serialize)]
pub struct PairStep {
    pub pair: String,
    pub step: usize,
    pub correlation: f64,
    /// Annualized covariance of the log returns in percent².
    pub annualized_covariance: f64,
}

/// A fitted correlation model and its forecasts.
#[derive(Clone, Debug, Serialize)]
pub struct CorrForecast {
    pub symbols: Vec<String>,
    pub timeframe: String,
    pub model: String,
    pub as_of: String,
    pub observations: usize,
    pub periods_per_year: f64,
    /// DCC only: the fitted (a, b) and the correlation log-likelihood.
    pub dcc: Option<(f64, f64, f64)>,
    /// Correlation matrices at step 1 and at the horizon.
    pub first: Vec<Vec<f64>>,
    pub last: Vec<Vec<f64>>,
    pub pairs: Vec<PairStep>,
    pub rows_added: usize,
}

/// Aligned percent log returns of `symbols` (the dates all have), the dates of the closes, and
/// when the last date was fully known.
async fn aligned_returns(
    wh: &Warehouse,
    symbols: &[String],
    tf: Timeframe,
) -> Result<(Vec<Vec<f64>>, Vec<Timestamp>, Timestamp)> {
    let a = aligned_closes(wh, symbols, tf).await?;
    if a.symbols.len() != symbols.len() {
        let missing: Vec<&String> = symbols.iter().filter(|s| !a.symbols.contains(s)).collect();
        return Err(Error::Config(format!("no {tf} bars for {missing:?}")));
    }
    let rets = a
        .closes
        .windows(2)
        .map(|w| {
            w[1].iter()
                .zip(&w[0])
                .map(|(b, a)| 100.0 * (b / a).ln())
                .collect()
        })
        .collect();
    let known = a.known.last().copied().unwrap_or(Timestamp::from_nanos(0));
    Ok((rets, a.dates, known))
}

/// Fit and forecast correlations; land one `forecasts` row per pair and step.
pub async fn corr_forecast(wh: &Warehouse, opts: &CorrOptions) -> Result<CorrForecast> {
    let mut names = opts.symbols.clone();
    names.sort();
    names.dedup();
    if names.len() < 2 {
        return Err(Error::Config(
            "a correlation forecast needs at least 2 distinct --symbols".into(),
        ));
    }
    let (r, stamps, known) = aligned_returns(wh, &names, opts.timeframe).await?;
    let ppy = elite_trade::metrics::infer_periods_per_year(&stamps);
    let h = opts.horizon.max(1);
    let (model, dcc, corrs, covs) = match opts.model {
        CorrModel::Ewma(lambda) => {
            let cov = ewma(&r, lambda).filter(|_| r.len() >= 2).ok_or_else(|| {
                Error::Config(format!(
                    "{names:?} {}: {} common returns; EWMA needs at least 2 and 0 <= lambda < 1",
                    opts.timeframe,
                    r.len()
                ))
            })?;
            let c = correlation(&cov);
            (format!("ewma_{lambda}"), None, vec![c; h], vec![cov; h])
        }
        CorrModel::Dcc => {
            let d = fit_dcc(&r).ok_or_else(|| {
                Error::Config(format!(
                    "{names:?} {}: {} common returns; a DCC fit needs at least 100 finite ones",
                    opts.timeframe,
                    r.len()
                ))
            })?;
            (
                "dcc".to_string(),
                Some((d.a, d.b, d.loglik)),
                d.correlations(h),
                d.covariances(h),
            )
        }
    };
    let last = stamps.last().map_or(0, |t| t.as_nanos());
    let timeframe = opts.timeframe.to_string();
    let params = serde_json::json!({"symbols": names, "dcc": dcc, "model": model}).to_string();
    let mut pairs = vec![];
    for (step, (c, v)) in corrs.iter().zip(&covs).enumerate() {
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                pairs.push(PairStep {
                    pair: format!("{}|{}", names[i], names[j]),
                    step: step + 1,
                    correlation: c[i][j],
                    annualized_covariance: v[i][j] * ppy,
                });
            }
        }
    }
    let values = pairs
        .iter()
        .map(|p| Value {
            key: format!(
                "corr|{}|{timeframe}|{model}|{last}|{}|{params}",
                p.pair, p.step
            ),
            symbol: &p.pair,
            step: p.step,
            value: p.correlation,
            annualized: p.annualized_covariance,
        })
        .collect();
    let rows_added = land(
        wh,
        &Batch {
            kind: "correlation",
            timeframe: &timeframe,
            model: &model,
            params: &params,
            last,
            known: known.as_nanos(),
            commit: format!("forecast:corr:{}", names.join(",")),
        },
        values,
    )
    .await?;
    Ok(CorrForecast {
        symbols: names,
        timeframe,
        model,
        as_of: stamps.last().map(|t| t.to_string()).unwrap_or_default(),
        observations: r.len(),
        periods_per_year: ppy,
        dcc,
        first: corrs[0].clone(),
        last: corrs[h - 1].clone(),
        pairs,
        rows_added,
    })
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct DrawdownRequest {
    pub vol: VolOptions,
    pub sim: DrawdownOptions,
}

/// The fitted model and the simulated odds.
#[derive(Clone, Debug, Serialize)]
pub struct DrawdownRun {
    pub symbol: String,
    pub as_of: String,
    pub fit: Garch,
    pub forecast: DrawdownForecast,
    pub rows_added: usize,
}

/// Fit the volatility model and simulate drawdowns over the horizon; land one row per threshold
/// (kind `drawdown`, value = P(max drawdown ≥ threshold), `annualized` = the threshold).
pub async fn drawdown_forecast(wh: &Warehouse, req: &DrawdownRequest) -> Result<DrawdownRun> {
    let (closes, known) = closes(wh, &req.vol).await?;
    let f = fit_returns(&closes, &req.vol)?;
    let sim = simulate(&f, &req.sim).ok_or_else(|| {
        Error::Config("a drawdown forecast needs a horizon and at least one path".into())
    })?;
    let last = closes.last().map_or(0, |c| c.0.as_nanos());
    let timeframe = req.vol.timeframe.to_string();
    let model = model_name(&f)?;
    let params = serde_json::json!({"fit": f, "paths": sim.paths, "seed": sim.seed}).to_string();
    let values = sim
        .probabilities
        .iter()
        .map(|p| Value {
            key: format!(
                "drawdown|{}|{timeframe}|{model}|{last}|{}|{}|{params}",
                req.vol.symbol, sim.horizon, p.threshold
            ),
            symbol: &req.vol.symbol,
            step: sim.horizon,
            value: p.drawdown,
            annualized: p.threshold,
        })
        .collect();
    let rows_added = land(
        wh,
        &Batch {
            kind: "drawdown",
            timeframe: &timeframe,
            model: &model,
            params: &params,
            last,
            known,
            commit: format!("forecast:drawdown:{}", req.vol.symbol),
        },
        values,
    )
    .await?;
    Ok(DrawdownRun {
        symbol: req.vol.symbol.clone(),
        as_of: closes.last().map(|c| c.0.to_string()).unwrap_or_default(),
        fit: f,
        forecast: sim,
        rows_added,
    })
}
