//! SMA crossover: long when the fast SMA crosses above the slow one, flat (or short) when it
//! crosses below.

use elite_pipelines::indicators::{Indicator, Sma};
use serde::{Deserialize, Serialize};

use super::{Sizing, bad, indicator};
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// Settings of [`StrategySpec::SmaCross`](super::StrategySpec::SmaCross).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmaCrossConfig {
    pub fast: usize,
    pub slow: usize,
    /// Short on the downward cross instead of going flat.
    #[serde(default)]
    pub short: bool,
    #[serde(default)]
    pub size: Sizing,
}

impl Default for SmaCrossConfig {
    fn default() -> Self {
        Self {
            fast: 10,
            slow: 30,
            short: false,
            size: Sizing::default(),
        }
    }
}

impl SmaCrossConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let (fast, slow) = (self.fast, self.slow);
        if fast >= slow {
            return Err(bad(
                name,
                format!("fast ({fast}) must be shorter than slow ({slow})"),
            ));
        }
        let fresh = (
            Sma::new(fast).map_err(indicator(name))?,
            Sma::new(slow).map_err(indicator(name))?,
            0.0,
        );
        Ok(Box::new(SmaCross {
            name: name.into(),
            fresh,
            short: self.short,
            size: self.size,
            state: vec![],
        }))
    }
}

/// SMA crossover, written out for the benchmark's hot loop (two running sums per symbol).
struct SmaCross {
    name: String,
    /// A symbol's state before its first bar: (fast SMA, slow SMA, last non-zero difference).
    fresh: (Sma, Sma, f64),
    short: bool,
    size: Sizing,
    state: Vec<Option<(Sma, Sma, f64)>>,
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let st = self.state[i].get_or_insert_with(|| self.fresh.clone());
        let f = st.0.update(bar.close);
        let s = st.1.update(bar.close);
        let (Some(f), Some(s)) = (f, s) else { return };
        let d = f - s;
        let before = st.2;
        if d != 0.0 {
            st.2 = d; // last non-zero difference, as backtrader's CrossOver keeps it
        }
        if before < 0.0 && d > 0.0 {
            self.size.go(ctx, bar.sym, 1);
        } else if before > 0.0 && d < 0.0 {
            self.size.go(ctx, bar.sym, if self.short { -1 } else { 0 });
        }
    }
}
