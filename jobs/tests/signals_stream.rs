//! Batch == stream for signals: the runner (bars through the embedded transport, engines
//! checkpointed every few hundred bars) writes exactly the rows the batch form computes per
//! series, on real bars of two symbols and two timeframes interleaved by ts_recv.

use std::path::Path;
use std::sync::Arc;

use elite_collectors::bars_csv::BarsOptions;
use elite_jobs::bars::{BarQuery, read_bars};
use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
use elite_jobs::signals::{RunOptions, run, signals_batch};
use elite_pipelines::features::FeatureSet;
use elite_store::datafusion::prelude::SessionContext;
use elite_store::{At, Warehouse};
use elite_warehouse::{Symbol, SystemClock, Timeframe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_output_equals_batch_signals() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(tmp.path().to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    for (file, sym, tf, tz) in [
        ("bars/GOOG_1d.csv", "GOOG", "1d", "UTC"),
        (
            "bars/SP500_NOV2019_IDayRVol.csv",
            "SPX",
            "1m",
            "America/New_York",
        ),
        ("bars/EURUSD_1h.csv", "EURUSD", "1h", "UTC"),
    ] {
        let mut o = BarsOptions::new("", Timeframe::parse(tf).unwrap());
        o.symbol = Some(Symbol::new(sym).unwrap());
        o.tz = tz.parse().unwrap();
        let p = Path::new(
            &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
        )
        .join("../collectors/fixtures")
        .join(file);
        ing.ingest_file(&FileIngest::new(p, FileFormat::Csv, o), &())
            .await
            .unwrap();
    }
    let opts = RunOptions {
        name: "t".into(),
        query: BarQuery::default(),
        commit_every: 700,
        rate: None,
        state_dir: tmp.path().join("_state"),
        fresh: false,
        mtf: Some(elite_jobs::signals::Mtf {
            calendar: elite_pipelines::calendar::Calendar::always_open(),
            higher: Timeframe::parse("1d").unwrap(),
        }),
        models: vec![],
        health: None,
        input: None,
        features: Some(FeatureSet::by_name("technical").unwrap()),
    };
    let report = run(&wh, &opts, &()).await.unwrap();
    assert_eq!(report.bars_processed, 2148 + 1563 + 5000);
    assert!(report.commits > 5);

    // Batch: per series, in time order.
    let (bars, _) = read_bars(&wh, &BarQuery::default()).await.unwrap();
    let mut want = vec![];
    for s in elite_jobs::features::series(bars).values() {
        want.extend(signals_batch(s, opts.mtf.as_ref()).unwrap());
    }
    let mut want: Vec<String> = want
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{:?}|{}",
                r.symbol,
                r.timeframe,
                r.ts_event.as_micros(),
                r.rule,
                r.direction,
                r.strength.to_bits(),
                r.features
            )
        })
        .collect();
    want.sort();

    let table = wh.load("signals", At::Latest).await.unwrap().unwrap();
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).unwrap();
    ctx.register_table("signals", table.table_provider().await.unwrap())
        .unwrap();
    let batches = ctx
        .sql("SELECT symbol, timeframe, cast(ts_event AS BIGINT) AS t, rule, direction, strength, features FROM signals")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    use elite_store::datafusion::arrow::array::AsArray;
    use elite_store::datafusion::arrow::datatypes::{Float64Type, Int8Type, Int64Type};
    let mut got = vec![];
    for b in &batches {
        let s = |i: usize| {
            elite_store::datafusion::arrow::compute::cast(
                b.column(i),
                &elite_store::datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
        };
        let (sym, tf, rule, feats) = (s(0), s(1), s(3), s(6));
        for i in 0..b.num_rows() {
            got.push(format!(
                "{}|{}|{}|{}|{}|{:?}|{}",
                sym.as_string::<i32>().value(i),
                tf.as_string::<i32>().value(i),
                b.column(2).as_primitive::<Int64Type>().value(i),
                rule.as_string::<i32>().value(i),
                b.column(4).as_primitive::<Int8Type>().value(i),
                b.column(5).as_primitive::<Float64Type>().value(i).to_bits(),
                feats.as_string::<i32>().value(i)
            ));
        }
    }
    got.sort();
    assert!(want.len() > 1000, "{}", want.len());
    assert!(
        want.iter().any(|r| r.contains("|mtf_confirm|")),
        "the multi-timeframe rule never fired"
    );
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);

    // Features: the runner's rows are `features build`'s rows, bit for bit.
    let set = opts.features.as_ref().unwrap();
    let mut want: Vec<String> = elite_jobs::features::preview(&wh, set, &BarQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{}",
                r.symbol,
                r.timeframe,
                r.ts_event.as_micros(),
                r.feature,
                r.value.to_bits(),
                r.source_version
            )
        })
        .collect();
    want.sort();
    let table = wh.load("features", At::Latest).await.unwrap().unwrap();
    ctx.register_table("features", table.table_provider().await.unwrap())
        .unwrap();
    let batches = ctx
        .sql("SELECT symbol, timeframe, cast(ts_event AS BIGINT) AS t, feature, value, source_version FROM features")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut got = vec![];
    for b in &batches {
        let s = |i: usize| {
            elite_store::datafusion::arrow::compute::cast(
                b.column(i),
                &elite_store::datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
        };
        let (sym, tf, feature) = (s(0), s(1), s(3));
        for i in 0..b.num_rows() {
            got.push(format!(
                "{}|{}|{}|{}|{}|{}",
                sym.as_string::<i32>().value(i),
                tf.as_string::<i32>().value(i),
                b.column(2).as_primitive::<Int64Type>().value(i),
                feature.as_string::<i32>().value(i),
                b.column(4).as_primitive::<Float64Type>().value(i).to_bits(),
                b.column(5).as_primitive::<Int64Type>().value(i),
            ));
        }
    }
    got.sort();
    assert!(want.len() > 50_000, "{}", want.len());
    assert_eq!(report.features_emitted as usize, want.len());
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}
