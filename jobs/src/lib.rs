//! # elite-jobs — what runs
//!
//! Job entry points over the collectors and the versioned warehouse. Today: ingest of files
//! (CSV, Parquet, gzip-compressed or not), Yahoo charts, Upstox historical candles and the Upstox
//! V3 feed (live or replayed from recorded frames).
//!
//! **Exactly once.** Each ingest unit (a file with its options, an API response, a batch of feed
//! frames) is identified by a content hash. The unit's bad records go to `quarantine`, its good
//! records to the target table through the store's key-idempotent insert, and only then is a row
//! written to `ingest_checkpoints`. A crash anywhere leaves the last committed versions intact;
//! re-running repeats the unit, which adds nothing already landed and then checkpoints it.
//!
//! **Operated.** Long-running jobs report through [`ops`]: Prometheus metrics, health and a
//! status file, alert rules to Telegram and Discord, and chat commands (`/halt` trips the
//! engine's kill switch through a journaled, replayed event).
//!
//! Dependency direction: `cli -> jobs -> {collectors, store} -> warehouse`.
//!
//! ```no_run
//! # async fn demo() -> elite_jobs::Result<()> {
//! use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
//! use elite_collectors::bars_csv::BarsOptions;
//! use elite_warehouse::{SystemClock, Timeframe};
//! let ingestor = Ingestor::new(elite_store::Warehouse::open("./elite-data")?, std::sync::Arc::new(SystemClock));
//! let mut opts = BarsOptions::new("", Timeframe::Days(1));
//! opts.symbol = Some(elite_warehouse::Symbol::new("GOOG")?);
//! let report = ingestor.ingest_file(&FileIngest::new("GOOG_1d.csv", FileFormat::Csv, opts), &()).await?;
//! println!("{} rows added", report.rows_added);
//! # Ok(()) }
//! ```

pub mod alt;
pub mod alt_signals;
pub mod backtest;
pub mod bars;
pub mod brokers;
pub mod calendar;
pub mod checkpoint;
pub mod contracts;
pub mod earnings;
mod error;
pub mod features;
pub mod forecast;
pub mod ingest;
pub mod insider;
pub mod live;
pub mod macro_series;
pub mod models;
pub mod news_impact;
pub mod onnx_import;
pub mod ops;
pub mod options;
pub mod progress;
pub mod regimes;
pub mod report;
pub mod report_models;
pub mod resample;
pub mod run;
pub mod signals;
pub mod social;
pub mod stream;
pub mod trader;
pub mod transport;

pub use error::{Error, Result};
