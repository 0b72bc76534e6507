//! `elite bench crash`: kill -9 at random points of chunked CSV ingests and count what a crash
//! cost. A benchmark-style run, not a test: it reports a tally and fails if any run lost a row,
//! doubled one or left a partial version.
//!
//! `--runs` files of synthetic 1-minute bars (each its own span of minutes, with malformed rows and repeated
//! keys to quarantine) land one after another in one warehouse. Each ingest is started as a
//! child process and killed with SIGKILL after a random delay, uniform over 5%..120% of the time
//! an uninterrupted ingest of the same size took (so some runs finish first). After each kill the
//! table must hold exactly the earlier files' rows or those plus the whole file (one commit, never
//! part of one); then the ingest is run again to completion and the table must hold every row of
//! every file so far exactly once, and the quarantine every refused record exactly once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use arrow::array::AsArray;
use arrow::datatypes::Int64Type;

use crate::args::BenchCrashArgs;
use crate::printer::Printer;
use crate::settings::Settings;

/// Writes the `day`-th file (minutes after the previous file's); returns (good rows, refused rows).
fn write_day(path: &Path, day: usize, rows: usize, symbols: usize) -> Result<(usize, usize)> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "symbol,ts,open,high,low,close,volume")?;
    let minutes = rows.div_ceil(symbols);
    // Each file its own span of minutes (no key of one file is in another).
    let t0 = 1_704_067_200i64 + (day * minutes) as i64 * 60; // from 2024-01-01
    let (mut good, mut bad) = (0, 0);
    let mut n = 0usize;
    for m in 0..minutes {
        let ts = chrono::DateTime::from_timestamp(t0 + 60 * m as i64, 0).unwrap_or_default();
        let ts = ts.format("%Y-%m-%d %H:%M:%S");
        for s in 0..symbols {
            n += 1;
            let p = 100.0 + s as f64 + (m % 61) as f64 * 0.01;
            if n.is_multiple_of(10_007) {
                // high below low
                writeln!(
                    w,
                    "S{s:04},{ts},{p:.2},{:.2},{:.2},{p:.2},1",
                    p - 2.0,
                    p + 2.0
                )?;
                bad += 1;
                continue;
            }
            writeln!(
                w,
                "S{s:04},{ts},{p:.2},{:.2},{:.2},{p:.2},{}",
                p + 1.0,
                p - 1.0,
                100 + m
            )?;
            good += 1;
            if n.is_multiple_of(20_011) {
                // the same key again
                writeln!(
                    w,
                    "S{s:04},{ts},{p:.2},{:.2},{:.2},{p:.2},7",
                    p + 1.0,
                    p - 1.0
                )?;
                bad += 1;
            }
        }
    }
    w.flush()?;
    Ok((good, bad))
}

fn ingest_cmd(exe: &Path, home: &Path, file: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("ELITE_CONFIG", "/dev/null")
        .args(["--no-progress", "--format", "json", "--home"])
        .arg(home)
        .args(["ingest", "csv"])
        .arg(file)
        .args(["--timeframe", "1m"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

async fn scalar(home: &Path, sql: &str) -> Result<i64> {
    let wh = elite_store::Warehouse::open(&home.to_string_lossy())?;
    let engine = elite_sql::SqlEngine::new(wh).await?;
    let b = engine.query(sql).await?;
    let c = arrow::compute::cast(b[0].column(0), &arrow::datatypes::DataType::Int64)?;
    Ok(c.as_primitive::<Int64Type>().value(0))
}

#[derive(Debug, Default, serde::Serialize)]
struct Tally {
    runs: usize,
    rows_per_file: usize,
    /// Killed before the data commit: the table read as before, then the rerun landed the file.
    killed_before_commit: usize,
    /// Killed after the data commit, before the checkpoint: the rerun found every row present.
    killed_after_commit: usize,
    /// The ingest finished before the kill came.
    finished_before_kill: usize,
    partial_versions: usize,
    duplicate_rows: i64,
    lost_rows: i64,
    quarantine_rows_off_by: i64,
    orphan_data_files_left: usize,
}

fn parquet_files(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                n += 1;
            }
        }
    }
    n
}

pub async fn run(args: BenchCrashArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let dir: PathBuf = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("elite-crash-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    printer.note(format!(
        "writing {} files of {} rows ({} symbols) in {}",
        args.runs,
        args.rows,
        args.symbols,
        dir.display()
    ));
    let mut files = Vec::new();
    for k in 0..args.runs {
        let p = dir.join(format!("day{k:03}.csv"));
        let (good, bad) = write_day(&p, k, args.rows, args.symbols)?;
        files.push((p, good, bad));
    }
    // How long one uninterrupted ingest takes.
    let scratch = dir.join("scratch");
    let t = Instant::now();
    let out = ingest_cmd(&exe, &scratch, &files[0].0).output()?;
    if !out.status.success() {
        bail!("ingest failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let full = t.elapsed();
    let _ = std::fs::remove_dir_all(&scratch);
    printer.note(format!(
        "an uninterrupted ingest took {:.2} s; killing at 5%..120% of that",
        full.as_secs_f64()
    ));

    let home = dir.join("warehouse");
    let mut rng = args.seed.max(1);
    let mut uniform = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut tally = Tally {
        runs: args.runs,
        rows_per_file: args.rows,
        ..Tally::default()
    };
    let (mut landed, mut refused) = (0i64, 0i64);
    for (k, (file, good, bad)) in files.iter().enumerate() {
        let delay = full.mul_f64(0.05 + 1.15 * uniform());
        let mut child = ingest_cmd(&exe, &home, file).spawn()?;
        let deadline = Instant::now() + delay;
        let mut finished = false;
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                finished = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if !finished {
            child.kill()?; // SIGKILL
        }
        let status = child.wait()?;
        if finished && !status.success() {
            bail!("run {k}: ingest failed on its own: {status}");
        }
        let (good, bad) = (*good as i64, *bad as i64);
        let rows = if home.join("bars").exists() {
            scalar(&home, "SELECT count(*) FROM bars").await?
        } else {
            0
        };
        let checkpoints = if home.join("ingest_checkpoints").exists() {
            scalar(
                &home,
                &format!(
                    "SELECT count(*) FROM ingest_checkpoints WHERE source = 'csv:{}'",
                    file.file_name().unwrap_or_default().to_string_lossy()
                ),
            )
            .await?
        } else {
            0
        };
        if rows == landed {
            tally.killed_before_commit += 1;
        } else if rows == landed + good {
            if finished {
                tally.finished_before_kill += 1;
            } else if checkpoints == 0 {
                tally.killed_after_commit += 1;
            } else {
                tally.finished_before_kill += 1;
            }
        } else {
            tally.partial_versions += 1;
            printer.note(format!(
                "run {k}: after the kill the table holds {rows} rows: neither {landed} nor {}",
                landed + good
            ));
        }
        // Rerun to completion.
        let out = ingest_cmd(&exe, &home, file).output()?;
        if !out.status.success() {
            bail!(
                "run {k}: the rerun failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        landed += good;
        refused += bad;
        let rows = scalar(&home, "SELECT count(*) FROM bars").await?;
        let distinct = scalar(
            &home,
            "SELECT count(*) FROM (SELECT DISTINCT symbol, timeframe, ts_event FROM bars)",
        )
        .await?;
        let quarantined = scalar(&home, "SELECT count(*) FROM quarantine").await?;
        tally.duplicate_rows += rows - distinct;
        tally.lost_rows += (landed - distinct).max(0);
        tally.quarantine_rows_off_by += (quarantined - refused).abs();
        if rows != landed || quarantined != refused {
            printer.note(format!(
                "run {k}: {rows} rows ({distinct} distinct) for {landed} landed; quarantine {quarantined} for {refused}"
            ));
            landed = rows;
            refused = quarantined;
        }
    }
    let live: usize = {
        let wh = elite_store::Warehouse::open(&home.to_string_lossy())?;
        wh.tables()
            .await?
            .iter()
            .find(|t| t.spec.name == "bars")
            .map_or(0, |t| t.files)
    };
    tally.orphan_data_files_left = parquet_files(&home.join("bars")).saturating_sub(live);
    printer.records(&[&tally])?;
    if tally.partial_versions > 0 || tally.duplicate_rows != 0 || tally.lost_rows != 0 {
        bail!("a crash cost data: {tally:?}");
    }
    if tally.quarantine_rows_off_by != 0 {
        bail!("the quarantine lost or doubled records: {tally:?}");
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
