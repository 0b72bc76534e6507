//! Volume indicators: on-balance volume and session-anchored VWAP.

use super::{Indicator, Ohlcv};
use serde::{Deserialize, Serialize};

/// On-balance volume (TA-Lib): starts at the first bar's volume, then adds the volume on an up
/// close and subtracts it on a down close. No warm-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Obv {
    prev_close: Option<f64>,
    value: f64,
}

impl Indicator for Obv {
    type Input = Ohlcv;
    type Output = f64;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        match self.prev_close {
            None => self.value = b.volume,
            Some(p) if b.close > p => self.value += b.volume,
            Some(p) if b.close < p => self.value -= b.volume,
            Some(_) => {}
        }
        self.prev_close = Some(b.close);
        Some(self.value)
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
}

/// A bar and the session it belongs to (a session id from a calendar, e.g. the trading date).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VwapInput {
    pub session: i64,
    pub bar: Ohlcv,
}

/// Session-anchored VWAP: Σ typical price · volume / Σ volume since the session began, restarting
/// when the session id changes. `None` until the session has traded volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vwap {
    session: Option<i64>,
    pv: f64,
    v: f64,
}

impl Indicator for Vwap {
    type Input = VwapInput;
    type Output = f64;
    #[inline]
    fn update(&mut self, i: VwapInput) -> Option<f64> {
        if self.session != Some(i.session) {
            self.session = Some(i.session);
            self.pv = 0.0;
            self.v = 0.0;
        }
        self.pv += i.bar.typical() * i.bar.volume;
        self.v += i.bar.volume;
        (self.v > 0.0).then(|| self.pv / self.v)
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
}
