//! CSV bars: a pure decoder from bytes to a `bars` batch plus quarantined rows.
//!
//! Columns are found by header name (case-insensitive; common spellings such as `Date`,
//! `Datetime`, `ts`, `Last`, `Vol` are recognised) or mapped explicitly with [`ColumnMap`].
//! A timestamp may be one column or a `Date` + `Time` pair. Every row that cannot be
//! decoded, fails validation (`low <= open, close <= high`, finite numbers) or repeats the key
//! of an earlier row is quarantined with its line number, the field and the reason; the good
//! rows still land.
//!
//! Point in time: `ts_event` is the bar's open time; `ts_recv` is when the complete bar was
//! knowable, i.e. the bar's end (`ts_event + timeframe`). For sources that label bars by their
//! close, use [`BarLabel::Close`]: then `ts_recv = label` and `ts_event = label - timeframe`.

use std::collections::HashMap;
use std::io::Read;

use chrono_tz::Tz;
use elite_warehouse::{
    BarsBuilder, Clock, QuarantineRecord, Symbol, Timeframe, Timestamp, validate_ohlcv,
};

use crate::timeparse::TimeParser;
use crate::{Decoded, Error, Result};

/// Which instant a source's bar timestamp names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BarLabel {
    /// The bar's open (most vendors, Yahoo, Upstox, pandas `resample` default).
    #[default]
    Open,
    /// The bar's close (e.g. backtrader's weekly/monthly files, MetaTrader exports).
    Close,
}

/// Explicit header names for the bar fields; `None` means "detect".
#[derive(Clone, Debug, Default)]
pub struct ColumnMap {
    pub ts: Option<String>,
    pub date: Option<String>,
    pub time: Option<String>,
    pub open: Option<String>,
    pub high: Option<String>,
    pub low: Option<String>,
    pub close: Option<String>,
    pub volume: Option<String>,
    pub open_interest: Option<String>,
    pub symbol: Option<String>,
}

impl ColumnMap {
    /// Parse `field=Header` pairs, e.g. `close=Last,ts=Time`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut m = Self::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, header) = pair.split_once('=').ok_or_else(|| {
                Error::Options(format!("column mapping {pair:?} is not field=Header"))
            })?;
            let slot = match field.trim() {
                "ts" | "timestamp" => &mut m.ts,
                "date" => &mut m.date,
                "time" => &mut m.time,
                "open" => &mut m.open,
                "high" => &mut m.high,
                "low" => &mut m.low,
                "close" => &mut m.close,
                "volume" => &mut m.volume,
                "open_interest" | "oi" => &mut m.open_interest,
                "symbol" => &mut m.symbol,
                other => {
                    return Err(Error::Options(format!(
                        "unknown field {other:?} in column mapping; fields: ts, date, time, open, high, low, close, volume, open_interest, symbol"
                    )));
                }
            };
            *slot = Some(header.trim().to_string());
        }
        Ok(m)
    }
}

/// How to read a bars CSV.
#[derive(Clone, Debug)]
pub struct BarsOptions {
    /// Names the input in quarantine rows and history (`csv:/path/file.csv`).
    pub source: String,
    /// The symbol of every row, unless the file has a symbol column.
    pub symbol: Option<Symbol>,
    pub timeframe: Timeframe,
    /// Zone of timestamps without an offset.
    pub tz: Tz,
    pub ts_format: Option<String>,
    pub delimiter: u8,
    pub columns: ColumnMap,
    pub label: BarLabel,
}

impl BarsOptions {
    pub fn new(source: impl Into<String>, timeframe: Timeframe) -> Self {
        Self {
            source: source.into(),
            symbol: None,
            timeframe,
            tz: chrono_tz::UTC,
            ts_format: None,
            delimiter: b',',
            columns: ColumnMap::default(),
            label: BarLabel::Open,
        }
    }
}

/// Resolved column positions.
#[derive(Clone)]
pub(crate) struct Layout {
    pub(crate) ts: Option<usize>,
    pub(crate) date: Option<usize>,
    pub(crate) time: Option<usize>,
    pub(crate) ohlc: [usize; 4],
    pub(crate) volume: Option<usize>,
    pub(crate) oi: Option<usize>,
    pub(crate) symbol: Option<usize>,
}

pub(crate) fn norm(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace(['_', ' ', '<', '>'], "")
}

fn find(
    headers: &[String],
    explicit: &Option<String>,
    field: &str,
    aliases: &[&str],
) -> Result<Option<usize>> {
    if let Some(name) = explicit {
        let want = norm(name);
        return headers
            .iter()
            .position(|h| norm(h) == want)
            .map(Some)
            .ok_or_else(|| {
                Error::Options(format!(
                    "column {name:?} mapped to `{field}` is not in the header {headers:?}"
                ))
            });
    }
    Ok(aliases
        .iter()
        .find_map(|a| headers.iter().position(|h| norm(h) == *a)))
}

impl Layout {
    pub(crate) fn resolve(headers: &[String], m: &ColumnMap) -> Result<Self> {
        let need = |field: &str, found: Option<usize>| {
            found.ok_or_else(|| {
                Error::Options(format!(
                    "no `{field}` column in header {headers:?}; map one with --map {field}=<Header>"
                ))
            })
        };
        let date = find(headers, &m.date, "date", &["date", "day"])?;
        let time = find(headers, &m.time, "time", &["time"])?;
        let ts = if m.ts.is_some() || date.is_none() {
            find(
                headers,
                &m.ts,
                "ts",
                &[
                    "ts",
                    "timestamp",
                    "datetime",
                    "datetimeutc",
                    "gmttime",
                    "time",
                    "date",
                    "observationdate",
                ],
            )?
        } else {
            None
        };
        let (ts, date, time) = match (ts, date, time) {
            (Some(ts), _, _) => (Some(ts), None, None),
            (None, Some(d), Some(t)) => (None, Some(d), Some(t)),
            (None, Some(d), None) => (Some(d), None, None),
            (None, None, _) => return Err(need("ts", None).unwrap_err()),
        };
        Ok(Self {
            ts,
            date,
            time,
            ohlc: [
                need("open", find(headers, &m.open, "open", &["open", "o"])?)?,
                need("high", find(headers, &m.high, "high", &["high", "h"])?)?,
                need("low", find(headers, &m.low, "low", &["low", "l"])?)?,
                need(
                    "close",
                    find(headers, &m.close, "close", &["close", "c", "last", "price"])?,
                )?,
            ],
            volume: find(
                headers,
                &m.volume,
                "volume",
                &["volume", "vol", "v", "tickvol"],
            )?,
            oi: find(
                headers,
                &m.open_interest,
                "open_interest",
                &["openinterest", "oi"],
            )?,
            symbol: find(
                headers,
                &m.symbol,
                "symbol",
                &["symbol", "ticker", "instrument"],
            )?,
        })
    }
}

/// The resolved header of a bars CSV: its names and where each bar field is.
#[derive(Clone)]
pub struct CsvBarsHeader {
    headers: Vec<String>,
    layout: Layout,
}

impl CsvBarsHeader {
    /// Resolve `headers`; `first_len` is the field count of the first record, if any.
    fn resolve(
        mut headers: Vec<String>,
        first_len: Option<usize>,
        opts: &BarsOptions,
    ) -> Result<Self> {
        // backtrader's minute files name `Date` but carry `Date,Time`: one more field than header names.
        if first_len == Some(headers.len() + 1)
            && opts.columns.time.is_none()
            && !headers.iter().any(|h| norm(h) == "time")
            && let Some(d) = headers.iter().position(|h| norm(h) == "date")
        {
            headers.insert(d + 1, "Time".into());
        }
        let layout = Layout::resolve(&headers, &opts.columns)?;
        if layout.symbol.is_none() && opts.symbol.is_none() {
            return Err(Error::Options(format!(
                "no symbol: the header {headers:?} has no symbol column; pass --symbol"
            )));
        }
        Ok(Self { headers, layout })
    }

    /// Read the header from the start of a file: `prefix` holds the header line and, if the file
    /// has one, at least the first record. Returns the header and how many bytes of `prefix` the
    /// header line took (where the first chunk of records starts).
    pub fn from_prefix(prefix: &[u8], opts: &BarsOptions) -> Result<(Self, usize)> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(prefix);
        let mut header = csv::ByteRecord::new();
        let location = |line: u64| format!("{} line {line}", opts.source);
        if !rdr
            .read_byte_record(&mut header)
            .map_err(|e| Error::Input {
                location: location(1),
                reason: e.to_string(),
            })?
        {
            return Err(Error::Input {
                location: location(1),
                reason: "empty file: no header row".into(),
            });
        }
        let consumed = rdr.position().byte() as usize;
        let headers = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let mut first = csv::ByteRecord::new();
        let has_first = rdr.read_byte_record(&mut first).unwrap_or(false);
        Ok((
            Self::resolve(headers, has_first.then(|| first.len()), opts)?,
            consumed,
        ))
    }
}

/// Decode a bars CSV (with a header row) into a `bars` batch and quarantined rows.
pub fn decode_bars_csv<R: Read>(
    input: R,
    opts: &BarsOptions,
    clock: &dyn Clock,
) -> Result<Decoded> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Input {
            location: format!("{} line 1", opts.source),
            reason: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let mut record = csv::ByteRecord::new();
    let has_first = rdr
        .read_byte_record(&mut record)
        .map_err(|e| Error::Input {
            location: format!("{} line 2", opts.source),
            reason: e.to_string(),
        })?;
    let header = CsvBarsHeader::resolve(headers, has_first.then(|| record.len()), opts)?;
    let mut keys = Keys::Check {
        fixed: SymbolKeys::default(),
    };
    let rows = decode_records(
        &mut rdr,
        has_first.then_some(record),
        1,
        &header,
        opts,
        clock.now(),
        &mut keys,
    )?;
    Ok(Decoded {
        batch: rows.batch,
        quarantine: rows.quarantine,
        rows_read: rows.rows_read,
    })
}

/// One chunk of a bars CSV decoded, its keys not yet checked against earlier chunks: per good
/// row its line and its byte span in the chunk (to quarantine the row as written if a later
/// check finds its key taken).
pub struct DecodedChunk {
    pub batch: arrow_array::RecordBatch,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
    pub lines: Vec<u64>,
    pub spans: Vec<(u32, u32)>,
}

/// Decode one chunk of records (whole lines, no header) whose first line is `first_line` in the
/// file. Validation is the same as [`decode_bars_csv`]'s; duplicate keys are left to the caller,
/// which sees the chunks in order.
pub fn decode_bars_csv_chunk(
    chunk: &[u8],
    first_line: u64,
    header: &CsvBarsHeader,
    opts: &BarsOptions,
    now: Timestamp,
) -> Result<DecodedChunk> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(chunk);
    let mut keys = Keys::Collect {
        lines: Vec::new(),
        spans: Vec::new(),
    };
    let rows = decode_records(&mut rdr, None, first_line, header, opts, now, &mut keys)?;
    let Keys::Collect { lines, spans } = keys else {
        unreachable!("decode_records keeps the mode")
    };
    Ok(DecodedChunk {
        batch: rows.batch,
        quarantine: rows.quarantine,
        rows_read: rows.rows_read,
        lines,
        spans,
    })
}

/// What the record loop does with the key of a good row.
enum Keys {
    /// Refuse repeated keys now (the whole input is one unit).
    Check { fixed: SymbolKeys },
    /// Note the row's line and byte span for a check done later, across chunks.
    Collect {
        lines: Vec<u64>,
        spans: Vec<(u32, u32)>,
    },
}

struct Rows {
    batch: arrow_array::RecordBatch,
    quarantine: Vec<QuarantineRecord>,
    rows_read: usize,
}

/// The record loop shared by whole files and chunks. `line_base` is the file line of the
/// reader's line 1.
fn decode_records<R: Read>(
    rdr: &mut csv::Reader<R>,
    first: Option<csv::ByteRecord>,
    line_base: u64,
    header: &CsvBarsHeader,
    opts: &BarsOptions,
    now: Timestamp,
    keys: &mut Keys,
) -> Result<Rows> {
    let CsvBarsHeader { headers, layout } = header;
    let parser = TimeParser::new(opts.tz, opts.ts_format.clone());
    let timeframe = opts.timeframe.to_string();
    let mut out = BarsBuilder::default();
    let mut quarantine = Vec::new();
    let mut rows_read = 0usize;
    let mut symbols = SymbolIndex::default();
    let mut has_first = first.is_some();
    let mut record = first.unwrap_or_default();
    let file_line = |record: &csv::ByteRecord, fallback: u64| {
        record
            .position()
            .map_or(fallback, |p| line_base - 1 + p.line())
    };

    while has_first
        || rdr
            .read_byte_record(&mut record)
            .map_err(|e| Error::Input {
                location: format!("{} line {}", opts.source, file_line(&record, 0)),
                reason: e.to_string(),
            })?
    {
        has_first = false;
        rows_read += 1;
        let line = file_line(&record, line_base + rows_read as u64);
        let mut bad = |reason: String, record: &csv::ByteRecord| {
            quarantine.push(QuarantineRecord {
                source: opts.source.clone(),
                unit: String::new(),
                location: format!("line {line}"),
                target_table: "bars".into(),
                reason,
                raw: raw_line(record, opts.delimiter),
                raw_encoding: "utf8",
                ts_recv: now,
            });
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            bad("empty row".into(), &record);
            continue;
        }
        let field = |i: usize| -> std::result::Result<&str, String> {
            let b = record.get(i).ok_or_else(|| {
                format!(
                    "missing field `{}` (row has {} fields)",
                    headers[i],
                    record.len()
                )
            })?;
            std::str::from_utf8(b).map_err(|_| format!("field `{}` is not UTF-8", headers[i]))
        };
        let parsed = (|| -> std::result::Result<_, String> {
            let label = match (layout.ts, layout.date, layout.time) {
                (Some(ts), _, _) => parser
                    .parse(field(ts)?)
                    .map_err(|e| format!("field `{}`: {e}", headers[ts]))?,
                (None, Some(d), Some(t)) => parser
                    .parse_date_time(field(d)?, field(t)?)
                    .map_err(|e| format!("fields `{}`+`{}`: {e}", headers[d], headers[t]))?,
                _ => unreachable!("Layout::resolve guarantees a timestamp column"),
            };
            let num = |i: usize| -> std::result::Result<f64, String> {
                if let Some(v) = record.get(i).and_then(fast_number) {
                    return Ok(v);
                }
                let s = field(i)?.trim();
                s.parse::<f64>()
                    .map_err(|_| format!("field `{}`: cannot parse {s:?} as a number", headers[i]))
            };
            let opt_num = |i: Option<usize>| -> std::result::Result<Option<f64>, String> {
                match i {
                    None => Ok(None),
                    Some(i) => {
                        if let Some(v) = record.get(i).and_then(fast_number) {
                            return Ok(Some(v));
                        }
                        if field(i)?.trim().is_empty() {
                            Ok(None)
                        } else {
                            num(i).map(Some)
                        }
                    }
                }
            };
            let ohlc = [
                num(layout.ohlc[0])?,
                num(layout.ohlc[1])?,
                num(layout.ohlc[2])?,
                num(layout.ohlc[3])?,
            ];
            let volume = opt_num(layout.volume)?;
            validate_ohlcv(ohlc, volume)?;
            Ok((label, ohlc, volume, opt_num(layout.oi)?))
        })();
        let (label, ohlc, volume, oi) = match parsed {
            Ok(v) => v,
            Err(reason) => {
                bad(reason, &record);
                continue;
            }
        };
        let (ts_event, ts_recv) = match opts.label {
            BarLabel::Open => (label, opts.timeframe.bar_end(label)),
            BarLabel::Close => (bar_start_from_end(opts.timeframe, label), label),
        };
        let (symbol, symbol_keys) = match layout.symbol {
            // The header was resolved for options with a symbol; these must have one too.
            None => match opts.symbol.as_ref() {
                Some(s) => (s, None),
                None => {
                    return Err(Error::Options(format!(
                        "no symbol: the header {headers:?} has no symbol column; pass --symbol"
                    )));
                }
            },
            Some(i) => match symbols.get(record.get(i).unwrap_or_default()) {
                Ok((s, k)) => (s, Some(k)),
                Err(e) => {
                    bad(format!("field `{}`: {e}", headers[i]), &record);
                    continue;
                }
            },
        };
        match keys {
            Keys::Check { fixed } => {
                let k = symbol_keys.unwrap_or(fixed);
                if let Some(first_line) = k.check(ts_event, line) {
                    bad(
                        format!(
                            "duplicate key (symbol {symbol}, ts_event {ts_event}) first seen on line {first_line}"
                        ),
                        &record,
                    );
                    continue;
                }
            }
            Keys::Collect { lines, spans } => {
                lines.push(line);
                let start = record.position().map_or(0, |p| p.byte()) as u32;
                spans.push((start, rdr.position().byte() as u32));
            }
        }
        out.push_values(
            symbol,
            &timeframe,
            ts_event,
            ts_recv,
            ohlc,
            volume,
            oi,
            &opts.source,
        );
    }
    Ok(Rows {
        batch: out.finish()?,
        quarantine,
        rows_read,
    })
}

/// The open of a bar labelled by its close.
pub(crate) fn bar_start_from_end(tf: Timeframe, end: Timestamp) -> Timestamp {
    match tf {
        Timeframe::Months(n) => end
            .to_datetime()
            .checked_sub_months(chrono::Months::new(n))
            .and_then(|d| Timestamp::from_datetime(&d))
            .unwrap_or(end),
        other => end.add_nanos(-other.fixed_nanos().unwrap_or(0)),
    }
}

/// Validated symbols by their raw text, each with its duplicate-key tracker. Shared by the CSV
/// and Parquet decoders; a symbol is validated once, the first time its text is seen.
#[derive(Default)]
pub(crate) struct SymbolIndex {
    /// Raw field bytes to their entry in `entries`.
    index: HashMap<Vec<u8>, usize>,
    entries: Vec<(Vec<u8>, Symbol, SymbolKeys)>,
    /// The entry of the previous row: rows of one symbol usually come together.
    last: Option<usize>,
}

impl SymbolIndex {
    /// The symbol for `raw` and its key tracker; `Err` says why `raw` is not a valid symbol.
    pub(crate) fn get(
        &mut self,
        raw: &[u8],
    ) -> std::result::Result<(&Symbol, &mut SymbolKeys), String> {
        let k = match self.last {
            Some(k) if self.entries[k].0 == raw => k,
            _ => match self.index.get(raw) {
                Some(&k) => k,
                None => {
                    let text = std::str::from_utf8(raw).map_err(|_| {
                        format!("symbol {:?} is not UTF-8", String::from_utf8_lossy(raw))
                    })?;
                    let symbol = Symbol::new(text.trim()).map_err(|e| e.to_string())?;
                    self.entries
                        .push((raw.to_vec(), symbol, SymbolKeys::default()));
                    self.index.insert(raw.to_vec(), self.entries.len() - 1);
                    self.entries.len() - 1
                }
            },
        };
        self.last = Some(k);
        let (_, symbol, keys) = &mut self.entries[k];
        Ok((&*symbol, keys))
    }
}

/// A number field read straight from its bytes (ASCII blanks around it allowed), or `None` where
/// the general path must decide (not UTF-8, other white space, not a number: it then gives the
/// error). Where this accepts a field, `str::parse::<f64>` gives the same value
/// (`fast_number_agrees_with_str_parse`).
fn fast_number(raw: &[u8]) -> Option<f64> {
    fast_float2::parse::<f64, _>(raw.trim_ascii()).ok()
}

/// Duplicate-key detection per symbol in memory that does not grow with the input while rows
/// come in time order: the times seen are kept as runs of evenly spaced times on evenly spaced
/// lines (one run per gap in a series of 1-minute bars, one per symbol for a gapless file), so a
/// later row can still be checked against every earlier one and told its first line. Rows that
/// come out of order are checked against the runs and, when new, kept in a map of their own:
/// memory grows only with them.
#[derive(Default, Debug)]
pub struct SymbolKeys {
    last: Option<i64>,
    runs: Vec<Run>,
    out_of_order: HashMap<i64, u64>,
}

/// Times `t0 + k·dt` first seen on lines `l0 + k·dl`, for `k < n`.
#[derive(Clone, Copy, Debug)]
struct Run {
    t0: i64,
    dt: i64,
    n: u64,
    l0: u64,
    dl: u64,
}

impl SymbolKeys {
    /// Record `ts` from `line`; `Some(first_line)` if the key was already seen.
    pub fn check(&mut self, ts: Timestamp, line: u64) -> Option<u64> {
        self.check_raw(ts.as_nanos(), line)
    }

    /// [`check`](Self::check) on a plain integer time (any unit, used consistently).
    pub fn check_raw(&mut self, t: i64, line: u64) -> Option<u64> {
        if self.last.is_none_or(|last| t > last) {
            self.last = Some(t);
            match self.runs.last_mut() {
                Some(r) if r.n == 1 && line > r.l0 => {
                    r.dt = t - r.t0;
                    r.dl = line - r.l0;
                    r.n = 2;
                }
                Some(r)
                    if r.n > 1
                        && r.dt
                            .checked_mul(r.n as i64)
                            .and_then(|d| d.checked_add(r.t0))
                            == Some(t)
                        && r.l0 + r.n * r.dl == line =>
                {
                    r.n += 1
                }
                _ => self.runs.push(Run {
                    t0: t,
                    dt: 0,
                    n: 1,
                    l0: line,
                    dl: 0,
                }),
            }
            return None;
        }
        if let Some(first) = self.in_runs(t) {
            return Some(first);
        }
        match self.out_of_order.entry(t) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
    }

    fn in_runs(&self, t: i64) -> Option<u64> {
        let i = self.runs.partition_point(|r| r.t0 <= t).checked_sub(1)?;
        let r = self.runs[i];
        if r.n == 1 || r.dt == 0 {
            return (t == r.t0).then_some(r.l0);
        }
        let off = t - r.t0;
        (off % r.dt == 0 && ((off / r.dt) as u64) < r.n).then(|| r.l0 + (off / r.dt) as u64 * r.dl)
    }

    /// How many runs and out-of-order times are held (what the memory grows with).
    pub fn footprint(&self) -> usize {
        self.runs.len() + self.out_of_order.len()
    }
}

fn raw_line(record: &csv::ByteRecord, delimiter: u8) -> String {
    let sep = [delimiter];
    let joined: Vec<u8> = record.iter().collect::<Vec<_>>().join(&sep[..]);
    String::from_utf8_lossy(&joined).into_owned()
}

#[cfg(test)]
mod tests {
    use super::fast_number;

    /// Wherever the byte-level parser accepts a field, Rust's own `str::parse::<f64>` (after
    /// `trim`) accepts it with the same bits: random fields over the characters numbers are made
    /// of, plus written cases; and it takes the usual price formats.
    #[test]
    fn fast_number_agrees_with_str_parse() {
        let alphabet = b"0123456789.eE+- \tinfatyINFATY_,x";
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % m
        };
        let mut fields: Vec<Vec<u8>> = [
            "1", "1.", ".5", "-0", "+1.5", "1e5", "1E-5", "1e", "1e+", "e5", ".", "-", "+", "",
            " 12.5 ", "\t3\t", "inf", "-inf", "+infinity", "NaN", "nan", "1_000", "0x10", "1.5.2",
            "1,5", "00012.50", "1e400", "1e-400", "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ]
        .iter()
        .map(|f| f.as_bytes().to_vec())
        .collect();
        for _ in 0..200_000 {
            let len = next(12) as usize;
            fields.push(
                (0..len)
                    .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        let mut accepted = 0;
        for f in &fields {
            let text = std::str::from_utf8(f).unwrap();
            if let Some(v) = fast_number(f) {
                accepted += 1;
                let want = text.trim().parse::<f64>();
                assert!(
                    want.as_ref().is_ok_and(|w| w.to_bits() == v.to_bits()),
                    "{text:?}: fast {v:?}, str::parse {want:?}"
                );
            }
        }
        assert!(accepted > 1000, "only {accepted} fields parsed");
        assert_eq!(fast_number(b"  2745.35 "), Some(2745.35));
        assert_eq!(fast_number(b"0.1"), Some(0.1));
        assert_eq!(fast_number(b"\xa01"), None);
    }
}
