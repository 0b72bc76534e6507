//! `elite backtest`: the trade engine fed by history from the warehouse.
//!
//! A run reads `bars` at one table version, feeds them to [`elite_trade::engine::Engine`] in
//! `ts_recv` order (the order a live stream delivers them), and writes what the engine journaled
//! to `runs`, `equity_curve`, `fills`, `orders`, `trades` and `risk_events`. The run id is a hash
//! of the config, the bars version and the code version, so the same run twice lands nothing new
//! and produces the same bytes (tested); a different config or new data is a new run.

use std::collections::BTreeMap;

use elite_store::{CommitMeta, Warehouse};
use elite_trade::costs::CostModel;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::metrics::{TearSheet, round_trips, tear_sheet};
use elite_trade::money::Money;
use elite_trade::risk::RiskLimits;
use elite_trade::sim::{Bar, FillConfig};
use elite_trade::strategies::{Inputs, Predictions, StrategySpec};
use elite_warehouse::{Clock, Symbol, TableSpec, Timeframe, tables};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bars::{BarQuery, read_bars};
use crate::{Error, Result};

/// A backtest as its TOML file describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    pub name: String,
    pub data: DataConfig,
    pub initial_cash: Money,
    #[serde(default)]
    pub fills: FillConfig,
    #[serde(default)]
    pub costs: CostModel,
    #[serde(default)]
    pub risk: RiskLimits,
    /// For annualizing the tear sheet; inferred from bar spacing when absent.
    #[serde(default)]
    pub periods_per_year: Option<f64>,
    #[serde(rename = "strategy")]
    pub strategies: Vec<StrategyEntry>,
    /// Move capital between strategies by recent Sharpe (see `elite_trade::engine::AllocatorConfig`).
    #[serde(default)]
    pub allocator: Option<elite_trade::engine::AllocatorConfig>,
    /// How market orders are worked: direct (default), twap, vwap or pov.
    #[serde(default)]
    pub execution: elite_trade::engine::Execution,
    /// Exit rules for every strategy's positions: stop-loss, trailing stop, break-even stop,
    /// partial take-profits.
    #[serde(default)]
    pub rules: Option<elite_trade::engine::ExitRules>,
    /// The live broker (`elite run trader --live`); ignored by backtests and paper runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<crate::live::BrokerConfig>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub timeframe: String,
    /// Symbols to trade; all in `bars` for the timeframe when empty.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// `bars` table version; the latest when absent (the run records which one it read).
    #[serde(default)]
    pub version: Option<u64>,
    /// First and last bar dates (`YYYY-MM-DD`, by `ts_event`, inclusive).
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StrategyEntry {
    pub name: String,
    /// Share of equity this strategy manages.
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(flatten)]
    pub spec: StrategySpec,
}

fn one() -> f64 {
    1.0
}

impl BacktestConfig {
    /// Parse and check a TOML config (errors name the field).
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: BacktestConfig =
            toml::from_str(text).map_err(|e| Error::Config(format!("backtest config: {e}")))?;
        if c.strategies.is_empty() {
            return Err(Error::Config("backtest config: no [[strategy]]".into()));
        }
        if c.initial_cash.0 <= 0 {
            return Err(Error::Config(
                "backtest config: initial_cash must be positive".into(),
            ));
        }
        let p = c.fills.max_participation;
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::Config(format!(
                "backtest config: fills.max_participation {p} must be in (0, 1]"
            )));
        }
        Ok(c)
    }
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct BacktestReport {
    pub run_id: String,
    pub name: String,
    pub bars_version: Option<u64>,
    pub symbols: usize,
    pub bars: usize,
    pub orders: usize,
    pub fills: usize,
    pub refusals: usize,
    pub tear_sheet: TearSheet,
    /// Each strategy's own book.
    pub strategies: Vec<StrategySummary>,
    /// Rows landed in the run tables (0 when this run was already recorded).
    pub rows_added: usize,
}

/// One strategy's result, from its own book.
#[derive(Clone, Debug, Serialize)]
pub struct StrategySummary {
    pub strategy: String,
    pub final_weight: f64,
    pub total_return: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub trades: usize,
    pub win_rate: f64,
    pub costs_paid: Money,
}

fn day(s: &str, what: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| Error::Config(format!("backtest config: data.{what} {s:?}: {e}")))
}

/// The bars a run reads, in `ts_recv` order, with the symbol names their indices refer to.
pub struct Prepared {
    pub bars: Vec<Bar>,
    pub symbols: Vec<String>,
    pub version: Option<u64>,
    /// Model predictions the config's `ml` strategies trade.
    pub inputs: Inputs,
    /// What was loaded into `inputs` (model ids, rows, last bar), for the run id.
    pub inputs_id: String,
}

/// Read the config's bars at `version` (the config's, else the latest).
pub async fn load_bars(
    wh: &Warehouse,
    cfg: &BacktestConfig,
    version: Option<u64>,
) -> Result<Prepared> {
    let tf = Timeframe::parse(&cfg.data.timeframe)?;
    let symbols = cfg
        .data
        .symbols
        .iter()
        .map(Symbol::new)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let q = BarQuery {
        timeframe: Some(tf),
        symbols,
        version: version.or(cfg.data.version),
    };
    let (events, version) = read_bars(wh, &q).await?;
    let start = cfg
        .data
        .start
        .as_deref()
        .map(|s| day(s, "start"))
        .transpose()?;
    let end = cfg.data.end.as_deref().map(|s| day(s, "end")).transpose()?;
    let mut names: BTreeMap<String, u32> = BTreeMap::new();
    for e in &events {
        names.entry(e.symbol.to_string()).or_insert(0);
    }
    for (i, v) in names.values_mut().enumerate() {
        *v = i as u32;
    }
    let bars: Vec<Bar> = events
        .iter()
        .filter(|e| {
            let d = e.ts_event.to_datetime().date_naive();
            start.is_none_or(|s| d >= s) && end.is_none_or(|x| d <= x)
        })
        .map(|e| Bar {
            sym: names[&*e.symbol],
            ts_event: e.ts_event,
            ts_recv: e.ts_recv,
            open: e.bar.open,
            high: e.bar.high,
            low: e.bar.low,
            close: e.bar.close,
            volume: e.bar.volume,
        })
        .collect();
    if bars.is_empty() {
        return Err(Error::Config(format!(
            "no {} bars for {:?} in the warehouse (version {:?}) between {:?} and {:?}",
            cfg.data.timeframe, cfg.data.symbols, version, cfg.data.start, cfg.data.end
        )));
    }
    let symbols: Vec<String> = names.into_keys().collect();
    let (inputs, inputs_id) = load_inputs(wh, cfg, &symbols).await?;
    Ok(Prepared {
        bars,
        symbols,
        version,
        inputs,
        inputs_id,
    })
}

/// The predictions every `ml` strategy names: the one model id that is `model` itself or
/// `model-<12 hex>` (one run's) with rows from `source`, read whole; bars' symbols only.
pub async fn load_inputs(
    wh: &Warehouse,
    cfg: &BacktestConfig,
    symbols: &[String],
) -> Result<(Inputs, String)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let mut inputs = Inputs::default();
    let mut ids = vec![];
    for s in &cfg.strategies {
        let StrategySpec::Ml { model, source, .. } = &s.spec else {
            continue;
        };
        if inputs.predictions.contains_key(model) {
            continue;
        }
        let batches = match wh
            .read(
                "predictions",
                elite_store::At::Latest,
                Some(col("source").eq(lit(source.as_str()))),
            )
            .await
        {
            Ok(b) => b,
            Err(elite_store::Error::EmptyTable { .. }) => vec![],
            Err(e) => return Err(e.into()),
        };
        let matches = |id: &str| {
            id == model
                || id
                    .strip_prefix(model.as_str())
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        let mut found: BTreeMap<String, Vec<(String, i64, i64, f64)>> = BTreeMap::new();
        for b in &batches {
            let col_as = |n: &str, t: &DataType| {
                b.column_by_name(n)
                    .and_then(|c| arrow::compute::cast(c, t).ok())
            };
            let (Some(id), Some(sym), Some(te), Some(tr), Some(sc)) = (
                col_as("model_id", &DataType::Utf8),
                col_as("symbol", &DataType::Utf8),
                col_as("ts_event", &DataType::Int64),
                col_as("ts_recv", &DataType::Int64),
                col_as("score", &DataType::Float64),
            ) else {
                continue;
            };
            let (id, sym, te, tr, sc) = (
                id.as_string::<i32>(),
                sym.as_string::<i32>(),
                te.as_primitive::<Int64Type>(),
                tr.as_primitive::<Int64Type>(),
                sc.as_primitive::<Float64Type>(),
            );
            for r in 0..b.num_rows() {
                if matches(id.value(r)) {
                    found.entry(id.value(r).to_string()).or_default().push((
                        sym.value(r).to_string(),
                        te.value(r),
                        tr.value(r),
                        sc.value(r),
                    ));
                }
            }
        }
        let (id, rows) = match found.len() {
            1 => found.into_iter().next().unwrap_or_default(),
            0 => {
                return Err(Error::Config(format!(
                    "strategy {}: no {source} predictions of model {model:?} in the warehouse (run `elite train` first)",
                    s.name
                )));
            }
            _ => {
                return Err(Error::Config(format!(
                    "strategy {}: several runs' {source} predictions match {model:?}: {}; name one exactly",
                    s.name,
                    found.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        };
        // Timestamps in the table are µs; bars carry ns.
        let mut map = Predictions::new();
        let mut last = i64::MIN;
        for (sym, te, tr, score) in &rows {
            if let Some(k) = symbols.iter().position(|x| x == sym) {
                map.insert((k as u32, te * 1000), (*score, tr * 1000));
                last = last.max(*te);
            }
        }
        ids.push(format!("{model}={id}:{source}:{}@{last}", map.len()));
        inputs
            .predictions
            .insert(model.clone(), std::sync::Arc::new(map));
    }
    let events: Vec<&StrategySpec> = cfg
        .strategies
        .iter()
        .map(|s| &s.spec)
        .filter(|s| matches!(s, StrategySpec::Event { .. }))
        .collect();
    if !events.is_empty() {
        let (ev, n, last) = load_signal_events(wh, &cfg.data.timeframe, symbols).await?;
        ids.push(format!("signals:{n}@{last}"));
        inputs.events = std::sync::Arc::new(ev);
    }
    for spec in events {
        let StrategySpec::Event {
            calendar: Some(c), ..
        } = spec
        else {
            continue;
        };
        if inputs.holidays.contains_key(c) {
            continue;
        }
        let days = load_holidays(wh, c).await?;
        if days.is_empty() {
            return Err(Error::Config(format!(
                "calendar {c:?} has no holidays in the warehouse (elite ingest calendar FILE --calendar {c})"
            )));
        }
        ids.push(format!("calendar:{c}:{}", days.len()));
        inputs.holidays.insert(c.clone(), std::sync::Arc::new(days));
    }
    Ok((inputs, ids.join(",")))
}

/// Rule signals of `timeframe` for `symbols` from the `signals` table: the events, their count
/// and the last ts_event (µs).
async fn load_signal_events(
    wh: &Warehouse,
    timeframe: &str,
    symbols: &[String],
) -> Result<(elite_trade::strategies::Events, usize, i64)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "signals",
            elite_store::At::Latest,
            Some(col("timeframe").eq(lit(timeframe))),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => vec![],
        Err(e) => return Err(e.into()),
    };
    let mut out = elite_trade::strategies::Events::new();
    let (mut n, mut last) = (0usize, i64::MIN);
    for b in &batches {
        let get = |c: &str, t: &DataType| {
            b.column_by_name(c)
                .and_then(|a| arrow::compute::cast(a, t).ok())
        };
        let (Some(sym), Some(te), Some(tr), Some(rule), Some(dir), Some(st)) = (
            get("symbol", &DataType::Utf8),
            get("ts_event", &DataType::Int64),
            get("ts_recv", &DataType::Int64),
            get("rule", &DataType::Utf8),
            get("direction", &DataType::Int64),
            get("strength", &DataType::Float64),
        ) else {
            continue;
        };
        let (sym, te, tr, rule, dir, st) = (
            sym.as_string::<i32>(),
            te.as_primitive::<Int64Type>(),
            tr.as_primitive::<Int64Type>(),
            rule.as_string::<i32>(),
            dir.as_primitive::<Int64Type>(),
            st.as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            let Some(k) = symbols.iter().position(|x| x == sym.value(r)) else {
                continue;
            };
            out.entry((k as u32, te.value(r) * 1000)).or_default().push(
                elite_trade::strategies::Event {
                    rule: rule.value(r).to_string(),
                    direction: dir.value(r).clamp(-1, 1) as i8,
                    strength: st.value(r),
                    known: tr.value(r) * 1000,
                },
            );
            n += 1;
            last = last.max(te.value(r));
        }
    }
    if n == 0 {
        return Err(Error::Config(format!(
            "no {timeframe} rule signals for {symbols:?} in the warehouse: run `elite run signals` first"
        )));
    }
    // One order per key whatever the file layout.
    for v in out.values_mut() {
        v.sort_by(|a, b| a.rule.cmp(&b.rule));
    }
    Ok((out, n, last))
}

/// Holiday dates of `calendar` from the `calendar` table.
async fn load_holidays(
    wh: &Warehouse,
    calendar: &str,
) -> Result<std::collections::BTreeSet<chrono::NaiveDate>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Int32Type};
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "calendar",
            elite_store::At::Latest,
            Some(
                col("calendar")
                    .eq(lit(calendar))
                    .and(col("rule").eq(lit("holiday"))),
            ),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => vec![],
        Err(e) => return Err(e.into()),
    };
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut out = std::collections::BTreeSet::new();
    for b in &batches {
        let Some(d) = b
            .column_by_name("date")
            .and_then(|a| arrow::compute::cast(a, &DataType::Int32).ok())
        else {
            continue;
        };
        for v in d.as_primitive::<Int32Type>().values() {
            if let Some(day) = epoch.checked_add_signed(chrono::Duration::days(i64::from(*v))) {
                out.insert(day);
            }
        }
    }
    Ok(out)
}

/// The engine a config describes, over `symbols`, with the predictions its `ml` strategies read.
pub fn build_engine(cfg: &BacktestConfig, symbols: &[String], inputs: &Inputs) -> Result<Engine> {
    let mut engine = Engine::new(
        EngineConfig {
            initial_cash: cfg.initial_cash,
            fills: cfg.fills.clone(),
            costs: cfg.costs.clone(),
            risk: cfg.risk.clone(),
            allocator: cfg.allocator.clone(),
            execution: cfg.execution.clone(),
            periods_per_year: cfg.periods_per_year,
            rules: cfg.rules.clone(),
        },
        symbols.len(),
    );
    let mut seen = std::collections::HashSet::new();
    for s in &cfg.strategies {
        if !seen.insert(s.name.as_str()) {
            return Err(Error::Config(format!(
                "backtest config: two strategies are named {:?}",
                s.name
            )));
        }
        let built = s
            .spec
            .build_with(&s.name, symbols, inputs)
            .map_err(|e| Error::Config(e.to_string()))?;
        engine.add(built, s.weight);
    }
    Ok(engine)
}

/// A run's id: a hash of the mode, the config, the bars version, the predictions it read (when
/// any) and the code version.
pub fn run_id(
    cfg: &BacktestConfig,
    version: Option<u64>,
    inputs_id: &str,
    mode: &str,
) -> Result<String> {
    let config_json = serde_json::to_string(cfg).map_err(|e| Error::Internal(e.to_string()))?;
    let mut h = Sha256::new();
    if mode != "backtest" {
        h.update(format!("{mode}|").as_bytes());
    }
    h.update(config_json.as_bytes());
    if !inputs_id.is_empty() {
        h.update(format!("|predictions:{inputs_id}").as_bytes());
    }
    h.update(format!("|bars@{version:?}|{}", code_version()).as_bytes());
    Ok(hex::encode(&h.finalize()[..8]))
}

/// Run a backtest and record it.
pub async fn run_backtest(
    wh: &Warehouse,
    cfg: &BacktestConfig,
    clock: &dyn Clock,
) -> Result<BacktestReport> {
    let Prepared {
        bars,
        symbols: symbol_names,
        version,
        inputs,
        inputs_id,
    } = load_bars(wh, cfg, None).await?;
    let mut engine = build_engine(cfg, &symbol_names, &inputs)?;
    for b in &bars {
        engine
            .on_bar(b)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    engine.finish();
    engine
        .ledger
        .reconcile(Some(&engine.journal.fills))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let run_id = run_id(cfg, version, &inputs_id, "backtest")?;
    let mut written = Written::default();
    let mut rows_added = write_journal(wh, &run_id, &engine, &symbol_names, &mut written).await?;
    let report = finish_run(
        wh,
        cfg,
        &run_id,
        "backtest",
        version,
        &engine,
        &symbol_names,
        bars.len(),
        clock,
    )
    .await?;
    rows_added += report.rows_added;
    Ok(BacktestReport {
        rows_added,
        ..report
    })
}

/// The tear sheet, per-strategy summaries, round trips (`trades`) and the `runs` row of a
/// finished run.
#[allow(clippy::too_many_arguments)]
pub async fn finish_run(
    wh: &Warehouse,
    cfg: &BacktestConfig,
    run_id: &str,
    mode: &str,
    version: Option<u64>,
    engine: &Engine,
    names: &[String],
    bars: usize,
    clock: &dyn Clock,
) -> Result<BacktestReport> {
    let j = &engine.journal;
    let sheet = tear_sheet(&j.equity, &j.fills, cfg.initial_cash, cfg.periods_per_year);
    let trips = round_trips(&j.fills);
    let total: f64 = engine.subs.iter().map(|s| s.equity_now()).sum();
    let strategies = engine
        .strategy_names()
        .iter()
        .zip(&engine.subs)
        .map(|(name, sub)| {
            let fills: Vec<_> = j.fills.iter().filter(|f| &f.tag == name).cloned().collect();
            let points: Vec<elite_trade::engine::EquityPoint> = j
                .equity
                .iter()
                .zip(&sub.index)
                .map(|(p, e)| elite_trade::engine::EquityPoint { equity: *e, ..*p })
                .collect();
            let t = tear_sheet(&points, &fills, sub.start, cfg.periods_per_year);
            StrategySummary {
                strategy: name.clone(),
                final_weight: if total > 0.0 {
                    sub.equity_now() / total
                } else {
                    0.0
                },
                total_return: t.total_return,
                sharpe: t.sharpe,
                max_drawdown: t.max_drawdown,
                trades: t.trades,
                win_rate: t.win_rate,
                costs_paid: t.costs_paid,
            }
        })
        .collect();
    let sym = |i: u32| names.get(i as usize).cloned().unwrap_or_default();
    let meta = || CommitMeta::new(mode.to_string()).with("run_id", run_id.to_string());
    let mut added = 0;

    #[derive(Serialize)]
    struct T {
        run_id: String,
        seq: i64,
        strategy: String,
        symbol: String,
        direction: i8,
        max_qty: i64,
        pnl: Money,
        charges: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<T> = trips
        .iter()
        .enumerate()
        .map(|(i, t)| T {
            run_id: run_id.into(),
            seq: i as i64,
            strategy: t.strategy.clone(),
            symbol: sym(t.sym),
            direction: t.direction,
            max_qty: t.max_qty,
            pnl: t.pnl,
            charges: t.charges,
            ts_event: t.open_ts.as_micros(),
            ts_recv: t.close_ts.as_micros(),
        })
        .collect();
    added += insert(wh, &tables::TRADES, &rows, meta()).await?;

    #[derive(Serialize)]
    struct Run<'a> {
        run_id: &'a str,
        name: &'a str,
        mode: &'a str,
        config: &'a str,
        bars_version: Option<u64>,
        code_version: String,
        tear_sheet: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let config_json = serde_json::to_string(cfg).map_err(|e| Error::Internal(e.to_string()))?;
    let row = Run {
        run_id,
        name: &cfg.name,
        mode,
        config: &config_json,
        bars_version: version,
        code_version: code_version(),
        tear_sheet: serde_json::to_string(&sheet).map_err(|e| Error::Internal(e.to_string()))?,
        ts_event: j.equity.last().map_or(0, |p| p.ts.as_micros()),
        ts_recv: clock.now().as_micros(),
    };
    added += insert(wh, &tables::RUNS, &[row], meta()).await?;
    let report = BacktestReport {
        run_id: run_id.to_string(),
        name: cfg.name.clone(),
        bars_version: version,
        symbols: names.len(),
        bars,
        orders: j.submitted.len(),
        fills: j.fills.len(),
        refusals: j
            .risk
            .iter()
            .filter(|r| r.decision != elite_trade::risk::Decision::Approved)
            .count(),
        tear_sheet: sheet,
        strategies,
        rows_added: added,
    };
    Ok(report)
}

/// `elite <version>` plus the commit when the build knew it.
pub fn code_version() -> String {
    match option_env!("ELITE_GIT_SHA") {
        Some(sha) => format!("elite {} ({sha})", env!("CARGO_PKG_VERSION")),
        None => format!("elite {}", env!("CARGO_PKG_VERSION")),
    }
}

fn to_batch<T: Serialize>(spec: &TableSpec, rows: &[T]) -> Result<arrow::array::RecordBatch> {
    let schema = spec.arrow_schema();
    let mut d = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| Error::Internal(format!("{}: {e}", spec.name)))?;
    d.serialize(rows)
        .map_err(|e| Error::Internal(format!("{}: {e}", spec.name)))?;
    Ok(d.flush()
        .map_err(|e| Error::Internal(format!("{}: {e}", spec.name)))?
        .unwrap_or_else(|| arrow::array::RecordBatch::new_empty(schema)))
}

/// How much of an engine's journal has been written to the warehouse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub equity: usize,
    pub fills: usize,
    pub orders: usize,
    pub risk: usize,
    /// Allocator moves written to `audit_log` (every risk event, order log entry and fill
    /// is one audit row too, so the audit log's length is the sum).
    #[serde(default)]
    pub allocations: usize,
    #[serde(default)]
    pub positions: usize,
}

impl Written {
    /// What has been written of `j` once everything is.
    pub fn all_of(j: &elite_trade::engine::Journal) -> Self {
        Written {
            equity: j.equity.len(),
            fills: j.fills.len(),
            orders: j.order_log.len(),
            risk: j.risk.len(),
            allocations: j.allocations.len(),
            positions: j.positions.len(),
        }
    }

    fn audit_rows(&self) -> usize {
        self.fills + self.orders + self.risk + self.allocations
    }
}

/// Write the journal entries after `w` (equity points, fills, order log, risk events) and
/// advance `w`. Rows are keyed by (run_id, index), so writing the same entries again adds
/// nothing.
pub async fn write_journal(
    wh: &Warehouse,
    run_id: &str,
    engine: &Engine,
    names: &[String],
    w: &mut Written,
) -> Result<usize> {
    let j = &engine.journal;
    let sym = |i: u32| names.get(i as usize).cloned().unwrap_or_default();
    let us = |t: elite_warehouse::Timestamp| t.as_micros();
    let mut added = 0;
    let meta = || CommitMeta::new("trade-runner").with("run_id", run_id.to_string());

    #[derive(Serialize)]
    struct Eq {
        run_id: String,
        ts_event: i64,
        ts_recv: i64,
        cash: Money,
        equity: f64,
        gross: f64,
        net: f64,
        fees: Money,
    }
    let rows: Vec<Eq> = j.equity[w.equity..]
        .iter()
        .map(|p| Eq {
            run_id: run_id.into(),
            ts_event: us(p.ts),
            ts_recv: us(p.ts),
            cash: p.cash,
            equity: p.equity,
            gross: p.gross,
            net: p.net,
            fees: p.fees,
        })
        .collect();
    added += insert(wh, &tables::EQUITY_CURVE, &rows, meta()).await?;

    #[derive(Serialize)]
    struct F {
        run_id: String,
        seq: i64,
        order_id: String,
        strategy: String,
        symbol: String,
        side: &'static str,
        qty: i64,
        price: Money,
        value: Money,
        brokerage: Money,
        stt: Money,
        exchange: Money,
        sebi: Money,
        stamp: Money,
        gst: Money,
        other: Money,
        charges: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<F> = j.fills[w.fills..]
        .iter()
        .enumerate()
        .map(|(i, f)| F {
            run_id: run_id.into(),
            seq: (w.fills + i) as i64,
            order_id: f.order_id.clone(),
            strategy: f.tag.clone(),
            symbol: sym(f.sym),
            side: f.side.as_str(),
            qty: f.qty,
            price: f.price,
            value: f.price.times(f.qty),
            brokerage: f.charges.brokerage,
            stt: f.charges.stt,
            exchange: f.charges.exchange,
            sebi: f.charges.sebi,
            stamp: f.charges.stamp,
            gst: f.charges.gst,
            other: f.charges.other,
            charges: f.charges.total(),
            ts_event: us(f.ts),
            ts_recv: us(f.ts_recv),
        })
        .collect();
    added += insert(wh, &tables::FILLS, &rows, meta()).await?;

    #[derive(Serialize)]
    struct O {
        run_id: String,
        seq: i64,
        order_id: String,
        symbol: String,
        status: String,
        filled: i64,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<O> = j.order_log[w.orders..]
        .iter()
        .enumerate()
        .map(|(i, e)| O {
            run_id: run_id.into(),
            seq: (w.orders + i) as i64,
            order_id: e.order_id.clone(),
            symbol: sym(e.sym),
            status: e.status.clone(),
            filled: e.filled,
            detail: e.detail.clone(),
            ts_event: us(e.ts),
            ts_recv: us(e.ts),
        })
        .collect();
    added += insert(wh, &tables::ORDERS, &rows, meta()).await?;

    #[derive(Serialize)]
    struct R {
        run_id: String,
        seq: i64,
        order_id: String,
        symbol: Option<String>,
        decision: elite_trade::risk::Decision,
        check: String,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<R> = j.risk[w.risk..]
        .iter()
        .enumerate()
        .map(|(i, r)| R {
            run_id: run_id.into(),
            seq: (w.risk + i) as i64,
            order_id: r.order_id.clone(),
            symbol: r.sym.map(sym),
            decision: r.decision,
            check: r.check.clone(),
            detail: r.detail.clone(),
            ts_event: us(r.ts),
            ts_recv: us(r.ts),
        })
        .collect();
    added += insert(wh, &tables::RISK_EVENTS, &rows, meta()).await?;

    // The audit log: the new entries of every stream, merged in event order. Within one instant
    // risk decisions come first, then order events, fills and allocator moves, each stream in
    // its own order; commits fall between bars, so any batching gives the same sequence.
    #[derive(Serialize)]
    struct A {
        run_id: String,
        seq: i64,
        kind: String,
        order_id: Option<String>,
        strategy: Option<String>,
        symbol: Option<String>,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let mut audit: Vec<(i64, u8, usize, A)> = vec![];
    // Engine order ids are `<strategy>-<ns>-<n>` (execution children add `-c<k>`).
    let strategy_of = |id: &str| -> Option<String> {
        let base = id.split_once("-c").map_or(id, |(b, k)| {
            if k.bytes().all(|c| c.is_ascii_digit()) {
                b
            } else {
                id
            }
        });
        let mut parts = base.rsplitn(3, '-');
        let (n, ns, name) = (parts.next()?, parts.next()?, parts.next()?);
        (n.bytes().all(|c| c.is_ascii_digit()) && ns.bytes().all(|c| c.is_ascii_digit()))
            .then(|| name.to_string())
    };
    let row = |kind: String,
               order_id: Option<String>,
               strategy: Option<String>,
               symbol: Option<String>,
               detail: String,
               ts: i64| A {
        run_id: run_id.into(),
        seq: 0,
        kind,
        order_id,
        strategy,
        symbol,
        detail,
        ts_event: ts,
        ts_recv: ts,
    };
    for (i, r) in j.risk[w.risk..].iter().enumerate() {
        let kind = format!(
            "risk_{}",
            serde_json::to_value(r.decision)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        );
        let detail = if r.detail.is_empty() {
            r.check.clone()
        } else {
            format!("{}: {}", r.check, r.detail)
        };
        audit.push((
            us(r.ts),
            0,
            i,
            row(
                kind,
                Some(r.order_id.clone()).filter(|s| !s.is_empty()),
                strategy_of(&r.order_id),
                r.sym.map(sym),
                detail,
                us(r.ts),
            ),
        ));
    }
    for (i, e) in j.order_log[w.orders..].iter().enumerate() {
        audit.push((
            us(e.ts),
            1,
            i,
            row(
                format!("order_{}", e.status),
                Some(e.order_id.clone()),
                strategy_of(&e.order_id),
                Some(sym(e.sym)),
                format!("filled {}; {}", e.filled, e.detail),
                us(e.ts),
            ),
        ));
    }
    for (i, f) in j.fills[w.fills..].iter().enumerate() {
        audit.push((
            us(f.ts),
            2,
            i,
            row(
                "fill".into(),
                Some(f.order_id.clone()),
                Some(f.tag.clone()),
                Some(sym(f.sym)),
                format!(
                    "{} {} @ {}, charges {}",
                    f.side.as_str(),
                    f.qty,
                    f.price,
                    f.charges.total()
                ),
                us(f.ts),
            ),
        ));
    }
    let names = engine.strategy_names();
    for (i, (ts, weights)) in j.allocations[w.allocations..].iter().enumerate() {
        let detail = names
            .iter()
            .zip(weights)
            .map(|(n, x)| format!("{n}={x:.4}"))
            .collect::<Vec<_>>()
            .join(", ");
        audit.push((
            us(*ts),
            3,
            i,
            row("allocation".into(), None, None, None, detail, us(*ts)),
        ));
    }
    audit.sort_by_key(|a| (a.0, a.1, a.2));
    let first = w.audit_rows();
    let rows: Vec<A> = audit
        .into_iter()
        .enumerate()
        .map(|(k, (_, _, _, mut a))| {
            a.seq = (first + k) as i64;
            a
        })
        .collect();
    added += insert(wh, &tables::AUDIT_LOG, &rows, meta()).await?;

    #[derive(Serialize)]
    struct P {
        run_id: String,
        seq: i64,
        strategy: String,
        symbol: String,
        qty: i64,
        avg_price: Money,
        basis: Money,
        realized: Money,
        price: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<P> = j.positions[w.positions..]
        .iter()
        .enumerate()
        .map(|(i, p)| P {
            run_id: run_id.into(),
            seq: (w.positions + i) as i64,
            strategy: p.strategy.clone(),
            symbol: sym(p.sym),
            qty: p.position.qty,
            avg_price: p.position.avg_price(),
            basis: p.position.basis,
            realized: p.position.realized,
            price: p.price,
            ts_event: us(p.ts),
            ts_recv: us(p.ts),
        })
        .collect();
    added += insert(wh, &tables::POSITIONS, &rows, meta()).await?;
    *w = Written::all_of(j);
    Ok(added)
}

pub(crate) async fn insert<T: Serialize>(
    wh: &Warehouse,
    spec: &'static TableSpec,
    rows: &[T],
    meta: CommitMeta,
) -> Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let batch = to_batch(spec, rows)?;
    Ok(wh.insert_new(spec, vec![batch], meta).await?.rows_added)
}
