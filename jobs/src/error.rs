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
    /// A user's input (a config file, a model file, a date) that a parser or a lower crate
    /// refused; `what` names it.
    #[error("{what}: {source}")]
    Invalid {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A job configuration that cannot be used (names the field).
    #[error("{0}")]
    Config(String),
    /// A strategy or engine configuration the trade crate refuses.
    #[error(transparent)]
    Trade(#[from] elite_trade::Error),
    /// The engine refused an event (out of order, or a broker report it cannot apply).
    #[error(transparent)]
    Engine(#[from] elite_trade::engine::EngineError),
    /// A book that does not add up: a bug.
    #[error(transparent)]
    Reconcile(#[from] elite_trade::ledger::ReconcileError),
    #[error(transparent)]
    Models(#[from] elite_models::Error),
    #[error(transparent)]
    Pipelines(#[from] elite_pipelines::Error),
    #[error(transparent)]
    Text(#[from] elite_text::Error),
    /// A record that could not be written or read as JSON (the registry's config and metrics
    /// columns): a bug.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An Arrow batch that could not be converted: a bug.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// What was being done when `source` happened.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
    /// A decoding worker task panicked or was cancelled: a bug.
    #[error("worker task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A worker task failed: a bug.
    #[error("internal error: {0}")]
    Internal(String),

    #[error("cannot serve metrics and health on {addr}: {source}")]
    Serve {
        addr: String,
        source: std::io::Error,
    },

    #[error(transparent)]
    Notify(#[from] crate::ops::notify::NotifyError),

    /// A stream topic that could not be used (its file, its cluster, a record in it); names the
    /// topic and the transport.
    #[error("topic {topic}: {reason}")]
    Transport { topic: String, reason: String },
    /// A stream topic's file could not be read or written.
    #[error("topic {topic}: {source}")]
    TopicIo {
        topic: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A user's input `what` that `source` refused.
    pub fn invalid(
        what: impl Into<String>,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error {
        let what = what.into();
        move |source| Error::Invalid { what, source }
    }

    /// Wrap with what was being done.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// Whether the user can fix it (bad input, options or config; refusals; missing data) rather
    /// than it being a failure of the platform: decides the CLI's exit code (1 or 2).
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Read { .. }
            | Error::Records(_)
            | Error::Config(_)
            | Error::Invalid { .. }
            | Error::Serve { .. }
            | Error::Transport { .. } => true,
            Error::Collector(c) => c.is_user_error(),
            Error::Store(s) => s.is_user_error(),
            Error::Trade(t) => matches!(t, elite_trade::Error::Config(_)),
            Error::Models(m) => matches!(
                m,
                elite_models::Error::Input { .. } | elite_models::Error::Contract(_)
            ),
            Error::Pipelines(p) => matches!(
                p,
                elite_pipelines::Error::Spec { .. }
                    | elite_pipelines::Error::Calendar { .. }
                    | elite_pipelines::Error::Input { .. }
            ),
            Error::Text(t) => !matches!(t, elite_text::Error::Model { .. }),
            Error::Context { source, .. } => source.is_user_error(),
            Error::Engine(_)
            | Error::Reconcile(_)
            | Error::Json(_)
            | Error::Arrow(_)
            | Error::Task(_)
            | Error::Notify(_)
            | Error::TopicIo { .. }
            | Error::Internal(_) => false,
        }
    }
}
