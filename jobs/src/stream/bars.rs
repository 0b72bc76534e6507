//! `elite run bars`: ticks (or shorter bars) from a topic into completed bars of a timeframe
//! along a session calendar, published to `bars.<tf>` and landed in `bars`.
//!
//! The aggregation is the batch resampler's state machine ([`Resampler`]), one per symbol, fed in
//! topic order — so `elite bars from-ticks` over the landed ticks (each symbol in receive order)
//! gives the same bars, and a bar is published only once complete (a later input of its symbol
//! arrived). Every `commit_every` inputs, and when the input goes quiet for `linger`, the bars
//! since the last commit are landed (keyed: a replay adds nothing), the output topic flushed and
//! the checkpoint — input offset, resampler states, bars published — saved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elite_pipelines::calendar::Calendar;
use elite_pipelines::resample::{OutBar, Resampler, TimedBar};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Bar, BarsBuilder, Symbol, Timeframe, tables};
use serde::{Deserialize, Serialize};

use super::wire::{BarMsg, TickMsg, topic_timeframe};
use super::{Bus, decode, encode, resume_skip};
use crate::transport::{Polled, Sink, Source};
use crate::{Error, Result};

/// How the bars job runs.
#[derive(Clone, Debug)]
pub struct BarsOptions {
    pub name: String,
    /// `ticks` (or any topic of [`TickMsg`]) or `bars.<tf>` of a shorter timeframe.
    pub from: String,
    pub timeframe: Timeframe,
    pub calendar: Calendar,
    pub state_dir: PathBuf,
    pub commit_every: usize,
    /// Land and checkpoint when no input came for this long.
    pub linger: Duration,
    pub fresh: bool,
    /// Stop when the input has been quiet this long (`None`: run until the input is closed).
    pub idle_exit: Option<Duration>,
    /// Report health and metrics here while running.
    pub health: Option<Arc<crate::ops::health::Health>>,
}

impl BarsOptions {
    pub fn to_topic(&self) -> String {
        super::wire::bars_topic(self.timeframe)
    }
}

#[derive(Serialize, Deserialize)]
struct BarsCheckpoint {
    name: String,
    from: String,
    to: String,
    /// The next input offset.
    next_in: u64,
    /// The output topic's end when this job first published.
    out_base: u64,
    /// Bars published up to this checkpoint.
    published: u64,
    resamplers: BTreeMap<String, Resampler>,
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BarsRunReport {
    pub from: String,
    pub to: String,
    pub resumed_from: u64,
    pub inputs: u64,
    pub bars: u64,
    pub published: u64,
    /// Bars a crashed run had published already (not sent again).
    pub already_published: u64,
    pub bars_added: u64,
    /// Bars refused (their symbol cannot name a bar), in `quarantine`.
    pub quarantined: u64,
    pub outside_sessions: u64,
    pub late: u64,
    pub commits: u64,
    pub seconds: f64,
}

fn checkpoint_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("stream-bars-{name}.json"))
}

/// What an input topic carries.
#[derive(Clone, Copy)]
enum Input {
    Ticks,
    Bars,
}

fn input_kind(from: &str, to: Timeframe) -> Result<Input> {
    if let Some(tf) = topic_timeframe(from) {
        let shorter = match (tf.fixed_nanos(), to.fixed_nanos()) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            _ => false,
        };
        if !shorter {
            return Err(Error::Config(format!(
                "bars of {to} cannot be built from {from}: the input's timeframe must be shorter"
            )));
        }
        return Ok(Input::Bars);
    }
    if from.starts_with("ticks") {
        return Ok(Input::Ticks);
    }
    Err(Error::Config(format!(
        "input topic {from}: bars are built from `ticks…` or `bars.<tf>` topics"
    )))
}

/// The bar an aggregated bucket becomes.
pub fn out_bar(symbol: &str, tf: Timeframe, b: &OutBar, source: &str) -> Result<Bar> {
    Ok(Bar {
        symbol: Symbol::new(symbol)?,
        timeframe: tf,
        ts_event: b.ts_event,
        ts_recv: b.ts_recv,
        open: b.bar.open,
        high: b.bar.high,
        low: b.bar.low,
        close: b.bar.close,
        volume: Some(b.bar.volume),
        source: source.into(),
    })
}

/// The quarantine record of a bar whose symbol no bar can have.
fn refused(
    topic: &str,
    offset: u64,
    symbol: &str,
    b: &OutBar,
    e: &Error,
) -> elite_warehouse::QuarantineRecord {
    let raw = serde_json::json!({
        "symbol": symbol, "ts_event": b.ts_event.to_string(), "ts_recv": b.ts_recv.to_string(),
        "open": b.bar.open, "high": b.bar.high, "low": b.bar.low, "close": b.bar.close,
        "volume": b.bar.volume,
    });
    let mut q = elite_warehouse::QuarantineRecord::new(
        &format!("stream:{topic}"),
        tables::BARS.name,
        format!("{topic} offset {offset}: bar {symbol} {}", b.ts_event),
        e.to_string(),
        raw.to_string(),
        "json",
        b.ts_recv,
    );
    q.unit = format!("topic:{topic}");
    q
}

/// Batch form: the bars of `tf` over `ticks` ((symbol, tick), each symbol in receive order).
pub fn bars_from_ticks(
    ticks: &[(Arc<str>, TickMsg)],
    tf: Timeframe,
    cal: &Calendar,
    source: &str,
) -> Result<(Vec<Bar>, u64)> {
    let mut rs: BTreeMap<String, Resampler> = BTreeMap::new();
    let mut out = vec![];
    let mut buf = vec![];
    for (sym, t) in ticks {
        let r = match rs.get_mut(sym.as_ref()) {
            Some(r) => r,
            None => rs
                .entry(sym.to_string())
                .or_insert(Resampler::new(cal.clone(), tf)?),
        };
        buf.clear();
        r.update(&t.timed(), &mut buf);
        for b in &buf {
            // A symbol no bar can have is left out (the stream quarantines it).
            if let Ok(bar) = out_bar(sym, tf, b, source) {
                out.push(bar);
            }
        }
    }
    let outside = rs.values().map(Resampler::outside).sum();
    Ok((out, outside))
}

/// Run the bars job until its input is closed (or quiet for `idle_exit`).
pub async fn run_bars(wh: &Warehouse, bus: &dyn Bus, opts: &BarsOptions) -> Result<BarsRunReport> {
    let started = Instant::now();
    let to = opts.to_topic();
    let kind = input_kind(&opts.from, opts.timeframe)?;
    let path = checkpoint_path(&opts.state_dir, &opts.name);
    let mut sink = bus.sink(&to)?;
    let mut src = bus.source(&opts.from)?;
    let cp = if opts.fresh || bus.in_process() {
        None
    } else {
        crate::checkpoint::load::<BarsCheckpoint>(&path)?
    };
    let mut cp = match cp {
        Some(cp) if cp.from != opts.from || cp.to != to => {
            return Err(Error::Config(format!(
                "checkpoint {} is of bars {} → {}, not {} → {to}: start it with --fresh",
                path.display(),
                cp.from,
                cp.to,
                opts.from
            )));
        }
        Some(cp) => cp,
        None => {
            let cp = BarsCheckpoint {
                name: opts.name.clone(),
                from: opts.from.clone(),
                to: to.clone(),
                next_in: 0,
                out_base: sink.end()?,
                published: 0,
                resamplers: BTreeMap::new(),
            };
            // The output's base is durable before the first bar is sent (see run_feed).
            if !bus.in_process() {
                crate::checkpoint::save(&path, &cp)?;
            }
            cp
        }
    };
    let mut skip = resume_skip(&to, sink.end()?, cp.out_base, cp.published)?;
    let mut report = BarsRunReport {
        from: opts.from.clone(),
        to: to.clone(),
        resumed_from: cp.next_in,
        already_published: skip,
        ..Default::default()
    };
    src.seek(cp.next_in);
    let source = format!("stream:{}", opts.from);
    let mut rows = BarsBuilder::default();
    let mut quarantine = vec![];
    let mut batch = vec![];
    let mut buf = vec![];
    let mut since_commit = 0usize;
    let mut quiet_since = Instant::now();
    let mut next_in = cp.next_in;
    let mut published = cp.published;
    let input_closed = loop {
        batch.clear();
        let polled =
            tokio::task::block_in_place(|| src.poll(1024, Duration::from_millis(50), &mut batch))?;
        for rec in &batch {
            let input = match kind {
                Input::Ticks => decode::<TickMsg>(&opts.from, rec)?.timed(),
                Input::Bars => decode::<BarMsg>(&opts.from, rec)?.timed(),
            };
            let r = match cp.resamplers.get_mut(rec.key.as_ref()) {
                Some(r) => r,
                None => cp
                    .resamplers
                    .entry(rec.key.to_string())
                    .or_insert(Resampler::new(opts.calendar.clone(), opts.timeframe)?),
            };
            buf.clear();
            r.update(&input, &mut buf);
            for b in &buf {
                report.bars += 1;
                let bar = match out_bar(&rec.key, opts.timeframe, b, &source) {
                    Ok(bar) => bar,
                    // A key no bar can have (an index name with spaces): kept in quarantine,
                    // not published, as the batch leaves it out.
                    Err(e) => {
                        quarantine.push(refused(&opts.from, rec.offset, &rec.key, b, &e));
                        report.quarantined += 1;
                        continue;
                    }
                };
                rows.push(&bar);
                published += 1;
                if skip > 0 {
                    skip -= 1;
                } else {
                    let msg = BarMsg::from_timed(&TimedBar {
                        ts_event: b.ts_event,
                        ts_recv: b.ts_recv,
                        bar: b.bar,
                    });
                    sink.send(Arc::clone(&rec.key), encode(&msg)?)?;
                    report.published += 1;
                }
            }
            next_in = rec.offset + 1;
            report.inputs += 1;
            since_commit += 1;
            if since_commit >= opts.commit_every {
                commit(
                    wh,
                    opts,
                    &path,
                    &mut cp,
                    &mut rows,
                    &mut quarantine,
                    &mut sink,
                    next_in,
                    published,
                    &mut report,
                    bus.in_process(),
                )
                .await?;
                since_commit = 0;
            }
        }
        if !batch.is_empty() {
            quiet_since = Instant::now();
        }
        if let Some(h) = &opts.health {
            h.fact("inputs", report.inputs);
            h.fact("bars", report.bars);
            h.beat()?;
        }
        let quiet = quiet_since.elapsed();
        let closed = polled == Polled::Closed;
        let idle_done = opts.idle_exit.is_some_and(|d| quiet >= d);
        if since_commit > 0 && (closed || idle_done || quiet >= opts.linger) {
            commit(
                wh,
                opts,
                &path,
                &mut cp,
                &mut rows,
                &mut quarantine,
                &mut sink,
                next_in,
                published,
                &mut report,
                bus.in_process(),
            )
            .await?;
            since_commit = 0;
        }
        if closed || idle_done {
            break closed;
        }
    };
    // The input ended: so does the output (its consumers finish too).
    if input_closed {
        sink.close();
    }
    report.outside_sessions = cp.resamplers.values().map(Resampler::outside).sum();
    report.late = cp.resamplers.values().map(Resampler::late).sum();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn commit(
    wh: &Warehouse,
    opts: &BarsOptions,
    path: &Path,
    cp: &mut BarsCheckpoint,
    rows: &mut BarsBuilder,
    quarantine: &mut Vec<elite_warehouse::QuarantineRecord>,
    sink: &mut super::ByteSink,
    next_in: u64,
    published: u64,
    report: &mut BarsRunReport,
    bus_in_process: bool,
) -> Result<()> {
    if !rows.is_empty() {
        let meta = CommitMeta::new(format!("stream-bars:{}", opts.name))
            .with("topic", opts.from.as_str())
            .with("next_offset", next_in);
        let out = wh
            .insert_new(&tables::BARS, vec![std::mem::take(rows).finish()?], meta)
            .await?;
        report.bars_added += out.rows_added as u64;
    }
    if !quarantine.is_empty() {
        let mut qb = elite_warehouse::QuarantineBuilder::default();
        quarantine.drain(..).for_each(|q| qb.push(q));
        wh.insert_new(
            &tables::QUARANTINE,
            vec![qb.finish()?],
            CommitMeta::new(format!("stream-bars:{}", opts.name)),
        )
        .await?;
    }
    sink.flush()?;
    cp.next_in = next_in;
    cp.published = published;
    report.commits += 1;
    if bus_in_process {
        return Ok(());
    }
    crate::checkpoint::save(path, cp)
}

/// The `ticks` table (optionally only `symbols`) as (symbol, tick), in the order a live feed
/// delivers them: by receive time, then symbol, then trade time.
pub async fn read_ticks(wh: &Warehouse, symbols: &[String]) -> Result<Vec<(Arc<str>, TickMsg)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
    use elite_store::At;
    use elite_store::datafusion::prelude::{col, lit};
    let filter = (!symbols.is_empty())
        .then(|| col("symbol").in_list(symbols.iter().map(|s| lit(s.as_str())).collect(), false));
    let batches = wh.read("ticks", At::Latest, filter).await?;
    let mut names: BTreeMap<String, Arc<str>> = BTreeMap::new();
    let mut out = vec![];
    for b in &batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| Error::Internal(format!("ticks has no column {name}")))
        };
        let sym = arrow::compute::cast(col("symbol")?, &arrow::datatypes::DataType::Utf8)?;
        let sym = sym.as_string::<i32>();
        let te = col("ts_event")?.as_primitive::<TimestampMicrosecondType>();
        let tr = col("ts_recv")?.as_primitive::<TimestampMicrosecondType>();
        let price = col("price")?.as_primitive::<Float64Type>();
        let size = col("size")?.as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            let s = sym.value(i);
            let symbol = Arc::clone(names.entry(s.to_string()).or_insert_with(|| Arc::from(s)));
            out.push((
                symbol,
                TickMsg {
                    ts_event: elite_warehouse::Timestamp::from_nanos(te.value(i) * 1000),
                    ts_recv: elite_warehouse::Timestamp::from_nanos(tr.value(i) * 1000),
                    price: price.value(i),
                    size: size.is_valid(i).then(|| size.value(i)),
                },
            ));
        }
    }
    out.sort_by(|a, b| (a.1.ts_recv, &a.0, a.1.ts_event).cmp(&(b.1.ts_recv, &b.0, b.1.ts_event)));
    Ok(out)
}

/// What `elite bars from-ticks` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FromTicksReport {
    pub ticks: usize,
    pub bars: usize,
    pub outside_sessions: u64,
    pub bars_added: usize,
    pub bars_version: Option<u64>,
}

/// Batch: bars of `tf` from the `ticks` table, landed in `bars` (source `ticks`) unless
/// `dry_run`; returns the bars too.
pub async fn land_bars_from_ticks(
    wh: &Warehouse,
    symbols: &[String],
    tf: Timeframe,
    cal: &Calendar,
    dry_run: bool,
) -> Result<(FromTicksReport, Vec<Bar>)> {
    let ticks = read_ticks(wh, symbols).await?;
    let (bars, outside) = bars_from_ticks(&ticks, tf, cal, "ticks")?;
    let mut report = FromTicksReport {
        ticks: ticks.len(),
        bars: bars.len(),
        outside_sessions: outside,
        ..Default::default()
    };
    if !dry_run && !bars.is_empty() {
        let mut rows = BarsBuilder::default();
        bars.iter().for_each(|b| rows.push(b));
        let out = wh
            .insert_new(
                &tables::BARS,
                vec![rows.finish()?],
                CommitMeta::new("bars-from-ticks").with("timeframe", tf.to_string()),
            )
            .await?;
        report.bars_added = out.rows_added;
        report.bars_version = out.version;
    }
    Ok((report, bars))
}
