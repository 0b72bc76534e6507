//! `elite run trader`: the trade engine fed by a stream, against the paper broker.
//!
//! Bars come through a [`Source`](crate::transport::Source) — here the embedded transport fed by
//! a replay of the `bars` table at one version in `ts_recv` order, optionally paced — exactly as
//! a live feed would deliver them; the engine, strategies, risk and execution are the backtest's
//! (`elite backtest` on the same config gives the same orders and fills: tested).
//!
//! Durability: every `commit_every` bars the journal entries since the last commit (orders,
//! fills, risk decisions, equity) are written to the warehouse, keyed by (run id, sequence
//! number), and then a checkpoint (bars version, next offset, rows written) is replaced
//! atomically under `<state_dir>/trader-<name>.json`. On restart the runner rebuilds the engine
//! by replaying the bars before the checkpoint without sending anything, checks that the rebuilt
//! journal equals what the warehouse recorded (the paper broker's books: the fills), and only then
//! goes on from the checkpoint. Orders already recorded are never sent again (their sequence
//! numbers are below the checkpoint, and the idempotent insert refuses a second copy); a rebuilt
//! journal that disagrees with the recorded fills stops the runner instead of trading on.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use elite_store::{At, Warehouse};
use elite_trade::sim::Bar;
use elite_warehouse::Clock;
use serde::{Deserialize, Serialize};

use crate::backtest::{
    BacktestConfig, BacktestReport, Prepared, Written, build_engine, finish_run, load_bars, run_id,
    write_journal,
};
use crate::transport::{Polled, Sink, Source, Topic};
use crate::{Error, Result};

/// How the trader runs.
#[derive(Clone, Debug)]
pub struct TraderOptions {
    /// Its checkpoint is `<state_dir>/trader-<name>.json`.
    pub name: String,
    pub state_dir: PathBuf,
    /// Bars per commit (and checkpoint).
    pub commit_every: usize,
    /// Replay pacing in bars per second (`None`: as fast as possible).
    pub rate: Option<f64>,
    /// Ignore any checkpoint.
    pub fresh: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    name: String,
    run_id: String,
    bars_version: Option<u64>,
    next_offset: u64,
    written: Written,
}

/// What a trader run did.
#[derive(Debug, Serialize)]
pub struct TraderReport {
    pub run_id: String,
    pub mode: &'static str,
    pub bars_version: Option<u64>,
    pub resumed_from: u64,
    pub bars_processed: u64,
    pub commits: u64,
    pub orders_sent: usize,
    pub fills: usize,
    /// The final run summary (written when the stream ends).
    pub summary: Option<BacktestReport>,
}

/// Fills the warehouse holds for a run (the paper broker's record).
async fn recorded_fills(wh: &Warehouse, run_id: &str) -> Result<usize> {
    use elite_store::datafusion::prelude::{col, lit};
    let batches = wh
        .read("fills", At::Latest, Some(col("run_id").eq(lit(run_id))))
        .await?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

/// Run the paper trader over the config's bars, resuming from a checkpoint if there is one.
pub async fn run_trader(
    wh: &Warehouse,
    cfg: &BacktestConfig,
    opts: &TraderOptions,
    clock: &dyn Clock,
) -> Result<TraderReport> {
    crate::signals::check_rate(opts.rate)?;
    let path = opts.state_dir.join(format!("trader-{}.json", opts.name));
    let cp = if opts.fresh {
        None
    } else {
        crate::checkpoint::load::<Checkpoint>(&path)?
    };
    if let Some(cp) = &cp
        && cp.name != opts.name
    {
        return Err(Error::Internal(format!(
            "checkpoint {} belongs to trader {}",
            path.display(),
            cp.name
        )));
    }
    let Prepared {
        bars,
        symbols,
        version,
        inputs,
        inputs_id,
    } = load_bars(wh, cfg, cp.as_ref().map(|c| c.bars_version).unwrap_or(None)).await?;
    let run = run_id(cfg, version, &inputs_id, "paper")?;
    let mut engine = build_engine(cfg, &symbols, &inputs)?;
    let (start, mut written) = match &cp {
        Some(c) if c.run_id != run => {
            return Err(Error::Config(format!(
                "checkpoint {} is for run {} but this config and data make run {run}; use --fresh or another --name",
                path.display(),
                c.run_id
            )));
        }
        Some(c) => (c.next_offset as usize, c.written),
        None => (0, Written::default()),
    };
    if start > bars.len() {
        return Err(Error::Internal(format!(
            "checkpoint offset {start} is past the {} bars of version {version:?}",
            bars.len()
        )));
    }
    // Rebuild: replay what was processed before the checkpoint, sending nothing.
    for b in &bars[..start] {
        engine
            .on_bar(b)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    if start == bars.len() {
        engine.finish(); // the run had ended: its last instant was closed
    }
    if start > 0 {
        let rebuilt = Written::all_of(&engine.journal);
        let recorded = recorded_fills(wh, &run).await?;
        if rebuilt != written || recorded < written.fills {
            return Err(Error::Internal(format!(
                "replay up to offset {start} rebuilt {rebuilt:?} but the checkpoint recorded {written:?} \
                 and the warehouse holds {recorded} fills: not trading on a book that does not reconcile"
            )));
        }
    }
    let mut report = TraderReport {
        run_id: run.clone(),
        mode: "paper",
        bars_version: version,
        resumed_from: start as u64,
        bars_processed: 0,
        commits: 0,
        orders_sent: 0,
        fills: 0,
        summary: None,
    };
    let sent_before = engine.journal.submitted.len();
    let fills_before = engine.journal.fills.len();

    // The stream: the replay from the checkpoint on, paced when asked.
    let topic: Topic<Bar> = Topic::new();
    let mut producer = topic.producer();
    let rate = opts.rate;
    let n = bars.len();
    let keys: Vec<std::sync::Arc<str>> = symbols
        .iter()
        .map(|s| std::sync::Arc::from(s.as_str()))
        .collect();
    let feed = std::thread::spawn(move || {
        let t0 = Instant::now();
        for (i, b) in bars.into_iter().enumerate() {
            if let Some(r) = rate.filter(|_| i >= start) {
                let due = Duration::from_secs_f64((i - start) as f64 / r);
                if let Some(wait) = due.checked_sub(t0.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            let key = std::sync::Arc::clone(&keys[b.sym as usize]);
            if producer.send(key, b).is_err() {
                break;
            }
        }
        producer.close();
    });
    let mut consumer = topic.consumer(0);
    consumer.seek(start as u64);
    let mut batch = vec![];
    let mut next = start as u64;
    let mut since = 0usize;
    let commit = async |engine: &elite_trade::engine::Engine,
                        written: &mut Written,
                        next: u64,
                        report: &mut TraderReport|
           -> Result<()> {
        write_journal(wh, &run, engine, &symbols, written).await?;
        crate::checkpoint::save(
            &path,
            &Checkpoint {
                name: opts.name.clone(),
                run_id: run.clone(),
                bars_version: version,
                next_offset: next,
                written: *written,
            },
        )?;
        report.commits += 1;
        Ok(())
    };
    loop {
        batch.clear();
        let polled = tokio::task::block_in_place(|| {
            consumer.poll(1024, Duration::from_millis(50), &mut batch)
        })?;
        for rec in &batch {
            engine
                .on_bar(&rec.value)
                .map_err(|e| Error::Internal(e.to_string()))?;
            next = rec.offset + 1;
            since += 1;
            report.bars_processed += 1;
            if since >= opts.commit_every.max(1) {
                commit(&engine, &mut written, next, &mut report).await?;
                since = 0;
            }
        }
        if matches!(polled, Polled::Closed) {
            break;
        }
    }
    let _ = feed.join();
    if next as usize == n {
        engine.finish();
    }
    commit(&engine, &mut written, next, &mut report).await?;
    engine
        .ledger
        .reconcile(Some(&engine.journal.fills))
        .map_err(|e| Error::Internal(e.to_string()))?;
    report.orders_sent = engine.journal.submitted.len() - sent_before;
    report.fills = engine.journal.fills.len() - fills_before;
    if next as usize == n {
        let summary =
            finish_run(wh, cfg, &run, "paper", version, &engine, &symbols, n, clock).await?;
        report.summary = Some(summary);
    }
    Ok(report)
}
