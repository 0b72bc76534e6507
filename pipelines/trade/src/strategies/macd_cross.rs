//! Momentum: long while the MACD line is above its signal line (entered on the cross).

use elite_pipelines::indicators::{Indicator, Macd, Ohlcv};
use serde::{Deserialize, Serialize};

use super::rule::{PerSymbol, Rule};
use super::{Sizing, indicator};
use crate::engine::Strategy;

/// Settings of [`StrategySpec::MacdCross`](super::StrategySpec::MacdCross).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacdCrossConfig {
    #[serde(default = "d_fast")]
    pub fast: usize,
    #[serde(default = "d_slow")]
    pub slow: usize,
    #[serde(default = "d_signal")]
    pub signal: usize,
    #[serde(default)]
    pub size: Sizing,
}

fn d_fast() -> usize {
    12
}
fn d_slow() -> usize {
    26
}
fn d_signal() -> usize {
    9
}

impl Default for MacdCrossConfig {
    fn default() -> Self {
        Self {
            fast: d_fast(),
            slow: d_slow(),
            signal: d_signal(),
            size: Sizing::default(),
        }
    }
}

impl MacdCrossConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let macd = Macd::new(self.fast, self.slow, self.signal).map_err(indicator(name))?;
        Ok(Box::new(PerSymbol::new(name, self.size, move || MacdX {
            macd: macd.clone(),
        })))
    }
}

struct MacdX {
    macd: Macd,
}

impl Rule for MacdX {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let o = self.macd.update(b.close)?;
        match (holding, o.line > o.signal) {
            (0, true) => Some(1),
            (h, false) if h > 0 => Some(0),
            _ => None,
        }
    }
}
