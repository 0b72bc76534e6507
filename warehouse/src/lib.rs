//! # elite-warehouse — the light layer every Elite crate shares
//!
//! Record types, Arrow schemas and table specifications of the warehouse, plus the domain
//! newtypes (`Symbol`, `Timestamp`, `Timeframe`). It has no DataFusion, Delta or I/O in it so
//! that `pipelines` and `collectors` compile fast; the versioned storage lives in `elite-store`
//! (`warehouse/store`), which depends on this crate.
//!
//! Dependency direction: `cli -> jobs -> {pipelines, sql, collectors} -> warehouse`.
//!
//! ```
//! use elite_warehouse::{BarsBuilder, Bar, Symbol, Timeframe, Timestamp};
//!
//! let mut b = BarsBuilder::default();
//! let ts = Timestamp::parse_rfc3339("2024-06-03T03:45:00Z").unwrap();
//! b.push(&Bar {
//!     symbol: Symbol::new("NSE_EQ|INE002A01018").unwrap(),
//!     timeframe: Timeframe::parse("1m").unwrap(),
//!     ts_event: ts,
//!     ts_recv: ts.add_nanos(60_000_000_000),
//!     open: 2900.0, high: 2905.0, low: 2899.5, close: 2904.0, volume: Some(1200.0),
//!     source: "example".into(),
//! });
//! let batch = b.finish().unwrap();
//! assert_eq!(batch.num_rows(), 1);
//! assert_eq!(batch.schema(), elite_warehouse::tables::BARS.arrow_schema());
//! ```
//!
//! Invariants kept here:
//! - every record carries `ts_event` (when it happened) and `ts_recv` (when we could know it),
//!   both UTC; in memory they are nanoseconds since the epoch ([`Timestamp`]); in the tables they
//!   are Arrow `Timestamp(Microsecond, "UTC")`, the finest precision the Delta protocol defines
//!   (see DESIGN.md "Tables");
//! - each table declares its key; writes are idempotent on it (enforced by `elite-store`).

pub mod approx;
pub mod error;
pub mod ids;
pub mod records;
pub mod rows;
pub mod secret;
pub mod tables;
pub mod time;

pub use error::{Error, Result};
pub use ids::Symbol;
pub use records::{
    Bar, BarsBuilder, CalendarBuilder, CalendarDay, Checkpoint, CheckpointsBuilder, DepthLevel,
    FeatureValue, FeaturesBuilder, Instrument, InstrumentsBuilder, Label, LabelsBuilder,
    QuarantineBuilder, QuarantineRecord, QuotesBuilder, SignalRow, SignalsBuilder, Tick,
    TicksBuilder, validate_ohlcv,
};
pub use secret::{RedactedMap, Secret};
pub use tables::TableSpec;
pub use time::{Clock, FixedClock, SystemClock, Timeframe, Timestamp};
