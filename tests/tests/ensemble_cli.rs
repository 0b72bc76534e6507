//! `elite models ensemble` on real GOOG daily bars: an ensemble of two registered models is
//! registered, served as one model at its own stage by `elite predict` (batch) and by the signal
//! runner (stream, reading bars replayed onto a topic and publishing predictions), and its
//! scores are the combination of its members' scores on every row; the paper trader on the
//! predictions topic trades exactly what the paper trader on the landed predictions trades.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{elite, fixture, sql_json};

const CONFIG: &str = r#"
name = "goog-blend"
[data]
timeframe = "1d"
[features]
set = "technical"
select = ["ret_1", "ret_5", "ret_20", "rsi_14", "macd_hist", "bb_percent_b", "atr_14", "volatility_20"]
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
params = { num_iterations = 30, num_threads = 1 }
[registry]
metric = "auc"
"#;

/// Trades the blend ensemble's served (shadow) predictions.
const TRADER: &str = r#"
name = "goog-blend-ml"
initial_cash = "1000000"
[data]
timeframe = "1d"
symbols = ["GOOG"]
[costs]
model = "simple"
bps = 1
[[strategy]]
name = "blend"
type = "ml"
model = "blend"
source = "shadow"
long_above = 0.5
size = { percent = 0.5 }
"#;

/// (model id, ts_event) → score, of one source.
fn scores(home: &Path, source: &str) -> HashMap<(String, String), f64> {
    sql_json(
        home,
        &format!(
            "SELECT model_id, CAST(ts_event AS VARCHAR) t, score FROM predictions WHERE source = '{source}'"
        ),
    )
    .iter()
    .map(|r| {
        (
            (
                r["model_id"].as_str().unwrap().to_string(),
                r["t"].as_str().unwrap().to_string(),
            ),
            r["score"].as_f64().unwrap(),
        )
    })
    .collect()
}

fn stage_of(home: &Path, id: &str) -> String {
    let ev = sql_json(
        home,
        &format!(
            "SELECT stage FROM model_events WHERE model_id = '{id}' ORDER BY ts_recv DESC, \
             CASE stage WHEN 'candidate' THEN 0 ELSE 1 END DESC LIMIT 1"
        ),
    );
    ev[0]["stage"].as_str().unwrap().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn an_ensemble_is_registered_and_served_as_one_model_in_batch_and_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("a");
    std::fs::create_dir_all(&home).unwrap();
    // Train on GOOG up to 2011-10; the rest arrives later and is served.
    let full = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let part: String = full.lines().take(1800).map(|l| format!("{l}\n")).collect();
    let part_path = tmp.path().join("part.csv");
    std::fs::write(&part_path, part).unwrap();
    common::ingest_csv(&home, &part_path, &["--symbol", "GOOG"]);
    let cfg = tmp.path().join("train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    elite(&home).arg("train").arg(&cfg).assert().success();
    let ids: HashMap<String, String> = sql_json(&home, "SELECT name, model_id FROM models")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["model_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (lr, gb) = (&ids["logistic"], &ids["gbdt"]);
    common::ingest_csv(&home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    // Both members served (production and shadow) on the new bars.
    elite(&home)
        .args(["predict", "goog-blend"])
        .assert()
        .success();
    let mut members: HashMap<(String, String), f64> = scores(&home, "production");
    members.extend(scores(&home, "shadow"));

    // Bad specs name what is wrong.
    let bad = tmp.path().join("bad.toml");
    for (spec, want) in [
        (
            format!(
                "name = \"x\"\ngroup = \"goog-blend\"\nmembers = [\"{lr}\", \"nope\"]\nmethod = \"mean\"\n"
            ),
            "\"nope\" is not in the registry",
        ),
        (
            format!(
                "name = \"x\"\ngroup = \"other\"\nmembers = [\"{lr}\", \"{gb}\"]\nmethod = \"mean\"\n"
            ),
            "not \"other\"",
        ),
        (
            format!(
                "name = \"x\"\ngroup = \"goog-blend\"\nmembers = [\"{lr}\", \"{gb}\"]\nmethod = \"weighted\"\nweights = [1.0]\n"
            ),
            "1 weights for 2 members",
        ),
    ] {
        std::fs::write(&bad, spec).unwrap();
        let out = elite(&home)
            .args(["models", "ensemble"])
            .arg(&bad)
            .assert()
            .failure()
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains(want), "{want:?} not in {err}");
    }

    // A stacking ensemble (candidate): its meta-learner is fitted on the members' walk-forward
    // predictions.
    let spec = tmp.path().join("stack.toml");
    std::fs::write(
        &spec,
        format!("name = \"stack\"\ngroup = \"goog-blend\"\nmembers = [\"{lr}\", \"{gb}\"]\nmethod = \"stacking\"\n"),
    )
    .unwrap();
    let out = elite(&home)
        .args(["models", "ensemble"])
        .arg(&spec)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("meta-learner: intercept"), "{out}");
    // A weighted ensemble as shadow: the member that was shadow steps down.
    std::fs::write(
        &spec,
        format!("name = \"blend\"\ngroup = \"goog-blend\"\nmembers = [\"{lr}\", \"{gb}\"]\nmethod = \"weighted\"\nweights = [0.7, 0.3]\nstage = \"shadow\"\n"),
    )
    .unwrap();
    elite(&home)
        .args(["models", "ensemble"])
        .arg(&spec)
        .assert()
        .success();
    // Registering the same spec again lands nothing.
    let again = elite(&home)
        .args(["models", "ensemble"])
        .arg(&spec)
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
    let blend = sql_json(&home, "SELECT model_id FROM models WHERE name = 'blend'")[0]["model_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(stage_of(&home, &blend), "shadow");
    let stages: Vec<String> = [lr, gb].iter().map(|id| stage_of(&home, id)).collect();
    assert!(stages.contains(&"production".to_string()), "{stages:?}");
    assert!(stages.contains(&"candidate".to_string()), "{stages:?}");

    // The stream: a copy of the warehouse; its bars replayed onto a topic, served by the signal
    // runner (predictions landed and published per bar), traded by the paper trader on the topics.
    let stream = tmp.path().join("b");
    copy_dir(&home, &stream);
    let topics = format!("file:{}", tmp.path().join("topics").display());
    elite(&stream)
        .args([
            "stream",
            "replay-bars",
            "--timeframe",
            "1d",
            "--transport",
            &topics,
        ])
        .assert()
        .success();
    elite(&stream)
        .args([
            "run",
            "signals",
            "--from",
            "bars.1d",
            "--models",
            "goog-blend",
            "--to",
            "signals",
            "--predictions-to",
            "predictions",
            "--transport",
            &topics,
        ])
        .assert()
        .success();
    let trader = tmp.path().join("ml.toml");
    std::fs::write(&trader, TRADER).unwrap();
    elite(&stream)
        .args(["run", "trader"])
        .arg(&trader)
        .args([
            "--paper",
            "--from",
            "bars.1d",
            "--predictions",
            "predictions",
            "--transport",
            &topics,
        ])
        .assert()
        .success();
    // The batch: elite predict, and the paper trader on the landed bars and predictions.
    elite(&home)
        .args(["predict", "goog-blend"])
        .assert()
        .success();
    elite(&home)
        .args(["run", "trader"])
        .arg(&trader)
        .arg("--paper")
        .assert()
        .success();
    let fills = |h: &Path| {
        sql_json(
            h,
            "SELECT seq, symbol, side, qty, CAST(price AS VARCHAR) p, CAST(charges AS VARCHAR) c, \
             CAST(ts_event AS VARCHAR) t FROM fills ORDER BY seq",
        )
    };
    let (fb, fs) = (fills(&home), fills(&stream));
    assert!(fb.len() >= 4, "{} fills", fb.len());
    assert_eq!(
        fb, fs,
        "the trader on the topics differs from the one on the tables"
    );

    let batch = scores(&home, "shadow");
    let live = scores(&stream, "shadow");
    let of = |m: &HashMap<(String, String), f64>| -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = m
            .iter()
            .filter(|((id, _), _)| *id == blend)
            .map(|((_, t), s)| (t.clone(), *s))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let (b, l) = (of(&batch), of(&live));
    assert!(b.len() >= 340, "{} ensemble rows served", b.len());
    assert_eq!(b.len(), l.len(), "batch and stream rows");
    for ((tb, sb), (tl, sl)) in b.iter().zip(&l) {
        assert_eq!(tb, tl);
        assert!((sb - sl).abs() <= 1e-9, "{tb}: batch {sb} stream {sl}");
    }
    // Every served row is 0.7 × logistic + 0.3 × gbdt, from the members' own served scores.
    for (t, s) in &b {
        let (Some(a), Some(g)) = (
            members.get(&(lr.clone(), t.clone())),
            members.get(&(gb.clone(), t.clone())),
        ) else {
            panic!("member predictions missing at {t}");
        };
        let want = (0.7 * a + 0.3 * g) / 1.0;
        assert!(
            s.is_finite() && (s - want).abs() <= 1e-12,
            "{t}: {s} vs {want}"
        );
    }
}
