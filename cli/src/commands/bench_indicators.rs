//! `elite bench indicators`: the six core indicators (SMA 20, EMA 20, RSI 14, MACD 12/26/9,
//! Bollinger 20/2, ATR 14) over `symbols` × `bars` synthetic bars on one core, beside TA-Lib
//! (the PyPI wheel, called from Python/numpy per symbol) on the same numbers in the same run.
//!
//! The same work is timed on both sides: per symbol, only the indicator calls (Elite: one
//! streaming pass writing all 10 outputs into buffers; TA-Lib: its six calls, which return new
//! arrays), with data already in memory. Checking outputs (per-symbol, per-output sums of the
//! non-warm-up values) happens outside the timer on both sides, and no side keeps more outputs
//! alive than one symbol's. Each side runs `repeat` full passes; the statistic is the median pass
//! on both. The run fails if any of the `symbols × 10` sums differs by more than 1e-9 relative
//! (NaN-aware, length-checked): the benchmark compares two implementations that agree. A
//! benchmark, not a test: it asserts nothing about speed.

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

use elite_pipelines::bench::{BarColumns, OUTPUTS, core_six, synthetic};

const TALIB: &str = r#"
import sys, time, json, statistics
import numpy as np, talib
path, symbols, bars, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = np.fromfile(path, dtype="<f8").reshape(symbols, 5, bars)
data = [tuple(np.ascontiguousarray(data[s, k]) for k in range(5)) for s in range(symbols)]
passes, sums = [], np.zeros((symbols, 10))
for rep in range(repeat):
    total = 0.0
    for s, (o, h, l, c, v) in enumerate(data):
        t = time.perf_counter()
        sma = talib.SMA(c, 20); ema = talib.EMA(c, 20); rsi = talib.RSI(c, 14)
        m, ms, mh = talib.MACD(c, 12, 26, 9)
        u, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
        atr = talib.ATR(h, l, c, 14)
        total += time.perf_counter() - t
        sums[s] = [np.nansum(x) for x in (sma, ema, rsi, m, ms, mh, u, mid, lo, atr)]
    passes.append(total)
print(json.dumps({"passes": passes, "median": statistics.median(passes), "sums": sums.ravel().tolist(),
                  "talib": talib.__version__, "c": talib.__ta_version__.decode().split()[0]}))
"#;

/// The median of `v` (the mean of the two middle values for an even count), as numpy and
/// Python's `statistics.median` define it; NaN for an empty slice.
pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

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
    let (symbols, bars, repeat) = (args.symbols, args.bars, args.repeat);
    printer.note(format!("generating {symbols} × {bars} synthetic bars"));
    let data = synthetic(symbols, bars);
    // Columns, as TA-Lib gets them (numpy arrays made before its timer) and as Arrow holds them.
    let columns: Vec<BarColumns> = data.iter().map(|s| BarColumns::from_bars(s)).collect();

    // Elite, one core: per symbol, the indicator pass is timed; the sums are not.
    let mut out: [Vec<f64>; 10] = std::array::from_fn(|_| vec![0.0; bars]);
    let mut sums = vec![0.0f64; symbols * 10];
    let mut passes = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let mut total = 0.0;
        for (si, s) in columns.iter().enumerate() {
            let t0 = Instant::now();
            core_six(s, &mut out)?;
            total += t0.elapsed().as_secs_f64();
            for (k, o) in out.iter().enumerate() {
                sums[si * 10 + k] = o.iter().filter(|x| !x.is_nan()).sum::<f64>();
            }
        }
        passes.push(total);
    }
    let elite_compute = median(&passes);

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
        .arg(repeat.to_string())
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
    let ta_secs = v["median"].as_f64().context("TA-Lib printed no median")?;
    let ta_sums: Vec<f64> = v["sums"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default();
    // NaN-aware and length-checked first; then relative to max(1, |a|, |b|), so that a sum near
    // zero (a MACD histogram) is not held to a relative bound on its rounding noise.
    elite_warehouse::approx::max_abs_diff(&sums, &ta_sums)
        .map_err(|e| anyhow::anyhow!("outputs cannot be compared with TA-Lib's: {e}"))?;
    let (worst, at) = sums
        .iter()
        .zip(&ta_sums)
        .map(|(a, b)| {
            if a == b || (a.is_nan() && b.is_nan()) {
                0.0
            } else {
                (a - b).abs() / a.abs().max(b.abs()).max(1.0)
            }
        })
        .enumerate()
        .fold(
            (0.0f64, 0usize),
            |w, (i, d)| if d > w.0 { (d, i) } else { w },
        );
    if worst > 1e-9 {
        bail!(
            "{} of symbol {} disagrees with TA-Lib: sum {} vs {} (relative {worst:.2e})",
            OUTPUTS[at % 10],
            at / 10,
            sums[at],
            ta_sums[at]
        );
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
            "elite (Rust, fused update/step kernel, 1 core)".to_string(),
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
         timed: the indicator calls per symbol only, median of {repeat} passes each side; \
         outputs agree with TA-Lib (worst relative difference of the {} per-symbol sums {worst:.1e})",
        sums.len()
    ));
    printer.batches(schema, &[batch])?;
    Ok(())
}
