//! End to end through the real binary: real files in, SQL out, exactly once, quarantine,
//! time travel, read-only SQL, exit codes, and the API collectors against replayed payloads.
//!
//! Reference sums were computed outside Elite with Python's `csv` module over the same files:
//!   python3 -c "import csv; r=list(csv.DictReader(open('GOOG_1d.csv'))); print(len(r), sum(float(x['close']) for x in r))"

mod common;

use common::{ReplayServer, elite, fixture, sql_json, sql_scalar};
use predicates::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn daily_and_intraday_bars_land_with_reference_counts_and_sums() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    elite(h)
        .args(["ingest", "csv"])
        .arg(fixture("bars/GOOG_1d.csv"))
        .args(["--symbol", "GOOG", "--timeframe", "1d"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2148"));
    common::ingest_csv(
        h,
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
    common::ingest_csv(
        h,
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

    let rows = sql_json(
        h,
        "SELECT symbol, count(*) AS n, sum(open) AS o, sum(high) AS hi, sum(low) AS lo, sum(close) AS c, sum(volume) AS v \
         FROM bars GROUP BY symbol ORDER BY symbol",
    );
    // (symbol, rows, open, high, low, close, volume) from Python's csv module.
    let want = [
        (
            "FESX",
            30889,
            113901904.0,
            113922038.0,
            113882032.0,
            113902210.0,
            23244742.0,
        ),
        (
            "GOOG",
            2148,
            1021827.91,
            1032862.05,
            1009857.8,
            1021327.2,
            11856390000.0,
        ),
        (
            "SPX",
            1563,
            4816453.46,
            4816883.79,
            4816020.91,
            4816445.17,
            2156798053.0,
        ),
    ];
    assert_eq!(rows.len(), want.len());
    for (r, w) in rows.iter().zip(want) {
        assert_eq!(r["symbol"], w.0);
        assert_eq!(r["n"], w.1);
        for (k, v) in [("o", w.2), ("hi", w.3), ("lo", w.4), ("c", w.5), ("v", w.6)] {
            assert!(close(f(&r[k]), v), "{} {k}: {} vs {v}", w.0, r[k]);
        }
    }
    // Exchange time converted to UTC: 09:30 New York (EST) is 14:30Z; bars are known at their close.
    let first = sql_json(
        h,
        "SELECT ts_event, ts_recv FROM bars WHERE symbol = 'SPX' ORDER BY ts_event LIMIT 1",
    );
    assert_eq!(first[0]["ts_event"], "2019-11-05T14:30:00Z");
    assert_eq!(first[0]["ts_recv"], "2019-11-05T14:31:00Z");
}

#[test]
fn reingest_adds_nothing_and_malformed_rows_are_quarantined() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let goog = fixture("bars/GOOG_1d.csv");
    let ingest = |file: &std::path::Path, extra: &[&str]| {
        elite(h)
            .args(["--format", "json", "ingest", "csv"])
            .arg(file)
            .args(["--symbol", "GOOG", "--timeframe", "1d"])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = ingest(&goog, &[]);
    assert!(first.status.success());
    let again: Vec<serde_json::Value> = serde_json::from_slice(&ingest(&goog, &[]).stdout).unwrap();
    assert_eq!(
        (
            again[0]["rows_added"].as_u64(),
            again[0]["skipped_already_ingested"].as_bool()
        ),
        (Some(0), Some(true))
    );
    // Forced: decoded and written again, but every key is present, so nothing lands and no version is made.
    let forced: Vec<serde_json::Value> =
        serde_json::from_slice(&ingest(&goog, &["--force"]).stdout).unwrap();
    assert_eq!(
        (
            forced[0]["rows_added"].as_u64(),
            forced[0]["already_present"].as_u64()
        ),
        (Some(0), Some(2148))
    );
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM bars"), 2148);
    assert_eq!(sql_json(h, "SELECT * FROM ingest_checkpoints").len(), 1);

    // Malformed file (real rows with six injected defects): good rows land, each bad row is quarantined.
    let bad = ingest(&fixture("bars/GOOG_1d_malformed.csv"), &[]);
    assert!(
        bad.status.success(),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 4: field `high`: cannot parse \"n/a\" as a number"),
        "{stderr}"
    );
    let q = sql_json(
        h,
        "SELECT location, reason, raw FROM quarantine ORDER BY length(location), location",
    );
    let locations: Vec<&str> = q.iter().map(|r| r["location"].as_str().unwrap()).collect();
    assert_eq!(
        locations,
        ["line 4", "line 5", "line 6", "line 7", "line 10", "line 11"]
    );
    assert_eq!(q[1]["raw"], "2005-01-14,196,200.01,194.13");
    // Its 7 good rows are GOOG days already present: still 2148 rows.
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM bars"), 2148);

    // The same malformed file again: nothing new anywhere.
    ingest(&fixture("bars/GOOG_1d_malformed.csv"), &["--force"]);
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM quarantine"), 6);
}

/// The quarantine is keyed by the input unit (content hash) plus the location: two different
/// files with the same name and a bad row at the same line with the same reason are two records;
/// re-ingesting either adds nothing.
#[test]
fn same_name_same_line_same_reason_in_two_files_is_two_quarantine_rows() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let goog = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let lines: Vec<&str> = goog.lines().collect();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    // Header, a good row, then line 3 refused for the same reason in both; different good rows after.
    let bad = "2004-08-23,110.75,n/a,109.05,109.4,9137200";
    let file_a = [lines[0], lines[1], bad, lines[4], lines[5]].join("\n");
    let file_b = [lines[0], lines[1], bad, lines[6], lines[7]].join("\n");
    std::fs::write(a.join("day.csv"), file_a).unwrap();
    std::fs::write(b.join("day.csv"), file_b).unwrap();
    let ingest = |dir: &std::path::Path, force: bool| {
        let mut c = elite(h);
        c.args(["--format", "json", "ingest", "csv"])
            .arg(dir.join("day.csv"))
            .args(["--symbol", "GOOG", "--timeframe", "1d"]);
        if force {
            c.arg("--force");
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ingest(&a, false);
    ingest(&b, false);
    let q = sql_json(
        h,
        "SELECT source, unit, location, reason, raw FROM quarantine ORDER BY unit",
    );
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(
        (q[0]["source"].clone(), q[0]["location"].clone()),
        (q[1]["source"].clone(), q[1]["location"].clone())
    );
    assert_eq!(q[0]["location"], "line 3");
    assert_eq!(q[0]["reason"], q[1]["reason"]);
    assert_ne!(q[0]["unit"], q[1]["unit"]);
    assert!(q.iter().all(|r| r["raw"] == bad));
    // Each unit is the checkpointed content hash of its file.
    let units = sql_json(
        h,
        "SELECT count(*) AS n FROM quarantine q JOIN ingest_checkpoints c ON q.unit = c.content_hash",
    );
    assert_eq!(units[0]["n"], 2);
    // Again, skipped by the checkpoint and forced through the decoder: nothing added.
    for force in [false, true] {
        ingest(&a, force);
        ingest(&b, force);
    }
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM quarantine"), 2);
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM bars"), 5);
}

#[test]
fn time_travel_returns_earlier_contents_after_later_writes() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    common::ingest_csv(h, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let t0 = sql_json(h, "SELECT max(ts_recv) AS t FROM ingest_checkpoints")[0]["t"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    common::ingest_csv(
        h,
        &fixture("bars/EURUSD_1h.csv"),
        &["--symbol", "EURUSD", "--timeframe", "1h"],
    );
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM bars"), 7148);
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM \"bars@v0\""), 2148);
    assert_eq!(
        sql_scalar(h, "SELECT count(DISTINCT symbol) FROM \"bars@0\""),
        1
    );
    assert_eq!(
        sql_scalar(h, &format!("SELECT count(*) FROM \"bars@{t0}\"")),
        2148
    );
    elite(h)
        .args(["sql", "SELECT * FROM \"bars@v9\""])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no version 9"));
    elite(h)
        .args(["warehouse", "history", "bars"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("csv:EURUSD_1h.csv")
                .and(predicate::str::contains("csv:GOOG_1d.csv")),
        );
}

#[test]
fn sql_is_read_only_and_errors_have_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for stmt in [
        "DROP TABLE bars",
        "INSERT INTO bars VALUES (1)",
        "CREATE TABLE x AS SELECT 1",
        "SET datafusion.execution.batch_size = 1",
    ] {
        elite(h)
            .args(["sql", stmt])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("read-only"));
    }
    elite(h)
        .args(["sql", "SELECT nope FROM bars"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope"));
    // A file without the needed column names the field and the fix.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.csv");
    std::fs::write(&f, "when,o,h,l\n2020-01-01,1,1,1\n").unwrap();
    elite(h)
        .args(["ingest", "csv"])
        .arg(&f)
        .args(["--symbol", "X"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--map"));
    elite(h)
        .args(["ingest", "csv", "/no/such/file.csv", "--symbol", "X"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/file.csv"));
    // Empty warehouse: every table is queryable (no rows), and the CSV format has a header.
    elite(h)
        .args(["--format", "csv", "sql", "SELECT symbol, close FROM bars"])
        .assert()
        .success()
        .stdout("symbol,close\n");
    elite(h)
        .args(["warehouse", "describe", "bars"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ts_event"));
    elite(h)
        .args(["warehouse", "vacuum", "bars", "--retention-hours", "1"])
        .assert()
        .code(1);
}

#[test]
fn warehouse_maintenance_keeps_contents() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for (file, sym, tf) in [
        ("bars/XRP_ETH-1m.csv", "XRP-ETH", "1m"),
        ("bars/XRP_ETH-5m.csv", "XRP-ETH", "5m"),
    ] {
        common::ingest_csv(h, &fixture(file), &["--symbol", sym, "--timeframe", tf]);
    }
    let before = sql_json(
        h,
        "SELECT timeframe, count(*) AS n, sum(close) AS c FROM bars GROUP BY timeframe ORDER BY timeframe",
    );
    elite(h)
        .args(["warehouse", "optimize", "bars"])
        .assert()
        .success()
        .stderr(predicate::str::contains("compacted 2 file(s) into 1"));
    assert_eq!(
        sql_json(
            h,
            "SELECT timeframe, count(*) AS n, sum(close) AS c FROM bars GROUP BY timeframe ORDER BY timeframe"
        ),
        before
    );
    elite(h)
        .args([
            "warehouse",
            "vacuum",
            "bars",
            "--retention-hours",
            "0",
            "--force",
            "--dry-run",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("would delete 2 file(s)"));
    let tables = sql_json(
        h,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    assert!(tables.iter().any(|t| t["table_name"] == "bar_coverage"));
}

#[test]
fn yahoo_client_fetches_retries_and_lands_bars_and_instrument() {
    let body = std::fs::read(fixture("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json")).unwrap();
    // First answer is a 503: the client must retry.
    let server = ReplayServer::start(vec![(503, b"busy".to_vec()), (200, body)]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    elite(h)
        .args([
            "ingest",
            "yahoo",
            "AAPL",
            "--interval",
            "1d",
            "--from",
            "2020-08-31",
            "--to",
            "2020-11-07",
            "--base-url",
            &server.base,
        ])
        .assert()
        .success();
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].path.starts_with(
            "/v8/finance/chart/AAPL?period1=1598832000&period2=1604793599&interval=1d"
        ),
        "{}",
        seen[1].path
    );
    assert_eq!(
        sql_scalar(h, "SELECT count(*) FROM bars WHERE symbol = 'AAPL'"),
        49
    );
    let inst = sql_json(
        h,
        "SELECT exchange, currency, timezone FROM instruments WHERE symbol = 'AAPL'",
    );
    assert_eq!(
        (inst[0]["exchange"].as_str(), inst[0]["timezone"].as_str()),
        (Some("NMS"), Some("America/New_York"))
    );
    // A second run without --from resumes from the checkpoint.
    let body = std::fs::read(fixture("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json")).unwrap();
    let server = ReplayServer::start(vec![(200, body)]);
    elite(h)
        .args([
            "ingest",
            "yahoo",
            "AAPL",
            "--to",
            "2020-11-07",
            "--base-url",
            &server.base,
        ])
        .assert()
        .success();
    let path = server.seen.lock().unwrap()[0].path.clone();
    // Last bar 2020-11-06 14:30 UTC = 1604673000.
    assert!(path.contains("period1=1604673000"), "{path}");
    assert_eq!(
        sql_scalar(h, "SELECT count(*) FROM bars WHERE symbol = 'AAPL'"),
        49
    );
    // The API's error envelope is reported with exit code 1.
    let server = ReplayServer::start(vec![(
        404,
        std::fs::read(fixture("yahoo/chart_error_not_found.json")).unwrap(),
    )]);
    elite(h)
        .args([
            "ingest",
            "yahoo",
            "NOPE",
            "--from",
            "2020-01-01",
            "--base-url",
            &server.base,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("No data found"));
}

#[test]
fn upstox_history_sends_the_token_but_never_prints_it() {
    let body = std::fs::read(fixture("upstox/rest/historical_candle_v3_minutes_1.json")).unwrap();
    let server = ReplayServer::start(vec![(200, body)]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let token = "secret-token-123";
    let out = elite(h)
        .env("UPSTOX_ACCESS_TOKEN", token)
        .args([
            "-vv",
            "ingest",
            "upstox-history",
            "NSE_EQ|INE002A01018",
            "--unit",
            "minutes",
            "--interval",
            "1",
        ])
        .args([
            "--from",
            "2024-06-03",
            "--to",
            "2024-06-03",
            "--base-url",
            &server.base,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(token), "the token leaked into the output");
    let seen = server.seen.lock().unwrap()[0].clone();
    assert_eq!(
        seen.path,
        "/v3/historical-candle/NSE_EQ%7CINE002A01018/minutes/1/2024-06-03/2024-06-03"
    );
    assert!(
        seen.headers
            .contains(&("authorization".into(), format!("Bearer {token}")))
    );
    assert_eq!(
        sql_scalar(h, "SELECT count(*) FROM bars WHERE timeframe = '1m'"),
        375
    );
    // 09:15 IST is 03:45 UTC.
    assert_eq!(
        sql_scalar(h, "SELECT min(ts_event) FROM bars"),
        "2024-06-03T03:45:00Z"
    );
    // No token: a clear message and exit code 1.
    elite(h)
        .args([
            "ingest",
            "upstox-history",
            "NSE_EQ|X",
            "--from",
            "2024-06-03",
            "--base-url",
            &server.base,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("UPSTOX_ACCESS_TOKEN"));
}

/// A config file holding a token that does not parse, and a request that fails (HTTP 401 with
/// Upstox's error envelope, HTTP 500, nothing listening): the error names the file and line or
/// the failure, never the token.
#[test]
fn config_and_request_errors_never_print_the_token() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let token = "tok-8f2c91-secret";
    let cfg = h.join("elite.toml");
    // Unquoted: a TOML syntax error whose parser report would quote the line.
    std::fs::write(
        &cfg,
        format!("format = \"json\"\nupstox_access_token = {token}\n"),
    )
    .unwrap();
    let out = elite(h)
        .env("ELITE_CONFIG", &cfg)
        .args(["sql", "SELECT 1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("elite.toml") && err.contains("line 2"),
        "{err}"
    );
    assert!(!err.contains(token), "{err}");

    let refused = br#"{"status":"error","errors":[{"errorCode":"UDAPI100050","message":"Invalid token used to access API","propertyPath":null,"invalidValue":null}]}"#;
    let s401 = ReplayServer::start(vec![(401, refused.to_vec())]);
    let s500 = ReplayServer::start(vec![(500, b"boom".to_vec()); 8]);
    for base in [s401.base.as_str(), s500.base.as_str(), "http://127.0.0.1:9"] {
        let out = elite(h)
            .env("UPSTOX_ACCESS_TOKEN", token)
            .args(["-vv", "ingest", "upstox-history", "NSE_EQ|INE002A01018"])
            .args([
                "--unit",
                "minutes",
                "--interval",
                "1",
                "--from",
                "2024-06-03",
            ])
            .args(["--to", "2024-06-03", "--base-url", base])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{base}: {all}");
        assert!(!all.contains(token), "{base}: the token leaked: {all}");
    }
}

#[test]
fn upstox_feed_over_websocket_equals_replay_of_the_same_frames() {
    use futures::{SinkExt, StreamExt};
    let frames = common::upstox_frames();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let served = frames.clone();
    let server = rt.spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // The client subscribes first, with a binary JSON request.
        let sub = ws.next().await.unwrap().unwrap().into_data();
        let sub: serde_json::Value = serde_json::from_slice(&sub).unwrap();
        for f in served {
            ws.send(tokio_tungstenite::tungstenite::Message::Binary(f.into()))
                .await
                .unwrap();
        }
        let _ = ws.close(None).await;
        sub
    });
    let live = tempfile::tempdir().unwrap();
    // Every decoded tick is published to the live chain's ticks topic too.
    let topics = format!("file:{}", live.path().join("topics").display());
    elite(live.path())
        .args([
            "ingest",
            "upstox-feed",
            "--url",
            &url,
            "--keys",
            "NSE_EQ|INE002A01018,NSE_FO|54908",
            "--mode",
            "full",
            "--flush-every",
            "7",
            "--to",
            "ticks",
            "--transport",
            &topics,
        ])
        .assert()
        .success();
    let sub = rt.block_on(server).unwrap();
    assert_eq!(sub["method"], "sub");
    assert_eq!(sub["data"]["mode"], "full");
    assert_eq!(sub["data"]["instrumentKeys"][1], "NSE_FO|54908");

    let replay = tempfile::tempdir().unwrap();
    elite(replay.path())
        .args(["ingest", "upstox-feed", "--replay"])
        .arg(fixture("upstox/vectors"))
        .assert()
        .success();
    let q = "SELECT symbol, ts_event, ts_recv, price, size, volume, open_interest, iv, delta FROM ticks ORDER BY symbol, ts_recv";
    let a = sql_json(live.path(), q);
    assert_eq!(a.len(), 30);
    assert_eq!(a, sql_json(replay.path(), q));
    let status = common::json(live.path(), &["stream", "status", "--transport", &topics]);
    let on_topic = status
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["topic"] == "ticks")
        .map(|r| r["records"].clone());
    assert_eq!(on_topic, Some(serde_json::json!(30)), "{status}");
    let d = "SELECT symbol, ts_recv, level, bid_price, ask_price FROM quotes ORDER BY symbol, ts_recv, level";
    assert_eq!(sql_json(live.path(), d), sql_json(replay.path(), d));
    // Replaying again lands nothing new.
    elite(replay.path())
        .args(["ingest", "upstox-feed", "--replay"])
        .arg(fixture("upstox/vectors"))
        .assert()
        .success();
    assert_eq!(sql_scalar(replay.path(), "SELECT count(*) FROM ticks"), 30);
}

#[test]
fn demo_runs_twice_and_second_run_adds_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    elite(h)
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("Time travel"));
    let n = sql_scalar(h, "SELECT count(*) FROM bars");
    let v = sql_json(h, "SELECT count(*) AS c FROM ingest_checkpoints");
    elite(h).arg("demo").assert().success();
    assert_eq!(sql_scalar(h, "SELECT count(*) FROM bars"), n);
    assert_eq!(
        sql_json(h, "SELECT count(*) AS c FROM ingest_checkpoints"),
        v
    );
}

#[test]
fn parquet_export_reingests_into_another_warehouse_identically() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    elite(a.path())
        .args(["ingest", "csv"])
        .arg(fixture("bars/SP500_NOV2019_IDayRVol.csv"))
        .args([
            "--symbol",
            "SPX",
            "--timeframe",
            "1m",
            "--tz",
            "America/New_York",
        ])
        .assert()
        .success();
    let out = elite(a.path())
        .args([
            "--format",
            "parquet",
            "sql",
            "SELECT symbol, ts_event AS ts, open, high, low, close, volume FROM bars",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let file = b.path().join("spx.parquet");
    std::fs::write(&file, &out.stdout).unwrap();
    elite(b.path())
        .args(["ingest", "parquet"])
        .arg(&file)
        .args(["--timeframe", "1m"])
        .assert()
        .success();
    let q = "SELECT symbol, ts_event, ts_recv, open, high, low, close, volume FROM bars ORDER BY ts_event";
    let (x, y) = (sql_json(a.path(), q), sql_json(b.path(), q));
    assert_eq!(x.len(), 1563);
    assert_eq!(x, y);
}

#[test]
fn one_symbol_one_month_query_reads_one_file_of_many() {
    // Synthetic hourly bars: 20 symbols over 3 years = 60 symbol-year partitions.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.csv");
    let mut s = String::from("symbol,ts,open,high,low,close\n");
    for k in 0..20 {
        for i in 0..(3 * 365 * 24 / 6) {
            s.push_str(&format!(
                "S{k:02},{},10,11,9,10\n",
                1_577_836_800 + i * 6 * 3600
            ));
        }
    }
    std::fs::write(&file, s).unwrap();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    common::ingest_csv(
        h,
        &file,
        &["--timeframe", "6h", "--partition-by", "symbol,year"],
    );
    let files = sql_json(
        h,
        "SELECT count(DISTINCT symbol || '/' || CAST(year AS VARCHAR)) AS n FROM bars",
    )[0]["n"]
        .as_i64()
        .unwrap();
    assert!(files >= 60, "{files}");
    let plan = elite(h)
        .args(["--format", "csv", "sql"])
        .arg("EXPLAIN SELECT count(*) FROM bars WHERE symbol = 'S07' AND ts_event >= '2021-03-01T00:00:00Z' AND ts_event < '2021-04-01T00:00:00Z'")
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.matches(".parquet").count(), 1, "{plan}");
    assert!(plan.contains("symbol=S07/year=2021"), "{plan}");
    assert_eq!(
        sql_scalar(
            h,
            "SELECT count(*) FROM bars WHERE symbol = 'S07' AND ts_event >= '2021-03-01T00:00:00Z' AND ts_event < '2021-04-01T00:00:00Z'"
        ),
        31 * 4
    );
}
