//! Mean reversion on Bollinger bands: long below the lower band, exit at the middle band.

use elite_pipelines::indicators::{Bbands, Indicator, Ohlcv};
use serde::{Deserialize, Serialize};

use super::rule::{PerSymbol, Rule};
use super::{Sizing, indicator};
use crate::engine::Strategy;

/// Settings of [`StrategySpec::Bollinger`](super::StrategySpec::Bollinger).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BollingerConfig {
    #[serde(default = "d_period")]
    pub period: usize,
    /// Band width in standard deviations.
    #[serde(default = "d_k")]
    pub k: f64,
    #[serde(default)]
    pub size: Sizing,
}

fn d_period() -> usize {
    20
}
fn d_k() -> f64 {
    2.0
}

impl Default for BollingerConfig {
    fn default() -> Self {
        Self {
            period: d_period(),
            k: d_k(),
            size: Sizing::default(),
        }
    }
}

impl BollingerConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let bb = Bbands::new(self.period, self.k).map_err(indicator(name))?;
        Ok(Box::new(PerSymbol::new(name, self.size, move || Boll {
            bb: bb.clone(),
        })))
    }
}

struct Boll {
    bb: Bbands,
}

impl Rule for Boll {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let o = self.bb.update(b.close)?;
        if holding == 0 && b.close < o.lower {
            Some(1)
        } else if holding > 0 && b.close > o.middle {
            Some(0)
        } else {
            None
        }
    }
}
