//! `elite report`: a run's performance and attribution, read back from the run tables
//! (`runs`, `equity_curve`, `trades`) for any backtest, paper or live run, with the numbers of
//! [`elite_trade::analytics`] and the series the HTML report charts.
//!
//! Returns are the equity curve's, per instant, the first from the initial cash (as the tear
//! sheet takes them, so the two agree). A benchmark is a symbol's bars at the run's timeframe,
//! joined as of each instant (the latest bar known by then: no look-ahead). The deflated Sharpe
//! ratio deflates by the runs recorded under the same name (each a trial), with the variance of
//! their per-period Sharpe ratios.

use std::collections::BTreeMap;

use elite_store::datafusion::prelude::{col, lit};
use elite_store::{At, Warehouse};
use elite_trade::analytics::{self, Metrics};
use elite_warehouse::{Symbol, Timeframe, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::bars::{BarQuery, read_bars};
use crate::models::registry::parse_ts;
use crate::{Error, Result};

/// What to report on.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// A run id, or a run name (its newest run).
    pub run: String,
    /// A symbol whose bars (at the run's timeframe) are the benchmark.
    pub benchmark: Option<String>,
    /// Periods in the rolling Sharpe window (a year of daily bars when 0).
    pub rolling: usize,
    /// Monthly factor returns as Ken French's 3-factor CSV; the bundled Fama-French file
    /// (1926-07 … 2018-11) when absent.
    pub factors_csv: Option<String>,
    /// `symbol,sector` CSV: when given, a Brinson-Fachler attribution by sector against the
    /// equal-weight portfolio of those symbols.
    pub sectors_csv: Option<String>,
}

/// The Fama-French 3 factors shipped with Elite (collectors/fixtures/factors, see SOURCES.md).
pub const FF3_MONTHLY: &str = include_str!("../../collectors/fixtures/factors/ff3_monthly.csv");

/// One row of the P&L attribution (closed round trips, net of charges).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    /// The strategy or the symbol.
    pub key: String,
    pub trades: usize,
    pub pnl: f64,
    /// P&L as a share of the initial cash.
    pub contribution: f64,
    pub win_rate: f64,
    pub charges: f64,
}

/// Statistics of the run's closed round trips (P&L net of charges).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TradeStats {
    pub trades: usize,
    pub winners: usize,
    pub losers: usize,
    pub average_win: f64,
    pub average_loss: f64,
    pub largest_win: f64,
    pub largest_loss: f64,
    /// Average P&L per trade.
    pub expectancy: f64,
    /// Average win over |average loss|.
    pub payoff_ratio: f64,
    pub charges: f64,
}

fn trade_stats(trades: &[TradeRow]) -> TradeStats {
    let wins: Vec<f64> = trades.iter().map(|t| t.pnl).filter(|p| *p > 0.0).collect();
    let losses: Vec<f64> = trades.iter().map(|t| t.pnl).filter(|p| *p < 0.0).collect();
    let avg = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let (aw, al) = (avg(&wins), avg(&losses));
    TradeStats {
        trades: trades.len(),
        winners: wins.len(),
        losers: losses.len(),
        average_win: aw,
        average_loss: al,
        largest_win: wins.iter().copied().max_by(f64::total_cmp).unwrap_or(0.0),
        largest_loss: losses.iter().copied().min_by(f64::total_cmp).unwrap_or(0.0),
        expectancy: avg(&trades.iter().map(|t| t.pnl).collect::<Vec<_>>()),
        payoff_ratio: if al < 0.0 { aw / -al } else { f64::NAN },
        charges: trades.iter().map(|t| t.charges).sum(),
    }
}

/// A run's report.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub run_id: String,
    pub name: String,
    pub mode: String,
    pub start: String,
    pub end: String,
    pub initial: f64,
    pub final_equity: f64,
    /// Traded value per year over mean equity, and the charges paid (the run's tear sheet).
    pub turnover: Option<f64>,
    pub costs_paid: Option<f64>,
    pub benchmark: Option<String>,
    /// Every metric, under its name (flattened into the report's JSON).
    #[serde(flatten)]
    pub metrics: Metrics,
    /// (year, month, compounded return).
    pub monthly: Vec<(i32, u32, f64)>,
    /// (year, compounded return).
    pub yearly: Vec<(i32, f64)>,
    pub by_strategy: Vec<Contribution>,
    pub by_symbol: Vec<Contribution>,
    pub trade_stats: TradeStats,
    /// Fama-French factor attribution and market-timing regressions of the monthly returns
    /// (months the factor file covers; no fit when fewer months than coefficients).
    pub factors: analytics::FactorReport,
    /// Brinson-Fachler by sector against equal weight, linked by Carino (with `sectors_csv`).
    pub brinson: Option<analytics::Brinson>,
    /// The holdings' return (Carino-linked) and variance by strategy and by symbol.
    pub risk_by_strategy: Vec<analytics::RiskContribution>,
    pub risk_by_symbol: Vec<analytics::RiskContribution>,
    /// The series the charts draw, one point per instant.
    #[serde(skip)]
    pub series: Series,
}

/// Per-instant series of a run.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Instants (ns).
    pub ts: Vec<i64>,
    pub equity: Vec<f64>,
    pub returns: Vec<f64>,
    pub drawdown: Vec<f64>,
    pub rolling_sharpe: Vec<f64>,
    /// The benchmark's value, scaled to start at the initial cash.
    pub benchmark: Option<Vec<f64>>,
    /// Beta against the benchmark over the rolling window.
    pub rolling_beta: Option<Vec<f64>>,
    /// Gross and net exposure as fractions of equity.
    pub gross: Vec<f64>,
    pub net: Vec<f64>,
    pub rolling_volatility: Vec<f64>,
    /// Net exposure (of equity) by symbol — the largest by mean |exposure|, the rest summed as
    /// `other` — and by sector (with a sectors file), at each instant but the last.
    pub exposure_by_symbol: Vec<(String, Vec<f64>)>,
    pub exposure_by_sector: Vec<(String, Vec<f64>)>,
    pub rolling_window: usize,
}

fn de_f64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        F(f64),
        S(String),
    }
    match N::deserialize(d)? {
        N::F(x) => Ok(x),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
struct RunRow {
    run_id: String,
    name: String,
    mode: String,
    config: String,
    tear_sheet: String,
    ts_recv: String,
}

#[derive(Deserialize)]
struct EquityRow {
    ts_event: String,
    #[serde(deserialize_with = "de_f64")]
    equity: f64,
    #[serde(deserialize_with = "de_f64")]
    gross: f64,
    #[serde(deserialize_with = "de_f64")]
    net: f64,
}

#[derive(Deserialize)]
struct PositionRow {
    seq: i64,
    strategy: String,
    symbol: String,
    qty: i64,
    ts_event: String,
}

#[derive(Deserialize)]
struct TradeRow {
    strategy: String,
    symbol: String,
    #[serde(deserialize_with = "de_f64")]
    pnl: f64,
    #[serde(deserialize_with = "de_f64")]
    charges: f64,
}

/// Rows of `table` matching `filter`, through the Arrow JSON writer (none when the table is
/// empty or absent).
pub(crate) async fn read_rows<T: DeserializeOwned>(
    wh: &Warehouse,
    table: &str,
    filter: elite_store::datafusion::prelude::Expr,
) -> Result<Vec<T>> {
    let batches = match wh.read(table, At::Latest, Some(filter)).await {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    };
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        for b in &batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    if buf.is_empty() {
        return Ok(vec![]);
    }
    Ok(serde_json::from_slice(&buf)?)
}

fn ts_of(s: &str) -> Result<i64> {
    parse_ts(s).ok_or_else(|| Error::Internal(format!("timestamp {s:?} in a run table")))
}

/// The run `arg` names: a run id, else the newest run of that name.
async fn find_run(wh: &Warehouse, arg: &str) -> Result<Option<RunRow>> {
    let by_id: Vec<RunRow> = read_rows(wh, "runs", col("run_id").eq(lit(arg))).await?;
    if let Some(r) = by_id.into_iter().next() {
        return Ok(Some(r));
    }
    let mut by_name: Vec<RunRow> = read_rows(wh, "runs", col("name").eq(lit(arg))).await?;
    by_name.sort_by(|a, b| a.ts_recv.cmp(&b.ts_recv).then(a.run_id.cmp(&b.run_id)));
    Ok(by_name.pop())
}

/// The trials of a run name: how many runs were recorded under it, and the variance of their
/// per-period Sharpe ratios (from their tear sheets).
async fn trials(wh: &Warehouse, name: &str) -> Result<(usize, f64)> {
    let runs: Vec<RunRow> = read_rows(wh, "runs", col("name").eq(lit(name))).await?;
    let sr: Vec<f64> = runs
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.tear_sheet).ok())
        .filter_map(|t| Some(t["sharpe"].as_f64()? / t["periods_per_year"].as_f64()?.sqrt()))
        .filter(|x| x.is_finite())
        .collect();
    let n = runs.len().max(1);
    if sr.len() < 2 {
        return Ok((n, 0.0));
    }
    let m = sr.iter().sum::<f64>() / sr.len() as f64;
    let var = sr.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (sr.len() as f64 - 1.0);
    Ok((n, var))
}

/// The benchmark's closes as of each instant of `ts` (see [`closes_as_of`]).
async fn benchmark_closes(
    wh: &Warehouse,
    symbol: &str,
    timeframe: Timeframe,
    ts: &[i64],
) -> Result<Vec<f64>> {
    let px = closes_as_of(wh, &[symbol.to_string()], timeframe, ts)
        .await?
        .pop()
        .unwrap_or_default();
    if px.iter().all(|p| p.is_nan()) {
        return Err(Error::Config(format!(
            "benchmark {symbol}: no {timeframe} bars in the warehouse up to the run's end"
        )));
    }
    Ok(px)
}

fn attribution(
    trades: &[TradeRow],
    initial: f64,
    key: impl Fn(&TradeRow) -> &str,
) -> Vec<Contribution> {
    let mut by: BTreeMap<String, Vec<&TradeRow>> = BTreeMap::new();
    for t in trades {
        by.entry(key(t).to_string()).or_default().push(t);
    }
    let mut out: Vec<Contribution> = by
        .into_iter()
        .map(|(k, ts)| {
            let pnl: f64 = ts.iter().map(|t| t.pnl).sum();
            let won = ts.iter().filter(|t| t.pnl > 0.0).count();
            let nonzero = ts.iter().filter(|t| t.pnl != 0.0).count();
            Contribution {
                key: k,
                trades: ts.len(),
                pnl,
                contribution: if initial > 0.0 { pnl / initial } else { 0.0 },
                win_rate: if nonzero > 0 {
                    won as f64 / nonzero as f64
                } else {
                    0.0
                },
                charges: ts.iter().map(|t| t.charges).sum(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.pnl.total_cmp(&a.pnl).then(a.key.cmp(&b.key)));
    out
}

/// The report of a run.
pub async fn analyze(wh: &Warehouse, opts: &ReportOptions) -> Result<Analysis> {
    let run = find_run(wh, &opts.run).await?;
    let run_id = run
        .as_ref()
        .map_or_else(|| opts.run.clone(), |r| r.run_id.clone());
    let mut eq: Vec<EquityRow> =
        read_rows(wh, "equity_curve", col("run_id").eq(lit(run_id.as_str()))).await?;
    if eq.is_empty() {
        return Err(Error::Config(format!(
            "no run {:?}: neither a run id nor a run name in `runs`, and no equity curve under that id",
            opts.run
        )));
    }
    let mut points: Vec<(i64, f64, f64, f64)> = eq
        .drain(..)
        .map(|e| Ok((ts_of(&e.ts_event)?, e.equity, e.gross, e.net)))
        .collect::<Result<_>>()?;
    points.sort_by_key(|p| p.0);
    let of_equity = |v: f64, e: f64| if e > 0.0 { v / e } else { f64::NAN };
    let gross: Vec<f64> = points.iter().map(|p| of_equity(p.2, p.1)).collect();
    let net: Vec<f64> = points.iter().map(|p| of_equity(p.3, p.1)).collect();
    let config: serde_json::Value = run
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.config).ok())
        .unwrap_or_default();
    let sheet: serde_json::Value = run
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.tear_sheet).ok())
        .unwrap_or_default();
    // The initial cash: the tear sheet's, else the config's, else the first point (a live run
    // without a `runs` row starts from its first recorded equity).
    let money = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.parse::<f64>().ok(),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    };
    let initial = money(&sheet["initial"])
        .or_else(|| money(&config["initial_cash"]))
        .unwrap_or(points[0].1);
    let ts: Vec<i64> = points.iter().map(|p| p.0).collect();
    let equity: Vec<f64> = points.iter().map(|p| p.1).collect();
    let mut prev = initial;
    let returns: Vec<f64> = equity
        .iter()
        .map(|&e| {
            let r = if prev != 0.0 { e / prev - 1.0 } else { 0.0 };
            prev = e;
            r
        })
        .collect();
    let stamps: Vec<Timestamp> = ts.iter().map(|&t| Timestamp::from_nanos(t)).collect();
    let ppy = config["periods_per_year"]
        .as_f64()
        .unwrap_or_else(|| elite_trade::metrics::infer_periods_per_year(&stamps));

    let bench = match &opts.benchmark {
        None => None,
        Some(sym) => {
            let tf = config["data"]["timeframe"]
                .as_str()
                .map(Timeframe::parse)
                .transpose()?
                .unwrap_or(Timeframe::Days(1));
            let closes = benchmark_closes(wh, sym, tf, &ts).await?;
            // The benchmark's return over each instant: from its close as of the previous
            // instant (the first instant has no previous one: 0).
            let r: Vec<f64> = (0..closes.len())
                .map(|i| {
                    let (a, b) = (if i == 0 { f64::NAN } else { closes[i - 1] }, closes[i]);
                    if a.is_finite() && b.is_finite() && a > 0.0 {
                        b / a - 1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            Some((sym.clone(), r))
        }
    };
    let (n_trials, var_trials) = match &run {
        Some(r) => trials(wh, &r.name).await?,
        None => (1, 0.0),
    };
    let metrics = analytics::metrics(
        &returns,
        bench.as_ref().map(|(_, b)| b.as_slice()),
        ppy,
        n_trials,
        var_trials,
    );
    let date = |i: usize| Timestamp::from_nanos(ts[i]).to_datetime().date_naive();
    use chrono::Datelike;
    let monthly: Vec<(i32, u32, f64)> =
        analytics::compounded_by(&returns, |i| (date(i).year(), date(i).month()))
            .into_iter()
            .map(|((y, m), v)| (y, m, v))
            .collect();
    let yearly = analytics::compounded_by(&returns, |i| date(i).year());
    let factors = analytics::factor_report(
        &monthly,
        &analytics::Factors::from_french_csv(opts.factors_csv.as_deref().unwrap_or(FF3_MONTHLY)),
    );
    let tf = config["data"]["timeframe"]
        .as_str()
        .map(Timeframe::parse)
        .transpose()?
        .unwrap_or(Timeframe::Days(1));
    let brinson = match &opts.sectors_csv {
        None => None,
        Some(csv) => Some(brinson(wh, &run_id, csv, tf, &ts, &equity).await?),
    };
    let (risk_by_strategy, risk_by_symbol, exposure) =
        holding_contributions(wh, &run_id, tf, &ts, &equity).await?;
    let exposure_by_sector = match &opts.sectors_csv {
        None => vec![],
        Some(csv) => {
            let map = parse_sectors(csv)?;
            let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for (sym, v) in &exposure {
                let sector = map
                    .get(sym)
                    .cloned()
                    .unwrap_or_else(|| "unclassified".into());
                let acc = by.entry(sector).or_insert_with(|| vec![0.0; v.len()]);
                for (a, x) in acc.iter_mut().zip(v) {
                    *a += x;
                }
            }
            largest(by, 10)
        }
    };
    let exposure_by_symbol = largest(exposure, 8);
    let trades: Vec<TradeRow> =
        read_rows(wh, "trades", col("run_id").eq(lit(run_id.as_str()))).await?;
    let window = if opts.rolling > 1 {
        opts.rolling
    } else {
        (ppy.round() as usize).clamp(2, returns.len().max(2))
    };
    let rolling_beta = bench
        .as_ref()
        .map(|(_, b)| analytics::rolling_beta(&returns, b, window));
    let benchmark_value = bench.as_ref().map(|(_, b)| {
        let mut v = initial;
        b.iter()
            .map(|x| {
                v *= 1.0 + x;
                v
            })
            .collect()
    });
    Ok(Analysis {
        name: run
            .as_ref()
            .map_or_else(|| run_id.clone(), |r| r.name.clone()),
        mode: run
            .as_ref()
            .map_or_else(|| "live".into(), |r| r.mode.clone()),
        start: Timestamp::from_nanos(ts[0]).to_string(),
        end: Timestamp::from_nanos(ts[ts.len() - 1]).to_string(),
        initial,
        final_equity: equity[equity.len() - 1],
        turnover: money(&sheet["turnover"]),
        costs_paid: money(&sheet["costs_paid"]),
        benchmark: bench.as_ref().map(|(s, _)| s.clone()),
        metrics,
        monthly,
        yearly,
        trade_stats: trade_stats(&trades),
        by_strategy: attribution(&trades, initial, |t| &t.strategy),
        by_symbol: attribution(&trades, initial, |t| &t.symbol),
        factors,
        brinson,
        risk_by_strategy,
        risk_by_symbol,
        series: Series {
            drawdown: analytics::drawdown_series(&returns),
            rolling_sharpe: analytics::rolling_sharpe(&returns, window, ppy),
            rolling_volatility: analytics::rolling_volatility(&returns, window, ppy),
            ts,
            equity,
            returns,
            benchmark: benchmark_value,
            rolling_beta,
            gross,
            net,
            exposure_by_symbol,
            exposure_by_sector,
            rolling_window: window,
        },
        run_id,
    })
}

/// `symbol,sector` rows (a header line is skipped when its first field is `symbol`).
fn parse_sectors(csv: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, line) in csv.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("symbol")) {
            continue;
        }
        let (sym, sec) = line.split_once(',').ok_or_else(|| {
            Error::Config(format!(
                "sectors file line {}: expected `symbol,sector`, got {line:?}",
                i + 1
            ))
        })?;
        out.insert(sym.trim().to_string(), sec.trim().to_string());
    }
    if out.is_empty() {
        return Err(Error::Config(
            "sectors file: no `symbol,sector` rows".into(),
        ));
    }
    Ok(out)
}

/// Each symbol's close as of each instant of `ts` (the latest bar known by then; NaN before
/// its first bar), for `syms` at `timeframe`.
async fn closes_as_of(
    wh: &Warehouse,
    syms: &[String],
    timeframe: Timeframe,
    ts: &[i64],
) -> Result<Vec<Vec<f64>>> {
    let symbols = syms
        .iter()
        .map(Symbol::new)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(timeframe),
            symbols,
            version: None,
        },
    )
    .await?;
    let mut by_sym: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
    for b in &bars {
        by_sym
            .entry(b.symbol.as_ref())
            .or_default()
            .push((b.ts_recv.as_nanos(), b.bar.close));
    }
    let mut px: Vec<Vec<f64>> = vec![vec![f64::NAN; ts.len()]; syms.len()];
    for (k, s) in syms.iter().enumerate() {
        let Some(v) = by_sym.get_mut(s.as_str()) else {
            continue;
        };
        v.sort_by_key(|x| x.0);
        let (mut j, mut last) = (0, f64::NAN);
        for (i, &t) in ts.iter().enumerate() {
            while j < v.len() && v[j].0 <= t {
                last = v[j].1;
                j += 1;
            }
            px[k][i] = last;
        }
    }
    Ok(px)
}

/// A run's book at the end of each instant: per (strategy, symbol), the position after its last
/// fill at or before the instant.
struct Book {
    /// Instants after the first: `held[i - 1]` is the book at the end of instant `i − 1`.
    held: Vec<BTreeMap<(String, String), i64>>,
    symbols: Vec<String>,
}

async fn book(wh: &Warehouse, run_id: &str, ts: &[i64]) -> Result<Book> {
    let mut pos: Vec<PositionRow> =
        read_rows(wh, "positions", col("run_id").eq(lit(run_id))).await?;
    pos.sort_by_key(|p| p.seq);
    let pos: Vec<(i64, PositionRow)> = pos
        .into_iter()
        .map(|p| Ok((ts_of(&p.ts_event)?, p)))
        .collect::<Result<_>>()?;
    let mut symbols: Vec<String> = pos.iter().map(|(_, p)| p.symbol.clone()).collect();
    symbols.sort();
    symbols.dedup();
    let mut cur: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut held = Vec::with_capacity(ts.len().saturating_sub(1));
    let mut next = 0;
    for i in 1..ts.len() {
        while next < pos.len() && pos[next].0 <= ts[i - 1] {
            let p = &pos[next].1;
            cur.insert((p.strategy.clone(), p.symbol.clone()), p.qty);
            next += 1;
        }
        held.push(cur.clone());
    }
    Ok(Book { held, symbols })
}

/// Return and risk contributions of the run's holdings by strategy and by symbol: in each
/// instant a position contributes `qty · (p_t − p_{t−1}) / equity_{t−1}`.
async fn holding_contributions(
    wh: &Warehouse,
    run_id: &str,
    timeframe: Timeframe,
    ts: &[i64],
    equity: &[f64],
) -> Result<(
    Vec<analytics::RiskContribution>,
    Vec<analytics::RiskContribution>,
    BTreeMap<String, Vec<f64>>,
)> {
    let b = book(wh, run_id, ts).await?;
    if b.symbols.is_empty() || ts.len() < 3 {
        return Ok((vec![], vec![], BTreeMap::new()));
    }
    let px = closes_as_of(wh, &b.symbols, timeframe, ts).await?;
    let index: BTreeMap<&str, usize> = b
        .symbols
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k))
        .collect();
    let mut by_strategy: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_symbol: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut exposure: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let periods = ts.len() - 1;
    for (t, held) in b.held.iter().enumerate() {
        let i = t + 1;
        let e0 = equity[i - 1];
        for ((strategy, symbol), q) in held {
            let k = index[symbol.as_str()];
            let (p0, p1) = (px[k][i - 1], px[k][i]);
            let c = if e0 > 0.0 && p0.is_finite() && p1.is_finite() {
                *q as f64 * (p1 - p0) / e0
            } else {
                0.0
            };
            by_strategy
                .entry(strategy.clone())
                .or_insert_with(|| vec![0.0; periods])[t] += c;
            by_symbol
                .entry(symbol.clone())
                .or_insert_with(|| vec![0.0; periods])[t] += c;
            // The position's value at the start of the period, of the equity then.
            if e0 > 0.0 && p0.is_finite() {
                exposure
                    .entry(symbol.clone())
                    .or_insert_with(|| vec![0.0; periods])[t] += *q as f64 * p0 / e0;
            }
        }
    }
    let sort = |mut v: Vec<analytics::RiskContribution>| {
        v.sort_by(|a, b| {
            b.risk_share
                .total_cmp(&a.risk_share)
                .then(a.key.cmp(&b.key))
        });
        v
    };
    Ok((
        sort(analytics::contributions(
            &by_strategy.into_iter().collect::<Vec<_>>(),
        )),
        sort(analytics::contributions(
            &by_symbol.into_iter().collect::<Vec<_>>(),
        )),
        exposure,
    ))
}

/// The `top` series with the largest mean |value|, in that order, and the rest summed as `other`.
fn largest(all: BTreeMap<String, Vec<f64>>, top: usize) -> Vec<(String, Vec<f64>)> {
    let mean_abs = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>() / v.len().max(1) as f64;
    let mut v: Vec<(String, Vec<f64>)> = all.into_iter().collect();
    v.sort_by(|a, b| {
        mean_abs(&b.1)
            .total_cmp(&mean_abs(&a.1))
            .then(a.0.cmp(&b.0))
    });
    if v.len() > top {
        let rest = v.split_off(top - 1);
        let n = rest[0].1.len();
        let other = (0..n)
            .map(|t| rest.iter().map(|(_, s)| s[t]).sum())
            .collect();
        v.push(("other".into(), other));
    }
    v
}

/// Brinson-Fachler of run `run_id` by the sectors in `csv`: each instant's holdings (every
/// strategy's position after its last fill before the instant) at the previous instant's
/// closes, as weights of the previous equity, against equal weights over the sectors' symbols
/// with a price at both instants.
async fn brinson(
    wh: &Warehouse,
    run_id: &str,
    csv: &str,
    timeframe: Timeframe,
    ts: &[i64],
    equity: &[f64],
) -> Result<analytics::Brinson> {
    let map = parse_sectors(csv)?;
    let names: Vec<String> = {
        let mut v: Vec<String> = map.values().cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    let syms: Vec<String> = map.keys().cloned().collect();
    let px = closes_as_of(wh, &syms, timeframe, ts).await?;
    let b = book(wh, run_id, ts).await?;
    let index: BTreeMap<&str, usize> = syms
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k))
        .collect();
    let sector_of: Vec<usize> = syms
        .iter()
        .map(|s| names.iter().position(|n| *n == map[s]).unwrap_or(0))
        .collect();
    let mut periods = vec![];
    for (t, held) in b.held.iter().enumerate() {
        let i = t + 1;
        let mut qty = vec![0i64; syms.len()];
        for ((_, sym), q) in held {
            if let Some(&k) = index.get(sym.as_str()) {
                qty[k] += q;
            }
        }
        let live: Vec<usize> = (0..syms.len())
            .filter(|&k| px[k][i - 1] > 0.0 && px[k][i].is_finite())
            .collect();
        let e0 = equity[i - 1];
        if live.is_empty() || !(e0.is_finite() && e0 > 0.0) {
            continue;
        }
        let wb = 1.0 / live.len() as f64;
        periods.push(
            live.iter()
                .map(|&k| analytics::Holding {
                    sector: sector_of[k],
                    wp: qty[k] as f64 * px[k][i - 1] / e0,
                    wb,
                    r: px[k][i] / px[k][i - 1] - 1.0,
                })
                .collect(),
        );
    }
    Ok(analytics::brinson_fachler(&periods, &names))
}
