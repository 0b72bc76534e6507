//! [`Appender`]: one idempotent append of any size in bounded memory.
//!
//! [`Warehouse::insert_new`] takes every row at once. An appender takes them batch by batch:
//! each batch's keys are checked against the table as it was when the appender opened, but only
//! where the batch can meet it — the data files' symbol and `ts_event` ranges (Delta's file
//! statistics) say which symbols and times are present, and only rows whose symbol has a file
//! overlapping the batch's time range are looked up (a bounded, pruned anti-join). Appending new
//! days to a table of any size then reads no old data at all.
//!
//! New rows are held per partition (a batch of one partition as it is, the rows of a mixed batch
//! copied out per partition, so that batch is freed once split);
//! when the rows held pass the memory budget, the largest partitions are written out, each as one
//! Parquet file sorted by the key, until half the budget is free. Memory is at most about twice
//! the budget — the rows held, plus up to [`SPILLS_IN_FLIGHT`] spills of half of it being encoded
//! — whatever the number of partitions: no writer stays open per partition (an open Parquet
//! writer costs most of a megabyte, and a symbol/year layout has thousands). Nothing is
//! visible until [`Appender::commit`] writes one Delta commit with every file: a crash before it
//! leaves the previous version intact (the written files are unreferenced, for `vacuum`).

use std::collections::HashMap;
use std::sync::Arc;

use delta_kernel::engine::arrow_conversion::TryIntoKernel;
use delta_kernel::table_properties::DataSkippingNumIndexedCols;
use deltalake::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use deltalake::arrow::compute::{cast, filter_record_batch};
use deltalake::arrow::datatypes::{DataType, Int64Type};
use deltalake::arrow::row::RowConverter;
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, MetadataExt, new_metadata};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::table::config::DEFAULT_NUM_INDEX_COLS;
use deltalake::{DeltaTable, ObjectStore};
use elite_warehouse::TableSpec;
use futures::TryStreamExt;

use crate::warehouse::{
    CHECKPOINT_INTERVAL, CommitMeta, WriteOutcome, row_encoder, writer_properties,
};
use crate::{At, Error, Result, Warehouse};

/// The columns `idx` of `batch`, row-encoded by `converter` (keys and partition values).
fn encode(
    converter: &RowConverter,
    idx: &[usize],
    batch: &RecordBatch,
) -> Result<deltalake::arrow::row::Rows> {
    let cols: Vec<_> = idx.iter().map(|&i| Arc::clone(batch.column(i))).collect();
    Ok(converter.convert_columns(&cols)?)
}

/// Spills encoding data files at once (each on its own task, so on its own core).
const SPILLS_IN_FLIGHT: usize = 2;

/// An append in progress; see the module docs.
pub struct Appender {
    wh: Warehouse,
    spec: &'static TableSpec,
    base: Option<DeltaTable>,
    /// A relayout: the table whose every file this append replaces (its keys are not looked
    /// up: the rows come from it), committed as an overwrite with new partition columns.
    replace: Option<DeltaTable>,
    /// The partition columns the new files are written under.
    partition_by: Vec<String>,
    store: Arc<dyn ObjectStore>,
    /// Rows held per partition (keyed by the row-encoded partition values), and their bytes.
    held: HashMap<Vec<u8>, (Vec<RecordBatch>, usize)>,
    partition_idx: Vec<usize>,
    partition_converter: RowConverter,
    adds: Vec<Add>,
    /// Data files being written, oldest first (at most [`SPILLS_IN_FLIGHT`]).
    spilling: std::collections::VecDeque<tokio::task::JoinHandle<Result<Vec<Add>>>>,
    ranges: Ranges,
    converter: RowConverter,
    key_idx: Vec<usize>,
    /// Columns with statistics in new files: the table's setting, else Delta's default.
    indexed_cols: DataSkippingNumIndexedCols,
    buffered: usize,
    budget: usize,
    rows_in: usize,
    rows_added: usize,
    rows_already_present: usize,
    lookups: usize,
}

impl Warehouse {
    /// Start an append to `spec`'s table that keeps at most about `budget` bytes of rows in
    /// memory before writing them out as files.
    pub async fn appender(&self, spec: &'static TableSpec, budget: usize) -> Result<Appender> {
        let base = self.load(spec.name, At::Latest).await?;
        let partition_by = self.partition_columns(spec, base.as_ref())?;
        Appender::new(self, spec, base, None, partition_by, budget)
    }
}

impl Appender {
    pub(crate) fn new(
        wh: &Warehouse,
        spec: &'static TableSpec,
        base: Option<DeltaTable>,
        replace: Option<DeltaTable>,
        partition_by: Vec<String>,
        budget: usize,
    ) -> Result<Self> {
        let store = match base.as_ref().or(replace.as_ref()) {
            Some(t) => t.object_store(),
            None => wh
                .builder(spec.name)?
                .build()
                .map_err(|e| Error::delta(spec.name, e))?
                .object_store(),
        };
        let ranges = match &base {
            Some(t) => file_ranges(spec, &partition_by, t)?,
            None => Some(FileRanges::default()),
        };
        let indexed_cols = base
            .as_ref()
            .or(replace.as_ref())
            .and_then(|t| t.snapshot().ok())
            .and_then(|s| s.table_config().data_skipping_num_indexed_cols)
            .unwrap_or(DataSkippingNumIndexedCols::NumColumns(
                DEFAULT_NUM_INDEX_COLS,
            ));
        let (key_idx, converter) = row_encoder(spec, spec.key)?;
        let (partition_idx, partition_converter) = row_encoder(spec, &partition_by)?;
        Ok(Appender {
            wh: wh.clone(),
            spec,
            base,
            replace,
            partition_by,
            store,
            held: HashMap::new(),
            partition_idx,
            partition_converter,
            adds: Vec::new(),
            spilling: Default::default(),
            ranges,
            converter,
            key_idx,
            indexed_cols,
            buffered: 0,
            budget: budget.max(1 << 20),
            rows_in: 0,
            rows_added: 0,
            rows_already_present: 0,
            lookups: 0,
        })
    }

    /// The table's version when the append started (`None`: no table yet).
    pub fn base_version(&self) -> Option<u64> {
        self.base
            .as_ref()
            .or(self.replace.as_ref())
            .and_then(DeltaTable::version)
    }

    /// The partition columns the append writes under.
    pub fn partition_by(&self) -> &[String] {
        &self.partition_by
    }

    /// How many batches needed a look-up of existing keys (the rest could not meet the table).
    pub fn lookups(&self) -> usize {
        self.lookups
    }

    /// Write the rows of `batch` whose key is not in the table as it was when the append
    /// started. Keys repeated within the append are the caller's to refuse (it knows the input
    /// order); returns how many rows were written.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<usize> {
        let schema = self.spec.arrow_schema();
        if batch.schema() != schema {
            return Err(Error::SchemaMismatch {
                table: self.spec.name.into(),
                expected: format!("{schema:?}"),
                found: format!("{:?}", batch.schema()),
            });
        }
        self.rows_in += batch.num_rows();
        let batch = self.drop_present(batch).await?;
        let n = batch.num_rows();
        if n == 0 {
            return Ok(0);
        }
        self.hold(&batch)?;
        self.rows_added += n;
        if self.buffered >= self.budget {
            self.spill(self.budget / 2).await?;
        }
        Ok(n)
    }

    /// Split `batch` by partition and hold copies of its rows.
    fn hold(&mut self, batch: &RecordBatch) -> Result<()> {
        let parts = encode(&self.partition_converter, &self.partition_idx, batch)?;
        // Row indices per partition, in input order (runs of one partition are the usual case).
        let mut groups: HashMap<&[u8], Vec<u32>> = HashMap::new();
        let mut start = 0usize;
        for i in 1..=batch.num_rows() {
            if i == batch.num_rows() || parts.row(i).as_ref() != parts.row(start).as_ref() {
                groups
                    .entry(parts.row(start).data())
                    .or_default()
                    .extend(start as u32..i as u32);
                start = i;
            }
        }
        let whole = groups.len() == 1;
        for (key, rows) in groups {
            let part = if whole {
                // One partition (the usual case): the batch itself, not a copy of it.
                batch.clone()
            } else {
                let idx = deltalake::arrow::array::UInt32Array::from(rows);
                deltalake::arrow::compute::take_record_batch(batch, &idx)?
            };
            let bytes = part.get_array_memory_size();
            self.buffered += bytes;
            let slot = self.held.entry(key.to_vec()).or_default();
            slot.0.push(part);
            slot.1 += bytes;
        }
        Ok(())
    }

    /// Write out the largest partitions held until at most `keep` bytes remain. The files are
    /// encoded on another task while more rows arrive; at most [`SPILLS_IN_FLIGHT`] such tasks run
    /// at a time.
    async fn spill(&mut self, keep: usize) -> Result<()> {
        let mut sizes: Vec<(usize, Vec<u8>)> = self
            .held
            .iter()
            .map(|(k, (_, b))| (*b, k.clone()))
            .collect();
        sizes.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
        let mut out = Vec::new();
        for (bytes, key) in sizes {
            if self.buffered <= keep {
                break;
            }
            if let Some((batches, _)) = self.held.remove(&key) {
                self.buffered -= bytes;
                out.push(batches);
            }
        }
        if out.is_empty() {
            return Ok(());
        }
        while self.spilling.len() >= SPILLS_IN_FLIGHT {
            self.wait_oldest_spill().await?;
        }
        let writers: Vec<DeltaWriter> = out.iter().map(|_| self.new_writer()).collect();
        let (spec, name) = (self.spec, self.spec.name);
        let partition_by = self.partition_by.clone();
        self.spilling.push_back(tokio::spawn(async move {
            let (key_idx, converter) = row_encoder(spec, spec.key)?;
            let mut adds = Vec::new();
            for (batches, mut w) in out.into_iter().zip(writers) {
                // Every batch held under one key is of one partition: its values are those of
                // any row, and the writer need not split the batches again.
                let values = match batches.first() {
                    Some(b) => partition_values(name, b, &partition_by)?,
                    None => continue,
                };
                for b in in_key_order(batches, &key_idx, &converter) {
                    let written = match b {
                        Ok(b) => w
                            .write_partition(b, &values)
                            .await
                            .map_err(|e| Error::delta(name, e)),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = written {
                        let _ = w.abort().await;
                        return Err(e);
                    }
                }
                adds.extend(w.close().await.map_err(|e| Error::delta(name, e))?);
            }
            Ok(adds)
        }));
        Ok(())
    }

    async fn wait_oldest_spill(&mut self) -> Result<()> {
        if let Some(task) = self.spilling.pop_front() {
            let adds = task.await??;
            self.adds.extend(adds);
        }
        Ok(())
    }

    /// Wait for every file being written, and keep their `Add`s.
    async fn wait_spill(&mut self) -> Result<()> {
        while !self.spilling.is_empty() {
            self.wait_oldest_spill().await?;
        }
        Ok(())
    }

    fn new_writer(&self) -> DeltaWriter {
        let config = WriterConfig::new(
            self.spec.arrow_schema(),
            self.partition_by.clone(),
            Some(writer_properties(Some(&self.spec.arrow_schema()))),
            None,
            None,
            self.indexed_cols,
            None,
        );
        DeltaWriter::new(Arc::clone(&self.store), config)
    }

    /// `batch` without the rows whose key the table already holds.
    async fn drop_present(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(table) = &self.base else {
            return Ok(batch);
        };
        let overlap = overlapping_rows(self.spec, &self.ranges, &batch)?;
        let Some(overlap) = overlap else {
            return Ok(batch);
        };
        self.lookups += 1;
        let probe = filter_record_batch(&batch, &overlap)?;
        let present = self
            .wh
            .existing_keys(self.spec, table, &probe, &self.converter)
            .await?;
        if present.num_rows() == 0 {
            return Ok(batch);
        }
        let present: std::collections::HashSet<_> = present.iter().collect();
        let rows = encode(&self.converter, &self.key_idx, &batch)?;
        let mut dropped = 0;
        let keep: BooleanArray = rows
            .iter()
            .map(|r| {
                let hit = present.contains(&r);
                dropped += usize::from(hit);
                Some(!hit)
            })
            .collect();
        self.rows_already_present += dropped;
        Ok(if dropped == 0 {
            batch
        } else {
            filter_record_batch(&batch, &keep)?
        })
    }

    /// Close the files and commit them as one version with `meta`. Nothing written: no commit.
    pub async fn commit(mut self, meta: CommitMeta) -> Result<WriteOutcome> {
        self.spill(0).await?;
        self.wait_spill().await?;
        let mut outcome = WriteOutcome {
            version: self.base_version(),
            rows_in: self.rows_in,
            rows_added: self.rows_added,
            rows_already_present: self.rows_already_present,
            rows_duplicate_in_input: 0,
        };
        if self.adds.is_empty() {
            return Ok(outcome);
        }
        let mut md: HashMap<String, serde_json::Value> = HashMap::from([
            ("elite.source".into(), meta.source.into()),
            ("elite.rows_added".into(), self.rows_added.into()),
            ("elite.files".into(), self.adds.len().into()),
        ]);
        md.extend(meta.extra);
        let properties = CommitProperties::default().with_metadata(md);
        let actions: Vec<Action> = std::mem::take(&mut self.adds)
            .into_iter()
            .map(Action::Add)
            .collect();
        let name = self.spec.name;
        if let Some(old) = &self.replace {
            outcome.version =
                Some(commit_relayout(name, old, &self.partition_by, actions, properties).await?);
            return Ok(outcome);
        }
        let version = match &self.base {
            Some(table) => {
                let snapshot = table.snapshot().map_err(|e| Error::delta(name, e))?;
                let op = DeltaOperation::Write {
                    mode: SaveMode::Append,
                    partition_by: Some(self.partition_by.clone()),
                    predicate: None,
                };
                CommitBuilder::from(properties)
                    .with_actions(actions)
                    .build(Some(snapshot), table.log_store(), op)
                    .await
                    .map_err(|e| Error::delta(name, e))?
                    .version()
            }
            None => {
                let fresh = self
                    .wh
                    .builder(name)?
                    .build()
                    .map_err(|e| Error::delta(name, e))?;
                let schema: deltalake::kernel::StructType = self
                    .spec
                    .arrow_schema()
                    .as_ref()
                    .try_into_kernel()
                    .map_err(|e| Error::delta(name, e.into()))?;
                let table = deltalake::operations::create::CreateBuilder::new()
                    .with_log_store(fresh.log_store())
                    .with_columns(schema.fields().cloned())
                    .with_partition_columns(self.partition_by.iter().cloned())
                    .with_configuration([(
                        "delta.checkpointInterval",
                        Some(CHECKPOINT_INTERVAL.to_string()),
                    )])
                    .with_actions(actions)
                    .with_commit_properties(properties)
                    .await
                    .map_err(|e| Error::delta(name, e))?;
                table.version().unwrap_or(0)
            }
        };
        outcome.version = Some(version);
        Ok(outcome)
    }

    /// Give up: nothing is committed; files already written stay unreferenced (for `vacuum`).
    pub async fn abort(mut self) {
        let _ = self.wait_spill().await;
    }
}

/// The first key column's value (the symbol) and `ts_event` range of a file; `None` for the
/// symbol bounds when it is a partition value (then the file holds one symbol: `exact`).
#[derive(Debug, Default)]
pub(crate) struct FileRanges {
    /// Files of one symbol (the symbol a partition column): their `ts_event` ranges.
    exact: HashMap<String, Vec<(i64, i64)>>,
    /// Files of many symbols (files sorted by symbol, the symbol not a partition column): the
    /// symbol range (min, max as Delta's statistics have them) and the `ts_event` range.
    spans: Vec<(String, String, i64, i64)>,
}

/// `None`: the table's files carry no such statistics, so every batch is looked up.
type Ranges = Option<FileRanges>;

/// Delta's statistics keep timestamps to the millisecond (the maximum rounded down): a file's
/// true last `ts_event` can be up to this many µs above its recorded maximum.
const STATS_TS_SLACK_US: i64 = 999;

/// Per symbol, the `ts_event` ranges of the table's files, from the Delta log's statistics.
fn file_ranges(spec: &TableSpec, partition_by: &[String], table: &DeltaTable) -> Result<Ranges> {
    let (Some(sym), true) = (spec.key.first(), spec.key.contains(&"ts_event")) else {
        return Ok(None);
    };
    let snapshot = table.snapshot().map_err(|e| Error::delta(spec.name, e))?;
    let files = snapshot
        .add_actions_table(true)
        .map_err(|e| Error::delta(spec.name, e))?;
    let by_partition = partition_by.iter().any(|p| p == sym);
    let (lo_sym, hi_sym) = if by_partition {
        let p = files.column_by_name(&format!("partition.{sym}"));
        (p, p)
    } else {
        (
            files.column_by_name(&format!("min.{sym}")),
            files.column_by_name(&format!("max.{sym}")),
        )
    };
    let (Some(lo_sym), Some(hi_sym), Some(lo), Some(hi)) = (
        lo_sym,
        hi_sym,
        files.column_by_name("min.ts_event"),
        files.column_by_name("max.ts_event"),
    ) else {
        return Ok(None);
    };
    let (lo_sym, hi_sym) = (
        cast(lo_sym, &DataType::Utf8)?,
        cast(hi_sym, &DataType::Utf8)?,
    );
    let (lo_sym, hi_sym) = (lo_sym.as_string::<i32>(), hi_sym.as_string::<i32>());
    let lo = cast(lo, &DataType::Int64)?;
    let hi = cast(hi, &DataType::Int64)?;
    let (lo, hi) = (
        lo.as_primitive::<Int64Type>(),
        hi.as_primitive::<Int64Type>(),
    );
    let mut out = FileRanges::default();
    for i in 0..files.num_rows() {
        if [
            lo_sym.is_null(i),
            hi_sym.is_null(i),
            lo.is_null(i),
            hi.is_null(i),
        ]
        .contains(&true)
        {
            // A file without statistics could hold anything: look every batch up.
            return Ok(None);
        }
        let t = (lo.value(i), hi.value(i).saturating_add(STATS_TS_SLACK_US));
        if by_partition {
            out.exact
                .entry(lo_sym.value(i).to_string())
                .or_default()
                .push(t);
        } else {
            out.spans.push((
                lo_sym.value(i).to_string(),
                hi_sym.value(i).to_string(),
                t.0,
                t.1,
            ));
        }
    }
    Ok(Some(out))
}

impl FileRanges {
    /// Whether a file may hold `symbol` at a time in `lo..=hi`.
    fn meets(&self, symbol: &str, lo: i64, hi: i64) -> bool {
        let overlaps = |a: i64, b: i64| a <= hi && lo <= b;
        self.exact
            .get(symbol)
            .is_some_and(|rs| rs.iter().any(|&(a, b)| overlaps(a, b)))
            || self.spans.iter().any(|(s0, s1, a, b)| {
                // A string statistic may be a truncated prefix: the maximum then covers every
                // value it starts.
                s0.as_str() <= symbol
                    && (symbol <= s1.as_str() || symbol.starts_with(s1.as_str()))
                    && overlaps(*a, *b)
            })
    }
}

/// Which rows of `batch` may meet a file of the table: those of a symbol with a file whose
/// symbol and `ts_event` ranges overlap the symbol's range in the batch. `None`: no row can.
fn overlapping_rows(
    spec: &TableSpec,
    ranges: &Ranges,
    batch: &RecordBatch,
) -> Result<Option<BooleanArray>> {
    let all = || Ok(Some(BooleanArray::from(vec![true; batch.num_rows()])));
    let Some(ranges) = ranges else {
        return all();
    };
    let (Some(part), Some(ts)) = (
        spec.key.first().and_then(|p| batch.column_by_name(p)),
        batch.column_by_name("ts_event"),
    ) else {
        return all();
    };
    let part = cast(part, &DataType::Utf8)?;
    let part = part.as_string::<i32>();
    let ts = cast(ts, &DataType::Int64)?;
    let ts = ts.as_primitive::<Int64Type>();
    // The batch's range per symbol.
    let mut span: HashMap<&str, (i64, i64)> = HashMap::new();
    for i in 0..batch.num_rows() {
        let (s, t) = (part.value(i), ts.value(i));
        let e = span.entry(s).or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    }
    let meets: HashMap<&str, bool> = span
        .into_iter()
        .map(|(s, (lo, hi))| (s, ranges.meets(s, lo, hi)))
        .collect();
    if !meets.values().any(|&m| m) {
        return Ok(None);
    }
    Ok(Some(
        (0..batch.num_rows())
            .map(|i| Some(meets[part.value(i)]))
            .collect(),
    ))
}

/// The rows of `batches` in ascending order of the columns `idx` (row-encoded by `converter`),
/// a row group's worth at a time: as they are when already in order (input usually is), else
/// gathered in sorted order without first copying them into one batch. Every data file an
/// append writes is sorted by the table key, so its row groups' statistics narrow a lookup by
/// symbol and time whatever the partitioning.
/// The partition values of `batch`'s first row, as Delta names them.
fn partition_values(
    table: &str,
    batch: &RecordBatch,
    partition_by: &[String],
) -> Result<indexmap::IndexMap<String, delta_kernel::expressions::Scalar>> {
    use deltalake::kernel::scalars::ScalarExt;
    partition_by
        .iter()
        .map(|p| {
            let mismatch = |found: String| Error::SchemaMismatch {
                table: table.to_string(),
                expected: format!("partition column {p} with a Delta partition value"),
                found,
            };
            let col = batch
                .column_by_name(p)
                .ok_or_else(|| mismatch("no such column".into()))?;
            let v = delta_kernel::expressions::Scalar::from_array(col.as_ref(), 0)
                .ok_or_else(|| mismatch(format!("type {}", col.data_type())))?;
            Ok((p.clone(), v))
        })
        .collect()
}

fn in_key_order(
    batches: Vec<RecordBatch>,
    idx: &[usize],
    converter: &RowConverter,
) -> Box<dyn Iterator<Item = Result<RecordBatch>> + Send> {
    // In order already? Checked a batch at a time, keeping only the last key seen.
    let mut last: Option<deltalake::arrow::row::OwnedRow> = None;
    let mut sorted = true;
    for b in &batches {
        let k = match encode(converter, idx, b) {
            Ok(k) => k,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let mut rows = k.iter();
        let Some(first) = rows.next() else { continue };
        if last.as_ref().is_some_and(|l| l.row() > first)
            || rows
                .try_fold(first, |prev, r| (prev <= r).then_some(r))
                .is_none()
        {
            sorted = false;
            break;
        }
        last = Some(k.row(k.num_rows() - 1).owned());
    }
    if sorted {
        return Box::new(batches.into_iter().map(Ok));
    }
    let keys = match batches
        .iter()
        .map(|b| encode(converter, idx, b))
        .collect::<Result<Vec<_>>>()
    {
        Ok(k) => k,
        Err(e) => return Box::new(std::iter::once(Err(e))),
    };
    let mut order: Vec<(usize, usize)> = keys
        .iter()
        .enumerate()
        .flat_map(|(b, k)| (0..k.num_rows()).map(move |r| (b, r)))
        .collect();
    let row = |&(b, r): &(usize, usize)| keys[b].row(r);
    // Time-ordered input (every symbol's bar of a minute, then the next minute) is in key
    // order within each symbol: a stable counting sort on the key without its fixed-width last
    // column (the time) orders it in linear time. Checked after; a full sort otherwise.
    let tail = idx
        .last()
        .and_then(|&i| batches[0].column(i).data_type().primitive_width())
        .map(|w| w + 1); // the row format's null byte, then the value
    let grouped = tail.is_some_and(|tail| {
        let mut ids: HashMap<&[u8], u32> = HashMap::new();
        let mut prefixes: Vec<&[u8]> = Vec::new();
        let group: Vec<u32> = order
            .iter()
            .map(|x| {
                let d = row(x).data();
                let p = &d[..d.len().saturating_sub(tail)];
                *ids.entry(p).or_insert_with(|| {
                    prefixes.push(p);
                    (prefixes.len() - 1) as u32
                })
            })
            .collect();
        let mut by_prefix: Vec<u32> = (0..prefixes.len() as u32).collect();
        by_prefix.sort_unstable_by_key(|&g| prefixes[g as usize]);
        // Where each group's rows start in the output.
        let mut start = vec![0usize; prefixes.len()];
        let mut counts = vec![0usize; prefixes.len()];
        for &g in &group {
            counts[g as usize] += 1;
        }
        let mut at = 0;
        for &g in &by_prefix {
            start[g as usize] = at;
            at += counts[g as usize];
        }
        let mut placed = vec![(0usize, 0usize); order.len()];
        for (x, &g) in order.iter().zip(&group) {
            placed[start[g as usize]] = *x;
            start[g as usize] += 1;
        }
        let ok = placed.windows(2).all(|w| row(&w[0]) <= row(&w[1]));
        if ok {
            order = placed;
        }
        ok
    });
    if !grouped {
        order.sort_unstable_by(|x, y| row(x).cmp(&row(y)));
    }
    drop(keys);
    let chunks: Vec<Vec<(usize, usize)>> = order
        .chunks(crate::ROW_GROUP_ROWS)
        .map(<[_]>::to_vec)
        .collect();
    drop(order);
    Box::new(chunks.into_iter().map(move |c| {
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        Ok(deltalake::arrow::compute::interleave_record_batch(
            &refs, &c,
        )?)
    }))
}

/// Commit a relayout of `old`: its metadata with the new partition columns (same table id,
/// schema and configuration), a remove of every file it has, and `adds`.
pub(crate) async fn commit_relayout(
    name: &str,
    old: &DeltaTable,
    partition_by: &[String],
    adds: Vec<Action>,
    properties: CommitProperties,
) -> Result<u64> {
    let snapshot = old.snapshot().map_err(|e| Error::delta(name, e))?;
    let md = snapshot.metadata();
    let schema = md
        .parse_schema()
        .map_err(|e| Error::delta(name, e.into()))?;
    let metadata = new_metadata(&schema, partition_by, md.configuration().clone())
        .and_then(|m| m.with_table_id(md.id().to_string()))
        .map_err(|e| Error::delta(name, e.into()))?;
    let log_store = old.log_store();
    let mut actions: Vec<Action> = vec![Action::Metadata(metadata)];
    let removes: Vec<Action> = snapshot
        .snapshot()
        .file_views(log_store.as_ref(), None)
        .map_ok(|f| Action::Remove(f.remove_action(true)))
        .try_collect()
        .await
        .map_err(|e| Error::delta(name, e))?;
    actions.extend(removes);
    actions.extend(adds);
    let op = DeltaOperation::Write {
        mode: SaveMode::Overwrite,
        partition_by: Some(partition_by.to_vec()),
        predicate: None,
    };
    Ok(CommitBuilder::from(properties)
        .with_actions(actions)
        .build(Some(snapshot), log_store, op)
        .await
        .map_err(|e| Error::delta(name, e))?
        .version())
}
