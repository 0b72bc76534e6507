//! The arguments of `elite bench …`: each benchmark beside its named peer.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{at_least_two, positive, positive_u32};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// CSV -> warehouse ingest of synthetic 1-minute bars beside polars (read_csv + write_parquet)
    #[command(
        after_help = "Example:\n  tests/dev bench            # installs polars, builds release, runs this with 10M rows"
    )]
    Ingest(BenchIngestArgs),
    /// The six core indicators (SMA, EMA, RSI, MACD, BBANDS, ATR) beside TA-Lib on the same bars
    #[command(
        after_help = "Example:\n  tests/dev bench indicators   # installs TA-Lib, builds release, runs 1000 symbols x 10k bars"
    )]
    Indicators(BenchIndicatorsArgs),
    /// Tick -> signal latency (p50/p99) of the signal engine through a transport (embedded by
    /// default), with the transport's share (delivery) and the computation's
    #[command(
        after_help = "Examples:\n  elite bench signals --symbols 1000 --symbols 5000\n  elite bench signals --transport file:/tmp/topics\n  elite bench signals --transport fluvio://127.0.0.1:9003"
    )]
    Signals(BenchSignalsArgs),
    /// SMA-crossover backtest with fills beside backtrader and vectorbt on the same bars and rules
    #[command(
        after_help = "Example:\n  tests/dev bench backtest   # installs backtrader + vectorbt, builds release, 500 symbols x 2520 bars"
    )]
    Backtest(BenchBacktestArgs),
    /// Models: LightGBM training beside Python lightgbm, 1000-symbol prediction latency, ONNX LSTM
    /// inference beside Python onnxruntime
    #[command(
        after_help = "Example:\n  tests/dev bench models   # installs lightgbm, builds release, 200k rows x 20 features"
    )]
    Models(BenchModelsArgs),
    /// One trade-runner decision cycle: covariance, constrained mean-variance, risk checks, orders
    #[command(after_help = "Example:\n  elite bench cycle --assets 500")]
    Cycle(BenchCycleArgs),
    /// SQL on the warehouse beside DuckDB on the same Parquet files: one symbol-day, one
    /// symbol's history, daily VWAP of every symbol, a moving-average window over every row
    #[command(after_help = "Example:\n  elite bench sql --rows 10000000 --symbols 1000 --repeat 5")]
    Sql(BenchSqlArgs),
    /// Mutation fuzzing of every decoder (CSV, Parquet, Yahoo, Upstox candles, feed frames, orders)
    /// from the recorded fixtures: no panics, every record landed, quarantined or refused with a reason
    #[command(after_help = "Examples:
  elite bench fuzz                          # 1,000,000 inputs per decoder
  elite bench fuzz --decoder upstox-feed --inputs 100000 --seed 7")]
    Fuzz(BenchFuzzArgs),
    /// kill -9 at random points of CSV ingests: a tally of what each crash cost (must be nothing)
    #[command(after_help = "Example:\n  elite bench crash --runs 20 --rows 1000000")]
    Crash(BenchCrashArgs),
}

#[derive(Debug, Args)]
pub struct BenchCrashArgs {
    /// Ingests to kill (one file each)
    #[arg(long, default_value_t = 20, value_parser = positive)]
    pub runs: usize,
    /// Rows per file
    #[arg(long, default_value_t = 1_000_000, value_parser = positive)]
    pub rows: usize,
    /// Symbols per file
    #[arg(long, default_value_t = 500, value_parser = positive)]
    pub symbols: usize,
    /// Random seed for the kill times
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Working directory [default: a temporary one]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the files and the warehouse
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct BenchFuzzArgs {
    /// Inputs per decoder
    #[arg(long, default_value_t = 1_000_000, value_parser = positive)]
    pub inputs: usize,
    /// Only these decoders (repeat): csv-bars, parquet-bars, yahoo-chart, upstox-candles,
    /// upstox-feed, upstox-orders [default: all]
    #[arg(long = "decoder")]
    pub decoders: Vec<String>,
    /// Random seed (the run is deterministic for a seed)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The recorded fixtures the inputs are mutated from
    #[arg(long, default_value = "collectors/fixtures")]
    pub fixtures: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchModelsArgs {
    /// Training rows
    #[arg(long, default_value_t = 200_000, value_parser = positive)]
    pub rows: usize,
    /// Features per row
    #[arg(long, default_value_t = 20, value_parser = at_least_two)]
    pub features: usize,
    /// Boosting iterations
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    pub iterations: u32,
    /// Training threads (both engines)
    #[arg(long, default_value_t = 2, value_parser = positive_u32)]
    pub threads: u32,
    /// Training runs per engine (the median is reported)
    #[arg(long, default_value_t = 3, value_parser = positive)]
    pub repeat: usize,
    /// Python with lightgbm and onnxruntime installed
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct BenchSqlArgs {
    /// Rows of 1-minute bars to generate and land
    #[arg(long, default_value_t = 10_000_000, value_parser = positive)]
    pub rows: usize,
    /// Symbols to spread them over
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub symbols: usize,
    /// Python with duckdb and pyarrow installed
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
    /// Timed runs per query and engine after one warm-up (the median is reported)
    #[arg(long, default_value_t = 5, value_parser = positive)]
    pub repeat: usize,
    /// Ticks to generate for the as-of join (d), with two quote levels per tick
    #[arg(long, default_value_t = 1_000_000, value_parser = positive)]
    pub ticks: usize,
    /// Threads for both engines [default: every core]
    #[arg(long)]
    pub threads: Option<usize>,
    /// A DataFusion setting for Elite's session, e.g.
    /// `datafusion.execution.parquet.pushdown_filters=true` (repeat the flag)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    #[command(flatten)]
    pub layout: BenchLayoutArgs,
    /// Working directory [default: a temporary one]; an existing warehouse in it is reused
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the generated warehouse
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct BenchCycleArgs {
    /// Assets in the portfolio
    #[arg(long, default_value_t = 500, value_parser = positive)]
    pub assets: usize,
    /// Returns in the covariance window
    #[arg(long, default_value_t = 252, value_parser = at_least_two)]
    pub lookback: usize,
    /// Cycles to time
    #[arg(long, default_value_t = 20, value_parser = positive)]
    pub cycles: usize,
    /// Risk model: `ledoit-wolf` (dense shrunk covariance) or `pca` (a statistical factor
    /// model, `--factors` leading components plus specific variances; the QP in factor form)
    #[arg(long, default_value = "ledoit-wolf", value_parser = ["ledoit-wolf", "pca"])]
    pub risk_model: String,
    /// Factors of the `pca` risk model
    #[arg(long, default_value_t = 20, value_parser = positive)]
    pub factors: usize,
    /// Python with cvxpy (Clarabel, OSQP) to solve the last cycle's problem beside Elite;
    /// `none` skips the peer
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct BenchBacktestArgs {
    /// Symbols
    #[arg(long, default_value_t = 500, value_parser = positive)]
    pub symbols: usize,
    /// Daily bars per symbol (2520 = 10 years)
    #[arg(long, default_value_t = 2520, value_parser = positive)]
    pub bars: usize,
    /// Timed runs per engine (the median is reported for every engine)
    #[arg(long, default_value_t = 5, value_parser = positive)]
    pub repeat: usize,
    /// Peers to run: vectorbt, backtrader (comma-separated)
    #[arg(long, default_value = "vectorbt,backtrader")]
    pub peers: String,
    /// Python with backtrader and vectorbt installed
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct BenchSignalsArgs {
    /// Universe sizes to measure (repeat)
    #[arg(long = "symbols", default_values_t = [1000usize, 5000], value_parser = positive)]
    pub symbols: Vec<usize>,
    /// Timed rounds (one tick per symbol each)
    #[arg(long, default_value_t = 200, value_parser = positive)]
    pub rounds: usize,
    /// Untimed warm-up rounds
    #[arg(long, default_value_t = 60)]
    pub warmup: usize,
    /// Milliseconds between rounds
    #[arg(long, default_value_t = 20)]
    pub gap_ms: u64,
    /// Pace the timed ticks at this many per second (in 1 ms chunks) instead of whole rounds
    /// --gap-ms apart (e.g. 200000)
    #[arg(long, value_parser = super::positive_f64)]
    pub rate: Option<f64>,
    #[command(flatten)]
    pub transport: super::TransportArgs,
}

#[derive(Debug, Args)]
pub struct BenchIndicatorsArgs {
    /// Symbols
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub symbols: usize,
    /// Bars per symbol
    #[arg(long, default_value_t = 10_000, value_parser = positive)]
    pub bars: usize,
    /// Timed passes per side (the median is reported)
    #[arg(long, default_value_t = 5, value_parser = positive)]
    pub repeat: usize,
    /// Python with TA-Lib installed
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Rows to generate
    #[arg(long, default_value_t = 10_000_000, value_parser = positive)]
    pub rows: usize,
    /// Symbols to spread them over
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub symbols: usize,
    /// Python with polars and duckdb installed; `none` runs Elite alone (e.g. for inputs larger
    /// than the peers' memory)
    #[arg(long, env = "ELITE_PYTHON", default_value = "python3")]
    pub python: String,
    /// Runs per engine (the median is reported)
    #[arg(long, default_value_t = 3, value_parser = positive)]
    pub repeat: usize,
    #[command(flatten)]
    pub layout: BenchLayoutArgs,
    /// Working directory [default: a temporary one]; a CSV this bench generated there with the
    /// same shape is reused
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the generated files
    #[arg(long)]
    pub keep: bool,
}

/// The layout of the `bars` table a bench lands, and the order of the file it lands from.
#[derive(Debug, Args)]
pub struct BenchLayoutArgs {
    /// Partition columns of the `bars` table Elite lands: `year` (one partition per year, each
    /// file sorted by symbol and time) or `symbol,year` (one per symbol and year); an existing
    /// table laid out otherwise is moved with `elite warehouse relayout` (`bench sql`, timed)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "year",
        value_name = "COLUMNS"
    )]
    pub partition_by: Vec<String>,
    /// Row order of the generated CSV: `symbol` (each symbol's history in turn) or `time` (every
    /// symbol's bar of a minute, then the next minute: how exchange dumps such as NSE's come)
    #[arg(long, value_enum, default_value = "symbol")]
    pub order: RowOrder,
}

/// Row order of a generated bars file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RowOrder {
    Symbol,
    Time,
}
