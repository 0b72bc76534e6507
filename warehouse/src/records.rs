//! Record types and their Arrow batch builders, one per table.
//!
//! Builders append typed records and `finish()` into a `RecordBatch` with exactly the table's
//! schema (see [`crate::tables`]), so collectors never hand-assemble columns.

use std::sync::Arc;

use arrow_array::builder::{
    Date32Builder, Float64Builder, Int8Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use chrono::Datelike;

use crate::tables::{self, TableSpec};
use crate::{Error, Result, Symbol, Timeframe, Timestamp};

fn ts_builder(cap: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(cap).with_timezone("UTC")
}

fn finish(spec: &'static TableSpec, cols: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(spec.arrow_schema(), cols).map_err(|e| Error::Internal {
        table: spec.name,
        source: Box::new(e),
    })
}

/// UTC calendar year of a timestamp (fast path for the common 1970..2100 range).
fn year_of(ts: Timestamp) -> i32 {
    ts.to_datetime().year()
}

/// UTC calendar date (`YYYY-MM-DD`) of a timestamp: the partition value of feed tables.
pub fn utc_date(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d").to_string()
}

/// One OHLCV bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    /// Bar open time.
    pub ts_event: Timestamp,
    /// When the complete bar could be known (bar close for historical imports).
    pub ts_recv: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// `None` when the source has no volume (indices, some FX).
    pub volume: Option<f64>,
    pub source: String,
}

impl Bar {
    /// Check the bar is internally consistent; `Err` names the first problem.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.ts_recv < self.ts_event {
            return Err("ts_recv before ts_event".into());
        }
        validate_ohlcv([self.open, self.high, self.low, self.close], self.volume)
    }
}

/// Check OHLCV values: finite prices, `low <= open, close <= high`, volume (if any) finite and >= 0.
pub fn validate_ohlcv(ohlc: [f64; 4], volume: Option<f64>) -> std::result::Result<(), String> {
    let [open, high, low, close] = ohlc;
    for (name, v) in [
        ("open", open),
        ("high", high),
        ("low", low),
        ("close", close),
    ] {
        if !v.is_finite() {
            return Err(format!("field `{name}` is not a finite number ({v})"));
        }
    }
    if let Some(v) = volume
        && (!v.is_finite() || v < 0.0)
    {
        return Err(format!("field `volume` must be finite and >= 0 (got {v})"));
    }
    if high < low {
        return Err(format!("field `high` {high} < `low` {low}"));
    }
    if open > high || close > high {
        return Err(format!(
            "open/close above `high` {high} (open {open}, close {close})"
        ));
    }
    if open < low || close < low {
        return Err(format!(
            "open/close below `low` {low} (open {open}, close {close})"
        ));
    }
    Ok(())
}

/// Builds `bars` batches.
#[derive(Default)]
pub struct BarsBuilder {
    symbol: StringBuilder,
    timeframe: StringBuilder,
    ts_event: Vec<i64>,
    ts_recv: Vec<i64>,
    open: Float64Builder,
    high: Float64Builder,
    low: Float64Builder,
    close: Float64Builder,
    volume: Float64Builder,
    open_interest: Float64Builder,
    source: StringBuilder,
    year: Int32Builder,
}

impl BarsBuilder {
    pub fn push(&mut self, b: &Bar) {
        self.push_with_oi(b, None);
    }

    /// Append a bar with an open interest (futures and options).
    pub fn push_with_oi(&mut self, b: &Bar, open_interest: Option<f64>) {
        let tf = b.timeframe.to_string();
        self.push_values(
            &b.symbol,
            &tf,
            b.ts_event,
            b.ts_recv,
            [b.open, b.high, b.low, b.close],
            b.volume,
            open_interest,
            &b.source,
        );
    }

    /// Append one bar from parts (the allocation-free path for bulk decoders).
    /// `ohlc` is `[open, high, low, close]`; `timeframe` is its canonical text.
    #[allow(clippy::too_many_arguments)]
    pub fn push_values(
        &mut self,
        symbol: &Symbol,
        timeframe: &str,
        ts_event: Timestamp,
        ts_recv: Timestamp,
        ohlc: [f64; 4],
        volume: Option<f64>,
        open_interest: Option<f64>,
        source: &str,
    ) {
        let [o, h, l, c] = ohlc;
        self.symbol.append_value(symbol.as_str());
        self.timeframe.append_value(timeframe);
        self.ts_event.push(ts_event.as_micros());
        self.ts_recv.push(ts_recv.as_micros());
        self.open.append_value(o);
        self.high.append_value(h);
        self.low.append_value(l);
        self.close.append_value(c);
        self.volume.append_option(volume);
        self.open_interest.append_option(open_interest);
        self.source.append_value(source);
        self.year.append_value(year_of(ts_event));
    }

    pub fn len(&self) -> usize {
        self.ts_event.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts_event.is_empty()
    }

    /// Finish into a batch with [`tables::BARS`]'s schema; the builder is left empty.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let tz = |v: &mut Vec<i64>| {
            let mut b = ts_builder(v.len());
            b.append_slice(v);
            v.clear();
            Arc::new(b.finish()) as ArrayRef
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.symbol.finish()),
            Arc::new(self.timeframe.finish()),
            tz(&mut self.ts_event),
            tz(&mut self.ts_recv),
            Arc::new(self.open.finish()),
            Arc::new(self.high.finish()),
            Arc::new(self.low.finish()),
            Arc::new(self.close.finish()),
            Arc::new(self.volume.finish()),
            Arc::new(self.open_interest.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.year.finish()),
        ];
        finish(&tables::BARS, cols)
    }
}

/// A last-traded-price update with whatever extras the feed sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tick {
    pub symbol: String,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub price: f64,
    pub size: Option<f64>,
    pub prev_close: Option<f64>,
    pub volume: Option<f64>,
    pub avg_price: Option<f64>,
    pub open_interest: Option<f64>,
    pub iv: Option<f64>,
    pub delta: Option<f64>,
    pub gamma: Option<f64>,
    pub theta: Option<f64>,
    pub vega: Option<f64>,
    pub rho: Option<f64>,
    pub total_buy_qty: Option<f64>,
    pub total_sell_qty: Option<f64>,
    pub source: String,
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::from_nanos(0)
    }
}

/// Builds `ticks` batches.
#[derive(Default)]
pub struct TicksBuilder {
    rows: Vec<Tick>,
}

impl TicksBuilder {
    pub fn push(&mut self, t: Tick) {
        self.rows.push(t);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let mut symbol = StringBuilder::new();
        let (mut ev, mut rv) = (ts_builder(n), ts_builder(n));
        let mut price = Float64Builder::with_capacity(n);
        let mut opts: Vec<Float64Builder> =
            (0..13).map(|_| Float64Builder::with_capacity(n)).collect();
        let mut source = StringBuilder::new();
        let mut date = StringBuilder::new();
        for t in &rows {
            symbol.append_value(&t.symbol);
            ev.append_value(t.ts_event.as_micros());
            rv.append_value(t.ts_recv.as_micros());
            price.append_value(t.price);
            let vals = [
                t.size,
                t.prev_close,
                t.volume,
                t.avg_price,
                t.open_interest,
                t.iv,
                t.delta,
                t.gamma,
                t.theta,
                t.vega,
                t.rho,
                t.total_buy_qty,
                t.total_sell_qty,
            ];
            for (b, v) in opts.iter_mut().zip(vals) {
                b.append_option(v);
            }
            source.append_value(&t.source);
            date.append_value(utc_date(t.ts_event));
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(symbol.finish()),
            Arc::new(ev.finish()),
            Arc::new(rv.finish()),
            Arc::new(price.finish()),
        ];
        cols.extend(opts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(source.finish()));
        cols.push(Arc::new(date.finish()));
        finish(&tables::TICKS, cols)
    }
}

/// One level of market depth.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthLevel {
    pub symbol: String,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub level: i32,
    pub bid_price: Option<f64>,
    pub bid_qty: Option<f64>,
    pub ask_price: Option<f64>,
    pub ask_qty: Option<f64>,
    pub source: String,
}

/// Builds `quotes` batches.
#[derive(Default)]
pub struct QuotesBuilder {
    rows: Vec<DepthLevel>,
}

impl QuotesBuilder {
    pub fn push(&mut self, q: DepthLevel) {
        self.rows.push(q);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let mut symbol = StringBuilder::new();
        let (mut ev, mut rv) = (ts_builder(n), ts_builder(n));
        let mut level = Int32Builder::with_capacity(n);
        let mut px: Vec<Float64Builder> =
            (0..4).map(|_| Float64Builder::with_capacity(n)).collect();
        let mut source = StringBuilder::new();
        let mut date = StringBuilder::new();
        for q in &rows {
            symbol.append_value(&q.symbol);
            ev.append_value(q.ts_event.as_micros());
            rv.append_value(q.ts_recv.as_micros());
            level.append_value(q.level);
            for (b, v) in px
                .iter_mut()
                .zip([q.bid_price, q.bid_qty, q.ask_price, q.ask_qty])
            {
                b.append_option(v);
            }
            source.append_value(&q.source);
            date.append_value(utc_date(q.ts_event));
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(symbol.finish()),
            Arc::new(ev.finish()),
            Arc::new(rv.finish()),
            Arc::new(level.finish()),
        ];
        cols.extend(px.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(source.finish()));
        cols.push(Arc::new(date.finish()));
        finish(&tables::QUOTES, cols)
    }
}

/// Reference data about one instrument, as one source describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Instrument {
    pub symbol: String,
    pub exchange: Option<String>,
    pub name: Option<String>,
    pub instrument_type: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub source: String,
}

/// Builds `instruments` batches.
#[derive(Default)]
pub struct InstrumentsBuilder {
    rows: Vec<Instrument>,
}

impl InstrumentsBuilder {
    pub fn push(&mut self, i: Instrument) {
        self.rows.push(i);
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let mut s: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
        let (mut ev, mut rv) = (ts_builder(n), ts_builder(n));
        let mut source = StringBuilder::new();
        for i in &rows {
            s[0].append_value(&i.symbol);
            let opts = [
                &i.exchange,
                &i.name,
                &i.instrument_type,
                &i.currency,
                &i.timezone,
            ];
            for (b, v) in s[1..].iter_mut().zip(opts) {
                b.append_option(v.as_deref());
            }
            ev.append_value(i.ts_event.as_micros());
            rv.append_value(i.ts_recv.as_micros());
            source.append_value(&i.source);
        }
        let mut cols: Vec<ArrayRef> = s
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        cols.push(Arc::new(ev.finish()));
        cols.push(Arc::new(rv.finish()));
        cols.push(Arc::new(source.finish()));
        finish(&tables::INSTRUMENTS, cols)
    }
}

/// A refused input record.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarantineRecord {
    /// Where the input came from (`csv:/path/file.csv`, `yahoo:AAPL`, `upstox-feed`).
    pub source: String,
    /// The input unit: the content hash of the file (and options), API response or feed frame
    /// batch. Decoders leave it empty; the ingest that lands the unit sets it.
    pub unit: String,
    /// Where in the input (`line 17`, `row 3`, `frame 12 feed NSE_EQ|…`).
    pub location: String,
    /// The table the record was meant for.
    pub target_table: String,
    /// Why it was refused, naming the field.
    pub reason: String,
    /// The raw record (text as is; binary as base64, see `raw_encoding`).
    pub raw: String,
    pub raw_encoding: &'static str,
    pub ts_recv: Timestamp,
}

impl QuarantineRecord {
    /// A refused record meant for `target_table`; the ingest that lands its unit sets `unit`.
    pub fn new(
        source: &str,
        target_table: &str,
        location: impl Into<String>,
        reason: impl Into<String>,
        raw: impl Into<String>,
        raw_encoding: &'static str,
        ts_recv: Timestamp,
    ) -> Self {
        Self {
            source: source.into(),
            unit: String::new(),
            location: location.into(),
            target_table: target_table.into(),
            reason: reason.into(),
            raw: raw.into(),
            raw_encoding,
            ts_recv,
        }
    }
}

/// Builds `quarantine` batches.
#[derive(Default)]
pub struct QuarantineBuilder {
    rows: Vec<QuarantineRecord>,
}

impl QuarantineBuilder {
    pub fn push(&mut self, q: QuarantineRecord) {
        self.rows.push(q);
    }

    pub fn records(&self) -> &[QuarantineRecord] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let mut s: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
        let mut rv = ts_builder(rows.len());
        for q in &rows {
            let vals = [
                &q.source,
                &q.unit,
                &q.location,
                &q.target_table,
                &q.reason,
                &q.raw,
            ];
            for (b, v) in s.iter_mut().zip(vals) {
                b.append_value(v);
            }
            s[6].append_value(q.raw_encoding);
            rv.append_value(q.ts_recv.as_micros());
        }
        let mut cols: Vec<ArrayRef> = s
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        cols.push(Arc::new(rv.finish()));
        finish(&tables::QUARANTINE, cols)
    }
}

/// A completed ingest unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub source: String,
    pub content_hash: String,
    pub target_table: String,
    pub last_ts_event: Option<Timestamp>,
    pub rows_read: i64,
    pub rows_added: i64,
    pub rows_quarantined: i64,
    pub table_version: Option<i64>,
    pub ts_recv: Timestamp,
}

/// Builds `ingest_checkpoints` batches.
#[derive(Default)]
pub struct CheckpointsBuilder {
    rows: Vec<Checkpoint>,
}

impl CheckpointsBuilder {
    pub fn push(&mut self, c: Checkpoint) {
        self.rows.push(c);
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let mut s: Vec<StringBuilder> = (0..3).map(|_| StringBuilder::new()).collect();
        let mut last = ts_builder(n);
        let mut ints: Vec<Int64Builder> = (0..4).map(|_| Int64Builder::with_capacity(n)).collect();
        let mut rv = ts_builder(n);
        for c in &rows {
            for (b, v) in s
                .iter_mut()
                .zip([&c.source, &c.content_hash, &c.target_table])
            {
                b.append_value(v);
            }
            last.append_option(c.last_ts_event.map(Timestamp::as_micros));
            ints[0].append_value(c.rows_read);
            ints[1].append_value(c.rows_added);
            ints[2].append_value(c.rows_quarantined);
            ints[3].append_option(c.table_version);
            rv.append_value(c.ts_recv.as_micros());
        }
        let mut cols: Vec<ArrayRef> = s
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        cols.push(Arc::new(last.finish()));
        cols.extend(ints.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(rv.finish()));
        finish(&tables::INGEST_CHECKPOINTS, cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(o: f64, h: f64, l: f64, c: f64) -> Bar {
        let ts = Timestamp::parse_rfc3339("2020-01-02T00:00:00Z").unwrap();
        Bar {
            symbol: Symbol::new("X").unwrap(),
            timeframe: Timeframe::Days(1),
            ts_event: ts,
            ts_recv: Timeframe::Days(1).bar_end(ts),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: Some(1.0),
            source: "t".into(),
        }
    }

    #[test]
    fn validate_names_the_problem() {
        assert!(bar(1.0, 2.0, 0.5, 1.5).validate().is_ok());
        let err = |b: Bar| b.validate().unwrap_err();
        assert!(err(bar(1.0, 0.9, 0.5, 0.6)).contains("above `high`"));
        assert!(err(bar(1.0, 2.0, 2.5, 1.5)).contains("`high` 2 < `low` 2.5"));
        assert!(err(bar(f64::NAN, 2.0, 0.5, 1.5)).contains("`open`"));
    }

    #[test]
    fn builders_match_table_schemas() {
        let mut b = BarsBuilder::default();
        b.push(&bar(1.0, 2.0, 0.5, 1.5));
        assert_eq!(b.finish().unwrap().schema(), tables::BARS.arrow_schema());
        let mut t = TicksBuilder::default();
        t.push(Tick {
            symbol: "X".into(),
            price: 1.0,
            source: "t".into(),
            ..Default::default()
        });
        assert_eq!(t.finish().unwrap().schema(), tables::TICKS.arrow_schema());
        assert_eq!(
            QuotesBuilder::default().finish().unwrap().schema(),
            tables::QUOTES.arrow_schema()
        );
        assert_eq!(
            QuarantineBuilder::default().finish().unwrap().schema(),
            tables::QUARANTINE.arrow_schema()
        );
        assert_eq!(
            CheckpointsBuilder::default().finish().unwrap().schema(),
            tables::INGEST_CHECKPOINTS.arrow_schema()
        );
    }
}

/// One feature value of one bar.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureValue {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub feature_set: String,
    pub feature_set_version: i32,
    pub feature: String,
    pub value: f64,
    pub source_table: String,
    pub source_version: i64,
}

/// Builds `features` batches.
#[derive(Default)]
pub struct FeaturesBuilder {
    rows: Vec<FeatureValue>,
}

impl FeaturesBuilder {
    pub fn push(&mut self, v: FeatureValue) {
        self.rows.push(v);
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let (mut sym, mut tf, mut fs, mut feat, mut src) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let (mut te, mut tr) = (ts_builder(n), ts_builder(n));
        let (mut ver, mut year) = (
            Int32Builder::with_capacity(n),
            Int32Builder::with_capacity(n),
        );
        let mut val = Float64Builder::with_capacity(n);
        let mut sv = Int64Builder::with_capacity(n);
        for r in &rows {
            sym.append_value(r.symbol.as_str());
            tf.append_value(r.timeframe.to_string());
            te.append_value(r.ts_event.as_micros());
            tr.append_value(r.ts_recv.as_micros());
            fs.append_value(&r.feature_set);
            ver.append_value(r.feature_set_version);
            feat.append_value(&r.feature);
            val.append_value(r.value);
            src.append_value(&r.source_table);
            sv.append_value(r.source_version);
            year.append_value(year_of(r.ts_event));
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(sym.finish()),
            Arc::new(tf.finish()),
            Arc::new(te.finish()),
            Arc::new(tr.finish()),
            Arc::new(fs.finish()),
            Arc::new(ver.finish()),
            Arc::new(feat.finish()),
            Arc::new(val.finish()),
            Arc::new(src.finish()),
            Arc::new(sv.finish()),
            Arc::new(year.finish()),
        ];
        finish(&tables::FEATURES, cols)
    }
}

/// A forward label of one bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub horizon: i32,
    pub fwd_return: f64,
    pub direction: i8,
    pub source_version: i64,
}

/// Builds `labels` batches.
#[derive(Default)]
pub struct LabelsBuilder {
    rows: Vec<Label>,
}

impl LabelsBuilder {
    pub fn push(&mut self, v: Label) {
        self.rows.push(v);
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let (mut sym, mut tf) = (StringBuilder::new(), StringBuilder::new());
        let (mut te, mut tr) = (ts_builder(n), ts_builder(n));
        let (mut h, mut year) = (
            Int32Builder::with_capacity(n),
            Int32Builder::with_capacity(n),
        );
        let mut ret = Float64Builder::with_capacity(n);
        let mut dir = Int8Builder::with_capacity(n);
        let mut sv = Int64Builder::with_capacity(n);
        for r in &rows {
            sym.append_value(r.symbol.as_str());
            tf.append_value(r.timeframe.to_string());
            te.append_value(r.ts_event.as_micros());
            tr.append_value(r.ts_recv.as_micros());
            h.append_value(r.horizon);
            ret.append_value(r.fwd_return);
            dir.append_value(r.direction);
            sv.append_value(r.source_version);
            year.append_value(year_of(r.ts_event));
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(sym.finish()),
            Arc::new(tf.finish()),
            Arc::new(te.finish()),
            Arc::new(tr.finish()),
            Arc::new(h.finish()),
            Arc::new(ret.finish()),
            Arc::new(dir.finish()),
            Arc::new(sv.finish()),
            Arc::new(year.finish()),
        ];
        finish(&tables::LABELS, cols)
    }
}

/// One rule signal.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalRow {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub rule: String,
    pub direction: i8,
    pub strength: f64,
    /// JSON object of the feature values that produced the signal.
    pub features: String,
}

/// Builds `signals` batches.
#[derive(Default)]
pub struct SignalsBuilder {
    rows: Vec<SignalRow>,
}

impl SignalsBuilder {
    pub fn push(&mut self, v: SignalRow) {
        self.rows.push(v);
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let n = rows.len();
        let (mut sym, mut tf, mut rule, mut feats) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let (mut te, mut tr) = (ts_builder(n), ts_builder(n));
        let mut dir = Int8Builder::with_capacity(n);
        let mut st = Float64Builder::with_capacity(n);
        let mut year = Int32Builder::with_capacity(n);
        for r in &rows {
            sym.append_value(r.symbol.as_str());
            tf.append_value(r.timeframe.to_string());
            te.append_value(r.ts_event.as_micros());
            tr.append_value(r.ts_recv.as_micros());
            rule.append_value(&r.rule);
            dir.append_value(r.direction);
            st.append_value(r.strength);
            feats.append_value(&r.features);
            year.append_value(year_of(r.ts_event));
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(sym.finish()),
            Arc::new(tf.finish()),
            Arc::new(te.finish()),
            Arc::new(tr.finish()),
            Arc::new(rule.finish()),
            Arc::new(dir.finish()),
            Arc::new(st.finish()),
            Arc::new(feats.finish()),
            Arc::new(year.finish()),
        ];
        finish(&tables::SIGNALS, cols)
    }
}

/// One calendar row.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarDay {
    pub calendar: String,
    pub date: chrono::NaiveDate,
    /// `holiday` or `early_close`.
    pub rule: String,
    /// Local close time (`HH:MM`) of an early close.
    pub close_time: Option<String>,
    pub note: Option<String>,
    pub source: String,
    pub ts_recv: Timestamp,
}

/// Builds `calendar` batches.
#[derive(Default)]
pub struct CalendarBuilder {
    rows: Vec<CalendarDay>,
}

impl CalendarBuilder {
    pub fn push(&mut self, v: CalendarDay) {
        self.rows.push(v);
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let (mut cal, mut rule, mut ct, mut note, mut src) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let mut date = Date32Builder::with_capacity(rows.len());
        let mut tr = ts_builder(rows.len());
        for r in &rows {
            cal.append_value(&r.calendar);
            date.append_value(r.date.signed_duration_since(epoch).num_days() as i32);
            rule.append_value(&r.rule);
            ct.append_option(r.close_time.as_deref());
            note.append_option(r.note.as_deref());
            src.append_value(&r.source);
            tr.append_value(r.ts_recv.as_micros());
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(cal.finish()),
            Arc::new(date.finish()),
            Arc::new(rule.finish()),
            Arc::new(ct.finish()),
            Arc::new(note.finish()),
            Arc::new(src.finish()),
            Arc::new(tr.finish()),
        ];
        finish(&tables::CALENDAR, cols)
    }
}
