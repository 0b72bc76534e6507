//! The streaming signal runner through the CLI on real bars (GOOG daily + EuroStoxx50 future
//! 1-minute, 33,037 bars): kill -9 in the middle of a run, restart, and the `signals` table ends
//! exactly equal to an uninterrupted run's — no signal lost, none duplicated.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{elite, fixture, sql_json, sql_scalar};

fn ingest(home: &Path) {
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    common::ingest_csv(
        home,
        &fixture("bars/2006-01-02-volume-min-001.txt.gz"),
        &[
            "--symbol",
            "FESX",
            "--timeframe",
            "1m",
            "--tz",
            "Europe/Berlin",
        ],
    );
}

const DUMP: &str = "SELECT symbol, timeframe, cast(ts_event AS VARCHAR) AS t, rule, direction, strength, features \
                    FROM signals ORDER BY symbol, timeframe, ts_event, rule";

fn commits(home: &Path) -> usize {
    std::fs::read_dir(home.join("signals/_delta_log"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn kill_9_and_restart_loses_and_duplicates_no_signal() {
    let tmp = tempfile::tempdir().unwrap();

    // Reference: one uninterrupted run.
    let reference = tmp.path().join("ref");
    ingest(&reference);
    elite(&reference)
        .args(["run", "signals", "--commit-every", "1000"])
        .assert()
        .success();
    let want = sql_json(&reference, DUMP);
    assert!(want.len() > 5000, "{}", want.len());

    let mut hit = false;
    for attempt in 0..3 {
        let home = tmp.path().join(format!("run{attempt}"));
        ingest(&home);
        let checkpoint = home.join("_state/signals-default.json");
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("elite"))
            .env("ELITE_HOME", &home)
            .env("ELITE_CONFIG", "/dev/null")
            .env("ELITE_NO_PROGRESS", "1")
            .args([
                "run",
                "signals",
                "--commit-every",
                "1000",
                "--rate",
                "15000",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut killed = false;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if checkpoint.exists() && commits(&home) >= 3 {
                child.kill().unwrap(); // SIGKILL
                killed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        if !killed {
            continue;
        }
        let partial = sql_scalar(&home, "SELECT count(*) FROM signals")
            .as_i64()
            .unwrap();
        if partial as usize >= want.len() {
            continue; // finished before the kill landed; try again
        }
        hit = true;
        let cp: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
        let next = cp["next_offset"].as_u64().unwrap();
        assert!(next > 0 && next < 33_037, "checkpoint at {next}");

        // Restart: resumes from the checkpoint and finishes.
        let out = elite(&home)
            .args([
                "--format",
                "json",
                "run",
                "signals",
                "--commit-every",
                "1000",
            ])
            .assert()
            .success();
        let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(report[0]["resumed_from"].as_u64(), Some(next));
        assert_eq!(report[0]["bars_processed"].as_u64(), Some(33_037 - next));

        let got = sql_json(&home, DUMP);
        assert_eq!(got.len(), want.len(), "signal count after restart");
        assert_eq!(
            got, want,
            "signals after kill + restart differ from an uninterrupted run"
        );
        assert_eq!(
            sql_scalar(
                &home,
                "SELECT count(*) FROM (SELECT DISTINCT symbol, timeframe, rule, ts_event FROM signals)"
            ),
            want.len() as i64
        );
        // A third run has nothing left to do.
        elite(&home).args(["run", "signals"]).assert().success();
        assert_eq!(
            sql_scalar(&home, "SELECT count(*) FROM signals"),
            want.len() as i64
        );
        break;
    }
    assert!(hit, "never caught the runner mid-run in 3 attempts");
}

#[test]
fn features_build_through_the_cli_is_idempotent_and_keeps_labels_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("wh");
    ingest(&home);
    let out = elite(&home)
        .args([
            "--format",
            "json",
            "features",
            "build",
            "--timeframe",
            "1d",
            "--horizon",
            "5",
        ])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(r[0]["bars"], 2148);
    let rows = r[0]["feature_rows"].as_u64().unwrap();
    assert_eq!(r[0]["feature_rows_added"].as_u64(), Some(rows));
    assert_eq!(r[0]["label_rows"], 2148 - 5);
    // Re-run adds nothing.
    let out = elite(&home)
        .args([
            "--format",
            "json",
            "features",
            "build",
            "--timeframe",
            "1d",
            "--horizon",
            "5",
        ])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(r[0]["feature_rows_added"], 0);
    assert_eq!(r[0]["label_rows_added"], 0);
    // rsi_14 in the features table equals the SQL window function over the same bars.
    let diff = sql_scalar(
        &home,
        "SELECT count(*) FROM features f JOIN (
            SELECT ts_event, rsi(close, 14) OVER (PARTITION BY symbol ORDER BY ts_event) AS r FROM bars WHERE symbol = 'GOOG'
         ) b ON f.ts_event = b.ts_event
         WHERE f.feature = 'rsi_14' AND f.symbol = 'GOOG' AND f.value <> b.r",
    );
    assert_eq!(diff, 0);
    assert_eq!(
        sql_scalar(
            &home,
            "SELECT count(*) FROM features WHERE feature = 'rsi_14'"
        ),
        2148 - 14
    );
    // A label is knowable only when its horizon's bar has closed.
    assert_eq!(
        sql_scalar(
            &home,
            "SELECT count(*) FROM labels l JOIN bars b ON l.symbol = b.symbol AND l.ts_event = b.ts_event WHERE l.ts_recv <= b.ts_recv"
        ),
        0
    );
}

#[test]
fn resample_along_a_calendar_with_holiday_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("wh");
    common::ingest_csv(
        &home,
        &fixture("bars/SP500_NOV2019_IDayRVol.csv"),
        &[
            "--symbol",
            "SPX",
            "--timeframe",
            "1m",
            "--tz",
            "America/New_York",
        ],
    );
    // A made-up holiday on 2019-11-06 (the real NYSE 2019 list has none that week) plus a bad row.
    let cal = tmp.path().join("cal.csv");
    std::fs::write(&cal, "date,rule,close_time,note\n2019-11-06,holiday,,test holiday\n2019-11-07,early_close,25:00,bad time\n").unwrap();
    let out = elite(&home)
        .args(["--format", "json", "ingest", "calendar"])
        .arg(&cal)
        .args(["--calendar", "NYSE"])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        (
            r[0]["rows_added"].as_u64(),
            r[0]["rows_quarantined"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        sql_scalar(
            &home,
            "SELECT location FROM quarantine WHERE target_table = 'calendar'"
        ),
        "line 3"
    );

    let out = elite(&home)
        .args([
            "--format",
            "json",
            "bars",
            "resample",
            "--timeframe",
            "1m",
            "--to",
            "1d",
            "--calendar",
            "NYSE",
        ])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    // 3 sessions (the 6th is a holiday). Outside: the 16:00 prints of the 5th and 7th (the
    // file has none on the 8th; the 6th's is part of the holiday) and the holiday's 391 bars.
    assert_eq!(r[0]["bars_out"], 3);
    assert_eq!(r[0]["outside_sessions"], 2 + 391);
    // Each daily bar equals an independent aggregation of its session's minutes in SQL.
    let rows = sql_json(
        &home,
        "SELECT d.ts_event, d.open = m.o AND d.high = m.h AND d.low = m.l AND d.close = m.c AND d.volume = m.v AS same
         FROM bars d JOIN (
           SELECT date_trunc('day', ts_event - INTERVAL '5 hours') AS day,
                  first_value(open ORDER BY ts_event) AS o, max(high) AS h, min(low) AS l,
                  last_value(close ORDER BY ts_event) AS c, sum(volume) AS v
           FROM bars WHERE timeframe = '1m' AND (extract(hour FROM ts_event) * 60 + extract(minute FROM ts_event)) < 21 * 60
           GROUP BY 1) m ON d.ts_event - INTERVAL '5 hours' = m.day
         WHERE d.timeframe = '1d' ORDER BY 1",
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["same"] == true), "{rows:?}");
    // Re-running adds nothing.
    let out = elite(&home)
        .args([
            "--format",
            "json",
            "bars",
            "resample",
            "--timeframe",
            "1m",
            "--to",
            "1d",
            "--calendar",
            "NYSE",
        ])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(r[0]["rows_added"], 0);
}

/// `elite bench signals` runs end to end on the embedded and the file transport, paced and
/// by rounds: every timed tick is measured, buy/sell signals become orders that reach the
/// broker, and the percentiles are ordered.
#[test]
fn bench_signals_measures_ticks_and_orders() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("topics");
    let file = format!("file:{}", dir.display());
    for (transport, pace) in [
        ("embedded", ["--rate", "20000"]),
        (file.as_str(), ["--gap-ms", "2"]),
    ] {
        let mut args = vec![
            "bench",
            "signals",
            "--symbols",
            "50",
            "--rounds",
            "20",
            "--warmup",
            "60",
            "--transport",
            transport,
        ];
        args.extend(pace);
        let out = common::json(home.path(), &args);
        let row = &out.as_array().expect("rows")[0];
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        assert!(f("orders") > 0.0, "{transport}: {row}");
        assert!(f("signals") > f("orders"), "{transport}: {row}");
        for (lo, hi) in [
            ("tick_p50_us", "tick_p99_us"),
            ("tick_p99_us", "tick_max_us"),
            ("order_p50_us", "order_p99_us"),
            ("compute_per_tick_p50_us", "compute_per_tick_p99_us"),
        ] {
            assert!(
                f(lo) > 0.0 && f(lo) <= f(hi),
                "{transport}: {lo} > {hi}: {row}"
            );
        }
        // A tick is measured after its delivery: its latency is at least its transport's share.
        assert!(
            f("tick_p50_us") >= f("delivery_p50_us"),
            "{transport}: {row}"
        );
    }
}
