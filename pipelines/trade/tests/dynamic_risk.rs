//! Dynamic risk: volatility-targeted sizing and automatic de-risking on a volatility spike.

use elite_trade::Money;
use elite_trade::engine::{Ctx, Engine, EngineConfig, Strategy};
use elite_trade::risk::{Decision, RiskLimits, VolSpike};
use elite_trade::sim::Bar;
use elite_trade::strategies::Sizing;
use elite_warehouse::Timestamp;

/// Closes alternating ×(1 ± m) around 100, m per segment.
fn bars(segments: &[(usize, f64)]) -> Vec<Bar> {
    let mut out = vec![];
    let mut t = 0i64;
    for &(n, m) in segments {
        for k in 0..n {
            let c = if k % 2 == 0 { 100.0 * (1.0 + m) } else { 100.0 };
            out.push(Bar {
                sym: 0,
                ts_event: Timestamp::from_nanos(t * 100),
                ts_recv: Timestamp::from_nanos(t * 100 + 99),
                open: c,
                high: c,
                low: c,
                close: c,
                volume: 0.0,
            });
            t += 1;
        }
    }
    out
}

fn engine(risk: RiskLimits) -> Engine {
    Engine::new(
        EngineConfig {
            risk,
            periods_per_year: Some(252.0),
            ..EngineConfig::new(Money::units(1_000_000))
        },
        1,
    )
}

struct Hold(Sizing);
impl Strategy for Hold {
    fn name(&self) -> &str {
        "hold"
    }
    fn on_bar(&mut self, b: &Bar, ctx: &mut Ctx<'_>) {
        // Re-target every bar through the sizing the strategies use (so it follows volatility).
        self.0.go(ctx, b.sym, 1);
    }
}

#[test]
fn vol_target_sizes_by_realized_volatility() {
    // Log returns alternate ±ln(1.01): the EWMA variance tends to ln(1.01)² → annualized
    // volatility ln(1.01)·√252 = 15.80%; a 10% target holds 63.3% of capital.
    let mut e = engine(RiskLimits::default());
    e.add(
        Box::new(Hold(Sizing::VolTarget {
            vol: 0.10,
            max: 1.0,
        })),
        1.0,
    );
    for b in bars(&[(400, 0.01)]) {
        e.on_bar(&b).unwrap();
    }
    e.finish();
    let expect = 0.10 / (1.01f64.ln() * 252f64.sqrt());
    let value = e.ledger.qty(0) as f64 * 100.0;
    let eq = e.equity();
    assert!(
        (value / eq - expect).abs() < 0.01,
        "{} vs {expect}",
        value / eq
    );
}

#[test]
fn a_volatility_spike_cuts_positions_and_blocks_new_exposure_until_calm() {
    let mut e = engine(RiskLimits {
        vol_spike: Some(VolSpike {
            ratio: 2.0,
            cut: 0.5,
        }),
        ..Default::default()
    });
    e.add(Box::new(Hold(Sizing::Percent(0.8))), 1.0);
    let all = bars(&[(200, 0.002), (40, 0.03), (400, 0.002)]);
    let mut derisk_at = None;
    let (mut qty_before, mut prev) = (0, 0);
    for (i, b) in all.iter().enumerate() {
        e.on_bar(b).unwrap();
        if derisk_at.is_none() && e.risk.derisked() {
            // Detected at the close of the previous instant, on the position held then.
            derisk_at = Some(i);
            qty_before = prev;
        }
        prev = e.ledger.qty(0);
    }
    e.finish();
    let at = derisk_at.expect("the spike was detected");
    assert!((200..215).contains(&at), "detected at bar {at}");
    let ev: Vec<_> = e
        .journal
        .risk
        .iter()
        .filter(|r| matches!(r.decision, Decision::Derisk | Decision::Normal))
        .collect();
    assert_eq!(ev[0].decision, Decision::Derisk);
    assert_eq!(
        ev.last().unwrap().decision,
        Decision::Normal,
        "calm returns re-enable trading"
    );
    // The cut: a derisk order for half the position filled at the next bar.
    let cut = e
        .journal
        .fills
        .iter()
        .find(|f| f.order_id.starts_with("derisk-"))
        .expect("cut order filled");
    assert_eq!(cut.qty, qty_before / 2);
    // While de-risked, adding exposure was refused with its reason.
    assert!(
        e.journal
            .risk
            .iter()
            .any(|r| r.check == "vol_spike" && r.decision == Decision::Refused)
    );
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
}

#[test]
fn a_stress_regime_cuts_positions_and_blocks_new_exposure_until_it_ends() {
    use elite_trade::event::Event;
    use elite_trade::risk::RegimeRule;
    let mut e = engine(RiskLimits {
        regime: Some(RegimeRule {
            scope: "universe".into(),
            method: "stress".into(),
            above: Some(1.5),
            below: Some(0.5),
            states: vec![],
            cut: 0.5,
        }),
        ..Default::default()
    });
    e.add(Box::new(Hold(Sizing::Percent(0.8))), 1.0);
    let all = bars(&[(300, 0.001)]);
    // The stress index per bar: calm, stressed from bar 100, 1.0 from bar 150 (above `below`:
    // still stressed), calm from bar 160. Rows of another universe say "stressed" throughout
    // the first 60 bars and must be ignored.
    let value = |t: usize| match t {
        100..150 => 2.0,
        150..160 => 1.0,
        _ => 0.0,
    };
    // History known before the first bar, stressed then calm: arriving together they change
    // nothing (no de-risk at the start, no cut, no event).
    for (i, v) in [2.0, 0.2].into_iter().enumerate() {
        e.process(&Event::Regime {
            scope: "universe".into(),
            method: "stress".into(),
            ts_event: Timestamp::from_nanos(i as i64 - 10),
            state: 0,
            value: v,
            known: Timestamp::from_nanos(i as i64 - 5),
        })
        .unwrap();
    }
    let mut qty = vec![];
    for (t, b) in all.iter().enumerate() {
        for (scope, v) in [
            ("universe", value(t)),
            ("other", if t < 60 { 5.0 } else { 0.0 }),
        ] {
            e.process(&Event::Regime {
                scope: scope.into(),
                method: "stress".into(),
                ts_event: b.ts_event,
                state: 0,
                value: v,
                known: b.ts_recv,
            })
            .unwrap();
        }
        e.process(&Event::Bar(*b)).unwrap();
        qty.push(e.ledger.qty(0));
    }
    e.finish();
    let ev: Vec<_> = e
        .journal
        .risk
        .iter()
        .filter(|r| matches!(r.decision, Decision::Derisk | Decision::Normal))
        .collect();
    assert_eq!(ev.len(), 2, "{ev:?}");
    // Applied when the instant of the bar the row describes closes (never before it is known).
    assert_eq!(
        (ev[0].decision, ev[0].ts),
        (Decision::Derisk, all[100].ts_recv)
    );
    assert_eq!(ev[0].check, "regime");
    assert_eq!(
        (ev[1].decision, ev[1].ts),
        (Decision::Normal, all[160].ts_recv)
    );
    // Half the position was cut, filled at the next bar; nothing was added while stressed.
    let cut = e
        .journal
        .fills
        .iter()
        .find(|f| f.order_id.starts_with("derisk-"))
        .expect("cut order filled");
    assert_eq!(cut.qty, qty[100] / 2);
    assert!(qty[101..=160].iter().all(|q| *q <= qty[100] - cut.qty));
    assert!(
        e.journal
            .risk
            .iter()
            .any(|r| r.check == "regime" && r.decision == Decision::Refused)
    );
    // After it ends the strategy builds the position back.
    assert!(
        qty[299] > qty[101] + qty[101] / 2,
        "{} vs {}",
        qty[299],
        qty[101]
    );
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
}

#[test]
fn an_operator_halt_flattens_and_refuses_until_resumed_exactly_as_the_kill_switch() {
    use elite_trade::event::Event;
    let mut e = engine(RiskLimits::default());
    e.add(Box::new(Hold(Sizing::Percent(0.5))), 1.0);
    let all = bars(&[(60, 0.002)]);
    for b in &all[..20] {
        e.process(&Event::Bar(*b)).unwrap();
    }
    let held = e.ledger.qty(0);
    assert!(held > 0, "the strategy holds a position before the halt");
    let now = e.now().unwrap();
    e.process(&Event::Control {
        halt: true,
        why: "operator halt from chat 100".into(),
        ts_recv: now,
    })
    .unwrap();
    assert!(e.risk.halted());
    assert_eq!(e.now(), Some(now), "a command does not move the clock");
    let kill = e.journal.risk.last().unwrap();
    assert_eq!(kill.decision, Decision::KillSwitch);
    assert_eq!(kill.detail, "operator halt from chat 100");
    // The flatten order fills at the next bar; every order after it is refused.
    for b in &all[20..40] {
        e.process(&Event::Bar(*b)).unwrap();
    }
    assert_eq!(e.ledger.qty(0), 0, "flattened");
    assert!(
        e.journal
            .risk
            .iter()
            .any(|r| r.check == "halted" && r.decision == Decision::Refused)
    );
    // A second halt changes nothing; resume lifts it and the strategy trades again.
    let n = e.journal.risk.len();
    e.process(&Event::Control {
        halt: true,
        why: "again".into(),
        ts_recv: e.now().unwrap(),
    })
    .unwrap();
    assert_eq!(e.journal.risk.len(), n);
    e.process(&Event::Control {
        halt: false,
        why: "operator resume".into(),
        ts_recv: e.now().unwrap(),
    })
    .unwrap();
    assert!(!e.risk.halted());
    assert_eq!(e.journal.risk.last().unwrap().decision, Decision::Normal);
    for b in &all[40..] {
        e.process(&Event::Bar(*b)).unwrap();
    }
    assert!(e.ledger.qty(0) > 0, "trading again after /resume");
    e.finish();
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
}
