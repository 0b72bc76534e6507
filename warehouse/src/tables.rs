//! Table specifications: name, Arrow schema, key and partitioning of every warehouse table.
//!
//! The key is what writes are idempotent on: a row whose key is already present is not added
//! again. Partition columns are the default layout of a new table (a table keeps the layout it
//! was created with until `elite warehouse relayout`): `bars` by `year`, each data file sorted
//! by the key (symbol, timeframe, ts_event) so file and row-group statistics narrow a
//! one-symbol query (measured against symbol/year partitions: README, "Table layout"); feed
//! tables by `date`.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

mod alt;
pub use alt::{
    CIRCUIT_LIMITS, CONTRACTS, EARNINGS, INSIDER_TRADES, INSTRUMENT_ALIASES, MACRO_SERIES, NEWS,
    NEWS_IMPACT, OPTIONS_CHAIN, SENTIMENT, SOCIAL_POSTS,
};

/// Arrow type of every `ts_*` column: microseconds since the epoch, UTC (Delta's `timestamp`).
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A warehouse table: its name, schema, key and partition columns.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub key: &'static [&'static str],
    pub partition_by: &'static [&'static str],
    schema: LazyLock<SchemaRef>,
}

impl TableSpec {
    /// The table's Arrow schema (partition columns included, in declaration order).
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Look a table up by name.
    pub fn by_name(name: &str) -> Option<&'static TableSpec> {
        ALL.iter().copied().find(|t| t.name == name)
    }
}

fn f(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

fn ts(name: &str, nullable: bool) -> Field {
    Field::new(name, ts_type(), nullable)
}

/// OHLCV bars of any timeframe.
pub static BARS: TableSpec = TableSpec {
    name: "bars",
    description: "OHLCV bars of any timeframe; ts_event = bar open time, ts_recv = when the whole bar was knowable",
    key: &["symbol", "timeframe", "ts_event"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("open", DataType::Float64, false),
            f("high", DataType::Float64, false),
            f("low", DataType::Float64, false),
            f("close", DataType::Float64, false),
            f("volume", DataType::Float64, true),
            f("open_interest", DataType::Float64, true),
            f("source", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Trades / last-traded-price updates from live feeds, with the feed's extras (OI, IV, greeks).
pub static TICKS: TableSpec = TableSpec {
    name: "ticks",
    description: "last-traded-price updates from live feeds (Upstox LTPC/full), with OI, IV and option greeks when sent",
    key: &["symbol", "ts_event", "ts_recv"],
    partition_by: &["date"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("price", DataType::Float64, false),
            f("size", DataType::Float64, true),
            f("prev_close", DataType::Float64, true),
            f("volume", DataType::Float64, true),
            f("avg_price", DataType::Float64, true),
            f("open_interest", DataType::Float64, true),
            f("iv", DataType::Float64, true),
            f("delta", DataType::Float64, true),
            f("gamma", DataType::Float64, true),
            f("theta", DataType::Float64, true),
            f("vega", DataType::Float64, true),
            f("rho", DataType::Float64, true),
            f("total_buy_qty", DataType::Float64, true),
            f("total_sell_qty", DataType::Float64, true),
            f("source", DataType::Utf8, false),
            f("date", DataType::Utf8, false),
        ]))
    }),
};

/// Order-book depth snapshots: one row per level per update.
pub static QUOTES: TableSpec = TableSpec {
    name: "quotes",
    description: "market depth from live feeds: one row per level (0 = best) per update",
    key: &["symbol", "ts_recv", "level"],
    partition_by: &["date"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("level", DataType::Int32, false),
            f("bid_price", DataType::Float64, true),
            f("bid_qty", DataType::Float64, true),
            f("ask_price", DataType::Float64, true),
            f("ask_qty", DataType::Float64, true),
            f("source", DataType::Utf8, false),
            f("date", DataType::Utf8, false),
        ]))
    }),
};

/// Reference data about instruments as their sources describe them.
pub static INSTRUMENTS: TableSpec = TableSpec {
    name: "instruments",
    description: "instrument reference data (exchange, currency, time zone, type) as each source reports it",
    key: &["symbol", "source"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("exchange", DataType::Utf8, true),
            f("name", DataType::Utf8, true),
            f("instrument_type", DataType::Utf8, true),
            f("currency", DataType::Utf8, true),
            f("timezone", DataType::Utf8, true),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("source", DataType::Utf8, false),
        ]))
    }),
};

/// Bad records: never dropped silently.
pub static QUARANTINE: TableSpec = TableSpec {
    name: "quarantine",
    description: "bad input records with where they came from (the input unit's content hash and the location in it), why they were refused and the raw payload",
    // The unit (content hash of the file, response or frame batch) plus the location in it: a
    // different input never dedupes against another's bad record; the same input adds nothing.
    key: &["unit", "location", "reason"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("source", DataType::Utf8, false),
            f("unit", DataType::Utf8, false),
            f("location", DataType::Utf8, false),
            f("target_table", DataType::Utf8, false),
            f("reason", DataType::Utf8, false),
            f("raw", DataType::Utf8, false),
            f("raw_encoding", DataType::Utf8, false),
            ts("ts_recv", false),
        ]))
    }),
};

/// What each source has landed: the unit of exactly-once ingest.
pub static INGEST_CHECKPOINTS: TableSpec = TableSpec {
    name: "ingest_checkpoints",
    description: "one row per completed ingest unit (file content hash, API window, feed segment)",
    key: &["source", "content_hash"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("source", DataType::Utf8, false),
            f("content_hash", DataType::Utf8, false),
            f("target_table", DataType::Utf8, false),
            ts("last_ts_event", true),
            f("rows_read", DataType::Int64, false),
            f("rows_added", DataType::Int64, false),
            f("rows_quarantined", DataType::Int64, false),
            f("table_version", DataType::Int64, true),
            ts("ts_recv", false),
        ]))
    }),
};

/// Materialized feature values, one row per (symbol, timeframe, bar, feature set version, feature).
pub static FEATURES: TableSpec = TableSpec {
    name: "features",
    description: "feature values per bar (long format), with the feature set version and the source table version they came from",
    key: &[
        "symbol",
        "timeframe",
        "feature_set",
        "feature_set_version",
        "feature",
        "ts_event",
    ],
    partition_by: &["feature_set", "year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("feature_set", DataType::Utf8, false),
            f("feature_set_version", DataType::Int32, false),
            f("feature", DataType::Utf8, false),
            f("value", DataType::Float64, false),
            f("source_table", DataType::Utf8, false),
            f("source_version", DataType::Int64, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Forward-looking labels: never features. `ts_recv` is when the label became knowable (the end
/// of the bar `horizon` bars later), so an as-of join at decision time can never see it early.
pub static LABELS: TableSpec = TableSpec {
    name: "labels",
    description: "forward returns and direction over a horizon in bars; ts_recv = when the label became knowable (end of bar t+h)",
    key: &["symbol", "timeframe", "horizon", "ts_event"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("horizon", DataType::Int32, false),
            f("fwd_return", DataType::Float64, false),
            f("direction", DataType::Int8, false),
            f("source_version", DataType::Int64, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Rule signals from the signal runner (batch or stream: the same rows).
pub static SIGNALS: TableSpec = TableSpec {
    name: "signals",
    description: "rule signals: direction (+1 long / -1 short), strength in [0, 1] and the feature values that produced them",
    key: &["symbol", "timeframe", "rule", "ts_event"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("rule", DataType::Utf8, false),
            f("direction", DataType::Int8, false),
            f("strength", DataType::Float64, false),
            f("features", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Exchange holidays and early closes, read by session calendars.
pub static CALENDAR: TableSpec = TableSpec {
    name: "calendar",
    description: "exchange holidays and early closes (rule holiday | early_close with the local close time)",
    key: &["calendar", "date"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("calendar", DataType::Utf8, false),
            f("date", DataType::Date32, false),
            f("rule", DataType::Utf8, false),
            f("close_time", DataType::Utf8, true),
            f("note", DataType::Utf8, true),
            f("source", DataType::Utf8, false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Arrow type of money columns on the order/ledger path: exact decimals, 4 places.
pub fn money_type() -> DataType {
    DataType::Decimal128(18, 4)
}

fn money(name: &str) -> Field {
    Field::new(name, money_type(), false)
}

/// One backtest or trading run: its config, data versions, code version and tear sheet.
pub static RUNS: TableSpec = TableSpec {
    name: "runs",
    description: "backtest / paper / live runs: config, bars table version, code version and the tear sheet (JSON); run_id is a hash of config + data version",
    key: &["run_id"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("name", DataType::Utf8, false),
            f("mode", DataType::Utf8, false),
            f("config", DataType::Utf8, false),
            f("bars_version", DataType::Int64, true),
            f("code_version", DataType::Utf8, false),
            f("tear_sheet", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Portfolio snapshots: equity at the close of every instant of a run.
pub static EQUITY_CURVE: TableSpec = TableSpec {
    name: "equity_curve",
    description: "portfolio snapshot at the close of each instant of a run: cash (exact), equity, gross and net exposure, charges paid so far",
    key: &["run_id", "ts_event"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            money("cash"),
            f("equity", DataType::Float64, false),
            f("gross", DataType::Float64, false),
            f("net", DataType::Float64, false),
            money("fees"),
        ]))
    }),
};

/// Executions of a run, with every charge.
pub static FILLS: TableSpec = TableSpec {
    name: "fills",
    description: "executions: quantity, exact price and each contract-note charge; ts_event = start of the bar filled in",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("order_id", DataType::Utf8, false),
            f("strategy", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("side", DataType::Utf8, false),
            f("qty", DataType::Int64, false),
            money("price"),
            money("value"),
            money("brokerage"),
            money("stt"),
            money("exchange"),
            money("sebi"),
            money("stamp"),
            money("gst"),
            money("other"),
            money("charges"),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Orders and every change of their status.
pub static ORDERS: TableSpec = TableSpec {
    name: "orders",
    description: "order lifecycle: one row when sent (status sent, with the request as JSON) and one per status change",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("order_id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("status", DataType::Utf8, false),
            f("filled", DataType::Int64, false),
            f("detail", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Round trips (flat to flat) of a run.
pub static TRADES: TableSpec = TableSpec {
    name: "trades",
    description: "round trips from flat to flat: direction, largest quantity, P&L net of charges (exact)",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("strategy", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("direction", DataType::Int8, false),
            f("max_qty", DataType::Int64, false),
            money("pnl"),
            money("charges"),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Every risk decision: approvals, refusals (with the check that refused) and kill switches.
pub static RISK_EVENTS: TableSpec = TableSpec {
    name: "risk_events",
    description: "pre-trade risk decisions (approved / refused with the check) and kill-switch trips; append-only audit of the order path",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("order_id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, true),
            f("decision", DataType::Utf8, false),
            f("check", DataType::Utf8, false),
            f("detail", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Position snapshots: a strategy book's position in a symbol after every fill that changed it.
pub static POSITIONS: TableSpec = TableSpec {
    name: "positions",
    description: "a strategy book's position in a symbol after each fill: signed quantity, average price, cost basis, realized P&L (before fees) and the fill price; the last row per (run, strategy, symbol) is the current position",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("strategy", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("qty", DataType::Int64, false),
            money("avg_price"),
            money("basis"),
            money("realized"),
            money("price"),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// One append-only, time-ordered record of everything the trade-runner decided and everything
/// that happened to its orders.
pub static AUDIT_LOG: TableSpec = TableSpec {
    name: "audit_log",
    description: "append-only audit trail of a run, in event order: risk decisions (approved, refused with the check, kill switch, de-risking), every order send and status change, fills, allocator moves; seq orders it",
    key: &["run_id", "seq"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("run_id", DataType::Utf8, false),
            f("seq", DataType::Int64, false),
            f("kind", DataType::Utf8, false),
            f("order_id", DataType::Utf8, true),
            f("strategy", DataType::Utf8, true),
            f("symbol", DataType::Utf8, true),
            f("detail", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// The model registry: one row per trained model.
pub static MODELS: TableSpec = TableSpec {
    name: "models",
    description: "model registry: kind, params, feature set and version, training data (bars version, rows, period), code version, walk-forward metrics and importance (JSON), artifact path and sha256 on the object store; model_id hashes config + data + code",
    key: &["model_id"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("model_id", DataType::Utf8, false),
            f("group", DataType::Utf8, false),
            f("name", DataType::Utf8, false),
            f("kind", DataType::Utf8, false),
            f("task", DataType::Utf8, false),
            f("params", DataType::Utf8, false),
            f("feature_set", DataType::Utf8, false),
            f("feature_set_version", DataType::Int32, false),
            f("features", DataType::Utf8, false),
            f("horizon", DataType::Int32, false),
            f("seq_len", DataType::Int32, false),
            f("bars_version", DataType::Int64, true),
            f("train_rows", DataType::Int64, false),
            ts("train_from", false),
            f("code_version", DataType::Utf8, false),
            f("config", DataType::Utf8, false),
            f("metrics", DataType::Utf8, false),
            f("importance", DataType::Utf8, false),
            f("artifact", DataType::Utf8, false),
            f("artifact_sha256", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Stage changes of registered models (append-only): candidate, shadow, production, retired.
pub static MODEL_EVENTS: TableSpec = TableSpec {
    name: "model_events",
    description: "append-only stage changes of registered models (candidate / shadow / production / retired) with the promotion rule's reason; a group's current stage per model is its latest event",
    key: &["event_id"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("event_id", DataType::Utf8, false),
            f("group", DataType::Utf8, false),
            f("model_id", DataType::Utf8, false),
            f("stage", DataType::Utf8, false),
            f("reason", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Model predictions: walk-forward out-of-sample, served, shadow.
pub static PREDICTIONS: TableSpec = TableSpec {
    name: "predictions",
    description: "model predictions per symbol and bar: source walk_forward (out-of-sample), production or shadow (served); score = P(up) or forward return; ts_recv = when the prediction could first be made",
    key: &["model_id", "source", "symbol", "ts_event"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("model_id", DataType::Utf8, false),
            f("source", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("score", DataType::Float64, false),
            f("confidence", DataType::Float64, true),
            f("fold", DataType::Int32, true),
        ]))
    }),
};

/// Drift detections: feature distributions (PSI, KS) and a model's live error stream (Page-Hinkley, ADWIN).
pub static DRIFT_EVENTS: TableSpec = TableSpec {
    name: "drift_events",
    description: "drift detected for a model group: detector (psi, ks, page_hinkley, adwin), feature (for distribution tests), value and threshold; ts_event = the last bar of the window tested or the detection bar",
    key: &["event_id"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("event_id", DataType::Utf8, false),
            f("group", DataType::Utf8, false),
            f("model_id", DataType::Utf8, false),
            f("detector", DataType::Utf8, false),
            f("feature", DataType::Utf8, true),
            f("value", DataType::Float64, false),
            f("threshold", DataType::Float64, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Every table, in the order `elite warehouse tables` lists them.
pub static FORECASTS: TableSpec = TableSpec {
    name: "forecasts",
    description: "model forecasts per symbol (or pair A|B) and step ahead, with the fitted parameters (JSON): kind volatility (GARCH / GJR-GARCH: value = variance of the percent log return, annualized = annualized volatility in %), correlation (EWMA / DCC: value = correlation, annualized = annualized covariance in %²), drawdown (simulated: value = P(max drawdown >= threshold within step periods), annualized = the threshold); ts_event = the last bar fitted, ts_recv = when that bar was known (the forecast's point in time)",
    key: &["forecast_id"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("forecast_id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            f("kind", DataType::Utf8, false),
            f("model", DataType::Utf8, false),
            f("step", DataType::Int32, false),
            f("value", DataType::Float64, false),
            f("annualized", DataType::Float64, false),
            f("params", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
        ]))
    }),
};

/// Market regimes and the stress index, point in time.
pub static REGIMES: TableSpec = TableSpec {
    name: "regimes",
    description: "market regimes per bar: method hmm<K> (Gaussian HMM on return and volatility, filtered, walk-forward refits), rules (trend x volatility) or stress (the universe's stress index); state, label, value (hmm: the state's filtered probability; rules: close / 200-bar mean - 1; stress: the index) and detail (JSON); ts_recv = when the bar it describes was known",
    key: &["scope", "timeframe", "method", "ts_event"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("scope", DataType::Utf8, false),
            f("timeframe", DataType::Utf8, false),
            f("method", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("state", DataType::Int32, false),
            f("label", DataType::Utf8, false),
            f("value", DataType::Float64, false),
            f("detail", DataType::Utf8, false),
        ]))
    }),
};

pub static ALL: [&TableSpec; 35] = [
    &BARS,
    &TICKS,
    &QUOTES,
    &INSTRUMENTS,
    &QUARANTINE,
    &INGEST_CHECKPOINTS,
    &FEATURES,
    &LABELS,
    &SIGNALS,
    &CALENDAR,
    &RUNS,
    &EQUITY_CURVE,
    &FILLS,
    &ORDERS,
    &TRADES,
    &RISK_EVENTS,
    &AUDIT_LOG,
    &POSITIONS,
    &MODELS,
    &MODEL_EVENTS,
    &PREDICTIONS,
    &DRIFT_EVENTS,
    &FORECASTS,
    &REGIMES,
    &NEWS,
    &SENTIMENT,
    &INSTRUMENT_ALIASES,
    &SOCIAL_POSTS,
    &MACRO_SERIES,
    &INSIDER_TRADES,
    &EARNINGS,
    &OPTIONS_CHAIN,
    &NEWS_IMPACT,
    &CONTRACTS,
    &CIRCUIT_LIMITS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_partitions_are_columns() {
        for t in ALL {
            let schema = t.arrow_schema();
            for c in t.key.iter().chain(t.partition_by) {
                assert!(schema.field_with_name(c).is_ok(), "{}.{c}", t.name);
            }
            assert!(
                schema.field_with_name("ts_recv").is_ok(),
                "{} lacks ts_recv",
                t.name
            );
        }
    }
}
