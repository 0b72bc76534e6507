//! Oscillators and momentum: RSI, MACD, Stochastic, Williams %R, CCI, MFI, ROC, momentum.

use super::{Ema, Extreme, Indicator, Ohlcv, Ring, Sma, check_period, is_zero};
use serde::{Deserialize, Serialize};

/// Relative Strength Index with Wilder's smoothing. Seeded with the plain average gain and loss of
/// the first `n` changes (TA-Lib's default, not Metastock's), so the first output is at input n+1.
/// 0 when there was neither gain nor loss (TA-Lib).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    n: usize,
    count: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("rsi", n, 2)?;
        Ok(Self {
            n,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }
    /// Warmed up: every later `update` returns `Some(step(x))`.
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.count > self.n
    }
    /// `update(x).unwrap()` once [`ready`](Self::ready).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.count += 1;
        let d = x - self.prev;
        self.prev = x;
        self.smooth(d)
    }
    /// Wilder's smoothing of one change. The gain/loss choice is a select, not a branch (a random
    /// walk's sign cannot be predicted); adding or subtracting 0.0 leaves the other side's bits.
    #[inline(always)]
    fn smooth(&mut self, d: f64) -> f64 {
        let n = self.n as f64;
        let (down, up) = if d < 0.0 { (d, 0.0) } else { (0.0, d) };
        self.loss *= n - 1.0;
        self.gain *= n - 1.0;
        self.loss -= down;
        self.gain += up;
        self.loss /= n;
        self.gain /= n;
        self.value()
    }
    #[inline(always)]
    fn value(&self) -> f64 {
        let t = self.gain + self.loss;
        if is_zero(t) {
            0.0
        } else {
            100.0 * (self.gain / t)
        }
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<f64> {
        let n = self.n as f64;
        self.count += 1;
        if self.count == 1 {
            self.prev = x;
            return None;
        }
        let d = x - self.prev;
        self.prev = x;
        if self.count <= self.n + 1 {
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            if self.count < self.n + 1 {
                return None;
            }
            self.loss /= n;
            self.gain /= n;
            return Some(self.value());
        }
        Some(self.smooth(d))
    }
    fn reset(&mut self) {
        *self = Self {
            n: self.n,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        };
    }
}

/// MACD line, signal and histogram.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacdOutput {
    pub line: f64,
    pub signal: f64,
    pub hist: f64,
}

/// MACD(fast, slow, signal) as TA-Lib computes it: the slow EMA is seeded with the SMA of the
/// first `slow` values, and the fast EMA is seeded *at the same bar* with the SMA of the last
/// `fast` values (not at bar `fast`); the signal is an EMA of the line seeded with the SMA of its
/// first `signal` values. All three outputs start at input slow + signal − 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Macd {
    fast_n: usize,
    slow_n: usize,
    count: usize,
    recent: Ring<f64>,
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> crate::Result<Self> {
        check_period("macd", fast, 2)?;
        check_period("macd", slow, 2)?;
        check_period("macd", signal, 1)?;
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Ok(Self {
            fast_n: fast,
            slow_n: slow,
            count: 0,
            recent: Ring::new(fast),
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            signal: Ema::new(signal)?,
        })
    }
}

impl Macd {
    /// Warmed up: every later `update` returns `Some(step(x))`.
    #[inline(always)]
    pub fn ready(&self) -> bool {
        self.signal.is_ready()
    }
    /// `update(x).unwrap()` once [`ready`](Self::ready).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> MacdOutput {
        self.count += 1;
        let line = self.fast.step(x) - self.slow.step(x);
        let signal = self.signal.step(line);
        MacdOutput {
            line,
            signal,
            hist: line - signal,
        }
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdOutput;
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<MacdOutput> {
        if self.signal.is_ready() {
            return Some(self.step(x));
        }
        self.count += 1;
        if self.count <= self.slow_n {
            // Only the seed of the fast EMA needs the recent values.
            self.recent.push(x);
        }
        let slow = self.slow.update(x);
        let fast = if self.fast.is_ready() {
            self.fast.update(x)
        } else if self.count == self.slow_n {
            let mut sum = 0.0;
            for v in self.recent.iter() {
                sum += v;
            }
            let seed = sum / self.fast_n as f64;
            self.fast.seed(seed);
            Some(seed)
        } else {
            None
        };
        let line = fast? - slow?;
        let signal = self.signal.update(line)?;
        Some(MacdOutput {
            line,
            signal,
            hist: line - signal,
        })
    }
    fn reset(&mut self) {
        self.count = 0;
        self.recent.clear();
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
    }
}

/// Slow stochastic %K and %D.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StochOutput {
    pub k: f64,
    pub d: f64,
}

/// Stochastic oscillator (TA-Lib STOCH with SMA smoothing): fast %K over `k` bars, slow %K =
/// SMA(fast %K, `slow_k`), %D = SMA(slow %K, `slow_d`). Both outputs start at input
/// k + slow_k + slow_d − 2. Fast %K is 0 when the range is flat (TA-Lib).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stoch {
    hi: Extreme,
    lo: Extreme,
    slow_k: Sma,
    slow_d: Sma,
}

impl Stoch {
    pub fn new(k: usize, slow_k: usize, slow_d: usize) -> crate::Result<Self> {
        check_period("stoch", k, 1)?;
        Ok(Self {
            hi: Extreme::new(k, true),
            lo: Extreme::new(k, false),
            slow_k: Sma::new(slow_k)?,
            slow_d: Sma::new(slow_d)?,
        })
    }
}

impl Indicator for Stoch {
    type Input = Ohlcv;
    type Output = StochOutput;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<StochOutput> {
        let (h, l) = (self.hi.push(b.high), self.lo.push(b.low));
        let (h, l) = (h?, l?);
        let diff = (h - l) / 100.0;
        let fast_k = if diff != 0.0 {
            (b.close - l) / diff
        } else {
            0.0
        };
        let k = self.slow_k.update(fast_k)?;
        let d = self.slow_d.update(k)?;
        Some(StochOutput { k, d })
    }
    fn reset(&mut self) {
        self.hi.reset();
        self.lo.reset();
        self.slow_k.reset();
        self.slow_d.reset();
    }
}

/// Williams %R over `n` bars, in [−100, 0]; 0 when the range is flat (TA-Lib). First output at input n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WillR {
    hi: Extreme,
    lo: Extreme,
}

impl WillR {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("willr", n, 2)?;
        Ok(Self {
            hi: Extreme::new(n, true),
            lo: Extreme::new(n, false),
        })
    }
}

impl Indicator for WillR {
    type Input = Ohlcv;
    type Output = f64;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        let (h, l) = (self.hi.push(b.high), self.lo.push(b.low));
        let (h, l) = (h?, l?);
        let diff = (h - l) / -100.0;
        Some(if diff != 0.0 {
            (h - b.close) / diff
        } else {
            0.0
        })
    }
    fn reset(&mut self) {
        self.hi.reset();
        self.lo.reset();
    }
}

/// Commodity Channel Index over `n` bars of typical price: (tp − SMA(tp)) / (0.015 · mean
/// absolute deviation). O(n) per update (the mean deviation around a moving mean has no O(1)
/// form); 0 when either part is 0 (TA-Lib). First output at input n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cci {
    n: usize,
    tp: Ring<f64>,
}

impl Cci {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("cci", n, 2)?;
        Ok(Self {
            n,
            tp: Ring::new(n),
        })
    }
}

impl Indicator for Cci {
    type Input = Ohlcv;
    type Output = f64;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        let last = b.typical();
        self.tp.push(last);
        if !self.tp.is_full() {
            return None;
        }
        let n = self.n as f64;
        // Physical buffer order, as TA-Lib sums its circular buffer.
        let mut avg = 0.0;
        for &v in self.tp.raw() {
            avg += v;
        }
        avg /= n;
        let mut dev = 0.0;
        for &v in self.tp.raw() {
            dev += (v - avg).abs();
        }
        let num = last - avg;
        Some(if num != 0.0 && dev != 0.0 {
            num / (0.015 * (dev / n))
        } else {
            0.0
        })
    }
    fn reset(&mut self) {
        self.tp.clear();
    }
}

/// Money Flow Index over `n` bars (TA-Lib: typical price × volume split by the sign of the change
/// in typical price, a change below 1e-14 counting as none; 0 when the total flow is below 1). First output at input n+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mfi {
    count: usize,
    prev_tp: f64,
    pos: f64,
    neg: f64,
    flows: Ring<(f64, f64)>,
}

impl Mfi {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("mfi", n, 2)?;
        Ok(Self {
            count: 0,
            prev_tp: 0.0,
            pos: 0.0,
            neg: 0.0,
            flows: Ring::new(n),
        })
    }
}

impl Indicator for Mfi {
    type Input = Ohlcv;
    type Output = f64;
    #[inline]
    fn update(&mut self, b: Ohlcv) -> Option<f64> {
        let tp = b.typical();
        self.count += 1;
        if self.count == 1 {
            self.prev_tp = tp;
            return None;
        }
        if self.flows.is_full()
            && let Some((p, n)) = self.flows.oldest()
        {
            self.pos -= p;
            self.neg -= n;
        }
        let diff = tp - self.prev_tp;
        self.prev_tp = tp;
        let mf = tp * b.volume;
        // TA-Lib 0.8 treats a change below 1e-14 as no change (typical prices that differ only by
        // rounding, as happens on FX quotes).
        let flow = if is_zero(diff) {
            (0.0, 0.0)
        } else if diff < 0.0 {
            self.neg += mf;
            (0.0, mf)
        } else {
            self.pos += mf;
            (mf, 0.0)
        };
        self.flows.push(flow);
        if !self.flows.is_full() {
            return None;
        }
        let total = self.pos + self.neg;
        Some(if total < 1.0 {
            0.0
        } else {
            100.0 * (self.pos / total)
        })
    }
    fn reset(&mut self) {
        self.count = 0;
        self.prev_tp = 0.0;
        self.pos = 0.0;
        self.neg = 0.0;
        self.flows.clear();
    }
}

/// Rate of change in percent over `n` bars: (x / x[n ago] − 1) · 100; 0 when x[n ago] is 0 (TA-Lib).
/// First output at input n+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    past: Ring<f64>,
}

impl Roc {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("roc", n, 1)?;
        Ok(Self {
            past: Ring::new(n + 1),
        })
    }
}

impl Indicator for Roc {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.past.push(x);
        if !self.past.is_full() {
            return None;
        }
        let p = self.past.oldest().unwrap_or(0.0);
        Some(if p != 0.0 {
            ((x / p) - 1.0) * 100.0
        } else {
            0.0
        })
    }
    fn reset(&mut self) {
        self.past.clear();
    }
}

/// Momentum: x − x[n ago]. First output at input n+1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mom {
    past: Ring<f64>,
}

impl Mom {
    pub fn new(n: usize) -> crate::Result<Self> {
        check_period("mom", n, 1)?;
        Ok(Self {
            past: Ring::new(n + 1),
        })
    }
}

impl Indicator for Mom {
    type Input = f64;
    type Output = f64;
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.past.push(x);
        if !self.past.is_full() {
            return None;
        }
        Some(x - self.past.oldest().unwrap_or(0.0))
    }
    fn reset(&mut self) {
        self.past.clear();
    }
}
