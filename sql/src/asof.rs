//! `asof_join`: the point-in-time join as a table function.
//!
//! ```sql
//! SELECT * FROM asof_join('ticks', 'quotes', 'symbol', 'ts_event', 'ts_recv', 'level = 0')
//! ```
//!
//! For every row of the left table, the right table's row with the same `by` value and the
//! greatest `right_on` not after the row's `left_on` (ties: the last one read), or NULLs when
//! there is none (a left join, like DuckDB's `ASOF LEFT JOIN … ON l.by = r.by AND l.on >= r.on`).
//! Joining on the right side's `ts_recv` gives what was knowable at the left row's time: no
//! look-ahead. Arguments: `left`, `right` (warehouse tables, `name@v3` for a version), `by`,
//! `left_on`, `right_on`, then optional SQL predicates `right_where` and `left_where` applied
//! before the join. Columns: every left column, then every right column but `by`, a right
//! column whose name the left already uses prefixed with the right table's name
//! (`quotes_ts_event`).
//!
//! The join sorts each `by` group of the right side by time once, then finds each left row's
//! match from its group's previous one (galloping forward; a binary search when the row is
//! earlier): O(n + m) for left rows in time order within each group, O((n + m) log m) at worst,
//! the left side's order kept. Runs of equal `by` values (tables are sorted by their first key
//! column) are looked up once per run, not hashed per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use elite_store::datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use elite_store::datafusion::arrow::compute::{cast, concat_batches, take};
use elite_store::datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use elite_store::datafusion::catalog::{Session, TableFunctionImpl, TableProvider};
use elite_store::datafusion::datasource::TableType;
use elite_store::datafusion::datasource::memory::MemorySourceConfig;
use elite_store::datafusion::error::{DataFusionError, Result};
use elite_store::datafusion::execution::SessionState;
use elite_store::datafusion::execution::context::SQLOptions;
use elite_store::datafusion::logical_expr::Expr;
use elite_store::datafusion::physical_plan::ExecutionPlan;
use elite_store::datafusion::prelude::SessionContext;
use elite_store::datafusion::scalar::ScalarValue;

use crate::catalog::parse_table_ref;

/// The `asof_join` table function.
#[derive(Debug)]
pub struct AsofJoinFunction;

#[derive(Debug, Clone)]
struct Args {
    left: String,
    right: String,
    by: String,
    left_on: String,
    right_on: String,
    right_where: Option<String>,
    left_where: Option<String>,
}

fn plan_err(msg: String) -> DataFusionError {
    DataFusionError::Plan(format!("asof_join: {msg}"))
}

const USAGE: &str =
    "asof_join('left', 'right', 'by', 'left_on', 'right_on' [, 'right_where' [, 'left_where']])";

/// The declared schema of a warehouse table named in an argument.
fn table_schema(name: &str) -> Result<SchemaRef> {
    match parse_table_ref(name) {
        Ok(Some(r)) => Ok(r.table.arrow_schema()),
        Ok(None) => Err(plan_err(format!(
            "{name:?} is not a warehouse table (asof_join reads tables, optionally name@v3)"
        ))),
        Err(e) => Err(plan_err(e)),
    }
}

/// A time or integer column, read as i64 for comparison.
fn orderable(schema: &Schema, table: &str, col: &str) -> Result<()> {
    let f = schema
        .field_with_name(col)
        .map_err(|_| plan_err(format!("{table} has no column {col:?}")))?;
    match f.data_type() {
        DataType::Timestamp(..) | DataType::Int64 | DataType::Int32 | DataType::Date32 => Ok(()),
        t => Err(plan_err(format!(
            "{table}.{col} is {t}; the as-of columns must be timestamps or integers"
        ))),
    }
}

impl TableFunctionImpl for AsofJoinFunction {
    fn call(&self, exprs: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        let strs = exprs
            .iter()
            .map(|e| match e {
                Expr::Literal(ScalarValue::Utf8(Some(s)), ..)
                | Expr::Literal(ScalarValue::Utf8View(Some(s)), ..)
                | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), ..) => Ok(s.clone()),
                other => Err(plan_err(format!(
                    "every argument is a string literal ({USAGE}); got {other}"
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        if !(5..=7).contains(&strs.len()) {
            return Err(plan_err(format!("{} arguments given; {USAGE}", strs.len())));
        }
        let args = Args {
            left: strs[0].clone(),
            right: strs[1].clone(),
            by: strs[2].clone(),
            left_on: strs[3].clone(),
            right_on: strs[4].clone(),
            right_where: strs.get(5).cloned().filter(|s| !s.trim().is_empty()),
            left_where: strs.get(6).cloned().filter(|s| !s.trim().is_empty()),
        };
        let (ls, rs) = (table_schema(&args.left)?, table_schema(&args.right)?);
        for (s, t) in [(&ls, &args.left), (&rs, &args.right)] {
            let f = s
                .field_with_name(&args.by)
                .map_err(|_| plan_err(format!("{t} has no column {:?}", args.by)))?;
            if f.data_type() != &DataType::Utf8 {
                return Err(plan_err(format!(
                    "{t}.{} is {}; `by` must be a string column",
                    args.by,
                    f.data_type()
                )));
            }
        }
        orderable(&ls, &args.left, &args.left_on)?;
        orderable(&rs, &args.right, &args.right_on)?;
        let right_base = args.right.split('@').next().unwrap_or(&args.right);
        let mut fields: Vec<Field> = ls.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut right_out = Vec::new();
        for (i, f) in rs.fields().iter().enumerate() {
            if f.name() == &args.by {
                continue;
            }
            right_out.push(i);
            let name = if ls.field_with_name(f.name()).is_ok() {
                format!("{right_base}_{}", f.name())
            } else {
                f.name().clone()
            };
            fields.push(Field::new(name, f.data_type().clone(), true));
        }
        Ok(Arc::new(AsofJoin {
            args,
            left_schema: ls,
            right_schema: rs,
            right_out,
            schema: Arc::new(Schema::new(fields)),
        }))
    }
}

#[derive(Debug)]
struct AsofJoin {
    args: Args,
    left_schema: SchemaRef,
    right_schema: SchemaRef,
    /// The right schema's column behind each output column past the left ones.
    right_out: Vec<usize>,
    schema: SchemaRef,
}

/// Every row of `table` (filtered by `predicate`), with the declared column types.
async fn read(
    ctx: &SessionContext,
    table: &str,
    predicate: Option<&str>,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let mut sql = format!("SELECT {} FROM \"{table}\"", cols.join(", "));
    if let Some(p) = predicate {
        sql.push_str(&format!(" WHERE {p}"));
    }
    // The predicates are the caller's SQL: only ever a read.
    let read_only = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let batches = ctx
        .sql_with_options(&sql, read_only)
        .await?
        .collect()
        .await?;
    let conformed = batches
        .iter()
        .map(|b| {
            elite_store::conform(b, schema).map_err(|e| DataFusionError::External(Box::new(e)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(concat_batches(schema, &conformed)?)
}

/// For each row of `left`, the index of its match in `right` (see the module docs).
pub fn asof_indices(
    left_by: &dyn Array,
    left_on: &dyn Array,
    right_by: &dyn Array,
    right_on: &dyn Array,
) -> Result<UInt32Array> {
    let as_str = |a: &dyn Array| cast(a, &DataType::Utf8);
    let as_i64 = |a: &dyn Array| cast(a, &DataType::Int64);
    let (lb, lo, rb, ro) = (
        as_str(left_by)?,
        as_i64(left_on)?,
        as_str(right_by)?,
        as_i64(right_on)?,
    );
    let (lb, lo) = (lb.as_string::<i32>(), lo.as_primitive::<Int64Type>());
    let (rb, ro) = (rb.as_string::<i32>(), ro.as_primitive::<Int64Type>());
    // Groups by key, in the order first seen. Tables come sorted by their first key column, so
    // consecutive rows mostly share the key: a run reuses the previous row's group and only a
    // change of key is hashed.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<(i64, u32)>> = Vec::new();
    let mut last: Option<(&str, usize)> = None;
    for i in 0..rb.len() {
        if !(rb.is_valid(i) && ro.is_valid(i)) {
            continue;
        }
        let key = rb.value(i);
        let g = match last {
            Some((k, g)) if k == key => g,
            _ => {
                let next = groups.len();
                let g = *index.entry(key).or_insert(next);
                if g == next {
                    groups.push(Vec::new());
                }
                last = Some((key, g));
                g
            }
        };
        groups[g].push((ro.value(i), i as u32));
    }
    for g in &mut groups {
        g.sort_by_key(|&(t, _)| t); // stable: ties keep the order read, the last wins
    }
    // Each group's left rows mostly come in time order too (interleaved with other groups or
    // not): from that group's previous match the next one only moves forward, found by galloping
    // (O(log distance)); a row earlier than its group's previous one is binary-searched.
    let mut at: Vec<(i64, usize)> = vec![(i64::MIN, 0); groups.len()];
    let mut last: Option<(&str, Option<usize>)> = None;
    Ok((0..lb.len())
        .map(|i| {
            if !(lb.is_valid(i) && lo.is_valid(i)) {
                return None;
            }
            let key = lb.value(i);
            let gi = match last {
                Some((k, g)) if k == key => g,
                _ => {
                    let g = index.get(key).copied();
                    last = Some((key, g));
                    g
                }
            }?;
            let g = &groups[gi];
            let t = lo.value(i);
            let (prev_t, prev_n) = at[gi];
            let n = if t >= prev_t {
                // Every g[..start] is at or before prev_t ≤ t.
                let (mut start, mut step) = (prev_n, 1usize);
                while start + step <= g.len() && g[start + step - 1].0 <= t {
                    start += step;
                    step *= 2;
                }
                let end = (start + step - 1).min(g.len());
                start + g[start..end].partition_point(|&(rt, _)| rt <= t)
            } else {
                g.partition_point(|&(rt, _)| rt <= t)
            };
            at[gi] = (t, n);
            n.checked_sub(1).map(|k| g[k].1)
        })
        .collect())
}

#[async_trait]
impl TableProvider for AsofJoin {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| DataFusionError::Internal("asof_join needs a SessionState".into()))?;
        let ctx = SessionContext::new_with_state(state.clone());
        let a = &self.args;
        // Read only what the query uses, plus the join columns.
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        let proj = projection.unwrap_or(&all);
        let nl = self.left_schema.fields().len();
        let needed =
            |schema: &SchemaRef, used: &mut dyn Iterator<Item = usize>, keys: [&str; 2]| {
                let mut idx: Vec<usize> = used.collect();
                for k in keys {
                    idx.extend(schema.index_of(k).ok());
                }
                idx.sort_unstable();
                idx.dedup();
                schema.project(&idx).map(Arc::new)
            };
        let left_cols = needed(
            &self.left_schema,
            &mut proj.iter().copied().filter(|&i| i < nl),
            [&a.by, &a.left_on],
        )?;
        let right_cols = needed(
            &self.right_schema,
            &mut proj
                .iter()
                .filter(|&&i| i >= nl)
                .map(|&i| self.right_out[i - nl]),
            [&a.by, &a.right_on],
        )?;
        let (left, right) = futures::try_join!(
            read(&ctx, &a.left, a.left_where.as_deref(), &left_cols),
            read(&ctx, &a.right, a.right_where.as_deref(), &right_cols),
        )?;
        let col = |b: &RecordBatch, n: &str| -> Result<ArrayRef> {
            b.column_by_name(n)
                .cloned()
                .ok_or_else(|| plan_err(format!("no column {n}")))
        };
        let idx = asof_indices(
            col(&left, &a.by)?.as_ref(),
            col(&left, &a.left_on)?.as_ref(),
            col(&right, &a.by)?.as_ref(),
            col(&right, &a.right_on)?.as_ref(),
        )?;
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(proj.len());
        for &i in proj {
            if i < nl {
                cols.push(col(&left, self.left_schema.field(i).name())?);
            } else {
                let name = self.right_schema.field(self.right_out[i - nl]).name();
                cols.push(take(col(&right, name)?.as_ref(), &idx, None)?);
            }
        }
        let schema = Arc::new(self.schema.project(proj)?);
        let out = RecordBatch::try_new_with_options(
            Arc::clone(&schema),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(left.num_rows())),
        )?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![out]],
            schema,
            None,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elite_store::datafusion::arrow::array::{Int64Array, StringArray};

    #[test]
    fn each_left_row_takes_the_last_right_row_not_after_it_within_its_group() {
        let lb = StringArray::from(vec!["A", "B", "A", "A", "C", "B"]);
        let lo = Int64Array::from(vec![5, 5, 10, 1, 7, 100]);
        let rb = StringArray::from(vec!["A", "A", "B", "A", "A", "C"]);
        let ro = Int64Array::from(vec![4, 10, 6, 2, 10, 8]);
        let idx = asof_indices(&lb, &lo, &rb, &ro).unwrap();
        let got: Vec<Option<u32>> = idx.iter().collect();
        // A@5 -> A@4 (row 0); B@5 -> none (B's first is 6); A@10 -> the later of the two A@10
        // (row 4); A@1 -> none; C@7 -> none (C@8 is after); B@100 -> B@6 (row 2).
        assert_eq!(got, vec![Some(0), None, Some(4), None, None, Some(2)]);
    }

    /// Against the definition, by brute force: the right row of the same key with the latest
    /// time not after the left row's (among equal times the last read). Inputs with runs of a
    /// key, keys interleaved, left rows in and out of time order, repeated times and nulls.
    #[test]
    fn equals_the_brute_force_match_on_random_inputs() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..200 {
            let (nl, nr, keys) = (1 + next(300), 1 + next(300), 1 + next(6));
            let runs = case % 2 == 0;
            let mut key = |i: u64, n: u64| -> Option<String> {
                match next(40) {
                    0 => None,
                    _ if runs => Some(format!("K{}", i * keys / n)),
                    _ => Some(format!("K{}", next(keys))),
                }
            };
            let lb: StringArray = (0..nl).map(|i| key(i, nl)).collect();
            let rb: StringArray = (0..nr).map(|i| key(i, nr)).collect();
            let sorted_left = case % 3 != 0;
            let lo: Int64Array = (0..nl)
                .map(|i| match next(50) {
                    0 => None,
                    _ if sorted_left => Some((i * 3) as i64 + next(3) as i64),
                    _ => Some(next(1000) as i64),
                })
                .collect();
            let ro: Int64Array = (0..nr)
                .map(|_| (next(50) != 0).then(|| next(1000) as i64))
                .collect();
            let got = asof_indices(&lb, &lo, &rb, &ro).unwrap();
            assert_eq!(got.len(), nl as usize);
            for i in 0..nl as usize {
                let want = (lb.is_valid(i) && lo.is_valid(i))
                    .then(|| {
                        (0..nr as usize)
                            .filter(|&j| {
                                rb.is_valid(j)
                                    && ro.is_valid(j)
                                    && rb.value(j) == lb.value(i)
                                    && ro.value(j) <= lo.value(i)
                            })
                            .max_by_key(|&j| (ro.value(j), j))
                            .map(|j| j as u32)
                    })
                    .flatten();
                assert_eq!(
                    got.is_valid(i).then(|| got.value(i)),
                    want,
                    "case {case} row {i}"
                );
            }
        }
    }
}
