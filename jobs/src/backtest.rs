//! `elite backtest`: the trade engine fed by history from the warehouse.
//!
//! A run reads the config's [`Intake`] (bars at one table version, with the predictions and
//! signal events its strategies trade) and feeds the whole event sequence to
//! [`elite_trade::engine::Engine::process`] — the order a live stream delivers them — then writes
//! what the engine journaled to `runs`, `equity_curve`, `fills`, `orders`, `trades` and
//! `risk_events`. The run id is a hash of the config, the bars version, what was loaded and the
//! code version, so the same run twice lands nothing new and produces the same bytes (tested); a
//! different config or new data is a new run.

use elite_store::Warehouse;
use elite_warehouse::Clock;

use crate::Result;
use crate::run::{Intake, RunConfig, RunReport, build_engine, finish_run, run_id, write_journal};

/// Run a backtest and record it.
pub async fn run_backtest(wh: &Warehouse, cfg: &RunConfig, clock: &dyn Clock) -> Result<RunReport> {
    let intake = Intake::load(wh, cfg, None, &Default::default()).await?;
    let mut engine = build_engine(cfg, &intake.symbols, &intake.inputs, None)?;
    for e in &intake.events {
        engine.process(e)?;
    }
    engine.finish();
    engine.ledger.reconcile(Some(&engine.journal.fills))?;
    let run_id = run_id(cfg, intake.version, &intake.inputs_id, "backtest")?;
    let mut written = Default::default();
    let mut rows_added = write_journal(wh, &run_id, &engine, &intake.symbols, &mut written).await?;
    let report = finish_run(
        wh,
        cfg,
        &run_id,
        "backtest",
        intake.version,
        &engine,
        &intake.symbols,
        intake.bars.len(),
        clock,
    )
    .await?;
    rows_added += report.rows_added;
    Ok(RunReport {
        rows_added,
        ..report
    })
}
