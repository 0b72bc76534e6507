//! The [`Warehouse`]: open a root, load tables at any version, write idempotently, maintain.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deltalake::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use deltalake::arrow::compute::{cast, concat_batches, filter_record_batch};
use deltalake::arrow::datatypes::{
    DataType, Int32Type, Schema, SchemaRef, TimestampMicrosecondType,
};
use deltalake::arrow::row::{RowConverter, SortField};
use deltalake::datafusion::prelude::{DataFrame, Expr, SessionContext, col, lit};
use deltalake::datafusion::scalar::ScalarValue;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::parquet::basic::{Compression, Encoding, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder, ObjectStore};
use elite_warehouse::TableSpec;
use elite_warehouse::tables::ALL;
use futures::TryStreamExt;
use url::Url;

use crate::{Error, Result};

/// Every table writes a Delta checkpoint (the log's state as one Parquet file, which readers
/// load instead of replaying every JSON commit) each this many commits
/// (`delta.checkpointInterval`, set when a table is created; Delta's default is 100).
pub const CHECKPOINT_INTERVAL: u64 = 10;

/// A Delta table written by something else and attached to the warehouse under a name, so that
/// SQL can query it (read-only). Kept as one small JSON object per name under `<root>/_attached/`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attached {
    pub name: String,
    /// The table's location: a path or an object-store URL.
    pub location: String,
}

/// Which version of a table to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Latest,
    Version(u64),
    /// The latest version committed at or before this time.
    Time(DateTime<Utc>),
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Latest => f.write_str("latest"),
            At::Version(v) => write!(f, "{v}"),
            At::Time(t) => write!(f, "{}", t.to_rfc3339()),
        }
    }
}

/// What a commit records about itself, shown by `history`.
#[derive(Clone, Debug)]
pub struct CommitMeta {
    pub source: String,
    pub extra: Vec<(String, serde_json::Value)>,
}

impl CommitMeta {
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.push((format!("elite.{key}"), value.into()));
        self
    }
}

/// The result of an idempotent write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Version after the write (unchanged when nothing was added; `None` if the table is still empty).
    pub version: Option<u64>,
    pub rows_in: usize,
    pub rows_added: usize,
    /// Rows whose key was already in the table.
    pub rows_already_present: usize,
    /// Rows whose key repeated an earlier row of the same write.
    pub rows_duplicate_in_input: usize,
}

/// One commit of a table.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub version: u64,
    pub timestamp: Option<DateTime<Utc>>,
    pub operation: String,
    pub rows_added: Option<i64>,
    pub source: Option<String>,
    pub parameters: String,
}

/// A table as it stands.
#[derive(Clone, Debug)]
pub struct TableInfo {
    pub spec: &'static TableSpec,
    /// The partition columns the table is laid out by (its Delta metadata's; the spec's, or
    /// the warehouse's choice, for a table not written yet).
    pub partition_by: Vec<String>,
    pub version: Option<u64>,
    pub files: usize,
    pub url: Url,
}

#[derive(Clone, Debug)]
pub struct OptimizeOutcome {
    pub version: Option<u64>,
    pub files_added: u64,
    pub files_removed: u64,
}

#[derive(Clone, Debug)]
pub struct VacuumOutcome {
    pub dry_run: bool,
    pub files: Vec<String>,
}

/// S3, GCS and Azure locations need the `cloud` feature (the object-store backends and the AWS
/// SDK are opt-in to keep a clean build short); without it, say how to get them.
fn cloud_build(scheme: &str) -> std::result::Result<(), String> {
    let cloud = matches!(
        scheme,
        "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "azure"
    );
    if cloud && !cfg!(feature = "cloud") {
        return Err(format!(
            "this build has no {scheme}:// support: build elite with `--features cloud` \
             (cargo build --release -p elite-cli --features cloud)"
        ));
    }
    Ok(())
}

/// The versioned warehouse under one root location.
#[derive(Clone)]
pub struct Warehouse {
    root: Url,
    options: HashMap<String, String>,
    /// For `memory://`: one store shared by every table of this warehouse.
    memory: Option<Arc<dyn ObjectStore>>,
    /// Partition columns for tables this warehouse creates, where not the spec's
    /// ([`Warehouse::with_partitioning`]); a table that exists keeps its own.
    pub(crate) partitioning: HashMap<String, Vec<String>>,
}

impl Warehouse {
    /// Open a warehouse at a local path or an object-store URL. A local directory is created.
    pub fn open(location: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidLocation {
            location: location.to_string(),
            reason,
        };
        let mut root = match Url::parse(location) {
            Ok(url) if url.scheme().len() > 1 => url,
            _ => {
                let path = Path::new(location);
                std::fs::create_dir_all(path)
                    .map_err(|e| bad(format!("cannot create directory: {e}")))?;
                let abs = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
                Url::from_directory_path(&abs).map_err(|()| bad("not an absolute path".into()))?
            }
        };
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let memory = match root.scheme() {
            "file" => None,
            scheme @ ("s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "azure") => {
                cloud_build(scheme).map_err(bad)?;
                None
            }
            "memory" => Some(Arc::new(object_store_memory()) as Arc<dyn ObjectStore>),
            other => {
                return Err(bad(format!(
                    "unsupported scheme {other}://; use a path, file://, s3://, gs://, az:// or memory://"
                )));
            }
        };
        Ok(Self {
            root,
            options: HashMap::new(),
            memory,
            partitioning: HashMap::new(),
        })
    }

    /// Storage options passed to the object store (credentials, endpoint, region …).
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.options = options;
        self
    }

    /// The root URL.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The URL of a table.
    pub fn table_url(&self, name: &str) -> Url {
        // A table name is one of ours (ASCII identifiers), so the join cannot fail.
        self.root
            .join(&format!("{name}/"))
            .expect("table names are valid URL segments")
    }

    pub(crate) fn spec(name: &str) -> Result<&'static TableSpec> {
        TableSpec::by_name(name).ok_or_else(|| Error::UnknownTable {
            name: name.to_string(),
            known: ALL.iter().map(|t| t.name).collect::<Vec<_>>().join(", "),
        })
    }

    pub(crate) fn builder(&self, name: &str) -> Result<DeltaTableBuilder> {
        let url = self.table_url(name);
        let mut b = DeltaTableBuilder::from_url(url.clone())
            .map_err(|e| Error::delta(name, e))?
            .with_storage_options(self.options.clone());
        if let Some(store) = &self.memory {
            b = b.with_storage_backend(Arc::clone(store), url);
        }
        Ok(b)
    }

    /// The object store under `<root>/artifacts/` (model files and other blobs the tables
    /// point at).
    fn artifacts(&self) -> Result<Arc<dyn ObjectStore>> {
        let url = self
            .root
            .join("artifacts/")
            .map_err(|e| Error::InvalidLocation {
                location: self.root.to_string(),
                reason: e.to_string(),
            })?;
        let mut b = DeltaTableBuilder::from_url(url.clone())
            .map_err(|e| Error::delta("artifacts", e))?
            .with_storage_options(self.options.clone());
        if let Some(store) = &self.memory {
            b = b.with_storage_backend(Arc::clone(store), url);
        }
        Ok(b.build_storage()
            .map_err(|e| Error::delta("artifacts", e))?
            .object_store(None))
    }

    fn artifact_path(path: &str) -> Result<deltalake::Path> {
        deltalake::Path::parse(path).map_err(|e| Error::Artifact {
            path: path.to_string(),
            reason: e.to_string(),
        })
    }

    /// Write a blob at `artifacts/<path>` (replaced whole: object stores put atomically).
    /// Returns its URL.
    pub async fn put_artifact(&self, path: &str, bytes: Vec<u8>) -> Result<String> {
        let store = self.artifacts()?;
        store
            .put(&Self::artifact_path(path)?, bytes.into())
            .await
            .map_err(|e| Error::Artifact {
                path: path.to_string(),
                reason: e.to_string(),
            })?;
        Ok(format!("{}artifacts/{path}", self.root))
    }

    /// Read the blob at `artifacts/<path>`.
    pub async fn get_artifact(&self, path: &str) -> Result<Vec<u8>> {
        let store = self.artifacts()?;
        let got = store
            .get(&Self::artifact_path(path)?)
            .await
            .map_err(|e| Error::Artifact {
                path: path.to_string(),
                reason: e.to_string(),
            })?;
        let bytes = got.bytes().await.map_err(|e| Error::Artifact {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        Ok(bytes.to_vec())
    }

    /// Load a table at a version; `Ok(None)` if it has never been written.
    pub async fn load(&self, name: &str, at: At) -> Result<Option<DeltaTable>> {
        Self::spec(name)?;
        let mut table = self
            .builder(name)?
            .build()
            .map_err(|e| Error::delta(name, e))?;
        if !table
            .verify_deltatable_existence()
            .await
            .map_err(|e| Error::delta(name, e))?
        {
            return match at {
                At::Latest => Ok(None),
                _ => Err(Error::NoSuchVersion {
                    name: name.into(),
                    at: at.to_string(),
                    reason: "the table has never been written".into(),
                }),
            };
        }
        let loaded = match at {
            At::Latest => table.load().await,
            At::Version(v) => table.load_version(v).await,
            At::Time(t) => table.load_with_datetime(t).await,
        };
        match (loaded, at) {
            (Ok(()), At::Time(t)) => {
                // delta-rs falls back to the first version for instants before it: refuse instead.
                let v = table.version().unwrap_or(0);
                let mut committed = table.snapshot().ok().and_then(|s| s.version_timestamp(v));
                if committed.is_some_and(|ms| ms > t.timestamp_millis()) {
                    // The log file can be stamped a little after the commit's own time, which
                    // `history` shows: an instant at or after that time reads this version.
                    let recorded = Box::pin(self.history(name, None))
                        .await
                        .ok()
                        .and_then(|h| h.into_iter().find(|e| e.version == v))
                        .and_then(|e| e.timestamp)
                        .map(|d| d.timestamp_millis());
                    if let Some(r) = recorded {
                        committed = committed.map(|ms| ms.min(r));
                    }
                }
                match committed {
                    Some(ms) if ms > t.timestamp_millis() => Err(Error::NoSuchVersion {
                        name: name.into(),
                        at: at.to_string(),
                        reason: format!(
                            "the first version was committed at {}",
                            DateTime::from_timestamp_millis(ms)
                                .map_or_else(|| ms.to_string(), |d| d.to_rfc3339())
                        ),
                    }),
                    _ => Ok(Some(table)),
                }
            }
            (Ok(()), _) => Ok(Some(table)),
            (Err(e), At::Latest) => Err(Error::delta(name, e)),
            (Err(e), _) => Err(Error::NoSuchVersion {
                name: name.into(),
                at: at.to_string(),
                reason: e.to_string(),
            }),
        }
    }

    fn store_at(&self, dir: &str) -> Result<Arc<dyn ObjectStore>> {
        let url = self.root.join(dir).map_err(|e| Error::InvalidLocation {
            location: self.root.to_string(),
            reason: e.to_string(),
        })?;
        let mut b = DeltaTableBuilder::from_url(url.clone())
            .map_err(|e| Error::delta(dir, e))?
            .with_storage_options(self.options.clone());
        if let Some(store) = &self.memory {
            b = b.with_storage_backend(Arc::clone(store), url);
        }
        Ok(b.build_storage()
            .map_err(|e| Error::delta(dir, e))?
            .object_store(None))
    }

    /// The URL of a location given by a user: an object-store URL as is, a local path made
    /// absolute (it must exist).
    fn location_url(location: &str) -> Result<Url> {
        match Url::parse(location) {
            Ok(url) if url.scheme().len() > 1 => {
                cloud_build(url.scheme()).map_err(|reason| Error::InvalidLocation {
                    location: location.into(),
                    reason,
                })?;
                Ok(url)
            }
            _ => {
                let abs = std::fs::canonicalize(location).map_err(|e| Error::InvalidLocation {
                    location: location.into(),
                    reason: e.to_string(),
                })?;
                Url::from_directory_path(&abs).map_err(|()| Error::InvalidLocation {
                    location: location.into(),
                    reason: "not an absolute path".into(),
                })
            }
        }
    }

    /// Open a Delta table at any location with this warehouse's storage options.
    async fn open_location(&self, name: &str, location: &str, at: At) -> Result<DeltaTable> {
        let url = Self::location_url(location)?;
        let mut table = DeltaTableBuilder::from_url(url)
            .map_err(|e| Error::delta(name, e))?
            .with_storage_options(self.options.clone())
            .build()
            .map_err(|e| Error::delta(name, e))?;
        let loaded = match at {
            At::Latest => table.load().await,
            At::Version(v) => table.load_version(v).await,
            At::Time(t) => table.load_with_datetime(t).await,
        };
        loaded.map_err(|e| match at {
            At::Latest => Error::delta(name, e),
            _ => Error::NoSuchVersion {
                name: name.into(),
                at: at.to_string(),
                reason: e.to_string(),
            },
        })?;
        Ok(table)
    }

    /// Attach the Delta table at `location` as `name` (checked to be a readable Delta table,
    /// and not to shadow a warehouse table). Attaching the same name again re-points it.
    pub async fn attach(&self, name: &str, location: &str) -> Result<Attached> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::Refused(format!(
                "attach name {name:?}: use lower-case letters, digits and '_' (a SQL identifier)"
            )));
        }
        if TableSpec::by_name(name).is_some() {
            return Err(Error::Refused(format!(
                "attach name {name:?} is a warehouse table; choose another name"
            )));
        }
        let table = self.open_location(name, location, At::Latest).await?;
        let location = table.table_url().to_string();
        let a = Attached {
            name: name.into(),
            location,
        };
        let body = serde_json::to_vec(&a).map_err(|e| Error::Artifact {
            path: format!("_attached/{name}.json"),
            reason: e.to_string(),
        })?;
        self.store_at("_attached/")?
            .put(&Self::artifact_path(&format!("{name}.json"))?, body.into())
            .await
            .map_err(|e| Error::Artifact {
                path: format!("_attached/{name}.json"),
                reason: e.to_string(),
            })?;
        Ok(a)
    }

    /// Forget an attached table (its data is not touched). `false` if none had that name.
    pub async fn detach(&self, name: &str) -> Result<bool> {
        let known = self.attached().await?.iter().any(|a| a.name == name);
        if known {
            self.store_at("_attached/")?
                .delete(&Self::artifact_path(&format!("{name}.json"))?)
                .await
                .map_err(|e| Error::Artifact {
                    path: format!("_attached/{name}.json"),
                    reason: e.to_string(),
                })?;
        }
        Ok(known)
    }

    /// The attached tables, by name.
    pub async fn attached(&self) -> Result<Vec<Attached>> {
        let store = self.store_at("_attached/")?;
        let metas: Vec<_> = match store.list(None).try_collect().await {
            Ok(m) => m,
            Err(deltalake::ObjectStoreError::NotFound { .. }) => Vec::new(),
            Err(e) => {
                return Err(Error::Artifact {
                    path: "_attached/".into(),
                    reason: e.to_string(),
                });
            }
        };
        let mut out = Vec::new();
        for m in metas {
            let path = m.location.to_string();
            if !path.ends_with(".json") {
                continue;
            }
            let bad = |reason: String| Error::Artifact {
                path: format!("_attached/{path}"),
                reason,
            };
            let bytes = store
                .get(&m.location)
                .await
                .map_err(|e| bad(e.to_string()))?
                .bytes()
                .await
                .map_err(|e| bad(e.to_string()))?;
            out.push(serde_json::from_slice::<Attached>(&bytes).map_err(|e| bad(e.to_string()))?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Load an attached table at a version.
    pub async fn load_attached(&self, a: &Attached, at: At) -> Result<DeltaTable> {
        self.open_location(&a.name, &a.location, at).await
    }

    /// Every declared table with its current version and file count.
    pub async fn tables(&self) -> Result<Vec<TableInfo>> {
        let mut out = Vec::new();
        for spec in ALL {
            let table = self.load(spec.name, At::Latest).await?;
            let (version, files) = match &table {
                Some(t) => (
                    t.version(),
                    t.get_file_uris()
                        .map_err(|e| Error::delta(spec.name, e))?
                        .count(),
                ),
                None => (None, 0),
            };
            out.push(TableInfo {
                spec,
                partition_by: self.partition_columns(spec, table.as_ref())?,
                version,
                files,
                url: self.table_url(spec.name),
            });
        }
        Ok(out)
    }

    /// Append the rows of `batches` whose key is not yet in the table (nor earlier in `batches`).
    ///
    /// Idempotent: writing the same rows twice adds nothing the second time, and a write that
    /// adds nothing makes no commit. The data files are written first and become visible only
    /// with the atomic commit, so a crash leaves the previous version intact.
    pub async fn insert_new(
        &self,
        spec: &'static TableSpec,
        batches: Vec<RecordBatch>,
        meta: CommitMeta,
    ) -> Result<WriteOutcome> {
        let schema = spec.arrow_schema();
        for b in &batches {
            if b.schema() != schema {
                return Err(Error::SchemaMismatch {
                    table: spec.name.into(),
                    expected: format!("{schema:?}"),
                    found: format!("{:?}", b.schema()),
                });
            }
        }
        let input = match <[RecordBatch; 1]>::try_from(batches) {
            Ok([one]) => one,
            Err(many) => concat_batches(&schema, &many)?,
        };
        let rows_in = input.num_rows();
        let existing = self.load(spec.name, At::Latest).await?;
        let version = existing.as_ref().and_then(DeltaTable::version);
        if rows_in == 0 {
            return Ok(WriteOutcome {
                version,
                rows_in,
                rows_added: 0,
                rows_already_present: 0,
                rows_duplicate_in_input: 0,
            });
        }

        // Keys of the input, row-encoded so any key types compare as bytes.
        let (key_idx, converter) = row_encoder(spec, spec.key)?;
        let in_rows = converter.convert_columns(
            &key_idx
                .iter()
                .map(|&i| Arc::clone(input.column(i)))
                .collect::<Vec<_>>(),
        )?;

        let present_rows = match &existing {
            Some(table) => Some(self.existing_keys(spec, table, &input, &converter).await?),
            None => None,
        };
        let present: HashSet<_> = present_rows.iter().flat_map(|rows| rows.iter()).collect();

        let mut seen = HashSet::with_capacity(rows_in);
        let (mut already, mut dup) = (0usize, 0usize);
        let mask: BooleanArray = in_rows
            .iter()
            .map(|row| {
                if present.contains(&row) {
                    already += 1;
                    Some(false)
                } else if !seen.insert(row) {
                    dup += 1;
                    Some(false)
                } else {
                    Some(true)
                }
            })
            .collect();
        let fresh = if already + dup == 0 {
            input
        } else {
            filter_record_batch(&input, &mask)?
        };
        let rows_added = fresh.num_rows();
        if rows_added == 0 {
            return Ok(WriteOutcome {
                version,
                rows_in,
                rows_added,
                rows_already_present: already,
                rows_duplicate_in_input: dup,
            });
        }

        let partition_by = self.partition_columns(spec, existing.as_ref())?;
        let table = match existing {
            Some(t) => t,
            None => self
                .builder(spec.name)?
                .build()
                .map_err(|e| Error::delta(spec.name, e))?,
        };
        let mut md = vec![
            (
                "elite.source".to_string(),
                serde_json::Value::from(meta.source),
            ),
            (
                "elite.rows_added".to_string(),
                serde_json::Value::from(rows_added),
            ),
        ];
        md.extend(meta.extra);
        let table = table
            .write(vec![fresh])
            .with_save_mode(SaveMode::Append)
            .with_partition_columns(partition_by)
            // Only applies when this write creates the table.
            .with_configuration([(
                "delta.checkpointInterval",
                Some(CHECKPOINT_INTERVAL.to_string()),
            )])
            .with_writer_properties(writer_properties(Some(&spec.arrow_schema())))
            .with_commit_properties(CommitProperties::default().with_metadata(md))
            .await
            .map_err(|e| Error::delta(spec.name, e))?;
        Ok(WriteOutcome {
            version: table.version(),
            rows_in,
            rows_added,
            rows_already_present: already,
            rows_duplicate_in_input: dup,
        })
    }

    /// Keys already in `table` among the partitions and time range `input` touches.
    pub(crate) async fn existing_keys(
        &self,
        spec: &TableSpec,
        table: &DeltaTable,
        input: &RecordBatch,
        converter: &RowConverter,
    ) -> Result<deltalake::arrow::row::Rows> {
        let mut df = frame(&SessionContext::new(), spec.name, table).await?;
        let partition_by = partitions_of(spec.name, table)?;
        if let Some(filter) = prune_filter(spec, &partition_by, input) {
            df = df.filter(filter).map_err(|e| Error::query(spec.name, e))?;
        }
        let batches = df
            .select_columns(spec.key)
            .map_err(|e| Error::query(spec.name, e))?
            .collect()
            .await
            .map_err(|e| Error::query(spec.name, e))?;
        // Partition columns come back dictionary-encoded: cast to the declared key types.
        let schema = spec.arrow_schema();
        let mut rows = converter.empty_rows(0, 0);
        for b in batches {
            let cols = spec
                .key
                .iter()
                .zip(b.columns())
                .map(|(k, c)| Ok(cast(c, schema.field_with_name(k)?.data_type())?))
                .collect::<Result<Vec<_>>>()?;
            converter.append(&mut rows, &cols)?;
        }
        Ok(rows)
    }

    /// Read a table (optionally filtered) at a version; an unwritten table reads as no rows.
    pub async fn read(&self, name: &str, at: At, filter: Option<Expr>) -> Result<Vec<RecordBatch>> {
        let Some(table) = self.load(name, at).await? else {
            return Ok(Vec::new());
        };
        let mut df = frame(&SessionContext::new(), name, &table).await?;
        if let Some(f) = filter {
            df = df.filter(f).map_err(|e| Error::query(name, e))?;
        }
        df.collect().await.map_err(|e| Error::query(name, e))
    }

    /// The commits of a table, newest first.
    pub async fn history(&self, name: &str, limit: Option<usize>) -> Result<Vec<HistoryEntry>> {
        let table = self
            .load(name, At::Latest)
            .await?
            .ok_or_else(|| Error::EmptyTable { name: name.into() })?;
        let latest = table.version().unwrap_or(0);
        let infos: Vec<_> = table
            .history(limit)
            .try_collect()
            .await
            .map_err(|e| Error::delta(name, e))?;
        Ok(infos
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let get = |k: &str| c.info.get(k).cloned();
                HistoryEntry {
                    version: latest.saturating_sub(i as u64),
                    timestamp: c.timestamp.and_then(DateTime::from_timestamp_millis),
                    operation: c.operation.clone().unwrap_or_default(),
                    rows_added: get("elite.rows_added").and_then(|v| v.as_i64()),
                    source: get("elite.source").and_then(|v| v.as_str().map(str::to_string)),
                    parameters: c
                        .operation_parameters
                        .as_ref()
                        .map(|p| {
                            let mut kv: Vec<_> =
                                p.iter().map(|(k, v)| format!("{k}={v}")).collect();
                            kv.sort();
                            kv.join(" ")
                        })
                        .unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Compact small files into files of about `target_size` bytes (bin-packing within partitions).
    pub async fn optimize(
        &self,
        name: &str,
        target_size: Option<NonZeroU64>,
    ) -> Result<OptimizeOutcome> {
        let table = self
            .load(name, At::Latest)
            .await?
            .ok_or_else(|| Error::EmptyTable { name: name.into() })?;
        let schema = TableSpec::by_name(name).map(TableSpec::arrow_schema);
        let mut op = table
            .optimize()
            .with_writer_properties(writer_properties(schema.as_deref()));
        if let Some(t) = target_size {
            op = op.with_target_size(t);
        }
        let (table, metrics) = op.await.map_err(|e| Error::delta(name, e))?;
        Ok(OptimizeOutcome {
            version: table.version(),
            files_added: metrics.num_files_added,
            files_removed: metrics.num_files_removed,
        })
    }

    /// Delete files no longer referenced by versions younger than `retention`.
    ///
    /// The retention guard: below 7 days (Delta's default, which keeps time travel and
    /// concurrent readers safe) the vacuum is refused unless `force`.
    pub async fn vacuum(
        &self,
        name: &str,
        retention: chrono::Duration,
        dry_run: bool,
        force: bool,
    ) -> Result<VacuumOutcome> {
        const GUARD_HOURS: i64 = 7 * 24;
        if retention < chrono::Duration::hours(GUARD_HOURS) && !force {
            return Err(Error::Refused(format!(
                "vacuum of {name} with retention {}h is below the {GUARD_HOURS}h guard: it would break time travel to \
                 recent versions and readers still using them; pass --force to do it anyway",
                retention.num_hours()
            )));
        }
        let table = self
            .load(name, At::Latest)
            .await?
            .ok_or_else(|| Error::EmptyTable { name: name.into() })?;
        let (_, metrics) = table
            .vacuum()
            .with_retention_period(retention)
            .with_enforce_retention_duration(!force)
            .with_dry_run(dry_run)
            .await
            .map_err(|e| Error::delta(name, e))?;
        Ok(VacuumOutcome {
            dry_run: metrics.dry_run,
            files: metrics.files_deleted,
        })
    }
}

/// The root and the names of the storage options, never their values (credentials).
impl std::fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warehouse")
            .field("root", &self.root.as_str())
            .field("options", &elite_warehouse::RedactedMap(&self.options))
            .field("memory", &self.memory.is_some())
            .finish()
    }
}

fn object_store_memory() -> deltalake::logstore::object_store::memory::InMemory {
    deltalake::logstore::object_store::memory::InMemory::new()
}

/// The positions of `columns` in `spec`'s schema and a converter that row-encodes them (so any
/// column types compare and hash as bytes).
pub(crate) fn row_encoder<S: AsRef<str>>(
    spec: &TableSpec,
    columns: &[S],
) -> Result<(Vec<usize>, RowConverter)> {
    let schema = spec.arrow_schema();
    let idx: Vec<usize> = columns
        .iter()
        .map(|k| schema.index_of(k.as_ref()))
        .collect::<Result<_, _>>()?;
    let converter = RowConverter::new(
        idx.iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect(),
    )?;
    Ok((idx, converter))
}

/// Rows per Parquet row group: the unit of statistics-based skipping inside a file (DuckDB
/// writes 122,880). A file sorted by symbol then holds ~13 symbols of 10k bars per group, so a
/// one-symbol query decodes one group, not the writer default's million rows.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// How every data file is written: ZSTD level 1, [`ROW_GROUP_ROWS`]-row groups, and (for a table
/// whose schema is known) dictionary encoding for the string columns only — symbols, timeframes
/// and sources have few distinct values; prices, volumes and timestamps are nearly distinct per
/// row group, so a dictionary there only costs hashing every value. On 10M 1-minute bars, with
/// the parquet crate's default (a dictionary for every column): `elite ingest csv` 6.45–6.73 s →
/// 5.39–5.64 s, peak RSS 363 → 264–286 MiB, files 271 → 209 MB; `elite bench sql` (a)–(e)
/// unchanged within this machine's noise (two A/B/A/B rounds).
pub(crate) fn writer_properties(schema: Option<&Schema>) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    if let Some(schema) = schema {
        b = b.set_dictionary_enabled(false);
        for f in schema.fields() {
            let path = || ColumnPath::from(f.name().as_str());
            match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    b = b.set_column_dictionary_enabled(path(), true);
                }
                // Times ascend within a file's runs of one key: their differences pack into a
                // few bits, leaving the compressor little to do.
                DataType::Timestamp(..) => {
                    b = b.set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
                }
                _ => {}
            }
        }
    }
    b.build()
}

/// A filter that narrows the key lookup to the partitions, the first key column's values (the
/// symbols: files and row groups carry their range) and the `ts_event` range of `input`.
fn prune_filter(spec: &TableSpec, partition_by: &[String], input: &RecordBatch) -> Option<Expr> {
    let mut parts = Vec::new();
    let mut names: Vec<&str> = partition_by.iter().map(String::as_str).collect();
    for k in spec
        .key
        .iter()
        .take(1)
        .chain(spec.key.iter().filter(|k| **k == "ts_event"))
    {
        if !names.contains(k) {
            names.push(k);
        }
    }
    for name in names {
        let Some(c) = input.column_by_name(name) else {
            continue;
        };
        match c.data_type() {
            DataType::Utf8 => {
                let vals: HashSet<&str> = c.as_string::<i32>().iter().flatten().collect();
                parts.push(col(name).in_list(vals.into_iter().map(lit).collect(), false));
            }
            DataType::Int32 => {
                let vals: HashSet<i32> = c.as_primitive::<Int32Type>().iter().flatten().collect();
                parts.push(col(name).in_list(vals.into_iter().map(lit).collect(), false));
            }
            DataType::Timestamp(_, tz) => {
                let a = c.as_primitive::<TimestampMicrosecondType>();
                if let (Some(lo), Some(hi)) = (
                    deltalake::arrow::compute::min(a),
                    deltalake::arrow::compute::max(a),
                ) {
                    let s = |v| lit(ScalarValue::TimestampMicrosecond(Some(v), tz.clone()));
                    parts.push(col(name).between(s(lo), s(hi)));
                }
            }
            _ => {}
        }
    }
    parts.into_iter().reduce(Expr::and)
}

/// The partition columns of a loaded table (its Delta metadata's).
pub(crate) fn partitions_of(name: &str, table: &DeltaTable) -> Result<Vec<String>> {
    Ok(table
        .snapshot()
        .map_err(|e| Error::delta(name, e))?
        .metadata()
        .partition_columns()
        .to_vec())
}

/// A DataFrame over every row of `table` (loaded as `name`) in the session `ctx`.
pub(crate) async fn frame(
    ctx: &SessionContext,
    name: &str,
    table: &DeltaTable,
) -> Result<DataFrame> {
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|e| Error::delta(name, e))?;
    let provider = table
        .table_provider()
        .await
        .map_err(|e| Error::query(name, e))?;
    ctx.read_table(provider).map_err(|e| Error::query(name, e))
}

/// `batch` with its columns cast, by position, to `schema`'s types: a scan gives partition
/// columns dictionary-encoded (or as views), the declared schema plain strings.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let cols = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| cast(c, f.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), cols)?)
}
