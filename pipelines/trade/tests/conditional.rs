//! Conditional entries and exits from the config, by hand.

use elite_trade::Money;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::sim::Bar;
use elite_trade::strategies::{ConditionalConfig, Sizing, StrategySpec};
use elite_warehouse::Timestamp;

const CLOSES: [f64; 15] = [
    10.0, 10.0, 10.0, 11.0, 12.0, 11.0, 9.0, 8.0, 9.0, 10.0, 11.0, 12.0, 9.0, 7.0, 7.0,
];

/// Fills as (bar, signed qty).
fn run(entry: &[&str], exit: &[&str]) -> Vec<(i64, i64)> {
    let spec = StrategySpec::Conditional(ConditionalConfig {
        entry: entry.iter().map(|s| s.to_string()).collect(),
        exit: exit.iter().map(|s| s.to_string()).collect(),
        direction: "long".into(),
        size: Sizing::Shares(10),
    });
    let mut e = Engine::new(EngineConfig::new(Money::units(100_000)), 1);
    e.add(spec.build("cond", &["A".into()]).unwrap(), 1.0);
    for (t, c) in CLOSES.iter().enumerate() {
        e.on_bar(&Bar {
            sym: 0,
            ts_event: Timestamp::from_nanos(t as i64 * 10),
            ts_recv: Timestamp::from_nanos(t as i64 * 10 + 9),
            open: *c,
            high: *c,
            low: *c,
            close: *c,
            volume: 1000.0,
        })
        .unwrap();
    }
    e.finish();
    e.journal
        .fills
        .iter()
        .map(|f| (f.ts.as_nanos() / 10, f.qty * f.side.sign()))
        .collect()
}

#[test]
fn level_conditions() {
    // close > sma(3) first at bar 3 (11 > 10.33) → buy at bar 4; close < sma(3) at bar 5
    // (11 < 11.33) → sell at 6; again above at bar 8 (9 > 8.67) → buy at 9; below at bar 12
    // (9 < 10.67) → sell at 13.
    assert_eq!(
        run(&["close > sma(3)"], &["close < sma(3)"]),
        vec![(4, 10), (6, -10), (9, 10), (13, -10)]
    );
    // A second entry condition that never holds blocks every entry.
    assert_eq!(
        run(&["close > sma(3)", "close >= 100"], &["close < sma(3)"]),
        vec![]
    );
}

#[test]
fn crossings_need_the_previous_bar() {
    // sma(2) vs sma(4): at bar 3 sma(2) is already above, but sma(4) had no value at bar 2, so
    // that is not a crossing. It crosses above at bar 9 (9.5 > 9 after 8.5 ≤ 9.25) → buy at 10;
    // crosses below at bar 13 (8 < 9.75 after 10.5 ≥ 10.5) → sell at 14.
    assert_eq!(
        run(
            &["sma(2) crosses_above sma(4)"],
            &["sma(2) crosses_below sma(4)"]
        ),
        vec![(10, 10), (14, -10)]
    );
}

#[test]
fn bad_conditions_are_named() {
    let err = |c: &str| {
        StrategySpec::Conditional(ConditionalConfig {
            entry: vec![c.into()],
            exit: vec![],
            direction: "long".into(),
            size: Sizing::Shares(1),
        })
        .build("cond", &["A".into()])
        .err()
        .unwrap()
        .to_string()
    };
    let e = err("rsi(14) is low");
    assert!(
        e.contains("\"rsi(14) is low\"") && e.contains("crosses_above"),
        "{e}"
    );
    let e = err("foo(3) > 1");
    assert!(e.contains("foo"), "{e}");
    let e = err("beta(20) > 1");
    assert!(e.contains("second series"), "{e}");
    let e = StrategySpec::Conditional(ConditionalConfig {
        entry: vec!["close > 1".into()],
        exit: vec![],
        direction: "sideways".into(),
        size: Sizing::Shares(1),
    })
    .build("cond", &["A".into()])
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("sideways"), "{e}");
}
