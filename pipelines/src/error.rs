//! Errors of the pipelines crate.

/// What can go wrong while building or running a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An indicator or feature specification that does not parse or has bad parameters.
    #[error("bad indicator spec `{spec}`: {reason}")]
    Spec { spec: String, reason: String },
    /// A calendar or session definition that cannot be used.
    #[error("calendar `{calendar}`: {reason}")]
    Calendar { calendar: String, reason: String },
    /// Input that breaks what a step needs (for example bars out of time order).
    #[error("{context}: {reason}")]
    Input { context: String, reason: String },
    /// State that does not deserialize (a checkpoint from another version).
    #[error("state: {0}")]
    State(#[from] serde_json::Error),
    /// Arrow failed to build an array or batch.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A broken invariant: a bug in Elite.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn spec_err(spec: &str, reason: impl Into<String>) -> Error {
    Error::Spec {
        spec: spec.to_string(),
        reason: reason.into(),
    }
}
