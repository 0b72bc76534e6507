//! `elite forecast vol`: a GARCH or GJR-GARCH volatility forecast of one symbol's bars (see
//! [`elite_trade::forecast`]), fitted to its log returns in percent up to the newest bar.

use elite_store::{CommitMeta, Warehouse};
use elite_trade::forecast::{Dist, Garch, VolModel, fit};
use elite_warehouse::{Symbol, Timeframe, Timestamp, tables};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bars::{BarQuery, read_bars};
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
    model: String,
    step: i32,
    value: f64,
    annualized: f64,
    params: &'a str,
    ts_event: i64,
    ts_recv: i64,
}

/// Fit and forecast.
pub async fn vol_forecast(wh: &Warehouse, opts: &VolOptions) -> Result<VolForecast> {
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
    let r: Vec<f64> = closes
        .windows(2)
        .filter(|w| w[0].1 > 0.0 && w[1].1 > 0.0)
        .map(|w| 100.0 * (w[1].1 / w[0].1).ln())
        .collect();
    let f = fit(&r, opts.model, opts.dist).ok_or_else(|| {
        Error::Config(format!(
            "{} {}: {} returns; a GARCH fit needs at least 100 finite ones",
            opts.symbol,
            opts.timeframe,
            r.len()
        ))
    })?;
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
    let model = format!(
        "{}_{}",
        serde_json::to_value(f.model)?.as_str().unwrap_or_default(),
        serde_json::to_value(f.dist)?.as_str().unwrap_or_default()
    );
    let rows: Vec<ForecastRow<'_>> = path
        .iter()
        .map(|s| ForecastRow {
            forecast_id: hex::encode(
                &Sha256::digest(
                    format!(
                        "vol|{}|{timeframe}|{model}|{last}|{}|{params}",
                        opts.symbol, s.step
                    )
                    .as_bytes(),
                )[..8],
            ),
            symbol: &opts.symbol,
            timeframe: &timeframe,
            kind: "volatility",
            model: model.clone(),
            step: s.step as i32,
            value: s.variance,
            annualized: s.annualized_vol,
            params: &params,
            ts_event: last.div_euclid(1000),
            ts_recv: known.div_euclid(1000),
        })
        .collect();
    let rows_added = crate::run::journal::insert(
        wh,
        &tables::FORECASTS,
        &rows,
        CommitMeta::new(format!("forecast:vol:{}", opts.symbol)),
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
