//! Elite's models, in pure Rust: datasets built from the feature pipeline, the logistic
//! baseline and an online learner, deep sequence models (LSTM, Transformer encoder, CNN-LSTM)
//! trained on the CPU and exported to ONNX, honest validation (walk-forward and purged k-fold
//! with embargo), ensembles, metrics and drift detection. Native backends (LightGBM, ONNX Runtime) live in their own crates
//! (`elite-lgbm`, `elite-onnx`) and implement the same [`model::Learner`] / [`model::Model`].

pub mod cnn_lstm;
pub mod data;
pub mod deep;
pub mod drift;
pub mod ensemble;
pub mod error;
pub mod linear;
pub mod lstm;
pub mod metrics;
pub mod model;
pub mod onnx_proto;
pub mod rng;
pub mod transformer;
pub mod validate;
pub mod walkforward;

pub use error::{Error, Result};
