//! Correlation risk: an order that adds exposure moving with the rest of the book is refused;
//! an independent instrument or a hedge is not.

use elite_trade::Money;
use elite_trade::engine::{Ctx, Engine, EngineConfig, Strategy};
use elite_trade::order::{OrderRequest, Side};
use elite_trade::risk::{Decision, MaxCorrelation, RiskLimits};
use elite_trade::sim::Bar;
use elite_warehouse::Timestamp;

/// Buys A on the first bar of A, then at bar 80 asks for B long, C long and B short.
struct Script;
impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn on_bar(&mut self, b: &Bar, ctx: &mut Ctx<'_>) {
        let t = b.ts_event.as_nanos() / 100;
        if t == 0 && b.sym == 0 {
            ctx.submit(OrderRequest::market("", 0, Side::Buy, 100));
        }
        if t == 80 && b.sym == 2 {
            ctx.submit(OrderRequest::market("", 1, Side::Buy, 10));
            ctx.submit(OrderRequest::market("", 2, Side::Buy, 10));
            ctx.submit(OrderRequest::market("", 1, Side::Sell, 10));
        }
    }
}

fn closes() -> [Vec<f64>; 3] {
    let mut a = vec![100.0];
    let mut c = vec![50.0];
    for t in 1..100usize {
        // A (and B, which moves with A): a deterministic wiggle; C: an unrelated one.
        let ra = 0.01 * ((t as f64 * 1.7).sin() + 0.3 * (t as f64 * 0.37).cos());
        let rc = 0.01 * ((t as f64 * 2.9 + 1.0).cos() * (t as f64 * 0.11).sin());
        a.push(a[t - 1] * (1.0 + ra));
        c.push(c[t - 1] * (1.0 + rc));
    }
    let b = a.iter().map(|x| x * 0.5).collect();
    [a, b, c]
}

fn decisions(limit: Option<f64>) -> Vec<(u32, Side, Decision, String)> {
    let mut e = Engine::new(
        EngineConfig {
            risk: RiskLimits {
                allow_short: true,
                max_correlation: limit.map(|l| MaxCorrelation {
                    limit: l,
                    lookback: 60,
                }),
                ..Default::default()
            },
            ..EngineConfig::new(Money::units(1_000_000))
        },
        3,
    );
    e.add(Box::new(Script), 1.0);
    let cl = closes();
    for t in 0..100usize {
        for (s, series) in cl.iter().enumerate() {
            let c = series[t];
            e.on_bar(&Bar {
                sym: s as u32,
                ts_event: Timestamp::from_nanos(t as i64 * 100),
                ts_recv: Timestamp::from_nanos(t as i64 * 100 + 99),
                open: c,
                high: c,
                low: c,
                close: c,
                volume: 1e6,
            })
            .unwrap();
        }
    }
    let sides: std::collections::HashMap<String, Side> = e
        .journal
        .submitted
        .iter()
        .map(|(_, o)| (o.id.clone(), o.side))
        .collect();
    e.journal
        .risk
        .iter()
        .filter(|r| r.ts.as_nanos() / 100 == 80)
        .map(|r| {
            (
                r.sym.unwrap_or(99),
                sides.get(&r.order_id).copied().unwrap_or(Side::Buy),
                r.decision,
                r.check.clone(),
            )
        })
        .collect()
}

#[test]
fn an_order_moving_with_the_book_is_refused() {
    let d = decisions(Some(0.8));
    assert_eq!(d.len(), 3, "{d:?}");
    // B long moves exactly with the A position: refused, with the check named.
    assert_eq!(
        (d[0].0, d[0].2, d[0].3.as_str()),
        (1, Decision::Refused, "correlation")
    );
    // C is unrelated, and B short hedges A: both approved.
    assert_eq!((d[1].0, d[1].2), (2, Decision::Approved));
    assert_eq!(
        (d[2].0, d[2].1, d[2].2),
        (1, Side::Sell, Decision::Approved)
    );
    // Without the limit every one passes.
    assert!(decisions(None).iter().all(|x| x.2 == Decision::Approved));
    // C's correlation is measured (not skipped): a limit below it refuses C too, while the
    // hedge (correlation −1) still passes.
    let d = decisions(Some(-0.99));
    assert_eq!(
        d.iter().map(|x| x.2).collect::<Vec<_>>(),
        vec![Decision::Refused, Decision::Refused, Decision::Approved]
    );
}
