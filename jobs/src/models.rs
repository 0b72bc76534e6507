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
use elite_models::cnn_lstm::{CnnLstm, CnnLstmLearner, CnnLstmParams};
use elite_models::data::{Dataset, LiveSeries, Series};
use elite_models::ensemble::{self, Method};
use elite_models::linear::{Logistic, LogisticLearner, LogisticParams, OnlineLearner};
use elite_models::lstm::{Lstm, LstmLearner, LstmParams};
use elite_models::model::{Learner, Model, Task};
use elite_models::transformer::{Transformer, TransformerLearner, TransformerParams};
use elite_models::validate::{self, Fold, Scores, WalkForward, Window};
use elite_pipelines::features::FeatureSet;
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::{Clock, Symbol, Timeframe, tables};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bars::{BarQuery, read_bars};
use crate::run::code_version;
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
    #[serde(default)]
    pub retrain: RetrainConfig,
}

/// When the nightly retrain trains, and what counts as drift.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrainConfig {
    /// Retrain on schedule once this many new dates have arrived since production's training.
    #[serde(default = "d_every")]
    pub every: usize,
    /// PSI of a feature (training rows vs new rows) above which it has drifted.
    #[serde(default = "d_psi")]
    pub psi: f64,
    /// KS p-value below which a feature has drifted.
    #[serde(default = "d_ks")]
    pub ks_p: f64,
    /// ADWIN confidence on the production model's daily log-loss.
    #[serde(default = "d_adwin")]
    pub adwin_delta: f64,
    /// Page-Hinkley threshold (lambda) on the daily log-loss; delta is 0.005.
    #[serde(default = "d_ph")]
    pub page_hinkley: f64,
}

fn d_every() -> usize {
    21
}
fn d_psi() -> f64 {
    0.25
}
fn d_ks() -> f64 {
    1e-3
}
fn d_adwin() -> f64 {
    0.002
}
fn d_ph() -> f64 {
    1.0
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self {
            every: d_every(),
            psi: d_psi(),
            ks_p: d_ks(),
            adwin_delta: d_adwin(),
            page_hinkley: d_ph(),
        }
    }
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
    #[serde(default)]
    pub train: usize,
    /// Dates per test block.
    #[serde(default)]
    pub test: usize,
    /// Purged k-fold instead of walk-forward: `k` contiguous test blocks, each model fitted on
    /// the rows whose label intervals do not overlap the block, minus `embargo` dates after it.
    /// Every prediction is still out-of-sample, but a block's model may have seen later data:
    /// a model-selection estimate, not a tradable backtest.
    #[serde(default)]
    pub kfold: Option<usize>,
    /// Dates dropped from training after each k-fold test block.
    #[serde(default)]
    pub embargo: usize,
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
    Transformer,
    CnnLstm,
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
        Kind::Transformer => Box::new(TransformerLearner {
            name,
            params: params::<TransformerParams>(m)?,
        }),
        Kind::CnnLstm => Box::new(CnnLstmLearner {
            name,
            params: params::<CnnLstmParams>(m)?,
        }),
    })
}

/// Load a registered model's artifact.
pub fn load_model(kind: &str, bytes: &[u8]) -> Result<Box<dyn Model>> {
    let m: Box<dyn Model> = match kind {
        "logistic" | "online_logistic" => Box::new(Logistic::load(bytes).map_err(internal)?),
        "lightgbm" => Box::new(LgbmModel::load(bytes).map_err(internal)?),
        "lstm" => Box::new(Lstm::load(bytes).map_err(internal)?),
        "transformer" => Box::new(Transformer::load(bytes).map_err(internal)?),
        "cnn_lstm" => Box::new(CnnLstm::load(bytes).map_err(internal)?),
        "onnx" => Box::new(elite_onnx::OnnxModel::from_artifact(bytes).map_err(internal)?),
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
    /// How rows were split: `walk-forward (expanding)`, `walk-forward (rolling)` or
    /// `purged 5-fold, embargo 10`.
    pub validation: String,
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

/// The walk-forward splits of a config over a dataset: every model is evaluated on the same
/// test rows (those with a full window for the longest sequence model).
#[derive(Clone, Debug)]
pub struct Plan {
    pub rows: Vec<usize>,
    pub folds: Vec<Fold>,
    pub test: Vec<usize>,
    pub fold_of: Vec<usize>,
}

/// Split `ds` as `cfg.validation` says.
pub fn plan(cfg: &TrainConfig, ds: &Dataset) -> Result<Plan> {
    let seq = cfg
        .models
        .iter()
        .map(|m| learner(m).map(|l| l.seq_len()))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .max()
        .unwrap_or(1);
    let rows = ds.usable(seq);
    let v = &cfg.validation;
    let folds: Vec<Fold> = match v.kfold {
        Some(k) => validate::purged_kfold(ds, &rows, k, v.embargo).map_err(model_err)?,
        None if v.train == 0 || v.test == 0 => {
            return Err(Error::Config(
                "train config: [validation] needs train and test (dates) for walk-forward, or kfold"
                    .into(),
            ));
        }
        None => validate::walk_forward(
            ds,
            &rows,
            &WalkForward {
                window: v.window,
                train: v.train,
                test: v.test,
            },
        )
        .map_err(model_err)?,
    };
    let test: Vec<usize> = folds.iter().flat_map(|f| f.test.iter().copied()).collect();
    let fold_of: Vec<usize> = folds
        .iter()
        .enumerate()
        .flat_map(|(k, f)| std::iter::repeat_n(k, f.test.len()))
        .collect();
    Ok(Plan {
        rows,
        folds,
        test,
        fold_of,
    })
}

/// One model's out-of-sample predictions over the plan's test rows, and the seconds it took.
pub fn evaluate(ds: &Dataset, plan: &Plan, m: &ModelConfig) -> Result<(Vec<f64>, f64)> {
    let l = learner(m)?;
    let t0 = Instant::now();
    let pred = validate::predict_folds(ds, &plan.folds, l.as_ref()).map_err(model_err)?;
    Ok((pred, t0.elapsed().as_secs_f64()))
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
    let test = plan.test.clone();
    let (cost, ppy) = (cfg.validation.cost_bps, cfg.validation.periods_per_year);
    let v = &cfg.validation;
    let mut report = WalkForwardReport {
        group: cfg.name.clone(),
        validation: match v.kfold {
            Some(k) => format!("purged {k}-fold, embargo {}", v.embargo),
            None => format!("walk-forward ({:?})", v.window).to_lowercase(),
        },
        bars_version: version,
        symbols: ds.symbols.len(),
        rows: plan.rows.len(),
        folds: plan.folds.len(),
        test_rows: test.len(),
        test_from: test.iter().map(|&i| ds.rows[i].ts_event).min().unwrap_or(0),
        test_to: test.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0),
        rows_table: vec![],
        predictions: BTreeMap::new(),
        confidence: BTreeMap::new(),
        test: test.clone(),
        fold_of: plan.fold_of.clone(),
    };
    for (m, (pred, seconds)) in cfg.models.iter().zip(base) {
        let task = learner(m)?.task();
        let scores = validate::score(ds, &test, &pred, task, cost, ppy).map_err(model_err)?;
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

pub(crate) fn us(ns: i64) -> i64 {
    ns.div_euclid(1000)
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
        let fitted = l.fit(&ds, &all).map_err(model_err)?;
        let bytes = fitted.save().map_err(internal)?;
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
        let h = hex::encode(&Sha256::digest(format!("{name}|{}", ids.join(",")).as_bytes())[..6]);
        let id = format!("{name}-{h}");
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

/// A `predictions` row.
#[derive(Clone, Debug, Serialize)]
pub struct PredictionRow {
    pub model_id: String,
    pub source: String,
    pub symbol: String,
    pub ts_event: i64,
    pub ts_recv: i64,
    pub score: f64,
    pub confidence: Option<f64>,
    pub fold: Option<i32>,
}

/// Rows of predictions `pred` for dataset rows `rows`.
pub fn prediction_rows(
    model_id: &str,
    source: &str,
    ds: &Dataset,
    rows: &[usize],
    pred: &[f64],
    confidence: Option<&[f64]>,
    fold_of: Option<&[usize]>,
) -> Vec<PredictionRow> {
    rows.iter()
        .enumerate()
        .map(|(k, &i)| {
            let r = ds.rows[i];
            PredictionRow {
                model_id: model_id.to_string(),
                source: source.to_string(),
                symbol: ds.symbols[r.series as usize].clone(),
                ts_event: us(r.ts_event),
                ts_recv: us(r.ts_recv),
                score: pred[k],
                confidence: confidence.map(|c| c[k]),
                fold: fold_of.map(|f| f[k] as i32),
            }
        })
        .collect()
}

/// A model's recorded predictions for exactly `rows`, if every one is recorded.
pub async fn recorded_predictions(
    wh: &Warehouse,
    model_id: &str,
    source: &str,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Option<Vec<f64>>> {
    let got = read_predictions(wh, model_id, source).await?;
    if got.len() < rows.len() {
        return Ok(None);
    }
    Ok(rows
        .iter()
        .map(|&i| {
            let r = ds.rows[i];
            got.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event)))
                .copied()
        })
        .collect())
}

/// The positions in `test` that model `id` predicted out-of-sample (its walk-forward rows, then
/// the rows it served as production or shadow), with its prediction at every position (NaN
/// elsewhere); `None` when fewer than 100 rows overlap.
pub async fn same_rows(
    wh: &Warehouse,
    id: &str,
    ds: &Dataset,
    test: &[usize],
) -> Result<Option<(Vec<usize>, Vec<f64>)>> {
    let mut got = read_predictions(wh, id, "walk_forward").await?;
    for source in ["production", "shadow"] {
        for (k, v) in read_predictions(wh, id, source).await? {
            got.entry(k).or_insert(v);
        }
    }
    let mut ks = vec![];
    let mut pred = vec![f64::NAN; test.len()];
    for (k, &i) in test.iter().enumerate() {
        let r = ds.rows[i];
        if let Some(&v) = got.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event))) {
            ks.push(k);
            pred[k] = v;
        }
    }
    Ok((ks.len() >= 100).then_some((ks, pred)))
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
            .map_err(|e| Error::Internal(format!("serving {model_id} with ONNX Runtime: {e}")))?;
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
            .map_err(|e| Error::Internal(format!("config of {id}: {e}")))?;
        cfg.data.version = None;
        let (ds, _) = load_dataset(wh, &cfg).await?;
        let trained_to = parse_ts(&row.ts_event).unwrap_or(i64::MAX);
        let rows: Vec<usize> = (0..ds.rows.len())
            .filter(|&i| {
                ds.rows[i].ts_event > trained_to && ds.window(i, model.seq_len()).is_some()
            })
            .collect();
        let pred = model.predict(&ds, &rows).map_err(model_err)?;
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
                    .map_err(|e| Error::Internal(format!("config of {id}: {e}")))?;
                let set = FeatureSet::by_name(&cfg.features.set)
                    .map_err(|e| Error::Config(e.to_string()))?;
                models.push(LiveModel {
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
                    e.insert(
                        LiveSeries::new(
                            &m.set,
                            select,
                            &b.symbol,
                            m.model.seq_len(),
                            m.cfg.features.horizon,
                        )
                        .map_err(model_err)?,
                    )
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
            let pred = m.model.predict(&ds, &[last]).map_err(model_err)?;
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

/// Write prediction rows (keyed: re-writing lands nothing).
pub async fn insert_predictions(
    wh: &Warehouse,
    rows: &[PredictionRow],
    meta: CommitMeta,
) -> Result<usize> {
    crate::run::journal::insert(wh, &tables::PREDICTIONS, rows, meta).await
}

/// A drift detection.
#[derive(Clone, Debug, Serialize)]
pub struct Drift {
    pub detector: String,
    pub feature: Option<String>,
    pub value: f64,
    pub threshold: f64,
    /// ns
    pub ts_event: i64,
}

/// Drift of the production model `id`: each feature's distribution on its training rows vs the
/// rows after them (PSI, KS), and its daily log-loss stream — walk-forward predictions up to
/// its training end, then its served predictions — watched by Page-Hinkley and ADWIN; only
/// detections after the training end count.
pub async fn drift(wh: &Warehouse, id: &str, rc: &RetrainConfig) -> Result<Vec<Drift>> {
    use elite_models::drift::{Adwin, PageHinkley, ks_2samp, psi};
    let (row, model) = load_registered(wh, id).await?;
    let mut cfg: TrainConfig = serde_json::from_str(&row.config)
        .map_err(|e| Error::Internal(format!("config of {id}: {e}")))?;
    cfg.data.version = None;
    let (ds, _) = load_dataset(wh, &cfg).await?;
    let trained_to = parse_ts(&row.ts_event).unwrap_or(i64::MAX);
    let (old, new): (Vec<usize>, Vec<usize>) =
        (0..ds.rows.len()).partition(|&i| ds.rows[i].ts_event <= trained_to);
    let mut out = vec![];
    let last_new = new.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0);
    if new.len() >= 30 {
        for (j, f) in ds.features.iter().enumerate() {
            let a: Vec<f64> = old.iter().map(|&i| ds.row_x(i)[j]).collect();
            let b: Vec<f64> = new.iter().map(|&i| ds.row_x(i)[j]).collect();
            let v = psi(&a, &b, 10);
            if v > rc.psi {
                out.push(Drift {
                    detector: "psi".into(),
                    feature: Some(f.clone()),
                    value: v,
                    threshold: rc.psi,
                    ts_event: last_new,
                });
            }
            let (_, pv) = ks_2samp(&a, &b);
            if pv < rc.ks_p {
                out.push(Drift {
                    detector: "ks".into(),
                    feature: Some(f.clone()),
                    value: pv,
                    threshold: rc.ks_p,
                    ts_event: last_new,
                });
            }
        }
    }
    if model.task() == Task::Classification {
        let mut scores = read_predictions(wh, id, "walk_forward").await?;
        for stage in ["production", "shadow"] {
            scores.extend(read_predictions(wh, id, stage).await?);
        }
        let mut daily: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for (i, r) in ds.rows.iter().enumerate() {
            let (Some(l), Some(p)) = (
                r.label,
                scores.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event))),
            ) else {
                continue;
            };
            let _ = i;
            let ll = elite_models::metrics::log_loss(&[*p], &[l.up]);
            let e = daily.entry(r.ts_event).or_insert((0.0, 0.0));
            e.0 += ll;
            e.1 += 1.0;
        }
        let mut ph = PageHinkley::new(0.005, rc.page_hinkley);
        let mut ad = Adwin::new(rc.adwin_delta, 2000);
        for (&t, &(s, n)) in &daily {
            let x = s / n;
            let hit_ph = ph.update(x);
            let hit_ad = ad.update(x);
            if t > trained_to {
                if hit_ph {
                    out.push(Drift {
                        detector: "page_hinkley".into(),
                        feature: None,
                        value: x,
                        threshold: rc.page_hinkley,
                        ts_event: t,
                    });
                }
                if hit_ad {
                    out.push(Drift {
                        detector: "adwin".into(),
                        feature: None,
                        value: ad.mean(),
                        threshold: rc.adwin_delta,
                        ts_event: t,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A model's recorded predictions from one source, by (symbol, ts_event µs).
pub async fn read_predictions(
    wh: &Warehouse,
    model_id: &str,
    source: &str,
) -> Result<std::collections::HashMap<(String, i64), f64>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let filter = col("model_id")
        .eq(lit(model_id))
        .and(col("source").eq(lit(source)));
    let batches = match wh.read("predictions", At::Latest, Some(filter)).await {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => return Ok(Default::default()),
        Err(e) => return Err(e.into()),
    };
    let mut got = std::collections::HashMap::new();
    for b in &batches {
        let (Some(sym), Some(ts), Some(score)) = (
            b.column_by_name("symbol")
                .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok()),
            b.column_by_name("ts_event")
                .and_then(|c| arrow::compute::cast(c, &DataType::Int64).ok()),
            b.column_by_name("score"),
        ) else {
            continue;
        };
        let (sym, ts, score) = (
            sym.as_string::<i32>(),
            ts.as_primitive::<Int64Type>(),
            score.as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            got.insert((sym.value(r).to_string(), ts.value(r)), score.value(r));
        }
    }
    Ok(got)
}

/// What the nightly retrain did.
#[derive(Clone, Debug, Serialize)]
pub struct RetrainReport {
    /// `trained` or `up_to_date`.
    pub action: String,
    pub reason: String,
    pub served: Vec<Served>,
    /// Serving by the models this run promoted.
    pub served_after: Vec<Served>,
    pub drift: Vec<Drift>,
    pub train: Option<TrainReport>,
    pub rows_added: usize,
}

/// The nightly job: serve production and shadow on the new bars (A/B record), test for drift,
/// and train + validate + register + promote when drift was detected, when `every` new dates
/// have arrived, when there is no production model, or when forced. Idempotent and resumable
/// (training is: see [`train`]); a run with nothing new does nothing.
pub async fn retrain(
    wh: &Warehouse,
    cfg: &TrainConfig,
    clock: &dyn Clock,
    force: bool,
) -> Result<RetrainReport> {
    let mut cfg = cfg.clone();
    cfg.data.version = None;
    let mut added = 0;
    let current = current_production(wh, &cfg.name).await?;
    let (served, drift_found, reason) = match &current {
        None => (
            vec![],
            vec![],
            "no production model in the group".to_string(),
        ),
        Some((id, _)) => {
            let (served, n) = serve(wh, &cfg.name).await?;
            added += n;
            let d = drift(wh, id, &cfg.retrain).await?;
            let now = us(clock.now().as_nanos());
            #[derive(Serialize)]
            struct Row<'a> {
                event_id: String,
                group: &'a str,
                model_id: &'a str,
                detector: &'a str,
                feature: Option<&'a str>,
                value: f64,
                threshold: f64,
                ts_event: i64,
                ts_recv: i64,
            }
            let rows: Vec<Row<'_>> = d
                .iter()
                .map(|x| Row {
                    event_id: hex::encode(
                        &Sha256::digest(
                            format!("{id}|{}|{:?}|{}", x.detector, x.feature, x.ts_event)
                                .as_bytes(),
                        )[..8],
                    ),
                    group: &cfg.name,
                    model_id: id,
                    detector: &x.detector,
                    feature: x.feature.as_deref(),
                    value: x.value,
                    threshold: x.threshold,
                    ts_event: us(x.ts_event),
                    ts_recv: now,
                })
                .collect();
            added += crate::run::journal::insert(
                wh,
                &tables::DRIFT_EVENTS,
                &rows,
                CommitMeta::new(format!("drift:{}", cfg.name)),
            )
            .await?;
            let new_dates = served
                .iter()
                .find(|s| s.stage == "production")
                .map_or(0, |s| s.rows / served_symbols(s));
            let reason = if force {
                "forced".to_string()
            } else if !d.is_empty() {
                format!(
                    "drift: {}",
                    d.iter()
                        .map(|x| format!(
                            "{}{}",
                            x.detector,
                            x.feature
                                .as_ref()
                                .map_or(String::new(), |f| format!("({f})"))
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else if new_dates >= cfg.retrain.every {
                format!(
                    "schedule: {new_dates} new dates ≥ every = {}",
                    cfg.retrain.every
                )
            } else {
                String::new()
            };
            (served, d, reason)
        }
    };
    if reason.is_empty() {
        return Ok(RetrainReport {
            action: "up_to_date".into(),
            reason: "no drift and fewer new dates than `every`".into(),
            served,
            served_after: vec![],
            drift: drift_found,
            train: None,
            rows_added: added,
        });
    }
    let t = train(wh, &cfg, clock).await?;
    added += t.rows_added;
    // Newly promoted models serve the bars after their training data at once, so the newest
    // bar has a production prediction before the next run.
    let served_after = if t.registered.iter().any(|r| r.stage != "candidate") {
        let (s, n) = serve(wh, &cfg.name).await?;
        added += n;
        s
    } else {
        vec![]
    };
    Ok(RetrainReport {
        action: "trained".into(),
        reason,
        served,
        served_after,
        drift: drift_found,
        train: Some(t),
        rows_added: added,
    })
}

fn served_symbols(s: &Served) -> usize {
    s.latest.len().max(1)
}
