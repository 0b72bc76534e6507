//! Errors of the light warehouse layer.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong building records and schemas.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A symbol failed validation.
    #[error("invalid symbol {value:?}: {reason}")]
    InvalidSymbol { value: String, reason: &'static str },
    /// A timeframe string could not be understood.
    #[error("invalid timeframe {value:?}: expected e.g. 1m, 5m, 15m, 1h, 4h, 1d, 1w, 1mo, tick")]
    InvalidTimeframe { value: String },
    /// A timestamp could not be parsed or is out of range.
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp { value: String, reason: String },
    /// Building an Arrow batch failed: a broken invariant in this crate.
    #[error("internal error building {table} batch: {source}")]
    Internal {
        table: &'static str,
        #[source]
        source: Box<arrow_schema::ArrowError>,
    },
}
