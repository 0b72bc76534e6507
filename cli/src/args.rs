//! The command line, declared once with clap derive.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod alt;
mod bench;
mod run;
mod stream;
pub use alt::*;
pub use bench::*;
pub use run::*;
pub use stream::*;

const EXAMPLES: &str = "\
Examples:
  elite demo                                   # ingest the bundled real data, show history, run SQL
  elite ingest csv GOOG_1d.csv --symbol GOOG --timeframe 1d
  elite sql \"SELECT symbol, count(*) FROM bars GROUP BY symbol\"
  elite warehouse history bars";

/// Elite: a batch-plus-stream data platform for AI trading.
#[derive(Debug, Parser)]
#[command(name = "elite", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Warehouse location: a directory or memory:// URL (s3://, gs://, az:// in a `--features cloud` build) [default: ./elite-data]
    #[arg(long, global = true, env = "ELITE_HOME")]
    pub home: Option<String>,
    /// Output format for data written to stdout [default: table]
    #[arg(long, global = true, env = "ELITE_FORMAT", value_enum)]
    pub format: Option<Format>,
    /// Hide progress bars (they are hidden anyway when stderr is not a terminal)
    #[arg(long, global = true, env = "ELITE_NO_PROGRESS", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_progress: bool,
    /// Config file (TOML) [default: ./elite.toml, then ~/.config/elite/config.toml]
    #[arg(long, global = true, env = "ELITE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Less output (errors only)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More logging (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines on stderr as text or as JSON objects (one per line, with the job's run id,
    /// job and symbol fields)
    #[arg(long, global = true, env = "ELITE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How a long-running job is operated: its metrics and health endpoints.
#[derive(Debug, Args)]
pub struct OpsArgs {
    /// Serve /metrics (Prometheus), /healthz, /readyz and /status on HOST:PORT (port 0: any
    /// free port; the address is in the status file `elite status` reads)
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Not ready (/readyz) while the latest bar was received more than SECONDS ago
    #[arg(long, value_name = "SECONDS", value_parser = positive_f64)]
    pub max_data_age: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Land data in the warehouse: files, Yahoo, Upstox
    #[command(
        subcommand,
        after_help = "Examples:
  elite ingest csv GOOG_1d.csv --symbol GOOG --timeframe 1d
  elite ingest yahoo AAPL --interval 1d --from 2024-01-01
  elite ingest upstox-feed --replay collectors/fixtures/upstox/vectors
  elite ingest news https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=8-K&output=atom --provider edgar"
    )]
    Ingest(IngestCommand),
    /// Inspect and maintain warehouse tables
    #[command(
        subcommand,
        after_help = "Examples:
  elite warehouse tables
  elite warehouse describe bars
  elite warehouse history bars --limit 10
  elite warehouse optimize bars
  elite warehouse vacuum bars --dry-run
  elite warehouse attach trades_py /data/delta/trades"
    )]
    Warehouse(WarehouseCommand),
    /// Run read-only SQL over the warehouse (interactive when no query is given on a terminal)
    #[command(after_help = SQL_HELP)]
    Sql(SqlArgs),
    /// Ingest the bundled real sample data, show the warehouse history and answer SQL questions
    #[command(after_help = "Example:\n  elite --home /tmp/elite-demo demo")]
    Demo(DemoArgs),
    /// Feature sets: list them, materialize them (with forward labels) into `features` / `labels`
    #[command(
        subcommand,
        after_help = "Examples:
  elite features sets
  elite features build --set technical --timeframe 1d --horizon 1 --horizon 5
  elite sql \"SELECT feature, avg(value) FROM features GROUP BY feature\""
    )]
    Features(FeaturesCommand),
    /// Signals: the rules, and signals computed in batch
    #[command(
        subcommand,
        after_help = "Examples:
  elite signals rules
  elite signals show --symbol GOOG --limit 20"
    )]
    Signals(SignalsCommand),
    /// Bars: aggregate into longer timeframes along a session calendar
    #[command(
        subcommand,
        after_help = "Examples:
  elite bars resample --timeframe 1m --to 5m --calendar NYSE
  elite bars resample --timeframe 1d --to 1w"
    )]
    Bars(BarsCommand),
    /// Long-running jobs: the streaming signal runner and the trade-runner (paper or live)
    #[command(
        subcommand,
        after_help = "Examples:
  elite run signals --timeframe 1m               # replay the bars table, checkpointing; re-run resumes
  elite run signals --rate 500 --name live-1m     # paced replay at 500 bars/s
  elite run trader jobs/configs/goog_strategies.toml --paper   # paper trading; re-run resumes
  elite run trader goog.toml --paper --follow 5 --metrics-addr 127.0.0.1:9464   # /metrics, /readyz
  UPSTOX_ACCESS_TOKEN=... elite run trader my_nse.toml --live --confirm my-nse   # real orders via [broker]"
    )]
    Run(RunCommand),
    /// The live chain's topics and the jobs reading them (position, lag)
    #[command(subcommand)]
    Stream(StreamCommand),
    /// The long-running jobs (trader, signal runner): running or not, ready or why not, from
    /// their status files and their live /readyz
    #[command(
        after_help = "Examples:\n  elite status\n  elite --format json status     # for scripts: state, ready, reasons, endpoint"
    )]
    Status(StatusArgs),
    /// Backtest strategies, allocation, risk and execution from a TOML config over warehouse bars
    #[command(after_help = "Examples:
  elite backtest jobs/configs/goog_strategies.toml
  elite sql \"SELECT strategy, count(*), sum(charges) FROM fills GROUP BY strategy\"
  elite sql \"SELECT * FROM equity_curve WHERE run_id = '…' ORDER BY ts_event\"")]
    Backtest(BacktestArgs),
    /// A run's performance and attribution: every metric (checked against empyrical and
    /// quantstats), the PSR and the deflated Sharpe, monthly and yearly returns, P&L by strategy
    /// and symbol; `--html` writes a self-contained report with charts
    #[command(after_help = "Examples:
  elite report sp500-combined                       # the newest run of that name (or a run id)
  elite report sp500-combined --benchmark AAPL --html report.html
  elite --format json report sp500-combined         # every metric under its name
  elite report sp500-direction-1d --models --html models.html   # a model group's walk-forward")]
    Report(ReportArgs),
    /// Forecasts: volatility by GARCH(1,1) or GJR-GARCH with normal or Student-t errors (the
    /// model and fit of Python's `arch`), EWMA or DCC correlation, drawdown odds by simulation
    #[command(
        subcommand,
        after_help = "Examples:
  elite forecast vol --symbol GOOG --model garch --dist t --horizon 10
  elite --format json forecast vol --symbol SPX --timeframe 1m --model gjr
  elite forecast corr --symbols AAPL,JPM,XOM,KO --model dcc --horizon 10
  elite forecast drawdown --symbol GOOG --model gjr --dist t --horizon 21 --thresholds 0.1,0.2"
    )]
    Forecast(ForecastCommand),
    /// Market regimes, landed point in time in the `regimes` table: a Gaussian HMM on returns
    /// and volatility (hmmlearn's model; filtered states, walk-forward refits), rule-based trend
    /// x volatility, and a market stress index over a universe
    #[command(
        subcommand,
        after_help = "Examples:
  elite regimes hmm --symbol GOOG --states 2
  elite regimes rules --symbol GOOG
  elite regimes stress --scope sp500_20            # every symbol with 1d bars
  elite sql \"SELECT label, count(*) FROM regimes WHERE method = 'stress' GROUP BY label\""
    )]
    Regimes(RegimesCommand),
    /// Train models from a TOML config: walk-forward evaluation (every number out-of-sample),
    /// registry, promotion, predictions
    #[command(after_help = "Examples:
  elite train jobs/configs/sp500_models.toml
  elite sql \"SELECT name, kind, metrics FROM models\"
  elite sql \"SELECT model_id, stage, reason FROM model_events ORDER BY ts_recv\"")]
    Train(TrainArgs),
    /// Serve a model group's production and shadow models on the newest bars; prints the A/B record
    #[command(after_help = "Examples:
  elite predict sp500-direction-1d
  elite sql \"SELECT source, symbol, ts_event, score FROM predictions WHERE source IN ('production', 'shadow') ORDER BY ts_event DESC LIMIT 20\"")]
    Predict(PredictArgs),
    /// The model registry: import a user's ONNX model with a declared input contract; register an
    /// ensemble of registered models
    #[command(
        subcommand,
        after_help = "Examples:
  elite models import my_xgb.toml     # name, file, config, trained_until, stage, [contract]
  elite models ensemble blend.toml    # name, group, members, method, [weights], stage
  elite sql \"SELECT name, kind, metrics FROM models WHERE kind = 'onnx'\""
    )]
    Models(ModelsCommand),
    /// Scheduled jobs (cron-friendly, idempotent, resumable)
    #[command(
        subcommand,
        after_help = "Examples:
  elite jobs retrain jobs/configs/sp500_models.toml           # nightly: serve, drift, retrain if due
  elite jobs retrain jobs/configs/sp500_models.toml --force"
    )]
    Jobs(JobsCommand),
    /// Sentiment of text: VADER and Loughran-McDonald scores, and their accuracy on labelled data
    #[command(subcommand)]
    Sentiment(SentimentCommand),
    /// Social data: mention counts and spikes
    #[command(subcommand)]
    Social(SocialCommand),
    /// Benchmarks beside named peers (not tests: they report, they assert nothing)
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model group (the training config's `name`)
    pub group: String,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Register an ONNX model made elsewhere (XGBoost, CatBoost, PyTorch, scikit-learn…): its
    /// contract is checked against the graph, it is scored on labelled bars after its
    /// `trained_until`, and it joins the group as candidate (or the stage the spec names)
    Import(ImportArgs),
    /// Register an ensemble of a group's registered models (mean, weighted, vote, or stacking
    /// with a logistic meta-learner fitted on their out-of-sample predictions), served as one
    /// model by `elite predict` and `elite run signals --models` at its own stage
    #[command(after_help = "Example spec (TOML):
  name = \"blend\"
  group = \"goog-direction\"
  members = [\"logistic-0a1b2c3d4e5f\", \"gbdt-0a1b2c3d4e5f\"]   # registered model ids
  method = \"stacking\"        # mean | weighted | vote | stacking
  # weights = [0.7, 0.3]      # weighted / vote
  stage = \"shadow\"           # candidate (default) | shadow | production")]
    Ensemble(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The spec (TOML)
    pub spec: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Nightly retrain: serve production + shadow on new bars, test for drift, and train, validate
    /// walk-forward, register and promote when drift is found, `every` new dates arrived, or --force
    Retrain(RetrainArgs),
}

#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The training file (TOML)
    pub file: PathBuf,
    /// Train even when nothing is due
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The training file (TOML): data, features, validation, [[model]], ensemble, registry
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Fit GARCH or GJR-GARCH to a symbol's log returns (percent) and forecast the variance
    Vol(ForecastVolArgs),
    /// Correlation and covariance forecasts of several symbols: RiskMetrics EWMA, or DCC(1,1) on
    /// GARCH(1,1) residuals
    Corr(ForecastCorrArgs),
    /// Odds of a drawdown within the horizon, simulated from the fitted volatility model
    Drawdown(ForecastDrawdownArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CorrModelArg {
    Ewma,
    Dcc,
}

#[derive(Debug, Args)]
pub struct ForecastCorrArgs {
    /// The symbols (comma-separated, at least 2), on the dates all of them have bars
    #[arg(long, value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,
    /// Bar timeframe (1m, 5m, 1h, 1d, …)
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
    #[arg(long, value_enum, default_value = "dcc")]
    pub model: CorrModelArg,
    /// EWMA decay
    #[arg(long, default_value_t = 0.94)]
    pub lambda: f64,
    /// Periods ahead to forecast
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub horizon: usize,
}

#[derive(Debug, Args)]
pub struct ForecastDrawdownArgs {
    #[command(flatten)]
    pub vol: ForecastVolArgs,
    /// Paths to simulate
    #[arg(long, default_value_t = 20_000, value_parser = positive)]
    pub paths: usize,
    /// Drawdown levels (fractions, comma-separated)
    #[arg(long, value_delimiter = ',', default_values_t = [0.05, 0.1, 0.2, 0.3])]
    pub thresholds: Vec<f64>,
    /// Random seed (the same seed gives the same odds)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum RegimesCommand {
    /// Gaussian HMM states of one symbol (filtered; refitted every --refit bars on all bars so far)
    Hmm(RegimeHmmArgs),
    /// Rule-based trend (close vs 50/200-bar means) x volatility (percentile of 21-bar volatility)
    Rules(RegimeSymbolArgs),
    /// The market stress index of a universe: volatility, correlation, dispersion and drawdown,
    /// each a z-score against its own past
    Stress(RegimeStressArgs),
}

#[derive(Debug, Args)]
pub struct RegimeSymbolArgs {
    /// The symbol whose bars are classified
    #[arg(long)]
    pub symbol: String,
    /// Bar timeframe (1m, 5m, 1h, 1d, …)
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
}

#[derive(Debug, Args)]
pub struct RegimeHmmArgs {
    #[command(flatten)]
    pub on: RegimeSymbolArgs,
    /// Hidden states (ordered calm → turbulent)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=6))]
    pub states: u8,
    /// Bars in the volatility feature
    #[arg(long, default_value_t = 20, value_parser = positive)]
    pub window: usize,
    /// Refit every this many bars
    #[arg(long, default_value_t = 63, value_parser = positive)]
    pub refit: usize,
    /// Feature rows before the first fit
    #[arg(long, default_value_t = 504, value_parser = positive)]
    pub min_train: usize,
}

#[derive(Debug, Args)]
pub struct RegimeStressArgs {
    /// The universe's name (the `scope` of its rows, and what a risk config names)
    #[arg(long, default_value = "market")]
    pub scope: String,
    /// Symbols of the universe (comma-separated); every symbol with bars at the timeframe if omitted
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Bar timeframe
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum VolModelArg {
    Garch,
    Gjr,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DistArg {
    Normal,
    T,
}

#[derive(Debug, Args)]
pub struct ForecastVolArgs {
    /// The symbol whose bars are fitted
    #[arg(long)]
    pub symbol: String,
    /// Bar timeframe (1m, 5m, 1h, 1d, …)
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
    #[arg(long, value_enum, default_value = "garch")]
    pub model: VolModelArg,
    /// Error distribution: normal, or standardized Student-t
    #[arg(long, value_enum, default_value = "normal")]
    pub dist: DistArg,
    /// Periods ahead to forecast
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub horizon: usize,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run id, or a run name (its newest run); with --models, a model group
    pub run: String,
    /// Report a model group's walk-forward (every model and ensemble of its newest training,
    /// traded long/short from its out-of-sample predictions; buy-and-hold as the benchmark)
    #[arg(long)]
    pub models: bool,
    /// A symbol whose bars at the run's timeframe are the benchmark (alpha, beta, information
    /// ratio), joined as of each instant
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Also write the report as one self-contained HTML file (charts as inline SVG)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Periods in the rolling Sharpe window [default: one year]
    #[arg(long, default_value_t = 0)]
    pub rolling: usize,
    /// Monthly factor returns in Ken French's 3-factor CSV layout (Date as YYYYMM, Mkt-RF, SMB,
    /// HML, RF in percent) [default: the bundled Fama-French file, 1926-07 … 2018-11]
    #[arg(long, value_name = "CSV")]
    pub factors: Option<PathBuf>,
    /// `symbol,sector` CSV: adds a Brinson-Fachler attribution by sector (allocation, selection,
    /// interaction, linked by Carino) against equal weight over those symbols
    #[arg(long, value_name = "CSV")]
    pub sectors: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The backtest file (TOML): data, initial_cash, fills, costs, risk, [[strategy]]
    pub file: PathBuf,
    /// First bar date (YYYY-MM-DD), overriding the file's `data.start` (e.g. an out-of-sample span)
    #[arg(long)]
    pub start: Option<String>,
    /// Last bar date (YYYY-MM-DD), overriding the file's `data.end`
    #[arg(long)]
    pub end: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// CSV file with date,rule,close_time,note (rule: holiday | early_close)
    pub file: PathBuf,
    /// Which calendar the rows are for: NSE, NYSE or 24x7
    #[arg(long)]
    pub calendar: String,
}

/// Which bars a job reads.
#[derive(Debug, Args, Clone)]
pub struct BarSelection {
    /// Only this timeframe (1m, 1d, …)
    #[arg(long)]
    pub timeframe: Option<String>,
    /// Only these symbols (repeat the flag)
    #[arg(long = "symbol")]
    pub symbols: Vec<String>,
    /// Read this version of the bars table [default: latest]
    #[arg(long)]
    pub bars_version: Option<u64>,
}

/// The multi-timeframe rule's higher timeframe.
#[derive(Debug, Args, Clone)]
pub struct MtfArgs {
    /// Higher timeframe for the multi-timeframe confirmation rule (1h, 1d, 1w…) [default: off]
    #[arg(long)]
    pub higher: Option<String>,
    /// Session calendar to build the higher timeframe along: NSE, NYSE or 24x7
    #[arg(long, default_value = "24x7")]
    pub calendar: String,
}

#[derive(Debug, Subcommand)]
pub enum BarsCommand {
    /// Aggregate bars of --timeframe into --to along a calendar (holidays from the calendar table)
    Resample(ResampleArgs),
    /// Bars from the `ticks` table along a calendar — what `elite run bars` builds live, in batch
    #[command(after_help = "Examples:
  elite bars from-ticks --to 1m --calendar NSE
  elite --format csv bars from-ticks --to 1m --calendar NSE --dry-run > bars.csv")]
    FromTicks(FromTicksArgs),
}

#[derive(Debug, Args)]
pub struct ResampleArgs {
    #[command(flatten)]
    pub bars: BarSelection,
    /// Target timeframe (5m, 15m, 1h, 1d, 1w, 1mo)
    #[arg(long)]
    pub to: String,
    /// Session calendar: NSE, NYSE or 24x7
    #[arg(long, default_value = "24x7")]
    pub calendar: String,
}

#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// List the built-in feature sets and their features
    Sets,
    /// Compute a feature set over the bars table and land it in `features` (labels in `labels`)
    Build(FeaturesBuildArgs),
}

#[derive(Debug, Args)]
pub struct FeaturesBuildArgs {
    /// Feature set name
    #[arg(long, default_value = "technical")]
    pub set: String,
    #[command(flatten)]
    pub bars: BarSelection,
    /// Forward-label horizons in bars (repeat); none: no labels
    #[arg(long = "horizon", value_parser = positive)]
    pub horizons: Vec<usize>,
    /// Add higher-timeframe features (htf_trend, htf_dist_sma_20, htf_rsi_14) built along --calendar
    #[command(flatten)]
    pub mtf: MtfArgs,
    /// Print the feature rows (symbol, timeframe, ts_event, ts_recv, feature, value) instead of
    /// landing them
    #[arg(long, conflicts_with = "horizons")]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum SignalsCommand {
    /// The signal rules Elite ships
    Rules,
    /// Compute signals in batch over the bars table and print them (the runner writes the same rows)
    Show(SignalsShowArgs),
}

#[derive(Debug, Args)]
pub struct SignalsShowArgs {
    #[command(flatten)]
    pub bars: BarSelection,
    #[command(flatten)]
    pub mtf: MtfArgs,
    /// Print at most this many (the newest)
    #[arg(long, default_value_t = 50, value_parser = positive)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Where the jobs' checkpoints and status files live [default: <home>/_state]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

const SQL_HELP: &str = "\
Tables: bars, ticks, quotes, instruments, quarantine, ingest_checkpoints; views: bar_coverage,
quarantine_summary, daily_vwap. Time travel: \"bars@v3\" (version 3), \"bars@2026-11-24T10:00:00Z\".

Examples:
  elite sql \"SELECT symbol, timeframe, bars FROM bar_coverage\"
  elite sql \"SELECT count(*) FROM \\\"bars@v0\\\"\"
  elite sql --format csv \"SELECT * FROM bars WHERE symbol = 'GOOG' ORDER BY ts_event\" > goog.csv
  echo \"SELECT 1\" | elite sql";

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query; omitted: read it from stdin, or start a prompt on a terminal
    pub query: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {}

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Bars from CSV files (optionally .gz)
    #[command(after_help = "Examples:
  elite ingest csv GOOG_1d.csv --symbol GOOG --timeframe 1d
  elite ingest csv SP500_1m.csv --symbol SPX --timeframe 1m --tz America/New_York
  elite ingest csv jpy.csv --symbol JPY --timeframe 1d --map close=Last,ts=Time
  elite ingest csv 2006-min-005.txt --symbol STOXX50E --timeframe 5m   # Date + Time columns")]
    Csv(FileArgs),
    /// Bars from Parquet files
    #[command(
        after_help = "Example:\n  elite ingest parquet bars.parquet --timeframe 1m   # symbol column in the file"
    )]
    Parquet(FileArgs),
    /// Bars from the Yahoo Finance chart API (v8)
    #[command(after_help = "Examples:
  elite ingest yahoo AAPL MSFT --interval 1d --from 2024-01-01
  elite ingest yahoo AAPL --interval 1d             # resumes from the last checkpoint
  elite ingest yahoo --file chart_AAPL.json         # a saved response, offline")]
    Yahoo(YahooArgs),
    /// Bars from Upstox historical candles (v3, or v2 with --v2-interval)
    #[command(
        name = "upstox-history",
        after_help = "Examples (token from UPSTOX_ACCESS_TOKEN):
  elite ingest upstox-history 'NSE_EQ|INE002A01018' --unit minutes --interval 1 --from 2024-06-03 --to 2024-06-03
  elite ingest upstox-history 'NSE_EQ|INE002A01018' --v2-interval day --from 2024-01-01 --to 2024-06-30
  elite ingest upstox-history --file candles.json --key 'NSE_EQ|INE002A01018' --unit minutes --interval 1"
    )]
    UpstoxHistory(UpstoxHistoryArgs),
    /// Ticks and depth from the Upstox V3 market-data WebSocket feed (or recorded frames)
    #[command(
        name = "upstox-feed",
        after_help = "Examples:
  elite ingest upstox-feed --keys 'NSE_EQ|INE002A01018,NSE_INDEX|Nifty 50' --mode full --max-frames 1000
  elite ingest upstox-feed --replay collectors/fixtures/upstox/vectors     # recorded .bin frames
  elite ingest upstox-feed --keys 'NSE_EQ|INE002A01018' --to ticks --transport file:/var/elite/topics"
    )]
    UpstoxFeed(UpstoxFeedArgs),
    /// Exchange holidays and early closes (`date,rule,close_time,note`) for a session calendar
    #[command(
        after_help = "Example:\n  elite ingest calendar collectors/fixtures/calendar/NYSE_2019.csv --calendar NYSE"
    )]
    Calendar(CalendarArgs),
    /// News from an RSS/Atom feed, an SEC EDGAR Atom feed or a Yahoo search: a URL or saved files
    #[command(after_help = NEWS_HELP)]
    News(NewsArgs),
    /// Symbol aliases (`symbol,alias,kind[,valid_from]`; kind ticker, cashtag, name, cik or isin)
    /// that tag news with symbols
    #[command(after_help = "Example:\n  elite ingest aliases collectors/fixtures/news/aliases.csv")]
    Aliases(AliasesArgs),
    /// Macro series: FRED CSV exports or API JSON (vintages → ts_recv), or any dated wide CSV
    #[command(after_help = "Examples:
  elite ingest macro fredgraph.csv --release-lag-days 35      # no vintages: state the publication lag
  elite ingest macro unrate_vintages.json --series UNRATE     # series/observations with realtime_start")]
    Macro(MacroArgs),
    /// Social posts: Reddit listings/comment pages or X API v2 responses, tagged like news
    #[command(after_help = "Examples:
  elite ingest social new.json --platform reddit --backfill-delay 60
  elite ingest social recent.json --platform x")]
    Social(SocialArgs),
    /// Insider filings (SEC Forms 3/4/5), one row per transaction or holding
    #[command(after_help = "Examples:
  elite ingest insider 0001127602-25-001055.txt form4.xml
  elite sql \"SELECT symbol, owner_names, code, shares, price FROM insider_trades WHERE code IN ('P', 'S')\"")]
    Insider(InsiderArgs),
    /// Earnings announcements and results (Yahoo quoteSummary calendarEvents, earningsHistory)
    #[command(after_help = "Example:
  elite ingest earnings quoteSummary_AAPL.json --symbol AAPL --fetched-at 2025-02-24T09:34:47Z")]
    Earnings(EarningsArgs),
    /// Exchange contract rules (lot, tick, freeze quantity, expiry, strike) from Upstox's
    /// instrument master, for the trade-runner's [contracts]
    #[command(after_help = "Example:
  elite ingest instruments NSE.json.gz --fetched-at 2024-06-03T00:40:00Z")]
    Instruments(InstrumentsArgs),
    /// The exchange's circuit limits of the day per instrument, from Upstox full market quotes
    /// (GET /v2/market-quote/quotes), for the trade-runner's [contracts]
    #[command(after_help = "Example:
  elite ingest quotes quotes_2024-06-03.json --fetched-at 2024-06-03T03:50:00Z
  elite sql \"SELECT * FROM circuit_limits ORDER BY ts_recv DESC LIMIT 20\"")]
    Quotes(QuotesArgs),
    /// Option chain snapshots (Yahoo v7), with each contract's Black-Scholes delta
    #[command(after_help = "Examples:
  elite ingest options options_AAPL.json --fetched-at 2025-02-24T09:34:47Z
  elite sql \"SELECT * FROM options_summary\"      # put/call ratios, 25-delta skew, unusual volume")]
    Options(OptionsArgs),
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// Files to ingest
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Symbol of every row (unless the file has a symbol column)
    #[arg(long)]
    pub symbol: Option<String>,
    /// Bar length: 1m, 5m, 15m, 1h, 1d, 1w, 1mo …
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
    /// Time zone of timestamps without an offset (IANA name, e.g. Asia/Kolkata, America/New_York)
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Column mapping field=Header,… (fields: ts, date, time, open, high, low, close, volume, open_interest, symbol)
    #[arg(long)]
    pub map: Option<String>,
    /// chrono format of the timestamp column when it is not detected (e.g. "%d/%m/%Y %H:%M")
    #[arg(long)]
    pub ts_format: Option<String>,
    /// Whether a bar's timestamp is its open (default) or its close
    #[arg(long, value_enum, default_value = "open")]
    pub label: Label,
    /// Field delimiter (CSV)
    #[arg(long, default_value = ",")]
    pub delimiter: char,
    /// Re-decode even if a checkpoint says this exact input already landed
    #[arg(long)]
    pub force: bool,
    /// CSV: MiB of records read, decoded and written at a time per decoder (memory is bounded
    /// by this and the writer's budget, not by the file)
    #[arg(long, value_name = "MIB")]
    pub chunk_mib: Option<f64>,
    /// Partition columns of `bars` when this ingest creates it (default `year`: one partition
    /// per year, each file sorted by symbol and time; `symbol,year`: one per symbol and year).
    /// An existing table keeps its layout: change it with `elite warehouse relayout`
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub partition_by: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Label {
    Open,
    Close,
}

#[derive(Debug, Args)]
pub struct YahooArgs {
    /// Symbols (Yahoo spelling: AAPL, EURUSD=X, BTC-USD, RELIANCE.NS)
    pub symbols: Vec<String>,
    /// Interval: 1m, 5m, 15m, 1h, 1d, 1wk, 1mo
    #[arg(long, default_value = "1d")]
    pub interval: String,
    /// Start date (YYYY-MM-DD) [default: the last checkpoint, else one year ago]
    #[arg(long)]
    pub from: Option<String>,
    /// End date (YYYY-MM-DD) [default: now]
    #[arg(long)]
    pub to: Option<String>,
    /// API base URL [default: config `yahoo_base_url`, else Yahoo's]
    #[arg(long, env = "ELITE_YAHOO_BASE_URL")]
    pub base_url: Option<String>,
    /// Decode saved chart responses instead of calling the API
    #[arg(long, conflicts_with = "symbols")]
    pub file: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpstoxHistoryArgs {
    /// Instrument keys (e.g. 'NSE_EQ|INE002A01018')
    pub keys: Vec<String>,
    /// v3 unit: minutes, hours, days, weeks, months
    #[arg(long, default_value = "days")]
    pub unit: String,
    /// v3 interval within the unit (1, 5, 15 …)
    #[arg(long, default_value = "1")]
    pub interval: String,
    /// Use the v2 API with this interval instead (1minute, 30minute, day, week, month)
    #[arg(long)]
    pub v2_interval: Option<String>,
    /// First date (YYYY-MM-DD)
    #[arg(long)]
    pub from: Option<String>,
    /// Last date (YYYY-MM-DD) [default: today]
    #[arg(long)]
    pub to: Option<String>,
    /// API base URL [default: config `upstox_base_url`, else Upstox's]
    #[arg(long, env = "ELITE_UPSTOX_BASE_URL")]
    pub base_url: Option<String>,
    /// Decode a saved candle response instead of calling the API (needs --key)
    #[arg(long, requires = "key")]
    pub file: Option<PathBuf>,
    /// Instrument key of --file
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpstoxFeedArgs {
    /// Instrument keys to subscribe, comma-separated
    #[arg(long, value_delimiter = ',')]
    pub keys: Vec<String>,
    /// Subscription mode
    #[arg(long, value_enum, default_value = "full")]
    pub mode: FeedModeArg,
    /// Stop after this many frames
    #[arg(long, value_parser = positive)]
    pub max_frames: Option<usize>,
    /// Frames per warehouse commit
    #[arg(long, default_value_t = 100, value_parser = positive)]
    pub flush_every: usize,
    /// WebSocket URL (skips the authorize call; for tests and proxies)
    #[arg(long, env = "ELITE_UPSTOX_FEED_URL")]
    pub url: Option<String>,
    /// API base URL for the authorize call
    #[arg(long, env = "ELITE_UPSTOX_BASE_URL")]
    pub base_url: Option<String>,
    /// Replay recorded frames (*.bin) from a directory instead of connecting
    #[arg(long, conflicts_with_all = ["keys", "url"])]
    pub replay: Option<PathBuf>,
    /// Also publish every decoded tick to this topic (e.g. `ticks`, see --transport) for the
    /// live chain (`elite run bars --from ticks`): published before it lands, so a restart lands
    /// what a killed run published
    #[arg(long, value_name = "TOPIC", conflicts_with = "replay")]
    pub to: Option<String>,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FeedModeArg {
    Ltpc,
    Full,
    OptionGreeks,
    FullD30,
}

#[derive(Debug, Subcommand)]
pub enum WarehouseCommand {
    /// List tables with version, file count and row count
    Tables,
    /// Columns, key and partitioning of a table
    Describe { table: String },
    /// Commits of a table: version, time, operation, rows added, source
    History {
        table: String,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Compact small files (bin-packing within partitions)
    Optimize {
        table: String,
        /// Target file size in MiB
        #[arg(long)]
        target_mib: Option<u64>,
    },
    /// Rewrite a table under other partition columns (every file sorted by the key), in one
    /// commit; older versions keep the old layout for time travel
    Relayout {
        table: String,
        /// The new partition columns, e.g. `year` or `symbol,year`
        #[arg(long, value_delimiter = ',', required = true, value_name = "COLUMNS")]
        partition_by: Vec<String>,
        /// Memory for the sort and the rows waiting to be written (the sort spills beyond it;
        /// measured peaks were up to ~170 MiB above it)
        #[arg(long, default_value_t = 512, value_name = "MIB")]
        memory_mib: usize,
    },
    /// Delete files no longer referenced by recent versions
    Vacuum {
        table: String,
        /// Keep files needed by versions younger than this (guard: 168 h unless --force)
        #[arg(long, default_value_t = 168)]
        retention_hours: i64,
        /// List what would be deleted without deleting
        #[arg(long)]
        dry_run: bool,
        /// Allow a retention below the guard (breaks time travel to older versions)
        #[arg(long)]
        force: bool,
    },
    /// Attach a Delta table written by another tool (Spark, Python deltalake, polars) so SQL can
    /// query it by NAME, read-only, with time travel (NAME@v3)
    Attach {
        /// SQL name for the table (lower-case letters, digits, '_'; not a warehouse table)
        name: String,
        /// The table's directory or object-store URL
        location: String,
    },
    /// Forget an attached table (its data is not touched)
    Detach { name: String },
    /// List attached tables
    Attached,
}

// ---- numeric options are validated when parsed: a bad value is a usage error (exit 2 from clap,
// with the option named), never a panic or a hang later.

/// An integer >= 1.
pub fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}

/// An integer >= 2 (a benchmark needs at least two features or symbols to compare).
pub fn at_least_two(s: &str) -> Result<usize, String> {
    match positive(s)? {
        1 => Err("must be at least 2".into()),
        n => Ok(n),
    }
}

/// A finite number > 0 (a rate, a number of seconds).
pub fn positive_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number above 0 (got {v})")),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

/// A positive u32.
pub fn positive_u32(s: &str) -> Result<u32, String> {
    u32::try_from(positive(s)?).map_err(|_| "too large".to_string())
}
