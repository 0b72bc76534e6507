//! kill -9 in the middle of an ingest: the last committed version stays intact and readable,
//! and re-running completes the ingest exactly once.
//!
//! The kill is aimed, not random: the test watches the table directory and kills the process
//! after new Parquet data files have appeared but before the Delta commit that would make them
//! visible — the window where a non-atomic writer would leave a half-written table.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{fixture, sql_scalar};

const SYMBOLS: usize = 300;
const ROWS_PER_SYMBOL: usize = 4000;

/// Synthetic 4-hour bars for many symbols over ~2 years (many partitions = a long write).
fn write_big_csv(path: &Path) {
    let mut s = String::with_capacity(SYMBOLS * ROWS_PER_SYMBOL * 60);
    s.push_str("symbol,ts,open,high,low,close,volume\n");
    let t0 = 1_577_836_800i64; // 2020-01-01
    for k in 0..SYMBOLS {
        for i in 0..ROWS_PER_SYMBOL {
            let p = 100.0 + (k as f64) + (i % 97) as f64 * 0.01;
            s.push_str(&format!(
                "S{k:04},{},{p:.2},{:.2},{:.2},{p:.2},{}\n",
                t0 + i as i64 * 14_400,
                p + 1.0,
                p - 1.0,
                1000 + i
            ));
        }
    }
    std::fs::write(path, s).unwrap();
}

fn data_files(dir: &Path) -> usize {
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

#[test]
fn kill_9_mid_ingest_leaves_last_version_and_rerun_is_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.csv");
    write_big_csv(&big);
    let total = SYMBOLS * ROWS_PER_SYMBOL;

    let mut hit = false;
    for attempt in 0..3 {
        let home = tmp.path().join(format!("wh{attempt}"));
        common::ingest_csv(&home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
        let bars = home.join("bars");
        let files_v0 = data_files(&bars);
        let next_commit = bars.join("_delta_log/00000000000000000001.json");

        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("elite"))
            .env("ELITE_HOME", &home)
            .env("ELITE_CONFIG", "/dev/null")
            .env("ELITE_NO_PROGRESS", "1")
            .args(["ingest", "csv"])
            .arg(&big)
            .args(["--timeframe", "4h"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut killed_mid_write = false;
        while Instant::now() < deadline {
            if next_commit.exists() {
                break;
            }
            // A few files under the year layout (one per spill), hundreds under symbol/year.
            if data_files(&bars) > files_v0 + 1 && !next_commit.exists() {
                child.kill().unwrap(); // SIGKILL
                killed_mid_write = true;
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        if !killed_mid_write || next_commit.exists() {
            continue; // the write finished before we caught it; try again
        }
        hit = true;
        // Orphaned data files exist, yet the table reads exactly as version 0.
        assert!(data_files(&bars) > files_v0);
        assert_eq!(sql_scalar(&home, "SELECT count(*) FROM bars"), 2148);
        assert_eq!(
            sql_scalar(&home, "SELECT count(*) FROM ingest_checkpoints"),
            1
        );

        // Re-run: completes, exactly once.
        common::ingest_csv(&home, &big, &["--timeframe", "4h"]);
        assert_eq!(
            sql_scalar(&home, "SELECT count(*) FROM bars"),
            2148 + total as i64
        );
        assert_eq!(
            sql_scalar(
                &home,
                "SELECT count(*) FROM (SELECT DISTINCT symbol, timeframe, ts_event FROM bars)"
            ),
            2148 + total as i64
        );
        assert_eq!(
            sql_scalar(&home, "SELECT count(DISTINCT symbol) FROM bars"),
            SYMBOLS as i64 + 1
        );
        // And again: nothing more.
        common::ingest_csv(&home, &big, &["--timeframe", "4h", "--force"]);
        assert_eq!(
            sql_scalar(&home, "SELECT count(*) FROM bars"),
            2148 + total as i64
        );
        break;
    }
    assert!(
        hit,
        "never caught the ingest between writing data files and committing them"
    );
}

/// The bench-style tally through the CLI: ingests killed at random points, each rerun, nothing
/// lost, doubled or half-committed.
#[test]
fn random_kills_of_chunked_ingests_cost_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let v = common::json(
        tmp.path(),
        &[
            "bench",
            "crash",
            "--runs",
            "4",
            "--rows",
            "30000",
            "--symbols",
            "50",
            "--seed",
            "3",
            "--dir",
            work.to_str().unwrap(),
        ],
    );
    let t = &v[0];
    assert_eq!(t["runs"], 4);
    for k in [
        "partial_versions",
        "duplicate_rows",
        "lost_rows",
        "quarantine_rows_off_by",
    ] {
        assert_eq!(t[k], 0, "{k}: {v}");
    }
    let outcomes = [
        "killed_before_commit",
        "killed_after_commit",
        "finished_before_kill",
    ]
    .iter()
    .map(|k| t[*k].as_u64().unwrap())
    .sum::<u64>();
    assert_eq!(outcomes, 4, "{v}");
}
