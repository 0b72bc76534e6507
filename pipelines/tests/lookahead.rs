//! No look-ahead: changing any bar after t leaves every indicator, feature and signal at or
//! before t unchanged (bit for bit), for random t and random perturbations of the future, on
//! real GOOG daily bars. Labels are the one thing that must look forward; they are checked to
//! depend on exactly the bars they name.

use elite_pipelines::calendar::Calendar;
use elite_pipelines::features::{FeatureSet, forward_labels};
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::resample::TimedBar;
use elite_pipelines::signals::SignalEngine;
use elite_pipelines::spec::{IndicatorSpec, Kind, Obs};
use elite_warehouse::{Timeframe, Timestamp};
use proptest::prelude::*;
use std::io::Read;

fn goog() -> Vec<Ohlcv> {
    let path = &format!(
        "{}/../collectors/fixtures/bars/GOOG_1d.csv",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            let f = |j: usize| r[j].parse::<f64>().unwrap();
            Ohlcv::new(f(1), f(2), f(3), f(4), f(5))
        })
        .collect()
}

/// Scale every bar after `t` by a factor drawn from the seed (a different future).
fn perturb_after(bars: &[Ohlcv], t: usize, seed: u64) -> Vec<Ohlcv> {
    let mut s = seed | 1;
    bars.iter()
        .enumerate()
        .map(|(i, b)| {
            if i <= t {
                return *b;
            }
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let k = 0.5 + (s % 1000) as f64 / 1000.0;
            Ohlcv::new(
                b.open * k,
                b.high * k * 1.01,
                b.low * k * 0.99,
                b.close * k,
                b.volume * (2.0 - k),
            )
        })
        .collect()
}

/// Daily bars stamped at UTC midnight, knowable at the next midnight.
fn timed(bars: &[Ohlcv]) -> Vec<TimedBar> {
    let day = 86_400_000_000_000i64;
    let t0 = Timestamp::parse_rfc3339("2004-08-19T00:00:00Z").unwrap();
    bars.iter()
        .enumerate()
        .map(|(i, b)| TimedBar {
            ts_event: t0.add_nanos(i as i64 * day),
            ts_recv: t0.add_nanos((i as i64 + 1) * day),
            bar: *b,
        })
        .collect()
}

fn features(bars: &[Ohlcv]) -> Vec<Vec<Option<u64>>> {
    // technical + alpha158 + the weekly timeframe's features, all at once.
    let mut set = FeatureSet::technical()
        .with_higher(Calendar::always_open(), Timeframe::parse("1w").unwrap())
        .unwrap();
    set.alpha158 = true;
    let mut e = set.engine();
    let mut v = vec![];
    timed(bars)
        .iter()
        .map(|b| {
            e.update(b, &mut v);
            v.iter().map(|x| x.map(f64::to_bits)).collect()
        })
        .collect()
}

fn signals(bars: &[Ohlcv]) -> Vec<Vec<(String, i8, u64)>> {
    // With the weekly timeframe built from these daily bars: the multi-timeframe rule too.
    let mut e =
        SignalEngine::with_mtf(Calendar::always_open(), Timeframe::parse("1w").unwrap()).unwrap();
    let mut out = vec![];
    timed(bars)
        .iter()
        .map(|b| {
            out.clear();
            e.update(b, &mut out);
            out.iter()
                .map(|s| (s.rule.to_string(), s.direction, s.strength.to_bits()))
                .collect()
        })
        .collect()
}

fn indicators(bars: &[Ohlcv]) -> Vec<Vec<Option<u64>>> {
    let specs: Vec<IndicatorSpec> = Kind::NAMES
        .iter()
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
        .map(|s| s.parse().unwrap())
        .collect();
    let mut inds: Vec<_> = specs.iter().map(|s| s.build()).collect();
    bars.iter()
        .enumerate()
        .map(|(i, b)| {
            let o = Obs {
                bar: *b,
                session: (i / 5) as i64,
                other: b.open,
            };
            inds.iter_mut()
                .map(|x| x.update(&o).map(f64::to_bits))
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn the_future_never_changes_the_past(t in 0usize..2147, seed in any::<u64>()) {
        let bars = goog();
        let other = perturb_after(&bars, t, seed);
        prop_assert_ne!(&bars[t + 1], &other[t + 1]);
        let (a, b) = (indicators(&bars), indicators(&other));
        prop_assert_eq!(&a[..=t], &b[..=t]);
        let (a, b) = (features(&bars), features(&other));
        prop_assert_eq!(&a[..=t], &b[..=t]);
        let (a, b) = (signals(&bars), signals(&other));
        prop_assert_eq!(&a[..=t], &b[..=t]);
    }
}

#[test]
fn perturbation_is_seen_after_t_so_the_test_can_fail() {
    // The check above would pass vacuously if nothing depended on the bars; make sure the
    // features after t do change.
    let bars = goog();
    let other = perturb_after(&bars, 1000, 42);
    assert_ne!(features(&bars)[1001..], features(&other)[1001..]);
    assert_ne!(signals(&bars)[1001..], signals(&other)[1001..]);
    let all: Vec<_> = signals(&bars).into_iter().flatten().collect();
    assert!(
        all.iter().any(|s| s.0 == "mtf_confirm"),
        "the multi-timeframe rule never fired"
    );
}

#[test]
fn higher_timeframe_features_change_only_when_a_higher_bar_completes() {
    // Daily bars every calendar day from 2004-08-19 on (24x7). A week completes when its Sunday bar
    // closes (ts_recv = Monday 00:00): weekly features may change only at that bar, never inside
    // a week.
    let bars = goog();
    let set = FeatureSet::technical()
        .with_higher(Calendar::always_open(), Timeframe::parse("1w").unwrap())
        .unwrap();
    let k = set.names().len() - 3;
    let mut e = set.engine();
    let mut v = vec![];
    let mut prev: Option<Vec<Option<f64>>> = None;
    let mut changes = 0;
    for b in timed(&bars) {
        e.update(&b, &mut v);
        let htf = v[k..].to_vec();
        let week_closes = b.ts_recv.to_datetime().format("%a %H:%M").to_string() == "Mon 00:00";
        if let Some(p) = &prev
            && *p != htf
        {
            assert!(
                week_closes,
                "weekly features changed mid-week at {}",
                b.ts_event
            );
            changes += 1;
        }
        prev = Some(htf);
    }
    assert!(changes > 200, "{changes}");
}

#[test]
fn labels_use_exactly_the_bar_h_ahead() {
    let bars = goog();
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let h = 5;
    let l = forward_labels(&closes, h, 0.0);
    let mut changed = closes.clone();
    changed[1000] *= 1.1;
    let l2 = forward_labels(&changed, h, 0.0);
    for i in 0..closes.len() {
        let depends = i == 1000 || i + h == 1000;
        assert_eq!(l[i] != l2[i], depends, "label {i}");
    }
}
