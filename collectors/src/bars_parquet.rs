//! Parquet bars: typed columns mapped by name (same names and `--map` as CSV), validated row by
//! row with the same rules; bad rows are quarantined with their row number.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, RecordBatchReader};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use elite_warehouse::{BarsBuilder, Clock, QuarantineRecord, Timestamp, validate_ohlcv};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::bars_csv::{BarLabel, BarsOptions, Layout, SymbolIndex, SymbolKeys, bar_start_from_end};
use crate::timeparse::TimeParser;
use crate::{Decoded, Error, Result};

/// Decode a Parquet file of bars.
///
/// A corrupt file is an error naming what is wrong, never a panic: the footer's column-chunk
/// offsets are checked against the file before any page is read (the `parquet` crate asserts on
/// negative ones), and a panic inside the Parquet reader on a corrupt page is turned into an
/// error for this file.
pub fn decode_bars_parquet(bytes: Bytes, opts: &BarsOptions, clock: &dyn Clock) -> Result<Decoded> {
    let run = std::panic::AssertUnwindSafe(|| decode(bytes, opts, clock));
    std::panic::catch_unwind(run).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(Error::Input {
            location: opts.source.clone(),
            reason: format!("corrupt Parquet file (the reader failed: {what})"),
        })
    })
}

/// The footer's column chunks must lie inside the file.
fn check_footer(
    meta: &parquet::file::metadata::ParquetMetaData,
    len: u64,
    source: &str,
) -> Result<()> {
    for (g, rg) in meta.row_groups().iter().enumerate() {
        for (c, col) in rg.columns().iter().enumerate() {
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            let size = col.compressed_size();
            let end = start.checked_add(size);
            if start < 0 || size < 0 || end.is_none_or(|e| e as u64 > len) {
                return Err(Error::Input {
                    location: format!("{source} row group {g} column {c}"),
                    reason: format!(
                        "corrupt Parquet footer: column chunk at offset {start} of {size} bytes, file is {len} bytes"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn decode(bytes: Bytes, opts: &BarsOptions, clock: &dyn Clock) -> Result<Decoded> {
    let len = bytes.len() as u64;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    check_footer(builder.metadata(), len, &opts.source)?;
    let reader = builder.with_batch_size(65_536).build()?;
    let headers: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let layout = Layout::resolve(&headers, &opts.columns)?;
    if layout.date.is_some() {
        return Err(Error::Options("separate date and time columns are supported for CSV only; map one timestamp column with --map ts=<column>".into()));
    }
    if layout.symbol.is_none() && opts.symbol.is_none() {
        return Err(Error::Options(format!(
            "no symbol: the columns {headers:?} include no symbol column; pass --symbol"
        )));
    }
    let ts_idx = layout
        .ts
        .expect("Layout::resolve guarantees a timestamp column");
    let parser = TimeParser::new(opts.tz, opts.ts_format.clone());
    let timeframe = opts.timeframe.to_string();
    let now = clock.now();
    let mut out = BarsBuilder::default();
    let mut quarantine = Vec::new();
    let mut keys = SymbolIndex::default();
    let mut fixed = SymbolKeys::default();
    let mut row_base = 0usize;
    for batch in reader {
        let batch = batch?;
        let f64col = |i: usize| -> Result<ArrayRef> {
            Ok(arrow_cast::cast(batch.column(i), &DataType::Float64)?)
        };
        let ohlc: Vec<ArrayRef> = layout
            .ohlc
            .iter()
            .map(|&i| f64col(i))
            .collect::<Result<_>>()?;
        let volume = layout.volume.map(f64col).transpose()?;
        let oi = layout.oi.map(f64col).transpose()?;
        let symbols = layout
            .symbol
            .map(|i| arrow_cast::cast(batch.column(i), &DataType::Utf8))
            .transpose()?;
        let ts = TsColumn::new(batch.column(ts_idx), &parser)?;
        for r in 0..batch.num_rows() {
            let row_no = row_base + r + 1;
            let mut bad = |reason: String| {
                quarantine.push(QuarantineRecord {
                    source: opts.source.clone(),
                    unit: String::new(),
                    location: format!("row {row_no}"),
                    target_table: "bars".into(),
                    reason,
                    raw: row_text(&batch, r),
                    raw_encoding: "utf8",
                    ts_recv: now,
                });
            };
            let get = |a: &ArrayRef, name: &str| -> std::result::Result<f64, String> {
                let a = a.as_primitive::<Float64Type>();
                if a.is_null(r) {
                    Err(format!("field `{name}` is null"))
                } else {
                    Ok(a.value(r))
                }
            };
            let parsed = (|| -> std::result::Result<_, String> {
                let label = ts
                    .get(r)
                    .map_err(|e| format!("field `{}`: {e}", headers[ts_idx]))?;
                let vals = [
                    get(&ohlc[0], "open")?,
                    get(&ohlc[1], "high")?,
                    get(&ohlc[2], "low")?,
                    get(&ohlc[3], "close")?,
                ];
                let opt = |a: &Option<ArrayRef>| {
                    a.as_ref().and_then(|a| {
                        let a = a.as_primitive::<Float64Type>();
                        (!a.is_null(r)).then(|| a.value(r))
                    })
                };
                let (v, o) = (opt(&volume), opt(&oi));
                validate_ohlcv(vals, v)?;
                Ok((label, vals, v, o))
            })();
            let (label, vals, v, o) = match parsed {
                Ok(x) => x,
                Err(reason) => {
                    bad(reason);
                    continue;
                }
            };
            let (ts_event, ts_recv) = match opts.label {
                BarLabel::Open => (label, opts.timeframe.bar_end(label)),
                BarLabel::Close => (bar_start_from_end(opts.timeframe, label), label),
            };
            let (symbol, seen) = match &symbols {
                None => (opts.symbol.as_ref().expect("checked above"), &mut fixed),
                Some(s) => {
                    let s = s.as_string::<i32>();
                    if s.is_null(r) {
                        bad("field `symbol` is null".into());
                        continue;
                    }
                    match keys.get(s.value(r).as_bytes()) {
                        Ok(found) => found,
                        Err(e) => {
                            bad(format!("field `symbol`: {e}"));
                            continue;
                        }
                    }
                }
            };
            if let Some(first) = seen.check(ts_event, row_no as u64) {
                bad(format!(
                    "duplicate key (symbol {symbol}, ts_event {ts_event}) first seen on row {first}"
                ));
                continue;
            }
            out.push_values(
                symbol,
                &timeframe,
                ts_event,
                ts_recv,
                vals,
                v,
                o,
                &opts.source,
            );
        }
        row_base += batch.num_rows();
    }
    Ok(Decoded {
        batch: out.finish()?,
        quarantine,
        rows_read: row_base,
    })
}

/// A timestamp column of any common physical type.
enum TsColumn<'a> {
    /// Nanoseconds; `utc` false means wall-clock time in the parser's zone.
    Nanos {
        values: ArrayRef,
        utc: bool,
        parser: &'a TimeParser,
    },
    Epoch {
        values: ArrayRef,
        scale: i64,
    },
    Text {
        values: ArrayRef,
        parser: &'a TimeParser,
    },
}

impl<'a> TsColumn<'a> {
    fn new(col: &ArrayRef, parser: &'a TimeParser) -> Result<Self> {
        Ok(match col.data_type() {
            DataType::Timestamp(_, tz) => Self::Nanos {
                values: arrow_cast::cast(
                    col,
                    &DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()),
                )?,
                utc: tz.is_some(),
                parser,
            },
            DataType::Date32 | DataType::Date64 => Self::Nanos {
                values: arrow_cast::cast(col, &DataType::Timestamp(TimeUnit::Nanosecond, None))?,
                utc: false,
                parser,
            },
            DataType::Int64 | DataType::Int32 | DataType::UInt64 => {
                let values = arrow_cast::cast(col, &DataType::Int64)?;
                let first = values
                    .as_primitive::<Int64Type>()
                    .iter()
                    .flatten()
                    .next()
                    .unwrap_or(0);
                // Epoch unit by magnitude: seconds < 1e11 <= millis < 1e14 <= micros < 1e17 <= nanos.
                let scale = match first.unsigned_abs() {
                    0..100_000_000_000 => 1_000_000_000,
                    100_000_000_000..100_000_000_000_000 => 1_000_000,
                    100_000_000_000_000..100_000_000_000_000_000 => 1_000,
                    _ => 1,
                };
                Self::Epoch { values, scale }
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Self::Text {
                values: arrow_cast::cast(col, &DataType::Utf8)?,
                parser,
            },
            other => {
                return Err(Error::Options(format!(
                    "timestamp column has unsupported type {other}"
                )));
            }
        })
    }

    fn get(&self, r: usize) -> std::result::Result<Timestamp, String> {
        match self {
            Self::Nanos {
                values,
                utc,
                parser,
            } => {
                let a = values.as_primitive::<TimestampNanosecondType>();
                if a.is_null(r) {
                    return Err("null timestamp".into());
                }
                let ts = Timestamp::from_nanos(a.value(r));
                if *utc {
                    Ok(ts)
                } else {
                    // Wall-clock value: reinterpret in the configured zone.
                    parser.parse(
                        &ts.to_datetime()
                            .naive_utc()
                            .format("%Y-%m-%d %H:%M:%S%.f")
                            .to_string(),
                    )
                }
            }
            Self::Epoch { values, scale } => {
                let a = values.as_primitive::<Int64Type>();
                if a.is_null(r) {
                    return Err("null timestamp".into());
                }
                a.value(r)
                    .checked_mul(*scale)
                    .map(Timestamp::from_nanos)
                    .ok_or_else(|| "epoch value out of range".into())
            }
            Self::Text { values, parser } => {
                let a = values.as_string::<i32>();
                if a.is_null(r) {
                    Err("null timestamp".into())
                } else {
                    parser.parse(a.value(r))
                }
            }
        }
    }
}

fn row_text(batch: &arrow_array::RecordBatch, r: usize) -> String {
    let opts = arrow_cast::display::FormatOptions::default().with_null("");
    batch
        .columns()
        .iter()
        .map(|c| {
            arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &opts)
                .map(|f| f.value(r).to_string())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}
