//! `elite bench signals`: tick → signal latency through a transport (embedded, file or Fluvio).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use elite_jobs::transport::{Polled, Sink, Source};
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::signals::SignalEngine;
use elite_trade::ledger::Ledger;
use elite_trade::money::Money;
use elite_trade::order::OrderRequest;
use elite_trade::risk::{Book, RiskEngine, RiskLimits};
use elite_trade::types::Side;
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

/// An order the benchmark's runner sends to its broker: the tick it answers was published at
/// `sent_ns`.
#[derive(Serialize, Deserialize)]
struct BenchOrder {
    sent_ns: u64,
    symbol: u32,
    buy: bool,
    qty: i64,
}

/// One universe's measurements, in µs.
struct Row {
    universe: String,
    /// Publish → the tick's signals computed.
    tick: Vec<f64>,
    /// Publish → the order it caused received by the broker (a second hop on the transport).
    order: Vec<f64>,
    cross_section: Vec<f64>,
    /// Publish → the tick handed to the consumer by a poll: the transport's share.
    delivery: Vec<f64>,
    /// Signal computation alone, per tick.
    compute: Vec<f64>,
    signals: u64,
}

/// The producer's schedule: whole rounds `gap` apart, or ticks paced at `rate` per second in
/// chunks of a millisecond's worth (each chunk stamped when it is sent).
#[derive(Clone, Copy)]
enum Pace {
    Rounds(Duration),
    Rate(f64),
}

/// Publish `warmup + rounds` rounds of one tick per symbol. Warm-up rounds go at once; then
/// a pause lets the consumer drain them, and the timed rounds follow `pace`.
#[allow(clippy::too_many_arguments)]
fn produce(
    producer: &mut elite_jobs::stream::ByteSink,
    keys: &[Arc<str>],
    data: &[Vec<Ohlcv>],
    warmup: usize,
    rounds: usize,
    pace: Pace,
    t0: Instant,
) -> elite_jobs::Result<()> {
    let tick = |s: usize, r: usize, sent_ns: u64| -> elite_jobs::Result<(Arc<str>, Vec<u8>)> {
        let b = data[s][r];
        let t = BenchTick {
            sent_ns,
            symbol: s as u32,
            bar: [b.open, b.high, b.low, b.close, b.volume],
        };
        Ok((Arc::clone(&keys[s]), elite_jobs::stream::encode(&t)?))
    };
    let n = keys.len();
    let mut sent = 0u64;
    let mut paced_from = None;
    for r in 0..warmup + rounds {
        if r == warmup {
            std::thread::sleep(Duration::from_millis(300));
        }
        let chunk = match pace {
            Pace::Rate(rate) if r >= warmup => ((rate / 1000.0).ceil() as usize).max(1),
            _ => n,
        };
        for lo in (0..n).step_by(chunk) {
            match pace {
                Pace::Rate(rate) if r >= warmup => {
                    let start = *paced_from.get_or_insert_with(Instant::now);
                    let due = start + Duration::from_secs_f64(sent as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                }
                Pace::Rounds(gap) if r >= warmup && lo == 0 => std::thread::sleep(gap),
                _ => {}
            }
            let sent_ns = t0.elapsed().as_nanos() as u64;
            let frame = (lo..(lo + chunk).min(n))
                .map(|s| tick(s, r, sent_ns))
                .collect::<elite_jobs::Result<Vec<_>>>()?;
            if r >= warmup {
                sent += frame.len() as u64;
            }
            producer.send_batch(&mut frame.into_iter())?;
            producer.flush()?;
        }
    }
    producer.close();
    Ok(())
}

/// The broker's side: every order's publish → receipt time, in µs, until the topic closes.
fn broker(
    mut orders: elite_jobs::stream::ByteSource,
    topic: String,
    t0: Instant,
) -> elite_jobs::Result<Vec<f64>> {
    let mut got = vec![];
    let mut batch = Vec::with_capacity(1024);
    loop {
        batch.clear();
        let p = orders.poll(1024, Duration::from_millis(100), &mut batch)?;
        let arrived = t0.elapsed().as_nanos() as u64;
        for rec in &batch {
            let o: BenchOrder = elite_jobs::stream::decode(&topic, rec)?;
            got.push((arrived.max(o.sent_ns) - o.sent_ns) as f64 / 1e3);
        }
        if p == Polled::Closed {
            return Ok(got);
        }
    }
}

/// `elite bench signals`: a producer thread publishes one tick per symbol per round through
/// the transport — whole rounds `gap_ms` apart (as a feed frame delivers a snapshot), or with
/// `--rate` ticks paced at that many per second; the consumer (the runner's loop: poll, decode,
/// update the symbol's `SignalEngine`) records for every tick the time from publish to its
/// signals being computed and to its delivery, for every round the time to its last tick
/// processed (the whole cross-section), and the computation alone. A signal that says buy or
/// sell becomes a market order, checked by the trade-runner's `RiskEngine` and sent on an
/// `orders` topic to a broker thread, which records publish → order received (tick → order).
/// Warm-up rounds (indicators need 50 bars) are not timed.
#[allow(clippy::needless_range_loop)] // rounds index every symbol's series
pub fn signals_latency(
    args: crate::args::BenchSignalsArgs,
    _settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let bus = super::stream::open_bus(&args.transport, false)?;
    let mut rows: Vec<Row> = vec![];
    let run = std::process::id();
    let pace = match args.rate {
        Some(r) => Pace::Rate(r),
        None => Pace::Rounds(Duration::from_millis(args.gap_ms)),
    };
    for &n in &args.symbols {
        let data = elite_pipelines::bench::synthetic(n, args.warmup + args.rounds);
        let keys: Vec<Arc<str>> = (0..n).map(|s| Arc::from(format!("S{s:05}"))).collect();
        // Topics of their own (a shared transport keeps earlier runs' topics).
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let topic = format!("bench-signals-{run}-{n}-{stamp}");
        let orders_topic = format!("bench-orders-{run}-{n}-{stamp}");
        let mut producer = bus.sink(&topic)?;
        let mut consumer = bus.source(&topic)?;
        let mut orders = bus.sink(&orders_topic)?;
        let (warmup, rounds) = (args.warmup, args.rounds);
        let t0 = Instant::now();
        let broker = {
            let source = bus.source(&orders_topic)?;
            std::thread::spawn(move || broker(source, orders_topic, t0))
        };
        let feed = std::thread::spawn(move || {
            produce(&mut producer, &keys, &data, warmup, rounds, pace, t0)
        });
        let mut engines: Vec<SignalEngine> = (0..n)
            .map(|_| SignalEngine::new())
            .collect::<std::result::Result<_, _>>()?;
        let mut risk = RiskEngine::new(RiskLimits {
            max_order_notional: Some(1e6),
            allow_short: true,
            ..Default::default()
        });
        let ledger = Ledger::new(Money::units(100_000_000));
        let mut prices = vec![f64::NAN; n];
        let mut batch = Vec::with_capacity(4096);
        let mut fired = Vec::new();
        let mut row = Row {
            universe: format!("{n} symbols"),
            tick: Vec::with_capacity(n * rounds),
            order: vec![],
            cross_section: Vec::with_capacity(rounds),
            delivery: Vec::with_capacity(n * rounds),
            compute: Vec::with_capacity(n * rounds),
            signals: 0,
        };
        let timed_from = (warmup * n) as u64;
        let mut order_id = 0u64;
        loop {
            batch.clear();
            let p = consumer.poll(4096, Duration::from_millis(100), &mut batch)?;
            let arrived = t0.elapsed().as_nanos() as u64;
            let mut sent_orders = false;
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
                let sym = t.symbol as usize;
                engines[sym].update(&tb, &mut fired);
                prices[sym] = t.bar[3];
                row.signals += fired.len() as u64;
                let timed = rec.offset >= timed_from;
                if timed {
                    let done = t0.elapsed().as_nanos() as u64;
                    row.compute.push(c0.elapsed().as_secs_f64() * 1e6);
                    row.tick.push((done - t.sent_ns) as f64 / 1e3);
                    row.delivery
                        .push((arrived.max(t.sent_ns) - t.sent_ns) as f64 / 1e3);
                    if sym == n - 1 {
                        row.cross_section.push((done - t.sent_ns) as f64 / 1e3);
                    }
                }
                // The first directional signal of the bar becomes a risk-checked order.
                let Some(sig) = fired.iter().find(|s| s.direction != 0) else {
                    continue;
                };
                if !timed {
                    continue;
                }
                order_id += 1;
                let side = if sig.direction > 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let qty = ((100_000.0 / t.bar[3]).floor() as i64).max(1);
                let req = OrderRequest::market(format!("b{order_id}"), sym as u32, side, qty);
                let book = Book {
                    ledger: &ledger,
                    prices: &prices,
                    pending: &|_| (0, 0),
                    equity: 1e8,
                };
                if let (Some(ok), _) = risk.check(req, &book, tb.ts_recv) {
                    let o = ok.order();
                    let msg = BenchOrder {
                        sent_ns: t.sent_ns,
                        symbol: o.sym,
                        buy: o.side == Side::Buy,
                        qty: o.qty,
                    };
                    orders.send(Arc::clone(&rec.key), elite_jobs::stream::encode(&msg)?)?;
                    sent_orders = true;
                }
            }
            if sent_orders {
                orders.flush()?;
            }
            if p == Polled::Closed {
                break;
            }
        }
        orders.close();
        feed.join()
            .map_err(|_| anyhow::anyhow!("the benchmark's producer panicked"))??;
        row.order = broker
            .join()
            .map_err(|_| anyhow::anyhow!("the benchmark's broker panicked"))??;
        rows.push(row);
    }
    type Col = (&'static str, Box<dyn Fn(&Row) -> f64>);
    let cols: [Col; 13] = [
        ("tick_p50_us", Box::new(|r: &Row| pct(&r.tick, 0.5))),
        ("tick_p99_us", Box::new(|r: &Row| pct(&r.tick, 0.99))),
        ("tick_max_us", Box::new(|r: &Row| pct(&r.tick, 1.0))),
        ("order_p50_us", Box::new(|r: &Row| pct(&r.order, 0.5))),
        ("order_p99_us", Box::new(|r: &Row| pct(&r.order, 0.99))),
        ("orders", Box::new(|r: &Row| r.order.len() as f64)),
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
            "compute_per_tick_p99_us",
            Box::new(|r: &Row| pct(&r.compute, 0.99)),
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
    let pacing = match pace {
        Pace::Rate(r) => format!("ticks paced at {r} per second in 1 ms chunks"),
        Pace::Rounds(g) => format!(
            "each round published as one frame, {} ms apart",
            g.as_millis()
        ),
    };
    printer.note(format!(
        "{} timed rounds ({} warm-up) of one tick per symbol, {pacing}; transport {}; 5 rules per \
         symbol; one consumer thread; a directional signal → RiskEngine-checked market order → \
         the orders topic → a broker thread (order_* = tick publish → order received)",
        args.rounds,
        args.warmup,
        bus.describe()
    ));
    printer.batches(schema, &[batch])?;
    Ok(())
}
