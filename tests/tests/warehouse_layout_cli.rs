//! Table layouts through the CLI: `elite ingest csv --partition-by`, `elite warehouse relayout`,
//! the same SQL answers under either layout, time travel across a relayout, and exactly-once
//! re-ingest after it.

mod common;

use std::path::Path;

use common::{elite, json, sql_json, sql_scalar};
use predicates::prelude::*;

/// Hourly bars of 20 symbols from 2023-12-30 to 2024-01-02, in time order (every symbol's bar
/// of an hour, then the next hour), as exchange dumps come.
fn time_major_csv(path: &Path) {
    let mut s = String::from("symbol,ts,open,high,low,close,volume\n");
    for i in 0..96i64 {
        for k in 0..20 {
            let px = 100.0 + k as f64 + i as f64 * 0.25;
            s.push_str(&format!(
                "S{k:02},{},{px},{},{},{px},{}\n",
                1_703_894_400 + i * 3600,
                px + 1.0,
                px - 1.0,
                100 + k * 7 + i
            ));
        }
    }
    std::fs::write(path, s).unwrap();
}

fn parquet_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(parquet_files(&p));
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    out
}

const QUERIES: &[&str] = &[
    "SELECT ts_event, close FROM bars WHERE symbol = 'S07' AND ts_event >= '2024-01-01T00:00:00Z' \
     AND ts_event < '2024-01-02T00:00:00Z' ORDER BY ts_event",
    "SELECT symbol, date_trunc('day', ts_event) AS day, sum(close * volume) / sum(volume) AS vwap, \
     count(*) AS n FROM bars GROUP BY symbol, date_trunc('day', ts_event) ORDER BY symbol, day",
    "SELECT year, count(*) AS n, sum(close) AS s FROM bars GROUP BY year ORDER BY year",
];

fn partitioned_by(home: &Path) -> String {
    let tables = json(home, &["warehouse", "tables"]);
    tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "bars")
        .unwrap()["partitioned_by"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn either_layout_answers_the_same_and_relayout_moves_a_table_in_one_version() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("h.csv");
    time_major_csv(&csv);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (by_symbol, by_year) = (a.path(), b.path());
    common::ingest_csv(
        by_symbol,
        &csv,
        &["--timeframe", "1h", "--partition-by", "symbol,year"],
    );
    common::ingest_csv(by_year, &csv, &["--timeframe", "1h"]); // the default layout
    assert_eq!(partitioned_by(by_symbol), "symbol, year");
    assert_eq!(partitioned_by(by_year), "year");
    // Time-major input: one file per symbol and year, or one per year (sorted by symbol, ts).
    assert_eq!(parquet_files(&by_symbol.join("bars")).len(), 40);
    assert_eq!(parquet_files(&by_year.join("bars")).len(), 2);
    for q in QUERIES {
        let x = sql_json(by_symbol, q);
        assert!(!x.is_empty(), "{q}");
        assert_eq!(x, sql_json(by_year, q), "{q}");
    }

    // Choosing a layout for a table that exists is refused, naming the way to move it.
    elite(by_year)
        .args(["ingest", "csv"])
        .arg(&csv)
        .args(["--timeframe", "1h", "--partition-by", "symbol,year"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("elite warehouse relayout bars"));

    // Move the year table to symbol/year: one new version, the same answers, the old version
    // still readable as it was.
    let before: Vec<_> = QUERIES.iter().map(|q| sql_json(by_year, q)).collect();
    let v = sql_scalar(by_year, "SELECT count(*) FROM \"bars@v0\"");
    elite(by_year)
        .args([
            "warehouse",
            "relayout",
            "bars",
            "--partition-by",
            "symbol,year",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("1920 rows from 2 file(s)"));
    assert_eq!(partitioned_by(by_year), "symbol, year");
    for (q, want) in QUERIES.iter().zip(&before) {
        assert_eq!(&sql_json(by_year, q), want, "{q}");
    }
    assert_eq!(sql_scalar(by_year, "SELECT count(*) FROM \"bars@v0\""), v);
    let hist = json(by_year, &["warehouse", "history", "bars"]);
    assert_eq!(hist.as_array().unwrap().len(), 2, "{hist}");

    // Exactly once after the move: a forced re-ingest of the same file adds nothing.
    let again = json(
        by_year,
        &[
            "ingest",
            "csv",
            csv.to_str().unwrap(),
            "--timeframe",
            "1h",
            "--force",
        ],
    );
    assert_eq!(again[0]["rows_added"], 0, "{again}");
    assert_eq!(sql_scalar(by_year, "SELECT count(*) FROM bars"), 1920);

    // Bad columns are the user's error, with the reason.
    elite(by_year)
        .args(["warehouse", "relayout", "bars", "--partition-by", "close"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot partition bars by close"));
}
