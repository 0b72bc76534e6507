//! The polars path gives bit-for-bit the values of the Arrow batch path (which the SQL window
//! functions and the stream also equal) on real bars of two symbols.

use elite_pipelines::features::FeatureSet;
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::resample::TimedBar;
use elite_pipelines::spec::{IndicatorSpec, Kind};
use polars::prelude::*;
use std::io::Read;

fn bars(file: &str, limit: usize) -> Vec<Ohlcv> {
    let path = format!(
        "{}/../../collectors/fixtures/bars/{file}",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    );
    let mut s = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    csv::Reader::from_reader(s.as_bytes())
        .records()
        .take(limit)
        .map(|r| {
            let r = r.unwrap();
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            Ohlcv::new(f(1), f(2), f(3), f(4), f(5))
        })
        .collect()
}

fn frame(series: &[(&str, Vec<Ohlcv>)]) -> DataFrame {
    let mut sym = vec![];
    let (mut o, mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![], vec![]);
    for (name, bars) in series {
        for b in bars {
            sym.push(name.to_string());
            o.push(b.open);
            h.push(b.high);
            l.push(b.low);
            c.push(b.close);
            v.push(b.volume);
        }
    }
    df!("symbol" => sym, "open" => o, "high" => h, "low" => l, "close" => c, "volume" => v).unwrap()
}

#[test]
fn polars_indicators_and_features_equal_the_batch_path() {
    let series = [
        ("GOOG", bars("GOOG_1d.csv", usize::MAX)),
        ("EURUSD", bars("EURUSD_1h.csv", 1500)),
    ];
    let df = frame(&series);
    let specs: Vec<String> = Kind::NAMES
        .iter()
        .filter(|n| !["vwap", "beta", "correl"].contains(n)) // need a session / second series column
        .flat_map(|n| {
            let outs = Kind::outputs_of(n);
            outs.iter().map(move |o| {
                if outs.len() > 1 {
                    format!("{n}.{o}")
                } else {
                    n.to_string()
                }
            })
        })
        .collect();
    let refs: Vec<&str> = specs.iter().map(String::as_str).collect();
    let out = elite_polars::with_indicators(&df, &refs).unwrap();
    for text in &specs {
        let spec: IndicatorSpec = text.parse().unwrap();
        let got: Vec<Option<u64>> = out
            .column(&spec.column_name())
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .map(|x| x.map(f64::to_bits))
            .collect();
        let mut want = vec![];
        for (_, b) in &series {
            want.extend(
                elite_pipelines::batch::run_bars(&spec, b)
                    .into_iter()
                    .map(|x| x.map(f64::to_bits)),
            );
        }
        assert_eq!(got, want, "{text}");
    }

    let set = FeatureSet::alpha158();
    let out = elite_polars::with_features(&df, &set).unwrap();
    let names = set.names();
    let mut vals = vec![];
    let mut row = 0;
    for (_, bars) in &series {
        let mut e = set.engine();
        for b in bars {
            e.update(
                &TimedBar {
                    ts_event: Default::default(),
                    ts_recv: Default::default(),
                    bar: *b,
                },
                &mut vals,
            );
            for (k, name) in names.iter().enumerate() {
                let got = out.column(name).unwrap().f64().unwrap().get(row);
                assert_eq!(
                    got.map(f64::to_bits),
                    vals[k].map(f64::to_bits),
                    "{name} row {row}"
                );
            }
            row += 1;
        }
    }
}

#[test]
fn a_symbol_split_into_two_runs_is_refused() {
    let df = df!("symbol" => ["A", "B", "A"], "close" => [1.0, 2.0, 3.0]).unwrap();
    let e = elite_polars::with_indicators(&df, &["sma(2)"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("symbol A appears in more than one run"), "{e}");
}
