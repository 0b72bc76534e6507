//! One module per command; each exposes `run(args, &Settings, &Printer)`.

pub mod backtest;
pub mod bench;
pub mod bench_backtest;
pub mod bench_cycle;
pub mod bench_fuzz;
pub mod bench_indicators;
pub mod bench_models;
pub mod bench_stream;
pub mod charts;
pub mod demo;
pub mod forecast;
pub mod ingest;
pub mod jobctl;
pub mod pipelines;
pub mod regimes;
pub mod report;
pub mod report_models;
pub mod sentiment;
pub mod sql;
pub mod status;
pub mod stream;
pub mod train;
pub mod warehouse;

/// A failure the user can fix (exit code 1), with a message saying how.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// Bail with a [`UserError`].
macro_rules! user_bail {
    ($($arg:tt)*) => { return Err(anyhow::Error::new($crate::commands::UserError(format!($($arg)*)))) };
}
pub(crate) use user_bail;
