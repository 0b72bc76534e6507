//! The store's contract: idempotent writes, atomic versions, time travel, history, maintenance.

use deltalake::arrow::array::{AsArray, RecordBatch};
use deltalake::arrow::datatypes::Float64Type;
use deltalake::datafusion::prelude::SessionContext;
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::tables::BARS;
use elite_warehouse::{Bar, BarsBuilder, Symbol, Timeframe, Timestamp};

fn bars(symbol: &str, start_day: i64, n: i64, price: f64) -> RecordBatch {
    let mut b = BarsBuilder::default();
    for d in start_day..start_day + n {
        let ts = Timestamp::from_secs(1_577_836_800 + d * 86_400).unwrap();
        b.push(&Bar {
            symbol: Symbol::new(symbol).unwrap(),
            timeframe: Timeframe::Days(1),
            ts_event: ts,
            ts_recv: Timeframe::Days(1).bar_end(ts),
            open: price,
            high: price + 1.0,
            low: price - 1.0,
            close: price,
            volume: Some(10.0),
            source: "test".into(),
        });
    }
    b.finish().unwrap()
}

async fn closes(wh: &Warehouse, at: At) -> Vec<f64> {
    let table = wh.load("bars", at).await.unwrap().unwrap();
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).unwrap();
    ctx.register_table("bars", table.table_provider().await.unwrap())
        .unwrap();
    let out = ctx
        .sql("SELECT close FROM bars ORDER BY symbol, ts_event")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    out.iter()
        .flat_map(|b| b.column(0).as_primitive::<Float64Type>().values().to_vec())
        .collect()
}

#[tokio::test]
async fn writes_are_idempotent_and_versions_travel() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path().to_str().unwrap()).unwrap();

    let first = wh
        .insert_new(
            &BARS,
            vec![bars("AAA", 0, 400, 1.0)],
            CommitMeta::new("a.csv"),
        )
        .await
        .unwrap();
    assert_eq!((first.rows_added, first.version), (400, Some(0)));

    let again = wh
        .insert_new(
            &BARS,
            vec![bars("AAA", 0, 400, 1.0)],
            CommitMeta::new("a.csv"),
        )
        .await
        .unwrap();
    assert_eq!(
        (again.rows_added, again.rows_already_present, again.version),
        (0, 400, Some(0))
    );

    // Overlapping window + a new symbol + an in-input duplicate: only genuinely new keys land.
    let more = wh
        .insert_new(
            &BARS,
            vec![
                bars("AAA", 390, 20, 2.0),
                bars("BBB", 0, 5, 3.0),
                bars("BBB", 4, 1, 3.0),
            ],
            CommitMeta::new("b.csv"),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            more.rows_added,
            more.rows_already_present,
            more.rows_duplicate_in_input
        ),
        (15, 10, 1)
    );
    assert_eq!(more.version, Some(1));

    assert_eq!(closes(&wh, At::Latest).await.len(), 415);
    let v0 = closes(&wh, At::Version(0)).await;
    assert_eq!(v0.len(), 400);
    assert!(v0.iter().all(|c| *c == 1.0));

    let hist = wh.history("bars", None).await.unwrap();
    assert_eq!(
        hist.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![1, 0]
    );
    assert_eq!(hist[0].source.as_deref(), Some("b.csv"));
    assert_eq!(hist[0].rows_added, Some(15));

    // Time travel by timestamp: the time of version 0's commit reads version 0.
    let t0 = hist[1].timestamp.unwrap();
    assert_eq!(closes(&wh, At::Time(t0)).await.len(), 400);
    assert!(wh.load("bars", At::Version(7)).await.is_err());
}

#[tokio::test]
async fn optimize_compacts_and_vacuum_guard_refuses_short_retention() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path().to_str().unwrap()).unwrap();
    for i in 0..4 {
        wh.insert_new(
            &BARS,
            vec![bars("AAA", i * 10, 10, 1.0)],
            CommitMeta::new("x"),
        )
        .await
        .unwrap();
    }
    let before = closes(&wh, At::Latest).await;
    let out = wh.optimize("bars", None).await.unwrap();
    assert_eq!((out.files_removed, out.files_added), (4, 1));
    assert_eq!(closes(&wh, At::Latest).await, before);
    let refused = wh
        .vacuum("bars", chrono::Duration::hours(1), true, false)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("guard"), "{refused}");
    let dry = wh
        .vacuum("bars", chrono::Duration::zero(), true, true)
        .await
        .unwrap();
    assert_eq!(dry.files.len(), 4);
    // Time travel still works until the vacuum actually runs.
    assert_eq!(closes(&wh, At::Version(0)).await.len(), 10);
}

#[tokio::test]
async fn memory_warehouse_keeps_tables_between_loads() {
    let wh = Warehouse::open("memory:///t").unwrap();
    wh.insert_new(&BARS, vec![bars("AAA", 0, 3, 1.0)], CommitMeta::new("m"))
        .await
        .unwrap();
    let again = wh
        .insert_new(&BARS, vec![bars("AAA", 0, 3, 1.0)], CommitMeta::new("m"))
        .await
        .unwrap();
    assert_eq!(again.rows_added, 0);
    assert_eq!(closes(&wh, At::Latest).await.len(), 3);
}

/// Without the `cloud` feature an S3/GCS/Azure location is refused up front, naming the feature
/// that adds it (not a backend error from deep inside Delta); local and memory locations open.
#[cfg(not(feature = "cloud"))]
#[test]
fn cloud_locations_name_the_feature_they_need() {
    for url in [
        "s3://bucket/elite",
        "gs://bucket/elite",
        "az://container/elite",
    ] {
        let err = match Warehouse::open(url) {
            Ok(_) => panic!("{url} opened without the cloud feature"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("--features cloud"), "{url}: {err}");
        assert!(err.contains(url.split(':').next().unwrap()), "{url}: {err}");
    }
    assert!(Warehouse::open("memory://elite").is_ok());
    let dir = tempfile::tempdir().unwrap();
    assert!(Warehouse::open(dir.path().to_str().unwrap()).is_ok());
}
