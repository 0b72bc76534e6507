//! The rolling-window rewrite gives what DataFusion's own window evaluation gives: the same
//! queries on the same rows in a plain session (no Elite rules) are the reference. NULLs,
//! partitions shorter than the window, a window of one row, sums and averages, several windows
//! in one query, and shapes the rule must leave alone.

use std::sync::Arc;

use elite_store::datafusion::arrow::array::{
    Array, AsArray, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use elite_store::datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use elite_store::datafusion::datasource::MemTable;
use elite_store::datafusion::prelude::SessionContext;

fn table() -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("symbol", DataType::Utf8, false),
        Field::new(
            "ts_event",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("close", DataType::Float64, true),
    ]));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut s, mut t, mut c) = (vec![], vec![], vec![]);
    // Partitions of 1, 3, 25 and 400 rows, shuffled across two batches; ~10% NULL closes.
    for (k, n) in [("A", 1), ("B", 3), ("C", 25), ("D", 400)] {
        for i in 0..n {
            s.push(k);
            t.push(1_700_000_000_000_000i64 + i * 60_000_000);
            let r = next();
            c.push((r % 10 != 0).then(|| 100.0 + (r % 1000) as f64 / 7.0));
        }
    }
    let mut order: Vec<usize> = (0..s.len()).collect();
    let keys: Vec<u64> = order.iter().map(|_| next()).collect();
    order.sort_by_key(|&i| keys[i]);
    let pick = |idx: &[usize]| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(
                    idx.iter().map(|&i| s[i]).collect::<Vec<_>>(),
                )),
                Arc::new(
                    TimestampMicrosecondArray::from(idx.iter().map(|&i| t[i]).collect::<Vec<_>>())
                        .with_timezone("UTC"),
                ),
                Arc::new(Float64Array::from(
                    idx.iter().map(|&i| c[i]).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()
    };
    let (a, b) = order.split_at(order.len() / 2);
    Arc::new(MemTable::try_new(Arc::clone(&schema), vec![vec![pick(a)], vec![pick(b)]]).unwrap())
}

/// Every column of the result as f64 (NaN for NULL), row by row.
async fn run(ctx: &SessionContext, sql: &str) -> Vec<Vec<f64>> {
    let out = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut rows = Vec::new();
    for b in &out {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| elite_store::datafusion::arrow::compute::cast(c, &DataType::Float64).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            rows.push(
                cols.iter()
                    .map(|c| {
                        let c = c.as_primitive::<Float64Type>();
                        if c.is_valid(i) { c.value(i) } else { f64::NAN }
                    })
                    .collect(),
            );
        }
    }
    rows
}

fn same(a: &[Vec<f64>], b: &[Vec<f64>], sql: &str) {
    assert_eq!(a.len(), b.len(), "{sql}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.len(), y.len(), "{sql}");
        for (p, q) in x.iter().zip(y) {
            let ok = (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-9 * p.abs().max(1.0);
            assert!(ok, "{sql}: {x:?} vs {y:?}");
        }
    }
}

#[tokio::test]
async fn rolling_windows_equal_datafusions_own() {
    let engine_ctx = {
        let ctx = SessionContext::new();
        ctx.add_optimizer_rule(Arc::new(elite_sql::rolling::RollingWindows));
        ctx
    };
    let plain = SessionContext::new();
    for ctx in [&engine_ctx, &plain] {
        ctx.register_table("bars", table()).unwrap();
    }
    let queries = [
        "SELECT symbol, CAST(ts_event AS BIGINT) AS t, avg(close) OVER (PARTITION BY symbol ORDER BY ts_event \
         ROWS BETWEEN 19 PRECEDING AND CURRENT ROW) AS a FROM bars ORDER BY symbol, t",
        "SELECT CAST(ts_event AS BIGINT) AS t, sum(close) OVER (PARTITION BY symbol ORDER BY ts_event \
         ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS s, avg(close) OVER (PARTITION BY symbol ORDER BY ts_event \
         ROWS BETWEEN 0 PRECEDING AND CURRENT ROW) AS one, close FROM bars ORDER BY symbol, t",
        "SELECT count(*) AS n, sum(sma) AS total, count(sma) AS k FROM (SELECT avg(close) OVER (PARTITION BY symbol \
         ORDER BY ts_event ROWS BETWEEN 19 PRECEDING AND CURRENT ROW) AS sma FROM bars) w",
        // Not rewritten (RANGE frame, a following bound, min): must still agree, trivially.
        "SELECT CAST(ts_event AS BIGINT) AS t, avg(close) OVER (PARTITION BY symbol ORDER BY ts_event \
         ROWS BETWEEN 3 PRECEDING AND 1 FOLLOWING) AS f, min(close) OVER (PARTITION BY symbol ORDER BY ts_event \
         ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS m FROM bars ORDER BY symbol, t",
    ];
    for q in queries {
        same(&run(&engine_ctx, q).await, &run(&plain, q).await, q);
    }
    // The rewrite happened where it should, and only there.
    let plan = |q: &str| {
        let ctx = engine_ctx.clone();
        let q = format!("EXPLAIN {q}");
        async move {
            let b = ctx.sql(&q).await.unwrap().collect().await.unwrap();
            elite_store::datafusion::arrow::util::pretty::pretty_format_batches(&b)
                .unwrap()
                .to_string()
        }
    };
    let p = plan(queries[0]).await;
    assert!(p.contains("__elite_rolling_avg"), "{p}");
    let p = plan(queries[1]).await;
    assert!(
        p.contains("__elite_rolling_sum") && p.contains("__elite_rolling_avg"),
        "{p}"
    );
    let p = plan(queries[3]).await;
    assert!(!p.contains("__elite_rolling"), "{p}");
}
