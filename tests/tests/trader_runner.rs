//! `elite run trader --paper` on real GOOG bars: the same orders and fills as `elite backtest` on
//! the same config; `kill -9` mid-run and a restart end with exactly the tables of an
//! uninterrupted run (no order sent twice, no fill lost); live trading only with a [broker], a
//! confirmation and a token, and then each order reaches the (loopback) broker once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{elite, fixture, sql_json, sql_scalar};

fn config() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs/goog_strategies.toml")
}

fn ingest(home: &Path) {
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
}

fn dump(home: &Path, mode: &str) -> Vec<serde_json::Value> {
    let q = |sql: &str| sql_json(home, &sql.replace("{mode}", mode));
    let mut out = q(
        "SELECT f.seq, order_id, strategy, side, qty, cast(price AS VARCHAR) AS p, cast(charges AS VARCHAR) AS c, \
                     cast(f.ts_event AS VARCHAR) AS t FROM fills f JOIN runs r ON f.run_id = r.run_id \
                     WHERE r.mode = '{mode}' ORDER BY f.seq",
    );
    out.extend(q(
        "SELECT o.seq, order_id, status, filled, cast(o.ts_event AS VARCHAR) AS t FROM orders o \
                   JOIN runs r ON o.run_id = r.run_id WHERE r.mode = '{mode}' ORDER BY o.seq",
    ));
    out.extend(q("SELECT e.seq, order_id, decision, \"check\" FROM risk_events e JOIN runs r ON e.run_id = r.run_id \
                  WHERE r.mode = '{mode}' ORDER BY e.seq"));
    out.extend(q("SELECT cast(e.ts_event AS VARCHAR) AS t, cast(cash AS VARCHAR) AS cash, equity FROM equity_curve e \
                  JOIN runs r ON e.run_id = r.run_id WHERE r.mode = '{mode}' ORDER BY e.ts_event"));
    out.extend(q("SELECT p.seq, strategy, symbol, qty, cast(basis AS VARCHAR) AS b, cast(realized AS VARCHAR) AS r \
                  FROM positions p JOIN runs r ON p.run_id = r.run_id WHERE r.mode = '{mode}' ORDER BY p.seq"));
    // The audit trail: the same events in the same order, however the run was committed.
    let audit = q(
        "SELECT a.seq, kind, order_id, strategy, symbol, detail, cast(a.ts_event AS VARCHAR) AS t \
                   FROM audit_log a JOIN runs r ON a.run_id = r.run_id WHERE r.mode = '{mode}' ORDER BY a.seq",
    );
    assert!(audit.len() > 100, "{}", audit.len());
    let seqs: Vec<i64> = audit.iter().map(|a| a["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..audit.len() as i64).collect::<Vec<_>>(), "gapless");
    let n = |sql: &str| q(sql)[0]["n"].as_i64().unwrap();
    let streams = n(
        "SELECT count(*) AS n FROM fills f JOIN runs r ON f.run_id = r.run_id WHERE r.mode = '{mode}'",
    ) + n(
        "SELECT count(*) AS n FROM orders o JOIN runs r ON o.run_id = r.run_id WHERE r.mode = '{mode}'",
    ) + n(
        "SELECT count(*) AS n FROM risk_events e JOIN runs r ON e.run_id = r.run_id WHERE r.mode = '{mode}'",
    );
    assert!(
        audit.len() as i64 >= streams,
        "every fill, order event and risk decision is audited"
    );
    out.extend(audit);
    out
}

#[test]
fn paper_equals_backtest_and_survives_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("ref");
    ingest(&reference);
    elite(&reference)
        .args(["run", "trader"])
        .arg(config())
        .assert()
        .success();
    elite(&reference)
        .arg("backtest")
        .arg(config())
        .assert()
        .success();
    let paper = dump(&reference, "paper");
    assert!(paper.len() > 3000, "{}", paper.len());
    // The stream-fed paper trader and the backtest made the same decisions and fills.
    assert_eq!(paper, dump(&reference, "backtest"));

    let mut hit = false;
    for attempt in 0..3 {
        let home = tmp.path().join(format!("run{attempt}"));
        ingest(&home);
        let checkpoint = home.join("_state/trader-default.json");
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("elite"))
            .env("ELITE_HOME", &home)
            .env("ELITE_CONFIG", "/dev/null")
            .env("ELITE_NO_PROGRESS", "1")
            .args([
                "run",
                "trader",
                "--paper",
                "--commit-every",
                "200",
                "--rate",
                "1500",
            ])
            .arg(config())
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
            let next = std::fs::read(&checkpoint)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["next_offset"].as_u64())
                .unwrap_or(0);
            if next >= 600 {
                child.kill().unwrap(); // SIGKILL
                killed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        if !killed
            || home.join("runs").exists() && sql_scalar(&home, "SELECT count(*) FROM runs") != 0
        {
            continue; // finished before the kill landed; try again
        }
        hit = true;
        let cp: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
        let next = cp["next_offset"].as_u64().unwrap();
        assert!((600..2148).contains(&next), "checkpoint at {next}");

        // Restart: rebuilds the book up to the checkpoint, checks it against the recorded fills,
        // and goes on from there.
        let out = elite(&home)
            .args(["run", "trader"])
            .arg(config())
            .assert()
            .success();
        let note = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            note.contains(&format!("resumed at event {next}, {} bars", 2148 - next)),
            "{note}"
        );
        assert_eq!(
            dump(&home, "paper"),
            paper,
            "tables after kill + restart differ from an uninterrupted run"
        );
        // No order sent twice: every client order id has one `sent` row.
        assert_eq!(
            sql_scalar(&home, "SELECT count(*) FROM orders WHERE status = 'sent'"),
            sql_scalar(
                &home,
                "SELECT count(DISTINCT order_id) FROM orders WHERE status = 'sent'"
            )
        );
        // A third run has nothing left to do.
        let out = elite(&home)
            .args(["run", "trader"])
            .arg(config())
            .assert()
            .success();
        assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("0 bars, "));
        assert_eq!(dump(&home, "paper"), paper);
        break;
    }
    assert!(hit, "never caught the trader mid-run in 3 attempts");

    live_gate_and_run(&reference);
}

/// A loopback Upstox that accepts every order and never fills one: the order book lists them
/// open; the trade book is empty. Counts placements per tag.
fn quiet_upstox() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let tags = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&tags);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':')
                    && k.trim().eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut tags = seen.lock().unwrap();
            let out = if path.starts_with("/v2/order/place") {
                let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
                tags.push(req["tag"].as_str().unwrap().to_string());
                serde_json::json!({"status": "success", "data": {"order_id": format!("OID{}", tags.len())}})
            } else if path.starts_with("/v2/order/retrieve-all") {
                let rows: Vec<_> = tags
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        serde_json::json!({"order_id": format!("OID{}", i + 1), "tag": t,
                        "status": "open", "average_price": null, "filled_quantity": 0})
                    })
                    .collect();
                serde_json::json!({"status": "success", "data": rows})
            } else {
                serde_json::json!({"status": "success", "data": []})
            };
            let out = out.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                out.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(out.as_bytes());
        }
    });
    (base, tags)
}

/// `--live` only with a [broker], the config's name confirmed and a token; then real orders go
/// to the broker, once each.
fn live_gate_and_run(home: &Path) {
    let fail = |args: &[&str], cfg: &Path, env: Option<&str>, want: &str| {
        let mut c = elite(home);
        c.args(args).arg(cfg).env_remove("ELITE_TEST_TOKEN");
        if let Some(t) = env {
            c.env("ELITE_TEST_TOKEN", t);
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(want), "{want:?} not in {err}");
    };
    // No [broker] section.
    fail(&["run", "trader", "--live"], &config(), None, "[broker]");
    let (base, tags) = quiet_upstox();
    let cfg = home.join("live.toml");
    std::fs::write(
        &cfg,
        std::fs::read_to_string(config()).unwrap()
            + &format!(
                "\n[broker]\nkind = \"upstox\"\nbase_url = \"{base}\"\ntoken_env = \"ELITE_TEST_TOKEN\"\n\
                 instruments = {{ GOOG = \"NSE_EQ|INE000GOOG01\" }}\n"
            ),
    )
    .unwrap();
    // Not confirmed (stdin is not a terminal), confirmed with the wrong name, no token.
    fail(
        &["run", "trader", "--live"],
        &cfg,
        Some("t"),
        "--confirm goog-strategies",
    );
    fail(
        &["run", "trader", "--live", "--confirm", "goog"],
        &cfg,
        Some("t"),
        "does not match",
    );
    fail(
        &["run", "trader", "--live", "--confirm", "goog-strategies"],
        &cfg,
        None,
        "$ELITE_TEST_TOKEN",
    );
    assert!(
        tags.lock().unwrap().is_empty(),
        "nothing reached the broker"
    );

    let run = || {
        let out = elite(home)
            .args([
                "run",
                "trader",
                "--live",
                "--confirm",
                "goog-strategies",
                "--name",
                "l",
            ])
            .arg(&cfg)
            .env("ELITE_TEST_TOKEN", "t")
            .assert()
            .success();
        (
            String::from_utf8_lossy(&out.get_output().stderr).to_string(),
            String::from_utf8_lossy(&out.get_output().stdout).to_string(),
        )
    };
    let (note, sheet) = run();
    // The tear sheet as of the last bar (nothing filled: the equity never moved).
    assert!(
        sheet.contains("total_return") && sheet.contains("max_drawdown"),
        "{sheet}"
    );
    let placed = tags.lock().unwrap().clone();
    assert!(!placed.is_empty(), "{note}");
    assert!(
        note.contains(&format!("{} orders placed", placed.len())),
        "{note}"
    );
    let mut unique = placed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), placed.len(), "a tag placed twice");
    // The warehouse holds the live run's sends (the broker filled nothing: no fill).
    let run_id = note
        .split("(run ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap()
        .to_string();
    let n = |sql: &str| {
        sql_scalar(home, &sql.replace("{run}", &run_id))
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        n("SELECT count(*) FROM orders WHERE run_id = '{run}' AND status = 'sent'") as usize,
        placed.len()
    );
    assert_eq!(n("SELECT count(*) FROM fills WHERE run_id = '{run}'"), 0);
    // A second run: no new bars, nothing sent.
    let (note, _) = run();
    assert!(note.contains(" 0 new bars"), "{note}");
    assert_eq!(tags.lock().unwrap().len(), placed.len());
}
