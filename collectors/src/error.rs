//! Errors of the collectors.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options do not fit the input (missing column, bad mapping).
    #[error("{0}")]
    Options(String),
    /// The input as a whole cannot be read (not CSV/JSON/protobuf at all); names where.
    #[error("{location}: {reason}")]
    Input { location: String, reason: String },
    /// The remote API answered with an error.
    #[error("{source_name} API error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        source_name: &'static str,
        status: Option<u16>,
        message: String,
    },
    /// Network failure after retries.
    #[error("{source_name}: request to {url} failed after {attempts} attempts: {reason}")]
    Network {
        source_name: &'static str,
        url: String,
        attempts: u32,
        reason: String,
    },
    /// A credential is missing.
    #[error("{0}")]
    Credentials(String),
    #[error(transparent)]
    Records(#[from] elite_warehouse::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl Error {
    /// True for failures the user can fix (bad input, bad options, a refused or missing
    /// credential, bad records); false for faults of the program or its environment.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Options(_)
                | Error::Input { .. }
                | Error::Api { .. }
                | Error::Credentials(_)
                | Error::Records(_)
        )
    }
}
