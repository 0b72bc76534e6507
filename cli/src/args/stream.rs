//! The arguments of the live chain's jobs (`elite run feed|bars`, `elite stream status`,
//! `elite bars from-ticks`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OpsArgs, positive, positive_f64};

/// Where the topics are.
#[derive(Debug, Args, Clone)]
pub struct TransportArgs {
    /// The topics' transport: `embedded` (this process only), `file:DIR` (topic files shared by
    /// processes on this machine) or `fluvio://HOST:PORT` (a Fluvio cluster)
    #[arg(long, env = "ELITE_TRANSPORT", default_value = "embedded")]
    pub transport: String,
}

#[derive(Debug, Args)]
pub struct RunFeedArgs {
    /// Replay recorded Upstox feed frames (*.bin) from this directory
    #[arg(long)]
    pub replay: PathBuf,
    /// Frames received within SECONDS of the first make one cycle
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_f64)]
    pub span: f64,
    /// Repeat the cycle this many times …
    #[arg(long, default_value_t = 1, value_parser = positive)]
    pub repeat: usize,
    /// … every SECONDS (longer than the cycle)
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_f64)]
    pub step: f64,
    /// Shift the first cycle to start here (RFC 3339) [default: when it was recorded]
    #[arg(long)]
    pub start: Option<String>,
    /// Standard deviation of the log price change between cycles (a seeded random walk)
    #[arg(long, default_value_t = 0.0)]
    pub walk: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The topic to publish to
    #[arg(long, default_value = "ticks")]
    pub to: String,
    /// Feed name (its checkpoint is <state-dir>/stream-feed-<name>.json)
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Ticks per landing commit and checkpoint
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub commit_every: usize,
    /// Ticks per second [default: as fast as possible]
    #[arg(long, value_parser = positive_f64)]
    pub rate: Option<f64>,
    /// Where checkpoints live [default: <home>/_state for a local warehouse]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Ignore any checkpoint and publish from the first tick
    #[arg(long)]
    pub fresh: bool,
    /// Leave the topic open at the end (downstream jobs keep waiting)
    #[arg(long)]
    pub keep_open: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct RunBarsArgs {
    /// The input topic: `ticks` or `bars.<tf>` of a shorter timeframe
    #[arg(long, default_value = "ticks")]
    pub from: String,
    /// The bars' timeframe (published to `bars.<tf>`)
    #[arg(long, default_value = "1m")]
    pub timeframe: String,
    /// Session calendar: NSE, NYSE or 24x7 (holidays from the calendar table)
    #[arg(long, default_value = "24x7")]
    pub calendar: String,
    /// Job name (its checkpoint is <state-dir>/stream-bars-<name>.json) [default: <from>-<tf>]
    #[arg(long)]
    pub name: Option<String>,
    /// Inputs per landing commit and checkpoint
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub commit_every: usize,
    /// Land and checkpoint when no input came for MS milliseconds
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub linger_ms: u64,
    /// Stop when no input came for SECONDS [default: run until the input topic is closed]
    #[arg(long, value_name = "SECONDS", value_parser = positive_f64)]
    pub idle_exit: Option<f64>,
    /// Where checkpoints live [default: <home>/_state for a local warehouse]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Ignore any checkpoint and start from the topic's first record
    #[arg(long)]
    pub fresh: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}

#[derive(Debug, Args)]
pub struct FromTicksArgs {
    /// The bars' timeframe (1s, 1m, 5m, 1h, 1d…)
    #[arg(long)]
    pub to: String,
    /// Session calendar: NSE, NYSE or 24x7
    #[arg(long, default_value = "24x7")]
    pub calendar: String,
    /// Only these symbols (repeat the flag)
    #[arg(long = "symbol")]
    pub symbols: Vec<String>,
    /// Print the bars instead of landing them
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Topics (records in each) and the jobs reading them: position and lag, from their
    /// checkpoints
    #[command(after_help = "Examples:
  elite stream status --transport file:/var/elite/topics
  elite --format json stream status --transport fluvio://127.0.0.1:9003")]
    Status(StreamStatusArgs),
    /// Publish landed bars onto a topic, in the order a live stream delivers them (ts_recv,
    /// symbol): history replayed through the live chain (signals, predictions, the trader)
    #[command(after_help = "Examples:
  elite stream replay-bars --timeframe 1d --symbol GOOG --transport file:/tmp/topics   # to bars.1d
  elite run signals --from bars.1d --models goog-blend --to signals --predictions-to predictions \\
      --transport file:/tmp/topics")]
    ReplayBars(ReplayBarsArgs),
}

#[derive(Debug, Args)]
pub struct ReplayBarsArgs {
    #[command(flatten)]
    pub bars: super::BarSelection,
    /// The topic [default: bars.<timeframe>]; it must be empty
    #[arg(long, value_name = "TOPIC")]
    pub to: Option<String>,
    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct StreamStatusArgs {
    /// Where the jobs' checkpoints live [default: <home>/_state]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub transport: TransportArgs,
}
