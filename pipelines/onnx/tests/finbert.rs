//! The `finbert` scorer against Python: a small BERT with random weights and a WordPiece
//! tokenizer, built by golden/gen_tiny_finbert.py, tokenized by Python `tokenizers` 0.22.2 and run
//! by Python `onnxruntime` 1.31.1 (golden/tiny_finbert_reference.json). Token ids must be equal;
//! logits and probabilities within 1e-5. The model contract is checked on load.

use std::path::{Path, PathBuf};

use elite_onnx::text::TextClassifier;
use elite_text::Scorer;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.is_finite() && w.is_finite() && (g - w).abs() <= tol,
            "{what}: {g} vs {w}"
        );
    }
}

#[test]
fn tokens_logits_and_probabilities_equal_python() {
    let m = TextClassifier::load(&golden().join("tiny_finbert")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden().join("tiny_finbert_reference.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        m.max_length(),
        128,
        "max_position_embeddings (no truncation in tokenizer.json)"
    );
    let rows = reference["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 53);
    let scorer = Scorer::Model(Box::new(
        TextClassifier::load(&golden().join("tiny_finbert")).unwrap(),
    ));
    let mut truncated = 0;
    let mut labels = [0usize; 3];
    for r in rows {
        let text = r["text"].as_str().unwrap();
        let c = m.classify(text).unwrap();
        let ids: Vec<u32> = r["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(c.ids, ids, "token ids of {text:?}");
        truncated += usize::from(ids.len() == 128);
        let want: Vec<f64> = r["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got: Vec<f64> = c.logits.iter().map(|&x| x as f64).collect();
        close(&got, &want, 1e-5, &format!("logits of {text:?}"));
        let want = ["negative", "neutral", "positive"].map(|k| r[k].as_f64().unwrap());
        close(
            &c.probabilities,
            &want,
            1e-5,
            &format!("probabilities of {text:?}"),
        );
        // The scorer's view: parts in class order, score = P(pos) − P(neg), argmax class.
        let sc = scorer.score(text).unwrap();
        assert!((sc.score - (want[2] - want[0])).abs() < 1e-5, "{text:?}");
        let parts: Vec<&str> = sc.parts.iter().map(|p| p.0).collect();
        assert_eq!(parts[..3], ["negative", "neutral", "positive"]);
        let best = (0..3).fold(0, |b, k| if want[k] > want[b] { k } else { b });
        labels[best] += 1;
        assert_eq!(scorer.classify(&sc), best, "{text:?}");
    }
    assert_eq!(
        truncated, 1,
        "the 200-word text is cut to the model's 128 positions"
    );
    assert_eq!(
        labels,
        [4, 47, 2],
        "argmax classes (negative, neutral, positive) of Python's run"
    );
    assert!(m.version().starts_with("finbert-") && m.version().len() == 20);
}

fn copy_model(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["model.onnx", "tokenizer.json", "config.json"] {
        std::fs::copy(golden().join("tiny_finbert").join(f), to.join(f)).unwrap();
    }
}

fn load_err(dir: &Path) -> String {
    TextClassifier::load(dir).unwrap_err().to_string()
}

#[test]
fn the_contract_is_checked_on_load() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("m");
    copy_model(&d);
    assert!(TextClassifier::load(&d).is_ok());

    // Labels that are not the three classes (an export that kept LABEL_0…).
    let cfg = std::fs::read_to_string(d.join("config.json")).unwrap();
    std::fs::write(
        d.join("config.json"),
        cfg.replace("\"neutral\"", "\"LABEL_2\""),
    )
    .unwrap();
    let e = load_err(&d);
    assert!(
        e.contains("LABEL_2") && e.contains("negative, neutral, positive"),
        "{e}"
    );
    std::fs::write(d.join("config.json"), r#"{"max_position_embeddings": 128}"#).unwrap();
    assert!(load_err(&d).contains("id2label"));
    std::fs::write(d.join("config.json"), &cfg).unwrap();

    // A tabular model is not a text classifier: its input is named and typed otherwise.
    std::fs::copy(golden().join("user_gbm.onnx"), d.join("model.onnx")).unwrap();
    let e = load_err(&d);
    assert!(e.contains("input \"X\" is not one of input_ids"), "{e}");
    copy_model(&d);

    // A broken tokenizer file, and a missing one.
    std::fs::write(d.join("tokenizer.json"), "{}").unwrap();
    assert!(load_err(&d).contains("not a tokenizer"), "{}", load_err(&d));
    std::fs::remove_file(d.join("tokenizer.json")).unwrap();
    let e = load_err(&d);
    assert!(e.contains("tokenizer.json is missing"), "{e}");

    // A different model is a different version.
    copy_model(&d);
    let a = TextClassifier::load(&d).unwrap().version().to_string();
    std::fs::write(
        d.join("config.json"),
        cfg.replace("seed 2", "seed 2 (copy)"),
    )
    .unwrap();
    let b = TextClassifier::load(&d).unwrap().version().to_string();
    assert_ne!(a, b);
}
