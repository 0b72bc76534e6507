//! An independent engine reads a warehouse table and gets the same rows.
//!
//! DuckDB (PyPI `duckdb`, installed by `tests/dev setup`) reads the Parquet files that the Delta
//! log says are live — the log is replayed here in plain Python, not by delta-rs — with the
//! partition values from the log's `add` actions. Every row must equal what `elite sql` returns.

mod common;

use common::{elite, fixture, sql_json};

const READER: &str = r#"
import duckdb, glob, json, os, sys
table = sys.argv[1]
live = {}
for f in sorted(glob.glob(os.path.join(table, "_delta_log", "*.json"))):
    for line in open(f):
        a = json.loads(line)
        if "add" in a:
            live[a["add"]["path"]] = a["add"]["partitionValues"]
        elif "remove" in a:
            live.pop(a["remove"]["path"], None)
con = duckdb.connect()
rows = []
for path, parts in sorted(live.items()):
    from urllib.parse import unquote
    q = "SELECT epoch_us(ts_event) AS ts, timeframe, open, high, low, close, volume FROM read_parquet(?)"
    for r in con.execute(q, [os.path.join(table, unquote(path))]).fetchall():
        rows.append({"symbol": parts["symbol"], "year": int(parts["year"]), "ts": r[0], "timeframe": r[1],
                     "open": r[2], "high": r[3], "low": r[4], "close": r[5], "volume": r[6]})
rows.sort(key=lambda r: (r["symbol"], r["timeframe"], r["ts"]))
json.dump(rows, sys.stdout)
"#;

fn python() -> Option<String> {
    let p = std::env::var("ELITE_PYTHON").ok().or_else(|| {
        let home = std::env::var("HOME").ok()?;
        Some(format!("{home}/.cache/elite/venv/bin/python"))
    })?;
    let ok = std::process::Command::new(&p)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(p)
}

#[test]
fn duckdb_reads_the_same_rows_as_elite() {
    let Some(py) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run `tests/dev setup` (it installs duckdb)"
        );
        eprintln!("interop test DID NOT RUN: no Python with duckdb; run `tests/dev setup`");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    elite(h)
        .args(["ingest", "csv"])
        .arg(fixture("bars/GOOG_1d.csv"))
        .args(["--symbol", "GOOG"])
        .assert()
        .success();
    elite(h)
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
    elite(h)
        .args(["ingest", "csv"])
        .arg(fixture("bars/2006-min-005.txt"))
        .args(["--symbol", "STOXX50E", "--timeframe", "5m"])
        .assert()
        .success();
    // Compaction rewrites files (add + remove in the log): the reader must follow that too.
    elite(h)
        .args(["warehouse", "optimize", "bars"])
        .assert()
        .success();

    let out = std::process::Command::new(py)
        .args(["-c", READER])
        .arg(h.join("bars"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ours = sql_json(
        h,
        "SELECT symbol, year, CAST(ts_event AS BIGINT) AS ts, timeframe, open, high, low, close, volume \
         FROM bars ORDER BY symbol, timeframe, ts",
    );
    assert_eq!(ours.len(), 2148 + 1563 + 2142);
    assert_eq!(theirs.len(), ours.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b);
    }
}
