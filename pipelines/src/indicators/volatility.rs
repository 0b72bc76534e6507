//! Volatility and channels: true range, ATR, Bollinger Bands, Donchian and Keltner channels,
//! rolling volatility of log returns, z-score.

use super::trend::true_range;
use super::{Ema, Extreme, Indicator, Ohlcv, Ring, Sma, check_period, is_zero_or_neg};
use serde::{Deserialize, Serialize};

/// True range (TA-Lib TRANGE): max(high − low, |high − prev close|, |low − prev close|).
/// First output at input 2.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrueRange {
    prev_close: Option<f64>,
}

impl Indicator for TrueRange {
    type Input = Ohlcv;
    type Output = f64;
    #[inline(always)]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        let out = self.prev_close.map(|pc| true_range(b.high, b.low, pc));
        self.prev_close = Some(b.close);
        out
    }
    fn reset(&mut self) {
        self.prev_close = None;
    }
}

/// Average true range, Wilder's smoothing seeded with the mean of the first `n` true ranges
/// (TA-Lib). First output at input n+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    n: usize,
    tr: TrueRange,
    count: usize,
    value: f64,
}

impl Atr {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("atr", n, 1)?;
        Ok(Self {
            n,
            tr: TrueRange::default(),
            count: 0,
            value: 0.0,
        })
    }
}

impl Atr {
    /// Warmed up: every later `update` returns `Some(step(high, low, close))`.
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.count >= self.n
    }
    /// `update(bar).unwrap()` once [`ready`](Self::ready), from the three prices it reads.
    #[inline(always)]
    pub fn step(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let prev = self.tr.prev_close.unwrap_or(close);
        self.tr.prev_close = Some(close);
        let tr = true_range(high, low, prev);
        let n = self.n as f64;
        self.count += 1;
        self.value *= n - 1.0;
        self.value += tr;
        self.value /= n;
        self.value
    }
}

impl Indicator for Atr {
    type Input = Ohlcv;
    type Output = f64;
    #[inline(always)]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        if self.ready() {
            return Some(self.step(b.high, b.low, b.close));
        }
        let tr = self.tr.update(b)?;
        let n = self.n as f64;
        self.count += 1;
        if self.count <= self.n {
            self.value += tr;
            if self.count < self.n {
                return None;
            }
            self.value /= n;
            return Some(self.value);
        }
        self.value *= n - 1.0;
        self.value += tr;
        self.value /= n;
        Some(self.value)
    }
    fn reset(&mut self) {
        self.tr.reset();
        self.count = 0;
        self.value = 0.0;
    }
}

/// Upper, middle and lower line of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandsOutput {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// Bollinger Bands; %B and bandwidth are computed on demand.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BbandsOutput {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
    /// The value the bands were computed at.
    pub close: f64,
}

impl BbandsOutput {
    /// (close − lower) / (upper − lower); `None` when the bands meet.
    #[inline]
    pub fn percent_b(&self) -> Option<f64> {
        let width = self.upper - self.lower;
        (width != 0.0).then(|| (self.close - self.lower) / width)
    }
    /// (upper − lower) / middle; `None` when middle is 0.
    #[inline]
    pub fn bandwidth(&self) -> Option<f64> {
        (self.middle != 0.0).then(|| (self.upper - self.lower) / self.middle)
    }
}

/// Bollinger Bands: SMA(n) ± k·σ, σ the population standard deviation of the last n values.
/// The middle is TA-Lib's running-sum SMA; σ comes from a sliding Welford update re-summed every n
/// bars, because mean(x²) − mean² (a running sum of squares) loses up to 1e-8 of σ on FX prices
/// after a few thousand bars, while TA-Lib 0.8's σ is accurate to ~1e-13 (checked against exact
/// rational arithmetic). σ is 0 when the variance is below 1e-14 (TA-Lib). First output at input n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bbands {
    n: usize,
    k: f64,
    sma: Sma,
    mv: MeanVar,
}

impl Bbands {
    pub fn new(n: usize, k: f64) -> crate::Result<Self> {
        check_period("bbands", n, 2)?;
        if !(k.is_finite() && k > 0.0) {
            return Err(crate::error::spec_err(
                "bbands",
                format!("deviation multiplier {k} must be > 0"),
            ));
        }
        Ok(Self {
            n,
            k,
            sma: Sma::new(n)?,
            mv: MeanVar::new(n),
        })
    }
}

impl Indicator for Bbands {
    type Input = f64;
    type Output = BbandsOutput;
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<BbandsOutput> {
        if self.ready() {
            return Some(self.step(x));
        }
        let mid = self.sma.update(x);
        let mv = self.mv.push(x);
        let (middle, (_, m2)) = (mid?, mv?);
        Some(self.bands(x, middle, m2))
    }
    fn reset(&mut self) {
        self.sma.reset();
        self.mv.reset();
    }
}

impl Bbands {
    /// Warmed up: every later `update` returns `Some(step(x))`.
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.sma.ready() && self.mv.ready()
    }
    /// `update(x).unwrap()` once [`ready`](Self::ready).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> BbandsOutput {
        let middle = self.sma.step(x);
        let (_, m2) = self.mv.step(x);
        self.bands(x, middle, m2)
    }
    #[inline(always)]
    fn bands(&self, x: f64, middle: f64, m2: f64) -> BbandsOutput {
        let var = m2 / self.n as f64;
        let sd = if is_zero_or_neg(var) { 0.0 } else { var.sqrt() };
        let dev = sd * self.k;
        BbandsOutput {
            upper: middle + dev,
            middle,
            lower: middle - dev,
            close: x,
        }
    }
}

/// Donchian channel: highest high and lowest low of the last n bars, middle their mean.
/// First output at input n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Donchian {
    hi: Extreme,
    lo: Extreme,
}

impl Donchian {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("donchian", n, 1)?;
        Ok(Self {
            hi: Extreme::new(n, true),
            lo: Extreme::new(n, false),
        })
    }
}

impl Indicator for Donchian {
    type Input = Ohlcv;
    type Output = BandsOutput;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<BandsOutput> {
        let (u, l) = (self.hi.push(b.high), self.lo.push(b.low));
        let (upper, lower) = (u?, l?);
        Some(BandsOutput {
            upper,
            middle: (upper + lower) / 2.0,
            lower,
        })
    }
    fn reset(&mut self) {
        self.hi.reset();
        self.lo.reset();
    }
}

/// Keltner channel: EMA(close, n) ± m·ATR(k). First output when both have warmed up
/// (input max(n, k+1)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    mult: f64,
}

impl Keltner {
    pub fn new(n: usize, atr_n: usize, mult: f64) -> crate::Result<Self> {
        if !(mult.is_finite() && mult > 0.0) {
            return Err(crate::error::spec_err(
                "keltner",
                format!("multiplier {mult} must be > 0"),
            ));
        }
        Ok(Self {
            ema: Ema::new(n)?,
            atr: Atr::new(atr_n)?,
            mult,
        })
    }
}

impl Indicator for Keltner {
    type Input = Ohlcv;
    type Output = BandsOutput;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<BandsOutput> {
        let (e, a) = (self.ema.update(b.close), self.atr.update(b));
        let (middle, atr) = (e?, a?);
        Some(BandsOutput {
            upper: middle + self.mult * atr,
            middle,
            lower: middle - self.mult * atr,
        })
    }
    fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
    }
}

/// Sliding mean and sum of squared deviations over the last n values (Welford's update for a
/// window, re-summed from the window every n updates so rounding cannot drift).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct MeanVar {
    window: Ring<f64>,
    inv_n: f64,
    mean: f64,
    m2: f64,
    since_resum: usize,
}

impl MeanVar {
    pub fn new(n: usize) -> Self {
        Self {
            window: Ring::new(n),
            inv_n: 1.0 / n.max(1) as f64,
            mean: 0.0,
            m2: 0.0,
            since_resum: 0,
        }
    }
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.window.is_full()
    }
    /// `push(x).unwrap()` once the window is full.
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> (f64, f64) {
        let n = self.window.cap();
        let old = self.window.push_full(x);
        self.slide(x, old, n);
        (self.mean, self.m2)
    }
    #[inline(always)]
    fn slide(&mut self, x: f64, old: f64, n: usize) {
        self.since_resum += 1;
        if self.since_resum >= n {
            self.since_resum = 0;
            let mut s = 0.0;
            for v in self.window.iter() {
                s += v;
            }
            self.mean = s / n as f64;
            let mut m2 = 0.0;
            for v in self.window.iter() {
                m2 += (v - self.mean) * (v - self.mean);
            }
            self.m2 = m2;
        } else {
            let old_mean = self.mean;
            self.mean += (x - old) * self.inv_n;
            self.m2 += (x - old) * (x - self.mean + old - old_mean);
            if self.m2 < 0.0 {
                self.m2 = 0.0;
            }
        }
    }
    /// Push a value; returns (mean, sum of squared deviations) once the window is full.
    #[inline(always)]
    pub fn push(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.window.is_full() {
            return Some(self.step(x));
        }
        let n = self.window.cap();
        match self.window.push(x) {
            None => {
                // Filling: plain Welford.
                let k = self.window.len() as f64;
                let d = x - self.mean;
                self.mean += d / k;
                self.m2 += d * (x - self.mean);
            }
            Some(old) => self.slide(x, old, n),
        }
        self.window.is_full().then_some((self.mean, self.m2))
    }
    pub fn reset(&mut self) {
        self.window.clear();
        self.mean = 0.0;
        self.m2 = 0.0;
        self.since_resum = 0;
    }
}

/// Rolling volatility: the sample standard deviation (n − 1 in the denominator) of the last n
/// log returns, not annualized (multiply by √(bars per year) for that). First output at input n+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volatility {
    prev: Option<f64>,
    mv: MeanVar,
}

impl Volatility {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("volatility", n, 2)?;
        Ok(Self {
            prev: None,
            mv: MeanVar::new(n),
        })
    }
}

impl Indicator for Volatility {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x)?;
        let r = (x / prev).ln();
        let (_, m2) = self.mv.push(r)?;
        Some((m2 / (self.mv.window.cap() - 1) as f64).sqrt())
    }
    fn reset(&mut self) {
        self.prev = None;
        self.mv.reset();
    }
}

/// Z-score of the newest value against the last n values (population σ); `None` while the
/// window is flat. First output at input n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZScore {
    mv: MeanVar,
}

impl ZScore {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("zscore", n, 2)?;
        Ok(Self {
            mv: MeanVar::new(n),
        })
    }
}

impl Indicator for ZScore {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let (mean, m2) = self.mv.push(x)?;
        let sd = (m2 / self.mv.window.cap() as f64).sqrt();
        (sd > 0.0).then(|| (x - mean) / sd)
    }
    fn reset(&mut self) {
        self.mv.reset();
    }
}
