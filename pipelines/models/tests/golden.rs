//! Reference values from scikit-learn 1.9.1 and scipy 1.17.1 on real GOOG daily features
//! (golden/gen_models.py).

use elite_models::data::{Dataset, Label, Row};
use elite_models::drift::ks_2samp;
use elite_models::linear::{LogisticLearner, LogisticParams};
use elite_models::metrics::{auc, log_loss};
use elite_models::model::Learner;
use serde_json::Value;

fn golden() -> Value {
    let path = format!(
        "{}/golden/models_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn dataset(g: &Value) -> Dataset {
    let mut ds = Dataset {
        features: vec!["r1".into(), "r5".into(), "r20".into(), "d20".into()],
        symbols: vec!["GOOG".into()],
        horizon: 1,
        ..Default::default()
    };
    for (t, (x, y)) in g["X"]
        .as_array()
        .unwrap()
        .iter()
        .zip(g["y"].as_array().unwrap())
        .enumerate()
    {
        ds.x.extend(floats(x));
        let up = y.as_i64().unwrap() == 1;
        ds.rows.push(Row {
            series: 0,
            pos: t as u32,
            ts_event: t as i64,
            ts_recv: t as i64,
            label: Some(Label {
                fwd_return: if up { 0.01 } else { -0.01 },
                up,
                known_at: t as i64 + 1,
                next_return: 0.0,
            }),
            regime: 0,
        });
    }
    ds
}

#[test]
fn logistic_matches_scikit_learn() {
    let g = golden();
    let ds = dataset(&g);
    let rows: Vec<usize> = (0..ds.rows.len()).collect();
    let learner = LogisticLearner {
        name: "logistic".into(),
        params: LogisticParams {
            l2: g["l2"].as_f64().unwrap(),
            max_iter: 100,
        },
    };
    let m = learner.fit(&ds, &rows).unwrap();
    let want = floats(&g["logistic"]["prob"]);
    let got = m.predict(&ds, &rows).unwrap();
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&want, &got).unwrap();
    assert!(worst < 1e-8, "max |sklearn − elite| = {worst:e} at {at}");
    let art: Value = serde_json::from_slice(&m.save().unwrap()).unwrap();
    let (worst, at) = elite_warehouse::approx::max_abs_diff(
        &floats(&art["coef"]),
        &floats(&g["logistic"]["coef"]),
    )
    .unwrap();
    assert!(worst < 1e-7, "coef {at}: |Δ| {worst:e}");
    assert!(
        (art["intercept"].as_f64().unwrap() - g["logistic"]["intercept"].as_f64().unwrap()).abs()
            < 1e-7
    );
}

#[test]
fn auc_log_loss_and_ks_match_references() {
    let g = golden();
    let up: Vec<bool> = g["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64() == Some(1))
        .collect();
    let tied = floats(&g["tied"]);
    assert!((auc(&tied, &up) - g["auc_tied"].as_f64().unwrap()).abs() < 1e-12);
    let prob = floats(&g["logistic"]["prob"]);
    assert!((log_loss(&prob, &up) - g["log_loss"].as_f64().unwrap()).abs() < 1e-12);
    let x: Vec<f64> = g["X"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_f64().unwrap())
        .collect();
    let (d, p) = ks_2samp(&x[..400], &x[400..]);
    assert!((d - g["ks"]["d"].as_f64().unwrap()).abs() < 1e-12, "D {d}");
    assert!(
        (p - g["ks"]["p_limit"].as_f64().unwrap()).abs() < 1e-9,
        "p {p}"
    );
}
