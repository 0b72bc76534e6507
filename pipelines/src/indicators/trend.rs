//! Directional movement: ADX with +DI and −DI (Wilder, with TA-Lib's seeding).

use super::{Indicator, Ohlcv, check_period, is_zero};
use serde::{Deserialize, Serialize};

/// +DI and −DI (from input n+1) and ADX (from input 2n).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdxOutput {
    pub plus_di: f64,
    pub minus_di: f64,
    pub adx: Option<f64>,
}

/// Wilder's directional movement system as TA-Lib computes it: +DM, −DM and true range are summed
/// over the first n−1 changes, then smoothed as `s − s/n + x`; DI = 100·DM/TR (0 when TR is 0);
/// DX = 100·|+DI − −DI| / (+DI + −DI); ADX is the mean of the first n DX values, then
/// `(adx·(n−1) + dx) / n` (left unchanged on a bar whose TR or DI sum is 0, as TA-Lib does).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adx {
    n: usize,
    count: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    sum_dx: f64,
    adx: f64,
}

impl Adx {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("adx", n, 2)?;
        Ok(Self::fresh(n))
    }
    fn fresh(n: usize) -> Self {
        Self {
            n,
            count: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: 0.0,
        }
    }
}

impl Indicator for Adx {
    type Input = Ohlcv;
    type Output = AdxOutput;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<AdxOutput> {
        self.count += 1;
        if self.count == 1 {
            (self.prev_high, self.prev_low, self.prev_close) = (b.high, b.low, b.close);
            return None;
        }
        let n = self.n as f64;
        let diff_p = b.high - self.prev_high;
        let diff_m = self.prev_low - b.low;
        self.prev_high = b.high;
        self.prev_low = b.low;
        let pdm = if diff_p > 0.0 && diff_p > diff_m {
            diff_p
        } else {
            0.0
        };
        let mdm = if diff_m > 0.0 && diff_m > diff_p {
            diff_m
        } else {
            0.0
        };
        let tr = true_range(b.high, b.low, self.prev_close);
        self.prev_close = b.close;
        // Changes 1..n-1 are summed plainly; from change n on, Wilder's smoothing.
        if self.count <= self.n {
            self.plus_dm += pdm;
            self.minus_dm += mdm;
            self.tr += tr;
            return None;
        }
        self.plus_dm = self.plus_dm - self.plus_dm / n + pdm;
        self.minus_dm = self.minus_dm - self.minus_dm / n + mdm;
        self.tr = self.tr - self.tr / n + tr;
        let (plus_di, minus_di) = if is_zero(self.tr) {
            (0.0, 0.0)
        } else {
            (
                100.0 * (self.plus_dm / self.tr),
                100.0 * (self.minus_dm / self.tr),
            )
        };
        let dx = if is_zero(self.tr) {
            None
        } else {
            let s = minus_di + plus_di;
            (!is_zero(s)).then(|| 100.0 * ((minus_di - plus_di).abs() / s))
        };
        // DX values are numbered from count n+1; the first ADX is at count 2n.
        let adx = if self.count < 2 * self.n {
            self.sum_dx += dx.unwrap_or(0.0);
            None
        } else if self.count == 2 * self.n {
            self.sum_dx += dx.unwrap_or(0.0);
            self.adx = self.sum_dx / n;
            Some(self.adx)
        } else {
            if let Some(dx) = dx {
                self.adx = ((self.adx * (n - 1.0)) + dx) / n;
            }
            Some(self.adx)
        };
        Some(AdxOutput {
            plus_di,
            minus_di,
            adx,
        })
    }
    fn reset(&mut self) {
        *self = Self::fresh(self.n);
    }
}

/// True range of a bar given the previous close (TA-Lib TRANGE).
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut g = high - low;
    let a = (prev_close - high).abs();
    if a > g {
        g = a;
    }
    let c = (prev_close - low).abs();
    if c > g {
        g = c;
    }
    g
}
