//! `elite train`: build a dataset from `bars` at one version through a feature set, evaluate
//! every configured model and ensemble walk-forward (every number out-of-sample; the planning
//! and scoring are `elite_models::walkforward`), register the models trained on all labelled
//! data in `models` (artifacts on the object store), record stage changes in `model_events` by
//! the promotion rule, and write the out-of-sample predictions to `predictions`.
//!
//! Model ids hash the model's config, the data version, the feature set version and the code
//! version: training twice from the same recorded versions gives the same ids and artifacts
//! (tested) and lands nothing new.

use elite_models::data::{Dataset, Series};
use elite_models::model::Task;
use elite_models::validate;
use elite_models::walkforward::{self, Evaluation, Plan, WalkForwardReport};
use elite_pipelines::features::FeatureSet;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Clock, Symbol, Timeframe, tables};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::{Kind, ModelConfig, TrainConfig, learner};
use super::predictions::{prediction_rows, recorded_predictions, same_rows, us};
use super::registry::{current_production, registry_row};
use crate::bars::{BarQuery, read_bars};
use crate::run::code_version;
use crate::{Error, Result};

/// The dataset a config describes, from `bars` at its version.
pub async fn load_dataset(wh: &Warehouse, cfg: &TrainConfig) -> Result<(Dataset, Option<u64>)> {
    let tf = Timeframe::parse(&cfg.data.timeframe)?;
    let symbols = cfg
        .data
        .symbols
        .iter()
        .map(Symbol::new)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (events, version) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(tf),
            symbols,
            version: cfg.data.version,
        },
    )
    .await?;
    if events.is_empty() {
        return Err(Error::Config(format!(
            "no {} bars for {:?} in the warehouse",
            cfg.data.timeframe, cfg.data.symbols
        )));
    }
    let series: Vec<Series> = crate::features::series(events)
        .into_iter()
        .map(|((symbol, _), bars)| Series {
            symbol,
            bars: bars.iter().map(|b| b.timed()).collect(),
        })
        .collect();
    let set = FeatureSet::by_name(&cfg.features.set)?;
    let events = read_events(wh, cfg, &set).await?;
    Ok((build_dataset_with_events(cfg, &series, &events)?, version))
}

/// The scored text, earnings and insider records a feature set reads, per symbol.
pub(crate) async fn read_events(
    wh: &Warehouse,
    cfg: &TrainConfig,
    set: &FeatureSet,
) -> Result<elite_pipelines::features::SymbolEvents> {
    let text = if set.sentiment {
        let version = cfg
            .features
            .sentiment_version
            .as_deref()
            .unwrap_or("vader-3.3.2");
        crate::alt::read_text_events(wh, &cfg.data.symbols, version).await?
    } else {
        Default::default()
    };
    let earnings = if set.earnings {
        crate::earnings::read_earnings_events(wh, &cfg.data.symbols).await?
    } else {
        Default::default()
    };
    let insider = if set.insider {
        crate::insider::read_insider_events(wh, &cfg.data.symbols).await?
    } else {
        Default::default()
    };
    Ok(elite_pipelines::features::SymbolEvents {
        text,
        earnings,
        insider,
    })
}

/// The dataset of `series` under `cfg`'s feature set.
pub fn build_dataset(cfg: &TrainConfig, series: &[Series]) -> Result<Dataset> {
    build_dataset_with_text(cfg, series, &Default::default())
}

/// [`build_dataset`] with each symbol's scored text items (sets with sentiment features).
pub fn build_dataset_with_text(
    cfg: &TrainConfig,
    series: &[Series],
    text: &std::collections::HashMap<String, Vec<elite_pipelines::sentiment::TextEvent>>,
) -> Result<Dataset> {
    let events = elite_pipelines::features::SymbolEvents {
        text: text.clone(),
        ..Default::default()
    };
    build_dataset_with_events(cfg, series, &events)
}

/// [`build_dataset`] with each symbol's alternative-data records.
pub fn build_dataset_with_events(
    cfg: &TrainConfig,
    series: &[Series],
    events: &elite_pipelines::features::SymbolEvents,
) -> Result<Dataset> {
    let set = FeatureSet::by_name(&cfg.features.set)?;
    let select = (!cfg.features.select.is_empty()).then_some(cfg.features.select.as_slice());
    Ok(Dataset::build_with_events(
        &set,
        select,
        series,
        cfg.features.horizon,
        events,
    )?)
}

/// Split `ds` as `cfg.validation` says, for the longest history any of its models reads.
pub fn plan(cfg: &TrainConfig, ds: &Dataset) -> Result<Plan> {
    let seq = cfg
        .models
        .iter()
        .map(|m| learner(m).map(|l| l.seq_len()))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .max()
        .unwrap_or(1);
    Ok(walkforward::plan(ds, &cfg.validation, seq)?)
}

/// One model's out-of-sample predictions over the plan's test rows, and the seconds it took.
pub fn evaluate(ds: &Dataset, plan: &Plan, m: &ModelConfig) -> Result<(Vec<f64>, f64)> {
    Ok(walkforward::evaluate(ds, plan, learner(m)?.as_ref())?)
}

/// Walk-forward evaluation of every model, ensemble and buy-and-hold over the same test rows.
pub fn walk_forward(
    cfg: &TrainConfig,
    ds: &Dataset,
    version: Option<u64>,
) -> Result<WalkForwardReport> {
    let p = plan(cfg, ds)?;
    let base = cfg
        .models
        .iter()
        .map(|m| evaluate(ds, &p, m))
        .collect::<Result<Vec<_>>>()?;
    assemble(cfg, ds, version, &p, base)
}

/// The walk-forward report from the base models' predictions (`base[k]` for `cfg.models[k]`):
/// their scores, the ensembles' and buy-and-hold's.
pub fn assemble(
    cfg: &TrainConfig,
    ds: &Dataset,
    version: Option<u64>,
    plan: &Plan,
    base: Vec<(Vec<f64>, f64)>,
) -> Result<WalkForwardReport> {
    let base = cfg
        .models
        .iter()
        .zip(base)
        .map(|(m, (predictions, seconds))| {
            Ok(Evaluation {
                name: m.name.clone(),
                kind: serde_json::to_value(m.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                task: learner(m)?.task(),
                predictions,
                seconds,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(walkforward::assemble(
        &cfg.name,
        ds,
        &cfg.validation,
        version,
        plan,
        base,
        cfg.ensemble.as_ref(),
    )?)
}

/// A registered model.
#[derive(Clone, Debug, Serialize)]
pub struct Registered {
    pub model_id: String,
    pub name: String,
    pub kind: String,
    pub artifact: String,
    pub artifact_sha256: String,
    pub stage: String,
}

/// What `elite train` did.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub walk_forward: WalkForwardReport,
    /// Models whose walk-forward predictions were already recorded (an interrupted run resumed).
    pub resumed: Vec<String>,
    pub registered: Vec<Registered>,
    pub events: Vec<String>,
    pub rows_added: usize,
}

/// A `models` row.
#[derive(Serialize)]
pub(crate) struct ModelRow {
    pub(crate) model_id: String,
    pub(crate) group: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) task: Task,
    pub(crate) params: String,
    pub(crate) feature_set: String,
    pub(crate) feature_set_version: i32,
    pub(crate) features: String,
    pub(crate) horizon: i32,
    pub(crate) seq_len: i32,
    pub(crate) bars_version: Option<u64>,
    pub(crate) train_rows: i64,
    pub(crate) train_from: i64,
    pub(crate) code_version: String,
    pub(crate) config: String,
    pub(crate) metrics: String,
    pub(crate) importance: String,
    pub(crate) artifact: String,
    pub(crate) artifact_sha256: String,
    pub(crate) ts_event: i64,
    pub(crate) ts_recv: i64,
}

/// A `model_events` row.
#[derive(Serialize)]
pub(crate) struct EventRow<'a> {
    pub(crate) event_id: String,
    pub(crate) group: &'a str,
    pub(crate) model_id: &'a str,
    pub(crate) stage: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) ts_event: i64,
    pub(crate) ts_recv: i64,
}

/// A model's id: config entry + data + features + code.
pub fn model_id(cfg: &TrainConfig, m: &ModelConfig, version: Option<u64>) -> Result<String> {
    let mut h = Sha256::new();
    let j = |v: &dyn erased::Ser| v.json();
    h.update(j(m).as_bytes());
    h.update(j(&cfg.features).as_bytes());
    h.update(j(&cfg.data).as_bytes());
    h.update(format!("|bars@{version:?}|{}", code_version()).as_bytes());
    Ok(format!("{}-{}", m.name, hex::encode(&h.finalize()[..6])))
}

pub(crate) mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// Train, evaluate, register and record.
pub async fn train(wh: &Warehouse, cfg: &TrainConfig, clock: &dyn Clock) -> Result<TrainReport> {
    let (ds, version) = load_dataset(wh, cfg).await?;
    let now = us(clock.now().as_nanos());
    let meta = || {
        CommitMeta::new(format!("train:{}", cfg.name))
            .with("bars_version", version.map_or(-1, |v| v as i64))
    };
    let mut added = 0usize;

    // Walk-forward, one model at a time; each model's predictions land as soon as they exist,
    // so an interrupted run resumes where it stopped (a model whose predictions are recorded
    // is not evaluated again).
    let p = plan(cfg, &ds)?;
    let mut base = vec![];
    let mut resumed = vec![];
    for m in &cfg.models {
        let id = model_id(cfg, m, version)?;
        if let Some(pred) = recorded_predictions(wh, &id, "walk_forward", &ds, &p.test).await? {
            resumed.push(m.name.clone());
            base.push((pred, 0.0));
            continue;
        }
        let (pred, secs) = evaluate(&ds, &p, m)?;
        let rows = prediction_rows(
            &id,
            "walk_forward",
            &ds,
            &p.test,
            &pred,
            None,
            Some(&p.fold_of),
        );
        added += crate::run::journal::insert(wh, &tables::PREDICTIONS, &rows, meta()).await?;
        base.push((pred, secs));
    }
    let wf = assemble(cfg, &ds, version, &p, base)?;

    // Final models on every labelled row, registered with their walk-forward scores.
    let seq = cfg
        .models
        .iter()
        .map(|m| learner(m).map(|l| l.seq_len()))
        .collect::<Result<Vec<_>>>()?;
    let all = ds.usable(seq.iter().copied().max().unwrap_or(1));
    let train_from = all.iter().map(|&i| ds.rows[i].ts_event).min().unwrap_or(0);
    let train_to = all.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0);
    let mut rows = vec![];
    let mut registered = vec![];
    for m in &cfg.models {
        let id = model_id(cfg, m, version)?;
        if let Some(row) = registry_row(wh, &id).await? {
            // Registered by an earlier (possibly interrupted) run from the same versions.
            registered.push(Registered {
                model_id: id,
                name: m.name.clone(),
                kind: row.kind,
                artifact: row.artifact,
                artifact_sha256: row.artifact_sha256,
                stage: "candidate".into(),
            });
            continue;
        }
        let l = learner(m)?;
        let fitted = l.fit(&ds, &all)?;
        let bytes = fitted.save()?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let artifact = wh
            .put_artifact(&format!("models/{id}/model.bin"), bytes)
            .await?;
        if let Some(onnx) = fitted.onnx() {
            wh.put_artifact(&format!("models/{id}/model.onnx"), onnx)
                .await?;
        }
        let scores = &wf
            .rows_table
            .iter()
            .find(|r| r.name == m.name)
            .map(|r| r.scores.clone())
            .unwrap_or_default();
        rows.push(ModelRow {
            model_id: id.clone(),
            group: cfg.name.clone(),
            name: m.name.clone(),
            kind: fitted.kind().to_string(),
            task: l.task(),
            params: l.params().to_string(),
            feature_set: ds.feature_set.clone(),
            feature_set_version: ds.feature_set_version,
            features: serde_json::to_string(&ds.features)?,
            horizon: ds.horizon as i32,
            seq_len: l.seq_len() as i32,
            bars_version: version,
            train_rows: all.len() as i64,
            train_from: us(train_from),
            code_version: code_version(),
            config: serde_json::to_string(cfg)?,
            metrics: serde_json::to_string(scores)?,
            importance: serde_json::to_string(&fitted.importance())?,
            artifact: artifact.clone(),
            artifact_sha256: sha.clone(),
            ts_event: us(train_to),
            ts_recv: now,
        });
        // The artifact is in place: the registry row makes the model visible.
        added += crate::run::journal::insert(wh, &tables::MODELS, &rows, meta()).await?;
        rows.clear();
        registered.push(Registered {
            model_id: id,
            name: m.name.clone(),
            kind: fitted.kind().to_string(),
            artifact,
            artifact_sha256: sha,
            stage: "candidate".into(),
        });
    }

    // Promotion. When a production model exists, every score is taken on the same rows: this
    // run's test rows that the production model also predicted out-of-sample (its own
    // walk-forward, then what it served after its training data), so a new period is never
    // compared with an old one.
    let metric = cfg.registry.metric;
    let current = current_production(wh, &cfg.name).await?;
    let same = match &current {
        Some((id, _)) => same_rows(wh, id, &ds, &wf.test).await?,
        None => None,
    };
    let (cost, ppy) = (cfg.validation.cost_bps, cfg.validation.periods_per_year);
    let subset_score = |pred: &[f64], task: Task, ks: &[usize]| {
        let rows: Vec<usize> = ks.iter().map(|&k| wf.test[k]).collect();
        let p: Vec<f64> = ks.iter().map(|&k| pred[k]).collect();
        validate::score(&ds, &rows, &p, task, cost, ppy)
            .ok()
            .map(|s| metric.of(&s))
            .filter(|v| v.is_finite())
    };
    let score_of = |name: &str| match &same {
        Some((ks, _)) => {
            let task = cfg
                .models
                .iter()
                .find(|m| m.name == name)
                .and_then(|m| learner(m).ok())
                .map_or(Task::Classification, |l| l.task());
            wf.predictions
                .get(name)
                .and_then(|p| subset_score(p, task, ks))
        }
        None => wf
            .rows_table
            .iter()
            .find(|r| r.name == name)
            .map(|r| metric.of(&r.scores))
            .filter(|v| v.is_finite()),
    };
    let baseline = cfg
        .models
        .iter()
        .find(|m| m.kind == Kind::Logistic)
        .and_then(|m| score_of(&m.name));
    let current = match (current, &same) {
        (Some((id, _)), Some((ks, prod))) => {
            let regression = registry_row(wh, &id)
                .await?
                .and_then(|r| r.task)
                .is_some_and(|t| t.eq_ignore_ascii_case("regression"));
            let task = if regression {
                Task::Regression
            } else {
                Task::Classification
            };
            let s = subset_score(prod, task, ks).unwrap_or(f64::NEG_INFINITY);
            Some((id, s))
        }
        (current, _) => current,
    };
    let on_rows = same.as_ref().map_or(String::new(), |(ks, _)| {
        format!(
            " (on the {} test rows both predicted out-of-sample)",
            ks.len()
        )
    });
    let mut ranked: Vec<(f64, usize)> = registered
        .iter()
        .enumerate()
        .filter_map(|(k, r)| score_of(&r.name).map(|s| (s, k)))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut events: Vec<(String, String, String)> = registered
        .iter()
        .map(|r| {
            (
                r.model_id.clone(),
                "candidate".to_string(),
                "trained and validated walk-forward".to_string(),
            )
        })
        .collect();
    if let Some(&(best, k)) = ranked.first() {
        let cur_score = current.as_ref().map(|(_, s)| *s);
        let beats_current = cur_score.is_none_or(|c| best > c + cfg.registry.min_gain);
        let beats_baseline = baseline.is_none_or(|b| best >= b);
        let is_current = current
            .as_ref()
            .is_some_and(|(id, _)| *id == registered[k].model_id);
        if !is_current && beats_current && beats_baseline {
            let reason = format!(
                "{metric:?} {best:.4} vs production {} (min gain {}) and logistic baseline {}{on_rows}",
                cur_score.map_or("none".into(), |c| format!("{c:.4}")),
                cfg.registry.min_gain,
                baseline.map_or("none".into(), |b| format!("{b:.4}"))
            );
            if let Some((old, _)) = &current {
                events.push((
                    old.clone(),
                    "retired".into(),
                    format!("replaced by {}", registered[k].model_id),
                ));
            }
            events.push((registered[k].model_id.clone(), "production".into(), reason));
            registered[k].stage = "production".into();
            if let Some(&(second, k2)) = ranked.get(1) {
                events.push((
                    registered[k2].model_id.clone(),
                    "shadow".into(),
                    format!(
                        "runner-up {metric:?} {second:.4}: served beside production for comparison"
                    ),
                ));
                registered[k2].stage = "shadow".into();
            }
        } else if !is_current {
            let reason = format!(
                "not promoted: best {metric:?} {best:.4} vs production {} + {} and baseline {}{on_rows}",
                cur_score.map_or("none".into(), |c| format!("{c:.4}")),
                cfg.registry.min_gain,
                baseline.map_or("none".into(), |b| format!("{b:.4}"))
            );
            events.push((registered[k].model_id.clone(), "candidate".into(), reason));
        }
    }
    let event_rows: Vec<EventRow<'_>> = events
        .iter()
        .map(|(id, stage, reason)| EventRow {
            event_id: hex::encode(
                &Sha256::digest(format!("{id}|{stage}|{reason}").as_bytes())[..8],
            ),
            group: &cfg.name,
            model_id: id,
            stage,
            reason,
            ts_event: us(train_to),
            ts_recv: now,
        })
        .collect();
    added += crate::run::journal::insert(wh, &tables::MODEL_EVENTS, &event_rows, meta()).await?;

    // The ensembles' out-of-sample predictions (the base models' landed above).
    let ids: Vec<String> = registered.iter().map(|r| r.model_id.clone()).collect();
    let mut preds = vec![];
    for (name, pr) in wf
        .predictions
        .iter()
        .filter(|(n, _)| n.starts_with("ensemble:"))
    {
        let id = ensemble_id(name, &ids);
        preds.extend(prediction_rows(
            &id,
            "walk_forward",
            &ds,
            &wf.test,
            pr,
            wf.confidence.get(name).map(|c| c.as_slice()),
            Some(&wf.fold_of),
        ));
    }
    added += crate::run::journal::insert(wh, &tables::PREDICTIONS, &preds, meta()).await?;
    Ok(TrainReport {
        walk_forward: wf,
        resumed,
        registered,
        events: events
            .iter()
            .map(|(id, s, r)| format!("{id} → {s}: {r}"))
            .collect(),
        rows_added: added,
    })
}

/// The model id of ensemble `name` (`ensemble:<method>`) over the registered base models `ids`
/// (in the order training registered them): its predictions are recorded under it.
pub(crate) fn ensemble_id(name: &str, ids: &[String]) -> String {
    let h = hex::encode(&Sha256::digest(format!("{name}|{}", ids.join(",")).as_bytes())[..6]);
    format!("{name}-{h}")
}
