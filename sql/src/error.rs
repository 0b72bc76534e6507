//! Errors of the SQL layer.

use elite_store::datafusion::error::DataFusionError;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A write or session change was attempted.
    #[error(
        "SQL in Elite is read-only: `{statement}` would change data or settings. Load data with `elite ingest …` \
         and maintain tables with `elite warehouse optimize|vacuum`."
    )]
    ReadOnly { statement: String },
    /// The query is wrong (syntax, unknown column, type error).
    #[error("{0}")]
    Query(Box<DataFusionError>),
    /// A shipped view failed to register: a bug.
    #[error("internal error: view {name} does not plan: {source}")]
    View {
        name: String,
        #[source]
        source: Box<DataFusionError>,
    },
    #[error(transparent)]
    Store(#[from] elite_store::Error),
}

impl Error {
    pub(crate) fn from_datafusion(sql: &str, e: DataFusionError) -> Self {
        let msg = e.to_string();
        if msg.contains("DDL not supported")
            || msg.contains("DML not supported")
            || msg.contains("Statement not supported")
        {
            let statement = sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
            return Self::ReadOnly { statement };
        }
        Self::Query(Box::new(e))
    }
}
