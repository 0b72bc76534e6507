//! Layouts: a table created under chosen partition columns, a relayout that moves every row in
//! one commit (time travel keeps the old layout), appends that stay idempotent under either
//! layout, and every data file sorted by the key.

use deltalake::arrow::array::{AsArray, RecordBatch};
use deltalake::arrow::compute::concat_batches;
use deltalake::arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use deltalake::datafusion::prelude::SessionContext;
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::tables::BARS;
use elite_warehouse::{Bar, BarsBuilder, Symbol, Timeframe, Timestamp};

/// Minute bars of `symbols` from `start` (µs since the epoch) every `step_us`; the close
/// encodes (symbol, bar) so any lost, doubled or moved row changes the sums.
fn bars(symbols: &[&str], start_us: i64, n: i64, step_us: i64) -> RecordBatch {
    let mut b = BarsBuilder::default();
    for i in 0..n {
        for (k, s) in symbols.iter().enumerate() {
            let ts = Timestamp::from_nanos((start_us + i * step_us) * 1000);
            let px = 100.0 + k as f64 * 1000.0 + i as f64;
            b.push(&Bar {
                symbol: Symbol::new(*s).unwrap(),
                timeframe: Timeframe::Minutes(1),
                ts_event: ts,
                ts_recv: Timeframe::Minutes(1).bar_end(ts),
                open: px,
                high: px + 1.0,
                low: px - 1.0,
                close: px,
                volume: Some(10.0),
                source: "test".into(),
            });
        }
    }
    b.finish().unwrap()
}

/// Every row of `bars` at `at` as (symbol, ts_event µs, close), in key order.
async fn rows(wh: &Warehouse, at: At) -> Vec<(String, i64, f64)> {
    let table = wh.load("bars", at).await.unwrap().unwrap();
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).unwrap();
    ctx.register_table("bars", table.table_provider().await.unwrap())
        .unwrap();
    let out = ctx
        .sql("SELECT symbol AS s, ts_event, close FROM bars ORDER BY symbol, ts_event")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut v = Vec::new();
    for b in &out {
        let s = deltalake::arrow::compute::cast(
            b.column(0),
            &deltalake::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let (s, t, c) = (
            s.as_string::<i32>(),
            b.column(1).as_primitive::<TimestampMicrosecondType>(),
            b.column(2).as_primitive::<Float64Type>(),
        );
        for i in 0..b.num_rows() {
            v.push((s.value(i).to_string(), t.value(i), c.value(i)));
        }
    }
    v
}

/// Each live data file of `bars` read on its own: its rows in (symbol, ts_event) order, and
/// how many files there are.
fn assert_files_sorted(dir: &std::path::Path, wh_files: &[String]) -> usize {
    use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    for uri in wh_files {
        let path = uri.strip_prefix("file://").unwrap_or(uri);
        let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e} ({dir:?})"));
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let one = concat_batches(&batches[0].schema(), &batches).unwrap();
        let ts = one["ts_event"].as_primitive::<TimestampMicrosecondType>();
        // A file partitioned by symbol has no symbol column: its rows are one symbol's.
        let sym = one.column_by_name("symbol").map(|c| {
            deltalake::arrow::compute::cast(c, &deltalake::arrow::datatypes::DataType::Utf8)
                .unwrap()
        });
        for i in 1..one.num_rows() {
            let prev = (
                sym.as_ref().map(|s| s.as_string::<i32>().value(i - 1)),
                ts.value(i - 1),
            );
            let this = (
                sym.as_ref().map(|s| s.as_string::<i32>().value(i)),
                ts.value(i),
            );
            assert!(
                prev < this,
                "{path}: row {i} out of key order: {prev:?} then {this:?}"
            );
        }
    }
    wh_files.len()
}

async fn live_files(wh: &Warehouse) -> Vec<String> {
    let t = wh.load("bars", At::Latest).await.unwrap().unwrap();
    t.get_file_uris().unwrap().collect()
}

const MIN: i64 = 60_000_000;
const T0: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z

#[tokio::test]
async fn relayout_moves_every_row_in_one_commit_and_time_travel_keeps_the_old_layout() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Warehouse::open(dir.path().to_str().unwrap())
            .unwrap()
            .partitioning("bars")
            .await
            .unwrap(),
        ["year"],
        "the default layout"
    );
    let wh = Warehouse::open(dir.path().to_str().unwrap())
        .unwrap()
        .with_partitioning("bars", &["symbol", "year"])
        .unwrap();
    let syms = ["AAA", "BBB", "CCC", "DDD"];
    // Two years (Dec 2023 and Jan 2024), time-major like an exchange dump, in two commits.
    let v0 = wh
        .insert_new(
            &BARS,
            vec![bars(&syms, T0 - 300 * MIN, 300, MIN)],
            CommitMeta::new("a"),
        )
        .await
        .unwrap()
        .version
        .unwrap();
    let v1 = wh
        .insert_new(&BARS, vec![bars(&syms, T0, 500, MIN)], CommitMeta::new("b"))
        .await
        .unwrap()
        .version
        .unwrap();
    let before = rows(&wh, At::Latest).await;
    assert_eq!(before.len(), 4 * 800);
    let v0_rows = rows(&wh, At::Version(v0)).await;
    let files_before = live_files(&wh).await.len();
    assert_eq!(
        files_before,
        4 * 2,
        "a symbol-year file per symbol and commit"
    );

    let out = wh.relayout("bars", &["year"], 32 << 20).await.unwrap();
    assert_eq!(out.from, ["symbol", "year"]);
    assert_eq!(out.to, ["year"]);
    assert_eq!(out.rows, before.len());
    assert_eq!(out.files_removed, files_before);
    let v2 = out.version.unwrap();
    assert_eq!(v2, v1 + 1, "one commit");
    assert_eq!(wh.partitioning("bars").await.unwrap(), ["year"]);
    assert_eq!(
        rows(&wh, At::Latest).await,
        before,
        "every row moved, none changed"
    );
    let files = live_files(&wh).await;
    assert_eq!(
        assert_files_sorted(dir.path(), &files),
        2,
        "one sorted file per year"
    );
    assert!(files.iter().all(|f| !f.contains("symbol=")), "{files:?}");
    // Time travel: the versions before read as they did, in their layout.
    assert_eq!(rows(&wh, At::Version(v0)).await, v0_rows);
    assert_eq!(rows(&wh, At::Version(v1)).await, before);
    let h = wh.history("bars", Some(1)).await.unwrap();
    assert_eq!(h[0].source.as_deref(), Some("elite warehouse relayout"));

    // Under the new layout writes stay idempotent: the same rows add nothing, new ones land.
    let again = wh
        .insert_new(&BARS, vec![bars(&syms, T0, 500, MIN)], CommitMeta::new("b"))
        .await
        .unwrap();
    assert_eq!((again.rows_added, again.rows_already_present), (0, 2000));
    let mut app = wh.appender(&BARS, 8 << 20).await.unwrap();
    assert_eq!(app.partition_by(), ["year"]);
    // Half of these are present (the last 250 minutes), half new.
    app.write(bars(&syms, T0 + 250 * MIN, 500, MIN))
        .await
        .unwrap();
    assert!(
        app.lookups() > 0,
        "the batch overlaps a file's symbol and time range"
    );
    let added = app.commit(CommitMeta::new("c")).await.unwrap();
    assert_eq!((added.rows_added, added.rows_in), (4 * 250, 4 * 500));
    let after = rows(&wh, At::Latest).await;
    assert_eq!(after.len(), 4 * 1050);
    let mut dedup = after.clone();
    dedup.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    assert_eq!(dedup.len(), after.len(), "no key twice");

    // A no-op relayout writes nothing; a relayout back restores the symbol/year files.
    let same = wh.relayout("bars", &["year"], 32 << 20).await.unwrap();
    assert_eq!(same.version, None);
    let back = wh
        .relayout("bars", &["symbol", "year"], 32 << 20)
        .await
        .unwrap();
    assert_eq!(back.rows, after.len());
    assert_eq!(rows(&wh, At::Latest).await, after);
    let files = live_files(&wh).await;
    assert_eq!(assert_files_sorted(dir.path(), &files), 4 * 2);
    assert!(files.iter().all(|f| f.contains("symbol=")), "{files:?}");
}

#[tokio::test]
async fn a_new_table_takes_the_chosen_partitioning_and_bad_choices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path().to_str().unwrap())
        .unwrap()
        .with_partitioning("bars", &["year"])
        .unwrap();
    let mut app = wh.appender(&BARS, 8 << 20).await.unwrap();
    assert_eq!(app.partition_by(), ["year"]);
    // Time-major input: one sorted file, not one per symbol (each symbol's rows already in
    // time order: the linear path) ...
    app.write(bars(&["ZZZ", "AAA", "MMM"], T0, 200, MIN))
        .await
        .unwrap();
    // ... and rows in falling time (the full sort).
    app.write(bars(&["QQQ", "BBB"], T0 + 1000 * MIN, 50, -MIN))
        .await
        .unwrap();
    app.commit(CommitMeta::new("x")).await.unwrap();
    let files = live_files(&wh).await;
    assert_eq!(assert_files_sorted(dir.path(), &files), 1);
    assert_eq!(rows(&wh, At::Latest).await.len(), 700);
    // An existing table keeps its own layout whatever this warehouse would create.
    let other = Warehouse::open(dir.path().to_str().unwrap())
        .unwrap()
        .with_partitioning("bars", &["symbol", "year"])
        .unwrap();
    assert_eq!(other.partitioning("bars").await.unwrap(), ["year"]);

    for bad in [&["close"][..], &["nope"], &["year", "year"], &["volume"]] {
        let e = Warehouse::open(dir.path().to_str().unwrap())
            .unwrap()
            .with_partitioning("bars", bad)
            .err()
            .unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(e.is_user_error(), "{e}");
        assert!(e.to_string().contains("cannot partition bars"), "{e}");
        let e = wh.relayout("bars", bad, 8 << 20).await.unwrap_err();
        assert!(e.is_user_error(), "{e}");
    }
}

#[tokio::test]
async fn sub_millisecond_times_at_a_files_end_are_still_looked_up() {
    // Delta's statistics keep timestamps to the millisecond; a row 0.9 ms after a file's
    // recorded maximum must still be found present, not landed twice.
    for layout in [&["symbol", "year"][..], &["year"]] {
        let dir = tempfile::tempdir().unwrap();
        let wh = Warehouse::open(dir.path().to_str().unwrap())
            .unwrap()
            .with_partitioning("bars", layout)
            .unwrap();
        let batch = bars(&["AAA", "BBB"], T0 + 900, 10, 1_000_000 + 450);
        let mut app = wh.appender(&BARS, 8 << 20).await.unwrap();
        app.write(batch.clone()).await.unwrap();
        app.commit(CommitMeta::new("x")).await.unwrap();
        // Only the last bar of each symbol again: it lies past the millisecond maximum.
        let last = batch.slice(batch.num_rows() - 2, 2);
        let mut app = wh.appender(&BARS, 8 << 20).await.unwrap();
        let n = app.write(last).await.unwrap();
        assert_eq!(n, 0, "{layout:?}: rows already present were written again");
        app.commit(CommitMeta::new("x")).await.unwrap();
        assert_eq!(rows(&wh, At::Latest).await.len(), 20, "{layout:?}");
    }
}

/// The columns of a live data file that carry a dictionary page (checked in every row group).
/// The columns whose chunks satisfy `pick`, the same in every row group.
fn columns_where(
    uri: &str,
    pick: impl Fn(&deltalake::parquet::file::metadata::ColumnChunkMetaData) -> bool,
) -> Vec<String> {
    use deltalake::parquet::file::reader::{FileReader, SerializedFileReader};
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let md = r.metadata();
    assert!(md.num_row_groups() > 0, "{path}: no row groups");
    let names = |g: usize| -> Vec<String> {
        md.row_group(g)
            .columns()
            .iter()
            .filter(|c| pick(c))
            .map(|c| c.column_path().string())
            .collect()
    };
    let first = names(0);
    for g in 1..md.num_row_groups() {
        assert_eq!(names(g), first, "{path}: row group {g}");
    }
    first
}

/// The columns whose chunks use `encoding`.
fn columns_encoded(uri: &str, encoding: deltalake::parquet::basic::Encoding) -> Vec<String> {
    columns_where(uri, |c| c.encodings().any(|e| e == encoding))
}

fn dictionary_columns(uri: &str) -> Vec<String> {
    columns_where(uri, |c| c.dictionary_page_offset().is_some())
}

/// Strings (symbol, timeframe, source: a few distinct values) are dictionary-encoded; prices,
/// volumes and timestamps are not (a dictionary of nearly distinct floats costs hashing every
/// value and bytes on disk) — in the files of the appender, of `insert_new` and of `optimize`;
/// timestamps are delta-encoded.
#[tokio::test]
async fn only_string_columns_are_dictionary_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path().to_str().unwrap()).unwrap();
    let mut app = wh.appender(&BARS, 8 << 20).await.unwrap();
    app.write(bars(&["AAA", "BBB"], T0, 300, MIN))
        .await
        .unwrap();
    app.commit(CommitMeta::new("x")).await.unwrap();
    wh.insert_new(
        &BARS,
        vec![bars(&["CCC"], T0, 300, MIN)],
        CommitMeta::new("y"),
    )
    .await
    .unwrap();
    let want = ["symbol", "timeframe", "source"];
    let files = live_files(&wh).await;
    assert_eq!(files.len(), 2);
    let delta = deltalake::parquet::basic::Encoding::DELTA_BINARY_PACKED;
    for f in &files {
        assert_eq!(dictionary_columns(f), want, "{f}");
        assert_eq!(columns_encoded(f, delta), ["ts_event", "ts_recv"], "{f}");
    }
    wh.optimize("bars", None).await.unwrap();
    let compacted = live_files(&wh).await;
    assert_eq!(compacted.len(), 1, "{compacted:?}");
    assert_eq!(dictionary_columns(&compacted[0]), want);
    assert_eq!(
        columns_encoded(&compacted[0], delta),
        ["ts_event", "ts_recv"]
    );
    assert_eq!(rows(&wh, At::Latest).await.len(), 900);
}
