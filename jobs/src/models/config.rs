//! What a train config says: the model group, its data and features, how it is validated, its
//! models and ensemble, the promotion rule and the retrain schedule; and the learner or loaded
//! model each model entry stands for.

use elite_lgbm::{LgbmLearner, LgbmModel, LgbmParams};
use elite_models::cnn_lstm::{CnnLstm, CnnLstmLearner, CnnLstmParams};
use elite_models::linear::{Logistic, LogisticLearner, LogisticParams, OnlineLearner};
use elite_models::lstm::{Lstm, LstmLearner, LstmParams};
use elite_models::model::{Learner, Model, Task};
use elite_models::transformer::{Transformer, TransformerLearner, TransformerParams};
use elite_models::validate::Scores;
pub use elite_models::walkforward::{EnsembleConfig, Validation};
use serde::{Deserialize, Serialize};

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
    /// For sets with sentiment features: the scorer version whose `sentiment` rows are read
    /// (default `vader-3.3.2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_version: Option<String>,
}

fn one() -> usize {
    1
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
            toml::from_str(text).map_err(|e| Error::invalid("train config")(e.into()))?;
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
        .map_err(|e| Error::invalid(format!("model {:?} params", m.name))(e.into()))
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
        "logistic" | "online_logistic" => Box::new(Logistic::load(bytes)?),
        "lightgbm" => Box::new(LgbmModel::load(bytes)?),
        "lstm" => Box::new(Lstm::load(bytes)?),
        "transformer" => Box::new(Transformer::load(bytes)?),
        "cnn_lstm" => Box::new(CnnLstm::load(bytes)?),
        "onnx" => Box::new(elite_onnx::OnnxModel::from_artifact(bytes)?),
        other => return Err(Error::Config(format!("unknown model kind {other:?}"))),
    };
    Ok(m)
}
