//! CSV bars into `bars` in bounded memory: the file is read in chunks of whole records, the
//! chunks are decoded on every core, and the decoded rows are checked and written in file order.
//!
//! Per chunk, in order: rows whose key an earlier row of the file took are quarantined with the
//! first row's line (per symbol the keys seen are kept as runs, so the memory of this check does
//! not grow with a time-ordered file); rows whose key the table already holds are skipped (only
//! where the chunk's symbols and times meet the table's files); the rest stream into Parquet
//! files. One Delta commit at the end makes them visible, then the checkpoint records the file.
//! Memory is bounded by the chunks in flight and the writer's budget, not by the file.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::TimestampMicrosecondType;
use elite_collectors::bars_csv::{CsvBarsHeader, DecodedChunk, SymbolKeys, decode_bars_csv_chunk};
use elite_collectors::csv_chunks::{Chunk, Chunker};
use elite_store::CommitMeta;
use elite_warehouse::tables;
use elite_warehouse::{QuarantineRecord, Timestamp};
use sha2::{Digest, Sha256};

use super::{FileIngest, IngestReport, Ingestor, count_landed};
use crate::progress::Reporter;
use crate::{Error, Result};

/// Bytes of CSV per chunk.
const CHUNK_BYTES: usize = 2 << 20;
/// Arrow bytes of new rows held before the largest partitions are written out.
const WRITE_BUDGET: usize = 64 << 20;
/// Quarantined records held before they are written.
const QUARANTINE_FLUSH: usize = 50_000;

/// The content hash of a file and the options that read it, streamed: for a plain file the same
/// value as hashing its bytes whole (`ingest::hash`); a `.gz` file is hashed as stored.
pub(crate) fn hash_file(path: &Path, options: &str) -> Result<String> {
    let err = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    let mut h = Sha256::new();
    h.update(len.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(e)),
        };
        seen += n as u64;
        h.update(&buf[..n]);
    }
    if seen != len {
        return Err(err(std::io::Error::other(format!(
            "the file changed while being read ({len} bytes, then {seen})"
        ))));
    }
    h.update((options.len() as u64).to_le_bytes());
    h.update(options.as_bytes());
    Ok(hex::encode(h.finalize()))
}

fn open_input(path: &Path) -> Result<Box<dyn Read + Send>> {
    let f = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, f),
        ))
    } else {
        Box::new(f)
    })
}

/// Per symbol, the keys seen so far in this file.
#[derive(Default)]
struct FileKeys {
    by_symbol: HashMap<String, SymbolKeys>,
}

impl FileKeys {
    /// Keep-mask of `d`'s rows; a row whose key an earlier row took is quarantined.
    fn check(
        &mut self,
        d: &DecodedChunk,
        bytes: &[u8],
        source: &str,
        now: Timestamp,
        quarantine: &mut Vec<QuarantineRecord>,
    ) -> Result<Option<BooleanArray>> {
        let b = &d.batch;
        let (Some(sym), Some(ts)) = (b.column_by_name("symbol"), b.column_by_name("ts_event"))
        else {
            return Err(Error::Internal("bars batch without symbol/ts_event".into()));
        };
        let sym = sym.as_string::<i32>();
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let mut drop = Vec::new();
        let mut cur: Option<(&str, &mut SymbolKeys)> = None;
        for i in 0..b.num_rows() {
            let s = sym.value(i);
            let keys = match cur.take() {
                Some((name, k)) if name == s => k,
                _ => {
                    if !self.by_symbol.contains_key(s) {
                        self.by_symbol.insert(s.to_string(), SymbolKeys::default());
                    }
                    self.by_symbol
                        .get_mut(s)
                        .ok_or_else(|| Error::Internal("symbol keys lost".into()))?
                }
            };
            let t = ts.value(i);
            if let Some(first) = keys.check_raw(t, d.lines[i]) {
                let (lo, hi) = d.spans[i];
                let raw = bytes
                    .get(lo as usize..hi as usize)
                    .unwrap_or_default()
                    .trim_ascii_end();
                quarantine.push(QuarantineRecord {
                    source: source.to_string(),
                    unit: String::new(),
                    location: format!("line {}", d.lines[i]),
                    target_table: tables::BARS.name.into(),
                    reason: format!(
                        "duplicate key (symbol {s}, ts_event {}) first seen on line {first}",
                        Timestamp::from_nanos(t.saturating_mul(1_000))
                    ),
                    raw: String::from_utf8_lossy(raw).into_owned(),
                    raw_encoding: "utf8",
                    ts_recv: now,
                });
                drop.push(i);
            }
            cur = Some((s, keys));
        }
        if drop.is_empty() {
            return Ok(None);
        }
        let mut keep = vec![true; b.num_rows()];
        for i in drop {
            keep[i] = false;
        }
        Ok(Some(BooleanArray::from(keep)))
    }
}

impl Ingestor {
    /// Ingest a CSV file of bars in chunks (see the module docs).
    pub(crate) async fn ingest_csv_stream(
        &self,
        f: &FileIngest,
        source: String,
        options: String,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        // The content hash decides whether the file already landed. When no checkpoint names this
        // source, it cannot have: the hash is then computed beside the decoding, not before it.
        let path = f.path.clone();
        let hashing = tokio::task::spawn_blocking(move || hash_file(&path, &options));
        let mut hash = if !f.force && self.has_checkpoint(&source).await? {
            reporter.stage(&format!("hashing {}", f.path.display()), None);
            let content_hash = hashing.await??;
            if let Some(cp) = self.checkpoint(&source, &content_hash).await? {
                return Ok(Self::skipped(source, tables::BARS.name, content_hash, cp));
            }
            Hash::Ready(content_hash)
        } else {
            Hash::Pending(hashing)
        };
        let mut opts = f.opts.clone();
        opts.source = source.clone();
        let now = self.clock().now();

        // The header, from the first bytes.
        let mut input = open_input(&f.path)?;
        let mut prefix = Vec::with_capacity(1 << 16);
        (&mut input)
            .take(1 << 16)
            .read_to_end(&mut prefix)
            .map_err(|source| Error::Read {
                path: f.path.display().to_string(),
                source,
            })?;
        let (header, consumed) = CsvBarsHeader::from_prefix(&prefix, &opts)?;
        let first_line = 1 + memchr::memchr_iter(b'\n', &prefix[..consumed]).count() as u64;
        let carry = prefix.split_off(consumed);
        let total = std::fs::metadata(&f.path).map(|m| m.len()).ok();
        reporter.stage(&format!("ingesting {}", f.path.display()), total);

        // Reader -> decoders -> (in order) this task.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Chunk>(workers);
        let work_rx = Arc::new(Mutex::new(work_rx));
        type Done = (u64, Result<(DecodedChunk, Vec<u8>)>);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Done>(workers * 2);
        let path_text = f.path.display().to_string();
        let chunk_bytes = f.chunk_bytes.unwrap_or(CHUNK_BYTES);
        let reader_done = done_tx.clone();
        let reader = std::thread::Builder::new()
            .name("ingest-read".into())
            .spawn(move || {
                let mut chunker = Chunker::new(input, chunk_bytes, first_line, carry);
                loop {
                    match chunker.next_chunk() {
                        Ok(Some(c)) => {
                            if work_tx.send(c).is_err() {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(source) => {
                            let _ = reader_done.blocking_send((
                                u64::MAX,
                                Err(Error::Read {
                                    path: path_text,
                                    source,
                                }),
                            ));
                            return;
                        }
                    }
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start the reader thread: {e}")))?;
        let mut decoders = Vec::with_capacity(workers);
        for w in 0..workers {
            let rx = Arc::clone(&work_rx);
            let tx = done_tx.clone();
            let header = header.clone();
            let opts = opts.clone();
            decoders.push(
                std::thread::Builder::new()
                    .name(format!("ingest-decode-{w}"))
                    .spawn(move || {
                        loop {
                            let next = match rx.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return,
                            };
                            let Ok(c) = next else { return };
                            let decoded =
                                decode_bars_csv_chunk(&c.bytes, c.first_line, &header, &opts, now)
                                    .map(|d| (d, c.bytes))
                                    .map_err(Error::from);
                            if tx.blocking_send((c.seq, decoded)).is_err() {
                                return;
                            }
                        }
                    })
                    .map_err(|e| Error::Internal(format!("cannot start a decoder: {e}")))?,
            );
        }
        drop(done_tx);

        let mut appender = self
            .warehouse()
            .appender(&tables::BARS, WRITE_BUDGET)
            .await?;
        let hash = &mut hash;
        let mut run = Run::default();
        let result = async {
            let mut pending: BTreeMap<u64, (DecodedChunk, Vec<u8>)> = BTreeMap::new();
            let mut next = 0u64;
            let t_start = std::time::Instant::now();
            while let Some((seq, decoded)) = done_rx.recv().await {
                pending.insert(seq, decoded?);
                while let Some((d, bytes)) = pending.remove(&next) {
                    next += 1;
                    let t = std::time::Instant::now();
                    self.land_chunk(d, &bytes, &source, hash, now, &mut appender, &mut run)
                        .await?;
                    run.landing += t.elapsed();
                    reporter.progress(run.bytes);
                }
            }
            run.pipeline = t_start.elapsed();
            if !pending.is_empty() {
                return Err(Error::Internal(format!(
                    "chunk {next} of {} never arrived",
                    f.path.display()
                )));
            }
            self.flush_quarantine(&source, hash.get().await?, &mut run)
                .await
        }
        .await;
        drop(done_rx);
        let _ = reader.join();
        for d in decoders {
            let _ = d.join();
        }
        if let Err(e) = result {
            appender.abort().await;
            return Err(e);
        }
        reporter.finish();
        let content_hash = hash.get().await?.to_string();
        let meta = CommitMeta::new(&source).with("content_hash", content_hash.as_str());
        let key_lookups = appender.lookups();
        let t_commit = std::time::Instant::now();
        let out = appender.commit(meta).await?;
        tracing::info!(
            chunks = run.chunks,
            pipeline_s = run.pipeline.as_secs_f64(),
            landing_s = run.landing.as_secs_f64(),
            commit_s = t_commit.elapsed().as_secs_f64(),
            "csv ingest: decoded and landed in file order, then committed"
        );
        let report = IngestReport {
            source: source.clone(),
            table: tables::BARS.name.into(),
            content_hash,
            rows_read: run.rows_read,
            rows_added: out.rows_added,
            rows_already_present: out.rows_already_present,
            rows_quarantined: run.quarantined,
            table_version: out.version,
            already_ingested: false,
            quarantine_sample: run.sample,
            key_lookups,
        };
        self.write_checkpoint(&report, run.last_ts).await?;
        count_landed(
            tables::BARS.name,
            report.rows_added,
            report.rows_quarantined,
        );
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn land_chunk(
        &self,
        mut d: DecodedChunk,
        bytes: &[u8],
        source: &str,
        hash: &mut Hash,
        now: Timestamp,
        appender: &mut elite_store::Appender,
        run: &mut Run,
    ) -> Result<()> {
        run.rows_read += d.rows_read;
        run.chunks += 1;
        run.bytes += bytes.len() as u64;
        let mut refused = std::mem::take(&mut d.quarantine);
        let keep = run.keys.check(&d, bytes, source, now, &mut refused)?;
        // In file order, whichever check refused them.
        refused.sort_by_key(|q| {
            q.location
                .strip_prefix("line ")
                .and_then(|l| l.parse::<u64>().ok())
        });
        run.quarantine.extend(refused);
        let batch: RecordBatch = match keep {
            Some(mask) => filter_record_batch(&d.batch, &mask)?,
            None => d.batch,
        };
        if let Some(c) = batch.column_by_name("ts_event")
            && let Some(us) = arrow::compute::max(c.as_primitive::<TimestampMicrosecondType>())
        {
            let t = Timestamp::from_nanos(us.saturating_mul(1_000));
            run.last_ts = Some(run.last_ts.map_or(t, |l| l.max(t)));
        }
        appender.write(batch).await?;
        if run.quarantine.len() >= QUARANTINE_FLUSH {
            self.flush_quarantine(source, hash.get().await?, run)
                .await?;
        }
        Ok(())
    }

    async fn flush_quarantine(&self, source: &str, unit: &str, run: &mut Run) -> Result<()> {
        let records = std::mem::take(&mut run.quarantine);
        run.quarantined += records.len();
        let room = 10usize.saturating_sub(run.sample.len());
        run.sample.extend(
            records
                .iter()
                .take(room)
                .map(|q| (q.location.clone(), q.reason.clone())),
        );
        self.write_quarantine(source, unit, records).await
    }
}

/// The content hash of the file being ingested, computed on another thread.
enum Hash {
    Pending(tokio::task::JoinHandle<Result<String>>),
    Ready(String),
}

impl Hash {
    async fn get(&mut self) -> Result<&str> {
        if let Hash::Pending(task) = self {
            let h = task.await??;
            *self = Hash::Ready(h);
        }
        match self {
            Hash::Ready(h) => Ok(h),
            Hash::Pending(_) => Err(Error::Internal("content hash not computed".into())),
        }
    }
}

/// The state of one streaming ingest.
#[derive(Default)]
struct Run {
    keys: FileKeys,
    quarantine: Vec<QuarantineRecord>,
    quarantined: usize,
    sample: Vec<(String, String)>,
    rows_read: usize,
    bytes: u64,
    last_ts: Option<Timestamp>,
    chunks: usize,
    /// Time in the ordered landing of chunks (checks, splitting, handing rows to the writer).
    landing: std::time::Duration,
    /// Time from the first decoded chunk awaited to the last landed.
    pipeline: std::time::Duration,
}
