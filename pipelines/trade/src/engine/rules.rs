//! Exit rules the engine applies to every strategy's positions: stop-loss, trailing stop,
//! break-even and partial take-profit.

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::order::OrderRequest;
use crate::types::{Bar, Side};

/// Exit rules, applied by the engine to each strategy's position in each symbol at every bar's
/// close (before the strategy sees the bar), as market orders that fill at the next bar:
/// a stop-loss `stop_loss_pct` below the entry (average) price; a trailing stop
/// `trailing_stop_pct` below the best close since entry; the stop moved to the entry price once
/// the position is up `break_even_at_pct`; and partial profit booking — each take-profit target
/// sells `exit_pct` of the position's largest size once it is up `at_pct` (in order). Shorts
/// mirror. Percentages are in percent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExitRules {
    pub stop_loss_pct: Option<f64>,
    pub trailing_stop_pct: Option<f64>,
    pub break_even_at_pct: Option<f64>,
    pub take_profit: Vec<TakeProfit>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeProfit {
    pub at_pct: f64,
    pub exit_pct: f64,
}

/// Rule state of one (strategy, symbol) position.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RuleState {
    dir: i64,
    size: i64,
    best: f64,
    targets_hit: usize,
    break_even: bool,
    exiting: bool,
}

impl Engine {
    /// Exit rules on this bar's symbol, for every strategy's position: exit orders join the
    /// requests (they pass risk like any other, as reductions).
    pub(super) fn apply_rules(&mut self, bar: &Bar) {
        let Some(rules) = &self.rules else { return };
        let i = bar.sym as usize;
        if self.rule_state.len() < self.subs.len() {
            self.rule_state.resize(self.subs.len(), vec![]);
        }
        for (k, (sub, name)) in self.subs.iter().zip(&self.names).enumerate() {
            let states = &mut self.rule_state[k];
            if states.len() <= i {
                states.resize(i + 1, RuleState::default());
            }
            let st = &mut states[i];
            let pos = sub.ledger.position(bar.sym);
            let dir = pos.qty.signum();
            if dir == 0 || dir != st.dir {
                *st = RuleState {
                    dir,
                    size: pos.qty.abs(),
                    best: bar.close,
                    ..Default::default()
                };
                if dir == 0 {
                    continue;
                }
            }
            st.size = st.size.max(pos.qty.abs());
            let entry = pos.avg_price().to_f64();
            if entry <= 0.0 || st.exiting {
                continue;
            }
            let d = dir as f64;
            st.best = if dir > 0 {
                st.best.max(bar.close)
            } else {
                st.best.min(bar.close)
            };
            let gain = d * (bar.close / entry - 1.0) * 100.0;
            if rules.break_even_at_pct.is_some_and(|b| gain >= b) {
                st.break_even = true;
            }
            // Any of stop-loss, trailing and break-even levels reached by the close.
            let reached = |level: f64| d * (bar.close - level) <= 0.0;
            let hit = rules
                .stop_loss_pct
                .is_some_and(|sl| reached(entry * (1.0 - d * sl / 100.0)))
                || rules
                    .trailing_stop_pct
                    .is_some_and(|tr| reached(st.best * (1.0 - d * tr / 100.0)))
                || st.break_even && reached(entry);
            let mut exit_qty = 0;
            let mut why = String::new();
            if hit {
                exit_qty = pos.qty.abs();
                why = "stop".into();
            } else {
                let mut left = pos.qty.abs();
                while let Some(t) = rules.take_profit.get(st.targets_hit) {
                    if gain < t.at_pct {
                        break;
                    }
                    let q = ((st.size as f64 * t.exit_pct / 100.0).round() as i64).min(left);
                    exit_qty += q;
                    left -= q;
                    st.targets_hit += 1;
                    why = format!("take_profit_{}", st.targets_hit);
                }
            }
            if exit_qty > 0 {
                if exit_qty == pos.qty.abs() {
                    st.exiting = true;
                }
                let side = if dir > 0 { Side::Sell } else { Side::Buy };
                let mut o = OrderRequest::market(
                    format!("rule-{name}-{}-{i}-{why}", bar.ts_recv.as_nanos()),
                    bar.sym,
                    side,
                    exit_qty,
                );
                o.tag = name.clone();
                self.requests.push(o);
            }
        }
    }
}
