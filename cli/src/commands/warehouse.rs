//! `elite warehouse tables|describe|history|optimize|relayout|vacuum`

use std::num::NonZeroU64;
use std::sync::Arc;

use anyhow::Result;
use arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use elite_warehouse::TableSpec;

use super::user_bail;
use crate::args::WarehouseCommand;
use crate::printer::Printer;
use crate::settings::Settings;

fn spec(name: &str) -> Result<&'static TableSpec> {
    match TableSpec::by_name(name) {
        Some(s) => Ok(s),
        None => {
            let known: Vec<_> = elite_warehouse::tables::ALL
                .iter()
                .map(|t| t.name)
                .collect();
            user_bail!("unknown table {name:?}; tables: {}", known.join(", "))
        }
    }
}

fn strs<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v))
}

pub async fn run(cmd: WarehouseCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    match cmd {
        WarehouseCommand::Tables => {
            let infos = wh.tables().await?;
            let engine = elite_sql::SqlEngine::new(wh.clone()).await?;
            let mut rows = Vec::new();
            for i in &infos {
                let n = engine
                    .query(&format!("SELECT count(*) FROM {}", i.spec.name))
                    .await?;
                let count = n
                    .first()
                    .and_then(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<arrow::array::Int64Array>()
                            .map(|a| a.value(0))
                    })
                    .unwrap_or(0);
                rows.push((i, count as u64));
            }
            let schema = Arc::new(Schema::new(vec![
                Field::new("table", DataType::Utf8, false),
                Field::new("version", DataType::UInt64, true),
                Field::new("files", DataType::UInt64, false),
                Field::new("rows", DataType::UInt64, false),
                Field::new("key", DataType::Utf8, false),
                Field::new("partitioned_by", DataType::Utf8, false),
            ]));
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    strs(rows.iter().map(|(i, _)| i.spec.name)),
                    Arc::new(UInt64Array::from(
                        rows.iter().map(|(i, _)| i.version).collect::<Vec<_>>(),
                    )),
                    Arc::new(UInt64Array::from_iter_values(
                        rows.iter().map(|(i, _)| i.files as u64),
                    )),
                    Arc::new(UInt64Array::from_iter_values(rows.iter().map(|(_, n)| *n))),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|(i, _)| i.spec.key.join(", ")),
                    )),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|(i, _)| i.partition_by.join(", ")),
                    )),
                ],
            )?;
            printer.batches(schema, &[batch])
        }
        WarehouseCommand::Describe { table } => {
            let s = spec(&table)?;
            let parts = wh.partitioning(s.name).await?;
            printer.note(format!("{}: {}", s.name, s.description));
            let arrow_schema = s.arrow_schema();
            let fields = arrow_schema.fields();
            let schema = Arc::new(Schema::new(vec![
                Field::new("column", DataType::Utf8, false),
                Field::new("type", DataType::Utf8, false),
                Field::new("nullable", DataType::Boolean, false),
                Field::new("key", DataType::Boolean, false),
                Field::new("partition", DataType::Boolean, false),
            ]));
            let types: Vec<String> = fields.iter().map(|f| f.data_type().to_string()).collect();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    strs(fields.iter().map(|f| f.name().as_str())),
                    strs(types.iter().map(String::as_str)),
                    Arc::new(BooleanArray::from(
                        fields.iter().map(|f| f.is_nullable()).collect::<Vec<_>>(),
                    )),
                    Arc::new(BooleanArray::from(
                        fields
                            .iter()
                            .map(|f| s.key.contains(&f.name().as_str()))
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(BooleanArray::from(
                        fields
                            .iter()
                            .map(|f| parts.iter().any(|p| p == f.name()))
                            .collect::<Vec<_>>(),
                    )),
                ],
            )?;
            printer.batches(schema, &[batch])
        }
        WarehouseCommand::History { table, limit } => {
            spec(&table)?;
            let h = wh.history(&table, limit).await?;
            print_history(&h, printer)
        }
        WarehouseCommand::Optimize { table, target_mib } => {
            spec(&table)?;
            let target = target_mib.and_then(|m| NonZeroU64::new(m * 1024 * 1024));
            let out = wh.optimize(&table, target).await?;
            printer.note(format!(
                "{table}: compacted {} file(s) into {}; version {}",
                out.files_removed,
                out.files_added,
                out.version.map_or("-".into(), |v| v.to_string())
            ));
            Ok(())
        }
        WarehouseCommand::Relayout {
            table,
            partition_by,
            memory_mib,
        } => {
            spec(&table)?;
            let cols: Vec<&str> = partition_by.iter().map(|c| c.trim()).collect();
            let t = std::time::Instant::now();
            let out = wh
                .relayout(&table, &cols, memory_mib.saturating_mul(1 << 20))
                .await?;
            match out.version {
                None => printer.note(format!(
                    "{table} is already partitioned by {}; nothing written",
                    out.to.join(", ")
                )),
                Some(v) => printer.note(format!(
                    "{table}: {} rows from {} file(s) partitioned by {} to {} file(s) partitioned by {} \
                     (each sorted by {}) in {:.2} s; version {v} (earlier versions keep the old layout)",
                    out.rows,
                    out.files_removed,
                    out.from.join(", "),
                    out.files_added,
                    out.to.join(", "),
                    spec(&table)?.key.join(", "),
                    t.elapsed().as_secs_f64()
                )),
            }
            Ok(())
        }
        WarehouseCommand::Vacuum {
            table,
            retention_hours,
            dry_run,
            force,
        } => {
            spec(&table)?;
            let out = wh
                .vacuum(
                    &table,
                    chrono::Duration::hours(retention_hours),
                    dry_run,
                    force,
                )
                .await?;
            let verb = if out.dry_run {
                "would delete"
            } else {
                "deleted"
            };
            printer.note(format!("{table}: {verb} {} file(s)", out.files.len()));
            let schema = Arc::new(Schema::new(vec![Field::new("file", DataType::Utf8, false)]));
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![strs(out.files.iter().map(String::as_str))],
            )?;
            printer.batches(schema, &[batch])
        }
        WarehouseCommand::Attach { name, location } => {
            let a = wh.attach(&name, &location).await?;
            printer.note(format!(
                "attached {} -> {}; query it with `elite sql \"SELECT * FROM {}\"`",
                a.name, a.location, a.name
            ));
            Ok(())
        }
        WarehouseCommand::Detach { name } => {
            if !wh.detach(&name).await? {
                user_bail!("no attached table named {name:?}");
            }
            printer.note(format!("detached {name}"));
            Ok(())
        }
        WarehouseCommand::Attached => {
            let list = wh.attached().await?;
            let schema = Arc::new(Schema::new(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("location", DataType::Utf8, false),
            ]));
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    strs(list.iter().map(|a| a.name.as_str())),
                    strs(list.iter().map(|a| a.location.as_str())),
                ],
            )?;
            printer.batches(schema, &[batch])
        }
    }
}

/// Print a table's commits.
pub fn print_history(h: &[elite_store::HistoryEntry], printer: &Printer) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("version", DataType::UInt64, false),
        Field::new(
            "committed_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("operation", DataType::Utf8, false),
        Field::new("rows_added", DataType::UInt64, true),
        Field::new("source", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(UInt64Array::from_iter_values(h.iter().map(|e| e.version))),
            Arc::new(
                TimestampMillisecondArray::from(
                    h.iter()
                        .map(|e| e.timestamp.map(|t| t.timestamp_millis()))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            strs(h.iter().map(|e| e.operation.as_str())),
            Arc::new(UInt64Array::from(
                h.iter()
                    .map(|e| e.rows_added.map(|r| r as u64))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                h.iter().map(|e| e.source.as_deref()).collect::<Vec<_>>(),
            )),
        ],
    )?;
    printer.batches(schema, &[batch])
}
