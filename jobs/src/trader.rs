//! `elite run trader`: the trade engine fed by a stream, against the paper broker.
//!
//! The run's events (its [`Intake`]: bars at one version with the predictions and signal events
//! its strategies trade, in delivery order) come through a [`Source`](crate::transport::Source) —
//! here the embedded transport fed by a replay of the intake, optionally paced — exactly as a
//! live feed would deliver them; the engine, strategies, risk and execution are the backtest's
//! (`elite backtest` on the same config gives the same orders and fills: tested).
//!
//! Following (`--follow`): the trader keeps its session open, reads the tables again
//! ([`PaperTrader::refresh`], the same [`Intake::refresh`] as the live trader) and streams what
//! landed since — bars, and the predictions and signal events its `ml` and `event` strategies
//! trade — so inputs that land after it started are traded exactly as a backtest over the whole
//! period trades them (tested). A following run is the config (its run id does not depend on a
//! bars version, as a live run's), and has no end: it commits and stops when asked.
//!
//! Durability: every `commit_every` bars the journal entries since the last commit (orders,
//! fills, risk decisions, equity) are written to the warehouse, keyed by (run id, sequence
//! number), and then a checkpoint (bars version, next offset, rows written) is replaced
//! atomically under `<state_dir>/trader-<name>.json`. On restart the runner rebuilds the engine
//! by replaying the events before the checkpoint ([`crate::run::replay`], as the live trader
//! does) without sending anything, checks that the rebuilt
//! journal equals what the warehouse recorded (the paper broker's books: the fills), and only then
//! goes on from the checkpoint. Orders already recorded are never sent again (their sequence
//! numbers are below the checkpoint, and the idempotent insert refuses a second copy); a rebuilt
//! journal that disagrees with the recorded fills stops the runner instead of trading on.

use std::path::PathBuf;

use elite_store::{At, Warehouse};
use elite_trade::event::Event;
use elite_warehouse::Clock;
use serde::Serialize;

use crate::ops::alerts::Request;
use crate::ops::watch::{Ops, TraderOps};
use crate::run::operate::{self, Step};
use crate::run::session::load_checkpoint;
use crate::run::{Intake, RunConfig, RunReport, Session, build_engine, finish_run, run_id};
use crate::transport::{self, Polled, Source};
use crate::{Error, Result};

mod stream;
pub use stream::{Reader, Step as StreamStep, TraderInput};

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
    /// Keep the session open for what lands later ([`PaperTrader::refresh`]): the run is the
    /// config, not one bars version, and it does not end when the events do.
    pub follow: bool,
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
    /// Inputs (predictions, signal events) that landed after their bar was processed, left out.
    pub late_inputs: usize,
    /// The final run summary (written when the stream ends; never while following).
    pub summary: Option<RunReport>,
}

/// Fills the warehouse holds for a run (the paper broker's record).
async fn recorded_fills(wh: &Warehouse, run_id: &str) -> Result<usize> {
    use elite_store::datafusion::prelude::{col, lit};
    let batches = wh
        .read("fills", At::Latest, Some(col("run_id").eq(lit(run_id))))
        .await?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

/// A paper trading session: the run's [`Session`] fed through a transport topic.
pub struct PaperTrader {
    pub session: Session,
    cfg: RunConfig,
    opts: TraderOptions,
    /// Bars processed since the last commit.
    since: usize,
    sent_before: usize,
    fills_before: usize,
    pub report: TraderReport,
    /// Metrics, health, alerts and chat commands (see [`PaperTrader::operate`]).
    pub ops: Option<TraderOps>,
    /// On the live chain's topics: the bars topic and the bars read from it (kept in the
    /// checkpoint for `elite stream status`).
    stream_pos: Option<StreamPos>,
}

/// Where a trader on the topics is in its bars topic.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct StreamPos {
    pub topic: String,
    pub position: u64,
    /// The run had ended (its input closed, its last instant closed) when this was recorded.
    #[serde(default)]
    pub ended: bool,
}

impl PaperTrader {
    /// Open (or resume) paper trader `opts.name` for `cfg`: resuming replays the intake up to
    /// the checkpoint and checks the rebuilt journal against it and the warehouse.
    pub async fn open(wh: &Warehouse, cfg: &RunConfig, opts: &TraderOptions) -> Result<Self> {
        crate::signals::check_rate(opts.rate)?;
        let path = opts.state_dir.join(format!("trader-{}.json", opts.name));
        let cp = load_checkpoint::<Option<StreamPos>>(&path, &opts.name, opts.fresh)?;
        let cp_version = if opts.follow {
            None
        } else {
            cp.as_ref().and_then(|c| c.bars_version)
        };
        let late = cp.as_ref().map(|c| c.late.clone()).unwrap_or_default();
        let intake = Intake::load(wh, cfg, cp_version, &late).await?;
        let run = if opts.follow {
            run_id(cfg, None, "", "paper")?
        } else {
            run_id(cfg, intake.version, &intake.inputs_id, "paper")?
        };
        let engine = build_engine(cfg, &intake.symbols, &intake.inputs, None)?;
        let version = intake.version;
        let mut s = Session::open(&opts.name, path, run, engine, intake, cp.as_ref())?;
        let start = s.offset;
        if start == s.intake.events.len() && !opts.follow {
            s.engine.finish(); // the run had ended: its last instant was closed
        }
        if let Some(cp) = &cp
            && start > 0
        {
            let recorded = recorded_fills(wh, &s.run_id).await?;
            s.check_rebuilt(cp, "")?;
            if recorded < cp.written.fills {
                return Err(Error::Internal(format!(
                    "the checkpoint recorded {} fills but the warehouse holds {recorded}: \
                     not trading on a book that does not reconcile",
                    cp.written.fills
                )));
            }
        }
        let report = TraderReport {
            run_id: s.run_id.clone(),
            mode: "paper",
            bars_version: version,
            resumed_from: start as u64,
            bars_processed: 0,
            commits: 0,
            orders_sent: 0,
            fills: 0,
            late_inputs: 0,
            summary: None,
        };
        Ok(PaperTrader {
            sent_before: s.engine.journal.submitted.len(),
            fills_before: s.engine.journal.fills.len(),
            session: s,
            cfg: cfg.clone(),
            opts: opts.clone(),
            since: 0,
            report,
            ops: None,
            stream_pos: None,
        })
    }

    /// Report metrics and health, raise alerts and answer commands through `ops` from now on.
    pub fn operate(&mut self, ops: Ops) {
        ops.health.set("broker", true, "paper broker (in process)");
        ops.health.fact("run_id", &self.session.run_id);
        self.ops = Some(TraderOps::new(ops, &self.session.engine));
    }

    /// After a step: metrics, checks and alerts; then the commands that came in.
    async fn observe(
        &mut self,
        wh: &Warehouse,
        new_bars: u64,
        latest: Option<elite_warehouse::Timestamp>,
        lag: u64,
    ) -> Result<()> {
        let Some(o) = &mut self.ops else {
            return Ok(());
        };
        o.observe(&self.session.engine, new_bars, latest, lag);
        for (check, sym) in &o.view.refusals {
            let symbol = sym
                .and_then(|i| self.session.intake.symbols.get(i as usize))
                .map_or("", |s| s.as_str());
            tracing::info!(symbol, check = check.as_str(), "order refused by risk");
        }
        o.ops
            .health
            .fact("bars_processed", self.report.bars_processed + new_bars);
        for r in o.ops.pending() {
            self.answer(wh, r).await?;
        }
        Ok(())
    }

    /// Answer an operator's command in its chat; `/halt` and `/resume` go through the engine as
    /// [`Event::Control`], are kept for replay and committed at once.
    pub async fn answer(&mut self, wh: &Warehouse, r: Request) -> Result<()> {
        let text = self.command(wh, &r).await?;
        if let Some(o) = &mut self.ops {
            // What the command changed (the kill switch) shows at once, not at the next step.
            o.observe(&self.session.engine, 0, None, 0);
            o.ops.reply(r.chat_id, text);
        }
        Ok(())
    }

    /// Carry out `r` and say what happened.
    pub async fn command(&mut self, wh: &Warehouse, r: &Request) -> Result<String> {
        let who = format!("paper trader {}", self.opts.name);
        let bars = self.report.bars_processed;
        let ev = match operate::respond(r, &self.session, &who, bars, self.ops.as_ref()) {
            Ok(ev) => ev,
            Err(text) => return Ok(text),
        };
        let halt = matches!(ev, Event::Control { halt: true, .. });
        let before = self.session.engine.journal.submitted.len();
        let at = self.session.offset as u64;
        self.session.record(at, ev)?;
        self.commit(wh).await?;
        let sent = self.session.engine.journal.submitted.len() - before;
        Ok(operate::control_reply(halt, sent))
    }

    /// Bars not processed yet.
    pub fn remaining(&self) -> usize {
        self.session.intake.bars_from(self.session.offset)
    }

    /// Stream the events not processed yet through a topic (bars paced when asked) and process
    /// them, committing every `commit_every` bars. Returns the bars processed.
    pub async fn run(&mut self, wh: &Warehouse) -> Result<u64> {
        let s = &mut self.session;
        let start = s.offset;
        let events: Vec<Event> = s.intake.events[start..].to_vec();
        if events.is_empty() {
            return Ok(0);
        }
        let keys: Vec<std::sync::Arc<str>> = s
            .intake
            .symbols
            .iter()
            .map(|x| std::sync::Arc::from(x.as_str()))
            .collect();
        let keyed = events.into_iter().map(move |e| {
            let sym = match &e {
                Event::Bar(b) => b.sym,
                other => other.input_key().map_or(0, |k| k.0),
            };
            (
                keys.get(sym as usize).cloned().unwrap_or_else(|| "".into()),
                e,
            )
        });
        let (topic, feed) =
            transport::paced_feed(keyed, self.opts.rate, |_, e| matches!(e, Event::Bar(_)));
        let mut consumer = topic.consumer(0);
        let mut batch = vec![];
        let mut bars = 0u64;
        let latency = self.ops.as_ref().map(TraderOps::decision_latency);
        let result: Result<()> = async {
            loop {
                batch.clear();
                let polled = transport::poll_blocking(&mut consumer, &mut batch)?;
                let delivered = std::time::Instant::now();
                let (mut new_bars, mut latest) = (0u64, None);
                for rec in &batch {
                    self.session.engine.process(&rec.value)?;
                    self.session.offset = start + rec.offset as usize + 1;
                    if let Event::Bar(b) = &rec.value {
                        self.since += 1;
                        bars += 1;
                        new_bars += 1;
                        latest = Some(b.ts_recv);
                        if let Some(h) = &latency {
                            h.observe(delivered.elapsed().as_secs_f64());
                        }
                    }
                    if self.since >= self.opts.commit_every.max(1) {
                        self.commit(wh).await?;
                        self.since = 0;
                    }
                }
                if self.ops.is_some() {
                    let lag = topic.len().saturating_sub(consumer.position());
                    self.observe(wh, new_bars, latest, lag).await?;
                }
                if matches!(polled, Polled::Closed) {
                    return Ok(());
                }
            }
        }
        .await;
        // On an error the feed is left to finish on its own (a paced one may still be sleeping).
        result?;
        let _ = feed.join();
        self.report.bars_processed += bars;
        Ok(bars)
    }

    /// Read the tables again and take in what landed since (the `--follow` loop; see
    /// [`Intake::refresh`]). Returns (new bars, new inputs); late inputs are counted in the
    /// report.
    pub async fn refresh(&mut self, wh: &Warehouse) -> Result<(usize, usize)> {
        let (bars, inputs, late) = self
            .session
            .intake
            .refresh(wh, &self.cfg, self.session.offset)
            .await?;
        self.report.late_inputs += late;
        if bars > 0 {
            self.report.bars_version = self.session.intake.version;
        }
        Ok((bars, inputs))
    }

    /// Write the journal since the last commit, then the checkpoint.
    pub async fn commit(&mut self, wh: &Warehouse) -> Result<()> {
        let version = if self.opts.follow {
            None
        } else {
            self.session.intake.version
        };
        self.session
            .commit(wh, version, self.stream_pos.clone())
            .await?;
        self.report.commits += 1;
        if let Some(o) = &self.ops {
            crate::ops::metrics::committed(&o.ops.labels);
        }
        Ok(())
    }

    /// Keep trading what lands: every `secs` seconds read the tables again and process what is
    /// new; answer commands as they come; until `stop` resolves (a tick in progress finishes).
    pub async fn follow(
        &mut self,
        wh: &Warehouse,
        secs: f64,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        if let Some(o) = &mut self.ops {
            o.following = true;
        }
        tokio::pin!(stop);
        let mut every = operate::ticker(secs).await;
        loop {
            let step = operate::next_step(&mut self.ops, &mut every, &mut stop).await;
            match step {
                Step::Stop => return Ok(()),
                Step::Command(r) => self.answer(wh, r).await?,
                Step::NoCommands => {
                    if let Some(o) = &mut self.ops {
                        o.ops.commands = None;
                    }
                }
                Step::Tick => {
                    let (bars, inputs) = self.refresh(wh).await?;
                    if bars + inputs > 0 {
                        self.run(wh).await?;
                        self.commit(wh).await?;
                    }
                    self.observe(wh, 0, None, 0).await?;
                }
            }
        }
    }

    /// Commit and report. A run that is not following and has processed all its events ends:
    /// its last instant is closed and its summary written to `runs`.
    pub async fn close(mut self, wh: &Warehouse, clock: &dyn Clock) -> Result<TraderReport> {
        let n = self.session.intake.events.len();
        let ends = !self.opts.follow && self.session.offset == n;
        if ends && self.report.resumed_from < n as u64 {
            self.session.engine.finish();
        }
        if ends && let Some(p) = self.stream_pos.as_mut() {
            p.ended = true;
        }
        self.commit(wh).await?;
        let s = &self.session;
        s.engine.ledger.reconcile(Some(&s.engine.journal.fills))?;
        self.report.orders_sent = s.engine.journal.submitted.len() - self.sent_before;
        self.report.fills = s.engine.journal.fills.len() - self.fills_before;
        if ends {
            let summary = finish_run(
                wh,
                &self.cfg,
                &s.run_id,
                "paper",
                s.intake.version,
                &s.engine,
                &s.intake.symbols,
                s.intake.bars.len(),
                clock,
            )
            .await?;
            self.report.summary = Some(summary);
        }
        Ok(self.report)
    }
}

/// Run the paper trader over the config's events, resuming from a checkpoint if there is one.
pub async fn run_trader(
    wh: &Warehouse,
    cfg: &RunConfig,
    opts: &TraderOptions,
    clock: &dyn Clock,
) -> Result<TraderReport> {
    let mut t = PaperTrader::open(wh, cfg, opts).await?;
    t.run(wh).await?;
    t.close(wh, clock).await
}
