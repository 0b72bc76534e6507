//! The model registry: `models` rows (a registered model, its artifact and its walk-forward
//! scores) and `model_events` (stage changes), read back as each model's latest stage, the
//! group's production model, and a loaded model whose artifact matches its recorded sha256.

use std::collections::BTreeMap;

use elite_models::ensemble::{EnsembleModel, FrozenSpec};
use elite_models::model::Model;
use elite_models::validate::Scores;
use elite_store::{At, Warehouse};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::config::{RegistryConfig, TrainConfig, load_model};
use crate::{Error, Result};

/// The group's production model (latest `production` event not followed by `retired`) and its
/// recorded metric value.
pub async fn current_production(wh: &Warehouse, group: &str) -> Result<Option<(String, f64)>> {
    let Some(stages) = latest_stages(wh, group).await? else {
        return Ok(None);
    };
    let Some(id) = stages
        .into_iter()
        .find(|(_, s)| s == "production")
        .map(|(id, _)| id)
    else {
        return Ok(None);
    };
    let m = registry_row(wh, &id).await?;
    let metric: RegistryConfig = m
        .as_ref()
        .and_then(|r| serde_json::from_str::<TrainConfig>(&r.config).ok())
        .map(|c| c.registry)
        .unwrap_or_default();
    let score = m
        .and_then(|r| serde_json::from_str::<Scores>(&r.metrics).ok())
        .map(|s| metric.metric.of(&s))
        .unwrap_or(f64::NEG_INFINITY);
    Ok(Some((id, score)))
}

/// Each model's latest stage in a group.
pub async fn latest_stages(wh: &Warehouse, group: &str) -> Result<Option<Vec<(String, String)>>> {
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "model_events",
            At::Latest,
            Some(col("group").eq(lit(group))),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut ev: Vec<(i64, String, String, String)> = vec![];
    for b in &batches {
        let s = |n: &str| {
            b.column_by_name(n)
                .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok())
        };
        let (Some(id), Some(stage), Some(eid)) = (s("model_id"), s("stage"), s("event_id")) else {
            continue;
        };
        let ts = b
            .column_by_name("ts_recv")
            .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).ok());
        let (id, stage, eid) = (
            arrow::array::AsArray::as_string::<i32>(&id),
            arrow::array::AsArray::as_string::<i32>(&stage),
            arrow::array::AsArray::as_string::<i32>(&eid),
        );
        for r in 0..b.num_rows() {
            let t = ts
                .as_ref()
                .map(|t| {
                    arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(t).value(r)
                })
                .unwrap_or(0);
            ev.push((
                t,
                stage_rank(stage.value(r)),
                id.value(r).to_string(),
                stage.value(r).to_string() + "|" + eid.value(r),
            ));
        }
    }
    ev.sort();
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for (_, _, id, stage) in ev {
        latest.insert(id, stage.split('|').next().unwrap_or_default().to_string());
    }
    Ok(Some(latest.into_iter().collect()))
}

/// Events of one training run share a time: order them candidate < shadow < retired < production.
fn stage_rank(s: &str) -> String {
    match s {
        "candidate" => "0",
        "shadow" => "1",
        "retired" => "2",
        _ => "3",
    }
    .into()
}

/// A `models` row.
#[derive(Clone, Debug, Deserialize)]
pub struct RegistryRow {
    pub model_id: String,
    pub group: String,
    pub name: String,
    /// End of the training data (the last labelled bar), as the JSON writer prints it.
    pub ts_event: String,
    pub kind: String,
    pub config: String,
    pub metrics: String,
    pub artifact: String,
    pub artifact_sha256: String,
    pub features: String,
    pub seq_len: i32,
    /// `classification` or `regression`.
    #[serde(default)]
    pub task: Option<String>,
}

/// Look a model up in the registry.
pub async fn registry_row(wh: &Warehouse, model_id: &str) -> Result<Option<RegistryRow>> {
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "models",
            At::Latest,
            Some(col("model_id").eq(lit(model_id))),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        for b in &batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    if buf.is_empty() {
        return Ok(None);
    }
    let rows: Vec<RegistryRow> = serde_json::from_slice(&buf)?;
    Ok(rows.into_iter().next())
}

/// Load a registered model from its artifact, checking the artifact's sha256.
pub async fn load_registered(
    wh: &Warehouse,
    model_id: &str,
) -> Result<(RegistryRow, Box<dyn Model>)> {
    let row = registry_row(wh, model_id)
        .await?
        .ok_or_else(|| Error::Config(format!("no model {model_id:?} in the registry")))?;
    let bytes = wh
        .get_artifact(&format!("models/{model_id}/model.bin"))
        .await?;
    let sha = hex::encode(Sha256::digest(&bytes));
    if sha != row.artifact_sha256 {
        return Err(Error::Internal(format!(
            "artifact of {model_id} has sha256 {sha}, the registry recorded {}",
            row.artifact_sha256
        )));
    }
    if row.kind == "ensemble" {
        let m = load_ensemble(wh, &bytes)
            .await
            .map_err(|e| e.context(format!("ensemble {model_id}")))?;
        return Ok((row, m));
    }
    let m = load_model(&row.kind, &bytes)?;
    // Deep models are served by ONNX Runtime from their exported graph; the graph must be the
    // one the recorded artifact exports (so its integrity rests on the artifact's sha256).
    if let Some(expected) = m.onnx() {
        let onnx = wh
            .get_artifact(&format!("models/{model_id}/model.onnx"))
            .await?;
        if onnx != expected {
            return Err(Error::Internal(format!(
                "models/{model_id}/model.onnx is not the graph its recorded artifact exports"
            )));
        }
        let served = elite_onnx::OnnxModel::from_elite(&onnx)
            .map_err(|e| Error::from(e).context(format!("serving {model_id} with ONNX Runtime")))?;
        return Ok((row, Box::new(served)));
    }
    Ok((row, m))
}

pub(crate) fn parse_ts(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_nanos_opt())
        .ok()
        .flatten()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()?
                .and_utc()
                .timestamp_nanos_opt()
        })
}

/// Register model `id` at `stage` in `group`: a `candidate` event (`why`), and for `shadow` or
/// `production` the current holder of that stage steps down (production → retired, shadow →
/// candidate) before `id` takes it (`set_by`); `ts_event_us`/`now` (µs) stamp the events.
/// Returns the rows added.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_stage(
    wh: &Warehouse,
    group: &str,
    id: &str,
    stage: &str,
    why: String,
    set_by: &str,
    ts_event_us: i64,
    now: i64,
    meta: elite_store::CommitMeta,
) -> Result<usize> {
    let mut events: Vec<(String, String, String)> = vec![(id.to_string(), "candidate".into(), why)];
    if stage != "candidate" {
        for (old, s) in latest_stages(wh, group).await?.unwrap_or_default() {
            if s == stage && old != id {
                let (to, why) = if s == "production" {
                    ("retired", format!("replaced by {id} ({set_by})"))
                } else {
                    ("candidate", format!("shadow passed to {id} ({set_by})"))
                };
                events.push((old, to.into(), why));
            }
        }
        events.push((
            id.to_string(),
            stage.to_string(),
            format!("set by the {set_by}"),
        ));
    }
    let rows: Vec<super::EventRow<'_>> = events
        .iter()
        .map(|(mid, stage, reason)| super::EventRow {
            event_id: hex::encode(
                &Sha256::digest(format!("{mid}|{stage}|{reason}").as_bytes())[..8],
            ),
            group,
            model_id: mid,
            stage,
            reason,
            ts_event: ts_event_us,
            ts_recv: now,
        })
        .collect();
    crate::run::journal::insert(wh, &elite_warehouse::tables::MODEL_EVENTS, &rows, meta).await
}

/// A registered ensemble's artifact loaded with its members (each checked like any artifact).
async fn load_ensemble(wh: &Warehouse, bytes: &[u8]) -> Result<Box<dyn Model>> {
    let spec: FrozenSpec = serde_json::from_slice(bytes)?;
    spec.check()?;
    let mut members = vec![];
    for id in &spec.members {
        let (_, m) = Box::pin(load_registered(wh, id)).await?;
        members.push(m);
    }
    Ok(Box::new(EnsembleModel { spec, members }))
}
