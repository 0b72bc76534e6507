//! Table layout: which columns a table is partitioned by, and moving a table from one layout
//! to another ([`Warehouse::relayout`]).
//!
//! A table's layout is what its Delta metadata says (`partitionColumns`); the spec's
//! `partition_by` is only the default for a table not written yet, which
//! [`Warehouse::with_partitioning`] can override. Whatever the partitioning, every data file an
//! append writes is sorted by the table key, so the files' and row groups' statistics (Delta's
//! per-file min/max, Parquet's per row group and page) narrow a query or a key lookup by symbol
//! and time inside a partition.
//!
//! A relayout rewrites every row of the latest version, sorted by the key, under the new
//! partition columns, and commits once: the new metadata, a remove of every old file and an add
//! of every new one. Readers of older versions keep the old layout (time travel is unchanged);
//! a crash before the commit leaves the table as it was.

use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::datafusion::execution::memory_pool::FairSpillPool;
use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use deltalake::datafusion::prelude::{SessionConfig, SessionContext, col};
use elite_warehouse::TableSpec;
use futures::StreamExt;

use crate::append::Appender;
use crate::warehouse::{CommitMeta, conform, frame, partitions_of};
use crate::{At, Error, Result, Warehouse};

/// What a relayout did.
#[derive(Clone, Debug)]
pub struct RelayoutOutcome {
    /// The new version (`None`: the table already had that layout, nothing was written).
    pub version: Option<u64>,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub rows: usize,
    pub files_removed: usize,
    pub files_added: usize,
}

/// Refuse partition columns the table does not have, or of a type that makes no partition
/// (floats), or repeated.
fn check_partitioning(spec: &TableSpec, columns: &[String]) -> Result<()> {
    let schema = spec.arrow_schema();
    for (i, c) in columns.iter().enumerate() {
        let refuse = |why: String| {
            Err(Error::Refused(format!(
                "cannot partition {} by {}: {why}",
                spec.name,
                columns.join(", ")
            )))
        };
        let Ok(f) = schema.field_with_name(c) else {
            let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return refuse(format!("no column {c:?} (columns: {})", names.join(", ")));
        };
        if f.data_type().is_floating() || f.is_nullable() {
            return refuse(format!(
                "{c} is {}{}; partition columns are non-null strings, integers or dates",
                if f.is_nullable() { "nullable " } else { "" },
                f.data_type()
            ));
        }
        if columns[..i].contains(c) {
            return refuse(format!("{c} is named twice"));
        }
    }
    Ok(())
}

impl Warehouse {
    /// Create `table` (when this warehouse first writes it) partitioned by `columns` instead of
    /// its spec's default. A table that exists keeps its layout: use [`Warehouse::relayout`].
    pub fn with_partitioning(mut self, table: &str, columns: &[&str]) -> Result<Self> {
        let spec = Self::spec(table)?;
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        check_partitioning(spec, &columns)?;
        self.partitioning.insert(spec.name.to_string(), columns);
        Ok(self)
    }

    /// The partition columns `spec`'s table is (or, not written yet, will be) laid out by.
    pub(crate) fn partition_columns(
        &self,
        spec: &TableSpec,
        table: Option<&DeltaTable>,
    ) -> Result<Vec<String>> {
        Ok(match table {
            Some(t) => partitions_of(spec.name, t)?,
            None => self
                .partitioning
                .get(spec.name)
                .cloned()
                .unwrap_or_else(|| spec.partition_by.iter().map(|c| c.to_string()).collect()),
        })
    }

    /// The partition columns of `name` as it stands (the default for a table not written yet).
    pub async fn partitioning(&self, name: &str) -> Result<Vec<String>> {
        let spec = Self::spec(name)?;
        let table = self.load(name, At::Latest).await?;
        self.partition_columns(spec, table.as_ref())
    }

    /// Rewrite every row of `name`'s latest version under the partition columns `to`, each data
    /// file sorted by the key, in one commit (see the module docs). Holds about `budget` bytes:
    /// half for the sort (which spills sorted runs to temporary files beyond it), half for the
    /// rows waiting to be written and being encoded.
    pub async fn relayout(
        &self,
        name: &str,
        to: &[&str],
        budget: usize,
    ) -> Result<RelayoutOutcome> {
        let spec = Self::spec(name)?;
        let to: Vec<String> = to.iter().map(|c| c.to_string()).collect();
        check_partitioning(spec, &to)?;
        let table = self
            .load(name, At::Latest)
            .await?
            .ok_or_else(|| Error::EmptyTable { name: name.into() })?;
        let from = partitions_of(name, &table)?;
        let files_before = table
            .get_file_uris()
            .map_err(|e| Error::delta(name, e))?
            .count();
        if from == to {
            return Ok(RelayoutOutcome {
                version: None,
                from,
                to,
                rows: 0,
                files_removed: 0,
                files_added: 0,
            });
        }
        let budget = budget.max(64 << 20);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(budget / 2)))
            .build_arc()
            .map_err(|e| Error::query(name, e))?;
        // The merge of the sorted runs a spilling sort leaves needs memory of its own: reserve a
        // quarter of the sort's share for it up front (DataFusion's default, 10 MiB, runs out
        // when many runs are merged under a small pool).
        let config = SessionConfig::new().with_sort_spill_reservation_bytes(budget / 8);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let schema = spec.arrow_schema();
        let df = frame(&ctx, name, &table)
            .await?
            .sort(spec.key.iter().map(|k| col(*k).sort(true, false)).collect())
            .map_err(|e| Error::query(name, e))?
            .select_columns(
                &schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| Error::query(name, e))?;
        let mut rows = df
            .execute_stream()
            .await
            .map_err(|e| Error::query(name, e))?;
        let mut out = Appender::new(
            self,
            spec,
            None,
            Some(table.clone()),
            to.clone(),
            budget / 4, // an appender holds up to twice its budget (see its docs)
        )?;
        let mut n = 0;
        while let Some(b) = rows.next().await {
            let b = b.map_err(|e| Error::query(name, e))?;
            n += out.write(conform(&b, &schema)?).await?;
        }
        let meta = CommitMeta::new("elite warehouse relayout")
            .with("elite.relayout.from", from.join(","))
            .with("elite.relayout.to", to.join(","));
        let outcome = out.commit(meta).await?;
        let after = self
            .load(name, At::Latest)
            .await?
            .map(|t| t.get_file_uris().map(Iterator::count))
            .transpose()
            .map_err(|e| Error::delta(name, e))?
            .unwrap_or(0);
        Ok(RelayoutOutcome {
            version: outcome.version,
            from,
            to,
            rows: n,
            files_removed: files_before,
            files_added: after,
        })
    }
}
