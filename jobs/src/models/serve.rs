//! Serving registered models: `elite predict` over every bar after a model's training data
//! ([`serve`]), and the same models bar by bar inside the signal runner ([`LivePredictors`]).

use std::collections::BTreeMap;

use elite_models::data::LiveSeries;
use elite_models::model::{Model, Task};
use elite_pipelines::features::FeatureSet;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Timeframe, tables};
use serde::Serialize;

use super::config::TrainConfig;
use super::predictions::{PredictionRow, prediction_rows};
use super::registry::{latest_stages, load_registered, parse_ts};
use super::train::load_dataset;
use crate::{Error, Result};

/// What serving one registered model did.
#[derive(Clone, Debug, Serialize)]
pub struct Served {
    pub model_id: String,
    pub name: String,
    pub stage: String,
    /// What ran it: `onnxruntime` (deep models, from their exported graph) or `native`.
    pub runtime: String,
    /// Rows after the model's training data that it predicted.
    pub rows: usize,
    /// Of them, rows whose labels are known: the live out-of-sample record.
    pub labelled: usize,
    pub accuracy: f64,
    pub auc: f64,
    pub log_loss: f64,
    /// The newest prediction per symbol: (symbol, bar start, score).
    pub latest: Vec<(String, String, f64)>,
}

/// Serve a group's production and shadow models on every bar after their training data (the
/// newest bars included), write the predictions (`source` = stage), and score each on the rows
/// whose labels are known: the A/B record of production vs shadow.
pub async fn serve(wh: &Warehouse, group: &str) -> Result<(Vec<Served>, usize)> {
    let Some(stages) = latest_stages(wh, group).await? else {
        return Err(Error::Config(format!(
            "no registered models in group {group:?}"
        )));
    };
    let mut out = vec![];
    let mut added = 0;
    for (id, stage) in stages
        .into_iter()
        .filter(|(_, s)| s == "production" || s == "shadow")
    {
        let (row, model) = load_registered(wh, &id).await?;
        let mut cfg: TrainConfig = serde_json::from_str(&row.config)
            .map_err(|e| Error::from(e).context(format!("config of {id}")))?;
        cfg.data.version = None;
        let (ds, _) = load_dataset(wh, &cfg).await?;
        let trained_to = parse_ts(&row.ts_event).unwrap_or(i64::MAX);
        let rows: Vec<usize> = (0..ds.rows.len())
            .filter(|&i| {
                ds.rows[i].ts_event > trained_to && ds.window(i, model.seq_len()).is_some()
            })
            .collect();
        let pred = model.predict(&ds, &rows)?;
        let recs = prediction_rows(&id, &stage, &ds, &rows, &pred, None, None);
        added += crate::run::journal::insert(
            wh,
            &tables::PREDICTIONS,
            &recs,
            CommitMeta::new(format!("serve:{group}")),
        )
        .await?;
        let known: Vec<usize> = (0..rows.len())
            .filter(|&k| ds.rows[rows[k]].label.is_some())
            .collect();
        let up: Vec<bool> = known
            .iter()
            .filter_map(|&k| ds.rows[rows[k]].label.map(|l| l.up))
            .collect();
        let p: Vec<f64> = known.iter().map(|&k| pred[k]).collect();
        let th = model.task().threshold();
        let mut latest: BTreeMap<String, (i64, f64)> = BTreeMap::new();
        for (k, &i) in rows.iter().enumerate() {
            let r = ds.rows[i];
            latest.insert(ds.symbols[r.series as usize].clone(), (r.ts_event, pred[k]));
        }
        out.push(Served {
            model_id: id.clone(),
            name: row.name.clone(),
            stage,
            runtime: if model.kind() == "onnx" {
                "onnxruntime".into()
            } else {
                "native".into()
            },
            rows: rows.len(),
            labelled: known.len(),
            accuracy: elite_models::metrics::accuracy(&p, &up, th),
            auc: elite_models::metrics::auc(&p, &up),
            log_loss: if model.task() == Task::Classification {
                elite_models::metrics::log_loss(&p, &up)
            } else {
                f64::NAN
            },
            latest: latest
                .into_iter()
                .map(|(s, (t, v))| (s, elite_warehouse::Timestamp::from_nanos(t).to_string(), v))
                .collect(),
        });
    }
    Ok((out, added))
}

/// The production and shadow models of model groups, served bar by bar: the streaming side of
/// [`serve`], run by the signal runner. Each model keeps a [`LiveSeries`] per symbol (the same
/// feature engine and row rule as training) and predicts every bar after its training data
/// through the same `Model::predict` (deep models through ONNX Runtime), so its rows are the
/// rows `elite predict` writes (same key: model, source = stage, symbol, bar).
pub struct LivePredictors {
    models: Vec<LiveModel>,
}

struct LiveModel {
    id: String,
    stage: String,
    model: Box<dyn Model>,
    set: FeatureSet,
    cfg: TrainConfig,
    timeframe: Timeframe,
    trained_to: i64,
    live: BTreeMap<String, LiveSeries>,
    /// Scored text, earnings and insider records per symbol, known when the models were loaded
    /// (the sets with those features only).
    events: elite_pipelines::features::SymbolEvents,
}

impl LivePredictors {
    /// Load every group's production and shadow models from the registry.
    pub async fn load(wh: &Warehouse, groups: &[String]) -> Result<Self> {
        let mut models = vec![];
        for group in groups {
            let Some(stages) = latest_stages(wh, group).await? else {
                return Err(Error::Config(format!(
                    "no registered models in group {group:?}"
                )));
            };
            for (id, stage) in stages
                .into_iter()
                .filter(|(_, s)| s == "production" || s == "shadow")
            {
                let (row, model) = load_registered(wh, &id).await?;
                let cfg: TrainConfig = serde_json::from_str(&row.config)
                    .map_err(|e| Error::from(e).context(format!("config of {id}")))?;
                let set = FeatureSet::by_name(&cfg.features.set)?;
                let events = super::train::read_events(wh, &cfg, &set).await?;
                models.push(LiveModel {
                    events,
                    id,
                    stage,
                    model,
                    set,
                    timeframe: Timeframe::parse(&cfg.data.timeframe)?,
                    cfg,
                    trained_to: parse_ts(&row.ts_event).unwrap_or(i64::MAX),
                    live: BTreeMap::new(),
                });
            }
        }
        Ok(Self { models })
    }

    /// How many models are served.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Feed one bar to every model that reads its symbol and timeframe; when `emit`, append the
    /// predictions it makes (bars after each model's training data) to `out`.
    pub fn on_bar(
        &mut self,
        b: &crate::bars::BarEvent,
        emit: bool,
        out: &mut Vec<PredictionRow>,
    ) -> Result<()> {
        for m in &mut self.models {
            if b.timeframe != m.timeframe
                || !(m.cfg.data.symbols.is_empty()
                    || m.cfg
                        .data
                        .symbols
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(&b.symbol)))
            {
                continue;
            }
            let live = match m.live.entry(b.symbol.to_string()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let select = (!m.cfg.features.select.is_empty())
                        .then_some(m.cfg.features.select.as_slice());
                    let mut live = LiveSeries::new(
                        &m.set,
                        select,
                        &b.symbol,
                        m.model.seq_len(),
                        m.cfg.features.horizon,
                    )?;
                    live.set_events(&m.events);
                    e.insert(live)
                }
            };
            let Some(ds) = live.push(&b.timed()) else {
                continue;
            };
            let last = ds.rows.len() - 1;
            if !emit
                || ds.rows[last].ts_event <= m.trained_to
                || ds.window(last, m.model.seq_len()).is_none()
            {
                continue;
            }
            let pred = m.model.predict(&ds, &[last])?;
            out.extend(prediction_rows(
                &m.id,
                &m.stage,
                &ds,
                &[last],
                &pred,
                None,
                None,
            ));
        }
        Ok(())
    }
}
