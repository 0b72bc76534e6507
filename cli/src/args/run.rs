//! The arguments of the long-running jobs (`elite run signals|feed|bars|trader`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::*;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// The streaming signal runner over a replay of the bars table, or live over a `bars.<tf>`
    /// topic with --from (resumes from its checkpoint)
    Signals(RunSignalsArgs),
    /// The live chain's feed: ticks onto a topic and into `ticks`, from recorded Upstox frames
    /// repeated into a session (exactly once on both after a restart)
    #[command(after_help = "Examples:
  elite run feed --replay collectors/fixtures/upstox/vectors --span 20 --repeat 1125 --step 20 \\
      --start 2024-06-03T03:45:00Z --walk 0.002 --transport file:/tmp/topics")]
    Feed(RunFeedArgs),
    /// The live chain's bars: a ticks (or shorter bars) topic into completed bars along a
    /// calendar, published to `bars.<tf>` and landed in `bars`
    #[command(after_help = "Examples:
  elite run bars --from ticks --timeframe 1m --calendar NSE --transport file:/tmp/topics
  elite run bars --from bars.1m --timeframe 5m --calendar NSE --transport file:/tmp/topics")]
    Bars(RunBarsArgs),
    /// The trade-runner, fed by the bars a backtest config names: against the paper broker
    /// (default), or with --live against the config's [broker] (Upstox). Resumes from its
    /// checkpoint; never sends an order twice
    Trader(RunTraderArgs),
    /// The live chain's jobs from one file, each its own `elite` process: started together,
    /// restarted when they fail (each resumes from its checkpoint), until all have finished
    #[command(after_help = "Examples:
  elite run pipeline jobs/configs/nse_live_chain_pipeline.toml   # feed → bars → signals → paper trader

The file (TOML):
  transport = \"file:/tmp/elite-topics\"      # every job's --transport (fluvio://HOST:PORT too)
  max_restarts = 5
  [[job]]
  name = \"bars\"
  args = [\"run\", \"bars\", \"--from\", \"ticks\", \"--timeframe\", \"1m\", \"--calendar\", \"NSE\"]")]
    Pipeline(RunPipelineArgs),
}

#[derive(Debug, Args)]
pub struct RunPipelineArgs {
    /// The pipeline file (TOML): `transport`, `max_restarts`, and `[[job]]` name + args
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunTraderArgs {
    /// The strategy config (the same TOML as `elite backtest`)
    pub file: PathBuf,
    /// Trade against the paper broker (the default)
    #[arg(long, conflicts_with = "live")]
    pub paper: bool,
    /// Trade real money through the config's [broker] (Upstox): orders are placed for real.
    /// Needs --confirm with the config's name (or typing it at the prompt)
    #[arg(long)]
    pub live: bool,
    /// With --live: the config's `name`, confirming that real orders may be placed
    #[arg(long, value_name = "CONFIG_NAME", requires = "live")]
    pub confirm: Option<String>,
    /// Keep running, reading the warehouse every SECONDS for the bars, predictions and signal
    /// events that landed since (until Ctrl-C, which commits and exits)
    #[arg(long, value_name = "SECONDS", value_parser = positive_f64)]
    pub follow: Option<f64>,
    /// Trader name (its checkpoint is <state-dir>/trader-<name>.json; live-<name>.json with --live)
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Bars per commit and checkpoint (a live run also commits when it ends)
    #[arg(long, default_value_t = 500, value_parser = positive)]
    pub commit_every: usize,
    /// Paper replay pace in bars per second [default: as fast as possible]
    #[arg(long, value_parser = positive_f64)]
    pub rate: Option<f64>,
    /// Where checkpoints live [default: <home>/_state for a local warehouse]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Ignore any checkpoint and start from the first bar
    #[arg(long)]
    pub fresh: bool,
    /// Paper-trade the live chain: read bars from this `bars.<tf>` topic (see --transport)
    /// instead of the warehouse, with the strategies' inputs from --signals / --predictions
    #[arg(long, value_name = "TOPIC", conflicts_with_all = ["live", "follow"])]
    pub from: Option<String>,
    /// With --from: the signal runner's per-bar signals topic (needed by `event` strategies)
    #[arg(long, value_name = "TOPIC", requires = "from")]
    pub signals: Option<String>,
    /// With --from: the signal runner's per-bar predictions topic (needed by `ml` strategies)
    #[arg(long, value_name = "TOPIC", requires = "from")]
    pub predictions: Option<String>,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}

#[derive(Debug, Args)]
pub struct RunSignalsArgs {
    #[command(flatten)]
    pub bars: BarSelection,
    #[command(flatten)]
    pub mtf: MtfArgs,
    /// Runner name (its checkpoint is <state-dir>/signals-<name>.json)
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Bars per signals commit and checkpoint
    #[arg(long, default_value_t = 5000, value_parser = positive)]
    pub commit_every: usize,
    /// Replay pace in bars per second [default: as fast as possible]
    #[arg(long, value_parser = positive_f64)]
    pub rate: Option<f64>,
    /// Where checkpoints live [default: <home>/_state for a local warehouse]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Ignore any checkpoint and start from the first bar
    #[arg(long)]
    pub fresh: bool,
    /// A model group (`elite train` config name) whose production and shadow models predict
    /// every bar into `predictions` beside the signals (repeatable)
    #[arg(long = "models", value_name = "GROUP")]
    pub models: Vec<String>,
    /// Compute this feature set on every bar into `features` (the rows `elite features build
    /// --set SET` lands from the same bars)
    #[arg(long, value_name = "SET")]
    pub features: Option<String>,
    /// Read bars live from this `bars.<tf>` topic (see --transport) instead of the bars table
    #[arg(long, value_name = "TOPIC")]
    pub from: Option<String>,
    /// With --from: publish each bar's signals to this topic too (e.g. `signals`: one record
    /// per bar read, empty when no rule fired)
    #[arg(long, value_name = "TOPIC", requires = "from")]
    pub to: Option<String>,
    /// With --from and --models: publish each bar's predictions to this topic (e.g.
    /// `predictions`: one record per bar read)
    #[arg(long, value_name = "TOPIC", requires = "from")]
    pub predictions_to: Option<String>,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}
