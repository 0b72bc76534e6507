//! `elite train` on real GOOG daily bars: the walk-forward table, the registry (models, stage
//! events, artifacts with their sha256), out-of-sample predictions; a re-run lands nothing; a
//! fresh warehouse with the same data trains byte-identical artifacts; bad configs name the field.

mod common;

use std::path::Path;

use common::{elite, fixture, sql_json, sql_scalar};

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
[[model]]
name = "lstm"
kind = "lstm"
params = { seq_len = 5, hidden = 4, epochs = 1 }
[ensemble]
members = ["logistic", "gbdt", "lstm"]
params = { min_history = 200, refit = 200 }
[registry]
metric = "auc"
"#;

fn setup(home: &Path) -> std::path::PathBuf {
    elite(home)
        .args(["ingest", "csv"])
        .arg(fixture("bars/GOOG_1d.csv"))
        .args(["--symbol", "GOOG"])
        .assert()
        .success();
    let cfg = home.join("train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    cfg
}

fn registry(home: &Path) -> Vec<serde_json::Value> {
    sql_json(
        home,
        "SELECT model_id, kind, artifact_sha256, train_rows, bars_version FROM models ORDER BY model_id",
    )
}

#[test]
fn train_registers_predicts_and_reproduces() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("a");
    let cfg = setup(&home);
    let out = elite(&home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for name in [
        "logistic",
        "gbdt",
        "lstm",
        "ensemble:stacking",
        "ensemble:regime",
        "buy_and_hold",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let models = registry(&home);
    assert_eq!(models.len(), 3);
    assert_eq!(
        sql_scalar(
            &home,
            "SELECT count(*) FROM model_events WHERE stage = 'production'"
        ),
        1
    );
    assert!(
        sql_scalar(
            &home,
            "SELECT count(*) FROM model_events WHERE stage = 'candidate'"
        )
        .as_i64()
        .unwrap()
            >= 3
    );
    // Out-of-sample predictions for 3 models + 5 ensembles, the same rows each.
    let per = sql_json(
        &home,
        "SELECT model_id, count(*) AS n, min(ts_event) AS a FROM predictions GROUP BY model_id",
    );
    assert_eq!(per.len(), 8);
    assert!(
        per.iter()
            .all(|r| r["n"] == per[0]["n"] && r["a"] == per[0]["a"])
    );
    // GOOG starts 2004-08-19: ~50 warm-up bars and 500 training dates put the first
    // out-of-sample prediction in late 2006; the rest of the 2,148 bars are predicted.
    let first = sql_scalar(
        &home,
        "SELECT cast(min(ts_event) AS VARCHAR) FROM predictions",
    );
    assert!(first.as_str().unwrap() > "2006-08", "{first}");
    assert!(per[0]["n"].as_i64().unwrap() > 1500, "{per:?}");

    // Same versions again: nothing new lands.
    let again = elite(&home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&again).contains("; 0 rows landed"),
        "{}",
        String::from_utf8_lossy(&again)
    );
    assert_eq!(registry(&home), models);

    // A fresh warehouse with the same data reproduces every model byte for byte.
    let home_b = tmp.path().join("b");
    let cfg_b = setup(&home_b);
    elite(&home_b).arg("train").arg(&cfg_b).assert().success();
    assert_eq!(registry(&home_b), models);
}

#[test]
fn bad_train_configs_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let cfg = home.join("bad.toml");
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(
        &cfg,
        CONFIG.replace("kind = \"lightgbm\"", "kind = \"xgboost\""),
    )
    .unwrap();
    let err = elite(home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(err.contains("xgboost") && err.contains("lightgbm"), "{err}");
    std::fs::write(
        &cfg,
        CONFIG.replace("num_iterations = 40", "num_iteration = 40"),
    )
    .unwrap();
    let err = elite(home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("gbdt") && err.contains("num_iteration"),
        "{err}"
    );
    std::fs::write(
        &cfg,
        CONFIG.replace("\"gbdt\", \"lstm\"]", "\"gbdt\", \"nope\"]"),
    )
    .unwrap();
    let err = elite(home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&err).contains("\"nope\" is not a [[model]]"));
}
