//! The `predictions` table: rows of out-of-sample (walk-forward) and served (production,
//! shadow) scores, keyed by model, source, symbol and bar, and reading them back.

use elite_models::data::Dataset;
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::tables;
use serde::Serialize;

use crate::Result;

/// Nanoseconds to the tables' microseconds (floor).
pub(crate) fn us(ns: i64) -> i64 {
    ns.div_euclid(1000)
}

/// A `predictions` row.
#[derive(Clone, Debug, Serialize)]
pub struct PredictionRow {
    pub model_id: String,
    pub source: String,
    pub symbol: String,
    pub ts_event: i64,
    pub ts_recv: i64,
    pub score: f64,
    pub confidence: Option<f64>,
    pub fold: Option<i32>,
}

/// Rows of predictions `pred` for dataset rows `rows`.
pub fn prediction_rows(
    model_id: &str,
    source: &str,
    ds: &Dataset,
    rows: &[usize],
    pred: &[f64],
    confidence: Option<&[f64]>,
    fold_of: Option<&[usize]>,
) -> Vec<PredictionRow> {
    rows.iter()
        .enumerate()
        .map(|(k, &i)| {
            let r = ds.rows[i];
            PredictionRow {
                model_id: model_id.to_string(),
                source: source.to_string(),
                symbol: ds.symbols[r.series as usize].clone(),
                ts_event: us(r.ts_event),
                ts_recv: us(r.ts_recv),
                score: pred[k],
                confidence: confidence.map(|c| c[k]),
                fold: fold_of.map(|f| f[k] as i32),
            }
        })
        .collect()
}

/// A model's recorded predictions for exactly `rows`, if every one is recorded.
pub async fn recorded_predictions(
    wh: &Warehouse,
    model_id: &str,
    source: &str,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Option<Vec<f64>>> {
    let got = read_predictions(wh, model_id, source).await?;
    if got.len() < rows.len() {
        return Ok(None);
    }
    Ok(rows
        .iter()
        .map(|&i| {
            let r = ds.rows[i];
            got.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event)))
                .copied()
        })
        .collect())
}

/// The positions in `test` that model `id` predicted out-of-sample (its walk-forward rows, then
/// the rows it served as production or shadow), with its prediction at every position (NaN
/// elsewhere); `None` when fewer than 100 rows overlap.
pub async fn same_rows(
    wh: &Warehouse,
    id: &str,
    ds: &Dataset,
    test: &[usize],
) -> Result<Option<(Vec<usize>, Vec<f64>)>> {
    let mut got = read_predictions(wh, id, "walk_forward").await?;
    for source in ["production", "shadow"] {
        for (k, v) in read_predictions(wh, id, source).await? {
            got.entry(k).or_insert(v);
        }
    }
    let mut ks = vec![];
    let mut pred = vec![f64::NAN; test.len()];
    for (k, &i) in test.iter().enumerate() {
        let r = ds.rows[i];
        if let Some(&v) = got.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event))) {
            ks.push(k);
            pred[k] = v;
        }
    }
    Ok((ks.len() >= 100).then_some((ks, pred)))
}

/// Write prediction rows (keyed: re-writing lands nothing).
pub async fn insert_predictions(
    wh: &Warehouse,
    rows: &[PredictionRow],
    meta: CommitMeta,
) -> Result<usize> {
    crate::run::journal::insert(wh, &tables::PREDICTIONS, rows, meta).await
}

/// A model's recorded predictions from one source, by (symbol, ts_event µs).
pub async fn read_predictions(
    wh: &Warehouse,
    model_id: &str,
    source: &str,
) -> Result<std::collections::HashMap<(String, i64), f64>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let filter = col("model_id")
        .eq(lit(model_id))
        .and(col("source").eq(lit(source)));
    let batches = match wh.read("predictions", At::Latest, Some(filter)).await {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => return Ok(Default::default()),
        Err(e) => return Err(e.into()),
    };
    let mut got = std::collections::HashMap::new();
    for b in &batches {
        let (Some(sym), Some(ts), Some(score)) = (
            b.column_by_name("symbol")
                .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok()),
            b.column_by_name("ts_event")
                .and_then(|c| arrow::compute::cast(c, &DataType::Int64).ok()),
            b.column_by_name("score"),
        ) else {
            continue;
        };
        let (sym, ts, score) = (
            sym.as_string::<i32>(),
            ts.as_primitive::<Int64Type>(),
            score.as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            got.insert((sym.value(r).to_string(), ts.value(r)), score.value(r));
        }
    }
    Ok(got)
}
