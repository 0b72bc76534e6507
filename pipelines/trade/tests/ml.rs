//! The ML strategy: trades a model's predictions by its thresholds, only once a prediction is
//! known, and never lets a later prediction change an earlier decision.

use std::collections::HashMap;

use elite_trade::Money;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::Bar;
use elite_trade::strategies::{Inputs, MlConfig, Predictions, Sizing, StrategySpec};
use elite_warehouse::Timestamp;

fn bar(sym: u32, t: usize, close: f64) -> Bar {
    Bar {
        sym,
        ts_event: Timestamp::from_nanos(t as i64 * 100),
        ts_recv: Timestamp::from_nanos(t as i64 * 100 + 99),
        open: close,
        high: close * 1.01,
        low: close * 0.99,
        close,
        volume: 1e6,
    }
}

fn closes(sym: u32, n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| 100.0 + 10.0 * ((t as f64 * 0.13 + sym as f64).sin()))
        .collect()
}

/// Fills as (bar, symbol, signed quantity) and equity points as (ns, equity).
type Outcome = (Vec<(i64, u32, i64)>, Vec<(i64, f64)>);

/// Run two symbols with `preds`.
fn run(preds: Predictions, short_below: Option<f64>) -> Outcome {
    let mut e = Engine::new(
        EngineConfig {
            risk: RiskLimits {
                allow_short: true,
                ..Default::default()
            },
            ..EngineConfig::new(Money::units(1_000_000))
        },
        2,
    );
    let spec = StrategySpec::Ml(MlConfig {
        model: "ensemble:stacking".into(),
        source: "walk_forward".into(),
        long_above: 0.55,
        short_below,
        neutral: 0.5,
        size: Sizing::Shares(100),
    });
    let inputs = Inputs {
        predictions: HashMap::from([("ensemble:stacking".to_string(), preds)]),
        ..Default::default()
    };
    e.add(
        spec.build_with("ml", &["A".into(), "B".into()], &inputs)
            .unwrap(),
        1.0,
    );
    e.inputs = inputs;
    let n = 120;
    let (a, b) = (closes(0, n), closes(1, n));
    for t in 0..n {
        e.on_bar(&bar(0, t, a[t])).unwrap();
        e.on_bar(&bar(1, t, b[t])).unwrap();
    }
    e.finish();
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    let fills = e
        .journal
        .fills
        .iter()
        .map(|f| (f.ts.as_nanos() / 100, f.sym, f.qty * f.side.sign()))
        .collect();
    let equity = e
        .journal
        .equity
        .iter()
        .map(|p| (p.ts.as_nanos(), p.equity))
        .collect();
    (fills, equity)
}

/// P(up) per bar: a slow wave per symbol, known at the bar's close.
fn wave() -> Predictions {
    let mut m = Predictions::new();
    for sym in 0..2u32 {
        for t in 0..120usize {
            let p = 0.5 + 0.1 * ((t as f64 * 0.2 + sym as f64 * 1.7).sin());
            m.insert((sym, t as i64 * 100), (p, t as i64 * 100 + 99));
        }
    }
    m
}

#[test]
fn trades_the_thresholds_by_hand() {
    let mut m = Predictions::new();
    // Symbol A: 0.50, 0.60 (enter long), 0.52 (hold), 0.45 (exit), 0.40 (short), 0.55 (cover).
    for (t, p) in [0.50, 0.60, 0.52, 0.45, 0.40, 0.55].iter().enumerate() {
        m.insert((0, t as i64 * 100), (*p, t as i64 * 100 + 99));
    }
    let (fills, _) = run(m, Some(0.42));
    // Decisions on bars 1, 3, 4, 5 fill at the next bar's open.
    assert_eq!(
        fills,
        vec![(2, 0, 100), (4, 0, -100), (5, 0, -100), (6, 0, 100)]
    );
}

#[test]
fn a_prediction_not_yet_known_is_never_traded() {
    let mut m = wave();
    for v in m.values_mut() {
        v.1 += 1; // known 1 ns after the bar's close
    }
    let (fills, _) = run(m, Some(0.45));
    assert!(fills.is_empty(), "{fills:?}");
    assert!(!run(wave(), Some(0.45)).0.is_empty());
}

#[test]
fn later_predictions_change_no_earlier_decision() {
    let base = wave();
    let (f0, e0) = run(base.clone(), Some(0.45));
    for cut in [20usize, 55, 90] {
        let mut perturbed = base.clone();
        for ((_, te), v) in perturbed.iter_mut() {
            if *te > cut as i64 * 100 {
                v.0 = 1.0 - v.0; // the future flips
            }
        }
        let (f1, e1) = run(perturbed, Some(0.45));
        // Fills up to bar cut+1 (decided at or before cut) and equity up to cut are unchanged.
        let upto = |f: &[(i64, u32, i64)]| {
            f.iter()
                .filter(|x| x.0 <= cut as i64 + 1)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(upto(&f0), upto(&f1), "cut {cut}");
        let past = |e: &[(i64, f64)]| {
            e.iter()
                .filter(|x| x.0 <= cut as i64 * 100 + 99)
                .map(|x| (x.0, x.1.to_bits()))
                .collect::<Vec<_>>()
        };
        assert!(!past(&e0).is_empty());
        assert_eq!(past(&e0), past(&e1), "cut {cut}");
        assert_ne!(f0, f1, "the perturbation must matter (cut {cut})");
    }
}

#[test]
fn missing_predictions_or_bad_thresholds_are_config_errors() {
    let spec = StrategySpec::Ml(MlConfig {
        model: "lstm".into(),
        source: "walk_forward".into(),
        long_above: 0.55,
        short_below: None,
        neutral: 0.5,
        size: Sizing::Shares(1),
    });
    let e = spec.build("ml", &["A".into()]).err().unwrap().to_string();
    assert!(e.contains("no predictions of model \"lstm\""), "{e}");
    let spec = StrategySpec::Ml(MlConfig {
        model: "lstm".into(),
        source: "walk_forward".into(),
        long_above: 0.45,
        short_below: None,
        neutral: 0.5,
        size: Sizing::Shares(1),
    });
    let inputs = Inputs {
        predictions: HashMap::from([("lstm".to_string(), Predictions::new())]),
        ..Default::default()
    };
    let e = spec
        .build_with("ml", &["A".into()], &inputs)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("neutral ≤ long_above"), "{e}");
}
