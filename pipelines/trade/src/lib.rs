//! # elite-trade — the trade-runner's logic, one engine for backtest, paper and live
//!
//! - [`money`]: fixed-point money (1/10,000 of a unit) and exact rates;
//! - [`order`]: order types (market, limit, stop, stop-limit, trailing stop, bracket/OCO,
//!   iceberg), time in force, client order ids, fills;
//! - [`types`]: the leaf types (symbol index, side, bar); [`event`]: the one event type the
//!   engine consumes; [`inputs`]: predictions, signal events and calendars strategies read;
//! - [`broker`]: the broker seam (the simulator, or the outbox a live broker adapter drains);
//! - [`sim`]: the simulated broker — fills against bars without look-ahead, partial fills capped by
//!   volume participation, slippage and impact, latency;
//! - [`costs`]: Indian contract-note charges and a simple bps/per-share model;
//! - [`ledger`]: cash, positions, basis, realized P&L and fees, exact and reconcilable;
//! - [`risk`]: pre-trade checks producing the only type a broker accepts ([`risk::Approved`]),
//!   and the kill switch;
//! - [`engine`]: the event loop and the [`engine::Strategy`] trait; [`strategies`]: built-ins;
//! - [`forecast`], [`dcc`], [`drawdown`]: GARCH / GJR-GARCH volatility, EWMA and DCC correlation,
//!   and drawdown odds simulated from the fitted model;
//! - [`execution`]: TWAP / VWAP / POV schedules and parent-order working; [`metrics`]: the tear
//!   sheet; [`analytics`]: the report's metrics (PSR, DSR, alpha/beta, …) and calendar tables.
//!
//! Like `elite-pipelines`, nothing here reads a clock or does I/O: the runner in `elite-jobs` feeds
//! events (history for a backtest, a stream for paper/live) and persists what the engine journals.

pub mod analytics;
pub mod broker;
pub mod contract;
pub mod costs;
pub mod dcc;
pub mod drawdown;
pub mod engine;
pub mod event;
pub mod execution;
pub use elite_pipelines::forecast;
mod dense_qp;
pub mod factor;
pub mod inputs;
pub mod ledger;
pub mod metrics;
pub mod money;
pub mod order;
pub mod pairs;
pub mod portfolio;
pub mod risk;
pub mod routing;
pub mod sim;
pub mod strategies;
mod symeig;
pub mod types;

pub use money::{Money, Rate};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A backtest or runner configuration that cannot be used.
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
}

pub type Result<T> = std::result::Result<T, Error>;
