//! Errors of the versioned store.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The warehouse location is not a path or a supported URL.
    #[error("invalid warehouse location {location:?}: {reason}")]
    InvalidLocation { location: String, reason: String },
    /// No table of that name is declared.
    #[error("unknown table {name:?}; known tables: {known}")]
    UnknownTable { name: String, known: String },
    /// The table has never been written.
    #[error("table {name:?} has no data yet (nothing has been ingested into it)")]
    EmptyTable { name: String },
    /// Time travel to a version or time the table does not have.
    #[error("table {name:?} has no version {at}: {reason}")]
    NoSuchVersion {
        name: String,
        at: String,
        reason: String,
    },
    /// A batch does not have the table's schema.
    #[error("schema mismatch writing {table}: expected {expected}, found {found}")]
    SchemaMismatch {
        table: String,
        expected: String,
        found: String,
    },
    /// An artifact (a model file) could not be written or read.
    #[error("artifact {path}: {reason}")]
    Artifact { path: String, reason: String },
    /// A refused request (e.g. vacuum below the retention guard).
    #[error("{0}")]
    Refused(String),
    /// The Delta layer failed (I/O, conflict, corrupt log).
    #[error("delta table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// A query the store runs on itself failed.
    #[error("query on {table}: {source}")]
    Query {
        table: String,
        #[source]
        source: Box<deltalake::datafusion::error::DataFusionError>,
    },
    /// The task writing data files panicked or was cancelled: a bug.
    #[error("writing data files: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Arrow(#[from] deltalake::arrow::error::ArrowError),
    #[error(transparent)]
    Records(#[from] elite_warehouse::Error),
}

impl Error {
    /// True for failures the user can fix (a bad location or table name, a version that does
    /// not exist, a refused operation); false for faults of the program or its environment.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidLocation { .. }
                | Error::UnknownTable { .. }
                | Error::EmptyTable { .. }
                | Error::NoSuchVersion { .. }
                | Error::Refused(_)
        )
    }

    pub(crate) fn delta(table: &str, e: deltalake::DeltaTableError) -> Self {
        Self::Delta {
            table: table.to_string(),
            source: Box::new(e),
        }
    }

    pub(crate) fn query(table: &str, e: deltalake::datafusion::error::DataFusionError) -> Self {
        Self::Query {
            table: table.to_string(),
            source: Box::new(e),
        }
    }
}
