//! The market-making strategy by hand: quote prices around a skewed reservation price, passive
//! fills when the next bar trades through a quote, the inventory limit, and (property) that no
//! bar sequence takes inventory past the limit.

use elite_trade::Money;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::order::{OrderKind, Side, Tif};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::Bar;
use elite_trade::strategies::{MarketMakingConfig, StrategySpec};
use elite_warehouse::Timestamp;
use proptest::prelude::*;

fn engine(skew: f64) -> Engine {
    let mut e = Engine::new(
        EngineConfig {
            risk: RiskLimits {
                allow_short: true,
                ..Default::default()
            },
            ..EngineConfig::new(Money::units(1_000_000))
        },
        1,
    );
    let spec = StrategySpec::MarketMaking(MarketMakingConfig {
        quote: 10,
        max_inventory: 20,
        half_spread_bps: 10.0,
        skew,
        tick: 0.01,
    });
    e.add(spec.build("mm", &["X".into()]).unwrap(), 1.0);
    e
}

fn bar(t: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
    Bar {
        sym: 0,
        ts_event: Timestamp::from_nanos(t * 60),
        ts_recv: Timestamp::from_nanos(t * 60 + 60),
        open: o,
        high: h,
        low: l,
        close: c,
        volume: 1e6,
    }
}

/// The quotes sent on the last bar: (side, limit, qty), all IOC limits.
fn quotes(e: &Engine, since: usize) -> Vec<(Side, String, i64)> {
    e.journal.submitted[since..]
        .iter()
        .map(|(_, o)| {
            assert_eq!(o.tif, Tif::Ioc);
            let OrderKind::Limit { limit } = o.kind else {
                panic!("{o:?}")
            };
            (o.side, limit.to_string(), o.qty)
        })
        .collect()
}

#[test]
fn quotes_fills_and_skew_by_hand() {
    let mut e = engine(0.002);
    e.on_bar(&bar(0, 100.0, 100.2, 99.9, 100.0)).unwrap();
    // Flat: r = 100; bid 100 × 0.999 = 99.90, ask 100 × 1.001 = 100.10.
    assert_eq!(
        quotes(&e, 0),
        [
            (Side::Buy, "99.9000".into(), 10),
            (Side::Sell, "100.1000".into(), 10)
        ]
    );
    // The next bar opens at 100.00 and trades down to 99.80: the bid fills at its limit; the ask
    // (high 100.05) does not.
    e.on_bar(&bar(1, 100.0, 100.05, 99.8, 100.0)).unwrap();
    let f = &e.journal.fills;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].side, f[0].qty, f[0].price.to_string()),
        (Side::Buy, 10, "99.9000".into())
    );
    // Long 10 of 20: r = 100 × (1 − 0.002 × 10/20) = 99.90; bid ⌊99.8001⌋ = 99.80, ask
    // ⌈99.9999⌉ = 100.00; 10 more may be bought, 10 sold.
    assert_eq!(
        quotes(&e, 2),
        [
            (Side::Buy, "99.8000".into(), 10),
            (Side::Sell, "100.0000".into(), 10)
        ]
    );
    // The next bar opens at 99.98 and trades up to 100.20: the skewed ask fills at 100.00.
    e.on_bar(&bar(2, 99.98, 100.2, 99.95, 100.1)).unwrap();
    let f = &e.journal.fills;
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[1].side, f[1].qty, f[1].price.to_string()),
        (Side::Sell, 10, "100.0000".into())
    );
    assert_eq!(e.ledger.qty(0), 0);
    // Round trip: bought 10 at 99.90, sold 10 at 100.00: +1.00 (no costs).
    assert_eq!(e.ledger.cash - Money::units(1_000_000), Money::units(1));
    // A bar opening through a quote fills at the open (better than the limit).
    let n = e.journal.submitted.len();
    e.on_bar(&bar(3, 99.0, 99.5, 98.9, 99.2)).unwrap();
    let f = e.journal.fills.last().unwrap();
    assert_eq!((f.side, f.price.to_string()), (Side::Buy, "99.0000".into()));
    assert!(e.journal.submitted.len() > n);
}

#[test]
fn inventory_stops_at_the_limit_in_a_falling_market() {
    let mut e = engine(0.0);
    let mut px = 100.0;
    for t in 0..20 {
        // Every bar falls 1% through the bid.
        e.on_bar(&bar(t, px, px, px * 0.99, px * 0.99)).unwrap();
        px *= 0.99;
        assert!(e.ledger.qty(0) <= 20, "{}", e.ledger.qty(0));
    }
    assert_eq!(
        e.ledger.qty(0),
        20,
        "filled up to the limit, then only the ask is quoted"
    );
    let n = e.journal.submitted.len();
    e.on_bar(&bar(20, px, px, px * 0.99, px * 0.99)).unwrap();
    let q = quotes(&e, n);
    assert!(q.iter().all(|(s, _, _)| *s == Side::Sell), "{q:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn inventory_never_passes_the_limit(moves in proptest::collection::vec(-0.02f64..0.02, 1..150)) {
        let mut e = engine(0.001);
        let mut px = 100.0;
        for (t, m) in moves.iter().enumerate() {
            let next = px * (1.0 + m);
            let (h, l) = (px.max(next) * 1.002, px.min(next) * 0.998);
            e.on_bar(&bar(t as i64, px, h, l, next)).unwrap();
            px = next;
            prop_assert!(e.ledger.qty(0).abs() <= 20, "{}", e.ledger.qty(0));
        }
        e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    }
}
