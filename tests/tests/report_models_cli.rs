//! `elite report GROUP --models` on a real walk-forward (GOOG daily bars, a logistic model, a
//! LightGBM model and their ensembles): every base model's long/short numbers equal the ones
//! `elite train` recorded in the registry, the ensembles' equal its printed table, buy-and-hold
//! equals the fixture's own closes, the deflated Sharpe deflates for every model tried, and the
//! HTML draws one equity curve per line.

mod common;

use common::{elite, fixture, ingest_csv, json, sql_json};

const CONFIG: &str = r#"
name = "goog-direction"
[data]
timeframe = "1d"
[features]
set = "technical"
select = ["ret_1", "ret_5", "ret_20", "rsi_14", "macd_hist", "bb_percent_b", "atr_14", "volatility_20", "dist_sma_50"]
horizon = 1
[validation]
train = 500
test = 250
[[model]]
name = "logistic"
kind = "logistic"
[[model]]
name = "gbdt"
kind = "lightgbm"
params = { num_iterations = 40, num_threads = 1 }
[ensemble]
members = ["logistic", "gbdt"]
params = { min_history = 200, refit = 200 }
[registry]
metric = "auc"
"#;

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        got.is_finite() && want.is_finite(),
        "{what}: {got} vs {want}"
    );
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn a_model_groups_walk_forward_report_agrees_with_training_and_the_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let cfg = home.join("train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let table = json(home, &["train", cfg.to_str().unwrap()]);
    let html = home.join("models.html");
    let r = json(
        home,
        &[
            "report",
            "goog-direction",
            "--models",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let lines = r["models"].as_array().unwrap();
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "logistic",
            "gbdt",
            "ensemble:mean",
            "ensemble:vote",
            "ensemble:stacking",
            "ensemble:dynamic",
            "ensemble:regime",
            "buy_and_hold"
        ]
    );
    // Base models: equal to the registry's full-precision walk-forward numbers.
    let reg = sql_json(home, "SELECT name, metrics FROM models");
    for row in &reg {
        let name = row["name"].as_str().unwrap();
        let m: serde_json::Value = serde_json::from_str(row["metrics"].as_str().unwrap()).unwrap();
        let l = lines.iter().find(|l| l["name"] == name).unwrap();
        for (k, rk) in [
            ("sharpe", "sharpe"),
            ("max_drawdown", "max_drawdown"),
            ("total_return", "total_return"),
        ] {
            close(
                &format!("{name} {k}"),
                l[k].as_f64().unwrap(),
                m["long_short"][rk].as_f64().unwrap(),
                1e-9,
            );
        }
        close(
            &format!("{name} turnover"),
            l["turnover"].as_f64().unwrap(),
            m["long_short"]["turnover"].as_f64().unwrap(),
            1e-12,
        );
        close(
            &format!("{name} auc"),
            l["auc"].as_f64().unwrap(),
            m["auc"].as_f64().unwrap(),
            0.0,
        );
    }
    // Ensembles and buy-and-hold: equal to the training table (printed to 2 decimals).
    for t in table.as_array().unwrap() {
        let name = t["model"].as_str().unwrap();
        let l = lines.iter().find(|l| l["name"] == name).unwrap();
        let printed: f64 = t["ls_sharpe"].as_str().unwrap().parse().unwrap();
        close(
            &format!("{name} sharpe"),
            l["sharpe"].as_f64().unwrap(),
            printed,
            0.0051,
        );
        assert_eq!(l["trials"], if name == "buy_and_hold" { 1 } else { 7 });
    }
    // Buy-and-hold from the fixture: every test date's next close over its close, less 5 bps
    // once for the first position.
    let csv = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let closes: Vec<(String, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[4].parse().unwrap())
        })
        .collect();
    let (start, end) = (
        &r["start"].as_str().unwrap()[..10],
        &r["end"].as_str().unwrap()[..10],
    );
    let i0 = closes.iter().position(|c| c.0 == start).unwrap();
    let i1 = closes.iter().position(|c| c.0 == end).unwrap();
    let mut v = 1.0;
    for i in i0..=i1 {
        let r = closes[i + 1].1 / closes[i].1 - 1.0 - if i == i0 { 5e-4 } else { 0.0 };
        v *= 1.0 + r;
    }
    let bh = lines.last().unwrap();
    close(
        "buy and hold",
        bh["total_return"].as_f64().unwrap(),
        v - 1.0,
        1e-9,
    );
    assert_eq!(bh["periods"], (i1 - i0 + 1) as u64);
    // The page: one curve per line, nothing fetched.
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<path ").count(), 8);
    assert!(!page.contains("src=") && !page.contains("<link") && !page.contains("<script"));
    // Not a model group: the user's error.
    let out = elite(home)
        .args(["report", "no-such-group", "--models"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-group"));
}
