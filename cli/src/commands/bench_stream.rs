//! `elite bench signals`: tick → signal latency through a transport (embedded, file or Fluvio).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use elite_jobs::transport::{Polled, Sink, Source};
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::signals::SignalEngine;
use serde::{Deserialize, Serialize};

use crate::printer::Printer;
use crate::settings::Settings;

/// What a benchmark tick carries: when it was published (ns since the run's start), the symbol's
/// index and its bar.
#[derive(Serialize, Deserialize)]
struct BenchTick {
    sent_ns: u64,
    symbol: u32,
    bar: [f64; 5],
}

/// The `q` quantile of `v` (nearest rank), rounded to 0.1.
fn pct(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let x = v
        .get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN);
    (x * 10.0).round() / 10.0
}

/// One universe's measurements, in µs.
struct Row {
    universe: String,
    tick: Vec<f64>,
    cross_section: Vec<f64>,
    /// From a round's publish to its first tick reaching the consumer: the transport's share.
    delivery: Vec<f64>,
    /// Signal computation alone, per tick.
    compute: Vec<f64>,
    signals: u64,
}

/// `elite bench signals`: a producer thread publishes one tick per symbol per round (one batch,
/// as a feed frame delivers them), rounds `gap_ms` apart, through the transport; the consumer
/// (the runner's loop: poll, decode, update the symbol's `SignalEngine`) records for every tick
/// the time from publish to its signals being computed, for every round the time from its
/// publish to its last tick processed (the whole cross-section) and to its first tick arriving,
/// and the computation alone. Warm-up rounds (indicators need 50 bars) are not timed.
#[allow(clippy::needless_range_loop)] // rounds index every symbol's series
pub fn signals_latency(
    args: crate::args::BenchSignalsArgs,
    _settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let bus = super::stream::open_bus(&args.transport, false)?;
    let mut rows: Vec<Row> = vec![];
    let run = std::process::id();
    for &n in &args.symbols {
        let data = elite_pipelines::bench::synthetic(n, args.warmup + args.rounds);
        let keys: Vec<Arc<str>> = (0..n).map(|s| Arc::from(format!("S{s:05}"))).collect();
        // A topic of its own (a shared transport keeps earlier runs' topics).
        let topic = format!(
            "bench-signals-{run}-{n}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        let mut producer = bus.sink(&topic)?;
        let mut consumer = bus.source(&topic)?;
        let (warmup, rounds, gap) = (args.warmup, args.rounds, Duration::from_millis(args.gap_ms));
        let t0 = Instant::now();
        let feed = std::thread::spawn(move || -> elite_jobs::Result<()> {
            for r in 0..warmup + rounds {
                if r >= warmup {
                    std::thread::sleep(gap);
                }
                // One snapshot of the whole universe, published as one batch (a feed frame).
                let sent_ns = t0.elapsed().as_nanos() as u64;
                let frame = keys
                    .iter()
                    .enumerate()
                    .map(|(s, k)| {
                        let b = data[s][r];
                        let t = BenchTick {
                            sent_ns,
                            symbol: s as u32,
                            bar: [b.open, b.high, b.low, b.close, b.volume],
                        };
                        Ok((Arc::clone(k), elite_jobs::stream::encode(&t)?))
                    })
                    .collect::<elite_jobs::Result<Vec<_>>>()?;
                producer.send_batch(&mut frame.into_iter())?;
                producer.flush()?;
            }
            producer.close();
            Ok(())
        });
        let mut engines: Vec<SignalEngine> = (0..n)
            .map(|_| SignalEngine::new())
            .collect::<std::result::Result<_, _>>()?;
        let mut batch = Vec::with_capacity(4096);
        let mut fired = Vec::new();
        let mut row = Row {
            universe: format!("{n} symbols"),
            tick: Vec::with_capacity(n * rounds),
            cross_section: Vec::with_capacity(rounds),
            delivery: Vec::with_capacity(rounds),
            compute: Vec::with_capacity(n * rounds),
            signals: 0,
        };
        let timed_from = (warmup * n) as u64;
        loop {
            batch.clear();
            let p = consumer.poll(4096, Duration::from_millis(100), &mut batch)?;
            let arrived = t0.elapsed().as_nanos() as u64;
            for rec in &batch {
                let t: BenchTick = elite_jobs::stream::decode(&topic, rec)?;
                let c0 = Instant::now();
                let ts = elite_warehouse::Timestamp::from_nanos(
                    rec.offset as i64 / n as i64 * 60_000_000_000,
                );
                let tb = elite_pipelines::resample::TimedBar {
                    ts_event: ts,
                    ts_recv: ts.add_nanos(60_000_000_000),
                    bar: Ohlcv::new(t.bar[0], t.bar[1], t.bar[2], t.bar[3], t.bar[4]),
                };
                fired.clear();
                engines[t.symbol as usize].update(&tb, &mut fired);
                row.signals += fired.len() as u64;
                if rec.offset >= timed_from {
                    let done = t0.elapsed().as_nanos() as u64;
                    row.compute.push(c0.elapsed().as_secs_f64() * 1e6);
                    row.tick.push((done - t.sent_ns) as f64 / 1e3);
                    if t.symbol == 0 {
                        row.delivery
                            .push((arrived.max(t.sent_ns) - t.sent_ns) as f64 / 1e3);
                    }
                    if t.symbol as usize == n - 1 {
                        row.cross_section.push((done - t.sent_ns) as f64 / 1e3);
                    }
                }
            }
            if p == Polled::Closed {
                break;
            }
        }
        feed.join()
            .map_err(|_| anyhow::anyhow!("the benchmark's producer panicked"))??;
        rows.push(row);
    }
    type Col = (&'static str, Box<dyn Fn(&Row) -> f64>);
    let cols: [Col; 8] = [
        ("tick_p50_us", Box::new(|r: &Row| pct(&r.tick, 0.5))),
        ("tick_p99_us", Box::new(|r: &Row| pct(&r.tick, 0.99))),
        (
            "cross_section_p50_us",
            Box::new(|r: &Row| pct(&r.cross_section, 0.5)),
        ),
        (
            "cross_section_p99_us",
            Box::new(|r: &Row| pct(&r.cross_section, 0.99)),
        ),
        ("delivery_p50_us", Box::new(|r: &Row| pct(&r.delivery, 0.5))),
        (
            "delivery_p99_us",
            Box::new(|r: &Row| pct(&r.delivery, 0.99)),
        ),
        (
            "compute_per_tick_p50_us",
            Box::new(|r: &Row| pct(&r.compute, 0.5)),
        ),
        (
            "compute_per_round_us",
            Box::new(|r: &Row| {
                let rounds = r.cross_section.len().max(1) as f64;
                (r.compute.iter().sum::<f64>() / rounds * 10.0).round() / 10.0
            }),
        ),
    ];
    let mut fields = vec![Field::new("universe", DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(
        rows.iter().map(|r| r.universe.as_str()),
    ))];
    for (name, f) in &cols {
        fields.push(Field::new(*name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from_iter_values(rows.iter().map(f))));
    }
    fields.push(Field::new("signals", DataType::UInt64, false));
    arrays.push(Arc::new(UInt64Array::from_iter_values(
        rows.iter().map(|r| r.signals),
    )));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
    printer.note(format!(
        "{} timed rounds ({} warm-up), one tick per symbol per round published as one frame, {} ms apart; \
         transport {}; 5 rules per symbol; one consumer thread",
        args.rounds,
        args.warmup,
        args.gap_ms,
        bus.describe()
    ));
    printer.batches(schema, &[batch])?;
    Ok(())
}
