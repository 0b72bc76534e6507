//! `elite regimes` through the CLI on real bars: rows land point in time (each known when its bar
//! was), a warehouse that saw only the past labels that past exactly as one that saw everything
//! (no look-ahead, whatever came later), re-runs land only new bars, the stress index peaks in
//! the March 2020 crash, and a backtest de-risks on it through `[risk.regime]`.

mod common;

use std::path::{Path, PathBuf};

use common::{elite, fixture, ingest_csv, json, sql_json, sql_scalar};

fn config(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs")
        .join(name)
}

/// Daily bars of `file` (the symbol from `--symbol`, else the file's own column).
fn ingest(home: &Path, file: &Path, symbol: Option<&str>) {
    match symbol {
        Some(s) => ingest_csv(home, file, &["--timeframe", "1d", "--symbol", s]),
        None => ingest_csv(home, file, &["--timeframe", "1d"]),
    }
}

/// The regimes rows without `ts_recv` (wall-clock time of ingest), in key order.
fn rows(home: &Path, before: &str) -> Vec<serde_json::Value> {
    sql_json(
        home,
        &format!(
            "SELECT scope, method, timeframe, ts_event, state, label, value, detail FROM regimes \
             WHERE ts_event < TIMESTAMP '{before}' ORDER BY scope, method, ts_event"
        ),
    )
}

#[test]
fn hmm_and_rule_regimes_are_point_in_time_and_append_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (past, full) = (tmp.path().join("past"), tmp.path().join("full"));
    // The first 1600 of GOOG's 2148 daily bars (to 2010-12-08).
    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let head: Vec<&str> = text.lines().take(1601).collect();
    let cut_file = tmp.path().join("goog_past.csv");
    std::fs::write(&cut_file, head.join("\n") + "\n").unwrap();
    let cut = head.last().unwrap().split(',').next().unwrap().to_string();
    let hmm = ["regimes", "hmm", "--symbol", "GOOG", "--refit", "50"];
    let rules = ["regimes", "rules", "--symbol", "GOOG"];

    ingest(&past, &cut_file, Some("GOOG"));
    let a = json(&past, &hmm);
    json(&past, &rules);
    // 1599 returns, 20-bar volatility: 1580 feature rows; the first fit at row 504.
    assert_eq!(a["rows"], 1580 - 503);
    assert_eq!(a["rows_added"], a["rows"]);
    assert_eq!(a["method"], "hmm2_w20_r50_m504");
    // Then the rest of history arrives.
    ingest(&past, &fixture("bars/GOOG_1d.csv"), Some("GOOG"));
    let b = json(&past, &hmm);
    assert_eq!(b["rows_added"], 2148 - 1600);
    json(&past, &rules);

    ingest(&full, &fixture("bars/GOOG_1d.csv"), Some("GOOG"));
    json(&full, &hmm);
    json(&full, &rules);
    // Everything: the warehouse that labelled the past before the future existed agrees row for
    // row with the one that saw it all.
    let (x, y) = (rows(&past, "2100-01-01"), rows(&full, "2100-01-01"));
    // HMM: 2128 feature rows from row 503 on; rules: bars from 272 on.
    assert_eq!(x.len(), (2128 - 503) + (2148 - 272), "{}", x.len());
    assert_eq!(x, y);
    assert!(rows(&full, &cut).len() > 1000);
    // Each row is known exactly when its bar was.
    assert_eq!(
        sql_scalar(
            &full,
            "SELECT count(*) FROM regimes r JOIN bars b ON b.symbol = r.scope AND b.timeframe = r.timeframe \
             AND b.ts_event = r.ts_event WHERE r.ts_recv <> b.ts_recv"
        ),
        0
    );
    // Again: nothing new.
    assert_eq!(json(&full, &hmm)["rows_added"], 0);
    // The `regime` feature set's hmm_turbulent is the default HMM's filtered probability of the
    // turbulent state, row for row.
    json(&full, &["regimes", "hmm", "--symbol", "GOOG"]);
    elite(&full)
        .args(["features", "build", "--set", "regime", "--timeframe", "1d"])
        .assert()
        .success();
    assert_eq!(
        sql_scalar(
            &full,
            "SELECT count(*) FROM regimes r JOIN features f ON f.symbol = r.scope AND f.ts_event = r.ts_event \
             WHERE r.method = 'hmm2' AND f.feature = 'hmm_turbulent' \
             AND abs(CASE WHEN r.state = 1 THEN r.value ELSE 1 - r.value END - f.value) < 1e-12"
        ),
        2128 - 503
    );
    // Both calm and turbulent days exist, with the turbulent state's volatility higher.
    let m = &b["model"];
    assert!(m["means"][1][1].as_f64().unwrap() > m["means"][0][1].as_f64().unwrap());
    let counts = b["counts"].as_object().unwrap();
    assert!(counts["calm"].as_u64().unwrap() > 0 && counts["turbulent"].as_u64().unwrap() > 0);
    // Bad input is the user's error, with the reason.
    let out = elite(&full)
        .args(["regimes", "hmm", "--symbol", "NOPE"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
}

#[test]
fn the_stress_index_peaks_in_2020_and_a_backtest_de_risks_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ingest(home, &fixture("bars/sp500_20_1d_2010_2022.csv.gz"), None);
    let s = json(home, &["regimes", "stress", "--scope", "sp500_20"]);
    assert_eq!(s["method"], "stress");
    // 3270 days, 3269 returns; every component has its 252 values once the 63-day correlation
    // does: from return 62 + 251.
    assert_eq!(s["rows"], 3269 - 313);
    let peak = sql_json(
        home,
        "SELECT CAST(ts_event AS VARCHAR) AS day, value FROM regimes WHERE method = 'stress' ORDER BY value DESC LIMIT 1",
    );
    assert!(
        peak[0]["day"].as_str().unwrap().starts_with("2020-03"),
        "{peak:?}"
    );
    // The de-risking backtest over the crash, against the same config without the rule.
    let run = |file: &str| {
        elite(home)
            .arg("backtest")
            .arg(config(file))
            .args(["--start", "2019-01-01", "--end", "2020-12-31"])
            .assert()
            .success();
    };
    run("sp500_combined.toml");
    run("sp500_stress.toml");
    let changes = sql_json(
        home,
        "SELECT CAST(r.ts_event AS VARCHAR) AS day, r.decision FROM risk_events r JOIN runs u ON u.run_id = r.run_id \
         WHERE u.name = 'sp500-stress' AND r.\"check\" IN ('regime', 'regime_normal') AND r.decision <> 'refused' \
         ORDER BY r.ts_event",
    );
    let days: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| {
            (
                &c["day"].as_str().unwrap()[..10],
                c["decision"].as_str().unwrap(),
            )
        })
        .collect();
    // Stressed when the run starts (December 2018 is in the history): de-risked at the first
    // close; alternating after that; de-risked through March 2020.
    assert_eq!(days[0], ("2019-01-03", "derisk"), "{days:?}");
    assert!(days.windows(2).all(|w| w[0].1 != w[1].1), "{days:?}");
    assert!(
        days.windows(2)
            .any(|w| w[0].1 == "derisk" && w[0].0 < "2020-03-09" && w[1].0 > "2020-03-31"),
        "{days:?}"
    );
    assert!(
        sql_scalar(
            home,
            "SELECT count(*) FROM risk_events WHERE \"check\" = 'regime' AND decision = 'refused'"
        )
        .as_u64()
        .unwrap()
            > 0
    );
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM risk_events r JOIN runs u ON u.run_id = r.run_id \
             WHERE u.name = 'sp500-combined' AND r.\"check\" LIKE 'regime%'"
        ),
        0
    );
    // Without the regimes rows the rule cannot run: the user is told what to do.
    let other = tempfile::tempdir().unwrap();
    ingest(
        other.path(),
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        None,
    );
    let out = elite(other.path())
        .arg("backtest")
        .arg(config("sp500_stress.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("elite regimes"));
}
