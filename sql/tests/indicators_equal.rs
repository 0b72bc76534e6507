//! SQL window function == batch == stream, bit for bit, for every indicator and output on real
//! bars (GOOG daily, S&P 500 1-minute, EuroStoxx50 future 1-minute) in one warehouse.
//! The stream side feeds `DynIndicator::update` one bar at a time, per symbol.

use elite_collectors::bars_csv::BarsOptions;
use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::spec::{IndicatorSpec, InputKind, Kind, Obs};
use elite_sql::SqlEngine;
use elite_store::Warehouse;
use elite_store::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use elite_store::datafusion::arrow::datatypes::{Float64Type, Int64Type};
use elite_warehouse::{Symbol, SystemClock, Timeframe};
use std::path::Path;
use std::sync::Arc;

async fn warehouse(dir: &Path) -> Warehouse {
    let wh = Warehouse::open(dir.to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    for (file, sym, tf, tz) in [
        ("bars/GOOG_1d.csv", "GOOG", "1d", "UTC"),
        (
            "bars/SP500_NOV2019_IDayRVol.csv",
            "SPX",
            "1m",
            "America/New_York",
        ),
        (
            "bars/2006-01-02-volume-min-001.txt.gz",
            "FESX",
            "1m",
            "Europe/Berlin",
        ),
    ] {
        let mut o = BarsOptions::new("", Timeframe::parse(tf).unwrap());
        o.symbol = Some(Symbol::new(sym).unwrap());
        o.tz = tz.parse().unwrap();
        let path = Path::new(
            &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
        )
        .join("../collectors/fixtures")
        .join(file);
        ing.ingest_file(&FileIngest::new(path, FileFormat::Csv, o), &())
            .await
            .unwrap();
    }
    wh
}

fn sql_call(spec: &IndicatorSpec) -> String {
    let name = spec.kind.name();
    let outputs = spec.kind.outputs();
    let func = if outputs.len() > 1 {
        format!("{name}_{}", spec.output_name())
    } else {
        name.to_string()
    };
    let cols: Vec<&str> = spec
        .kind
        .input()
        .columns()
        .iter()
        .map(|c| match *c {
            "x" => "close",
            "y" => "open",
            "session" => "session",
            other => other,
        })
        .collect();
    // The canonical text carries the parameters: `macd(12,26,9).signal` -> `12, 26, 9`.
    let text = spec.to_string();
    let params = text
        .split_once('(')
        .map(|(_, r)| r.split(')').next().unwrap_or("").replace(',', ", "));
    let mut args = cols.join(", ");
    if let Some(p) = params {
        args.push_str(", ");
        args.push_str(&p);
    }
    format!("{func}({args})")
}

fn all_specs() -> Vec<IndicatorSpec> {
    let mut out = vec![];
    for name in Kind::NAMES {
        let outs = Kind::outputs_of(name);
        for o in outs {
            let t = if outs.len() > 1 {
                format!("{name}.{o}")
            } else {
                name.to_string()
            };
            out.push(t.parse().unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_equals_stream_for_every_indicator_on_real_bars() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SqlEngine::new(warehouse(tmp.path()).await).await.unwrap();
    let specs = all_specs();
    let calls: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} OVER w AS f{i}", sql_call(s)))
        .collect();
    let sql = format!(
        "SELECT symbol, open, high, low, close, volume, session, {} FROM (
           SELECT *, cast(date_part('epoch', date_trunc('day', ts_event)) AS BIGINT) / 86400 AS session FROM bars)
         WINDOW w AS (PARTITION BY symbol, timeframe ORDER BY ts_event)
         ORDER BY symbol, ts_event",
        calls.join(",\n ")
    );
    let batches = engine.query(&sql).await.unwrap();
    let batch: RecordBatch =
        elite_store::datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches)
            .unwrap();
    let n = batch.num_rows();
    assert_eq!(n, 2148 + 1563 + 30889);
    let f = |i: usize| batch.column(i).as_primitive::<Float64Type>().clone();
    let (open, high, low, close, volume) = (f(1), f(2), f(3), f(4), f(5));
    let session = batch.column(6).as_primitive::<Int64Type>().clone();
    let symbol = batch.column(0).clone();
    let sym = elite_store::datafusion::arrow::compute::cast(
        &symbol,
        &elite_store::datafusion::arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let sym = sym.as_string::<i32>();
    let mut compared = 0usize;
    for (k, spec) in specs.iter().enumerate() {
        let col = batch.column(7 + k).as_primitive::<Float64Type>();
        let mut ind = spec.build();
        for i in 0..n {
            if i > 0 && sym.value(i) != sym.value(i - 1) {
                ind = spec.build();
            }
            let o = Obs {
                bar: Ohlcv::new(
                    open.value(i),
                    high.value(i),
                    low.value(i),
                    close.value(i),
                    volume.value(i),
                ),
                session: session.value(i),
                other: if spec.kind.input() == InputKind::Pair {
                    open.value(i)
                } else {
                    0.0
                },
            };
            let stream = ind.update(&o);
            let sql = col.is_valid(i).then(|| col.value(i));
            assert_eq!(
                stream.map(f64::to_bits),
                sql.map(f64::to_bits),
                "{spec} ({}) row {i} {}",
                sql_call(spec),
                sym.value(i)
            );
            compared += stream.is_some() as usize;
        }
    }
    assert!(compared > 1_000_000, "{compared}");
}
