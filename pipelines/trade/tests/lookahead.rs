//! No look-ahead in the backtest: on real GOOG daily bars, every built-in strategy together,
//! changing every bar after t changes no order, fill, risk decision or equity point at or before t.

mod common;
use common::goog;

use elite_trade::Money;
use elite_trade::costs::{CostModel, IndiaCharges};
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::risk::RiskLimits;
use elite_trade::sim::{Bar, FillConfig, Slippage};
use elite_trade::strategies::{
    BollingerConfig, BreakoutConfig, MacdCrossConfig, RsiReversionConfig, Sizing, SmaCrossConfig,
    StrategySpec, TrendConfig,
};
use elite_warehouse::Timestamp;
use proptest::prelude::*;

fn specs() -> Vec<StrategySpec> {
    let size = Sizing::Percent(0.15);
    vec![
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
        StrategySpec::Bollinger(BollingerConfig {
            period: 20,
            k: 2.0,
            size,
        }),
        StrategySpec::Breakout(BreakoutConfig {
            period: 20,
            exit_period: 10,
            size,
        }),
        StrategySpec::MacdCross(MacdCrossConfig {
            fast: 12,
            slow: 26,
            signal: 9,
            size,
        }),
        StrategySpec::Trend(TrendConfig { period: 50, size }),
    ]
}

fn run(bars: &[Bar]) -> Engine {
    let cfg = EngineConfig {
        fills: FillConfig {
            slippage: Slippage::SqrtImpact { coef: 0.3 },
            max_participation: 0.05,
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
    let mut e = Engine::new(cfg, 1);
    for (i, s) in specs().iter().enumerate() {
        e.add(
            s.build(&format!("s{i}"), &["GOOG".to_string()]).unwrap(),
            1.0 / 6.0,
        );
    }
    for b in bars {
        e.on_bar(b).unwrap();
    }
    e.finish();
    e
}

fn upto(e: &Engine, t: Timestamp) -> String {
    let j = &e.journal;
    let mut s = String::new();
    for (ts, o) in j.submitted.iter().filter(|(ts, _)| *ts <= t) {
        s += &format!("{ts:?}{}\n", serde_json::to_string(o).unwrap());
    }
    for f in j.fills.iter().filter(|f| f.ts <= t) {
        s += &serde_json::to_string(f).unwrap();
    }
    for r in j.risk.iter().filter(|r| r.ts <= t) {
        s += &serde_json::to_string(r).unwrap();
    }
    for p in j.equity.iter().filter(|p| p.ts <= t) {
        s += &serde_json::to_string(p).unwrap();
    }
    s
}

#[test]
fn the_backtest_trades_and_reconciles() {
    let e = run(&goog());
    assert!(
        e.journal.fills.len() > 100,
        "{} fills",
        e.journal.fills.len()
    );
    e.ledger.reconcile(Some(&e.journal.fills)).unwrap();
    // Each strategy's book reconciles, and the books add up to the account.
    let mut qty = 0;
    let mut fees = elite_trade::Money::ZERO;
    for sub in &e.subs {
        sub.ledger.reconcile(None).unwrap();
        qty += sub.ledger.qty(0);
        fees += sub.ledger.fees.total();
    }
    assert_eq!(qty, e.ledger.qty(0));
    assert_eq!(fees, e.ledger.fees.total());
    // Deterministic: a second run is identical, byte for byte.
    let again = run(&goog());
    assert_eq!(
        serde_json::to_string(&e.journal).unwrap(),
        serde_json::to_string(&again.journal).unwrap()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn future_bars_do_not_change_the_past(t in 60usize..2000, seed in any::<u64>()) {
        let bars = goog();
        let base = run(&bars);
        let mut future = bars.clone();
        let mut x = seed | 1;
        for b in &mut future[t + 1..] {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            let k = 0.5 + (x % 1000) as f64 / 1000.0;
            b.open *= k; b.high *= k * 1.05; b.low *= k * 0.95; b.close *= k; b.volume *= k;
        }
        let changed = run(&future);
        let cut = bars[t].ts_recv;
        prop_assert_eq!(upto(&base, cut), upto(&changed, cut));
        // Control: the future itself did change.
        prop_assert_ne!(upto(&base, bars[bars.len() - 1].ts_recv), upto(&changed, bars[bars.len() - 1].ts_recv));
    }
}
