//! Trend following: long while close > EMA(period) and the EMA is rising.

use elite_pipelines::indicators::{Ema, Indicator, Ohlcv};
use serde::{Deserialize, Serialize};

use super::rule::{PerSymbol, Rule};
use super::{Sizing, indicator};
use crate::engine::Strategy;

/// Settings of [`StrategySpec::Trend`](super::StrategySpec::Trend).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendConfig {
    #[serde(default = "d_period")]
    pub period: usize,
    #[serde(default)]
    pub size: Sizing,
}

fn d_period() -> usize {
    50
}

impl Default for TrendConfig {
    fn default() -> Self {
        Self {
            period: d_period(),
            size: Sizing::default(),
        }
    }
}

impl TrendConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let ema = Ema::new(self.period).map_err(indicator(name))?;
        Ok(Box::new(PerSymbol::new(name, self.size, move || {
            TrendRule {
                ema: ema.clone(),
                prev: None,
            }
        })))
    }
}

struct TrendRule {
    ema: Ema,
    prev: Option<f64>,
}

impl Rule for TrendRule {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let e = self.ema.update(b.close)?;
        let rising = self.prev.replace(e).is_some_and(|p| e > p);
        let up = b.close > e && rising;
        match (holding, up) {
            (0, true) => Some(1),
            (h, false) if h > 0 => Some(0),
            _ => None,
        }
    }
}
