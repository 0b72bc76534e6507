//! The paper trader on the live chain's topics (`elite run trader --paper --from bars.1m
//! --signals signals --predictions predictions`).
//!
//! Bars come from a `bars.<tf>` topic; the signal runner publishes, for every bar it read, one
//! record of that bar's signals and one of its predictions (possibly empty), so the trader knows
//! when a bar's inputs are complete. Bars are gathered by instant (`ts_recv`) and an instant is
//! fed as soon as it is complete — every traded symbol has its bar and each bar's records have
//! arrived, or a later instant began, or the topic ended — in the warehouse intake's order (the
//! inputs, then the bars by symbol), so the trader on the topics trades exactly what the trader
//! on the landed tables trades (tested). Nothing is read from the warehouse but the calendars.
//!
//! Durability is the paper trader's: the journal is written, then the checkpoint (events
//! processed). A restart reads the topics again from the start up to the checkpoint (the events
//! are a function of the topics), replays them without sending anything, checks the rebuilt
//! journal against the warehouse, and goes on.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use elite_store::Warehouse;
use elite_trade::event::Event;
use elite_trade::strategies::{MlConfig, StrategySpec};
use elite_trade::types::Bar;
use elite_warehouse::{Timeframe, Timestamp};

use super::{PaperTrader, TraderOptions, TraderReport, recorded_fills};
use crate::bars::BarEvent;
use crate::run::config::day;
use crate::run::inputs::{model_matches, stream_inputs};
use crate::run::session::load_checkpoint;
use crate::run::{Intake, Session, build_engine, run_id};
use crate::stream::wire::{BarEvents, PerBar, PredictionMsg, SignalMsg, topic_timeframe};
use crate::stream::{Bus, ByteSource, Typed};
use crate::transport::{Polled, Record, Source};
use crate::{Error, Result};

/// The topics a trader on the live chain reads.
#[derive(Clone)]
pub struct TraderInput {
    pub bus: Arc<dyn Bus>,
    /// The `bars.<tf>` topic.
    pub bars: String,
    /// The signal runner's per-bar signals topic (`event` strategies need it).
    pub signals: Option<String>,
    /// The signal runner's per-bar predictions topic (`ml` strategies need it).
    pub predictions: Option<String>,
}

/// One per-bar output topic of the signal runner, read alongside the bars.
struct Side<T> {
    topic: String,
    src: Typed<ByteSource, PerBar<T>>,
    buf: VecDeque<PerBar<T>>,
    closed: bool,
}

impl<T: serde::de::DeserializeOwned> Side<T> {
    fn open(bus: &dyn Bus, topic: &str) -> Result<Self> {
        Ok(Self {
            topic: topic.to_string(),
            src: Typed::new(bus.source(topic)?, topic),
            buf: VecDeque::new(),
            closed: false,
        })
    }

    /// Whether the record for input bar `k` has arrived (waiting up to `timeout` for it).
    fn ready(&mut self, k: u64, timeout: Duration) -> Result<bool> {
        loop {
            while self.buf.front().is_some_and(|f| f.bar < k) {
                self.buf.pop_front();
            }
            if let Some(f) = self.buf.front() {
                if f.bar == k {
                    return Ok(true);
                }
                return Err(Error::Transport {
                    topic: self.topic.clone(),
                    reason: format!(
                        "no record for bar {k} (the next is for bar {}): the signal runner must read \
                         the same bars topic from its start",
                        f.bar
                    ),
                });
            }
            if self.closed {
                return Err(Error::Transport {
                    topic: self.topic.clone(),
                    reason: format!("the topic ended before bar {k}'s record"),
                });
            }
            let mut got: Vec<Record<PerBar<T>>> = vec![];
            let polled = tokio::task::block_in_place(|| self.src.poll(4096, timeout, &mut got))?;
            self.closed = polled == Polled::Closed;
            if got.is_empty() && !self.closed {
                return Ok(false);
            }
            self.buf.extend(got.into_iter().map(|r| r.value));
        }
    }

    fn take(&mut self) -> Option<PerBar<T>> {
        self.buf.pop_front()
    }
}

/// What comes of a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Events fed (bars with their inputs).
    Bars(usize),
    /// Nothing complete yet.
    Idle,
    /// The bars topic ended and every bar was fed.
    Closed,
}

/// The topics turned into the engine's events, bar by bar.
pub struct Reader {
    bars: BarEvents,
    bars_topic: String,
    bus: Arc<dyn Bus>,
    signals: Option<Side<SignalMsg>>,
    predictions: Option<Side<PredictionMsg>>,
    pending: VecDeque<Record<BarEvent>>,
    closed: bool,
    symbols: HashMap<String, u32>,
    /// The `ml` strategies' (model, source).
    models: Vec<(String, String)>,
    dates: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    /// The instant (`ts_recv`) being gathered, its bars (with their inputs) not fed yet, and
    /// whether it was fed already (complete: every symbol had its bar).
    instant: Option<Timestamp>,
    held: Vec<(Vec<Event>, Bar)>,
    fed_instant: bool,
    /// Input bars read so far.
    pub position: u64,
    /// Bars that came after a later instant had been fed (left out, as a live feed must).
    pub late: usize,
}

impl Reader {
    fn open(input: &TraderInput, cfg: &crate::run::RunConfig, symbols: &[String]) -> Result<Self> {
        let tf = topic_timeframe(&input.bars).ok_or_else(|| {
            Error::Config(format!(
                "--from {}: the trader reads a `bars.<timeframe>` topic",
                input.bars
            ))
        })?;
        if tf != Timeframe::parse(&cfg.data.timeframe)? {
            return Err(Error::Config(format!(
                "--from {} carries {tf} bars but the config trades {}",
                input.bars, cfg.data.timeframe
            )));
        }
        let models: Vec<(String, String)> = cfg
            .strategies
            .iter()
            .filter_map(|s| match &s.spec {
                StrategySpec::Ml(MlConfig { model, source, .. }) => {
                    Some((model.clone(), source.clone()))
                }
                _ => None,
            })
            .collect();
        let events = cfg
            .strategies
            .iter()
            .any(|s| matches!(s.spec, StrategySpec::Event(_)));
        if events && input.signals.is_none() {
            return Err(Error::Config(
                "the config has `event` strategies: name the signals topic (--signals)".into(),
            ));
        }
        if !models.is_empty() && input.predictions.is_none() {
            return Err(Error::Config(
                "the config has `ml` strategies: name the predictions topic (--predictions)".into(),
            ));
        }
        let dates = (
            cfg.data
                .start
                .as_deref()
                .map(|s| day(s, "start"))
                .transpose()?,
            cfg.data.end.as_deref().map(|s| day(s, "end")).transpose()?,
        );
        Ok(Self {
            bars: BarEvents::new(input.bus.source(&input.bars)?, &input.bars, tf),
            bars_topic: input.bars.clone(),
            bus: Arc::clone(&input.bus),
            signals: input
                .signals
                .as_deref()
                .map(|t| Side::open(&*input.bus, t))
                .transpose()?,
            predictions: input
                .predictions
                .as_deref()
                .map(|t| Side::open(&*input.bus, t))
                .transpose()?,
            pending: VecDeque::new(),
            closed: false,
            symbols: symbols
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect(),
            models,
            dates,
            instant: None,
            held: vec![],
            fed_instant: false,
            position: 0,
            late: 0,
        })
    }

    /// Bars not read yet.
    pub fn lag(&self) -> u64 {
        self.bus
            .end(&self.bars_topic)
            .unwrap_or(0)
            .saturating_sub(self.position)
    }

    /// Append the events of the next instants whose bars and inputs have all arrived to `out`
    /// (waiting up to `timeout` for something to come; stopping once `out` holds `stop_at`
    /// events).
    ///
    /// One instant is fed in the warehouse intake's order — every bar's inputs, then the bars
    /// by symbol — as soon as it is complete: every traded symbol has its bar, or a bar of a
    /// later instant came (a symbol without a bar in it), or the topic ended. A bar of an instant
    /// already fed is late: left out and counted.
    pub fn next(
        &mut self,
        timeout: Duration,
        stop_at: Option<usize>,
        out: &mut Vec<Event>,
    ) -> Result<Step> {
        if self.pending.is_empty() && !self.closed {
            let mut got = vec![];
            let polled = tokio::task::block_in_place(|| self.bars.poll(1024, timeout, &mut got))?;
            self.closed = polled == Polled::Closed;
            self.pending.extend(got);
        }
        let before = out.len();
        let mut read = 0;
        while let Some(front) = self.pending.front() {
            if stop_at.is_some_and(|n| out.len() >= n) {
                break;
            }
            let k = front.offset;
            // Once something was read, do not wait on the next bar's inputs.
            let wait = if read == 0 { timeout } else { Duration::ZERO };
            if let Some(s) = self.signals.as_mut()
                && !s.ready(k, wait)?
            {
                break;
            }
            if let Some(p) = self.predictions.as_mut()
                && !p.ready(k, wait)?
            {
                break;
            }
            let Some(rec) = self.pending.pop_front() else {
                break;
            };
            let signals = self.signals.as_mut().and_then(Side::take);
            let predictions = self.predictions.as_mut().and_then(Side::take);
            self.position = k + 1;
            read += 1;
            let b = &rec.value;
            let Some(&sym) = self.symbols.get(&*b.symbol) else {
                continue;
            };
            let d = b.ts_event.to_datetime().date_naive();
            if self.dates.0.is_some_and(|s| d < s) || self.dates.1.is_some_and(|e| d > e) {
                continue;
            }
            match self.instant {
                Some(t) if b.ts_recv < t || (b.ts_recv == t && self.fed_instant) => {
                    self.late += 1;
                    continue;
                }
                Some(t) if b.ts_recv > t => self.feed(out),
                _ => {}
            }
            if self.instant != Some(b.ts_recv) {
                self.instant = Some(b.ts_recv);
                self.fed_instant = false;
            }
            let mut inputs = vec![];
            for s in signals.iter().flat_map(|s| &s.items) {
                inputs.push(Event::Signal {
                    sym,
                    ts_event: s.ts_event,
                    rule: s.rule.clone(),
                    direction: s.direction.clamp(-1, 1),
                    strength: s.strength,
                    known: s.ts_recv,
                });
            }
            for p in predictions.iter().flat_map(|p| &p.items) {
                for (model, source) in &self.models {
                    if *source == p.source && model_matches(model, &p.model_id) {
                        inputs.push(Event::Prediction {
                            model: model.clone(),
                            sym,
                            ts_event: Timestamp::from_nanos(p.ts_event * 1000),
                            score: p.score,
                            known: Timestamp::from_nanos(p.ts_recv * 1000),
                        });
                    }
                }
            }
            self.held.push((
                inputs,
                Bar {
                    sym,
                    ts_event: b.ts_event,
                    ts_recv: b.ts_recv,
                    open: b.bar.open,
                    high: b.bar.high,
                    low: b.bar.low,
                    close: b.bar.close,
                    volume: b.bar.volume,
                },
            ));
            let mut syms: Vec<u32> = self.held.iter().map(|(_, b)| b.sym).collect();
            syms.sort_unstable();
            syms.dedup();
            if syms.len() == self.symbols.len() {
                self.feed(out);
            }
        }
        if self.closed && self.pending.is_empty() {
            self.feed(out);
        }
        Ok(if out.len() > before {
            Step::Bars(out.len() - before)
        } else if self.closed && self.pending.is_empty() {
            Step::Closed
        } else {
            Step::Idle
        })
    }

    /// Feed the held instant: every bar's inputs, then the bars by symbol (then `ts_event`).
    fn feed(&mut self, out: &mut Vec<Event>) {
        if self.held.is_empty() {
            return;
        }
        self.held.sort_by_key(|(_, b)| (b.sym, b.ts_event));
        let held = std::mem::take(&mut self.held);
        let mut bars = Vec::with_capacity(held.len());
        for (inputs, b) in held {
            out.extend(inputs);
            bars.push(Event::Bar(b));
        }
        out.extend(bars);
        self.fed_instant = true;
    }
}

const POLL: Duration = Duration::from_millis(50);

impl PaperTrader {
    /// Open (or resume) paper trader `opts.name` on the live chain's topics: resuming reads the
    /// topics again up to the checkpoint, replays those events and checks the rebuilt journal
    /// against the checkpoint and the warehouse.
    pub async fn open_stream(
        wh: &Warehouse,
        cfg: &crate::run::RunConfig,
        opts: &TraderOptions,
        input: &TraderInput,
    ) -> Result<(Self, Reader)> {
        if cfg.data.symbols.is_empty() {
            return Err(Error::Config(
                "a trader on a stream trades the symbols its config names ([data] symbols)".into(),
            ));
        }
        let mut symbols = cfg.data.symbols.clone();
        symbols.sort();
        symbols.dedup();
        let path = opts.state_dir.join(format!("trader-{}.json", opts.name));
        let cp = load_checkpoint::<Option<super::StreamPos>>(&path, &opts.name, opts.fresh)?;
        let (inputs, inputs_id) = stream_inputs(wh, cfg, &symbols).await?;
        let run = run_id(cfg, None, &format!("stream:{}", input.bars), "paper")?;
        let engine = build_engine(cfg, &symbols, &inputs, None)?;
        let mut intake = Intake::stream(symbols.clone(), inputs, inputs_id);
        let mut reader = Reader::open(input, cfg, &symbols)?;
        // The events before the checkpoint, read again from the topics.
        let upto = cp.as_ref().map_or(0, |c| c.next_offset as usize);
        while intake.events.len() < upto {
            let before = intake.events.len();
            if reader.next(POLL, Some(upto), &mut intake.events)? == Step::Closed {
                break;
            }
            for e in &intake.events[before..] {
                if let Event::Bar(b) = e {
                    intake.bars.push(*b);
                }
            }
        }
        if intake.events.len() != upto {
            return Err(Error::Internal(format!(
                "the checkpoint is at event {upto} but the topics give {} events there: \
                 not trading on a history that changed (start with --fresh)",
                intake.events.len()
            )));
        }
        let mut s = Session::open(&opts.name, path, run, engine, intake, cp.as_ref())?;
        // A run whose input had closed had closed its last instant too before its checkpoint:
        // so does the replay (a kill after that final commit left it to check).
        if cp
            .as_ref()
            .is_some_and(|c| c.extra.as_ref().is_some_and(|p| p.ended))
        {
            s.engine.finish();
        }
        if let Some(cp) = &cp
            && upto > 0
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
            bars_version: None,
            resumed_from: upto as u64,
            bars_processed: 0,
            commits: 0,
            orders_sent: 0,
            fills: 0,
            late_inputs: 0,
            summary: None,
        };
        Ok((
            PaperTrader {
                sent_before: s.engine.journal.submitted.len(),
                fills_before: s.engine.journal.fills.len(),
                session: s,
                cfg: cfg.clone(),
                opts: opts.clone(),
                since: 0,
                report,
                ops: None,
                stream_pos: Some(super::StreamPos {
                    ended: false,
                    topic: input.bars.clone(),
                    position: reader.position,
                }),
            },
            reader,
        ))
    }

    /// Trade what the topics deliver until the bars topic ends, committing every
    /// `commit_every` bars and whenever the input goes quiet. Returns the bars processed.
    pub async fn run_stream(&mut self, wh: &Warehouse, reader: &mut Reader) -> Result<u64> {
        let latency = self.ops.as_ref().map(super::TraderOps::decision_latency);
        let mut events = vec![];
        let mut bars = 0u64;
        loop {
            events.clear();
            let step = reader.next(POLL, None, &mut events)?;
            let delivered = std::time::Instant::now();
            let (mut new_bars, mut latest) = (0u64, None);
            for e in events.drain(..) {
                self.session.engine.process(&e)?;
                if let Event::Bar(b) = &e {
                    self.session.intake.bars.push(*b);
                    self.since += 1;
                    new_bars += 1;
                    latest = Some(b.ts_recv);
                    if let Some(h) = &latency {
                        h.observe(delivered.elapsed().as_secs_f64());
                    }
                }
                self.session.intake.events.push(e);
                self.session.offset = self.session.intake.events.len();
            }
            bars += new_bars;
            self.stream_pos = Some(super::StreamPos {
                ended: false,
                topic: reader.bars_topic.clone(),
                position: reader.position,
            });
            // Commits fall between instants: a restart rebuilds whole instants.
            if self.since >= self.opts.commit_every.max(1) || (step == Step::Idle && self.since > 0)
            {
                self.commit(wh).await?;
                self.since = 0;
            }
            if self.ops.is_some() {
                self.observe(wh, new_bars, latest, reader.lag()).await?;
            }
            if step == Step::Closed {
                break;
            }
        }
        self.report.bars_processed += bars;
        self.report.late_inputs = reader.late;
        Ok(bars)
    }
}
