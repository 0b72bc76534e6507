//! # elite-store — versioned warehouse tables on object_store
//!
//! Every table of [`elite_warehouse::tables`] is a Delta Lake table (through the `deltalake`
//! crate) under one root: a local directory (default `$ELITE_HOME`, else `./elite-data`) or an
//! object-store URL (`s3://`, `gs://`, `az://`, `memory://`). Delta gives atomic commits (a
//! crash before the commit leaves the previous version intact), time travel by version and by
//! timestamp, a history, compaction and vacuum, and a format Spark, DuckDB and polars read.
//!
//! Writes go through [`Warehouse::insert_new`], which is idempotent on the table key: rows whose
//! key is already in the table are not written again, and a write that adds nothing commits
//! nothing. This assumes one writer per table at a time (the ingest jobs are that writer).
//!
//! Sits between `elite-warehouse` (schemas) and `elite-sql` / `elite-jobs`.
//!
//! ```no_run
//! # async fn demo() -> elite_store::Result<()> {
//! use elite_store::{Warehouse, CommitMeta};
//! use elite_warehouse::tables::BARS;
//! let wh = Warehouse::open("memory:///demo")?;
//! let batch = elite_warehouse::BarsBuilder::default().finish()?;
//! let out = wh.insert_new(&BARS, vec![batch], CommitMeta::new("example")).await?;
//! assert_eq!(out.rows_added, 0);
//! # Ok(()) }
//! ```

mod append;
mod error;
mod layout;
mod warehouse;

pub use append::Appender;
pub use layout::RelayoutOutcome;

pub use error::{Error, Result};
pub use warehouse::{
    At, Attached, CHECKPOINT_INTERVAL, CommitMeta, HistoryEntry, OptimizeOutcome, ROW_GROUP_ROWS,
    TableInfo, VacuumOutcome, Warehouse, WriteOutcome, conform,
};

pub use deltalake::DeltaTable;
/// Re-exported so `elite-sql` uses exactly the DataFusion `deltalake` was built with.
pub use deltalake::datafusion;
/// Delta's DataFusion scan, for a provider with settings of its own.
pub mod datafusion_scan {
    pub use deltalake::delta_datafusion::{DeltaScanConfig, DeltaScanNext};
}
