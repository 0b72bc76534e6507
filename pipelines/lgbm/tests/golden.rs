//! The Rust LightGBM path (lightgbm3, linked against PyPI's LightGBM 4.7.0 library) against the Python
//! lightgbm 4.7.0 package: same data, same parameters, same predictions — gbdt, dart and random
//! forest (pipelines/models/golden/gen_models.py).

use elite_lgbm::{Boosting, LgbmParams, train_matrix};
use elite_models::model::Task;
use serde_json::Value;

#[test]
fn boosters_match_python_lightgbm() {
    let path = format!(
        "{}/../models/golden/models_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let x: Vec<f64> = g["X"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let y: Vec<f32> = g["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    let names: Vec<String> = ["r1", "r5", "r20", "d20"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (name, boosting, bag, freq) in [
        ("gbdt", Boosting::Gbdt, 1.0, 0),
        ("dart", Boosting::Dart, 1.0, 0),
        ("rf", Boosting::Rf, 0.632, 1),
    ] {
        let params = LgbmParams {
            boosting,
            task: Task::Classification,
            num_iterations: 30,
            learning_rate: 0.1,
            num_leaves: 7,
            min_data_in_leaf: 20,
            feature_fraction: 1.0,
            bagging_fraction: bag,
            bagging_freq: freq,
            lambda_l2: 0.0,
            seed: 7,
            num_threads: 1,
        };
        let booster = train_matrix(&x, &y, &names, &params).unwrap();
        let got = booster
            .predict_with_params(&x, 4, true, "num_threads=1")
            .unwrap();
        let want: Vec<f64> = g["lightgbm"][name]["pred"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let (worst, at) = elite_warehouse::approx::max_abs_diff(&got, &want)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            worst < 1e-12,
            "{name}: max |python − rust| = {worst:e} at {at}"
        );
    }
}
