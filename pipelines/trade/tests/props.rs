//! Properties over random order and price streams: risk limits are never broken, cash and
//! positions always reconcile exactly, and the kill switch halts within one event.

use elite_trade::Money;
use elite_trade::costs::{CostModel, IndiaCharges};
use elite_trade::engine::{Ctx, Engine, EngineConfig, Strategy};
use elite_trade::order::{OrderKind, OrderRequest, Side, Tif};
use elite_trade::risk::{Decision as RiskDecision, RiskLimits};
use elite_trade::sim::{Bar, FillConfig, Slippage};
use elite_warehouse::Timestamp;
use proptest::prelude::*;

const N: usize = 3;

/// Random orders: per bar, a list of (symbol, buy?, qty, kind selector, price offset in ‰).
type Decision = (u32, bool, i64, u8, i64);
struct Random(Vec<Vec<Decision>>, usize);

impl Strategy for Random {
    fn name(&self) -> &str {
        "random"
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        // One decision list per instant (the last symbol's bar closes the instant).
        if bar.sym as usize != N - 1 {
            return;
        }
        let Some(list) = self.0.get(self.1) else {
            return;
        };
        self.1 += 1;
        for &(sym, buy, qty, kind, off) in list {
            let last = ctx.prices[sym as usize];
            let px = Money::from_f64(last * (1.0 + off as f64 / 1000.0)).unwrap();
            let kind = match kind % 4 {
                0 => OrderKind::Market,
                1 => OrderKind::Limit { limit: px },
                2 => OrderKind::Stop { stop: px },
                _ => OrderKind::StopLimit {
                    stop: px,
                    limit: px,
                },
            };
            let side = if buy { Side::Buy } else { Side::Sell };
            ctx.submit(
                OrderRequest::new("", sym, side, qty, kind).tif(if qty % 2 == 0 {
                    Tif::Gtc
                } else {
                    Tif::Day
                }),
            );
        }
    }
}

fn bars(moves: &[(i32, u8)]) -> Vec<Bar> {
    let mut px = [100.0f64; N];
    let mut out = vec![];
    for (t, &(m, spread)) in moves.iter().enumerate() {
        for (s, p) in px.iter_mut().enumerate() {
            let o = *p;
            let c = (o * (1.0 + (m as f64 + s as f64) / 1000.0)).max(1.0);
            let w = spread as f64 / 1000.0 * o;
            out.push(Bar {
                sym: s as u32,
                ts_event: Timestamp::from_nanos(t as i64 * 1_000),
                ts_recv: Timestamp::from_nanos(t as i64 * 1_000 + 999),
                open: o,
                high: o.max(c) + w,
                low: (o.min(c) - w).max(0.5),
                close: c,
                volume: 500.0,
            });
            *p = c;
        }
    }
    out
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_position_qty: Some(300),
        max_order_notional: Some(25_000.0),
        price_band: Some(0.05),
        max_orders: Some(4),
        window_secs: Some(1),
        allow_short: true,
        ..Default::default()
    }
}

fn engine() -> Engine {
    let cfg = EngineConfig {
        initial_cash: Money::units(100_000),
        fills: FillConfig {
            slippage: Slippage::SqrtImpact { coef: 0.5 },
            max_participation: 0.3,
            ..Default::default()
        },
        costs: CostModel::India(IndiaCharges::zerodha_intraday()),
        risk: limits(),
        allocator: None,
        execution: Default::default(),
        periods_per_year: None,
        rules: None,
    };
    Engine::new(cfg, N)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn limits_hold_and_books_reconcile(
        moves in prop::collection::vec((-40i32..40, 0u8..30), 10..60),
        orders in prop::collection::vec(
            prop::collection::vec((0u32..N as u32, any::<bool>(), 1i64..200, any::<u8>(), -80i64..80), 0..6),
            10..60),
    ) {
        let mut e = engine();
        e.add(Box::new(Random(orders, 0)), 1.0);
        let bars = bars(&moves);
        for b in &bars {
            e.on_bar(b).unwrap();
            // Exact reconciliation after every event, against the broker's own fills.
            prop_assert!(e.ledger.reconcile(Some(&e.journal.fills)).is_ok(), "{:?}", e.ledger.reconcile(None));
            for s in 0..N as u32 {
                prop_assert!(e.ledger.qty(s).abs() <= 300, "position {} on {s}", e.ledger.qty(s));
            }
        }
        e.finish();
        // Every order that reached the broker satisfies the order-level limits at its decision.
        let l = limits();
        for (ts, o) in &e.journal.submitted {
            if let Some(p) = o.reference_price() {
                prop_assert!(o.qty as f64 * p.to_f64() <= l.max_order_notional.unwrap() + 1e-9);
            }
            let in_window = e.journal.submitted.iter().filter(|(t, _)| t.as_nanos() > ts.as_nanos() - 1_000_000_000 && t <= ts).count();
            prop_assert!(in_window <= 4, "order rate {in_window}");
        }
        prop_assert!(e.journal.risk.iter().all(|r| r.decision != RiskDecision::KillSwitch));
    }

    #[test]
    fn kill_switch_halts_within_one_event(
        moves in prop::collection::vec((-40i32..40, 0u8..30), 20..40),
        orders in prop::collection::vec(
            prop::collection::vec((0u32..N as u32, any::<bool>(), 1i64..50, 0u8..1, 0i64..1), 1..3),
            20..40),
        kill_at in 3usize..15,
    ) {
        let mut e = engine();
        e.add(Box::new(Random(orders, 0)), 1.0);
        let bars = bars(&moves);
        let mut killed_ts = None;
        for (i, b) in bars.iter().enumerate() {
            if i == kill_at * N {
                let ev = e.risk.kill(b.ts_recv, "test");
                killed_ts = Some(b.ts_recv);
                e.journal.risk.push(ev);
            }
            let before = e.journal.submitted.len();
            e.on_bar(b).unwrap();
            if killed_ts.is_some() {
                // The very next event already refuses every new order.
                prop_assert_eq!(e.journal.submitted.len(), before);
            }
        }
        let k = killed_ts.unwrap();
        prop_assert!(e.journal.risk.iter().filter(|r| r.ts >= k && r.check != "kill_switch").all(|r| r.decision == RiskDecision::Refused));
    }
}

#[test]
fn drawdown_trips_the_kill_switch_and_flattens() {
    let cfg = EngineConfig {
        risk: RiskLimits {
            max_drawdown: Some(0.10),
            ..Default::default()
        },
        ..EngineConfig::new(Money::units(10_000))
    };
    struct AllIn;
    impl Strategy for AllIn {
        fn name(&self) -> &str {
            "all_in"
        }
        fn on_bar(&mut self, b: &Bar, ctx: &mut Ctx<'_>) {
            ctx.target_percent(b.sym, 1.0);
        }
    }
    let mut e = Engine::new(cfg, 1);
    e.add(Box::new(AllIn), 1.0);
    // 100 → buys 100 shares at 100 on bar 1; price falls to 85 (−15% equity) on bar 2.
    let closes = [100.0, 100.0, 85.0, 80.0, 90.0];
    for (t, c) in closes.iter().enumerate() {
        let b = Bar {
            sym: 0,
            ts_event: Timestamp::from_nanos(t as i64 * 10),
            ts_recv: Timestamp::from_nanos(t as i64 * 10 + 9),
            open: *c,
            high: *c,
            low: *c,
            close: *c,
            volume: 0.0,
        };
        e.on_bar(&b).unwrap();
    }
    e.finish();
    let kill = e
        .journal
        .risk
        .iter()
        .find(|r| r.decision == RiskDecision::KillSwitch)
        .expect("tripped");
    assert_eq!(kill.ts, Timestamp::from_nanos(29)); // at the close of the instant that broke 10%
    // Flattened at the next bar's open (80), and nothing bought after.
    assert_eq!(e.ledger.qty(0), 0);
    let last = e.journal.fills.last().unwrap();
    assert_eq!(
        (last.side, last.qty, last.price),
        (Side::Sell, 100, Money::units(80))
    );
    assert!(e.risk.halted());
}
