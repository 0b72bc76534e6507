//! One module per command; each exposes `run(args, &Settings, &Printer)`.

pub mod backtest;
pub mod bench;
pub mod bench_backtest;
pub mod bench_crash;
pub mod bench_cycle;
pub mod bench_fuzz;
pub mod bench_indicators;
pub mod bench_models;
pub mod bench_sql;
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
pub mod supervise;
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

/// The bars a command reads, from its `--timeframe/--symbols/--bars-version` flags.
pub(crate) fn bar_query(
    sel: &crate::args::BarSelection,
) -> anyhow::Result<elite_jobs::bars::BarQuery> {
    Ok(elite_jobs::bars::BarQuery {
        timeframe: sel
            .timeframe
            .as_deref()
            .map(elite_warehouse::Timeframe::parse)
            .transpose()?,
        symbols: sel
            .symbols
            .iter()
            .map(|s| elite_warehouse::Symbol::new(s.as_str()))
            .collect::<std::result::Result<_, _>>()?,
        version: sel.bars_version,
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM: how a long-running job is asked to stop.
pub(crate) async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
