//! `elite bench ingest`: CSV -> warehouse throughput and peak memory, beside polars on the same
//! file in the same run. A benchmark, not a test: it asserts nothing about speed.
//!
//! What each side does, every run timed as a whole process (start-up included), `repeat` runs
//! each, the median reported:
//! - **elite**: `elite ingest csv` into a fresh warehouse: parse, timestamps to UTC, validate
//!   OHLC (finite, high ≥ open/close ≥ low, volume ≥ 0), dedupe on (symbol, timeframe, ts_event),
//!   write the `bars` Delta table partitioned by `--partition-by` (default year; each
//!   file sorted by the key), commit, checkpoint;
//! - **polars, comparable work**: `read_csv`, parse the timestamps to UTC, the same OHLC checks,
//!   dedupe on (symbol, ts), add ts_recv and year, `write_parquet` partitioned by the same
//!   columns (sorted by symbol, ts when symbol is not one of them; DuckDB likewise);
//! - **polars, plain**: `read_csv` + one `write_parquet` (no parsing of times, no checks, no
//!   partitions): the floor, shown for reference.
//!
//! Both polars runs must report the same row count as Elite lands, else the run fails.
//!
//! Both engines run as child processes; wall time is measured here around each, and peak
//! resident memory is the child's `VmHWM` from `/proc/<pid>/status`, sampled every 5 ms until it
//! exits (VmHWM only grows, so the last sample is its peak up to 5 ms before exit).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use elite_models::rng::SplitMix64;

use crate::args::{BenchIngestArgs, RowOrder};
use crate::printer::Printer;
use crate::settings::Settings;

/// Deterministic synthetic 1-minute bars: `symbols` × `rows/symbols`, a random walk per symbol.
pub fn write_synthetic_csv(
    path: &Path,
    rows: usize,
    symbols: usize,
    order: RowOrder,
) -> Result<()> {
    write_bars_csv(path, rows, symbols, 1_704_067_200, order) // 2024-01-01T00:00:00Z
}

/// [`write_synthetic_csv`] from `t0` (Unix seconds). Either order writes the same bars: each
/// symbol's walk draws from its own generator.
pub fn write_bars_csv(
    path: &Path,
    rows: usize,
    symbols: usize,
    t0: i64,
    order: RowOrder,
) -> Result<()> {
    let per = rows.div_ceil(symbols);
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "symbol,ts,open,high,low,close,volume")?;
    // Per symbol: its generator and last close.
    let mut walks: Vec<(SplitMix64, f64)> = (0..symbols)
        .map(|s| {
            (
                SplitMix64::new(0x2545_f491_4f6c_dd1d ^ s as u64),
                50.0 + 10.0 * s as f64 % 450.0,
            )
        })
        .collect();
    let mut line = String::with_capacity(96);
    let mut bar = |s: usize, i: usize, w: &mut std::io::BufWriter<std::fs::File>| {
        let (rng, price) = &mut walks[s];
        let mut next = || rng.f64();
        let open = *price;
        let close = (open * (1.0 + (next() - 0.5) * 0.002)).max(0.01);
        let high = open.max(close) * (1.0 + next() * 0.001);
        let low = open.min(close) * (1.0 - next() * 0.001);
        let vol = 100 + (next() * 10_000.0) as u64;
        let ts = chrono::DateTime::from_timestamp(t0 + 60 * i as i64, 0).unwrap_or_default();
        line.clear();
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "SYM{s:04},{},{open:.4},{high:.4},{low:.4},{close:.4},{vol}",
            ts.format("%Y-%m-%d %H:%M:%S")
        );
        *price = close;
        w.write_all(line.as_bytes())
    };
    match order {
        RowOrder::Symbol => {
            for s in 0..symbols {
                for i in 0..per {
                    bar(s, i, &mut w)?;
                }
            }
        }
        RowOrder::Time => {
            for i in 0..per {
                for s in 0..symbols {
                    bar(s, i, &mut w)?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// The data files (`.parquet`) under `dir`, counted recursively.
pub fn parquet_files(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                parquet_files(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "parquet"))
            }
        })
        .sum()
}

struct Run {
    seconds: f64,
    peak_rss_mib: f64,
    stdout: String,
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn measure(mut cmd: Command) -> Result<Run> {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting benchmark process")?;
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(v) = peak_rss_kib(pid) {
            peak = peak.max(v);
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    });
    let out = child.wait_with_output()?;
    let seconds = start.elapsed().as_secs_f64();
    let peak = sampler.join().unwrap_or(0);
    if !out.status.success() {
        bail!(
            "benchmark process failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Run {
        seconds,
        peak_rss_mib: peak as f64 / 1024.0,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

const POLARS: &str = r#"
import sys, time
import polars as pl
t = time.perf_counter()
df = pl.read_csv(sys.argv[1])
df.write_parquet(sys.argv[2])
print(f"{time.perf_counter() - t:.3f} {df.height} {pl.__version__}")
"#;

const POLARS_COMPARABLE: &str = r#"
import sys, time, shutil
import polars as pl
src, out, parts = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
shutil.rmtree(out, ignore_errors=True)
t = time.perf_counter()
df = pl.read_csv(src, schema_overrides={"symbol": pl.Utf8, "ts": pl.Utf8})
df = df.with_columns(
    pl.col("ts").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S").dt.replace_time_zone("UTC").alias("ts_event"))
c = pl.col
ok = (c("open").is_finite() & c("high").is_finite() & c("low").is_finite() & c("close").is_finite()
      & (c("high") >= c("low")) & (c("open") <= c("high")) & (c("open") >= c("low"))
      & (c("close") <= c("high")) & (c("close") >= c("low")) & (c("volume") >= 0) & c("ts_event").is_not_null())
good = df.filter(ok).unique(subset=["symbol", "ts_event"], keep="first", maintain_order=True)
good = good.with_columns((c("ts_event") + pl.duration(minutes=1)).alias("ts_recv"),
                         c("ts_event").dt.year().alias("year")).drop("ts")
if "symbol" not in parts:
    good = good.sort(["symbol", "ts_event"])  # what Elite's files are: sorted by the key
good.write_parquet(out, partition_by=parts)
print(f"{time.perf_counter() - t:.3f} {good.height} {pl.__version__} {df.height - good.height}")
"#;

const DUCKDB_COPY: &str = r#"
import sys, time, shutil
import duckdb
src, out, parts = sys.argv[1], sys.argv[2], sys.argv[3]
order = "" if "symbol" in parts.split(",") else "ORDER BY symbol, ts_event"
shutil.rmtree(out, ignore_errors=True)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
con.execute(f"""
COPY (
  SELECT symbol, ts AS ts_event, ts + INTERVAL 1 MINUTE AS ts_recv, open, high, low, close, volume,
         year(ts) AS year
  FROM read_csv('{src}', header = true, columns = {{'symbol': 'VARCHAR', 'ts': 'TIMESTAMP',
       'open': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', 'close': 'DOUBLE', 'volume': 'DOUBLE'}})
  WHERE isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close)
    AND high >= low AND open <= high AND open >= low AND close <= high AND close >= low AND volume >= 0
  QUALIFY row_number() OVER (PARTITION BY symbol, ts) = 1
  {order}
) TO '{out}' (FORMAT parquet, PARTITION_BY ({parts}), COMPRESSION zstd)
""")
el = time.perf_counter() - t
n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
print(f"{el:.3f} {n} {duckdb.__version__}")
"#;

pub async fn ingest(args: BenchIngestArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let dir: PathBuf = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("elite-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("bars_1m.csv");
    printer.note(format!(
        "generating {} synthetic 1-minute bars ({} symbols) in {}",
        args.rows,
        args.symbols,
        csv.display()
    ));
    // A file this bench generated before with the same shape is reused (generation is slow).
    let stamp = dir.join("bars_1m.csv.shape");
    let shape = format!("{} {} {:?} v3", args.rows, args.symbols, args.layout.order);
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(shape.as_str()) || !csv.exists() {
        write_synthetic_csv(&csv, args.rows, args.symbols, args.layout.order)?;
        std::fs::write(&stamp, &shape)?;
    }
    let size_mib = std::fs::metadata(&csv)?.len() as f64 / (1 << 20) as f64;
    let rows = args.rows.div_ceil(args.symbols) * args.symbols;
    let parts = args.layout.partition_by.join(",");
    let layout = if args.layout.partition_by.iter().any(|p| p == "symbol") {
        format!("partitioned {}", args.layout.partition_by.join("/"))
    } else {
        format!(
            "partitioned {}, sorted by symbol, ts",
            args.layout.partition_by.join("/")
        )
    };

    let median = |runs: &[Run]| {
        super::bench_indicators::median(&runs.iter().map(|r| r.seconds).collect::<Vec<_>>())
    };
    let peak = |runs: &[Run]| runs.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max);
    printer.note(format!("elite ingest csv × {} …", args.repeat));
    let exe = std::env::current_exe()?;
    let home = dir.join("warehouse");
    let mut elite_runs = Vec::new();
    for _ in 0..args.repeat {
        let _ = std::fs::remove_dir_all(&home);
        let mut cmd = Command::new(&exe);
        cmd.env("ELITE_CONFIG", "/dev/null")
            .args(["--no-progress", "--format", "json", "--home"])
            .arg(&home)
            .args(["ingest", "csv"])
            .arg(&csv)
            .args(["--timeframe", "1m", "--partition-by", &parts]);
        let run = measure(cmd)?;
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
        let added = report[0]["rows_added"].as_u64().unwrap_or(0) as usize;
        if added != rows {
            bail!("elite added {added} rows, expected {rows}: {}", run.stdout);
        }
        elite_runs.push(run);
    }
    let files = parquet_files(&home.join("bars"));
    // Append one trading day (375 bars per symbol) after the data to the table just landed.
    let per = args.rows.div_ceil(args.symbols) as i64;
    let day_t0 =
        (1_704_067_200 + per * 60).div_euclid(86_400) * 86_400 + 86_400 + 9 * 3600 + 15 * 60;
    let day = dir.join("one_day.csv");
    write_bars_csv(
        &day,
        args.symbols * 375,
        args.symbols,
        day_t0,
        args.layout.order,
    )?;
    let mut cmd = Command::new(&exe);
    cmd.env("ELITE_CONFIG", "/dev/null")
        .args(["--no-progress", "--format", "json", "--home"])
        .arg(&home)
        .args(["ingest", "csv"])
        .arg(&day)
        .args(["--timeframe", "1m"]);
    let append = measure(cmd)?;
    let report: serde_json::Value = serde_json::from_str(&append.stdout).unwrap_or_default();
    let added = report[0]["rows_added"].as_u64().unwrap_or(0) as usize;
    if added != args.symbols * 375 {
        bail!(
            "the one-day append added {added} rows, expected {}: {}",
            args.symbols * 375,
            append.stdout
        );
    }
    let append_line = format!(
        "append one trading day ({} rows) to the {rows}-row table: {:.3} s whole process, peak RSS {:.0} MiB, \
         chunks looked up in the table: {}",
        args.symbols * 375,
        append.seconds,
        append.peak_rss_mib,
        report[0]["key_lookups"]
    );

    let mut polars_version = String::from("?");
    let mut peer = |script: &str, out: PathBuf, what: &str| -> Result<Vec<Run>> {
        printer.note(format!(
            "polars {what} ({}) × {} …",
            args.python, args.repeat
        ));
        let mut runs = Vec::new();
        for _ in 0..args.repeat {
            let mut cmd = Command::new(&args.python);
            cmd.args(["-c", script]).arg(&csv).arg(&out).arg(&parts);
            let run = measure(cmd).context("running polars (install it: tests/dev bench does)")?;
            let fields: Vec<&str> = run.stdout.split_whitespace().collect();
            let n: usize = fields.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            if n != rows {
                bail!("polars {what} wrote {n} rows, elite {rows}: {}", run.stdout);
            }
            polars_version = fields.get(2).copied().unwrap_or("?").to_string();
            runs.push(run);
        }
        Ok(runs)
    };
    let peers = args.python != "none";
    let mut peer = |script: &str, out: PathBuf, what: &str| -> Result<Vec<Run>> {
        if peers {
            peer(script, out, what)
        } else {
            Ok(Vec::new())
        }
    };
    let comparable = peer(
        POLARS_COMPARABLE,
        dir.join("polars_parts"),
        "comparable work",
    )?;
    let plain = peer(
        POLARS,
        dir.join("polars.parquet"),
        "read_csv + write_parquet",
    )?;
    let mut duckdb_version = String::from("?");
    printer.note(format!("duckdb COPY … PARTITION_BY × {} …", args.repeat));
    let mut duck = Vec::new();
    for _ in 0..if peers { args.repeat } else { 0 } {
        let mut cmd = Command::new(&args.python);
        cmd.args(["-c", DUCKDB_COPY])
            .arg(&csv)
            .arg(dir.join("duckdb_parts"))
            .arg(&parts);
        let run = measure(cmd).context("running duckdb (install it: tests/dev bench does)")?;
        let fields: Vec<&str> = run.stdout.split_whitespace().collect();
        let n: usize = fields.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if n != rows {
            bail!("duckdb wrote {n} rows, elite {rows}: {}", run.stdout);
        }
        duckdb_version = fields.get(2).copied().unwrap_or("?").to_string();
        duck.push(run);
    }
    let elite_s = median(&elite_runs);

    let schema = Arc::new(Schema::new(vec![
        Field::new("engine", DataType::Utf8, false),
        Field::new("seconds", DataType::Float64, false),
        Field::new("m_rows_per_s", DataType::Float64, false),
        Field::new("peak_rss_mib", DataType::Float64, false),
        Field::new("elite_speedup", DataType::Float64, false),
    ]));
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let engines: Vec<(String, f64, f64)> = [
        (
            format!(
                "elite ingest csv (parse, UTC, validate, dedupe, Delta {layout}; {files} files)"
            ),
            elite_s,
            peak(&elite_runs),
        ),
        (
            format!("polars {polars_version}: parse, UTC, validate, dedupe, Parquet {layout}"),
            median(&comparable),
            peak(&comparable),
        ),
        (
            format!("polars {polars_version}: read_csv + write_parquet only (no checks, one file)"),
            median(&plain),
            peak(&plain),
        ),
        (
            format!("duckdb {duckdb_version}: read_csv, the same checks, dedupe, COPY {layout}"),
            median(&duck),
            peak(&duck),
        ),
    ]
    .into_iter()
    .enumerate()
    .filter(|(i, _)| *i == 0 || peers)
    .map(|(_, e)| e)
    .collect();
    let col = |f: &dyn Fn(&(String, f64, f64)) -> f64| {
        Arc::new(Float64Array::from_iter_values(
            engines.iter().map(|e| r(f(e))),
        )) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                engines.iter().map(|e| e.0.as_str()),
            )),
            col(&|e| e.1),
            col(&|e| rows as f64 / e.1 / 1e6),
            col(&|e| e.2),
            col(&|e| e.1 / elite_s),
        ],
    )?;
    printer.note(format!(
        "{rows} rows ({:?}-major), {size_mib:.0} MiB CSV, {} cores; whole processes, median of {} runs each, peak RSS the largest; \
         elite_speedup = engine seconds / elite seconds",
        args.layout.order,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.repeat
    ));
    printer.batches(schema, &[batch])?;
    printer.note(append_line);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
