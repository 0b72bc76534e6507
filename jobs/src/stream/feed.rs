//! `elite run feed`: ticks onto the `ticks` topic and into the warehouse's `ticks` table.
//!
//! The source here is a **replay** of recorded Upstox feed frames ([`replay_ticks`]): the frames
//! are decoded by the live feed's decoder, and their ticks — the first `span` of them — are
//! repeated every `step`, from `start` on, to make a session of any length; each repetition's
//! prices are scaled by a seeded random walk so the bars built from them move. A replay is
//! deterministic (same frames and options, same ticks), which is what makes a restarted feed job
//! exactly-once on its topic: it recomputes the ticks and publishes only those beyond what the
//! topic holds.
//!
//! Each chunk of `commit_every` ticks is published (paced at `rate` ticks per second when
//! given), landed in `ticks` (keyed on symbol, ts_event, ts_recv: a replayed chunk adds nothing),
//! then the topic is flushed and the checkpoint (ticks done) saved.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elite_collectors::upstox::decode_feed;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{FixedClock, TicksBuilder, Timestamp, tables};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::wire::TickMsg;
use super::{Bus, encode, resume_skip};
use crate::transport::Sink;
use crate::{Error, Result};

/// How recorded frames become a session of ticks.
#[derive(Clone, Debug)]
pub struct Replay {
    /// A directory of recorded frames (`*.bin`, in name order).
    pub dir: PathBuf,
    /// Frames whose receive time is within this of the first frame's make one cycle.
    pub span: Duration,
    /// A cycle is repeated this many times …
    pub repeat: usize,
    /// … every `step` (at least the cycle's span) …
    pub step: Duration,
    /// … the first one shifted to start here (default: where it was recorded).
    pub start: Option<Timestamp>,
    /// The standard deviation of the log price change between repetitions (0: none).
    pub walk: f64,
    pub seed: u64,
}

/// A session of ticks: (symbol, tick) in publishing order, with what was left out.
#[derive(Clone, Debug, Default)]
pub struct ReplayTicks {
    pub ticks: Vec<(Arc<str>, elite_warehouse::Tick)>,
    pub frames_used: usize,
    pub frames_outside_span: usize,
    pub ticks_per_cycle: usize,
    pub quarantined: usize,
}

/// Decode the frames and repeat them as [`Replay`] says.
pub fn replay_ticks(r: &Replay) -> Result<ReplayTicks> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&r.dir)
        .map_err(|source| Error::Read {
            path: r.dir.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Config(format!(
            "{}: no recorded frames (*.bin)",
            r.dir.display()
        )));
    }
    let mut out = ReplayTicks::default();
    let mut cycle = vec![];
    let mut first: Option<Timestamp> = None;
    for p in &paths {
        let bytes = std::fs::read(p).map_err(|source| Error::Read {
            path: p.display().to_string(),
            source,
        })?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Frames carry their own receive time (currentTs); a frame without one is stamped
        // with the epoch, which no span contains.
        let d = decode_feed(&bytes, &name, &FixedClock(Timestamp::from_nanos(0)));
        let t0 = *first.get_or_insert(d.ts_recv);
        let within =
            d.ts_recv >= t0 && d.ts_recv.as_nanos() - t0.as_nanos() <= r.span.as_nanos() as i64;
        if !within {
            out.frames_outside_span += 1;
            continue;
        }
        out.frames_used += 1;
        out.quarantined += d.quarantine.len();
        cycle.extend(d.ticks);
    }
    let Some(t0) = first else {
        return Ok(out);
    };
    let span_ns = cycle
        .iter()
        .map(|t| t.ts_recv.as_nanos().max(t.ts_event.as_nanos()) - t0.as_nanos())
        .max()
        .unwrap_or(0);
    let step = r.step.as_nanos() as i64;
    if r.repeat > 1 && step <= span_ns {
        return Err(Error::Config(format!(
            "replay step {:?} must be longer than the cycle it repeats ({:.3} s)",
            r.step,
            span_ns as f64 / 1e9
        )));
    }
    out.ticks_per_cycle = cycle.len();
    let shift0 = r.start.map_or(0, |s| s.as_nanos() - t0.as_nanos());
    let normal = Normal::new(0.0, r.walk.max(0.0))
        .map_err(|e| Error::Config(format!("replay walk {}: {e}", r.walk)))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(r.seed);
    let mut log_level = 0.0f64;
    for k in 0..r.repeat {
        if k > 0 && r.walk > 0.0 {
            log_level += normal.sample(&mut rng);
        }
        let scale = log_level.exp();
        let shift = shift0 + k as i64 * step;
        for t in &cycle {
            let mut t = t.clone();
            t.ts_event = Timestamp::from_nanos(t.ts_event.as_nanos() + shift);
            t.ts_recv = Timestamp::from_nanos(t.ts_recv.as_nanos() + shift);
            t.price *= scale;
            t.source = "upstox-feed:replay".into();
            out.ticks.push((Arc::from(t.symbol.as_str()), t));
        }
    }
    Ok(out)
}

/// How the feed job runs.
#[derive(Clone, Debug)]
pub struct FeedOptions {
    pub name: String,
    pub topic: String,
    pub state_dir: PathBuf,
    pub commit_every: usize,
    /// Ticks per second (`None`: as fast as possible).
    pub rate: Option<f64>,
    pub fresh: bool,
    /// Leave the topic open at the end (a feed that will continue later).
    pub keep_open: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct FeedCheckpoint {
    name: String,
    topic: String,
    /// The topic's end when this feed first published.
    base: u64,
    /// Ticks landed and published.
    next: u64,
    total: u64,
}

/// What a feed run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FeedRunReport {
    pub ticks: u64,
    pub resumed_from: u64,
    pub published: u64,
    /// Ticks a crashed run had published already (not sent again).
    pub already_published: u64,
    pub ticks_added: u64,
    pub commits: u64,
    pub seconds: f64,
}

fn checkpoint_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("stream-feed-{name}.json"))
}

/// Publish and land `ticks` (from [`replay_ticks`]), resuming from the checkpoint.
pub async fn run_feed(
    wh: &Warehouse,
    bus: &dyn Bus,
    ticks: &[(Arc<str>, elite_warehouse::Tick)],
    opts: &FeedOptions,
) -> Result<FeedRunReport> {
    let started = Instant::now();
    crate::signals::check_rate(opts.rate)?;
    let path = checkpoint_path(&opts.state_dir, &opts.name);
    let mut sink = bus.sink(&opts.topic)?;
    let cp = if opts.fresh || bus.in_process() {
        None
    } else {
        crate::checkpoint::load::<FeedCheckpoint>(&path)?
    };
    let mut cp = match cp {
        Some(cp) if cp.topic != opts.topic || cp.total != ticks.len() as u64 => {
            return Err(Error::Config(format!(
                "checkpoint {} is of a feed of {} ticks to topic {}, not this one ({} ticks to \
                 {}): start it with --fresh",
                path.display(),
                cp.total,
                cp.topic,
                ticks.len(),
                opts.topic
            )));
        }
        Some(cp) => cp,
        None => {
            let cp = FeedCheckpoint {
                name: opts.name.clone(),
                topic: opts.topic.clone(),
                base: sink.end()?,
                next: 0,
                total: ticks.len() as u64,
            };
            // Where this feed's records begin on the topic is durable before the first one is
            // sent: a run killed before its first commit must not start counting again from a
            // later end (it would send its first records twice).
            if !bus.in_process() {
                crate::checkpoint::save(&path, &cp)?;
            }
            cp
        }
    };
    let on_topic = cp.next + resume_skip(&opts.topic, sink.end()?, cp.base, cp.next)?;
    let mut report = FeedRunReport {
        ticks: ticks.len() as u64,
        resumed_from: cp.next,
        already_published: on_topic - cp.next,
        ..Default::default()
    };
    let t0 = Instant::now();
    let mut paced = 0u64;
    while (cp.next as usize) < ticks.len() {
        let from = cp.next as usize;
        let chunk = &ticks[from..(from + opts.commit_every.max(1)).min(ticks.len())];
        let mut rows = TicksBuilder::default();
        for (i, (sym, t)) in chunk.iter().enumerate() {
            let idx = (from + i) as u64;
            if idx >= on_topic {
                if let Some(rate) = opts.rate {
                    let due = Duration::from_secs_f64(paced as f64 / rate);
                    if let Some(wait) = due.checked_sub(t0.elapsed()) {
                        tokio::time::sleep(wait).await;
                    }
                    paced += 1;
                }
                sink.send(Arc::clone(sym), encode(&TickMsg::of(t))?)?;
                report.published += 1;
            }
            rows.push(t.clone());
        }
        let meta = CommitMeta::new(format!("stream-feed:{}", opts.name))
            .with("topic", opts.topic.as_str())
            .with("next", from as u64 + chunk.len() as u64);
        let out = wh
            .insert_new(&tables::TICKS, vec![rows.finish()?], meta)
            .await?;
        report.ticks_added += out.rows_added as u64;
        report.commits += 1;
        sink.flush()?;
        cp.next += chunk.len() as u64;
        if !bus.in_process() {
            crate::checkpoint::save(&path, &cp)?;
        }
    }
    if !opts.keep_open {
        sink.close();
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
