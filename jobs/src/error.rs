//! Errors of the jobs.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Bad options or an input the collector refuses as a whole.
    #[error(transparent)]
    Collector(#[from] elite_collectors::Error),
    #[error(transparent)]
    Store(#[from] elite_store::Error),
    #[error(transparent)]
    Records(#[from] elite_warehouse::Error),
    /// A job configuration that cannot be used (names the field).
    #[error("{0}")]
    Config(String),
    /// A worker task failed: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}
