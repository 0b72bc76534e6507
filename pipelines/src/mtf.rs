//! Multi-timeframe context: a higher timeframe's state seen from a lower one, built from the
//! lower bars themselves (through the [`Resampler`]) and using **completed** higher bars only.
//! A higher bar enters the state only once the resampler emits it, i.e. once its end has passed,
//! and its `ts_recv` is then ≤ the lower bar being processed: a 5-minute bar at 11:00 sees
//! yesterday's daily trend, never today's unfinished one.

use elite_warehouse::{Timeframe, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::calendar::Calendar;
use crate::indicators::{Ema, Indicator, Rsi, Sma};
use crate::resample::{OutBar, Resampler, TimedBar};

/// The higher timeframe as known at a lower bar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HigherState {
    /// +1 when EMA(fast) > EMA(slow) on the higher closes, −1 when below, 0 when equal.
    pub trend: i8,
    pub ema_fast: f64,
    pub ema_slow: f64,
    /// close / SMA(20) − 1 on the higher timeframe.
    pub dist_sma_20: Option<f64>,
    pub rsi_14: Option<f64>,
    /// When the last higher bar used became knowable.
    pub as_of: Timestamp,
}

/// Tracks a higher timeframe's trend from lower-timeframe bars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MtfTrend {
    resampler: Resampler,
    fast: Ema,
    slow: Ema,
    sma: Sma,
    rsi: Rsi,
    dist: Option<f64>,
    rsi_v: Option<f64>,
    state: Option<HigherState>,
    #[serde(skip)]
    scratch: Vec<OutBar>,
}

impl MtfTrend {
    /// Higher timeframe `higher` along `cal`, trend from EMA(`fast`) vs EMA(`slow`) of its closes.
    pub fn new(cal: Calendar, higher: Timeframe, fast: usize, slow: usize) -> Result<Self> {
        Ok(Self {
            resampler: Resampler::new(cal, higher)?,
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            sma: Sma::new(20)?,
            rsi: Rsi::new(14)?,
            dist: None,
            rsi_v: None,
            state: None,
            scratch: Vec::with_capacity(2),
        })
    }

    /// Feed one lower bar (after it closed); the higher state as of its `ts_recv`.
    pub fn update(&mut self, lower: &TimedBar) -> Option<HigherState> {
        self.scratch.clear();
        self.resampler.update(lower, &mut self.scratch);
        self.resampler.on_time(lower.ts_recv, &mut self.scratch);
        for i in 0..self.scratch.len() {
            let hb = self.scratch[i];
            let c = hb.bar.close;
            let (f, s) = (self.fast.update(c), self.slow.update(c));
            self.dist = self.sma.update(c).map(|m| c / m - 1.0);
            self.rsi_v = self.rsi.update(c).or(self.rsi_v);
            if let (Some(f), Some(s)) = (f, s) {
                let trend = if f > s {
                    1
                } else if f < s {
                    -1
                } else {
                    0
                };
                self.state = Some(HigherState {
                    trend,
                    ema_fast: f,
                    ema_slow: s,
                    dist_sma_20: self.dist,
                    rsi_14: self.rsi_v,
                    as_of: hb.ts_recv,
                });
            }
        }
        self.state
    }
}
