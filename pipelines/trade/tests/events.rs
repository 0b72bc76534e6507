//! The event-driven strategy by hand: enters on a recorded rule signal once it is known, holds
//! `hold` bars from the last event, skips weak or other rules, and is flat before a holiday.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use elite_trade::Money;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::Bar;
use elite_trade::strategies::{
    EventConfig, Events, Inputs, SignalEvent as Event, Sizing, StrategySpec,
};
use elite_warehouse::Timestamp;

const DAY: i64 = 86_400_000_000_000;
/// 2019-07-01, a Monday.
const START: i64 = 18_078 * DAY;

/// Weekday bars from 2019-07-01 (Mon) on: bar k's date, skipping weekends.
fn day(k: usize) -> i64 {
    let weeks = (k / 5) as i64;
    START + (weeks * 7 + (k % 5) as i64) * DAY
}

fn bar(k: usize) -> Bar {
    let c = 100.0 + k as f64;
    Bar {
        sym: 0,
        ts_event: Timestamp::from_nanos(day(k)),
        ts_recv: Timestamp::from_nanos(day(k) + DAY / 2),
        open: c,
        high: c + 1.0,
        low: c - 1.0,
        close: c,
        volume: 1e6,
    }
}

fn ev(rule: &str, direction: i8, strength: f64, known: i64) -> Event {
    Event {
        rule: rule.into(),
        direction,
        strength,
        known,
    }
}

/// Fills as (bar index, signed qty).
fn run(events: Events, hold: usize, calendar: bool, short: bool) -> Vec<(usize, i64)> {
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
    let spec = StrategySpec::Event(EventConfig {
        rules: vec!["rsi_reversion".into()],
        min_strength: 0.5,
        hold,
        short,
        calendar: calendar.then(|| "NYSE".to_string()),
        size: Sizing::Shares(10),
    });
    // 2019-07-04 (Thursday, bar 3) is a holiday.
    let holidays: BTreeSet<chrono::NaiveDate> =
        [chrono::NaiveDate::from_ymd_opt(2019, 7, 4).unwrap()].into();
    let inputs = Inputs {
        events,
        holidays: HashMap::from([("NYSE".to_string(), Arc::new(holidays))]),
        ..Default::default()
    };
    e.add(
        spec.build_with("events", &["A".into()], &inputs).unwrap(),
        1.0,
    );
    e.inputs = inputs;
    let days: Vec<i64> = (0..30).map(day).collect();
    for k in 0..30 {
        e.on_bar(&bar(k)).unwrap();
    }
    e.finish();
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    e.journal
        .fills
        .iter()
        .map(|f| {
            let k = days.iter().position(|d| *d == f.ts.as_nanos()).unwrap();
            (k, f.qty * f.side.sign())
        })
        .collect()
}

fn at(k: usize, list: Vec<Event>) -> ((u32, i64), Vec<Event>) {
    ((0, day(k)), list)
}

#[test]
fn enters_on_a_known_event_and_exits_after_hold_bars() {
    let known = |k: usize| day(k) + DAY / 2;
    let events: Events = [
        at(6, vec![ev("rsi_reversion", 1, 0.8, known(6))]),
        // Renewed at bar 9: the hold restarts.
        at(9, vec![ev("rsi_reversion", 1, 0.9, known(9))]),
        // Too weak, another rule, not yet known at its bar's close: all ignored.
        at(20, vec![ev("rsi_reversion", 1, 0.3, known(20))]),
        at(21, vec![ev("macd_cross", 1, 1.0, known(21))]),
        at(22, vec![ev("rsi_reversion", 1, 1.0, known(22) + 1)]),
    ]
    .into();
    // Enter at bar 7's open; the last event at bar 9 + hold 5 = exit decided at bar 14, filled 15.
    assert_eq!(run(events, 5, false, false), vec![(7, 10), (15, -10)]);
}

#[test]
fn a_short_signal_is_a_short_only_when_allowed() {
    let known = |k: usize| day(k) + DAY / 2;
    let events: Events = [at(10, vec![ev("rsi_reversion", -1, 0.9, known(10))])].into();
    assert_eq!(run(events.clone(), 3, false, false), vec![]);
    assert_eq!(run(events, 3, false, true), vec![(11, -10), (14, 10)]);
}

#[test]
fn flat_by_the_close_before_a_holiday_and_no_entry_into_it() {
    let known = |k: usize| day(k) + DAY / 2;
    // Thursday 4 July is a holiday (bar 3 in this synthetic series). The event of bar 0 (Mon)
    // fills at bar 1's open (Tue); at Tuesday's close the holiday is two weekdays away, so the
    // exit fills at Wednesday's open and the book is flat at Wednesday's close; the event of
    // bar 1 itself is not entered.
    let events: Events = [
        at(0, vec![ev("rsi_reversion", 1, 0.9, known(0))]),
        at(1, vec![ev("rsi_reversion", 1, 0.9, known(1))]),
    ]
    .into();
    assert_eq!(
        run(events.clone(), 10, true, false),
        vec![(1, 10), (2, -10)]
    );
    // Without the calendar it holds through: 10 bars from the last event (bar 1).
    assert_eq!(run(events, 10, false, false), vec![(1, 10), (12, -10)]);
}
