//! Stream == batch for every indicator: feeding bars one at a time, in random chunks with the
//! state checkpointed (serde_json) and restored between chunks, or after a `reset`, gives the
//! same bits as one uninterrupted batch run over the Arrow columns.

use arrow_array::{Float64Array, Int64Array};
use elite_pipelines::batch::{self, Columns};
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::spec::{DynIndicator, IndicatorSpec, Kind, Obs};
use proptest::prelude::*;
use std::io::Read;

fn goog() -> Vec<Obs> {
    let path = &format!(
        "{}/../collectors/fixtures/bars/GOOG_1d.csv",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .enumerate()
        .map(|(i, rec)| {
            let rec = rec.unwrap();
            let f = |j: usize| rec[j].parse::<f64>().unwrap();
            // A second series for pair indicators: the close shifted by a wobble.
            let other = f(4) * (1.0 + 0.01 * ((i as f64) * 0.37).sin());
            Obs {
                bar: Ohlcv::new(f(1), f(2), f(3), f(4), f(5)),
                session: (i / 5) as i64,
                other,
            }
        })
        .collect()
}

/// Every kind with every output.
fn all_specs() -> Vec<IndicatorSpec> {
    let mut out = vec![];
    for name in Kind::NAMES {
        for o in Kind::outputs_of(name) {
            let text = if Kind::outputs_of(name).len() > 1 {
                format!("{name}.{o}")
            } else {
                name.to_string()
            };
            out.push(text.parse().unwrap());
        }
    }
    out.push("rsi(2)".parse().unwrap());
    out.push("bbands(5,1.5).percent_b".parse().unwrap());
    out
}

fn bits(v: &[Option<f64>]) -> Vec<Option<u64>> {
    v.iter().map(|x| x.map(f64::to_bits)).collect()
}

fn batch_run(spec: &IndicatorSpec, obs: &[Obs]) -> Vec<Option<f64>> {
    let col = |f: fn(&Obs) -> f64| Float64Array::from_iter_values(obs.iter().map(f));
    let (h, l, c, v, y) = (
        col(|o| o.bar.high),
        col(|o| o.bar.low),
        col(|o| o.bar.close),
        col(|o| o.bar.volume),
        col(|o| o.other),
    );
    let s = Int64Array::from_iter_values(obs.iter().map(|o| o.session));
    let cols = Columns {
        high: Some(&h),
        low: Some(&l),
        close: Some(&c),
        volume: Some(&v),
        session: Some(&s),
        other: Some(&y),
    };
    batch::run(spec, &cols, obs.len()).iter().collect()
}

fn chunked_with_checkpoints(spec: &IndicatorSpec, obs: &[Obs], cuts: &[usize]) -> Vec<Option<f64>> {
    let mut ind = spec.build();
    let mut out = Vec::with_capacity(obs.len());
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % obs.len()).collect();
    cuts.sort_unstable();
    cuts.push(obs.len());
    for end in cuts {
        for o in &obs[start..end.max(start)] {
            out.push(ind.update(o));
        }
        start = end.max(start);
        // Checkpoint and restore, as the signal runner does across a restart.
        let json = serde_json::to_string(&ind).unwrap();
        ind = serde_json::from_str::<DynIndicator>(&json).unwrap();
    }
    out
}

#[test]
fn batch_equals_stream_and_reset_for_every_indicator() {
    let obs = goog();
    for spec in all_specs() {
        let batch = batch_run(&spec, &obs);
        let mut ind = spec.build();
        let stream: Vec<_> = obs.iter().map(|o| ind.update(o)).collect();
        assert_eq!(bits(&batch), bits(&stream), "{spec}");
        assert!(
            batch.iter().flatten().count() > 1000,
            "{spec} produced too few values"
        );
        ind.reset();
        let again: Vec<_> = obs.iter().map(|o| ind.update(o)).collect();
        assert_eq!(bits(&again), bits(&stream), "{spec} after reset");
    }
}

#[test]
fn null_inputs_give_null_and_leave_the_state_alone() {
    let obs = goog();
    let spec: IndicatorSpec = "ema(5)".parse().unwrap();
    let closes: Float64Array = obs
        .iter()
        .enumerate()
        .map(|(i, o)| (i % 7 != 3).then_some(o.bar.close))
        .collect();
    let out = batch::run(
        &spec,
        &Columns {
            close: Some(&closes),
            ..Default::default()
        },
        obs.len(),
    );
    let kept: Vec<Obs> = obs
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 != 3)
        .map(|(_, o)| *o)
        .collect();
    let expect = batch::run_bars(&spec, &kept.iter().map(|o| o.bar).collect::<Vec<_>>());
    let got: Vec<Option<f64>> = out
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 != 3)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(bits(&got), bits(&expect));
    assert!(
        out.iter()
            .enumerate()
            .all(|(i, v)| i % 7 != 3 || v.is_none())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn random_chunkings_with_checkpoints_change_nothing(cuts in proptest::collection::vec(0usize..5000, 0..12)) {
        let obs = goog();
        for spec in all_specs() {
            let whole = batch_run(&spec, &obs);
            let pieces = chunked_with_checkpoints(&spec, &obs, &cuts);
            prop_assert_eq!(bits(&whole), bits(&pieces), "{}", spec);
        }
    }
}
