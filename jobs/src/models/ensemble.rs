//! `elite models ensemble SPEC`: an ensemble of a group's registered models, registered and
//! served as one model.
//!
//! The spec names the group, the members (registered model ids, single models of that group on
//! the same data and features) and the combiner: `mean`, `weighted` (the spec's weights), `vote`
//! (weighted majority) or `stacking` (a logistic meta-learner on the members' log-odds, fitted
//! here on their out-of-sample walk-forward predictions whose labels are known). The combiner is
//! frozen into the artifact, so `elite predict` and the signal runner serve the ensemble through
//! the same `Model::predict` as any model (batch = stream), under its own model id, at its own
//! stage (candidate, shadow or production; the holder of the stage steps down).
//!
//! Its recorded scores are out-of-sample: the combination of the members' walk-forward
//! predictions on the rows all of them predicted; for stacking, a meta-learner fitted on the
//! first half of those rows is scored on the second half (the served one is fitted on all).

use std::collections::HashMap;

use elite_models::ensemble::{Frozen, FrozenSpec};
use elite_models::model::Task;
use elite_models::validate::{self, Scores};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Clock, tables};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::registry::{RegistryRow, parse_ts, record_stage};
use super::{ModelRow, TrainConfig, load_dataset, read_predictions, registry_row, us};
use crate::{Error, Result};

/// What `elite models ensemble` reads (TOML).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    /// The ensemble's name in its group (its model id is `<name>-<12 hex>`).
    pub name: String,
    /// The model group (the `elite train` config's `name`).
    pub group: String,
    /// Registered model ids, in order.
    pub members: Vec<String>,
    pub method: Frozen,
    /// `weighted` and `vote`: one weight per member (equal when absent).
    #[serde(default)]
    pub weights: Vec<f64>,
    /// `candidate` (default), `shadow` or `production`.
    #[serde(default = "candidate")]
    pub stage: String,
}

fn candidate() -> String {
    "candidate".into()
}

impl EnsembleSpec {
    pub fn from_toml(text: &str) -> Result<Self> {
        let s: EnsembleSpec =
            toml::from_str(text).map_err(|e| Error::invalid("ensemble spec")(e.into()))?;
        if !["candidate", "shadow", "production"].contains(&s.stage.as_str()) {
            return Err(Error::Config(format!(
                "ensemble spec: stage {:?} is not one of candidate, shadow, production",
                s.stage
            )));
        }
        if matches!(s.method, Frozen::Mean | Frozen::Stacking) && !s.weights.is_empty() {
            return Err(Error::Config(format!(
                "ensemble spec: weights apply to `weighted` and `vote`, not {:?}",
                s.method
            )));
        }
        Ok(s)
    }
}

/// What registering an ensemble did.
#[derive(Clone, Debug, Serialize)]
pub struct EnsembleReport {
    pub model_id: String,
    pub group: String,
    pub stage: String,
    pub method: Frozen,
    pub members: Vec<String>,
    /// Stacking: the served meta-learner (intercept, one coefficient per member).
    pub meta: Option<(f64, Vec<f64>)>,
    /// Out-of-sample scores (see the module docs) and the rows they were computed on.
    pub scores: Scores,
    pub scored_rows: usize,
    pub rows_added: usize,
}

/// The members' registry rows and their (shared) training config.
async fn members(wh: &Warehouse, spec: &EnsembleSpec) -> Result<(Vec<RegistryRow>, TrainConfig)> {
    let mut rows = vec![];
    let mut cfg: Option<TrainConfig> = None;
    let json = |v: &dyn super::erased::Ser| v.json();
    for id in &spec.members {
        let r = registry_row(wh, id).await?.ok_or_else(|| {
            Error::Config(format!("ensemble member {id:?} is not in the registry"))
        })?;
        if r.group != spec.group {
            return Err(Error::Config(format!(
                "ensemble member {id} is in group {:?}, not {:?}",
                r.group, spec.group
            )));
        }
        if r.kind == "ensemble" {
            return Err(Error::Config(format!(
                "ensemble member {id} is an ensemble: members are single models"
            )));
        }
        if r.task.as_deref() == Some("regression") {
            return Err(Error::Config(format!(
                "ensemble member {id} is a regression model; ensembles combine P(up)"
            )));
        }
        let c: TrainConfig = serde_json::from_str(&r.config)
            .map_err(|e| Error::from(e).context(format!("config of {id}")))?;
        if let Some(first) = &cfg {
            if json(&c.data) != json(&first.data) || json(&c.features) != json(&first.features) {
                return Err(Error::Config(format!(
                    "ensemble member {id} was trained on other data or features than {}: \
                     members must share [data] and [features]",
                    spec.members[0]
                )));
            }
        } else {
            cfg = Some(c);
        }
        rows.push(r);
    }
    let cfg = cfg.ok_or_else(|| Error::Config("ensemble spec: no members".into()))?;
    Ok((rows, cfg))
}

/// Register the ensemble `spec` describes.
pub async fn register(
    wh: &Warehouse,
    spec: &EnsembleSpec,
    clock: &dyn Clock,
) -> Result<EnsembleReport> {
    FrozenSpec {
        members: spec.members.clone(),
        method: spec.method,
        weights: spec.weights.clone(),
        meta: (spec.method == Frozen::Stacking).then(|| (0.0, vec![0.0; spec.members.len()])),
    }
    .check()?;
    let (rows, mut cfg) = members(wh, spec).await?;
    cfg.data.version = None;
    let (ds, version) = load_dataset(wh, &cfg).await?;
    // The rows every member predicted out-of-sample, with known labels.
    let mut wf: Vec<HashMap<(String, i64), f64>> = vec![];
    for id in &spec.members {
        wf.push(read_predictions(wh, id, "walk_forward").await?);
    }
    let key = |i: usize| {
        let r = ds.rows[i];
        (ds.symbols[r.series as usize].clone(), us(r.ts_event))
    };
    let common: Vec<usize> = (0..ds.rows.len())
        .filter(|&i| ds.rows[i].label.is_some() && wf.iter().all(|m| m.contains_key(&key(i))))
        .collect();
    if common.len() < 50 {
        return Err(Error::Config(format!(
            "the members share {} labelled walk-forward rows; an ensemble is scored (and stacking \
             fitted) on at least 50",
            common.len()
        )));
    }
    let preds = |rows: &[usize]| -> Vec<Vec<f64>> {
        wf.iter()
            .map(|m| rows.iter().map(|&i| m[&key(i)]).collect())
            .collect()
    };
    let up = |rows: &[usize]| -> Vec<bool> {
        rows.iter()
            .map(|&i| ds.rows[i].label.is_some_and(|l| l.up))
            .collect()
    };
    let frozen = |meta| FrozenSpec {
        members: spec.members.clone(),
        method: spec.method,
        weights: spec.weights.clone(),
        meta,
    };
    let combine = |f: &FrozenSpec, rows: &[usize]| -> Vec<f64> {
        let p = preds(rows);
        (0..rows.len())
            .map(|k| f.combine(&p.iter().map(|m| m[k]).collect::<Vec<_>>()))
            .collect()
    };
    let (served, scored) = if spec.method == Frozen::Stacking {
        let (first, second) = common.split_at(common.len() / 2);
        let half = frozen(Some(FrozenSpec::fit_meta(&preds(first), &up(first))?));
        let all = frozen(Some(FrozenSpec::fit_meta(&preds(&common), &up(&common))?));
        (all, (second.to_vec(), combine(&half, second)))
    } else {
        let f = frozen(None);
        let p = combine(&f, &common);
        (f, (common.clone(), p))
    };
    served.check()?;
    let v = &cfg.validation;
    let scores = validate::score(
        &ds,
        &scored.0,
        &scored.1,
        Task::Classification,
        v.cost_bps,
        v.periods_per_year,
    )?;

    let artifact_bytes = serde_json::to_vec(&served)?;
    let sha = hex::encode(Sha256::digest(&artifact_bytes));
    let id = format!(
        "{}-{}",
        spec.name,
        hex::encode(&Sha256::digest(format!("{sha}|{}", spec.group).as_bytes())[..6])
    );
    // It predicts only after every member's training data.
    let trained_to = rows
        .iter()
        .filter_map(|r| parse_ts(&r.ts_event))
        .max()
        .unwrap_or(0);
    let seq = rows.iter().map(|r| r.seq_len.max(1)).max().unwrap_or(1);
    let mut report = EnsembleReport {
        model_id: id.clone(),
        group: spec.group.clone(),
        stage: spec.stage.clone(),
        method: spec.method,
        members: spec.members.clone(),
        meta: served.meta.clone(),
        scores: scores.clone(),
        scored_rows: scored.0.len(),
        rows_added: 0,
    };
    if registry_row(wh, &id).await?.is_some() {
        return Ok(report);
    }
    let json = |v: &dyn super::erased::Ser| v.json();
    let artifact = wh
        .put_artifact(&format!("models/{id}/model.bin"), artifact_bytes)
        .await?;
    let now = us(clock.now().as_nanos());
    let meta = || {
        CommitMeta::new(format!("ensemble:{}", spec.group))
            .with("bars_version", version.map_or(-1, |v| v as i64))
    };
    let row = ModelRow {
        model_id: id.clone(),
        group: spec.group.clone(),
        name: spec.name.clone(),
        kind: "ensemble".into(),
        task: Task::Classification,
        params: json(&served),
        feature_set: ds.feature_set.clone(),
        feature_set_version: ds.feature_set_version,
        features: json(&ds.features),
        horizon: ds.horizon as i32,
        seq_len: seq,
        bars_version: version,
        train_rows: scored.0.len() as i64,
        train_from: 0,
        code_version: crate::run::code_version(),
        config: json(&cfg),
        metrics: json(&scores),
        importance: "[]".into(),
        artifact,
        artifact_sha256: sha,
        ts_event: us(trained_to),
        ts_recv: now,
    };
    report.rows_added += crate::run::journal::insert(wh, &tables::MODELS, &[row], meta()).await?;
    report.rows_added += record_stage(
        wh,
        &spec.group,
        &id,
        &spec.stage,
        format!(
            "registered {:?} ensemble of {}; scored on {} out-of-sample rows",
            spec.method,
            spec.members.join(", "),
            scored.0.len()
        ),
        "ensemble spec",
        us(trained_to),
        now,
        meta(),
    )
    .await?;
    Ok(report)
}
