//! Moving averages: SMA, EMA, WMA, DEMA, TEMA (TA-Lib's seeding and summation order).

use super::{Indicator, Ring, check_period};
use serde::{Deserialize, Serialize};

/// Simple moving average over `n` values. First output at the n-th input. A running sum as in
/// TA-Lib (add the newest, divide, subtract the oldest), so it matches TA-Lib's rounding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    n: usize,
    sum: f64,
    window: Ring<f64>,
}

impl Sma {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("sma", n, 1)?;
        Ok(Self {
            n,
            sum: 0.0,
            window: Ring::new(n),
        })
    }
}

impl Sma {
    /// Warmed up: every later `update` returns `Some(step(x))`.
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.window.is_full()
    }
    /// `update(x).unwrap()` once [`ready`](Self::ready): the same arithmetic, no warm-up branches.
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let oldest = self.window.roll(x);
        self.sum += x;
        let out = self.sum / self.n as f64;
        self.sum -= oldest;
        out
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<f64> {
        if self.window.is_full() {
            return Some(self.step(x));
        }
        self.window.push(x);
        self.sum += x;
        if !self.window.is_full() {
            return None;
        }
        let out = self.sum / self.n as f64;
        // The oldest value leaves the window at the next update; subtract it now as TA-Lib does.
        self.sum -= self.window.oldest().unwrap_or(0.0);
        Some(out)
    }
    fn reset(&mut self) {
        self.sum = 0.0;
        self.window.clear();
    }
}

/// Exponential moving average, k = 2 / (n + 1), seeded with the SMA of the first `n` values
/// (TA-Lib's default). First output at the n-th input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    n: usize,
    k: f64,
    count: usize,
    seed_sum: f64,
    value: f64,
}

impl Ema {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("ema", n, 1)?;
        Ok(Self {
            n,
            k: 2.0 / (n as f64 + 1.0),
            count: 0,
            seed_sum: 0.0,
            value: 0.0,
        })
    }
    /// Start from an already computed seed (used by MACD, which seeds its fast EMA late).
    pub(crate) fn seed(&mut self, value: f64) {
        self.count = self.n;
        self.value = value;
    }
    /// Warmed up: every later `update` returns `Some(step(x))`.
    #[inline(always)]
    pub fn is_ready(&self) -> bool {
        self.count >= self.n
    }
    /// `update(x).unwrap()` once [`is_ready`](Self::is_ready).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.value += (x - self.value) * self.k;
        self.value
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<f64> {
        if self.count < self.n {
            self.seed_sum += x;
            self.count += 1;
            if self.count < self.n {
                return None;
            }
            self.value = self.seed_sum / self.n as f64;
            return Some(self.value);
        }
        Some(self.step(x))
    }
    fn reset(&mut self) {
        self.count = 0;
        self.seed_sum = 0.0;
        self.value = 0.0;
    }
}

/// Weighted moving average (weights 1..n, newest heaviest) with TA-Lib's O(1) update of the
/// weighted sum. First output at the n-th input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wma {
    n: usize,
    count: usize,
    period_sum: f64,
    period_sub: f64,
    trailing: f64,
    window: Ring<f64>,
}

impl Wma {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("wma", n, 1)?;
        Ok(Self {
            n,
            count: 0,
            period_sum: 0.0,
            period_sub: 0.0,
            trailing: 0.0,
            window: Ring::new(n),
        })
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        self.count += 1;
        if self.count < self.n {
            self.period_sub += x;
            self.period_sum += x * self.count as f64;
            return None;
        }
        let n = self.n as f64;
        self.period_sub += x;
        self.period_sub -= self.trailing;
        self.period_sum += x * n;
        self.trailing = self.window.oldest().unwrap_or(0.0);
        let out = self.period_sum / ((self.n * (self.n + 1)) / 2) as f64;
        self.period_sum -= self.period_sub;
        Some(out)
    }
    fn reset(&mut self) {
        *self = Self {
            n: self.n,
            count: 0,
            period_sum: 0.0,
            period_sub: 0.0,
            trailing: 0.0,
            window: Ring::new(self.n),
        };
    }
}

/// Double EMA: 2·EMA(x) − EMA(EMA(x)). First output at input 2(n−1)+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("dema", n, 1)?;
        Ok(Self {
            e1: Ema::new(n)?,
            e2: Ema::new(n)?,
        })
    }
}

impl Indicator for Dema {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.update(x)?;
        let b = self.e2.update(a)?;
        Some(2.0 * a - b)
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
    }
}

/// Triple EMA: 3·e1 − 3·e2 + e3. First output at input 3(n−1)+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("tema", n, 1)?;
        Ok(Self {
            e1: Ema::new(n)?,
            e2: Ema::new(n)?,
            e3: Ema::new(n)?,
        })
    }
}

impl Indicator for Tema {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.update(x)?;
        let b = self.e2.update(a)?;
        let c = self.e3.update(b)?;
        Some(c + (3.0 * a - 3.0 * b))
    }
    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
        self.e3.reset();
    }
}
