//! The run core: what a backtest, the paper trader and the live trader are made of.
//!
//! - [`config`]: the one TOML shape ([`RunConfig`]; `[broker]` is read only live);
//! - [`inputs`]: the one intake ([`Intake`]): bars, predictions and signal events as one
//!   sequence of engine events, refreshed while following the warehouse;
//! - [`assemble`]: the engine a config describes, and run ids;
//! - [`journal`]: the run tables, written incrementally, and a finished run's summary;
//! - [`session`]: checkpoints and replay, shared by the paper and the live trader;
//! - [`operate`]: operator commands and the following loop, shared by them too.
//!
//! `backtest`, `trader` (paper) and `live` only drive these; none of them imports another.

pub mod assemble;
pub mod config;
pub mod inputs;
pub mod journal;
pub mod operate;
pub mod session;

pub use assemble::{build_engine, code_version, run_id};
pub use config::{BrokerConfig, DataConfig, RoutingConfig, RunConfig, StrategyEntry};
pub use inputs::Intake;
pub use journal::{RunReport, StrategySummary, Written, finish_run, write_journal};
pub use session::{Checkpoint, Session, replay};
