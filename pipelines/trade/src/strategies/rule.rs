//! Per-symbol rules: a strategy that keeps one rule state per symbol and trades toward the
//! direction the rule decides on each closed bar.

use elite_pipelines::indicators::Ohlcv;

use super::Sizing;
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// A per-symbol rule: given the bar, the wanted direction (`Some(+1 | 0 | -1)`) or no change.
pub(crate) trait Rule {
    fn decide(&mut self, bar: &Ohlcv, holding: i64) -> Option<i64>;
}

/// A strategy made of one fresh rule (from `make`) per symbol.
pub(crate) struct PerSymbol<R, F> {
    name: String,
    size: Sizing,
    make: F,
    state: Vec<Option<R>>,
}

impl<R: Rule, F: Fn() -> R> PerSymbol<R, F> {
    pub(crate) fn new(name: &str, size: Sizing, make: F) -> Self {
        PerSymbol {
            name: name.into(),
            size,
            make,
            state: vec![],
        }
    }
}

impl<R: Rule, F: Fn() -> R> Strategy for PerSymbol<R, F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let r = self.state[i].get_or_insert_with(&self.make);
        let ohlcv = Ohlcv {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        let holding = ctx.exposure(bar.sym).signum();
        if let Some(dir) = r.decide(&ohlcv, holding)
            && dir != holding
        {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}
