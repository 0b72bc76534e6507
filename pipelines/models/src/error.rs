use thiserror::Error;

/// Errors of model training, validation and serving.
#[derive(Debug, Error)]
pub enum Error {
    /// The input does not fit what the model or procedure needs.
    #[error("{what}: {why}")]
    Input { what: String, why: String },
    /// An input contract (feature names, order, sequence length) does not match the model's.
    #[error("model contract mismatch: {0}")]
    Contract(String),
    /// A model artifact could not be read or written.
    #[error("model artifact: {0}")]
    Artifact(String),
    /// A native backend (LightGBM, ONNX Runtime) failed.
    #[error("{backend}: {message}")]
    Backend {
        backend: &'static str,
        message: String,
    },
    #[error(transparent)]
    Pipelines(#[from] elite_pipelines::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn input(what: impl Into<String>, why: impl Into<String>) -> Error {
    Error::Input {
        what: what.into(),
        why: why.into(),
    }
}
