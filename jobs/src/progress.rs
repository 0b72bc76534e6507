//! Progress reporting: jobs report, only the CLI draws (bars on a terminal, nothing otherwise).

/// Receives a job's progress. All methods default to doing nothing.
pub trait Reporter: Send + Sync {
    /// A new stage starts (`decoding`, `writing bars`); `total` units if known.
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    /// `done` units of the current stage are complete.
    fn progress(&self, _done: u64) {}
    /// The current stage is over.
    fn finish(&self) {}
}

/// No reporting.
impl Reporter for () {}
