//! A long-lived engine keeps each table's latest snapshot between queries and brings it forward
//! with the commits made since: a commit by another handle (another process) is seen by the
//! next query (a relayout's new partitioning included), time travel still reads the old
//! versions, and a table created after the engine started is found.

use elite_sql::SqlEngine;
use elite_store::datafusion::arrow::array::{AsArray, RecordBatch};
use elite_store::datafusion::arrow::datatypes::Int64Type;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::tables::{QUOTES, TICKS};
use elite_warehouse::{DepthLevel, QuotesBuilder, Tick, TicksBuilder, Timestamp};

const T0: i64 = 1_704_270_600_000_000;

fn ticks(from: i64, n: i64) -> RecordBatch {
    let mut b = TicksBuilder::default();
    for i in from..from + n {
        b.push(Tick {
            symbol: "AAA".into(),
            ts_event: Timestamp::from_nanos((T0 + i * 1_000_000) * 1000),
            ts_recv: Timestamp::from_nanos((T0 + i * 1_000_000 + 5) * 1000),
            price: 100.0 + i as f64,
            source: "test".into(),
            ..Tick::default()
        });
    }
    b.finish().unwrap()
}

async fn count(engine: &SqlEngine, sql: &str) -> i64 {
    let out = engine.query(sql).await.unwrap();
    assert_eq!(out.iter().map(|b| b.num_rows()).sum::<usize>(), 1, "{sql}");
    let b = out.iter().find(|b| b.num_rows() == 1).unwrap();
    b.column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn the_next_query_sees_commits_made_since() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let wh = Warehouse::open(path).unwrap();
    wh.insert_new(&TICKS, vec![ticks(0, 3)], CommitMeta::new("t0"))
        .await
        .unwrap();
    let engine = SqlEngine::new(wh).await.unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM ticks").await, 3);
    assert_eq!(count(&engine, "SELECT count(*) FROM quotes").await, 0);

    // Another handle on the same warehouse commits twice (as another process would).
    let other = Warehouse::open(path).unwrap();
    other
        .insert_new(&TICKS, vec![ticks(3, 2)], CommitMeta::new("t1"))
        .await
        .unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM ticks").await, 5);
    other
        .insert_new(&TICKS, vec![ticks(5, 4)], CommitMeta::new("t2"))
        .await
        .unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM ticks").await, 9);
    // Unchanged since: the same answer again; the old versions are still there.
    assert_eq!(count(&engine, "SELECT count(*) FROM ticks").await, 9);
    assert_eq!(
        count(&engine, r#"SELECT count(*) FROM "ticks@v0""#).await,
        3
    );
    assert_eq!(
        count(&engine, r#"SELECT count(*) FROM "ticks@v1""#).await,
        5
    );

    // A relayout commits new metadata (partition columns), removes and adds: brought forward too.
    other
        .relayout("ticks", &["symbol"], 64 << 20)
        .await
        .unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM ticks").await, 9);
    assert_eq!(
        count(&engine, "SELECT count(*) FROM ticks WHERE symbol = 'AAA'").await,
        9
    );
    assert_eq!(
        count(&engine, r#"SELECT count(*) FROM "ticks@v1""#).await,
        5
    );

    // A table first written after the engine read it as empty.
    let mut q = QuotesBuilder::default();
    q.push(DepthLevel {
        symbol: "AAA".into(),
        ts_event: Timestamp::from_nanos(T0 * 1000),
        ts_recv: Timestamp::from_nanos((T0 + 1) * 1000),
        level: 0,
        bid_price: Some(99.0),
        bid_qty: Some(1.0),
        ask_price: Some(99.5),
        ask_qty: Some(1.0),
        source: "test".into(),
    });
    other
        .insert_new(&QUOTES, vec![q.finish().unwrap()], CommitMeta::new("q"))
        .await
        .unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM quotes").await, 1);
}
