//! ONNX parity: the LSTM, Transformer encoder and CNN-LSTM exported to ONNX and run by ONNX Runtime gives the trained model's own
//! outputs to 1e-5; contracts are checked on load.

use elite_models::cnn_lstm::{CnnLstmLearner, CnnLstmParams};
use elite_models::data::{Dataset, Label, Row};
use elite_models::lstm::{LstmLearner, LstmParams};
use elite_models::model::{Model, Task};
use elite_models::transformer::{TransformerLearner, TransformerParams};
use elite_onnx::{Contract, OnnxModel, Provider};

/// Two series of a noisy sine with 3 features, labelled by the next value's direction.
fn dataset(n: usize) -> Dataset {
    let mut ds = Dataset {
        feature_set: "test".into(),
        feature_set_version: 1,
        features: vec!["a".into(), "b".into(), "c".into()],
        horizon: 1,
        ..Default::default()
    };
    for s in 0..2u32 {
        ds.symbols.push(format!("S{s}"));
        let v = |t: usize| ((t as f64) * 0.3 + s as f64).sin() * 10.0 + (t % 7) as f64 * 0.1;
        for t in 0..n {
            ds.x.extend([v(t), v(t) - v(t.saturating_sub(1)), (t % 5) as f64 * 100.0]);
            let r = v(t + 1) / (v(t) + 20.0) - 1.0;
            ds.rows.push(Row {
                series: s,
                pos: t as u32,
                ts_event: t as i64,
                ts_recv: t as i64,
                label: Some(Label {
                    fwd_return: v(t + 1) - v(t),
                    up: v(t + 1) > v(t),
                    known_at: t as i64 + 1,
                    next_return: r,
                }),
                regime: 0,
            });
        }
    }
    ds
}

#[test]
fn lstm_onnx_matches_the_trained_model() {
    let ds = dataset(120);
    let learner = LstmLearner {
        name: "lstm".into(),
        params: LstmParams {
            seq_len: 8,
            hidden: 6,
            epochs: 3,
            batch: 16,
            ..Default::default()
        },
    };
    let rows = ds.usable(8);
    let net = learner.train(&ds, &rows).unwrap();
    let own = net.predict(&ds, &rows).unwrap();
    let onnx = OnnxModel::from_elite(&net.to_onnx()).unwrap();
    assert_eq!(onnx.contract().seq_len, 8);
    let served = onnx.predict(&ds, &rows).unwrap();
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&own, &served).unwrap();
    assert!(worst < 1e-5, "max |rust − onnx| = {worst:e} at {at}");
    // Training moved the predictions away from a constant (the test can fail).
    let spread =
        own.iter().cloned().fold(f64::MIN, f64::max) - own.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 0.05, "spread {spread}");
}

/// Rust output of a trained deep model vs ONNX Runtime on its exported graph.
fn parity(own: &[f64], bytes: &[u8], ds: &Dataset, rows: &[usize], seq_len: usize) {
    let onnx = OnnxModel::from_elite(bytes).unwrap();
    assert_eq!(onnx.contract().seq_len, seq_len);
    let served = onnx.predict(ds, rows).unwrap();
    let (worst, at) = elite_warehouse::approx::max_abs_diff(own, &served).unwrap();
    assert!(worst < 1e-5, "max |rust − onnx| = {worst:e} at {at}");
    // Training moved the predictions away from a constant (the test can fail).
    let spread =
        own.iter().cloned().fold(f64::MIN, f64::max) - own.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 0.05, "spread {spread}");
}

#[test]
fn transformer_onnx_matches_the_trained_model() {
    let ds = dataset(120);
    let learner = TransformerLearner {
        name: "transformer".into(),
        params: TransformerParams {
            seq_len: 8,
            d_model: 8,
            heads: 2,
            ff: 12,
            epochs: 4,
            batch: 16,
            learning_rate: 0.005,
            ..Default::default()
        },
    };
    let rows = ds.usable(8);
    let net = learner.train(&ds, &rows).unwrap();
    parity(
        &net.predict(&ds, &rows).unwrap(),
        &net.to_onnx(),
        &ds,
        &rows,
        8,
    );
}

#[test]
fn cnn_lstm_onnx_matches_the_trained_model() {
    let ds = dataset(120);
    let learner = CnnLstmLearner {
        name: "cnn_lstm".into(),
        params: CnnLstmParams {
            seq_len: 8,
            filters: 5,
            kernel: 3,
            hidden: 6,
            epochs: 3,
            batch: 16,
            ..Default::default()
        },
    };
    let rows = ds.usable(8);
    let net = learner.train(&ds, &rows).unwrap();
    parity(
        &net.predict(&ds, &rows).unwrap(),
        &net.to_onnx(),
        &ds,
        &rows,
        8,
    );
}

#[test]
fn contract_mismatch_is_a_clear_error() {
    let ds = dataset(40);
    let learner = LstmLearner {
        name: "lstm".into(),
        params: LstmParams {
            seq_len: 5,
            hidden: 4,
            epochs: 1,
            ..Default::default()
        },
    };
    let net = learner.train(&ds, &ds.usable(5)).unwrap();
    let bytes = net.to_onnx();
    let contract = |features: &[&str], seq_len| Contract {
        features: features.iter().map(|s| s.to_string()).collect(),
        seq_len,
        output: None,
        up_column: 1,
        task: Task::Classification,
    };
    // Wrong order of features.
    let e = OnnxModel::load(&bytes, contract(&["b", "a", "c"], 5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("position 0") && e.contains("\"a\""), "{e}");
    // Wrong sequence length.
    let e = OnnxModel::load(&bytes, contract(&["a", "b", "c"], 7))
        .unwrap_err()
        .to_string();
    assert!(e.contains("seq_len 7") && e.contains("[-1, 5, 3]"), "{e}");
    // Missing output name.
    let mut c = contract(&["a", "b", "c"], 5);
    c.output = Some("probabilities".into());
    let e = OnnxModel::load(&bytes, c).unwrap_err().to_string();
    assert!(
        e.contains("no output \"probabilities\"") && e.contains("p_up"),
        "{e}"
    );
    // Not an ONNX file.
    assert!(OnnxModel::from_elite(b"not a model").is_err());
    // Data with other features than the model's.
    let ok = OnnxModel::load(&bytes, contract(&["a", "b", "c"], 5)).unwrap();
    let mut other = ds.clone();
    other.features[2] = "z".into();
    let e = ok.predict(&other, &[10]).unwrap_err().to_string();
    assert!(e.contains("position 2"), "{e}");
}

#[test]
fn gpu_provider_is_optional_and_never_silent() {
    let ds = dataset(40);
    let learner = LstmLearner {
        name: "lstm".into(),
        params: LstmParams {
            seq_len: 5,
            hidden: 4,
            epochs: 1,
            ..Default::default()
        },
    };
    let rows = ds.usable(5);
    let net = learner.train(&ds, &rows).unwrap();
    let bytes = net.to_onnx();
    let contract = OnnxModel::from_elite(&bytes).unwrap().contract().clone();
    let cpu = OnnxModel::load_on(&bytes, contract.clone(), Provider::Cpu).unwrap();
    assert_eq!(cpu.provider(), Provider::Cpu);
    // `auto` runs wherever CUDA registers, else on the CPU; the numbers agree either way.
    let auto = OnnxModel::load_on(&bytes, contract.clone(), Provider::Auto).unwrap();
    let (a, b) = (
        cpu.predict(&ds, &rows).unwrap(),
        auto.predict(&ds, &rows).unwrap(),
    );
    let (worst, _) = elite_warehouse::approx::max_abs_diff(&a, &b).unwrap();
    assert!(worst < 1e-5, "cpu vs auto provider: {worst:e}");
    // `cuda` either runs on CUDA or refuses with a reason, never falls back quietly.
    match OnnxModel::load_on(&bytes, contract, Provider::Cuda) {
        Ok(m) => assert_eq!(m.provider(), Provider::Cuda),
        Err(e) => {
            eprintln!("no CUDA here: {e}");
            assert!(e.to_string().contains("CUDA execution provider"), "{e}")
        }
    }
}

/// A model made outside Elite: scikit-learn's GradientBoostingClassifier (with its scaler) on GOOG
/// features, exported by skl2onnx (golden/gen_user_model.py). Served against a declared contract,
/// it gives sklearn's own probabilities; a wrong contract is refused with the reason.
#[test]
fn user_model_from_sklearn_serves_its_own_probabilities() {
    let here = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("golden");
    let bytes = std::fs::read(here.join("user_gbm.onnx")).unwrap();
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(here.join("user_gbm.json")).unwrap()).unwrap();
    let features: Vec<String> = g["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut ds = Dataset {
        features: features.clone(),
        symbols: vec!["GOOG".into()],
        horizon: 1,
        ..Default::default()
    };
    for (t, x) in g["X"].as_array().unwrap().iter().enumerate() {
        ds.x.extend(x.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()));
        ds.rows.push(Row {
            series: 0,
            pos: t as u32,
            ts_event: t as i64,
            ts_recv: t as i64,
            label: None,
            regime: 0,
        });
    }
    let contract = Contract {
        features,
        seq_len: 1,
        output: Some("probabilities".into()),
        up_column: 1,
        task: Task::Classification,
    };
    let m = OnnxModel::load(&bytes, contract.clone()).unwrap();
    let rows: Vec<usize> = (0..ds.rows.len()).collect();
    let got = m.predict(&ds, &rows).unwrap();
    let want: Vec<f64> = g["prob"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), 2127);
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&got, &want).unwrap();
    assert!(worst < 1e-5, "max |onnx − sklearn| = {worst:e} at {at}");
    // The label output is int64: not a probability.
    let mut c = contract.clone();
    c.output = Some("label".into());
    let e = OnnxModel::load(&bytes, c).unwrap_err().to_string();
    assert!(e.contains("label"), "{e}");
    // Three features declared for a four-feature input.
    let mut c = contract;
    c.features.pop();
    let e = OnnxModel::load(&bytes, c).unwrap_err().to_string();
    assert!(e.contains("[-1, 3]"), "{e}");
}
