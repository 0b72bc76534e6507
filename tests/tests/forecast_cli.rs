//! `elite forecast corr` and `elite forecast drawdown` through the CLI on real bars: the DCC fit
//! equals the independent reference (pipelines/trade/golden/gen_dcc.py) on the same returns read
//! from the warehouse, the rows land in `forecasts` known when the newest bar was, a re-run lands
//! nothing, the drawdown odds are reproducible and ordered, and bad arguments are the user's
//! error.

mod common;

use std::path::Path;

use common::{elite, fixture, ingest_csv, json, sql_scalar};

fn golden() -> serde_json::Value {
    let p = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../pipelines/trade/golden/dcc_golden.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn dcc_and_ewma_correlation_forecasts_land_point_in_time() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ingest_csv(
        home,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let args = [
        "forecast",
        "corr",
        "--symbols",
        "AAPL,JPM,XOM,KO",
        "--model",
        "dcc",
        "--horizon",
        "10",
    ];
    let f = json(home, &args);
    let g = golden();
    assert_eq!(f["observations"], g["rows"]);
    let (a, b) = (f["dcc"][0].as_f64().unwrap(), f["dcc"][1].as_f64().unwrap());
    assert!((a - g["a"].as_f64().unwrap()).abs() < 1e-6, "a {a}");
    assert!((b - g["b"].as_f64().unwrap()).abs() < 1e-6, "b {b}");
    // Symbols are sorted: AAPL, JPM, KO, XOM; the reference's order is AAPL, JPM, XOM, KO.
    let r1 = &g["R1"];
    let got = f["first"][2][3].as_f64().unwrap(); // KO–XOM
    let want = r1[3][2].as_f64().unwrap();
    assert!((got - want).abs() < 1e-6, "KO/XOM {got} vs {want}");
    // 6 pairs × 10 steps, known when the last common date was.
    assert_eq!(f["rows_added"], 60);
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM forecasts WHERE kind = 'correlation' AND model = 'dcc' \
             AND ts_recv = (SELECT max(ts_recv) FROM bars WHERE symbol IN ('AAPL','JPM','XOM','KO'))"
        ),
        60
    );
    assert_eq!(json(home, &args)["rows_added"], 0);
    let e = json(
        home,
        &[
            "forecast",
            "corr",
            "--symbols",
            "AAPL,JPM",
            "--model",
            "ewma",
            "--horizon",
            "1",
        ],
    );
    let c = e["first"][0][1].as_f64().unwrap();
    let want = g["ewma"][0][1].as_f64().unwrap()
        / (g["ewma"][0][0].as_f64().unwrap() * g["ewma"][1][1].as_f64().unwrap()).sqrt();
    assert!((c - want).abs() < 1e-10, "EWMA AAPL/JPM {c} vs {want}");
    for bad in [
        vec!["forecast", "corr", "--symbols", "AAPL"],
        vec![
            "forecast",
            "corr",
            "--symbols",
            "AAPL,JPM",
            "--model",
            "ewma",
            "--lambda",
            "1.5",
        ],
    ] {
        let out = elite(home).args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
    }
}

#[test]
fn drawdown_odds_are_reproducible_ordered_and_land() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let args = [
        "forecast",
        "drawdown",
        "--symbol",
        "GOOG",
        "--model",
        "gjr",
        "--dist",
        "t",
        "--horizon",
        "21",
        "--paths",
        "5000",
        "--thresholds",
        "0.05,0.1,0.2",
    ];
    let d = json(home, &args);
    let p = d["forecast"]["probabilities"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    let odds: Vec<f64> = p.iter().map(|x| x["drawdown"].as_f64().unwrap()).collect();
    assert!(odds.windows(2).all(|w| w[0] >= w[1]), "{odds:?}");
    assert!(odds[0] > 0.0 && odds[0] < 1.0);
    for x in p {
        let (dd, loss, fin) = (
            x["drawdown"].as_f64().unwrap(),
            x["loss"].as_f64().unwrap(),
            x["final_loss"].as_f64().unwrap(),
        );
        assert!(dd >= loss && loss >= fin, "{x}");
    }
    assert_eq!(d["rows_added"], 3);
    // Same seed: the same odds, nothing new to land.
    let again = json(home, &args);
    assert_eq!(again["forecast"], d["forecast"]);
    assert_eq!(again["rows_added"], 0);
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM forecasts WHERE kind = 'drawdown' AND step = 21 \
             AND ts_recv = (SELECT max(ts_recv) FROM bars WHERE symbol = 'GOOG')"
        ),
        3
    );
    let out = elite(home)
        .args([
            "forecast",
            "drawdown",
            "--symbol",
            "GOOG",
            "--thresholds",
            "1.5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1.5"));
}
