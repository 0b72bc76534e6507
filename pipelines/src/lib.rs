//! # elite-pipelines — processing written once, run in batch, SQL and stream
//!
//! Streaming technical indicators ([`indicators`]), their text specifications ([`spec`]) and
//! batch forms over Arrow arrays ([`batch`]). Each indicator is a synchronous state machine:
//! `update(input) -> Option<output>`. Batch runs it over a warehouse snapshot, `elite-sql` wraps
//! it as a DataFusion window function, and the signal runner feeds it a stream; all three call the
//! same `update`, so they agree bit for bit (tested).
//!
//! Dependency direction: `cli -> jobs -> {pipelines, sql, collectors} -> warehouse`. This crate
//! depends only on the light `elite-warehouse` (no DataFusion, no Delta, no I/O).
//!
//! ```
//! use elite_pipelines::indicators::{Indicator, Rsi};
//! use elite_pipelines::spec::{IndicatorSpec, Obs};
//!
//! let mut rsi = Rsi::new(3).unwrap();
//! let out: Vec<_> = [1.0, 2.0, 1.5, 2.5, 3.0].into_iter().map(|x| rsi.update(x)).collect();
//! assert_eq!(out[..3], [None, None, None]); // warm-up: 3 changes are needed
//! assert!(out[3].unwrap() > 50.0);
//!
//! // The same indicator chosen by name, as features and SQL do.
//! let spec: IndicatorSpec = "rsi(3)".parse().unwrap();
//! let mut dynamic = spec.build();
//! let again: Vec<_> = [1.0, 2.0, 1.5, 2.5, 3.0]
//!     .into_iter()
//!     .map(|c| dynamic.update(&Obs { bar: elite_pipelines::indicators::Ohlcv { close: c, ..Default::default() }, ..Default::default() }))
//!     .collect();
//! assert_eq!(out, again);
//! ```

pub mod alpha158;
pub mod asof;
pub mod batch;
pub mod bench;
pub mod calendar;
pub mod earnings;
pub mod error;
pub mod event_study;
pub mod features;
pub mod forecast;
pub mod indicators;
pub mod insider;
pub mod mentions;
pub mod mtf;
pub mod options;
pub mod regime;
pub mod resample;
pub mod sentiment;
pub mod signals;
pub mod spec;

pub use error::{Error, Result};
