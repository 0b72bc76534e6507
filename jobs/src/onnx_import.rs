//! `elite models import SPEC`: a user's ONNX model (XGBoost, CatBoost, PyTorch, scikit-learn…
//! exported elsewhere) registered beside Elite's own models.
//!
//! The spec declares the model's input contract (feature names in order, sequence length, the
//! output to read and its "up" column, the task), the group's training config (which bars and
//! which feature set feed it) and `trained_until`, the last date of the data it was fitted on.
//! The contract is checked against the graph on load (a mismatch is refused with what differs),
//! the model is scored only on labelled bars after `trained_until` (it may have seen anything
//! before), and it is registered like any model: a `models` row (kind `onnx`), its artifact
//! (contract + graph) with its sha256, and `model_events` — candidate, or the stage the spec
//! asks for (the holder of that stage steps down). Serving, the signal runner and the nightly job
//! then treat it like the group's other models. Importing the same file again lands nothing.

use std::path::{Path, PathBuf};

use elite_models::model::Model;
use elite_models::validate::{self, Scores};
use elite_onnx::{Contract, OnnxModel};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Clock, tables};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::models::{ModelRow, TrainConfig, load_dataset, registry_row, us};
use crate::{Error, Result};

/// What `elite models import` reads (TOML).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSpec {
    /// The model's name in its group.
    pub name: String,
    /// The ONNX file (relative to the spec file).
    pub file: PathBuf,
    /// The group's training config (relative to the spec file): its `name` is the group, its
    /// `[data]` and feature set feed the model (the contract's features are selected from it).
    pub config: PathBuf,
    /// The last date (YYYY-MM-DD) of the data the model was fitted on.
    pub trained_until: String,
    /// `candidate` (default), `shadow` or `production`.
    #[serde(default = "candidate")]
    pub stage: String,
    pub contract: Contract,
}

fn candidate() -> String {
    "candidate".into()
}

impl ImportSpec {
    pub fn from_toml(text: &str) -> Result<Self> {
        let s: ImportSpec =
            toml::from_str(text).map_err(|e| Error::invalid("import spec")(e.into()))?;
        if !["candidate", "shadow", "production"].contains(&s.stage.as_str()) {
            return Err(Error::Config(format!(
                "import spec: stage {:?} is not one of candidate, shadow, production",
                s.stage
            )));
        }
        Ok(s)
    }
}

/// What an import did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub model_id: String,
    pub group: String,
    pub stage: String,
    /// Out-of-sample scores: labelled bars after `trained_until`.
    pub scores: Scores,
    pub scored_from: i64,
    pub scored_to: i64,
    pub rows_added: usize,
}

fn end_of_day_ns(date: &str) -> Result<i64> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
        .ok_or_else(|| {
            Error::Config(format!(
                "import spec: trained_until {date:?} is not a date (YYYY-MM-DD)"
            ))
        })
}

/// Register the model `spec` describes; `base` is the directory relative paths start from.
pub async fn import(
    wh: &Warehouse,
    spec: &ImportSpec,
    base: &Path,
    clock: &dyn Clock,
) -> Result<ImportReport> {
    let file = base.join(&spec.file);
    let bytes = std::fs::read(&file).map_err(|source| Error::Read {
        path: file.display().to_string(),
        source,
    })?;
    let model = OnnxModel::load(&bytes, spec.contract.clone())
        .map_err(|e| Error::invalid(file.display().to_string())(e.into()))?;
    let cfg_path = base.join(&spec.config);
    let text = std::fs::read_to_string(&cfg_path).map_err(|source| Error::Read {
        path: cfg_path.display().to_string(),
        source,
    })?;
    let mut cfg =
        TrainConfig::from_toml(&text).map_err(|e| e.context(cfg_path.display().to_string()))?;
    cfg.features.select = spec.contract.features.clone();
    let cut = end_of_day_ns(&spec.trained_until)?;
    let (ds, version) = load_dataset(wh, &cfg).await?;
    let seq = model.seq_len().max(1);
    let rows: Vec<usize> = (0..ds.rows.len())
        .filter(|&i| {
            let r = ds.rows[i];
            r.label.is_some() && r.ts_event > cut && ds.window(i, seq).is_some()
        })
        .collect();
    let (Some(&first), Some(&last)) = (rows.first(), rows.last()) else {
        return Err(Error::Config(format!(
            "no labelled {} bars after trained_until {} to score the model on",
            cfg.data.timeframe, spec.trained_until
        )));
    };
    let pred = model
        .predict(&ds, &rows)
        .map_err(|e| Error::invalid(file.display().to_string())(e.into()))?;
    let v = &cfg.validation;
    let scores = validate::score(
        &ds,
        &rows,
        &pred,
        spec.contract.task,
        v.cost_bps,
        v.periods_per_year,
    )?;

    let artifact_bytes = model.save()?;
    let sha = hex::encode(Sha256::digest(&artifact_bytes));
    let json = |v: &dyn crate::models::erased::Ser| v.json();
    let mut h = Sha256::new();
    h.update(sha.as_bytes());
    h.update(json(&cfg.data).as_bytes());
    h.update(json(&cfg.features).as_bytes());
    h.update(format!("|bars@{version:?}|{}", spec.trained_until).as_bytes());
    let id = format!("{}-{}", spec.name, hex::encode(&h.finalize()[..6]));
    let now = us(clock.now().as_nanos());
    let meta = || {
        CommitMeta::new(format!("import:{}", cfg.name))
            .with("bars_version", version.map_or(-1, |v| v as i64))
    };
    let mut added = 0;
    if registry_row(wh, &id).await?.is_some() {
        return Ok(ImportReport {
            model_id: id,
            group: cfg.name.clone(),
            stage: spec.stage.clone(),
            scores,
            scored_from: ds.rows[first].ts_event,
            scored_to: ds.rows[last].ts_event,
            rows_added: 0,
        });
    }
    let artifact = wh
        .put_artifact(&format!("models/{id}/model.bin"), artifact_bytes)
        .await?;
    wh.put_artifact(&format!("models/{id}/model.onnx"), bytes)
        .await?;
    let row = ModelRow {
        model_id: id.clone(),
        group: cfg.name.clone(),
        name: spec.name.clone(),
        kind: "onnx".into(),
        task: spec.contract.task,
        params: json(&spec.contract),
        feature_set: ds.feature_set.clone(),
        feature_set_version: ds.feature_set_version,
        features: json(&ds.features),
        horizon: ds.horizon as i32,
        seq_len: seq as i32,
        bars_version: version,
        train_rows: 0,
        train_from: 0,
        code_version: crate::run::code_version(),
        config: json(&cfg),
        metrics: json(&scores),
        importance: "[]".into(),
        artifact,
        artifact_sha256: sha,
        ts_event: us(cut),
        ts_recv: now,
    };
    added += crate::run::journal::insert(wh, &tables::MODELS, &[row], meta()).await?;

    added += crate::models::registry::record_stage(
        wh,
        &cfg.name,
        &id,
        &spec.stage,
        format!(
            "imported ONNX model {}; scored on {} labelled bars after {}",
            spec.file.display(),
            rows.len(),
            spec.trained_until
        ),
        "import spec",
        us(cut),
        now,
        meta(),
    )
    .await?;
    Ok(ImportReport {
        model_id: id,
        group: cfg.name.clone(),
        stage: spec.stage.clone(),
        scores,
        scored_from: ds.rows[first].ts_event,
        scored_to: ds.rows[last].ts_event,
        rows_added: added,
    })
}
