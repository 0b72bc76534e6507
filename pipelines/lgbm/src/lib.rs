//! LightGBM models through `lightgbm3` (LightGBM 4.7.0, the shared library of PyPI's wheel), as an
//! [`elite_models::model::Learner`]: gbdt, dart and random-forest boosting; binary
//! classification (P(up)) or regression (forward return). Feature importance (gain) is stored
//! with the model. Training is deterministic for a given seed and thread count.

use elite_models::data::Dataset;
use elite_models::linear::check_features;
use elite_models::model::{Learner, Model, Task};
use elite_models::{Error, Result};
use lightgbm3::{Booster, ImportanceType};
use serde::{Deserialize, Serialize};

/// Boosting mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boosting {
    Gbdt,
    Dart,
    /// Random forest (bagging without shrinkage).
    Rf,
}

/// LightGBM parameters (LightGBM's names; see its Parameters page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LgbmParams {
    #[serde(default = "d_boosting")]
    pub boosting: Boosting,
    #[serde(default = "d_task")]
    pub task: Task,
    #[serde(default = "d_iter")]
    pub num_iterations: u32,
    #[serde(default = "d_lr")]
    pub learning_rate: f64,
    #[serde(default = "d_leaves")]
    pub num_leaves: u32,
    #[serde(default = "d_min_leaf")]
    pub min_data_in_leaf: u32,
    #[serde(default = "d_frac")]
    pub feature_fraction: f64,
    #[serde(default = "d_bag")]
    pub bagging_fraction: f64,
    #[serde(default = "d_bag_freq")]
    pub bagging_freq: u32,
    #[serde(default)]
    pub lambda_l2: f64,
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Threads (0 = LightGBM's default, all cores).
    #[serde(default)]
    pub num_threads: u32,
}

fn d_boosting() -> Boosting {
    Boosting::Gbdt
}
fn d_task() -> Task {
    Task::Classification
}
fn d_iter() -> u32 {
    100
}
fn d_lr() -> f64 {
    0.05
}
fn d_leaves() -> u32 {
    15
}
fn d_min_leaf() -> u32 {
    50
}
fn d_frac() -> f64 {
    0.8
}
fn d_bag() -> f64 {
    0.8
}
fn d_bag_freq() -> u32 {
    1
}
fn d_seed() -> u64 {
    7
}

impl Default for LgbmParams {
    fn default() -> Self {
        defaults()
    }
}

fn defaults() -> LgbmParams {
    LgbmParams {
        boosting: d_boosting(),
        task: d_task(),
        num_iterations: d_iter(),
        learning_rate: d_lr(),
        num_leaves: d_leaves(),
        min_data_in_leaf: d_min_leaf(),
        feature_fraction: d_frac(),
        bagging_fraction: d_bag(),
        bagging_freq: d_bag_freq(),
        lambda_l2: 0.0,
        seed: d_seed(),
        num_threads: 0,
    }
}

impl LgbmParams {
    /// LightGBM's parameter object.
    pub fn to_lightgbm(&self) -> serde_json::Value {
        let mut bag = self.bagging_fraction;
        let mut freq = self.bagging_freq;
        if self.boosting == Boosting::Rf && (bag >= 1.0 || freq == 0) {
            // Random forest needs bagging.
            bag = bag.min(0.632);
            freq = freq.max(1);
        }
        serde_json::json!({
            "boosting": match self.boosting { Boosting::Gbdt => "gbdt", Boosting::Dart => "dart", Boosting::Rf => "rf" },
            "objective": match self.task { Task::Classification => "binary", Task::Regression => "regression" },
            "num_iterations": self.num_iterations,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": bag,
            "bagging_freq": freq,
            "lambda_l2": self.lambda_l2,
            "seed": self.seed,
            "deterministic": true,
            "force_row_wise": true,
            "num_threads": self.num_threads,
            "verbosity": -1,
        })
    }
}

/// Every call into LightGBM holds this lock. LightGBM keeps its thread count in a process global
/// (`LGBM_DEFAULT_NUM_THREADS`, exported by the library), which each C API call resets from its own
/// parameters (dataset creation from none, i.e. all cores; training and scoring from theirs), and
/// sizes per-thread buffers from it; two callers on different threads (parallel tests, a server
/// scoring while a retrain runs) can thus run a parallel loop with more threads than its buffers
/// were made for. Elite never trains boosters in parallel itself, so serializing costs nothing
/// there; a booster that wants cores gets them through `num_threads`.
static LIGHTGBM: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    // The guarded data is `()`: a panic while it was held leaves nothing inconsistent.
    LIGHTGBM.lock().unwrap_or_else(|p| p.into_inner())
}

fn backend(e: lightgbm3::Error) -> Error {
    Error::Backend {
        backend: "lightgbm",
        message: e.to_string(),
    }
}

/// Train a booster on a row-major matrix; `label` is 0/1 for classification.
pub fn train_matrix(
    x: &[f64],
    label: &[f32],
    features: &[String],
    params: &LgbmParams,
) -> Result<Booster> {
    let _only = exclusive();
    let mut ds =
        lightgbm3::Dataset::from_slice(x, label, features.len() as i32, true).map_err(backend)?;
    ds.set_feature_names(features).map_err(backend)?;
    Booster::train(ds, &params.to_lightgbm()).map_err(backend)
}

/// Scores of a row-major matrix of `n_features` columns (one thread; probabilities for a
/// classifier).
pub fn predict_matrix(booster: &Booster, x: &[f64], n_features: usize) -> Result<Vec<f64>> {
    let _only = exclusive();
    booster
        .predict_with_params(x, n_features as i32, true, "num_threads=1")
        .map_err(backend)
}

/// A LightGBM learner.
#[derive(Clone, Debug)]
pub struct LgbmLearner {
    pub name: String,
    pub params: LgbmParams,
}

impl Learner for LgbmLearner {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.params).unwrap_or_default()
    }
    fn task(&self) -> Task {
        self.params.task
    }
    fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Box<dyn Model>> {
        let x = data.matrix(rows);
        let label: Vec<f32> = match self.params.task {
            Task::Classification => data.targets(rows)?.into_iter().map(|v| v as f32).collect(),
            Task::Regression => data.returns(rows)?.into_iter().map(|v| v as f32).collect(),
        };
        let booster = train_matrix(&x, &label, &data.features, &self.params)?;
        LgbmModel::new(booster, data.features.clone(), self.params.task).map(|m| Box::new(m) as _)
    }
}

/// A trained booster with its feature contract.
pub struct LgbmModel {
    booster: Booster,
    features: Vec<String>,
    task: Task,
    importance: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
struct Artifact {
    features: Vec<String>,
    task: Task,
    importance: Vec<(String, f64)>,
    /// LightGBM's own text model format.
    model: String,
}

impl LgbmModel {
    fn new(booster: Booster, features: Vec<String>, task: Task) -> Result<Self> {
        let gain = {
            let _only = exclusive();
            booster
                .feature_importance(ImportanceType::Gain)
                .map_err(backend)?
        };
        let importance = features.iter().cloned().zip(gain).collect();
        Ok(Self {
            booster,
            features,
            task,
            importance,
        })
    }

    /// Load from [`Model::save`] bytes.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let a: Artifact =
            serde_json::from_slice(bytes).map_err(|e| Error::Artifact(format!("lightgbm: {e}")))?;
        let booster = {
            let _only = exclusive();
            Booster::from_string(&a.model).map_err(backend)?
        };
        Ok(Self {
            booster,
            features: a.features,
            task: a.task,
            importance: a.importance,
        })
    }

    /// Scores of a row-major matrix with this model's features.
    pub fn predict_matrix(&self, x: &[f64]) -> Result<Vec<f64>> {
        predict_matrix(&self.booster, x, self.features.len())
    }
}

impl Model for LgbmModel {
    fn kind(&self) -> &str {
        "lightgbm"
    }
    fn task(&self) -> Task {
        self.task
    }
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_features(&self.features, &data.features)?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        self.predict_matrix(&data.matrix(rows))
    }
    fn save(&self) -> Result<Vec<u8>> {
        let model = {
            let _only = exclusive();
            self.booster.save_string().map_err(backend)?
        };
        Ok(serde_json::to_vec(&Artifact {
            features: self.features.clone(),
            task: self.task,
            importance: self.importance.clone(),
            model,
        })?)
    }
    fn importance(&self) -> Vec<(String, f64)> {
        self.importance.clone()
    }
}
