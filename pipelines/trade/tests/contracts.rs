//! Exchange contract rules on the order path: whole lots, the tick grid, freeze-quantity splits
//! and the circuit band, first on single orders (values worked out by hand from NSE's rules:
//! NIFTY options tick ₹0.05, lot 50, freeze 1800), then through the engine on real GOOG bars.

mod common;
use common::goog;

use elite_trade::Money;
use elite_trade::contract::{CircuitLimit, ContractSpec, Contracts};
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::order::{OrderKind, OrderRequest, Side};
use elite_trade::risk::RiskLimits;
use elite_trade::strategies::{Sizing, SmaCrossConfig, StrategySpec};
use elite_warehouse::Timestamp;

fn nifty_option() -> ContractSpec {
    ContractSpec {
        lot: 50,
        tick: Money::parse("0.05").unwrap(),
        freeze: Some(1800),
        band: Some(0.2),
    }
}

fn limit(side: Side, qty: i64, px: &str) -> OrderRequest {
    OrderRequest::new(
        "o1",
        0,
        side,
        qty,
        OrderKind::Limit {
            limit: Money::parse(px).unwrap(),
        },
    )
}

#[test]
fn quantities_round_down_to_lots_and_prices_to_ticks_never_more_aggressive() {
    let s = nifty_option();
    let o = s.shape(limit(Side::Buy, 1234, "101.23"), None).unwrap();
    assert_eq!(o.qty, 1200);
    assert_eq!(
        o.kind,
        OrderKind::Limit {
            limit: Money::parse("101.20").unwrap()
        }
    );
    let o = s.shape(limit(Side::Sell, 50, "101.23"), None).unwrap();
    assert_eq!(o.qty, 50);
    assert_eq!(
        o.kind,
        OrderKind::Limit {
            limit: Money::parse("101.25").unwrap()
        }
    );
    // On the grid already: unchanged on both sides.
    for side in [Side::Buy, Side::Sell] {
        let o = s.shape(limit(side, 100, "101.25"), None).unwrap();
        assert_eq!(
            o.kind,
            OrderKind::Limit {
                limit: Money::parse("101.25").unwrap()
            }
        );
    }
    // Stops go to the nearest tick.
    let stop = |px: &str| {
        let o = OrderRequest::new(
            "s",
            0,
            Side::Sell,
            50,
            OrderKind::Stop {
                stop: Money::parse(px).unwrap(),
            },
        );
        match s.shape(o, None).unwrap().kind {
            OrderKind::Stop { stop } => stop,
            k => panic!("{k:?}"),
        }
    };
    assert_eq!(stop("99.02"), Money::parse("99.00").unwrap());
    assert_eq!(stop("99.03"), Money::parse("99.05").unwrap());
    // Less than a lot: refused, naming the check.
    let e = s.shape(limit(Side::Buy, 49, "100"), None).unwrap_err();
    assert_eq!(e.check, "lot_size");
    assert!(e.detail.contains("49"), "{}", e.detail);
}

#[test]
fn the_circuit_band_refuses_prices_beyond_it() {
    let s = nifty_option();
    // Previous close 100, band 20%: 80..120.
    assert!(s.shape(limit(Side::Buy, 50, "80.00"), Some(100.0)).is_ok());
    assert!(
        s.shape(limit(Side::Sell, 50, "120.00"), Some(100.0))
            .is_ok()
    );
    let e = s
        .shape(limit(Side::Buy, 50, "79.95"), Some(100.0))
        .unwrap_err();
    assert_eq!(e.check, "circuit_band");
    let e = s
        .shape(limit(Side::Sell, 50, "120.05"), Some(100.0))
        .unwrap_err();
    assert_eq!(e.check, "circuit_band");
    // Market orders carry no price; no reference yet: no band.
    let m = OrderRequest::market("m", 0, Side::Buy, 100);
    assert!(s.shape(m, Some(100.0)).is_ok());
    assert!(s.shape(limit(Side::Buy, 50, "500"), None).is_ok());
}

/// The exchange's circuit limits of a day replace the configured band once known, for that day
/// only: NHPC's documented quote (lower 42.50, upper 63.70, quoted 2023-10-19 05:21 IST).
#[test]
fn the_days_circuit_limits_replace_the_band_once_known() {
    const H: i64 = 3_600_000_000_000;
    // 2023-10-19 00:00 IST = 2023-10-18 18:30 UTC.
    let day = Timestamp::parse_rfc3339("2023-10-18T18:30:00Z").unwrap();
    let quoted = Timestamp::parse_rfc3339("2023-10-18T23:51:51Z").unwrap();
    let at = |h: f64| Timestamp::from_nanos(day.as_nanos() + (h * H as f64) as i64);
    let spec = ContractSpec {
        lot: 1,
        tick: Money::parse("0.05").unwrap(),
        freeze: None,
        band: Some(0.2),
    };
    let mut c = Contracts::new(vec![Some(spec.clone())]).unwrap();
    // Yesterday's close 52.05: the configured band is 41.64..62.46.
    c.on_bar(0, Timestamp::from_nanos(day.as_nanos() - 30 * H), 52.05);
    c.on_bar(0, at(6.0), 52.05);
    c.set_limits(
        0,
        vec![CircuitLimit {
            day,
            known: quoted,
            lower: 42.5,
            upper: 63.7,
        }],
    );
    let before = c.band(0, at(5.0)).unwrap();
    assert!((before.lower - 41.64).abs() < 1e-9 && (before.upper - 62.46).abs() < 1e-9);
    // Known at 05:21 IST: from then, the exchange's limits.
    let b = c.band(0, at(5.5)).unwrap();
    assert_eq!((b.lower, b.upper), (42.5, 63.7));
    assert!(b.from.contains("circuit limits"), "{}", b.from);
    let ok = spec.shape_within(limit(Side::Sell, 1, "63.70"), Some(&b));
    assert!(ok.is_ok());
    let e = spec
        .shape_within(limit(Side::Buy, 1, "42.45"), Some(&b))
        .unwrap_err();
    assert_eq!(e.check, "circuit_band");
    assert!(e.detail.contains("42.5000..63.7000"), "{}", e.detail);
    // 62.50 is inside the day's limits though beyond the configured band.
    assert!(
        spec.shape_within(limit(Side::Sell, 1, "62.50"), Some(&b))
            .is_ok()
    );
    // The next day the limits no longer hold: the band around the last close again.
    let next = c.band(0, at(25.0)).unwrap();
    assert!(next.from.contains("previous close"), "{}", next.from);
    // A live quote for the next day, known at once.
    c.add_limit(
        0,
        CircuitLimit {
            day: at(24.0),
            known: at(24.5),
            lower: 40.0,
            upper: 60.0,
        },
    );
    let live = c.band(0, at(25.0)).unwrap();
    assert_eq!((live.lower, live.upper), (40.0, 60.0));
}

#[test]
fn orders_above_the_freeze_quantity_are_split_in_whole_lots() {
    let s = nifty_option();
    assert_eq!(s.split(1800), vec![1800]);
    assert_eq!(s.split(1850), vec![1800, 50]);
    assert_eq!(s.split(5400), vec![1800, 1800, 1800]);
    assert_eq!(s.split(4000), vec![1800, 1800, 400]);
    // A freeze that is not a whole number of lots: pieces of the largest whole-lot size below it.
    let odd = ContractSpec {
        lot: 75,
        tick: Money::parse("0.05").unwrap(),
        freeze: Some(1000),
        band: None,
    };
    assert_eq!(odd.split(2100), vec![975, 975, 150]);
    let none = ContractSpec {
        freeze: None,
        ..odd
    };
    assert_eq!(none.split(1_000_000), vec![1_000_000]);
}

#[test]
fn specs_that_cannot_apply_are_refused() {
    let bad = |lot, tick: &str, freeze, band| {
        Contracts::new(vec![Some(ContractSpec {
            lot,
            tick: Money::parse(tick).unwrap(),
            freeze,
            band,
        })])
        .unwrap_err()
    };
    assert!(bad(0, "0.05", None, None).contains("lot"));
    assert!(bad(1, "0", None, None).contains("tick"));
    assert!(bad(50, "0.05", Some(10), None).contains("freeze"));
    assert!(bad(1, "0.05", None, Some(1.5)).contains("band"));
}

/// GOOG daily bars traded by an SMA cross with a contract of lot 25 and freeze 100: every order
/// sent is a whole number of lots, none above the freeze, and the pieces of each split order sum
/// to what the strategy asked (rounded down to lots) — the run without contracts asks the same.
#[test]
fn the_engine_sends_whole_lots_split_at_the_freeze_quantity() {
    let run = |contracts: Option<Contracts>| {
        let cfg = EngineConfig {
            risk: RiskLimits {
                allow_short: true,
                ..Default::default()
            },
            ..EngineConfig::new(Money::units(1_000_000))
        };
        let mut e = Engine::new(cfg, 1);
        if let Some(c) = contracts {
            e.set_contracts(c);
        }
        let s = StrategySpec::SmaCross(SmaCrossConfig {
            fast: 10,
            slow: 30,
            short: true,
            size: Sizing::Percent(0.5),
        });
        e.add(s.build("x", &["GOOG".into()]).unwrap(), 1.0);
        for b in &goog() {
            e.on_bar(b).unwrap();
        }
        e.finish();
        e
    };
    let spec = ContractSpec {
        lot: 25,
        tick: Money::parse("0.01").unwrap(),
        freeze: Some(100),
        band: None,
    };
    let with = run(Some(Contracts::new(vec![Some(spec)]).unwrap()));
    let sent = &with.journal.submitted;
    assert!(sent.len() > 20, "{} orders", sent.len());
    assert!(
        sent.iter()
            .all(|(_, o)| o.qty % 25 == 0 && o.qty > 0 && o.qty <= 100)
    );
    let split = sent.iter().filter(|(_, o)| o.id.ends_with(".2")).count();
    assert!(split > 0, "no order was split");
    // Group the pieces by parent id: each parent's pieces are consecutive and sum to a whole
    // number of lots.
    let mut parents: Vec<(String, i64)> = vec![];
    for (_, o) in sent {
        let parent = match o.id.rsplit_once('.') {
            Some((p, k)) if k.parse::<u32>().is_ok() => p.to_string(),
            _ => o.id.clone(),
        };
        match parents.last_mut() {
            Some((p, q)) if *p == parent => *q += o.qty,
            _ => parents.push((parent, o.qty)),
        }
    }
    assert!(parents.iter().all(|(_, q)| q % 25 == 0));
    assert!(
        with.journal.fills.iter().all(|f| f.qty % 25 == 0),
        "a fill of a partial lot"
    );
}
