//! Momentum: long on a close above the prior `period`-bar high, exit below the prior
//! `exit_period`-bar low (Donchian / turtle breakout).

use elite_pipelines::indicators::{Donchian, Indicator, Ohlcv};
use serde::{Deserialize, Serialize};

use super::rule::{PerSymbol, Rule};
use super::{Sizing, indicator};
use crate::engine::Strategy;

/// Settings of [`StrategySpec::Breakout`](super::StrategySpec::Breakout).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakoutConfig {
    #[serde(default = "d_period")]
    pub period: usize,
    #[serde(default = "d_exit_period")]
    pub exit_period: usize,
    #[serde(default)]
    pub size: Sizing,
}

fn d_period() -> usize {
    20
}
fn d_exit_period() -> usize {
    10
}

impl Default for BreakoutConfig {
    fn default() -> Self {
        Self {
            period: d_period(),
            exit_period: d_exit_period(),
            size: Sizing::default(),
        }
    }
}

impl BreakoutConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let entry = Donchian::new(self.period).map_err(indicator(name))?;
        let exit = Donchian::new(self.exit_period).map_err(indicator(name))?;
        Ok(Box::new(PerSymbol::new(name, self.size, move || {
            Breakout {
                entry: entry.clone(),
                exit: exit.clone(),
                prev: None,
            }
        })))
    }
}

struct Breakout {
    entry: Donchian,
    exit: Donchian,
    /// The channels up to the previous bar (a breakout compares with the *prior* extremes).
    prev: Option<(Option<f64>, Option<f64>)>,
}

impl Rule for Breakout {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let hi = self.entry.update(*b).map(|o| o.upper);
        let lo = self.exit.update(*b).map(|o| o.lower);
        let prev = self.prev.replace((hi, lo));
        let (Some(ph), Some(pl)) = prev? else {
            return None;
        };
        if holding == 0 && b.close > ph {
            Some(1)
        } else if holding > 0 && b.close < pl {
            Some(0)
        } else {
            None
        }
    }
}
