//! Live trading's broker seam: an engine whose orders are worked by an outside broker
//! (the `Outbox` broker), told each execution as the broker reports it, ends in exactly the state of
//! the simulated run that produced those executions: the same orders, fills, positions, risk
//! decisions and equity curve. So live differs from paper only in who fills.

mod common;
use common::goog;

use elite_trade::Money;
use elite_trade::broker::Outbox;
use elite_trade::costs::{CostModel, IndiaCharges};
use elite_trade::engine::{Engine, EngineConfig, EngineError};
use elite_trade::order::OrderStatus;
use elite_trade::risk::RiskLimits;
use elite_trade::sim::{FillConfig, Slippage};
use elite_trade::strategies::{
    BreakoutConfig, RsiReversionConfig, Sizing, SmaCrossConfig, StrategySpec,
};

fn engine(external: bool) -> Engine {
    let cfg = EngineConfig {
        fills: FillConfig {
            slippage: Slippage::SqrtImpact { coef: 0.3 },
            max_participation: 0.0002,
            ..Default::default()
        },
        costs: CostModel::India(IndiaCharges::zerodha_delivery()),
        risk: RiskLimits {
            allow_short: true,
            max_gross_leverage: Some(1.5),
            ..Default::default()
        },
        ..EngineConfig::new(Money::units(1_000_000))
    };
    let mut e = if external {
        let outbox = Outbox::new(cfg.fills.clone(), cfg.costs.clone());
        Engine::with_broker(cfg, 1, Box::new(outbox))
    } else {
        Engine::new(cfg, 1)
    };
    let size = Sizing::Percent(0.3);
    let specs = [
        StrategySpec::SmaCross(SmaCrossConfig {
            fast: 10,
            slow: 30,
            short: true,
            size,
        }),
        StrategySpec::RsiReversion(RsiReversionConfig {
            period: 14,
            low: 30.0,
            exit: 55.0,
            size,
        }),
        StrategySpec::Breakout(BreakoutConfig {
            period: 20,
            exit_period: 10,
            size,
        }),
    ];
    for (i, s) in specs.iter().enumerate() {
        e.add(
            s.build(&format!("s{i}"), &["GOOG".into()]).unwrap(),
            1.0 / 3.0,
        );
    }
    e
}

fn dump(e: &Engine) -> String {
    let j = &e.journal;
    let mut s = String::new();
    for (ts, o) in &j.submitted {
        s += &format!("{ts:?}{}\n", serde_json::to_string(o).unwrap());
    }
    for x in &j.fills {
        s += &format!("{}\n", serde_json::to_string(x).unwrap());
    }
    for x in &j.positions {
        s += &format!("{}\n", serde_json::to_string(x).unwrap());
    }
    for x in &j.risk {
        s += &format!("{}\n", serde_json::to_string(x).unwrap());
    }
    for x in &j.equity {
        s += &format!("{}\n", serde_json::to_string(x).unwrap());
    }
    s
}

#[test]
fn an_outside_broker_reporting_the_simulated_fills_gives_the_simulated_run() {
    let bars = goog();
    let mut sim = engine(false);
    for b in &bars {
        sim.on_bar(b).unwrap();
    }
    sim.finish();
    let fills = sim.journal.fills.clone();
    assert!(fills.len() > 50, "{} fills", fills.len());
    // Partial fills exist (0.02% of volume), so reports of part of an order are exercised.
    assert!(
        sim.journal
            .order_events
            .iter()
            .any(|e| e.status == OrderStatus::PartiallyFilled)
    );

    let mut live = engine(true);
    // The broker's reports, in the order the simulation made them: executions (each fill event
    // has its fill), and the ends it decided itself (DAY expiry).
    let events = sim.journal.order_events.clone();
    let (mut k, mut n) = (0, 0);
    let mut expired = 0;
    for b in &bars {
        // What the broker reported by the time this bar arrived.
        while n < events.len() && events[n].ts <= b.ts_event {
            let ev = &events[n];
            match ev.status {
                OrderStatus::Filled | OrderStatus::PartiallyFilled => {
                    let f = &fills[k];
                    assert_eq!(f.order_id, ev.id);
                    let got = live
                        .on_fill(&f.order_id, f.qty, f.price, f.ts, f.ts_recv)
                        .unwrap();
                    assert_eq!(&got, f);
                    k += 1;
                }
                OrderStatus::Expired => {
                    assert!(
                        live.on_order_status(&ev.id, ev.status, &ev.reason, b.ts_recv)
                            .unwrap()
                    );
                    expired += 1;
                }
                _ => {}
            }
            n += 1;
        }
        live.on_bar(b).unwrap();
    }
    live.finish();
    // Every order the engine sent went to the outside broker's outbox, approved, in order.
    let (out, cancels) = live.take_outbox();
    let sent: Vec<&str> = live
        .journal
        .submitted
        .iter()
        .map(|(_, o)| o.id.as_str())
        .collect();
    let boxed: Vec<&str> = out.iter().map(|a| a.order().id.as_str()).collect();
    assert_eq!(boxed, sent);
    assert!(cancels.is_empty());
    assert!(
        sim.take_outbox().0.is_empty(),
        "the simulated broker keeps no outbox"
    );
    assert_eq!(k, fills.len());
    assert!(expired > 0, "partly filled DAY orders expire at the broker");
    assert_eq!(dump(&live), dump(&sim));
    live.ledger.reconcile(Some(&live.journal.fills)).unwrap();
    assert_eq!(live.ledger.cash, sim.ledger.cash);
}

#[test]
fn broker_reports_that_do_not_fit_are_refused_and_change_nothing() {
    let bars = goog();
    let mut e = engine(true);
    for b in &bars[..40] {
        e.on_bar(b).unwrap();
    }
    // Nothing fills without the broker: orders stay working.
    assert!(e.journal.fills.is_empty());
    let working: Vec<(String, i64)> = e
        .broker
        .working()
        .map(|w| (w.req.id.clone(), w.req.qty))
        .collect();
    assert!(
        !working.is_empty(),
        "some strategy has an order out by bar 40"
    );
    let (id, qty) = working[0].clone();
    let now = bars[40].ts_recv;
    let cash = e.ledger.cash;
    let err = e.on_fill("no-such-order", 1, Money::units(100), now, now);
    assert!(matches!(err, Err(EngineError::Broker { .. })), "{err:?}");
    let err = e.on_fill(&id, qty + 1, Money::units(100), now, now);
    assert!(
        matches!(&err, Err(EngineError::Broker { reason }) if reason.contains("left to fill")),
        "{err:?}"
    );
    let err = e.on_fill(&id, 1, Money::units(100), now, bars[39].ts_recv);
    assert!(matches!(err, Err(EngineError::Late { .. })), "{err:?}");
    assert_eq!(e.ledger.cash, cash);
    assert!(e.journal.fills.is_empty());
    // A partial execution, then the broker's rejection of the rest.
    let f = e.on_fill(&id, 1, Money::units(100), now, now).unwrap();
    assert_eq!(f.qty, 1);
    assert!(
        e.on_order_status(&id, OrderStatus::Rejected, "RMS: margin", now)
            .unwrap()
    );
    assert!(
        !e.on_order_status(&id, OrderStatus::Rejected, "again", now)
            .unwrap()
    );
    assert!(e.broker.working().all(|w| w.req.id != id));
    let last = e.journal.order_events.last().unwrap();
    assert_eq!(
        (last.status, last.filled, last.reason.as_str()),
        (OrderStatus::Rejected, 1, "RMS: margin")
    );
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    // A status that is not an end is not a broker's to set: a working order stays working.
    let mut k = 41;
    while e.broker.working().next().is_none() {
        e.on_bar(&bars[k]).unwrap();
        k += 1;
    }
    let other = e.broker.working().next().unwrap().req.id.clone();
    let now = bars[k - 1].ts_recv;
    assert!(
        !e.on_order_status(&other, OrderStatus::Filled, "", now)
            .unwrap()
    );
    assert!(e.broker.working().any(|w| w.req.id == other));
}

#[test]
fn the_kill_switch_asks_the_outside_broker_to_cancel_and_flattens() {
    let bars = goog();
    let mut e = engine(true);
    e.risk.limits.max_drawdown = Some(0.02);
    let mut i = 0;
    // Run until one order is out, and fill half of it at three times the price: a large loss.
    while e.broker.working().next().is_none() {
        e.on_bar(&bars[i]).unwrap();
        i += 1;
    }
    let _ = e.take_outbox();
    let w = e.broker.working().next().unwrap().clone();
    let px = Money::from_f64(bars[i].open * 3.0).unwrap();
    let half = w.req.qty / 2;
    e.on_fill(&w.req.id, half, px, bars[i].ts_event, bars[i].ts_recv)
        .unwrap();
    // More orders go out while the loss is not yet marked.
    e.on_bar(&bars[i]).unwrap();
    i += 1;
    let _ = e.take_outbox();
    let working: Vec<String> = e.broker.working().map(|w| w.req.id.clone()).collect();
    assert!(
        !working.is_empty(),
        "an order is working when the switch trips"
    );
    // The next instant closes with the drawdown: the kill switch trips.
    e.on_bar(&bars[i]).unwrap();
    let kill = e
        .journal
        .risk
        .iter()
        .find(|r| r.check == "kill_switch")
        .expect("kill switch tripped");
    assert!(kill.detail.contains("drawdown"), "{kill:?}");
    let (orders, cancels) = e.take_outbox();
    // Every order that was working is to be cancelled at the broker, and stays working here
    // until the broker says it is cancelled (it may still fill meanwhile).
    assert_eq!(cancels, working);
    for id in &working {
        assert!(e.broker.working().any(|w| &w.req.id == id));
    }
    // The filled position is flattened by an approved order to the broker.
    let flat: Vec<_> = orders
        .iter()
        .filter(|a| a.order().side != w.req.side && a.order().qty == half)
        .collect();
    assert_eq!(flat.len(), 1, "{orders:?}");
    for id in &working {
        assert!(
            e.on_order_status(
                id,
                OrderStatus::Cancelled,
                "upstox: cancelled",
                bars[i].ts_recv
            )
            .unwrap()
        );
    }
    assert!(e.broker.working().all(|x| x.req.id == flat[0].order().id));
}
