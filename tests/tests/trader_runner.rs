//! `elite run trader --paper` on real GOOG bars: the same orders and fills as `elite backtest` on
//! the same config; `kill -9` mid-run and a restart end with exactly the tables of an
//! uninterrupted run (no order sent twice, no fill lost); live trading is refused.

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
    elite(home)
        .args(["ingest", "csv"])
        .arg(fixture("bars/GOOG_1d.csv"))
        .args(["--symbol", "GOOG"])
        .assert()
        .success();
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
            note.contains(&format!("resumed at bar {next}, {} bars", 2148 - next)),
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

    // Live trading is refused with a clear message.
    let out = elite(&reference)
        .args(["run", "trader", "--live"])
        .arg(config())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--paper"));
}
