//! A FinBERT-class text classifier: a user's ONNX export of a BERT-style sequence classifier with
//! its Hugging Face `tokenizer.json`, scored through ONNX Runtime (the `finbert` scorer).
//!
//! A model directory holds `model.onnx`, `tokenizer.json` and `config.json` (the export's
//! config, whose `id2label` names the classes). The contract is checked on load, like
//! `elite models import` checks a tabular model's, with an error that says what differs:
//! - inputs: `input_ids` (required), `attention_mask`, `token_type_ids` — each int64
//!   `[batch, sequence]`, nothing else;
//! - output: `logits` (or the only output), float32 `[batch, classes]`;
//! - labels: `id2label` names exactly the classes negative, neutral and positive (any case, any
//!   order: ProsusAI/finbert's is positive, negative, neutral).
//!
//! Texts are tokenized by the `tokenizers` crate (the same library as Python's `tokenizers`) and
//! truncated to the tokenizer's own truncation, else the model's `max_position_embeddings`
//! (512 when absent). Probabilities are the softmax of the logits, computed in f64.

use std::path::Path;
use std::sync::Mutex;

use elite_models::{Error, Result};
use ort::session::Session;
use ort::value::{Tensor, TensorElementType};
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use super::{backend, environment, shape_of};

/// The inputs a BERT-style export may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextInput {
    Ids,
    Mask,
    TypeIds,
}

impl TextInput {
    fn of(name: &str) -> Option<Self> {
        match name {
            "input_ids" => Some(Self::Ids),
            "attention_mask" => Some(Self::Mask),
            "token_type_ids" => Some(Self::TypeIds),
            _ => None,
        }
    }
}

/// One text's tokens and the model's outputs for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    pub ids: Vec<u32>,
    /// The logits in the model's own column order.
    pub logits: Vec<f32>,
    /// Softmax probabilities of negative, neutral, positive.
    pub probabilities: [f64; 3],
}

/// A loaded, contract-checked text classifier.
pub struct TextClassifier {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    inputs: Vec<(String, TextInput)>,
    output: String,
    /// The logits column of negative, neutral and positive.
    columns: [usize; 3],
    classes: usize,
    max_length: usize,
    version: String,
}

impl std::fmt::Debug for TextClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextClassifier")
            .field("version", &self.version)
            .field("inputs", &self.inputs)
            .field("output", &self.output)
            .field("columns", &self.columns)
            .field("max_length", &self.max_length)
            .finish()
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Artifact(format!("reading {}: {e}", path.display())))
}

/// The logits column of each of negative, neutral, positive, from a config's `id2label`.
fn label_columns(config: &serde_json::Value, origin: &str) -> Result<([usize; 3], usize)> {
    let map = config
        .get("id2label")
        .and_then(|m| m.as_object())
        .ok_or_else(|| {
            Error::Contract(format!(
                "{origin}: no `id2label` object (the classes' names by logits column)"
            ))
        })?;
    let mut cols = [usize::MAX; 3];
    for (id, label) in map {
        let col: usize = id.parse().map_err(|_| {
            Error::Contract(format!(
                "{origin}: id2label key {id:?} is not a column number"
            ))
        })?;
        let name = label.as_str().unwrap_or_default();
        let k = elite_text::eval::class_of(name).ok_or_else(|| {
            Error::Contract(format!(
                "{origin}: label {name:?} (column {col}) is not one of negative, neutral, positive"
            ))
        })?;
        if cols[k] != usize::MAX {
            return Err(Error::Contract(format!(
                "{origin}: label {name:?} appears twice"
            )));
        }
        cols[k] = col;
    }
    if cols.contains(&usize::MAX) || map.len() != 3 {
        return Err(Error::Contract(format!(
            "{origin}: id2label must name exactly negative, neutral and positive; it has {:?}",
            map.values().collect::<Vec<_>>()
        )));
    }
    Ok((cols, map.len()))
}

impl TextClassifier {
    /// Load `model.onnx`, `tokenizer.json` and `config.json` from `dir` and check the contract.
    pub fn load(dir: &Path) -> Result<Self> {
        let files = ["model.onnx", "tokenizer.json", "config.json"].map(|f| dir.join(f));
        for f in &files {
            if !f.is_file() {
                return Err(Error::Artifact(format!(
                    "{} is missing: a finbert model directory holds model.onnx, tokenizer.json and \
                     config.json (the export's files)",
                    f.display()
                )));
            }
        }
        let bytes = files.each_ref().map(|f| read(f));
        let [model, tok, cfg] = bytes;
        let (model, tok, cfg) = (model?, tok?, cfg?);
        let mut h = Sha256::new();
        for b in [&model, &tok, &cfg] {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
        let hex: String = h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let version = format!("finbert-{hex}");

        let origin = files[2].display().to_string();
        let config: serde_json::Value = serde_json::from_slice(&cfg)
            .map_err(|e| Error::Contract(format!("{origin}: not JSON: {e}")))?;
        let (columns, classes) = label_columns(&config, &origin)?;

        let mut tokenizer = Tokenizer::from_bytes(&tok).map_err(|e| {
            Error::Contract(format!("{}: not a tokenizer: {e}", files[1].display()))
        })?;
        let max_length = match tokenizer.get_truncation() {
            Some(t) => t.max_length,
            None => {
                let n = config
                    .get("max_position_embeddings")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(512) as usize;
                tokenizer
                    .with_truncation(Some(tokenizers::TruncationParams {
                        max_length: n,
                        ..Default::default()
                    }))
                    .map_err(|e| Error::Contract(format!("truncation to {n}: {e}")))?;
                n
            }
        };

        let env = environment()?;
        let session = Session::builder(env)
            .map_err(backend)?
            .with_intra_threads(1)
            .map_err(backend)?
            .commit_from_memory(&model)
            .map_err(backend)?;
        let mut inputs = Vec::new();
        for i in session.inputs() {
            let name = i.name();
            let kind = TextInput::of(name).ok_or_else(|| {
                Error::Contract(format!(
                    "input {name:?} is not one of input_ids, attention_mask, token_type_ids"
                ))
            })?;
            match shape_of(i.dtype()) {
                Some((TensorElementType::Int64, dims)) if dims.len() == 2 => {}
                other => {
                    return Err(Error::Contract(format!(
                        "input {name:?} is {other:?}; expected int64 [batch, sequence]"
                    )));
                }
            }
            inputs.push((name.to_string(), kind));
        }
        if !inputs.iter().any(|(_, k)| *k == TextInput::Ids) {
            return Err(Error::Contract("the model has no input_ids input".into()));
        }
        let outputs = session.outputs();
        let out = outputs
            .iter()
            .find(|o| o.name() == "logits")
            .or(if outputs.len() == 1 {
                outputs.first()
            } else {
                None
            })
            .ok_or_else(|| {
                Error::Contract(format!(
                    "no output `logits` among {:?}",
                    outputs.iter().map(|o| o.name()).collect::<Vec<_>>()
                ))
            })?;
        match shape_of(out.dtype()) {
            Some((TensorElementType::Float32, d))
                if d.len() == 2 && (d[1] == -1 || d[1] == classes as i64) => {}
            other => {
                return Err(Error::Contract(format!(
                    "output {:?} is {other:?}; expected float32 [batch, {classes}] (one logit per label)",
                    out.name()
                )));
            }
        }
        let output = out.name().to_string();
        Ok(Self {
            session: Mutex::new(session),
            tokenizer,
            inputs,
            output,
            columns,
            classes,
            max_length,
            version,
        })
    }

    /// `finbert-` and the first 12 hex digits of the SHA-256 of the three files.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The tokens a text is cut to.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tokenize and run one text.
    pub fn classify(&self, text: &str) -> Result<Classified> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Input {
                what: "text".into(),
                why: format!("tokenizing: {e}"),
            })?;
        let n = enc.get_ids().len();
        let column = |v: &[u32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        let mut feed = Vec::with_capacity(self.inputs.len());
        for (name, kind) in &self.inputs {
            let v = match kind {
                TextInput::Ids => column(enc.get_ids()),
                TextInput::Mask => column(enc.get_attention_mask()),
                TextInput::TypeIds => column(enc.get_type_ids()),
            };
            let t = Tensor::from_array((vec![1_i64, n as i64], v)).map_err(backend)?;
            feed.push((name.as_str(), t));
        }
        let mut s = self
            .session
            .lock()
            .map_err(|_| backend("session lock poisoned"))?;
        let out = s.run(feed).map_err(backend)?;
        let (_, v) = out[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(backend)?;
        if v.len() != self.classes {
            return Err(backend(format!(
                "{} logits for one text, expected {}",
                v.len(),
                self.classes
            )));
        }
        let logits = v.to_vec();
        let m = logits
            .iter()
            .fold(f64::NEG_INFINITY, |a, &x| a.max(x as f64));
        let e: Vec<f64> = logits.iter().map(|&x| (x as f64 - m).exp()).collect();
        let z: f64 = e.iter().sum();
        let probabilities = self.columns.map(|c| e[c] / z);
        Ok(Classified {
            ids: enc.get_ids().to_vec(),
            logits,
            probabilities,
        })
    }
}

impl elite_text::TextModel for TextClassifier {
    fn version(&self) -> &str {
        &self.version
    }

    fn score(
        &self,
        text: &str,
    ) -> std::result::Result<elite_text::Score, Box<dyn std::error::Error + Send + Sync>> {
        let c = self.classify(text)?;
        let [neg, neu, pos] = c.probabilities;
        let tokens = c.ids.len() as f64;
        Ok(elite_text::Score {
            score: pos - neg,
            parts: vec![
                ("negative", neg),
                ("neutral", neu),
                ("positive", pos),
                ("score", pos - neg),
                ("tokens", tokens),
            ],
        })
    }
}
