//! `elite bench ingest`: CSV -> warehouse throughput and peak memory, beside polars on the same
//! file in the same run. A benchmark, not a test: it asserts nothing about speed.
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

use crate::args::BenchIngestArgs;
use crate::printer::Printer;
use crate::settings::Settings;

/// Deterministic synthetic 1-minute bars: `symbols` × `rows/symbols`, a random walk per symbol.
pub fn write_synthetic_csv(path: &Path, rows: usize, symbols: usize) -> Result<()> {
    let per = rows.div_ceil(symbols);
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "symbol,ts,open,high,low,close,volume")?;
    let t0 = 1_704_067_200i64; // 2024-01-01T00:00:00Z
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut line = String::with_capacity(96);
    for s in 0..symbols {
        let mut price = 50.0 + 10.0 * s as f64 % 450.0;
        for i in 0..per {
            let open = price;
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
            w.write_all(line.as_bytes())?;
            price = close;
        }
    }
    w.flush()?;
    Ok(())
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
t = time.perf_counter()
import polars as pl
t_import = time.perf_counter() - t
t = time.perf_counter()
df = pl.read_csv(sys.argv[1])
df.write_parquet(sys.argv[2])
print(f"{time.perf_counter() - t:.3f} {df.height} {pl.__version__} {t_import:.3f}")
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
    write_synthetic_csv(&csv, args.rows, args.symbols)?;
    let size_mib = std::fs::metadata(&csv)?.len() as f64 / (1 << 20) as f64;
    let rows = args.rows.div_ceil(args.symbols) * args.symbols;

    printer.note("elite ingest csv …");
    let exe = std::env::current_exe()?;
    let home = dir.join("warehouse");
    let _ = std::fs::remove_dir_all(&home);
    let mut cmd = Command::new(&exe);
    cmd.env("ELITE_CONFIG", "/dev/null")
        .args(["--no-progress", "--format", "json", "--home"])
        .arg(&home)
        .args(["ingest", "csv"])
        .arg(&csv)
        .args(["--timeframe", "1m"]);
    let elite = measure(cmd)?;
    let report: serde_json::Value = serde_json::from_str(&elite.stdout).unwrap_or_default();
    let added = report[0]["rows_added"].as_u64().unwrap_or(0) as usize;
    if added != rows {
        bail!(
            "elite added {added} rows, expected {rows}: {}",
            elite.stdout
        );
    }

    printer.note(format!(
        "polars read_csv + write_parquet ({}) …",
        args.python
    ));
    let mut cmd = Command::new(&args.python);
    cmd.args(["-c", POLARS])
        .arg(&csv)
        .arg(dir.join("polars.parquet"));
    let polars = measure(cmd).context("running polars (install it: tests/dev bench does)")?;
    let fields: Vec<&str> = polars.stdout.split_whitespace().collect();
    let polars_inner: f64 = fields
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let polars_version = fields.get(2).copied().unwrap_or("?").to_string();

    let schema = Arc::new(Schema::new(vec![
        Field::new("engine", DataType::Utf8, false),
        Field::new("seconds", DataType::Float64, false),
        Field::new("m_rows_per_s", DataType::Float64, false),
        Field::new("peak_rss_mib", DataType::Float64, false),
        Field::new("elite_speedup", DataType::Float64, false),
    ]));
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let engines = [
        (
            "elite ingest csv (CSV -> Delta bars, validated, keyed)".to_string(),
            elite.seconds,
            elite.peak_rss_mib,
        ),
        (
            format!("polars {polars_version} read_csv+write_parquet, incl. start-up"),
            polars.seconds,
            polars.peak_rss_mib,
        ),
        (
            format!("polars {polars_version} read_csv+write_parquet, timed inside"),
            polars_inner,
            polars.peak_rss_mib,
        ),
    ];
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
            col(&|e| e.1 / elite.seconds),
        ],
    )?;
    printer.note(format!("{rows} rows, {size_mib:.0} MiB CSV, {} cores; elite_speedup = engine seconds / elite seconds", std::thread::available_parallelism().map_or(1, |n| n.get())));
    printer.batches(schema, &[batch])?;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
