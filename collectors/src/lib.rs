//! # elite-collectors — sources into the warehouse
//!
//! Per source, a **pure decoder** (bytes in; a batch with the target table's schema and the
//! refused records out, each with its location and reason) and an **I/O client** (HTTP or
//! WebSocket, retries with backoff, base URL configurable so tests replay recorded payloads on a
//! local server). Decoders never panic on bad input and never drop a record silently.
//!
//! | source | decoder | client |
//! |---|---|---|
//! | CSV bars | [`bars_csv::decode_bars_csv`] | file read by the ingest job |
//! | Parquet bars | [`bars_parquet::decode_bars_parquet`] | file read by the ingest job |
//! | Yahoo chart v8 | [`yahoo::decode_chart`] | [`yahoo::YahooClient`] |
//! | Upstox historical candles v2/v3 | [`upstox::decode_candles`] | [`upstox::UpstoxClient`] |
//! | Upstox V3 market feed (protobuf) | [`upstox::decode_feed`] | [`upstox::FeedClient`] |
//!
//! Sits on `elite-warehouse` (record types); used by `elite-jobs`.
//!
//! ```
//! use elite_collectors::bars_csv::{decode_bars_csv, BarsOptions};
//! use elite_warehouse::{FixedClock, Symbol, Timeframe, Timestamp};
//!
//! let csv = "ts,open,high,low,close,volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n2004-08-20,1,0,1,1,1\n";
//! let mut opts = BarsOptions::new("csv:example", Timeframe::Days(1));
//! opts.symbol = Some(Symbol::new("GOOG").unwrap());
//! let out = decode_bars_csv(csv.as_bytes(), &opts, &FixedClock(Timestamp::from_nanos(0))).unwrap();
//! assert_eq!(out.batch.num_rows(), 1);
//! assert_eq!(out.quarantine[0].location, "line 3");
//! ```

pub mod bars_csv;
pub mod bars_parquet;
pub mod csv_chunks;
pub mod earnings;
mod error;
pub mod fred;
pub mod fuzz;
pub mod http;
pub mod insider;
pub mod insider_nse;
pub mod news;
pub mod options;
pub mod social;
pub mod timeparse;
pub mod upstox;
pub mod upstox_instruments;
pub mod upstox_orders;
pub mod upstox_quotes;
pub mod yahoo;

pub use error::{Error, Result};

use arrow_array::RecordBatch;
use elite_warehouse::QuarantineRecord;

/// What a decoder produced from one input.
#[derive(Debug)]
pub struct Decoded {
    /// Good records, with the target table's schema.
    pub batch: RecordBatch,
    /// Refused records, each with location and reason.
    pub quarantine: Vec<QuarantineRecord>,
    /// Records seen in the input (good + refused).
    pub rows_read: usize,
}
