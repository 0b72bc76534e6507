//! Fill-simulation rules, each against hand-made bars with hand-computed expectations.

use std::collections::HashMap;

use elite_trade::Money;
use elite_trade::engine::{Ctx, Engine, EngineConfig, Execution, Strategy};
use elite_trade::order::{OrderKind, OrderRequest, OrderStatus, Side, Tif, Trail};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::{Bar, FillConfig, Slippage};
use elite_warehouse::Timestamp;

const DAY: i64 = 86_400_000_000_000;

/// Daily bars: bar i opens at day i 00:00 and is known at day i 23:59.
fn bar(i: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
    Bar {
        sym: 0,
        ts_event: Timestamp::from_nanos(i * DAY),
        ts_recv: Timestamp::from_nanos(i * DAY + DAY - 60_000_000_000),
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
    }
}

/// Submits the given orders after the given bar indices.
struct Script(HashMap<usize, Vec<OrderRequest>>, usize);

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn on_bar(&mut self, _: &Bar, ctx: &mut Ctx<'_>) {
        if let Some(v) = self.0.remove(&self.1) {
            for o in v {
                ctx.submit(o);
            }
        }
        self.1 += 1;
    }
}

fn run(bars: &[Bar], script: Vec<(usize, OrderRequest)>, fills: FillConfig) -> Engine {
    run_with(bars, script, fills, Execution::Direct)
}

fn run_with(
    bars: &[Bar],
    script: Vec<(usize, OrderRequest)>,
    fills: FillConfig,
    execution: Execution,
) -> Engine {
    let mut m: HashMap<usize, Vec<OrderRequest>> = HashMap::new();
    for (i, o) in script {
        m.entry(i).or_default().push(o);
    }
    let cfg = EngineConfig {
        fills,
        risk: RiskLimits {
            allow_short: true,
            ..Default::default()
        },
        execution,
        ..EngineConfig::new(Money::units(1_000_000))
    };
    let mut e = Engine::new(cfg, 1);
    e.add(Box::new(Script(m, 0)), 1.0);
    for b in bars {
        e.on_bar(b).unwrap();
    }
    e.finish();
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    e
}

fn p(x: &str) -> Money {
    Money::parse(x).unwrap()
}

fn fills(e: &Engine) -> Vec<(i64, i64, Money)> {
    e.journal
        .fills
        .iter()
        .map(|f| (f.ts.as_nanos() / DAY, f.qty * f.side.sign(), f.price))
        .collect()
}

fn bars5() -> Vec<Bar> {
    vec![
        bar(0, 100.0, 101.0, 99.0, 100.0, 1e6),
        bar(1, 102.0, 104.0, 101.0, 103.0, 1e6),
        bar(2, 103.0, 106.0, 98.0, 99.0, 1e6),
        bar(3, 97.0, 99.0, 95.0, 98.0, 1e6),
        bar(4, 99.0, 110.0, 98.0, 109.0, 1e6),
    ]
}

#[test]
fn market_order_fills_at_the_next_open() {
    let e = run(
        &bars5(),
        vec![(0, OrderRequest::market("a", 0, Side::Buy, 10))],
        FillConfig::default(),
    );
    // Decided on bar 0 (close 100), filled at bar 1's open 102, never at bar 0's prices.
    assert_eq!(fills(&e), vec![(1, 10, p("102"))]);
    assert_eq!(e.ledger.cash, Money::units(1_000_000 - 1020));
}

#[test]
fn limits_fill_at_the_open_when_gapping_else_at_the_limit() {
    let lim = |id: &str, side, l: &str| {
        OrderRequest::new(id, 0, side, 5, OrderKind::Limit { limit: p(l) }).tif(Tif::Gtc)
    };
    let e = run(
        &bars5(),
        vec![
            (0, lim("gap", Side::Buy, "102.5")), // bar 1 opens 102 <= 102.5 → 102
            (1, lim("touch", Side::Buy, "99.5")), // bar 2 low 98 → 99.5
            (1, lim("never", Side::Buy, "90")),  // low never <= 90
            (2, lim("sell", Side::Sell, "108")), // bar 3 high 99 no; bar 4 high 110 → 108
        ],
        FillConfig::default(),
    );
    assert_eq!(
        fills(&e),
        vec![(1, 5, p("102")), (2, 5, p("99.5")), (4, -5, p("108"))]
    );
    assert_eq!(e.broker.status("never"), Some(OrderStatus::Open));
}

#[test]
fn stops_gap_or_trigger_and_slippage_stays_inside_the_bar() {
    let stop = |id: &str, side, s: &str| {
        OrderRequest::new(id, 0, side, 1, OrderKind::Stop { stop: p(s) }).tif(Tif::Gtc)
    };
    let cfg = FillConfig {
        slippage: Slippage::Bps { bps: 100.0 },
        ..Default::default()
    };
    let e = run(
        &bars5(),
        vec![
            (0, stop("gap", Side::Buy, "101.5")), // bar 1 opens 102 ≥ 101.5 → 102 + 1% = 103.02
            (2, stop("trig", Side::Buy, "98.5")), // bar 3: open 97, high 99 ≥ 98.5 → 98.5·1.01 = 99.485 → clamp to high 99
            (3, stop("sell", Side::Sell, "98.5")), // bar 4: low 98 ≤ 98.5 → 98.5·0.99 = 97.515 → clamp to low 98
        ],
        cfg,
    );
    assert_eq!(
        fills(&e),
        vec![(1, 1, p("103.02")), (3, 1, p("99")), (4, -1, p("98"))]
    );
}

#[test]
fn stop_limit_triggers_then_rests_as_a_limit() {
    let o = OrderRequest::new(
        "sl",
        0,
        Side::Buy,
        1,
        OrderKind::StopLimit {
            stop: p("103.5"),
            limit: p("100"),
        },
    )
    .tif(Tif::Gtc);
    // Bar 1 high 104 ≥ 103.5 triggers, but 103.5 > limit 100: no fill; bar 2 low 98 ≤ 100 → 100.
    let e = run(&bars5(), vec![(0, o)], FillConfig::default());
    assert_eq!(fills(&e), vec![(2, 1, p("100"))]);
}

#[test]
fn trailing_stop_uses_only_earlier_highs() {
    // Long 1 from bar 1; a sell trailing stop 3.00 below the best price, placed on bar 1 (close 103).
    let e = run(
        &bars5(),
        vec![
            (0, OrderRequest::market("in", 0, Side::Buy, 1)),
            (
                1,
                OrderRequest::new(
                    "ts",
                    0,
                    Side::Sell,
                    1,
                    OrderKind::TrailingStop {
                        trail: Trail::Amount(Money::units(3)),
                    },
                )
                .tif(Tif::Gtc),
            ),
        ],
        FillConfig::default(),
    );
    // Bar 2: level from best 103 (placement) = 100; bar 2's own high 106 must not raise it before
    // the test: low 98 ≤ 100 → fill at 100 (with look-ahead it would be 106 − 3 = 103).
    assert_eq!(fills(&e), vec![(1, 1, p("102")), (2, -1, p("100"))]);
}

#[test]
fn volume_participation_splits_fills_across_bars() {
    let mut bars = bars5();
    for b in &mut bars {
        b.volume = 1000.0;
    }
    let cfg = FillConfig {
        max_participation: 0.1,
        ..Default::default()
    };
    let e = run(
        &bars,
        vec![(
            0,
            OrderRequest::market("big", 0, Side::Buy, 250).tif(Tif::Gtc),
        )],
        cfg,
    );
    // 10% of 1,000 = 100 per bar: 100 @ 102, 100 @ 103, 50 @ 97 (each bar's open).
    assert_eq!(
        fills(&e),
        vec![(1, 100, p("102")), (2, 100, p("103")), (3, 50, p("97"))]
    );
    let statuses: Vec<_> = e.journal.order_events.iter().map(|x| x.status).collect();
    assert_eq!(
        statuses,
        vec![
            OrderStatus::PartiallyFilled,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled
        ]
    );
}

#[test]
fn day_ioc_and_gtc() {
    let lim = |id: &str, tif| {
        OrderRequest::new(id, 0, Side::Buy, 1, OrderKind::Limit { limit: p("97.5") }).tif(tif)
    };
    let mut bars = bars5();
    bars[1].volume = 1000.0;
    let e = run(
        &bars,
        vec![
            (0, lim("day", Tif::Day)),
            (0, lim("gtc", Tif::Gtc)),
            (
                0,
                OrderRequest::market("ioc", 0, Side::Buy, 500).tif(Tif::Ioc),
            ),
        ],
        FillConfig {
            max_participation: 0.2,
            ..Default::default()
        },
    );
    // Bar 1 (low 101): neither limit fills; the IOC gets 20% of 1,000 = 200 and the rest is cancelled.
    // Bar 2 is a new day: the DAY order expires before it could fill; the GTC fills at bar 3's open 97.
    assert_eq!(e.broker.status("day"), Some(OrderStatus::Expired));
    assert_eq!(e.broker.status("ioc"), Some(OrderStatus::Cancelled));
    assert_eq!(fills(&e), vec![(1, 200, p("102")), (3, 1, p("97"))]);
}

#[test]
fn bracket_legs_are_one_cancels_other() {
    let entry = OrderRequest::market("e", 0, Side::Buy, 3).bracket(p("108"), p("97.5"));
    let e = run(&bars5(), vec![(0, entry)], FillConfig::default());
    // Entry at 102 (bar 1). Legs work from bar 2: stop 97.5 (low 98: no), take-profit 108 (high
    // 106: no); bar 3 opens 97 ≤ 97.5 → stop fills at the open 97; take-profit cancelled.
    assert_eq!(fills(&e), vec![(1, 3, p("102")), (3, -3, p("97"))]);
    assert_eq!(e.broker.status("e:tp"), Some(OrderStatus::Cancelled));
    assert_eq!(e.ledger.qty(0), 0);
}

#[test]
fn iceberg_shows_its_display_quantity_per_bar() {
    let mut o = OrderRequest::market("ice", 0, Side::Sell, 25).tif(Tif::Gtc);
    o.display_qty = Some(10);
    let e = run(&bars5(), vec![(0, o)], FillConfig::default());
    assert_eq!(
        fills(&e),
        vec![(1, -10, p("102")), (2, -10, p("103")), (3, -5, p("97"))]
    );
}

#[test]
fn latency_delays_eligibility_and_ids_are_idempotent() {
    // 2 days of latency: decided on bar 0 (known day 0 23:59) → eligible from day 2 23:59 → bar 3.
    let cfg = FillConfig {
        latency_ns: 2 * DAY,
        ..Default::default()
    };
    let e = run(
        &bars5(),
        vec![(0, OrderRequest::market("x", 0, Side::Buy, 1))],
        cfg,
    );
    assert_eq!(fills(&e), vec![(3, 1, p("97"))]);
    // The same client order id twice: sent once, the second is logged as a duplicate.
    let e = run(
        &bars5(),
        vec![
            (
                0,
                OrderRequest::market("dup", 0, Side::Buy, 1).tif(Tif::Gtc),
            ),
            (1, OrderRequest::market("dup", 0, Side::Buy, 1)),
        ],
        FillConfig::default(),
    );
    assert_eq!(fills(&e).len(), 1);
    assert!(e.journal.risk.iter().any(|r| r.check == "duplicate_id"));
}

#[test]
fn twap_and_pov_children() {
    // 10 shares over 4 slices = 3, 3, 2, 2: the first child is sent on the deciding bar (0) and
    // fills at bar 1's open, then one child per bar.
    let e = run_with(
        &bars5(),
        vec![(0, OrderRequest::market("p", 0, Side::Buy, 10))],
        FillConfig::default(),
        Execution::Twap {
            slices: 4,
            min_qty: 0,
        },
    );
    assert_eq!(
        fills(&e),
        vec![
            (1, 3, p("102")),
            (2, 3, p("103")),
            (3, 2, p("97")),
            (4, 2, p("99"))
        ]
    );
    assert_eq!(e.journal.fills[0].order_id, "p-c0");
    // Shortfall vs the arrival price (bar 0's close, 100): average (306 + 309 + 194 + 198) / 10
    // = 100.7 → 70 bps.
    let s = e.journal.shortfalls();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].1, 10);
    assert!((s[0].2.unwrap() - 70.0).abs() < 1e-9, "{s:?}");
    // POV 1% of the previous bar's volume (1,000 → 10 shares a bar) for 25 shares: 10, 10, 5.
    let mut bars = bars5();
    for b in &mut bars {
        b.volume = 1000.0;
    }
    let e = run_with(
        &bars,
        vec![(0, OrderRequest::market("q", 0, Side::Sell, 25))],
        FillConfig::default(),
        Execution::Pov {
            rate: 0.01,
            min_qty: 0,
        },
    );
    assert_eq!(
        fills(&e),
        vec![(1, -10, p("102")), (2, -10, p("103")), (3, -5, p("97"))]
    );
}

#[test]
fn vwap_follows_the_learned_intraday_profile() {
    // Four bars a day with volumes 400/100/100/400 (a U shape), three days to learn from. On day
    // 3 an order for 60 is decided on the first bar: the rest of the session's profile is
    // 0.1/0.1/0.4 of a day → 60 × (1/6, 1/6, 4/6) = 10, 10, 40, sent one per bar.
    const HOUR: i64 = 3_600_000_000_000;
    let mut bars = vec![];
    for d in 0..4i64 {
        for (k, v) in [400.0, 100.0, 100.0, 400.0].iter().enumerate() {
            let t = d * DAY + (10 + k as i64) * HOUR;
            bars.push(Bar {
                sym: 0,
                ts_event: Timestamp::from_nanos(t),
                ts_recv: Timestamp::from_nanos(t + HOUR),
                open: 100.0,
                high: 100.0,
                low: 100.0,
                close: 100.0,
                volume: *v,
            });
        }
    }
    let e = run_with(
        &bars,
        vec![(12, OrderRequest::market("v", 0, Side::Buy, 60))],
        FillConfig::default(),
        Execution::Vwap {
            slices: 10,
            lookback: 20,
            min_qty: 0,
        },
    );
    let q: Vec<i64> = e.journal.fills.iter().map(|f| f.qty).collect();
    assert_eq!(q, vec![10, 10, 40]);
    let bars_filled: Vec<i64> = e
        .journal
        .fills
        .iter()
        .map(|f| (f.ts.as_nanos() % DAY) / HOUR)
        .collect();
    assert_eq!(bars_filled, vec![11, 12, 13]);
}
