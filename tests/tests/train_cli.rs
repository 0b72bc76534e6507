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
[[model]]
name = "transformer"
kind = "transformer"
params = { seq_len = 5, d_model = 4, heads = 2, ff = 8, epochs = 1 }
[[model]]
name = "cnn_lstm"
kind = "cnn_lstm"
params = { seq_len = 6, filters = 3, kernel = 3, hidden = 4, epochs = 1 }
[ensemble]
members = ["logistic", "gbdt", "lstm"]
params = { min_history = 200, refit = 200 }
[registry]
metric = "auc"
"#;

fn setup(home: &Path) -> std::path::PathBuf {
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
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
        "transformer",
        "cnn_lstm",
        "ensemble:stacking",
        "ensemble:regime",
        "buy_and_hold",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let models = registry(&home);
    assert_eq!(models.len(), 5);
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
    // Out-of-sample predictions for 5 models + 5 ensembles, the same rows each.
    let per = sql_json(
        &home,
        "SELECT model_id, count(*) AS n, min(ts_event) AS a FROM predictions GROUP BY model_id",
    );
    assert_eq!(per.len(), 10);
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

#[test]
fn nightly_retrain_serves_detects_drift_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("n");
    std::fs::create_dir_all(&home).unwrap();
    // GOOG up to 2011-10 first; the rest arrives later.
    let full = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let part: String = full.lines().take(1800).map(|l| format!("{l}\n")).collect();
    let part_path = home.join("part.csv");
    std::fs::write(&part_path, part).unwrap();
    common::ingest_csv(&home, &part_path, &["--symbol", "GOOG"]);
    let cfg = home.join("train.toml");
    // Two models first; the deep models added later resume the first two.
    let deep =
        CONFIG.find("[[model]]\nname = \"lstm\"").unwrap()..CONFIG.find("[ensemble]").unwrap();
    let two = format!("{}{}", &CONFIG[..deep.start], &CONFIG[deep.end..]).replace(
        "members = [\"logistic\", \"gbdt\", \"lstm\"]",
        "members = [\"logistic\", \"gbdt\"]",
    );
    assert_ne!(two, CONFIG);
    std::fs::write(&cfg, &two).unwrap();
    elite(&home).arg("train").arg(&cfg).assert().success();
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = elite(&home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("resumed: walk-forward predictions of logistic, gbdt were already recorded"),
        "{out}"
    );
    assert_eq!(sql_scalar(&home, "SELECT count(*) FROM models"), 5);

    // New bars arrive: serving predicts every bar after the training data, production and shadow.
    common::ingest_csv(&home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    elite(&home)
        .args(["predict", "goog-direction"])
        .assert()
        .success();
    let served = sql_json(
        &home,
        "SELECT source, count(*) AS n, max(ts_event) AS last FROM predictions \
                                   WHERE source IN ('production', 'shadow') GROUP BY source ORDER BY source",
    );
    assert_eq!(served.len(), 2, "{served:?}");
    assert!(
        served
            .iter()
            .all(|r| r["n"].as_i64().unwrap() >= 340 && r["last"] == served[0]["last"])
    );

    // The nightly job: 2012–13 volatility differs from 2004–11, so drift is recorded and it trains;
    // each detection is an alert (to a loopback Discord webhook).
    let chat = common::ChatServer::start("unused");
    let elite_toml = home.join("elite.toml");
    std::fs::write(
        &elite_toml,
        "[alerts]\nmax_per_minute = 100\n[alerts.discord]\n",
    )
    .unwrap();
    let out = elite(&home)
        .env("ELITE_CONFIG", &elite_toml)
        .env(
            "ELITE_DISCORD_WEBHOOK",
            format!("http://{}/api/webhooks/9/hook-SECRET", chat.addr),
        )
        .args(["jobs", "retrain"])
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("trained (drift: "), "{out}");
    let drift = sql_scalar(
        &home,
        "SELECT count(*) FROM drift_events WHERE detector IN ('psi', 'ks')",
    );
    assert!(drift.as_i64().unwrap() >= 1);
    let alerts = chat.discord_texts();
    assert!(
        alerts
            .iter()
            .any(|t| t.starts_with("[elite retrain goog-direction] drift: ")
                && t.contains("trained")),
        "{alerts:?}"
    );
    assert!(!out.contains("hook-SECRET"));
    // `elite status` shows the nightly job's last run.
    let row = common::status_row(&home, "job", "retrain");
    assert_eq!(row["name"], "goog-direction");
    assert_eq!(row["state"], "stopped (finished)");
    assert!(
        row["facts"].as_str().unwrap().contains("action=trained"),
        "{row}"
    );
    assert_eq!(sql_scalar(&home, "SELECT count(*) FROM models"), 10);
    // Both later runs (the resumed one with the deep models, and the nightly one) compared their
    // best candidate with production on the same rows (its own out-of-sample predictions), not on
    // another period.
    let fair = sql_json(
        &home,
        "SELECT reason FROM model_events WHERE reason LIKE '%test rows both predicted out-of-sample%'",
    );
    assert_eq!(fair.len(), 2, "{fair:?}");
    // Again: everything it would write is already there.
    let again = elite(&home)
        .args(["jobs", "retrain"])
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
}

/// GOOG up to 2011-10 in a fresh home, the deep-only config trained on it, then the rest of
/// GOOG ingested; returns the home.
fn deep_home(tmp: &Path, name: &str) -> std::path::PathBuf {
    let home = tmp.join(name);
    std::fs::create_dir_all(&home).unwrap();
    let full = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let part: String = full.lines().take(1800).map(|l| format!("{l}\n")).collect();
    let part_path = home.join("part.csv");
    std::fs::write(&part_path, part).unwrap();
    common::ingest_csv(&home, &part_path, &["--symbol", "GOOG"]);
    // Only deep models: the best is production, the runner-up shadow.
    let start = CONFIG.find("[[model]]\nname = \"transformer\"").unwrap();
    let end = CONFIG.find("[ensemble]").unwrap();
    let cfg_text = format!(
        "name = \"goog-deep\"\n{}\n{}[registry]\nmetric = \"auc\"\n",
        &CONFIG[CONFIG.find("[data]").unwrap()..CONFIG.find("[[model]]").unwrap()],
        &CONFIG[start..end]
    );
    let cfg = home.join("deep.toml");
    std::fs::write(&cfg, cfg_text).unwrap();
    elite(&home).arg("train").arg(&cfg).assert().success();
    common::ingest_csv(&home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    home
}

#[test]
fn deep_models_are_served_by_onnx_runtime_from_their_checked_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let home = deep_home(tmp.path(), "d");
    let out = elite(&home)
        .args(["predict", "goog-deep"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8_lossy(&out);
    assert_eq!(out.matches("onnxruntime").count(), 2, "{out}");
    // Both exported graphs are on the object store beside the artifacts.
    let graphs: Vec<_> = walk(&home)
        .into_iter()
        .filter(|p| p.ends_with("model.onnx"))
        .collect();
    assert_eq!(graphs.len(), 2, "{graphs:?}");
    // A graph that is not the one its recorded artifact exports is refused.
    for g in &graphs {
        std::fs::write(g, b"tampered").unwrap();
    }
    let err = elite(&home)
        .args(["predict", "goog-deep"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("is not the graph its recorded artifact exports"),
        "{err}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_signal_runner_emits_the_predictions_batch_serving_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let batch = deep_home(tmp.path(), "batch");
    let stream = deep_home(tmp.path(), "stream");
    elite(&batch)
        .args(["predict", "goog-deep"])
        .assert()
        .success();
    // The stream: every bar through the signal runner, in commits of 300 bars.
    elite(&stream)
        .args([
            "run",
            "signals",
            "--commit-every",
            "300",
            "--models",
            "goog-deep",
        ])
        .assert()
        .success();
    let q = "SELECT model_id, source, symbol, cast(ts_event AS VARCHAR) AS t, cast(ts_recv AS VARCHAR) AS r, score \
             FROM predictions WHERE source IN ('production', 'shadow') ORDER BY model_id, source, t";
    let (a, b) = (sql_json(&batch, q), sql_json(&stream, q));
    assert!(a.len() >= 680, "{}", a.len());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        for k in ["model_id", "source", "symbol", "t", "r"] {
            assert_eq!(x[k], y[k]);
        }
        let (sx, sy) = (x["score"].as_f64().unwrap(), y["score"].as_f64().unwrap());
        assert!((sx - sy).abs() < 1e-6, "{x} vs {y}");
    }
    // Restarted from its checkpoint with nothing new: nothing lands twice.
    elite(&stream)
        .args(["run", "signals", "--models", "goog-deep"])
        .assert()
        .success();
    assert_eq!(sql_json(&stream, q).len(), b.len());
}

#[test]
fn a_users_onnx_model_is_imported_scored_after_its_training_and_served() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("u");
    std::fs::create_dir_all(&home).unwrap();
    let cfg = setup(&home);
    let golden =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../pipelines/onnx/golden");
    std::fs::copy(golden.join("user_gbm.onnx"), home.join("user_gbm.onnx")).unwrap();
    let spec = |features: &str, stage: &str| {
        format!(
            "name = \"sklearn_gbm\"\nfile = \"user_gbm.onnx\"\nconfig = \"{}\"\n\
             trained_until = \"2009-12-31\"\nstage = \"{stage}\"\n[contract]\n\
             features = [{features}]\noutput = \"probabilities\"\nup_column = 1\n",
            cfg.file_name().unwrap().to_string_lossy()
        )
    };
    // A contract that does not match the graph is refused, naming the difference.
    std::fs::write(
        home.join("bad.toml"),
        spec("\"ret_1\", \"ret_5\", \"ret_20\"", "production"),
    )
    .unwrap();
    let err = elite(&home)
        .args(["models", "import"])
        .arg(home.join("bad.toml"))
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("[-1, 3]") && err.contains("user_gbm.onnx"),
        "{err}"
    );
    assert!(registry(&home).is_empty());

    // The real contract: registered as production, scored only after 2009.
    let good = home.join("good.toml");
    std::fs::write(
        &good,
        spec(
            "\"ret_1\", \"ret_5\", \"ret_20\", \"dist_sma_20\"",
            "production",
        ),
    )
    .unwrap();
    let out = elite(&home)
        .args(["models", "import"])
        .arg(&good)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2010-01-04"), "{text}");
    let models = sql_json(
        &home,
        "SELECT model_id, kind, cast(ts_event AS VARCHAR) AS t FROM models",
    );
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["kind"], "onnx");
    assert_eq!(
        sql_scalar(
            &home,
            "SELECT stage FROM model_events ORDER BY ts_recv DESC, stage DESC LIMIT 1"
        ),
        "production"
    );
    // Served from the registry: its P(up) for 2010 onwards equals scikit-learn's own.
    elite(&home)
        .args(["predict", "goog-direction"])
        .assert()
        .success();
    let served = sql_json(
        &home,
        "SELECT cast(ts_event AS VARCHAR) AS d, score FROM predictions WHERE source = 'production' ORDER BY ts_event",
    );
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden.join("user_gbm.json")).unwrap()).unwrap();
    assert_eq!(
        g["dates"].as_array().unwrap().len(),
        g["prob"].as_array().unwrap().len()
    );
    let want: std::collections::HashMap<&str, f64> = g["dates"]
        .as_array()
        .unwrap()
        .iter()
        .zip(g["prob"].as_array().unwrap())
        .map(|(d, p)| (d.as_str().unwrap(), p.as_f64().unwrap()))
        .collect();
    assert!(served.len() > 700, "{}", served.len());
    assert!(served[0]["d"].as_str().unwrap() > "2010");
    let mut compared = 0;
    for r in &served {
        if let Some(w) = want.get(&r["d"].as_str().unwrap()[..10]) {
            let got = r["score"].as_f64().unwrap();
            assert!((got - w).abs() < 1e-5, "{r}: sklearn {w}");
            compared += 1;
        }
    }
    assert!(
        compared + 1 >= served.len(),
        "{compared} of {}",
        served.len()
    );
    // Importing the same file again lands nothing.
    let again = elite(&home)
        .args(["models", "import"])
        .arg(&good)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&again).contains("0 rows landed"),
        "{}",
        String::from_utf8_lossy(&again)
    );
}

#[test]
fn purged_kfold_validation_scores_every_block_out_of_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("k");
    let cfg = setup(&home);
    let deep =
        CONFIG.find("[[model]]\nname = \"lstm\"").unwrap()..CONFIG.find("[ensemble]").unwrap();
    let two = format!("{}{}", &CONFIG[..deep.start], &CONFIG[deep.end..]).replace(
        "members = [\"logistic\", \"gbdt\", \"lstm\"]",
        "members = [\"logistic\", \"gbdt\"]",
    );
    // Walk-forward needs its train/test dates; k-fold does not.
    std::fs::write(&cfg, two.replace("train = 500\ntest = 250\n", "")).unwrap();
    let err = elite(&home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&err).contains("needs train and test"));
    std::fs::write(
        &cfg,
        two.replace("train = 500\ntest = 250\n", "kfold = 4\nembargo = 5\n"),
    )
    .unwrap();
    let out = elite(&home)
        .arg("train")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("purged 4-fold, embargo 5"), "{text}");
    assert!(text.contains("not a tradable backtest"), "{text}");
    // Four blocks cover the whole history: the first prediction is in the first weeks of
    // usable data (2004–05), not after a training period.
    let first = sql_scalar(
        &home,
        "SELECT cast(min(ts_event) AS VARCHAR) FROM predictions",
    );
    assert!(first.as_str().unwrap() < "2005-12", "{first}");
    let folds = sql_scalar(&home, "SELECT count(DISTINCT fold) FROM predictions");
    assert_eq!(folds, 4);
}

#[test]
fn the_ml_strategy_backtests_the_recorded_out_of_sample_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("m");
    let cfg = setup(&home);
    let bt = home.join("ml.toml");
    let bt_text = "name = \"goog-ml\"\ninitial_cash = \"1000000\"\n[data]\ntimeframe = \"1d\"\n\
                   symbols = [\"GOOG\"]\n[costs]\nmodel = \"zerodha_delivery\"\n[risk]\nallow_short = true\n\
                   [[strategy]]\nname = \"ml_stacking\"\ntype = \"ml\"\nmodel = \"ensemble:stacking\"\n\
                   long_above = 0.52\nshort_below = 0.48\nsize = { percent = 0.9 }\n";
    std::fs::write(&bt, bt_text).unwrap();
    // Before training there is nothing to trade: a clear error.
    let err = elite(&home)
        .arg("backtest")
        .arg(&bt)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&err).contains("run `elite train` first"),
        "{}",
        String::from_utf8_lossy(&err)
    );
    elite(&home).arg("train").arg(&cfg).assert().success();
    let run = || {
        elite(&home)
            .args(["--format", "json", "backtest"])
            .arg(&bt)
            .assert()
            .success()
            .get_output()
            .clone()
    };
    let (a, b) = (run(), run());
    assert_eq!(a.stdout, b.stdout, "a re-run prints the same bytes");
    assert!(String::from_utf8_lossy(&b.stderr).contains("0 rows landed"));
    // It traded, and only on predictions already known.
    let fills = sql_scalar(
        &home,
        "SELECT count(*) FROM fills WHERE strategy = 'ml_stacking'",
    );
    assert!(fills.as_i64().unwrap() > 20, "{fills}");
    let first_fill = sql_scalar(
        &home,
        "SELECT cast(min(ts_event) AS VARCHAR) FROM fills WHERE strategy = 'ml_stacking'",
    );
    let first_pred = sql_scalar(
        &home,
        "SELECT cast(min(ts_recv) AS VARCHAR) FROM predictions WHERE model_id LIKE 'ensemble:stacking-%'",
    );
    // The first fill is at the open of the bar after the first prediction's bar: no earlier
    // than the moment that prediction became known (its bar's close).
    assert!(
        first_fill.as_str().unwrap() >= first_pred.as_str().unwrap(),
        "{first_fill} vs {first_pred}"
    );
    let first_pred_bar = sql_scalar(
        &home,
        "SELECT cast(min(ts_event) AS VARCHAR) FROM predictions WHERE model_id LIKE 'ensemble:stacking-%'",
    );
    assert!(first_fill.as_str().unwrap() > first_pred_bar.as_str().unwrap());
}
