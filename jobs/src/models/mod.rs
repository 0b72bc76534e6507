//! Models as jobs: `elite train` (walk-forward evaluation, registration, promotion),
//! `elite predict` (serving), the nightly retrain (drift and schedule) and the predictions
//! table. The pure walk-forward planning and scoring live in `elite_models::walkforward`; this
//! module reads the warehouse, calls them, and records what they return.
//!
//! - [`config`]: the train config and the learner each model entry stands for;
//! - [`train`]: datasets, walk-forward, registration and promotion;
//! - [`registry`]: `models` and `model_events`, stages, loading an artifact;
//! - [`ensemble`]: ensembles of registered models, registered and served as one model;
//! - [`predictions`]: the `predictions` table;
//! - [`serve`]: batch serving and the live predictors of the signal runner;
//! - [`retrain`]: drift detection and the nightly retrain.

pub mod config;
pub mod ensemble;
pub mod predictions;
pub mod registry;
pub mod retrain;
pub mod serve;
pub mod train;

pub use config::{
    EnsembleConfig, FeatureConfig, Kind, Metric, ModelConfig, RegistryConfig, RetrainConfig,
    TrainConfig, TrainData, Validation, learner, load_model,
};
pub use elite_models::walkforward::{Evaluated, Plan, WalkForwardReport};
pub(crate) use predictions::us;
pub use predictions::{
    PredictionRow, insert_predictions, prediction_rows, read_predictions, recorded_predictions,
    same_rows,
};
pub use registry::{RegistryRow, current_production, latest_stages, load_registered, registry_row};
pub use retrain::{Drift, RetrainReport, drift, retrain};
pub use serve::{LivePredictors, Served, serve};
pub(crate) use train::{EventRow, ModelRow, erased};
pub use train::{
    Registered, TrainReport, assemble, build_dataset, build_dataset_with_events,
    build_dataset_with_text, evaluate, load_dataset, model_id, plan, train, walk_forward,
};
