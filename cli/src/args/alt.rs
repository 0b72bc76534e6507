//! The arguments of `elite sentiment …`, `elite ingest news` and `elite ingest aliases`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SentimentCommand {
    /// Score texts (arguments, or one per line on stdin) with one scorer: one row per text with
    /// every number of that scorer; needs no warehouse
    #[command(after_help = "Examples:
  elite sentiment score \"Profit rose 20%, beating estimates\" \"Shares plunge on fraud probe\"
  elite sentiment score --scorer lm --lm-dictionary LM_MasterDictionary.csv < headlines.txt
  elite --format json sentiment score --scorer vader \"VADER is VERY SMART!!!\"")]
    Score(SentimentScoreArgs),
    /// Accuracy and macro-F1 of each scorer against labelled sentences (negative/neutral/positive)
    #[command(after_help = "Example:
  elite sentiment eval Sentences_AllAgree.csv --scorer vader --scorer lm --lm-dictionary LM.csv")]
    Eval(SentimentEvalArgs),
    /// Score every news item (per symbol) the scorer's version has not scored into `sentiment`
    #[command(after_help = "Examples:
  elite sentiment build --scorer vader
  elite sql \"SELECT symbol, date_trunc('day', ts_recv) d, avg(score) FROM sentiment GROUP BY 1, 2\"")]
    Build(SentimentBuildArgs),
    /// Event study: the market-model abnormal return after each scored news item, landed in
    /// `news_impact`, and the mean CAR by sentiment label
    #[command(after_help = "Examples:
  elite sentiment impact --market equal-weight --estimation 120 --gap 10 --post 5
  elite sentiment impact --market SPY
  elite sql \"SELECT * FROM news_impact_by_label\"")]
    Impact(ImpactArgs),
    /// Alternative data as rule signals on bars (`news_sentiment`, `earnings_surprise`), so the
    /// `event` strategy acts on them, known-only
    #[command(after_help = "Examples:
  elite sentiment signals --timeframe 1d --threshold 0.3
  elite backtest jobs/configs/sp500_news_events.toml   # type = \"event\", rules = [\"news_sentiment\"]")]
    Signals(AltSignalsArgs),
}

#[derive(Debug, Args)]
pub struct AltSignalsArgs {
    /// The bars' timeframe the signals sit on
    #[arg(long, default_value = "1d")]
    pub timeframe: String,
    /// The scorer version whose scores make news signals
    #[arg(long, default_value = "vader-3.3.2")]
    pub scorer_version: String,
    /// Least |mean score| of a bar's news that makes a signal
    #[arg(long, default_value_t = 0.3)]
    pub threshold: f64,
    /// Also `social_spike` signals: mention spikes of social posts in buckets of this length
    /// (1h, 1d …), directed by their posts' mean VADER score
    #[arg(long, value_name = "BUCKET")]
    pub social_bucket: Option<String>,
    /// Trailing buckets each social bucket is scored against
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..))]
    pub social_window: u32,
    /// Robust z-score at or above which a bucket is a spike
    #[arg(long, default_value_t = 3.5)]
    pub social_threshold: f64,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The scorer version whose scores are the events
    #[arg(long, default_value = "vader-3.3.2")]
    pub scorer_version: String,
    /// The market: a symbol with daily bars, or equal-weight (the mean return of every symbol)
    #[arg(long, default_value = "equal-weight")]
    pub market: String,
    /// Trading days of the estimation window
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(3..))]
    pub estimation: u32,
    /// Trading days between the estimation window and the event day
    #[arg(long, default_value_t = 10)]
    pub gap: u32,
    /// Trading days after the event day in the CAR (day 0 included)
    #[arg(long, default_value_t = 5)]
    pub post: u32,
}

#[derive(Debug, Args)]
pub struct SentimentBuildArgs {
    /// vader, lm or finbert
    #[arg(long, default_value = "vader", value_parser = ["vader", "lm", "finbert"])]
    pub scorer: String,
    #[command(flatten)]
    pub dict: ScorerFilesArg,
}

pub const NEWS_HELP: &str = "Examples:
  elite ingest news https://example.com/rss.xml                      # ts_recv = now
  elite ingest news saved/*.xml --provider rss --backfill-delay 300    # old items: known 5 min after publication
  elite ingest news https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=4&output=atom --provider edgar
  elite ingest news search_AAPL.json --provider yahoo
Symbols come from the provider's tags (Yahoo relatedTickers, an EDGAR issuer's CIK) and from cashtags
and whole names in the text, through `elite ingest aliases`. One row per item and symbol.";

#[derive(Debug, Args)]
pub struct NewsArgs {
    /// URLs (http/https) or files
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// rss (any RSS/Atom/JSON feed), edgar (an SEC EDGAR Atom feed), yahoo (a search response),
    /// newsapi (/v2/everything) or alphavantage (NEWS_SENTIMENT)
    #[arg(long, default_value = "rss", value_parser = ["rss", "atom", "edgar", "yahoo", "newsapi", "alphavantage"])]
    pub provider: String,
    /// Backfill of old items: take each as known this many seconds after its publication
    /// (ts_recv = published + delay, never later than now); without it, ts_recv = now
    #[arg(long, value_name = "SECONDS")]
    pub backfill_delay: Option<u64>,
}

#[derive(Debug, Args)]
pub struct AliasesArgs {
    /// CSV files with symbol, alias, kind (and optionally valid_from)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Which scorer, and where its dictionary is.
#[derive(Debug, Args, Clone)]
pub struct ScorerFilesArg {
    /// The Loughran-McDonald dictionary CSV (the master dictionary, or any CSV with `word` and
    /// the category columns; `.gz` is read): user-supplied, its licence forbids bundling it
    #[arg(long, env = "ELITE_LM_DICTIONARY", value_name = "CSV")]
    pub lm_dictionary: Option<PathBuf>,
    /// The finbert scorer's model: a directory with an ONNX export of a BERT-style sentiment
    /// classifier (model.onnx), its tokenizer.json and config.json (id2label naming negative,
    /// neutral, positive) — e.g. ProsusAI/finbert exported with `optimum-cli export onnx`
    #[arg(long, env = "ELITE_FINBERT_MODEL", value_name = "DIR")]
    pub finbert_model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SentimentScoreArgs {
    /// vader (VADER, as vaderSentiment 3.3.2), lm (Loughran-McDonald, stemmed) or finbert (a
    /// transformer from --finbert-model)
    #[arg(long, default_value = "vader", value_parser = ["vader", "lm", "finbert"])]
    pub scorer: String,
    #[command(flatten)]
    pub dict: ScorerFilesArg,
    /// The texts; none: read one text per line from stdin
    pub texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SentimentEvalArgs {
    /// Labelled sentences: a CSV with a text column and a label column
    pub file: PathBuf,
    /// Scorers to evaluate (repeat the flag)
    #[arg(long = "scorer", default_values_t = ["vader".to_string()], value_parser = ["vader", "lm", "finbert"])]
    pub scorers: Vec<String>,
    #[command(flatten)]
    pub dict: ScorerFilesArg,
    /// The column holding the text
    #[arg(long, default_value = "sentence")]
    pub text_column: String,
    /// The column holding the label (negative, neutral or positive; rows with another label are
    /// counted as skipped)
    #[arg(long, default_value = "label")]
    pub label_column: String,
}

#[derive(Debug, Args)]
pub struct MacroArgs {
    /// FRED CSV exports (`observation_date,SERIES,…`), other wide CSVs whose first column is a
    /// date, or FRED API JSON (`series/observations`, with --series)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The series of a FRED API JSON file (its vintages become ts_recv)
    #[arg(long)]
    pub series: Option<String>,
    /// Files without vintages: each value was published this many days after its period began
    /// (ts_recv = period start + lag); without it, ts_recv = now
    #[arg(long, value_name = "DAYS")]
    pub release_lag_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SocialArgs {
    /// URLs (http/https) or files
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// reddit (a listing, search or comments page) or x (an API v2 tweets response)
    #[arg(long, value_parser = ["reddit", "x"])]
    pub platform: String,
    /// Backfill of old posts: take each as known this many seconds after its creation
    #[arg(long, value_name = "SECONDS")]
    pub backfill_delay: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum SocialCommand {
    /// Mentions per symbol in time buckets (by ts_recv) and spikes by a robust z-score against
    /// the trailing window; completed buckets only
    #[command(after_help = "Examples:
  elite social spikes --bucket 1h --window 24 --threshold 3.5
  elite social spikes --symbol AAPL --all")]
    Spikes(SpikesArgs),
}

#[derive(Debug, Args)]
pub struct SpikesArgs {
    /// One symbol ('' = untagged posts); all when absent
    #[arg(long)]
    pub symbol: Option<String>,
    /// Bucket length (1m, 5m, 1h, 1d …)
    #[arg(long, default_value = "1h")]
    pub bucket: String,
    /// Trailing buckets each is scored against
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..))]
    pub window: u32,
    /// z-score at or above which a bucket is a spike
    #[arg(long, default_value_t = 3.5)]
    pub threshold: f64,
    /// Print every bucket, not only spikes
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct InsiderArgs {
    /// SEC Form 3/4/5 filings: bare XML, or EDGAR `.txt`/`.nc` submissions (files or URLs)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The inputs are Yahoo quoteSummary `insiderTransactions` responses about this symbol
    #[arg(long, value_name = "SYMBOL", conflicts_with = "nse")]
    pub yahoo: Option<String>,
    /// The inputs are NSE insider-trading disclosures (SEBI PIT): the `corporates-pit` JSON or
    /// the CSV its page downloads
    #[arg(long)]
    pub nse: bool,
    /// When a saved Yahoo or NSE response was fetched (RFC 3339): its rows are known from then
    /// (an NSE disclosure with a broadcast time is known from that time)
    #[arg(long, value_name = "TIME")]
    pub fetched_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct EarningsArgs {
    /// Yahoo quoteSummary responses with calendarEvents and/or earningsHistory (files or URLs)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The symbol the responses are about (they do not say)
    #[arg(long)]
    pub symbol: String,
    /// When a saved response was fetched (RFC 3339): what it says was known from then
    #[arg(long, value_name = "TIME")]
    pub fetched_at: Option<String>,
    /// Reported quarters were announced this many days after the quarter ended (an assumption,
    /// for backfills); without it a quarter is known at its earnings call if the response gives
    /// it, else when fetched
    #[arg(long, value_name = "DAYS")]
    pub report_lag_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct InstrumentsArgs {
    /// Upstox instrument masters: the BOD JSON (`complete.json.gz`, `NSE.json.gz`, …) or
    /// option-contract API responses (files or URLs)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// When a saved master was fetched (RFC 3339): its rows were known from then
    #[arg(long, value_name = "TIME")]
    pub fetched_at: Option<String>,
    /// The date its rules hold from (YYYY-MM-DD) [default: the fetch's UTC day]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct QuotesArgs {
    /// Upstox full-market-quote responses (files or URLs)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// When a saved response was fetched (RFC 3339): dates a quote without a timestamp
    #[arg(long, value_name = "TIME")]
    pub fetched_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct OptionsArgs {
    /// Option chain responses: Yahoo v7, or Upstox's put/call option chain (files or URLs)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// When a saved response was fetched (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub fetched_at: Option<String>,
    /// `yahoo` (v7 options) or `upstox` (GET /v2/option/chain)
    #[arg(long, default_value = "yahoo", value_parser = ["yahoo", "upstox"])]
    pub provider: String,
}
