//! Ingest jobs: files, Yahoo, Upstox candles and the Upstox feed into the warehouse.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampMicrosecondType;
use chrono::{DateTime, Utc};
use elite_collectors::Decoded;
use elite_collectors::bars_csv::{BarsOptions, decode_bars_csv};
use elite_collectors::bars_parquet::decode_bars_parquet;
use elite_collectors::upstox::{self, FeedDecoded, UpstoxClient};
use elite_collectors::yahoo::{self, YahooClient};
use elite_store::datafusion::prelude::{col, lit};
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::tables::{self, TableSpec};
use elite_warehouse::{
    Checkpoint, CheckpointsBuilder, Clock, Instrument, InstrumentsBuilder, QuarantineBuilder,
    QuarantineRecord, QuotesBuilder, Symbol, TicksBuilder, Timestamp,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::progress::Reporter;
use crate::{Error, Result};

mod csv_stream;

/// The file formats `ingest_file` reads (either may be gzip-compressed: `.gz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Parquet,
}

impl FileFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

/// One file to ingest into `bars`.
#[derive(Clone, Debug)]
pub struct FileIngest {
    pub path: PathBuf,
    pub format: FileFormat,
    pub opts: BarsOptions,
    /// Decode and write even if a checkpoint says this exact input already landed.
    pub force: bool,
    /// CSV only: bytes per chunk of records read, decoded and written at a time (memory per
    /// decoder); `None`: 2 MiB.
    pub chunk_bytes: Option<usize>,
}

impl FileIngest {
    pub fn new(path: impl Into<PathBuf>, format: FileFormat, opts: BarsOptions) -> Self {
        Self {
            path: path.into(),
            format,
            opts,
            force: false,
            chunk_bytes: None,
        }
    }
}

/// What an ingest did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    pub source: String,
    pub table: String,
    pub content_hash: String,
    pub rows_read: usize,
    pub rows_added: usize,
    /// Good rows whose key was already in the table (a re-ingest).
    pub rows_already_present: usize,
    pub rows_quarantined: usize,
    pub table_version: Option<u64>,
    /// The input had been fully ingested before: nothing was decoded or written.
    pub already_ingested: bool,
    /// The first quarantined records: (location, reason).
    pub quarantine_sample: Vec<(String, String)>,
    /// Chunks whose keys had to be looked up in the table (their symbols and times met its
    /// files); the others were known new from the files' statistics alone. Streaming CSV only.
    pub key_lookups: usize,
}

/// Runs ingest jobs against one warehouse.
#[derive(Clone)]
pub struct Ingestor {
    wh: Warehouse,
    clock: Arc<dyn Clock>,
}

pub(crate) fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

fn max_ts(batch: &RecordBatch) -> Option<Timestamp> {
    let c = batch
        .column_by_name("ts_event")?
        .as_primitive::<TimestampMicrosecondType>();
    arrow::compute::max(c).map(|us| Timestamp::from_nanos(us.saturating_mul(1_000)))
}

/// Read a file, transparently un-gzipping `*.gz`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let err = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    let raw = std::fs::read(path).map_err(err)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(err)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

impl Ingestor {
    pub fn new(wh: Warehouse, clock: Arc<dyn Clock>) -> Self {
        Self { wh, clock }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn warehouse(&self) -> &Warehouse {
        &self.wh
    }

    /// The checkpoint of `(source, content_hash)`, if that unit already landed.
    pub async fn checkpoint(&self, source: &str, content_hash: &str) -> Result<Option<Checkpoint>> {
        let filter = col("source")
            .eq(lit(source))
            .and(col("content_hash").eq(lit(content_hash)));
        let batches = self
            .wh
            .read(tables::INGEST_CHECKPOINTS.name, At::Latest, Some(filter))
            .await?;
        Ok(batches.iter().find(|b| b.num_rows() > 0).map(|b| {
            let i64_at = |name: &str| {
                b.column_by_name(name)
                    .map(|c| c.as_primitive::<arrow::datatypes::Int64Type>().value(0))
            };
            Checkpoint {
                source: source.into(),
                content_hash: content_hash.into(),
                target_table: String::new(),
                last_ts_event: None,
                rows_read: i64_at("rows_read").unwrap_or(0),
                rows_added: i64_at("rows_added").unwrap_or(0),
                rows_quarantined: i64_at("rows_quarantined").unwrap_or(0),
                table_version: b.column_by_name("table_version").and_then(|c| {
                    let c = c.as_primitive::<arrow::datatypes::Int64Type>();
                    (!c.is_null(0)).then(|| c.value(0))
                }),
                ts_recv: Timestamp::from_nanos(0),
            }
        }))
    }

    /// Whether any checkpoint names `source` (whatever its content hash).
    pub async fn has_checkpoint(&self, source: &str) -> Result<bool> {
        let batches = self.checkpoints_of(source).await?;
        Ok(batches.iter().any(|b| b.num_rows() > 0))
    }

    /// Every checkpoint row of `source`.
    async fn checkpoints_of(&self, source: &str) -> Result<Vec<RecordBatch>> {
        Ok(self
            .wh
            .read(
                tables::INGEST_CHECKPOINTS.name,
                At::Latest,
                Some(col("source").eq(lit(source))),
            )
            .await?)
    }

    /// The latest `ts_event` any checkpoint of `source` recorded: where a collector resumes.
    pub async fn resume_point(&self, source: &str) -> Result<Option<Timestamp>> {
        let batches = self.checkpoints_of(source).await?;
        Ok(batches
            .iter()
            .filter_map(|b| {
                let c = b
                    .column_by_name("last_ts_event")?
                    .as_primitive::<TimestampMicrosecondType>();
                arrow::compute::max(c)
            })
            .max()
            .map(|us| Timestamp::from_nanos(us.saturating_mul(1_000))))
    }

    /// Land one decoded unit: quarantine, then the target table, then the checkpoint.
    pub(crate) async fn land(
        &self,
        source: &str,
        content_hash: &str,
        spec: &'static TableSpec,
        decoded: Decoded,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let Decoded {
            batch,
            quarantine,
            rows_read,
        } = decoded;
        let last_ts = max_ts(&batch);
        let sample = quarantine
            .iter()
            .take(10)
            .map(|q| (q.location.clone(), q.reason.clone()))
            .collect();
        let rows_quarantined = quarantine.len();
        self.write_quarantine(source, content_hash, quarantine)
            .await?;
        reporter.stage(
            &format!("writing {}", spec.name),
            Some(batch.num_rows() as u64),
        );
        let meta = CommitMeta::new(source).with("content_hash", content_hash);
        let out = self.wh.insert_new(spec, vec![batch], meta).await?;
        reporter.progress(out.rows_in as u64);
        reporter.finish();
        let report = IngestReport {
            source: source.into(),
            table: spec.name.into(),
            content_hash: content_hash.into(),
            rows_read,
            rows_added: out.rows_added,
            rows_already_present: out.rows_already_present + out.rows_duplicate_in_input,
            rows_quarantined,
            table_version: out.version,
            already_ingested: false,
            quarantine_sample: sample,
            key_lookups: 0,
        };
        self.write_checkpoint(&report, last_ts).await?;
        count_landed(spec.name, report.rows_added, report.rows_quarantined);
        Ok(report)
    }

    /// Quarantine the refused records of one unit, each keyed by the unit's content hash and its
    /// location: re-landing the same unit adds nothing, another unit's records always land.
    async fn write_quarantine(
        &self,
        source: &str,
        unit: &str,
        records: Vec<QuarantineRecord>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut qb = QuarantineBuilder::default();
        records.into_iter().for_each(|mut r| {
            r.unit = unit.to_string();
            qb.push(r)
        });
        self.wh
            .insert_new(
                &tables::QUARANTINE,
                vec![qb.finish()?],
                CommitMeta::new(source),
            )
            .await?;
        Ok(())
    }

    async fn write_checkpoint(
        &self,
        r: &IngestReport,
        last_ts_event: Option<Timestamp>,
    ) -> Result<()> {
        let mut cb = CheckpointsBuilder::default();
        cb.push(Checkpoint {
            source: r.source.clone(),
            content_hash: r.content_hash.clone(),
            target_table: r.table.clone(),
            last_ts_event,
            rows_read: r.rows_read as i64,
            rows_added: r.rows_added as i64,
            rows_quarantined: r.rows_quarantined as i64,
            table_version: r.table_version.map(|v| v as i64),
            ts_recv: self.clock.now(),
        });
        self.wh
            .insert_new(
                &tables::INGEST_CHECKPOINTS,
                vec![cb.finish()?],
                CommitMeta::new(&r.source),
            )
            .await?;
        Ok(())
    }

    pub(crate) fn skipped(
        source: String,
        table: &str,
        content_hash: String,
        cp: Checkpoint,
    ) -> IngestReport {
        IngestReport {
            source,
            table: table.into(),
            content_hash,
            rows_read: cp.rows_read as usize,
            rows_added: 0,
            rows_already_present: 0,
            rows_quarantined: 0,
            table_version: cp.table_version.map(|v| v as u64),
            already_ingested: true,
            quarantine_sample: Vec::new(),
            key_lookups: 0,
        }
    }

    /// Ingest a CSV or Parquet file of bars.
    pub async fn ingest_file(
        &self,
        f: &FileIngest,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = format!("{}:{name}", f.format.as_str());
        let o = &f.opts;
        let options = format!(
            "{:?}|{}|{}|{:?}|{:?}|{:?}|{}",
            o.symbol.as_ref().map(Symbol::as_str),
            o.timeframe,
            o.tz,
            o.ts_format,
            o.columns,
            o.label,
            o.delimiter
        );
        if f.format == FileFormat::Csv {
            return self.ingest_csv_stream(f, source, options, reporter).await;
        }
        reporter.stage(&format!("reading {}", f.path.display()), None);
        let bytes = read_input(&f.path)?;
        let content_hash = hash(&[&bytes, options.as_bytes()]);
        if !f.force
            && let Some(cp) = self.checkpoint(&source, &content_hash).await?
        {
            return Ok(Self::skipped(source, tables::BARS.name, content_hash, cp));
        }
        reporter.stage("decoding", None);
        let mut opts = f.opts.clone();
        opts.source = source.clone();
        let clock = Arc::clone(&self.clock);
        let format = f.format;
        let decoded = tokio::task::spawn_blocking(move || match format {
            FileFormat::Csv => decode_bars_csv(&bytes[..], &opts, clock.as_ref()),
            FileFormat::Parquet => {
                decode_bars_parquet(bytes::Bytes::from(bytes), &opts, clock.as_ref())
            }
        })
        .await
        .map_err(Error::from)??;
        reporter.finish();
        self.land(&source, &content_hash, &tables::BARS, decoded, reporter)
            .await
    }

    /// Fetch and ingest a Yahoo chart; `from` defaults to the last checkpoint of this
    /// symbol/interval (resume), else one year before `to`.
    pub async fn ingest_yahoo(
        &self,
        client: &YahooClient,
        symbol: &Symbol,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
        interval: &str,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let source = format!("yahoo:{symbol}:{interval}");
        let from = match from {
            Some(f) => f,
            None => match self.resume_point(&source).await? {
                Some(ts) => ts.to_datetime(),
                None => to - chrono::Duration::days(365),
            },
        };
        reporter.stage(
            &format!(
                "fetching {symbol} {interval} {} … {}",
                from.date_naive(),
                to.date_naive()
            ),
            None,
        );
        let body = client.chart(symbol, from, to, interval).await?;
        reporter.finish();
        self.ingest_yahoo_body(&source, &body, reporter).await
    }

    /// Ingest one Yahoo chart response body (fetched, or saved to a file).
    pub async fn ingest_yahoo_body(
        &self,
        source: &str,
        body: &[u8],
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let content_hash = hash(&[body]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::BARS.name,
                content_hash,
                cp,
            ));
        }
        let chart = yahoo::decode_chart(body, source, self.clock.as_ref())?;
        let now = self.clock.now();
        let m = &chart.meta;
        let mut ib = InstrumentsBuilder::default();
        ib.push(Instrument {
            symbol: m.symbol.clone(),
            exchange: m.exchange_name.clone(),
            name: m.long_name.clone().or_else(|| m.short_name.clone()),
            instrument_type: m.instrument_type.clone(),
            currency: m.currency.clone(),
            timezone: m.exchange_timezone_name.clone(),
            ts_event: now,
            ts_recv: now,
            source: "yahoo".into(),
        });
        self.wh
            .insert_new(
                &tables::INSTRUMENTS,
                vec![ib.finish()?],
                CommitMeta::new(source),
            )
            .await?;
        self.land(
            source,
            &content_hash,
            &tables::BARS,
            chart.decoded,
            reporter,
        )
        .await
    }

    /// Fetch and ingest Upstox historical candles (v3 `unit`/`interval`, or v2 when `unit` is empty).
    #[allow(clippy::too_many_arguments)]
    pub async fn ingest_upstox_history(
        &self,
        client: &UpstoxClient,
        key: &Symbol,
        unit: &str,
        interval: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let timeframe = upstox::candle_timeframe(unit, interval)?;
        reporter.stage(&format!("fetching {key} {timeframe} {from} … {to}"), None);
        let (to_s, from_s) = (
            to.format("%Y-%m-%d").to_string(),
            from.format("%Y-%m-%d").to_string(),
        );
        let body = if unit.is_empty() {
            client.candles_v2(key, interval, &to_s, &from_s).await?
        } else {
            client
                .candles_v3(key, unit, interval, &to_s, &from_s)
                .await?
        };
        reporter.finish();
        self.ingest_upstox_body(key, timeframe, &body, reporter)
            .await
    }

    /// Ingest one Upstox candle response body (fetched, or saved to a file).
    pub async fn ingest_upstox_body(
        &self,
        key: &Symbol,
        timeframe: elite_warehouse::Timeframe,
        body: &[u8],
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let source = format!("upstox:{key}:{timeframe}");
        let content_hash = hash(&[body, key.as_str().as_bytes()]);
        if let Some(cp) = self.checkpoint(&source, &content_hash).await? {
            return Ok(Self::skipped(source, tables::BARS.name, content_hash, cp));
        }
        let decoded = upstox::decode_candles(body, key, timeframe, &source, self.clock.as_ref())?;
        self.land(&source, &content_hash, &tables::BARS, decoded, reporter)
            .await
    }

    /// Land a batch of decoded feed frames (`ticks`, `quotes`, `quarantine`) as one unit, whose
    /// content hash is that of the frames' bytes in order.
    pub async fn land_feed(&self, frames: Vec<FeedDecoded>) -> Result<FeedReport> {
        const SOURCE: &str = "upstox-feed";
        let frame_bytes_hash = {
            let mut h = Sha256::new();
            for f in &frames {
                h.update(f.frame_sha256);
            }
            hex::encode(h.finalize())
        };
        let (mut tb, mut qb) = (TicksBuilder::default(), QuotesBuilder::default());
        let mut quarantine = Vec::new();
        let n_frames = frames.len();
        for f in frames {
            f.ticks.into_iter().for_each(|t| tb.push(t));
            f.quotes.into_iter().for_each(|q| qb.push(q));
            quarantine.extend(f.quarantine);
        }
        if let Some(cp) = self.checkpoint(SOURCE, &frame_bytes_hash).await? {
            return Ok(FeedReport {
                frames: n_frames,
                ticks_added: 0,
                quotes_added: 0,
                quarantined: 0,
                already_ingested: true,
                ticks_version: cp.table_version.map(|v| v as u64),
            });
        }
        let quarantined = quarantine.len();
        self.write_quarantine(SOURCE, &frame_bytes_hash, quarantine)
            .await?;
        let ticks = tb.finish()?;
        let last_ts = max_ts(&ticks);
        let rows_read = ticks.num_rows();
        let meta = || CommitMeta::new(SOURCE).with("content_hash", frame_bytes_hash.as_str());
        let t = self
            .wh
            .insert_new(&tables::TICKS, vec![ticks], meta())
            .await?;
        let q = self
            .wh
            .insert_new(&tables::QUOTES, vec![qb.finish()?], meta())
            .await?;
        let report = IngestReport {
            source: SOURCE.into(),
            table: tables::TICKS.name.into(),
            content_hash: frame_bytes_hash,
            rows_read,
            rows_added: t.rows_added,
            rows_already_present: t.rows_already_present,
            rows_quarantined: quarantined,
            table_version: t.version,
            already_ingested: false,
            quarantine_sample: Vec::new(),
            key_lookups: 0,
        };
        self.write_checkpoint(&report, last_ts).await?;
        count_landed(tables::TICKS.name, t.rows_added, quarantined);
        count_landed(tables::QUOTES.name, q.rows_added, 0);
        crate::ops::metrics::metrics()
            .feed_frames
            .get_or_create(&vec![("source", SOURCE.to_string())])
            .inc_by(n_frames as u64);
        Ok(FeedReport {
            frames: n_frames,
            ticks_added: t.rows_added,
            quotes_added: q.rows_added,
            quarantined,
            already_ingested: false,
            ticks_version: t.version,
        })
    }

    /// Replay recorded feed frames (`*.bin` files, in name order) into the warehouse.
    pub async fn replay_feed_dir(
        &self,
        dir: &Path,
        flush_every: usize,
        reporter: &dyn Reporter,
    ) -> Result<FeedReport> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| Error::Read {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .collect();
        paths.sort();
        reporter.stage("replaying feed frames", Some(paths.len() as u64));
        let mut total = FeedReport::default();
        for (i, chunk) in paths.chunks(flush_every.max(1)).enumerate() {
            let mut frames = Vec::new();
            for p in chunk {
                let bytes = read_input(p)?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                frames.push(upstox::decode_feed(&bytes, &name, self.clock.as_ref()));
            }
            let r = self.land_feed(frames).await?;
            total.add(&r);
            reporter.progress(((i + 1) * flush_every.max(1)).min(paths.len()) as u64);
        }
        reporter.finish();
        Ok(total)
    }
}

/// Count rows landed in `table` and records quarantined from its input (`/metrics`).
fn count_landed(table: &str, added: usize, quarantined: usize) {
    let m = crate::ops::metrics::metrics();
    let l = vec![("table", table.to_string())];
    m.rows_ingested.get_or_create(&l).inc_by(added as u64);
    m.rows_quarantined
        .get_or_create(&l)
        .inc_by(quarantined as u64);
}

/// What landing feed frames did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FeedReport {
    pub frames: usize,
    pub ticks_added: usize,
    pub quotes_added: usize,
    pub quarantined: usize,
    pub already_ingested: bool,
    pub ticks_version: Option<u64>,
}

impl FeedReport {
    /// Accumulate another report into this one.
    pub fn add(&mut self, r: &FeedReport) {
        // "Already ingested" only if every unit added so far was.
        let first = self.frames == 0;
        self.already_ingested = r.already_ingested && (first || self.already_ingested);
        self.frames += r.frames;
        self.ticks_added += r.ticks_added;
        self.quotes_added += r.quotes_added;
        self.quarantined += r.quarantined;
        self.ticks_version = r.ticks_version.or(self.ticks_version);
    }
}
