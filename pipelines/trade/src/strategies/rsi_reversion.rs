//! Mean reversion on RSI: long when RSI < `low`, exit when RSI > `exit`.

use elite_pipelines::indicators::{Indicator, Ohlcv, Rsi};
use serde::{Deserialize, Serialize};

use super::rule::{PerSymbol, Rule};
use super::{Sizing, indicator};
use crate::engine::Strategy;

/// Settings of [`StrategySpec::RsiReversion`](super::StrategySpec::RsiReversion).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsiReversionConfig {
    #[serde(default = "d_period")]
    pub period: usize,
    #[serde(default = "d_low")]
    pub low: f64,
    #[serde(default = "d_exit")]
    pub exit: f64,
    #[serde(default)]
    pub size: Sizing,
}

fn d_period() -> usize {
    14
}
fn d_low() -> f64 {
    30.0
}
fn d_exit() -> f64 {
    50.0
}

impl Default for RsiReversionConfig {
    fn default() -> Self {
        Self {
            period: d_period(),
            low: d_low(),
            exit: d_exit(),
            size: Sizing::default(),
        }
    }
}

impl RsiReversionConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let rsi = Rsi::new(self.period).map_err(indicator(name))?;
        let (low, exit) = (self.low, self.exit);
        Ok(Box::new(PerSymbol::new(name, self.size, move || RsiRev {
            rsi: rsi.clone(),
            low,
            exit,
        })))
    }
}

struct RsiRev {
    rsi: Rsi,
    low: f64,
    exit: f64,
}

impl Rule for RsiRev {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let r = self.rsi.update(b.close)?;
        if holding == 0 && r < self.low {
            Some(1)
        } else if holding > 0 && r > self.exit {
            Some(0)
        } else {
            None
        }
    }
}
