//! The streaming signal runner: bars in, rule signals out, restartable without loss or
//! duplicates.
//!
//! Bars come through a [`Source`](crate::transport::Source) (here: the embedded transport fed by
//! a replay of the warehouse's `bars` table at a fixed version, in `ts_recv` order, optionally
//! paced). Each bar updates that symbol's [`SignalEngine`]; signals are written to the `signals`
//! table in commits of `commit_every` bars, and only after a commit is durable is the checkpoint
//! (table version read, next offset, every engine's state) replaced atomically (write + rename).
//!
//! After a crash the runner restarts from the checkpoint: same table version, so the same
//! offsets; the engines resume exactly where they were; records after the checkpoint are
//! replayed, and the signals they produce again are already in the table (keyed on symbol,
//! timeframe, rule, ts_event), so nothing is lost and nothing is duplicated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use elite_pipelines::calendar::Calendar;
use elite_pipelines::signals::{Signal, SignalEngine};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{SignalRow, SignalsBuilder, Symbol, Timeframe, tables};
use serde::{Deserialize, Serialize};

use crate::bars::{BarEvent, BarQuery, read_bars};
use crate::features::{FeatureState, LiveFeatures};
use crate::ops::metrics::{Ewm, job, metrics, unix_now, with};
use crate::stream::wire::{PerBar, PredictionMsg, SignalMsg};
use crate::transport::{self, Polled, Source};

/// Options of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// A name for this runner; its checkpoint file is `<state_dir>/signals-<name>.json`.
    pub name: String,
    pub query: BarQuery,
    /// Bars per signals commit (and checkpoint).
    pub commit_every: usize,
    /// Replay pacing: bars per second (`None`: as fast as possible).
    pub rate: Option<f64>,
    pub state_dir: PathBuf,
    /// Forget any checkpoint and start from the beginning.
    pub fresh: bool,
    /// Enable the multi-timeframe rule: the higher timeframe and the calendar to build it along.
    pub mtf: Option<Mtf>,
    /// Model groups whose production and shadow models predict every bar (into `predictions`).
    pub models: Vec<String>,
    /// Report metrics (`elite_*{job="signals",name}`) and health here while running.
    pub health: Option<Arc<crate::ops::health::Health>>,
    /// Read bars from this topic (live) instead of replaying the `bars` table.
    pub input: Option<StreamInput>,
    /// Compute this feature set on every bar into `features` (the rows `features build` lands).
    pub features: Option<elite_pipelines::features::FeatureSet>,
}

/// A `bars.<tf>` topic on a transport, as the runner's input.
#[derive(Clone)]
pub struct StreamInput {
    pub bus: Arc<dyn crate::stream::Bus>,
    pub topic: String,
    /// Publish each bar's signals to this topic too (one record per bar read, exactly once,
    /// like the table).
    pub out: Option<String>,
    /// Publish each bar's model predictions to this topic (one record per bar read).
    pub predictions: Option<String>,
}

/// A per-bar output topic's producer and what the checkpoint counts of it.
struct Publisher {
    sink: crate::stream::ByteSink,
    base: u64,
    published: u64,
    /// Records a crashed run had published already (recomputed, not sent again).
    skip: u64,
}

impl Publisher {
    /// The producer of `topic`, resuming after `base`/`published` from a checkpoint.
    fn open(
        bus: &dyn crate::stream::Bus,
        topic: &str,
        resumed: Option<(u64, u64)>,
    ) -> crate::Result<Self> {
        let sink = bus.sink(topic)?;
        let (base, published) = match resumed {
            Some(r) => r,
            None => (sink.end()?, 0),
        };
        let skip = crate::stream::resume_skip(topic, sink.end()?, base, published)?;
        Ok(Self {
            sink,
            base,
            published,
            skip,
        })
    }

    fn publish<T: Serialize>(
        &mut self,
        key: &Arc<str>,
        msg: &crate::stream::wire::PerBar<T>,
    ) -> crate::Result<()> {
        self.published += 1;
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(());
        }
        self.sink
            .send(Arc::clone(key), crate::stream::encode(msg)?)?;
        Ok(())
    }

    fn position(p: &Option<Self>) -> (Option<u64>, u64) {
        (
            p.as_ref().map(|p| p.base),
            p.as_ref().map_or(0, |p| p.published),
        )
    }
}

/// The runner's output topics.
#[derive(Default)]
struct Publishers {
    signals: Option<Publisher>,
    predictions: Option<Publisher>,
}

impl Publishers {
    fn flush(&mut self) -> crate::Result<()> {
        for p in [&mut self.signals, &mut self.predictions]
            .into_iter()
            .flatten()
        {
            p.sink.flush()?;
        }
        Ok(())
    }
    fn close(&mut self) {
        for p in [&mut self.signals, &mut self.predictions]
            .into_iter()
            .flatten()
        {
            p.sink.close();
        }
    }
}

impl std::fmt::Debug for StreamInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.topic, self.bus.describe())
    }
}

/// A higher timeframe for the multi-timeframe rule.
#[derive(Clone, Debug)]
pub struct Mtf {
    pub calendar: Calendar,
    pub higher: Timeframe,
}

fn new_engine(mtf: Option<&Mtf>) -> crate::Result<SignalEngine> {
    match mtf {
        Some(m) => SignalEngine::with_mtf(m.calendar.clone(), m.higher),
        None => SignalEngine::new(),
    }
    .map_err(crate::Error::from)
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    pub bars_version: Option<u64>,
    pub resumed_from: u64,
    pub bars_processed: u64,
    pub signals_emitted: u64,
    pub signals_added: u64,
    pub predictions_emitted: u64,
    pub predictions_added: u64,
    pub features_emitted: u64,
    pub features_added: u64,
    pub commits: u64,
    pub seconds: f64,
}

/// The runner's checkpoint: what it read, where it is, and every engine's state. Generic over
/// how the engines are held, so saving borrows them instead of cloning every state.
#[derive(Serialize, Deserialize)]
struct Checkpoint<E, F> {
    name: String,
    bars_version: Option<u64>,
    /// The input topic (none: the replay of the `bars` table).
    #[serde(default)]
    topic: Option<String>,
    /// The offset of the next bar to process.
    next_offset: u64,
    /// The signals topic's end when this runner first published to it, and the signals
    /// published up to this checkpoint.
    #[serde(default)]
    out_base: Option<u64>,
    #[serde(default)]
    published: u64,
    /// The same for the predictions topic.
    #[serde(default)]
    pred_base: Option<u64>,
    #[serde(default)]
    pred_published: u64,
    engines: E,
    /// The live feature engines (with `--features`).
    #[serde(default = "none")]
    features: Option<F>,
}

fn none<F>() -> Option<F> {
    None
}

type Engines = HashMap<String, SignalEngine>;

fn checkpoint_path(o: &RunOptions) -> PathBuf {
    o.state_dir.join(format!("signals-{}.json", o.name))
}

/// Feed `b` to its (symbol, timeframe) engine, created on first sight; its signals go to `fired`.
fn fire(
    engines: &mut Engines,
    mtf: Option<&Mtf>,
    b: &BarEvent,
    fired: &mut Vec<Signal>,
) -> crate::Result<()> {
    let e = match engines.entry(format!("{}|{}", b.symbol, b.timeframe)) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => v.insert(new_engine(mtf)?),
    };
    fired.clear();
    e.update(&b.timed(), fired);
    Ok(())
}

/// The rows of one bar's signals.
pub fn signal_rows(b: &BarEvent, signals: &[Signal]) -> crate::Result<Vec<SignalRow>> {
    let symbol = Symbol::new(b.symbol.as_ref())?;
    Ok(signals
        .iter()
        .map(|s| SignalRow {
            symbol: symbol.clone(),
            timeframe: b.timeframe,
            ts_event: b.ts_event,
            ts_recv: b.ts_recv,
            rule: s.rule.to_string(),
            direction: s.direction,
            strength: s.strength,
            features: s.features_json(),
        })
        .collect())
}

/// Batch form: every signal over `bars` (any order of symbols; each symbol in time order).
/// The stream form must give the same rows (tested).
pub fn signals_batch(bars: &[BarEvent], mtf: Option<&Mtf>) -> crate::Result<Vec<SignalRow>> {
    let mut engines = Engines::new();
    let mut fired = vec![];
    let mut out = vec![];
    for b in bars {
        fire(&mut engines, mtf, b, &mut fired)?;
        out.extend(signal_rows(b, &fired)?);
    }
    Ok(out)
}

/// A replay pace must be a finite number of bars per second above 0 (else the producer thread
/// would panic computing its schedule and the runner would wait for it forever).
pub fn check_rate(rate: Option<f64>) -> crate::Result<()> {
    match rate {
        Some(r) if !(r.is_finite() && r > 0.0) => Err(crate::Error::Config(format!(
            "rate {r} bars/s: must be a finite number above 0"
        ))),
        _ => Ok(()),
    }
}

/// Run the signal runner over a replay of the warehouse's bars until the replay ends.
pub async fn run(
    wh: &Warehouse,
    opts: &RunOptions,
    progress: &dyn crate::progress::Reporter,
) -> crate::Result<RunReport> {
    let started = Instant::now();
    check_rate(opts.rate)?;
    let path = checkpoint_path(opts);
    let mut cp = if opts.fresh {
        None
    } else {
        crate::checkpoint::load::<Checkpoint<Engines, FeatureState>>(&path)?
    };
    let mut query = opts.query.clone();
    if let Some(cp) = &cp {
        if cp.name != opts.name {
            return Err(crate::Error::Internal(format!(
                "checkpoint {} belongs to runner {}",
                path.display(),
                cp.name
            )));
        }
        let topic = opts.input.as_ref().map(|i| i.topic.clone());
        if cp.topic != topic {
            return Err(crate::Error::Config(format!(
                "checkpoint {} was read from {}, not {}: start it with --fresh",
                path.display(),
                cp.topic.as_deref().unwrap_or("the bars table"),
                topic.as_deref().unwrap_or("the bars table"),
            )));
        }
        query.version = cp.bars_version;
    }
    // Model predictions: the models' feature state is rebuilt from the bars before the
    // checkpoint (deterministic), so only the signal engines need checkpointing.
    let mut predictors = if opts.models.is_empty() {
        None
    } else {
        Some(crate::models::LivePredictors::load(wh, &opts.models).await?)
    };
    let resume = cp.as_ref().map_or(0, |c| c.next_offset);
    let mut features = match &opts.features {
        None => None,
        Some(set) => {
            let state = match cp.as_mut() {
                Some(c) if c.next_offset > 0 => Some(c.features.take().ok_or_else(|| {
                    crate::Error::Config(format!(
                        "checkpoint {} has no feature state (it ran without --features): start it with --fresh",
                        path.display()
                    ))
                })?),
                _ => None,
            };
            Some(LiveFeatures::new(set.clone(), state)?)
        }
    };
    // Where feature rows say they came from: the bars table's version, or the topic's offset.
    let source_table = opts
        .input
        .as_ref()
        .map_or_else(|| "bars".to_string(), |i| i.topic.clone());
    let mut publishers = Publishers::default();
    if let Some(input) = &opts.input {
        if let Some(out) = &input.out {
            let resumed = cp
                .as_ref()
                .and_then(|c| c.out_base.map(|b| (b, c.published)));
            publishers.signals = Some(Publisher::open(&*input.bus, out, resumed)?);
        }
        if let Some(out) = &input.predictions {
            if predictors.is_none() {
                return Err(crate::Error::Config(format!(
                    "predictions to {out}: name the model groups to serve (--models)"
                )));
            }
            let resumed = cp
                .as_ref()
                .and_then(|c| c.pred_base.map(|b| (b, c.pred_published)));
            publishers.predictions = Some(Publisher::open(&*input.bus, out, resumed)?);
        }
    }
    let resumed = cp.is_some();
    let (mut engines, start) = match cp {
        Some(cp) => (cp.engines, cp.next_offset),
        None => (Engines::new(), 0),
    };
    let (mut consumer, lag, feed, version, total) = match &opts.input {
        None => {
            let (bars, version) = read_bars(wh, &query).await?;
            if let Some(p) = predictors.as_mut() {
                let mut none = vec![];
                for b in bars.iter().take(resume as usize) {
                    p.on_bar(b, false, &mut none)?;
                }
            }
            let total = bars.len() as u64;
            // Producer: the replay, paced when asked, publishing from the checkpointed offset
            // on. Bars before the checkpoint keep their offsets but are not paced (nobody reads
            // them).
            let resume_at = start as usize;
            let keyed = bars.into_iter().map(|b| (Arc::clone(&b.symbol), b));
            let (topic, feed) = transport::paced_feed(keyed, opts.rate, move |i, _| i >= resume_at);
            let consumer: Box<dyn Source<BarEvent> + Send> = Box::new(topic.consumer(0));
            let lag: Box<dyn Fn(u64) -> u64 + Send> =
                Box::new(move |pos| topic.len().saturating_sub(pos));
            (consumer, lag, Some(feed), version, Some(total))
        }
        Some(input) => {
            let tf = crate::stream::wire::topic_timeframe(&input.topic).ok_or_else(|| {
                crate::Error::Config(format!(
                    "input topic {}: signals read a `bars.<timeframe>` topic",
                    input.topic
                ))
            })?;
            let open = || -> crate::Result<Box<dyn Source<BarEvent> + Send>> {
                Ok(Box::new(crate::stream::wire::BarEvents::new(
                    input.bus.source(&input.topic)?,
                    &input.topic,
                    tf,
                )))
            };
            if let Some(p) = predictors.as_mut()
                && resume > 0
            {
                let mut warm = open()?;
                let mut got = vec![];
                let mut none = vec![];
                while warm.position() < resume {
                    got.clear();
                    let want = (resume - warm.position()) as usize;
                    if tokio::task::block_in_place(|| {
                        warm.poll(
                            want.min(4096),
                            std::time::Duration::from_millis(200),
                            &mut got,
                        )
                    })? == Polled::Closed
                        && got.is_empty()
                    {
                        break;
                    }
                    for b in &got {
                        p.on_bar(&b.value, false, &mut none)?;
                    }
                }
            }
            let bus = Arc::clone(&input.bus);
            let topic = input.topic.clone();
            let lag: Box<dyn Fn(u64) -> u64 + Send> =
                Box::new(move |pos| bus.end(&topic).unwrap_or(0).saturating_sub(pos));
            (open()?, lag, None, None, None)
        }
    };
    let mut report = RunReport {
        bars_version: version,
        resumed_from: start,
        ..Default::default()
    };
    progress.stage("signals", total.map(|t| t.saturating_sub(start)));
    consumer.seek(start);
    // Where this runner's records begin on its output topics is durable before the first one
    // is sent: a run killed before its first commit must not take a later end as its base (it
    // would send its first records twice).
    if !resumed && (publishers.signals.is_some() || publishers.predictions.is_some()) {
        commit(
            wh,
            opts,
            &mut SignalsBuilder::default(),
            &mut vec![],
            &engines,
            &mut features,
            version,
            start,
            &path,
            &mut RunReport::default(),
            &mut publishers,
        )
        .await?;
    }
    let mut batch = vec![];
    let mut rows = SignalsBuilder::default();
    let mut preds = vec![];
    let mut fired = vec![];
    let mut since_commit = 0usize;
    let mut next_offset = start;
    let labels = job("signals", &opts.name);
    let m = metrics();
    let latency = m.bar_to_signal.get_or_create(&labels).clone();
    let mut drift: HashMap<String, Ewm> = HashMap::new();
    let mut latest = None;
    loop {
        batch.clear();
        let polled = transport::poll_blocking(&mut consumer, &mut batch)?;
        let delivered = Instant::now();
        let signals_before = report.signals_emitted;
        for rec in &batch {
            let b = &rec.value;
            fire(&mut engines, opts.mtf.as_ref(), b, &mut fired)?;
            report.signals_emitted += fired.len() as u64;
            let made = signal_rows(b, &fired)?;
            if let Some(f) = features.as_mut() {
                let source_version = match (&opts.input, version) {
                    (None, v) => v.map_or(-1, |v| v as i64),
                    (Some(_), _) => rec.offset as i64,
                };
                report.features_emitted += f.on_bar(b, &source_table, source_version)? as u64;
            }
            if let Some(p) = publishers.signals.as_mut() {
                p.publish(
                    &b.symbol,
                    &PerBar {
                        bar: rec.offset,
                        ts_event: b.ts_event,
                        ts_recv: b.ts_recv,
                        items: made.iter().map(SignalMsg::of).collect(),
                    },
                )?;
            }
            for r in made {
                rows.push(r);
            }
            if let Some(p) = predictors.as_mut() {
                let before = preds.len();
                p.on_bar(b, true, &mut preds)?;
                report.predictions_emitted += (preds.len() - before) as u64;
                for p in &preds[before..] {
                    let l = vec![("model", p.model_id.clone())];
                    m.predictions.get_or_create(&l).inc();
                    let e = drift.entry(p.model_id.clone()).or_default();
                    e.push(p.score, 0.01);
                    m.prediction_score_mean.get_or_create(&l).set(e.mean());
                    m.prediction_score_stddev.get_or_create(&l).set(e.stddev());
                }
                if let Some(out) = publishers.predictions.as_mut() {
                    out.publish(
                        &b.symbol,
                        &PerBar {
                            bar: rec.offset,
                            ts_event: b.ts_event,
                            ts_recv: b.ts_recv,
                            items: preds[before..].iter().map(PredictionMsg::of).collect(),
                        },
                    )?;
                }
            }
            latency.observe(delivered.elapsed().as_secs_f64());
            latest = Some(b.ts_recv);
            next_offset = rec.offset + 1;
            since_commit += 1;
            report.bars_processed += 1;
            if since_commit >= opts.commit_every {
                commit(
                    wh,
                    opts,
                    &mut rows,
                    &mut preds,
                    &engines,
                    &mut features,
                    version,
                    next_offset,
                    &path,
                    &mut report,
                    &mut publishers,
                )
                .await?;
                since_commit = 0;
                progress.progress(report.bars_processed);
            }
        }
        m.bars_processed
            .get_or_create(&labels)
            .inc_by(batch.len() as u64);
        m.signals_emitted
            .get_or_create(&labels)
            .inc_by(report.signals_emitted - signals_before);
        m.consumer_lag
            .get_or_create(&with(&labels, "topic", "bars"))
            .set(lag(consumer.position()) as i64);
        if let Some(t) = latest {
            m.data_age
                .get_or_create(&labels)
                .set(unix_now() - t.as_nanos() as f64 / 1e9);
        }
        if let Some(h) = &opts.health {
            h.fact("bars_processed", report.bars_processed);
            h.fact("signals_emitted", report.signals_emitted);
            h.fact("predictions_emitted", report.predictions_emitted);
            if let Some(t) = latest {
                h.fact("latest_bar_ts_recv", t);
            }
            h.beat()?;
        }
        if polled == Polled::Closed {
            break;
        }
        // A live input that went quiet: land what came so far (its signals are due now).
        if batch.is_empty() && since_commit > 0 && opts.input.is_some() {
            commit(
                wh,
                opts,
                &mut rows,
                &mut preds,
                &engines,
                &mut features,
                version,
                next_offset,
                &path,
                &mut report,
                &mut publishers,
            )
            .await?;
            since_commit = 0;
        }
    }
    commit(
        wh,
        opts,
        &mut rows,
        &mut preds,
        &engines,
        &mut features,
        version,
        next_offset,
        &path,
        &mut report,
        &mut publishers,
    )
    .await?;
    // The input ended: so do the output topics.
    publishers.close();
    if let Some(feed) = feed {
        let _ = feed.join();
    }
    progress.progress(report.bars_processed);
    progress.finish();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn commit(
    wh: &Warehouse,
    opts: &RunOptions,
    rows: &mut SignalsBuilder,
    preds: &mut Vec<crate::models::PredictionRow>,
    engines: &Engines,
    features: &mut Option<LiveFeatures>,
    version: Option<u64>,
    next_offset: u64,
    path: &Path,
    report: &mut RunReport,
    publishers: &mut Publishers,
) -> crate::Result<()> {
    publishers.flush()?;
    if !rows.is_empty() {
        let batch = rows.finish()?;
        let meta = CommitMeta::new(format!("signals:{}", opts.name))
            .with(
                "bars_version",
                version.map_or(serde_json::Value::Null, Into::into),
            )
            .with("next_offset", next_offset);
        let out = wh.insert_new(&tables::SIGNALS, vec![batch], meta).await?;
        report.signals_added += out.rows_added as u64;
        report.commits += 1;
        let l = job("signals", &opts.name);
        metrics().commits.get_or_create(&l).inc();
        metrics()
            .rows_ingested
            .get_or_create(&vec![("table", "signals".to_string())])
            .inc_by(out.rows_added as u64);
    }
    if !preds.is_empty() {
        let meta =
            CommitMeta::new(format!("signals:{}", opts.name)).with("next_offset", next_offset);
        report.predictions_added +=
            crate::models::insert_predictions(wh, preds, meta).await? as u64;
        preds.clear();
    }
    if let Some(f) = features.as_mut() {
        let meta =
            CommitMeta::new(format!("signals:{}", opts.name)).with("next_offset", next_offset);
        report.features_added += f.land(wh, meta).await?;
    }
    metrics()
        .last_success
        .get_or_create(&job("signals", &opts.name))
        .set(unix_now());
    // Only now, with the signals durable, does the checkpoint move forward.
    crate::checkpoint::save(
        path,
        &Checkpoint {
            name: opts.name.clone(),
            bars_version: version,
            topic: opts.input.as_ref().map(|i| i.topic.clone()),
            next_offset,
            out_base: Publisher::position(&publishers.signals).0,
            published: Publisher::position(&publishers.signals).1,
            pred_base: Publisher::position(&publishers.predictions).0,
            pred_published: Publisher::position(&publishers.predictions).1,
            engines,
            features: features.as_ref().map(LiveFeatures::state),
        },
    )
}
