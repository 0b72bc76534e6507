//! `elite train`: build a dataset from `bars` at one version through a feature set, evaluate
//! every configured model and ensemble walk-forward (every number out-of-sample), register the
//! models trained on all labelled data in `models` (artifacts on the object store), record
//! stage changes in `model_events` by the promotion rule, and write the out-of-sample
//! predictions to `predictions`.
//!
//! Model ids hash the model's config, the data version, the feature set version and the code
//! version: training twice from the same recorded versions gives the same ids and artifacts
//! (tested) and lands nothing new.

use std::collections::BTreeMap;
use std::time::Instant;

use elite_lgbm::{LgbmLearner, LgbmModel, LgbmParams};
use elite_models::data::{Dataset, Series};
use elite_models::ensemble::{self, Method};
use elite_models::linear::{Logistic, LogisticLearner, LogisticParams, OnlineLearner};
use elite_models::lstm::{Lstm, LstmLearner, LstmParams};
use elite_models::model::{Learner, Model, Task};
use elite_models::validate::{self, Fold, Scores, WalkForward, Window};
use elite_pipelines::features::FeatureSet;
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::{Clock, Symbol, Timeframe, tables};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backtest::code_version;
use crate::bars::{BarQuery, read_bars};
use crate::{Error, Result};

/// A training run as its TOML file describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The model group: promotion compares models within it.
    pub name: String,
    pub data: TrainData,
    pub features: FeatureConfig,
    pub validation: Validation,
    #[serde(rename = "model")]
    pub models: Vec<ModelConfig>,
    #[serde(default)]
    pub ensemble: Option<EnsembleConfig>,
    #[serde(default)]
    pub registry: RegistryConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainData {
    pub timeframe: String,
    #[serde(default)]
    pub symbols: Vec<String>,
    /// `bars` table version (latest when absent; the version used is recorded).
    #[serde(default)]
    pub version: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// A built-in feature set (`technical`, `alpha158`).
    pub set: String,
    /// A subset of the set's features, in this order (all when empty).
    #[serde(default)]
    pub select: Vec<String>,
    /// Label horizon in bars.
    #[serde(default = "one")]
    pub horizon: usize,
}

fn one() -> usize {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    #[serde(default = "expanding")]
    pub window: Window,
    /// Dates before the first test block (and the rolling window).
    pub train: usize,
    /// Dates per test block.
    pub test: usize,
    /// Trading cost per unit of position change (bps) for the P&L columns.
    #[serde(default = "five")]
    pub cost_bps: f64,
    #[serde(default = "d_ppy")]
    pub periods_per_year: f64,
}

fn expanding() -> Window {
    Window::Expanding
}
fn five() -> f64 {
    5.0
}
fn d_ppy() -> f64 {
    252.0
}

/// One model: a family and its parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub params: toml::Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Logistic,
    OnlineLogistic,
    Lightgbm,
    Lstm,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleConfig {
    /// Member model names (classification models).
    pub members: Vec<String>,
    #[serde(default = "all_methods")]
    pub methods: Vec<Method>,
    #[serde(default)]
    pub params: ensemble::Params,
}

fn all_methods() -> Vec<Method> {
    Method::ALL.to_vec()
}

/// Which walk-forward number decides promotion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Auc,
    Ic,
    RankIc,
    LongShortSharpe,
    LongFlatSharpe,
}

impl Metric {
    pub fn of(self, s: &Scores) -> f64 {
        match self {
            Metric::Auc => s.auc,
            Metric::Ic => s.ic,
            Metric::RankIc => s.rank_ic,
            Metric::LongShortSharpe => s.long_short.sharpe,
            Metric::LongFlatSharpe => s.long_flat.sharpe,
        }
    }
}

/// The promotion rule: the best model of a run by `metric` becomes production if it beats the
/// current production model by more than `min_gain` and the logistic baseline of the same run;
/// the runner-up becomes shadow.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    #[serde(default = "d_metric")]
    pub metric: Metric,
    #[serde(default)]
    pub min_gain: f64,
}

fn d_metric() -> Metric {
    Metric::Auc
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            metric: d_metric(),
            min_gain: 0.0,
        }
    }
}

impl TrainConfig {
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: TrainConfig =
            toml::from_str(text).map_err(|e| Error::Config(format!("train config: {e}")))?;
        if c.models.is_empty() {
            return Err(Error::Config("train config: no [[model]]".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for m in &c.models {
            if !seen.insert(m.name.as_str()) {
                return Err(Error::Config(format!(
                    "train config: model name {:?} twice",
                    m.name
                )));
            }
            learner(m)?;
        }
        if let Some(e) = &c.ensemble {
            for n in &e.members {
                let m = c.models.iter().find(|m| &m.name == n).ok_or_else(|| {
                    Error::Config(format!(
                        "train config: ensemble member {n:?} is not a [[model]]"
                    ))
                })?;
                if learner(m)?.task() != Task::Classification {
                    return Err(Error::Config(format!(
                        "train config: ensemble member {n:?} is a regression model; ensembles combine P(up)"
                    )));
                }
            }
        }
        Ok(c)
    }
}

fn params<T: serde::de::DeserializeOwned>(m: &ModelConfig) -> Result<T> {
    m.params
        .clone()
        .try_into()
        .map_err(|e| Error::Config(format!("model {:?} params: {e}", m.name)))
}

/// The learner a model config describes.
pub fn learner(m: &ModelConfig) -> Result<Box<dyn Learner>> {
    let name = m.name.clone();
    Ok(match m.kind {
        Kind::Logistic => Box::new(LogisticLearner {
            name,
            params: params::<LogisticParams>(m)?,
        }),
        Kind::OnlineLogistic => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                #[serde(default = "d_l2")]
                l2: f64,
                #[serde(default = "d_rate")]
                rate: f64,
            }
            fn d_l2() -> f64 {
                1.0
            }
            fn d_rate() -> f64 {
                0.01
            }
            let p: P = params(m)?;
            Box::new(OnlineLearner {
                name,
                params: LogisticParams {
                    l2: p.l2,
                    max_iter: 50,
                },
                rate: p.rate,
            })
        }
        Kind::Lightgbm => Box::new(LgbmLearner {
            name,
            params: params::<LgbmParams>(m)?,
        }),
        Kind::Lstm => Box::new(LstmLearner {
            name,
            params: params::<LstmParams>(m)?,
        }),
    })
}

/// Load a registered model's artifact.
pub fn load_model(kind: &str, bytes: &[u8]) -> Result<Box<dyn Model>> {
    let m: Box<dyn Model> = match kind {
        "logistic" | "online_logistic" => Box::new(Logistic::load(bytes).map_err(internal)?),
        "lightgbm" => Box::new(LgbmModel::load(bytes).map_err(internal)?),
        "lstm" => Box::new(Lstm::load(bytes).map_err(internal)?),
        "onnx" => Box::new(elite_onnx::OnnxModel::from_elite(bytes).map_err(internal)?),
        other => return Err(Error::Config(format!("unknown model kind {other:?}"))),
    };
    Ok(m)
}

fn internal(e: elite_models::Error) -> Error {
    Error::Internal(e.to_string())
}

fn model_err(e: elite_models::Error) -> Error {
    match e {
        elite_models::Error::Input { .. } | elite_models::Error::Contract(_) => {
            Error::Config(e.to_string())
        }
        other => Error::Internal(other.to_string()),
    }
}

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
    Ok((build_dataset(cfg, &series)?, version))
}

/// The dataset of `series` under `cfg`'s feature set.
pub fn build_dataset(cfg: &TrainConfig, series: &[Series]) -> Result<Dataset> {
    let set = FeatureSet::by_name(&cfg.features.set).map_err(|e| Error::Config(e.to_string()))?;
    let select = (!cfg.features.select.is_empty()).then_some(cfg.features.select.as_slice());
    Dataset::build(&set, select, series, cfg.features.horizon).map_err(model_err)
}

/// One row of the walk-forward table.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluated {
    /// Model name, `ensemble:<method>` or `buy_and_hold`.
    pub name: String,
    pub kind: String,
    pub scores: Scores,
    /// Seconds spent fitting and predicting across all folds.
    pub seconds: f64,
}

/// The out-of-sample evaluation of a config.
#[derive(Clone, Debug, Serialize)]
pub struct WalkForwardReport {
    pub group: String,
    pub bars_version: Option<u64>,
    pub symbols: usize,
    pub rows: usize,
    pub folds: usize,
    pub test_rows: usize,
    pub test_from: i64,
    pub test_to: i64,
    pub rows_table: Vec<Evaluated>,
    /// Out-of-sample predictions, aligned with `test`.
    #[serde(skip)]
    pub predictions: BTreeMap<String, Vec<f64>>,
    #[serde(skip)]
    pub confidence: BTreeMap<String, Vec<f64>>,
    #[serde(skip)]
    pub test: Vec<usize>,
    #[serde(skip)]
    pub fold_of: Vec<usize>,
}

/// Walk-forward evaluation of every model, ensemble and buy-and-hold over the same test rows.
pub fn walk_forward(
    cfg: &TrainConfig,
    ds: &Dataset,
    version: Option<u64>,
) -> Result<WalkForwardReport> {
    let learners: Vec<Box<dyn Learner>> = cfg.models.iter().map(learner).collect::<Result<_>>()?;
    let seq = learners.iter().map(|l| l.seq_len()).max().unwrap_or(1);
    let rows = ds.usable(seq);
    let wf = WalkForward {
        window: cfg.validation.window,
        train: cfg.validation.train,
        test: cfg.validation.test,
    };
    let folds: Vec<Fold> = validate::walk_forward(ds, &rows, &wf).map_err(model_err)?;
    let test: Vec<usize> = folds.iter().flat_map(|f| f.test.iter().copied()).collect();
    let fold_of: Vec<usize> = folds
        .iter()
        .enumerate()
        .flat_map(|(k, f)| std::iter::repeat_n(k, f.test.len()))
        .collect();
    let (cost, ppy) = (cfg.validation.cost_bps, cfg.validation.periods_per_year);
    let mut report = WalkForwardReport {
        group: cfg.name.clone(),
        bars_version: version,
        symbols: ds.symbols.len(),
        rows: rows.len(),
        folds: folds.len(),
        test_rows: test.len(),
        test_from: test.iter().map(|&i| ds.rows[i].ts_event).min().unwrap_or(0),
        test_to: test.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0),
        rows_table: vec![],
        predictions: BTreeMap::new(),
        confidence: BTreeMap::new(),
        test: test.clone(),
        fold_of,
    };
    for (l, m) in learners.iter().zip(&cfg.models) {
        let t0 = Instant::now();
        let pred = validate::predict_folds(ds, &folds, l.as_ref()).map_err(model_err)?;
        let seconds = t0.elapsed().as_secs_f64();
        let scores = validate::score(ds, &test, &pred, l.task(), cost, ppy).map_err(model_err)?;
        report.rows_table.push(Evaluated {
            name: m.name.clone(),
            kind: serde_json::to_value(m.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            scores,
            seconds,
        });
        report.predictions.insert(m.name.clone(), pred);
    }
    if let Some(e) = &cfg.ensemble {
        let members: Vec<Vec<f64>> = e
            .members
            .iter()
            .map(|n| report.predictions[n].clone())
            .collect();
        for &method in &e.methods {
            let t0 = Instant::now();
            let c = ensemble::combine(method, ds, &test, &members, &e.params).map_err(model_err)?;
            let seconds = t0.elapsed().as_secs_f64();
            let mut scores = validate::score(ds, &test, &c.prob, Task::Classification, cost, ppy)
                .map_err(model_err)?;
            if method == Method::Vote {
                // A vote share is not a calibrated probability: no log-loss.
                scores.log_loss = None;
            }
            let name = format!("ensemble:{}", method.name());
            report.rows_table.push(Evaluated {
                name: name.clone(),
                kind: "ensemble".into(),
                scores,
                seconds,
            });
            report.predictions.insert(name.clone(), c.prob);
            report.confidence.insert(name, c.confidence);
        }
    }
    let hold = validate::buy_and_hold(ds, &test, cost, ppy);
    report.rows_table.push(Evaluated {
        name: "buy_and_hold".into(),
        kind: "baseline".into(),
        scores: Scores {
            rows: test.len(),
            accuracy: f64::NAN,
            auc: f64::NAN,
            log_loss: None,
            ic: f64::NAN,
            rank_ic: f64::NAN,
            long_short: hold,
            long_flat: hold,
        },
        seconds: 0.0,
    });
    Ok(report)
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
    pub registered: Vec<Registered>,
    pub events: Vec<String>,
    pub rows_added: usize,
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

mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

fn us(ns: i64) -> i64 {
    ns.div_euclid(1000)
}

/// Train, evaluate, register and record.
pub async fn train(wh: &Warehouse, cfg: &TrainConfig, clock: &dyn Clock) -> Result<TrainReport> {
    let (ds, version) = load_dataset(wh, cfg).await?;
    let wf = walk_forward(cfg, &ds, version)?;
    let now = us(clock.now().as_nanos());
    let meta = || {
        CommitMeta::new(format!("train:{}", cfg.name))
            .with("bars_version", version.map_or(-1, |v| v as i64))
    };
    let mut added = 0usize;

    // Final models on every labelled row, registered with their walk-forward scores.
    let seq = cfg
        .models
        .iter()
        .map(|m| learner(m).map(|l| l.seq_len()))
        .collect::<Result<Vec<_>>>()?;
    let all = ds.usable(seq.iter().copied().max().unwrap_or(1));
    let train_from = all.iter().map(|&i| ds.rows[i].ts_event).min().unwrap_or(0);
    let train_to = all.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0);
    #[derive(Serialize)]
    struct ModelRow {
        model_id: String,
        group: String,
        name: String,
        kind: String,
        task: Task,
        params: String,
        feature_set: String,
        feature_set_version: i32,
        features: String,
        horizon: i32,
        seq_len: i32,
        bars_version: Option<u64>,
        train_rows: i64,
        train_from: i64,
        code_version: String,
        config: String,
        metrics: String,
        importance: String,
        artifact: String,
        artifact_sha256: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let mut rows = vec![];
    let mut registered = vec![];
    for m in &cfg.models {
        let l = learner(m)?;
        let fitted = l.fit(&ds, &all).map_err(model_err)?;
        let bytes = fitted.save().map_err(internal)?;
        let id = model_id(cfg, m, version)?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let artifact = wh
            .put_artifact(&format!("models/{id}/model.bin"), bytes)
            .await?;
        if let Some(lstm) = (fitted.kind() == "lstm")
            .then(|| Lstm::load(&fitted.save().unwrap_or_default()))
            .transpose()
            .map_err(internal)?
        {
            wh.put_artifact(&format!("models/{id}/model.onnx"), lstm.to_onnx())
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
            features: serde_json::to_string(&ds.features)
                .map_err(|e| Error::Internal(e.to_string()))?,
            horizon: ds.horizon as i32,
            seq_len: l.seq_len() as i32,
            bars_version: version,
            train_rows: all.len() as i64,
            train_from: us(train_from),
            code_version: code_version(),
            config: serde_json::to_string(cfg).map_err(|e| Error::Internal(e.to_string()))?,
            metrics: serde_json::to_string(scores).map_err(|e| Error::Internal(e.to_string()))?,
            importance: serde_json::to_string(&fitted.importance())
                .map_err(|e| Error::Internal(e.to_string()))?,
            artifact: artifact.clone(),
            artifact_sha256: sha.clone(),
            ts_event: us(train_to),
            ts_recv: now,
        });
        registered.push(Registered {
            model_id: id,
            name: m.name.clone(),
            kind: fitted.kind().to_string(),
            artifact,
            artifact_sha256: sha,
            stage: "candidate".into(),
        });
    }
    added += crate::backtest::insert(wh, &tables::MODELS, &rows, meta()).await?;

    // Promotion.
    let metric = cfg.registry.metric;
    let score_of = |name: &str| {
        wf.rows_table
            .iter()
            .find(|r| r.name == name)
            .map(|r| metric.of(&r.scores))
            .filter(|v| v.is_finite())
    };
    let baseline = cfg
        .models
        .iter()
        .find(|m| m.kind == Kind::Logistic)
        .and_then(|m| score_of(&m.name));
    let current = current_production(wh, &cfg.name).await?;
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
                "{metric:?} {best:.4} vs production {} (min gain {}) and logistic baseline {}",
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
                "not promoted: best {metric:?} {best:.4} vs production {} + {} and baseline {}",
                cur_score.map_or("none".into(), |c| format!("{c:.4}")),
                cfg.registry.min_gain,
                baseline.map_or("none".into(), |b| format!("{b:.4}"))
            );
            events.push((registered[k].model_id.clone(), "candidate".into(), reason));
        }
    }
    #[derive(Serialize)]
    struct EventRow<'a> {
        event_id: String,
        group: &'a str,
        model_id: &'a str,
        stage: &'a str,
        reason: &'a str,
        ts_event: i64,
        ts_recv: i64,
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
    added += crate::backtest::insert(wh, &tables::MODEL_EVENTS, &event_rows, meta()).await?;

    // Out-of-sample predictions.
    #[derive(Serialize)]
    struct PredRow<'a> {
        model_id: &'a str,
        source: &'static str,
        symbol: &'a str,
        ts_event: i64,
        ts_recv: i64,
        score: f64,
        confidence: Option<f64>,
        fold: i32,
    }
    let ids: BTreeMap<String, String> = registered
        .iter()
        .map(|r| (r.name.clone(), r.model_id.clone()))
        .collect();
    let ens_ids: BTreeMap<String, String> = wf
        .predictions
        .keys()
        .filter(|n| n.starts_with("ensemble:"))
        .map(|n| {
            let h = hex::encode(
                &Sha256::digest(
                    format!(
                        "{n}|{}",
                        ids.values().cloned().collect::<Vec<_>>().join(",")
                    )
                    .as_bytes(),
                )[..6],
            );
            (n.clone(), format!("{n}-{h}"))
        })
        .collect();
    let mut preds = vec![];
    for (name, p) in &wf.predictions {
        let Some(id) = ids.get(name).or_else(|| ens_ids.get(name)) else {
            continue;
        };
        let conf = wf.confidence.get(name);
        for (k, &i) in wf.test.iter().enumerate() {
            let r = ds.rows[i];
            preds.push(PredRow {
                model_id: id,
                source: "walk_forward",
                symbol: &ds.symbols[r.series as usize],
                ts_event: us(r.ts_event),
                ts_recv: us(r.ts_recv),
                score: p[k],
                confidence: conf.map(|c| c[k]),
                fold: wf.fold_of[k] as i32,
            });
        }
    }
    added += crate::backtest::insert(wh, &tables::PREDICTIONS, &preds, meta()).await?;
    Ok(TrainReport {
        walk_forward: wf,
        registered,
        events: events
            .iter()
            .map(|(id, s, r)| format!("{id} → {s}: {r}"))
            .collect(),
        rows_added: added,
    })
}

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
    pub kind: String,
    pub config: String,
    pub metrics: String,
    pub artifact: String,
    pub artifact_sha256: String,
    pub features: String,
    pub seq_len: i32,
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
            w.write(b).map_err(|e| Error::Internal(e.to_string()))?;
        }
        w.finish().map_err(|e| Error::Internal(e.to_string()))?;
    }
    if buf.is_empty() {
        return Ok(None);
    }
    let rows: Vec<RegistryRow> =
        serde_json::from_slice(&buf).map_err(|e| Error::Internal(e.to_string()))?;
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
    let m = load_model(&row.kind, &bytes)?;
    Ok((row, m))
}
