//! `elite run feed`, `elite run bars`, `elite stream status`, `elite bars from-ticks`: the live
//! chain's jobs and their batch twin.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use elite_jobs::stream::Bus;
use elite_pipelines::calendar::Calendar;
use elite_warehouse::{Timeframe, Timestamp};
use serde::Serialize;

use super::jobctl::{start_ops, state_dir};
use super::user_bail;
use crate::args::{FromTicksArgs, RunBarsArgs, RunFeedArgs, StreamCommand, TransportArgs};
use crate::printer::Printer;
use crate::settings::Settings;

/// The transport a `--transport` value names. `separate`: the job runs alone in this process,
/// so an in-process transport would reach nobody.
pub fn open_bus(a: &TransportArgs, separate: bool) -> Result<Arc<dyn Bus>> {
    if a.transport.starts_with("fluvio://") {
        return elite_fluvio::open(&a.transport)
            .map_err(|e| super::UserError(e.to_string()).into());
    }
    let bus =
        elite_jobs::stream::open(&a.transport).map_err(|e| super::UserError(e.to_string()))?;
    if separate && bus.in_process() {
        user_bail!(
            "the embedded transport reaches only this process: give the live chain's jobs a shared \
             --transport (file:DIR on one machine, or fluvio://HOST:PORT)"
        );
    }
    Ok(bus)
}

async fn calendar(wh: &elite_store::Warehouse, name: &str) -> Result<Calendar> {
    Calendar::by_name(name).map_err(|e| super::UserError(e.to_string()))?;
    Ok(elite_jobs::calendar::load_calendar(wh, name).await?)
}

pub async fn run_feed(a: RunFeedArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let bus = open_bus(&a.transport, true)?;
    let wh = settings.warehouse()?;
    let state_dir = state_dir(&wh, &a.state_dir)?;
    let start = a
        .start
        .as_deref()
        .map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| super::UserError(format!("--start: {e}")))?;
    let replay = elite_jobs::stream::feed::Replay {
        dir: a.replay.clone(),
        span: Duration::from_secs_f64(a.span),
        repeat: a.repeat,
        step: Duration::from_secs_f64(a.step),
        start,
        walk: a.walk,
        seed: a.seed,
    };
    let ticks = elite_jobs::stream::feed::replay_ticks(&replay)
        .map_err(|e| super::UserError(e.to_string()))?;
    printer.note(format!(
        "feed {}: {} ticks ({} per cycle from {} frames; {} frames outside the span, {} feeds quarantined) to {} on {}",
        a.name,
        ticks.ticks.len(),
        ticks.ticks_per_cycle,
        ticks.frames_used,
        ticks.frames_outside_span,
        ticks.quarantined,
        a.to,
        bus.describe()
    ));
    let opts = elite_jobs::stream::feed::FeedOptions {
        name: a.name.clone(),
        topic: a.to.clone(),
        state_dir,
        commit_every: a.commit_every,
        rate: a.rate,
        fresh: a.fresh,
        keep_open: a.keep_open,
    };
    let report = elite_jobs::stream::feed::run_feed(&wh, bus.as_ref(), &ticks.ticks, &opts)
        .await
        .with_context(|| format!("feed {}", a.name))?;
    printer.records(&[report])
}

pub async fn run_bars(a: RunBarsArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let bus = open_bus(&a.transport, true)?;
    let wh = settings.warehouse()?;
    let state_dir = state_dir(&wh, &a.state_dir)?;
    let timeframe = Timeframe::parse(&a.timeframe).map_err(|e| super::UserError(e.to_string()))?;
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{timeframe}", a.from));
    let ops = start_ops("bars", &name, &state_dir, &a.ops, settings, printer).await?;
    let opts = elite_jobs::stream::bars::BarsOptions {
        name: name.clone(),
        from: a.from.clone(),
        timeframe,
        calendar: calendar(&wh, &a.calendar).await?,
        state_dir,
        commit_every: a.commit_every,
        linger: Duration::from_millis(a.linger_ms),
        fresh: a.fresh,
        idle_exit: a.idle_exit.map(Duration::from_secs_f64),
        health: Some(ops.health.clone()),
    };
    let out = elite_jobs::stream::bars::run_bars(&wh, bus.as_ref(), &opts).await;
    ops.finish(out.as_ref().map(|_| ()).map_err(|e| e.to_string()))
        .await;
    let report = out.with_context(|| format!("bars job {name}"))?;
    printer.records(&[report])
}

pub async fn from_ticks(a: FromTicksArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let to = Timeframe::parse(&a.to).map_err(|e| super::UserError(e.to_string()))?;
    let cal = calendar(&wh, &a.calendar).await?;
    let (report, bars) =
        elite_jobs::stream::bars::land_bars_from_ticks(&wh, &a.symbols, to, &cal, a.dry_run)
            .await
            .map_err(|e| super::UserError(e.to_string()))?;
    if report.ticks == 0 {
        user_bail!(
            "no ticks in the warehouse (land some with `elite ingest upstox-feed` or `elite run feed`)"
        );
    }
    if a.dry_run {
        #[derive(Serialize)]
        struct Row<'a> {
            symbol: &'a str,
            timeframe: String,
            ts_event: String,
            ts_recv: String,
            open: f64,
            high: f64,
            low: f64,
            close: f64,
            volume: Option<f64>,
        }
        let rows: Vec<Row<'_>> = bars
            .iter()
            .map(|b| Row {
                symbol: b.symbol.as_str(),
                timeframe: b.timeframe.to_string(),
                ts_event: b.ts_event.to_string(),
                ts_recv: b.ts_recv.to_string(),
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
            })
            .collect();
        return printer.records(&rows);
    }
    printer.records(&[report])
}

/// One row of `elite stream status`.
#[derive(Serialize)]
struct StatusRow {
    kind: &'static str,
    name: String,
    topic: String,
    /// Records in the topic.
    records: u64,
    /// A reader's next offset (from its checkpoint).
    position: Option<u64>,
    lag: Option<u64>,
}

fn checkpoints(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<_> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".json")?.to_string();
            let v = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some((stem, v))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub async fn stream(cmd: StreamCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    let a = match cmd {
        StreamCommand::Status(a) => a,
        StreamCommand::ReplayBars(a) => return replay_bars(a, settings, printer).await,
    };
    let bus = open_bus(&a.transport, true)?;
    let wh = settings.warehouse()?;
    let dir = state_dir(&wh, &a.state_dir)?;
    let mut rows = vec![];
    for t in bus.topics()? {
        rows.push(StatusRow {
            kind: "topic",
            name: String::new(),
            records: bus.end(&t)?,
            topic: t,
            position: None,
            lag: None,
        });
    }
    let u = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64);
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str().map(str::to_string));
    for (stem, v) in checkpoints(&dir) {
        let (kind, topic, pos) = if stem.starts_with("stream-bars-") {
            ("bars", s(&v, "from"), u(&v, "next_in"))
        } else if stem.starts_with("signals-") {
            ("signals", s(&v, "topic"), u(&v, "next_offset"))
        } else if stem.starts_with("stream-feed-") {
            ("feed", s(&v, "topic"), None)
        } else if stem.starts_with("trader-") {
            let pos = v.get("extra").filter(|e| !e.is_null());
            (
                "trader",
                pos.and_then(|p| s(p, "topic")),
                pos.and_then(|p| u(p, "position")),
            )
        } else {
            continue;
        };
        let Some(topic) = topic else { continue };
        let records = bus.end(&topic)?;
        let name = s(&v, "name").unwrap_or_default();
        let (position, lag) = match (kind, pos) {
            ("feed", _) => {
                let published = u(&v, "next").unwrap_or(0);
                (
                    Some(published),
                    u(&v, "total").map(|t| t.saturating_sub(published)),
                )
            }
            (_, Some(p)) => (Some(p), Some(records.saturating_sub(p))),
            _ => (None, None),
        };
        rows.push(StatusRow {
            kind,
            name,
            topic,
            records,
            position,
            lag,
        });
    }
    if rows.is_empty() {
        printer.note(format!(
            "no topics on {} and no stream jobs in {}",
            bus.describe(),
            dir.display()
        ));
        return Ok(());
    }
    printer.records(&rows)
}

/// `elite stream replay-bars`: landed bars onto an empty `bars.<tf>` topic, then closed.
async fn replay_bars(
    a: crate::args::ReplayBarsArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let Some(tf) = a.bars.timeframe.as_deref() else {
        user_bail!("name the bars' --timeframe (a topic carries one timeframe)");
    };
    let tf = Timeframe::parse(tf).map_err(|e| super::UserError(e.to_string()))?;
    let topic =
        a.to.clone()
            .unwrap_or_else(|| elite_jobs::stream::wire::bars_topic(tf));
    if elite_jobs::stream::wire::topic_timeframe(&topic) != Some(tf) {
        user_bail!("--to {topic}: {tf} bars go to a `bars.{tf}` topic");
    }
    let bus = open_bus(&a.transport, true)?;
    let wh = settings.warehouse()?;
    let (bars, version) = elite_jobs::bars::read_bars(&wh, &super::bar_query(&a.bars)?).await?;
    if bars.is_empty() {
        user_bail!("no {tf} bars in the warehouse for {:?}", a.bars.symbols);
    }
    let mut sink = bus.sink(&topic)?;
    let end = sink.end()?;
    if end > 0 {
        user_bail!(
            "topic {topic} on {} holds {end} records already: replay into a new topic or transport",
            bus.describe()
        );
    }
    for b in &bars {
        let msg = elite_jobs::stream::wire::BarMsg::from_timed(&b.timed());
        sink.send(Arc::clone(&b.symbol), elite_jobs::stream::encode(&msg)?)?;
    }
    sink.flush()?;
    sink.close();
    printer.note(format!(
        "{} {tf} bars (bars version {}) published to {topic} on {}, and the topic closed",
        bars.len(),
        version.map_or("-".into(), |v| v.to_string()),
        bus.describe()
    ));
    Ok(())
}
