//! `elite bench indicators`: the six core indicators (SMA 20, EMA 20, RSI 14, MACD 12/26/9,
//! Bollinger 20/2, ATR 14) over `symbols` × `bars` synthetic bars on one core, beside TA-Lib
//! (the PyPI wheel, called from Python/numpy per symbol) on the same numbers in the same run.
//!
//! Both sides write every output (10 series per symbol) into arrays and are timed around the
//! compute loop only (data already in memory). Both print per-output sums of their non-warm-up
//! values, and the run fails if they differ by more than 1e-9 relative: the benchmark compares
//! two implementations that agree. A benchmark, not a test: it asserts nothing about speed.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use elite_pipelines::indicators::Ohlcv;

use crate::args::BenchIndicatorsArgs;
use crate::printer::Printer;
use crate::settings::Settings;

use elite_pipelines::bench::{OUTPUTS, core_six, synthetic};

const TALIB: &str = r#"
import sys, time, json
import numpy as np, talib
path, symbols, bars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = np.fromfile(path, dtype="<f8").reshape(symbols, 5, bars)
data = [tuple(np.ascontiguousarray(data[s, k]) for k in range(5)) for s in range(symbols)]
sums = np.zeros(10)
t = time.perf_counter()
outs = []
for o, h, l, c, v in data:
    sma = talib.SMA(c, 20); ema = talib.EMA(c, 20); rsi = talib.RSI(c, 14)
    m, ms, mh = talib.MACD(c, 12, 26, 9)
    u, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    atr = talib.ATR(h, l, c, 14)
    outs.append((sma, ema, rsi, m, ms, mh, u, mid, lo, atr))
    if len(outs) == 64:
        for r in outs:
            sums += [np.nansum(x) for x in r]
        outs.clear()
dt = time.perf_counter() - t
for r in outs:
    sums += [np.nansum(x) for x in r]
print(json.dumps({"seconds": dt, "sums": sums.tolist(), "talib": talib.__version__, "c": talib.__ta_version__.decode().split()[0]}))
"#;

/// Write `data` for the Python peers: per symbol, the opens, highs, lows, closes and volumes as
/// little-endian f64 (numpy `fromfile(...).reshape(symbols, 5, bars)`).
pub(crate) fn write_bars_f64(path: &std::path::Path, data: &[Vec<Ohlcv>]) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for s in data {
        for f in [
            |b: &Ohlcv| b.open,
            |b: &Ohlcv| b.high,
            |b: &Ohlcv| b.low,
            |b: &Ohlcv| b.close,
            |b: &Ohlcv| b.volume,
        ] {
            for b in s {
                w.write_all(&f(b).to_le_bytes())?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

pub fn run(args: BenchIndicatorsArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let (symbols, bars) = (args.symbols, args.bars);
    printer.note(format!("generating {symbols} × {bars} synthetic bars"));
    let data = synthetic(symbols, bars);

    // Elite, one core.
    let mut out: [Vec<f64>; 10] = std::array::from_fn(|_| vec![0.0; bars]);
    let mut sums = [0.0f64; 10];
    let mut elite_compute = 0.0;
    for s in &data {
        let t0 = Instant::now();
        core_six(s, &mut out)?;
        elite_compute += t0.elapsed().as_secs_f64();
        for (k, o) in out.iter().enumerate() {
            sums[k] += o.iter().filter(|x| !x.is_nan()).sum::<f64>();
        }
    }

    // TA-Lib on the same numbers.
    let dir = std::env::temp_dir().join(format!("elite-bench-ind-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bars.f64");
    write_bars_f64(&path, &data)?;
    printer.note(format!("TA-Lib via {} …", args.python));
    let res = Command::new(&args.python)
        .args(["-c", TALIB])
        .arg(&path)
        .arg(symbols.to_string())
        .arg(bars.to_string())
        .output()
        .context("running Python with TA-Lib (tests/dev bench installs it)")?;
    let _ = std::fs::remove_dir_all(&dir);
    if !res.status.success() {
        bail!(
            "TA-Lib run failed: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).context("TA-Lib output")?;
    let ta_secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
    let ta_sums: Vec<f64> = v["sums"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    let mut worst = 0.0f64;
    for (k, (a, b)) in sums.iter().zip(&ta_sums).enumerate() {
        let rel = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
        if rel > 1e-9 {
            bail!(
                "{} disagrees with TA-Lib: sum {a} vs {b} (relative {rel:.2e})",
                OUTPUTS[k]
            );
        }
        worst = worst.max(rel);
    }
    if ta_sums.len() != 10 {
        bail!("TA-Lib printed {} sums, expected 10", ta_sums.len());
    }

    let total = (symbols * bars) as f64;
    let schema = Arc::new(Schema::new(vec![
        Field::new("engine", DataType::Utf8, false),
        Field::new("seconds", DataType::Float64, false),
        Field::new("ns_per_bar", DataType::Float64, false),
        Field::new("m_bars_per_s", DataType::Float64, false),
        Field::new("elite_speedup", DataType::Float64, false),
    ]));
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let rows = [
        (
            "elite (Rust, streaming update, 1 core)".to_string(),
            elite_compute,
        ),
        (
            format!(
                "TA-Lib {} (C {}) from Python/numpy, 1 core",
                v["talib"].as_str().unwrap_or("?"),
                v["c"].as_str().unwrap_or("?")
            ),
            ta_secs,
        ),
    ];
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.as_str()),
            )) as ArrayRef,
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|x| r(x.1)))),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|x| r(x.1 / total * 1e9)),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|x| r(total / x.1 / 1e6)),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|x| r(x.1 / elite_compute)),
            )),
        ],
    )?;
    printer.note(format!(
        "{symbols} symbols × {bars} bars, SMA20+EMA20+RSI14+MACD(12,26,9)+BBANDS(20,2)+ATR14, all 10 outputs written; \
         outputs agree with TA-Lib (worst relative difference of per-output sums {worst:.1e})"
    ));
    printer.batches(schema, &[batch])?;
    Ok(())
}

/// `elite bench signals`: tick -> signal latency through the embedded transport. A producer
/// thread publishes one tick per symbol per round (one batch, as a feed frame delivers them),
/// rounds `gap_ms` apart; the consumer (the runner's loop: poll, update the symbol's
/// `SignalEngine`, collect signals) records for every tick the time from publish to its
/// signals being computed, and for every round the time from its first publish to its last
/// tick processed (the whole cross-section). Warm-up rounds (indicators need 50 bars) are not
/// timed.
#[allow(clippy::needless_range_loop)] // rounds index every symbol's series
pub fn signals_latency(
    args: crate::args::BenchSignalsArgs,
    _settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    use elite_jobs::transport::{Polled, Sink, Source, Topic};
    use elite_pipelines::signals::SignalEngine;
    use std::time::Duration;

    let mut rows: Vec<(String, f64, f64, f64, f64, u64)> = vec![];
    for &n in &args.symbols {
        let data = synthetic(n, args.warmup + args.rounds);
        let keys: Vec<Arc<str>> = (0..n).map(|s| Arc::from(format!("S{s:05}"))).collect();
        let topic: Topic<(Instant, u32, Ohlcv)> = Topic::new();
        let mut producer = topic.producer();
        let (warmup, rounds, gap) = (args.warmup, args.rounds, Duration::from_millis(args.gap_ms));
        let feed = std::thread::spawn(move || {
            for r in 0..warmup + rounds {
                if r >= warmup {
                    std::thread::sleep(gap);
                }
                // One snapshot of the whole universe, published as one batch (a feed frame).
                let now = Instant::now();
                let _ = producer.send_batch(
                    &mut keys
                        .iter()
                        .enumerate()
                        .map(|(s, k)| (Arc::clone(k), (now, s as u32, data[s][r]))),
                );
            }
            producer.close();
        });
        let mut engines: Vec<SignalEngine> = (0..n)
            .map(|_| SignalEngine::new())
            .collect::<std::result::Result<_, _>>()?;
        let mut consumer = topic.consumer(0);
        let mut batch = Vec::with_capacity(4096);
        let mut fired = Vec::new();
        let mut tick_lat: Vec<f64> = Vec::with_capacity(n * rounds);
        let mut round_lat: Vec<f64> = Vec::with_capacity(rounds);
        let mut round_start: Option<Instant> = None;
        let mut signals = 0u64;
        let timed_from = (warmup * n) as u64;
        loop {
            batch.clear();
            let p = consumer.poll(4096, Duration::from_millis(100), &mut batch)?;
            for rec in &batch {
                let (sent, s, bar) = rec.value;
                fired.clear();
                let ts = elite_warehouse::Timestamp::from_nanos(
                    rec.offset as i64 / n as i64 * 60_000_000_000,
                );
                let tb = elite_pipelines::resample::TimedBar {
                    ts_event: ts,
                    ts_recv: ts.add_nanos(60_000_000_000),
                    bar,
                };
                engines[s as usize].update(&tb, &mut fired);
                signals += fired.len() as u64;
                if rec.offset >= timed_from {
                    let done = Instant::now();
                    tick_lat.push(done.duration_since(sent).as_secs_f64());
                    if s == 0 {
                        round_start = Some(sent);
                    }
                    if s as usize == n - 1
                        && let Some(t0) = round_start.take()
                    {
                        round_lat.push(done.duration_since(t0).as_secs_f64());
                    }
                }
            }
            if p == Polled::Closed {
                break;
            }
        }
        let _ = feed.join();
        let pct = |v: &mut Vec<f64>, q: f64| {
            v.sort_by(|a, b| a.total_cmp(b));
            v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
                * 1e6
        };
        rows.push((
            format!("{n} symbols"),
            pct(&mut tick_lat, 0.5),
            pct(&mut tick_lat, 0.99),
            pct(&mut round_lat, 0.5),
            pct(&mut round_lat, 0.99),
            signals,
        ));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("universe", DataType::Utf8, false),
        Field::new("tick_p50_us", DataType::Float64, false),
        Field::new("tick_p99_us", DataType::Float64, false),
        Field::new("cross_section_p50_us", DataType::Float64, false),
        Field::new("cross_section_p99_us", DataType::Float64, false),
        Field::new("signals", DataType::UInt64, false),
    ]));
    let r = |x: f64| (x * 10.0).round() / 10.0;
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|x| x.0.as_str()),
            )) as ArrayRef,
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|x| r(x.1)))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|x| r(x.2)))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|x| r(x.3)))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|x| r(x.4)))),
            Arc::new(arrow::array::UInt64Array::from_iter_values(
                rows.iter().map(|x| x.5),
            )),
        ],
    )?;
    printer.note(format!(
        "{} timed rounds ({} warm-up), one tick per symbol per round, {} ms apart; embedded transport, 5 rules per symbol",
        args.rounds, args.warmup, args.gap_ms
    ));
    printer.batches(schema, &[batch])?;
    Ok(())
}
