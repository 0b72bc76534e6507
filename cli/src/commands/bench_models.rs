//! `elite bench models`: LightGBM training beside the Python `lightgbm` package (same LightGBM
//! 4.7.0, same data and parameters, predictions compared), batch prediction latency for 1000
//! symbols (LightGBM, logistic), and ONNX LSTM inference for 1000 sequences through ort beside
//! Python `onnxruntime` on the same model file and inputs.
//!
//! Same statistic on both sides: the median of `repeat` training runs, and the median of 200
//! (prediction) or 50 (ONNX) timed calls; inputs are prepared outside every timer. The run fails
//! if a side errors, or if predictions disagree (LightGBM heads beyond 1e-9, ONNX heads beyond
//! 1e-5, NaN-aware and length-checked). A benchmark: it asserts nothing about speed.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use elite_lgbm::{LgbmParams, predict_matrix, train_matrix};
use elite_models::lstm::Lstm;
use elite_models::model::{Standardizer, Task};
use elite_models::rng::SplitMix64;
use serde::Serialize;

use crate::args::BenchModelsArgs;
use crate::printer::Printer;
use crate::settings::Settings;

const PEERS: &str = r#"
import sys, time, json, statistics
import numpy as np
xpath, ypath, n, p, params, onnx_path, spath, sn, sl, sp, R = sys.argv[1:12]
n, p, sn, sl, sp, R = int(n), int(p), int(sn), int(sl), int(sp), int(R)
X = np.fromfile(xpath, dtype="<f8").reshape(n, p)
y = np.fromfile(ypath, dtype="<f4")
params = json.loads(params)
out = {}
import lightgbm as lgb
runs = []
for _ in range(R):
    ds = lgb.Dataset(X, label=y)
    t0 = time.perf_counter()
    bst = lgb.train(params, ds)
    runs.append(time.perf_counter() - t0)
out["train_seconds"] = statistics.median(runs)
out["lightgbm"] = lgb.__version__
out["pred_head"] = bst.predict(X[:1000], num_threads=1).tolist()
lat = []
for _ in range(200):
    t0 = time.perf_counter(); bst.predict(X[:1000], num_threads=1); lat.append(time.perf_counter() - t0)
out["predict_1000_p50"] = float(np.median(lat))
import onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
seqs = np.fromfile(spath, dtype="<f4").reshape(sn, sl, sp)
lat = []
for _ in range(50):
    t0 = time.perf_counter(); r = s.run(None, {"x": seqs})[0]; lat.append(time.perf_counter() - t0)
out["onnx_1000_p50"] = float(np.median(lat))
out["onnx_head"] = r[:5, 0].tolist()
out["onnxruntime"] = ort.__version__
print(json.dumps(out))
"#;

#[derive(Serialize)]
struct Row {
    task: String,
    engine: String,
    value: String,
    elite_speedup: String,
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let (u, v) = (rng.f64().max(1e-12), rng.f64());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn p50(v: Vec<f64>) -> f64 {
    super::bench_indicators::median(&v)
}

pub fn run(args: BenchModelsArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let (n, p) = (args.rows, args.features);
    let mut rng = SplitMix64::new(42);
    let beta: Vec<f64> = (0..p).map(|j| if j < 5 { 0.3 } else { 0.0 }).collect();
    let mut x = Vec::with_capacity(n * p);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..p).map(|_| normal(&mut rng)).collect();
        let z: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() + row[0] * row[1] * 0.2;
        y.push(if z + normal(&mut rng) > 0.0 {
            1.0f32
        } else {
            0.0
        });
        x.extend(row);
    }
    let names: Vec<String> = (0..p).map(|j| format!("f{j}")).collect();
    let params = LgbmParams {
        num_iterations: args.iterations,
        learning_rate: 0.05,
        num_leaves: 31,
        min_data_in_leaf: 20,
        feature_fraction: 1.0,
        bagging_fraction: 1.0,
        bagging_freq: 0,
        num_threads: args.threads,
        task: Task::Classification,
        ..LgbmParams::default()
    };
    printer.note(format!(
        "LightGBM: {n} rows × {p} features, {} iterations, {} threads …",
        args.iterations, args.threads
    ));
    let mut runs = Vec::with_capacity(args.repeat);
    let mut booster = None;
    for _ in 0..args.repeat {
        let t0 = Instant::now();
        let b = train_matrix(&x, &y, &names, &params)?;
        runs.push(t0.elapsed().as_secs_f64());
        booster = Some(b);
    }
    let booster = booster.context("at least one training run")?;
    let train_s = p50(runs);
    let head = &x[..1000.min(n) * p];
    let mine_head = predict_matrix(&booster, head, p)?;
    let mut lat = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let out = predict_matrix(&booster, head, p)?;
        lat.push(t.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    let lgbm_pred = p50(lat);
    // Logistic baseline: 1000 predictions.
    let coef: Vec<f64> = (0..p).map(|_| normal(&mut rng) * 0.1).collect();
    let lat: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            let mut s = 0.0;
            for r in head.chunks(p) {
                s += elite_models::linear::sigmoid(r.iter().zip(&coef).map(|(a, b)| a * b).sum());
            }
            std::hint::black_box(s);
            t.elapsed().as_secs_f64()
        })
        .collect();
    let logit_pred = p50(lat);

    // ONNX LSTM: 1000 sequences of 20 bars × 14 features.
    let (sp, sl, sn) = (14usize, 20usize, 1000usize);
    let feats: Vec<String> = (0..sp).map(|j| format!("f{j}")).collect();
    let net = Lstm::init(
        feats,
        Standardizer {
            mean: vec![0.0; sp],
            sd: vec![1.0; sp],
        },
        sl,
        16,
        3,
    );
    let onnx = net.to_onnx();
    let model = elite_onnx::OnnxModel::from_elite(&onnx)?;
    let seqs: Vec<f32> = (0..sn * sl * sp).map(|_| normal(&mut rng) as f32).collect();
    let mut ort_out = vec![];
    let mut lat = Vec::with_capacity(50);
    for _ in 0..50 {
        let input = seqs.clone(); // outside the timer: Python hands its array over as is
        let t = Instant::now();
        ort_out = model.run(sn, input)?;
        lat.push(t.elapsed().as_secs_f64());
    }
    let ort_lat = p50(lat);
    let seqs64: Vec<f64> = seqs.iter().map(|&v| v as f64).collect();
    let mut native = vec![];
    let lat: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            native = seqs64.chunks(sl * sp).map(|w| net.prob_raw(w)).collect();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let native_lat = p50(lat);
    let (parity, _) = elite_warehouse::approx::max_abs_diff(&ort_out, &native)
        .map_err(|e| anyhow::anyhow!("ONNX vs native LSTM outputs: {e}"))?;
    if parity > 1e-5 {
        bail!("ONNX and the native LSTM disagree: max |Δ| {parity:e}");
    }

    // Peers.
    let dir = std::env::temp_dir().join(format!("elite-bench-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let w = |name: &str, bytes: Vec<u8>| -> Result<std::path::PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    };
    let xp = w("x.f64", x.iter().flat_map(|v| v.to_le_bytes()).collect())?;
    let yp = w("y.f32", y.iter().flat_map(|v| v.to_le_bytes()).collect())?;
    let op = w("lstm.onnx", onnx)?;
    let sq = w(
        "seqs.f32",
        seqs.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )?;
    printer.note(format!(
        "Python lightgbm + onnxruntime via {} …",
        args.python
    ));
    let res = Command::new(&args.python)
        .args(["-c", PEERS])
        .args([&xp, &yp])
        .args([
            n.to_string(),
            p.to_string(),
            params.to_lightgbm().to_string(),
        ])
        .arg(&op)
        .arg(&sq)
        .args([
            sn.to_string(),
            sl.to_string(),
            sp.to_string(),
            args.repeat.to_string(),
        ])
        .output()
        .context(
            "running Python with lightgbm / onnxruntime (tests/dev bench models installs them)",
        )?;
    let _ = std::fs::remove_dir_all(&dir);
    if !res.status.success() {
        bail!("peer run failed: {}", String::from_utf8_lossy(&res.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).context("peer output")?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let floats = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    let (same, _) = elite_warehouse::approx::max_abs_diff(&mine_head, &floats("pred_head"))
        .map_err(|e| anyhow::anyhow!("LightGBM predictions vs Python's: {e}"))?;
    if same > 1e-9 {
        bail!("LightGBM predictions differ from Python lightgbm's: max |Δ| {same:e}");
    }
    // Python printed the first output of the first five sequences.
    let ort_head: Vec<f64> = ort_out.iter().take(5).copied().collect();
    let (onnx_same, _) = elite_warehouse::approx::max_abs_diff(&ort_head, &floats("onnx_head"))
        .map_err(|e| anyhow::anyhow!("ONNX outputs vs Python onnxruntime's: {e}"))?;
    if onnx_same > 1e-5 {
        bail!("ONNX outputs differ from Python onnxruntime's: max |Δ| {onnx_same:e}");
    }
    let ms = |s: f64| format!("{:.3} ms", s * 1e3);
    let x_ = |a: f64, b: f64| format!("{:.2}x", b / a);
    let rows = vec![
        Row {
            task: format!("LightGBM train ({n}×{p}, {} it)", args.iterations),
            engine: "elite (lightgbm3, LightGBM 4.7.0)".into(),
            value: format!("{train_s:.3} s"),
            elite_speedup: x_(train_s, f("train_seconds")),
        },
        Row {
            task: String::new(),
            engine: format!("python lightgbm {}", v["lightgbm"].as_str().unwrap_or("?")),
            value: format!("{:.3} s (max |Δ pred| {same:.1e})", f("train_seconds")),
            elite_speedup: String::new(),
        },
        Row {
            task: "predict 1000 symbols, p50".into(),
            engine: "elite LightGBM (1 thread)".into(),
            value: ms(lgbm_pred),
            elite_speedup: x_(lgbm_pred, f("predict_1000_p50")),
        },
        Row {
            task: String::new(),
            engine: "python lightgbm (1 thread)".into(),
            value: ms(f("predict_1000_p50")),
            elite_speedup: String::new(),
        },
        Row {
            task: String::new(),
            engine: "elite logistic baseline".into(),
            value: ms(logit_pred),
            elite_speedup: String::new(),
        },
        Row {
            task: format!("LSTM {sn} sequences ({sl}×{sp}, hidden 16), p50"),
            engine: "elite ONNX via ort (1 thread)".into(),
            value: ms(ort_lat),
            elite_speedup: x_(ort_lat, f("onnx_1000_p50")),
        },
        Row {
            task: String::new(),
            engine: format!(
                "python onnxruntime {} (1 thread)",
                v["onnxruntime"].as_str().unwrap_or("?")
            ),
            value: format!(
                "{} (max |Δ| vs ort {onnx_same:.1e})",
                ms(f("onnx_1000_p50"))
            ),
            elite_speedup: String::new(),
        },
        Row {
            task: String::new(),
            engine: "elite native Rust LSTM forward (f64)".into(),
            value: format!("{} (max |Δ| vs ONNX {parity:.1e})", ms(native_lat)),
            elite_speedup: String::new(),
        },
    ];
    printer.records(&rows)?;
    Ok(())
}
