//! Exit rules (stop-loss, trailing stop, break-even stop, partial take-profits) by hand.

use elite_trade::Money;
use elite_trade::engine::{Ctx, Engine, EngineConfig, ExitRules, Strategy, TakeProfit};
use elite_trade::order::{OrderRequest, Side};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::Bar;
use elite_warehouse::Timestamp;

/// Opens one position on the first bar, then does nothing.
struct Open(Side, bool);
impl Strategy for Open {
    fn name(&self) -> &str {
        "open"
    }
    fn on_bar(&mut self, b: &Bar, ctx: &mut Ctx<'_>) {
        if !self.1 {
            self.1 = true;
            ctx.submit(OrderRequest::market("", b.sym, self.0, 100));
        }
    }
}

fn run(side: Side, closes: &[f64], rules: ExitRules) -> Vec<(i64, i64, Money)> {
    let mut e = Engine::new(
        EngineConfig {
            risk: RiskLimits {
                allow_short: true,
                ..Default::default()
            },
            rules: Some(rules),
            ..EngineConfig::new(Money::units(1_000_000))
        },
        1,
    );
    e.add(Box::new(Open(side, false)), 1.0);
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
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    for sub in &e.subs {
        sub.ledger.reconcile(None).unwrap();
    }
    e.journal
        .fills
        .iter()
        .map(|f| (f.ts.as_nanos() / 10, f.qty * f.side.sign(), f.price))
        .collect()
}

#[test]
fn take_profit_then_trailing_stop() {
    // Long 100 at 100 (bar 1). Bar 3 closes +5%: the target sells 50% at bar 4's open (107).
    // Best close 110 (bar 5); bar 6 closes 104 ≤ 110 × 0.95 = 104.5: the rest goes at bar 7 (104).
    let rules = ExitRules {
        trailing_stop_pct: Some(5.0),
        take_profit: vec![TakeProfit {
            at_pct: 5.0,
            exit_pct: 50.0,
        }],
        ..Default::default()
    };
    let f = run(
        Side::Buy,
        &[100.0, 100.0, 103.0, 105.0, 107.0, 110.0, 104.0, 104.0, 90.0],
        rules,
    );
    assert_eq!(
        f,
        vec![
            (1, 100, Money::units(100)),
            (4, -50, Money::units(107)),
            (7, -50, Money::units(104))
        ]
    );
}

#[test]
fn break_even_stop() {
    // +3% at bar 2 arms the break-even stop; bar 3 closes 99.5 ≤ entry 100: out at bar 4 (99).
    let rules = ExitRules {
        break_even_at_pct: Some(3.0),
        ..Default::default()
    };
    let f = run(Side::Buy, &[100.0, 100.0, 103.0, 99.5, 99.0, 98.0], rules);
    assert_eq!(
        f,
        vec![(1, 100, Money::units(100)), (4, -100, Money::units(99))]
    );
    // Without reaching +3%, a dip below the entry does not exit.
    let rules = ExitRules {
        break_even_at_pct: Some(3.0),
        ..Default::default()
    };
    let f = run(Side::Buy, &[100.0, 100.0, 102.0, 99.5, 99.0], rules);
    assert_eq!(f.len(), 1);
}

#[test]
fn stop_loss_on_a_short() {
    // Short 100 at 100; bar 2 closes 106 ≥ 105 (5% stop): bought back at bar 3's open (106).
    let rules = ExitRules {
        stop_loss_pct: Some(5.0),
        ..Default::default()
    };
    let f = run(Side::Sell, &[100.0, 100.0, 106.0, 106.0, 120.0], rules);
    assert_eq!(
        f,
        vec![(1, -100, Money::units(100)), (3, 100, Money::units(106))]
    );
}
