//! Streaming technical indicators: one `update` per input, written once and used by the batch
//! (Arrow), SQL (DataFusion window functions, in `elite-sql`) and stream (signal runner) paths.
//!
//! Invariants, for every indicator here:
//! - `update` is O(1) amortized (CCI's mean deviation is O(period): no O(1) form exists), touches
//!   only memory allocated in `new`, and does no I/O, reads no clock and draws no random number;
//! - the whole state is `Serialize + Deserialize` (serde_json with `float_roundtrip` restores every
//!   f64 bit for bit), so a stream job checkpoints it and resumes as if never stopped;
//! - `update` returns `None` while warming up, and the first `Some` comes at the same bar as
//!   TA-Lib's first output (TA-Lib's "lookback"), with TA-Lib's seeding. Each type's doc states its
//!   warm-up and seeding. Golden files from TA-Lib 0.8.1 are in `pipelines/golden/`.
//! - Non-finite input (NaN, ±inf) is the caller's bug to avoid: collectors quarantine such bars, so
//!   indicators do not check for it on the hot path.

mod average;
mod momentum;
mod pair;
mod trend;
mod volatility;
mod volume;

pub use average::{Dema, Ema, Sma, Tema, Wma};
pub use momentum::{Cci, Macd, MacdOutput, Mfi, Mom, Roc, Rsi, Stoch, StochOutput, WillR};
pub use pair::{Beta, Correl};
pub use trend::{Adx, AdxOutput};
pub use volatility::{
    Atr, BandsOutput, Bbands, BbandsOutput, Donchian, Keltner, TrueRange, Volatility, ZScore,
};
pub use volume::{Obv, Vwap, VwapInput};

use serde::{Deserialize, Serialize};

/// A streaming indicator (see the module docs for the invariants every implementation keeps).
pub trait Indicator {
    type Input;
    type Output;
    /// Feed the next input; `None` while warming up.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;
    /// Forget everything seen, as if just constructed.
    fn reset(&mut self);
}

/// One bar's prices and volume, the input of the indicators that need more than a close.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ohlcv {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Ohlcv {
    pub fn new(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Self {
        Self {
            open,
            high,
            low,
            close,
            volume,
        }
    }
    /// (high + low + close) / 3, as TA-Lib computes it.
    pub fn typical(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

/// TA-Lib's `TA_IS_ZERO`: |v| < 1e-14.
#[inline]
pub(crate) fn is_zero(v: f64) -> bool {
    -1e-14 < v && v < 1e-14
}

/// TA-Lib's `TA_IS_ZERO_OR_NEG`: v < 1e-14.
#[inline]
pub(crate) fn is_zero_or_neg(v: f64) -> bool {
    v < 1e-14
}

/// A fixed-capacity ring of the last `cap` values; allocated once, never grows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ring<T> {
    buf: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Self {
            buf: vec![T::default(); cap.max(1)],
            head: 0,
            len: 0,
        }
    }
    pub fn cap(&self) -> usize {
        self.buf.len()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }
    /// Push a value; returns the value it pushed out when the ring was full.
    #[inline(always)]
    pub fn push(&mut self, v: T) -> Option<T> {
        // `head` is the next slot to write, which is the oldest value once the ring is full.
        let out = if self.is_full() {
            Some(self.buf[self.head])
        } else {
            None
        };
        self.buf[self.head] = v;
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        if self.len < self.buf.len() {
            self.len += 1;
        }
        out
    }
    /// For a full ring only: write `v` over the oldest value and return the new oldest (the next
    /// to leave). The same state as `push(v)` followed by `oldest()`, without their branches.
    #[inline(always)]
    pub fn roll(&mut self, v: T) -> T {
        self.push_full(v);
        self.buf[self.head]
    }
    /// For a full ring only: `push(v).unwrap()`, the value pushed out.
    #[inline(always)]
    pub fn push_full(&mut self, v: T) -> T {
        debug_assert!(self.is_full());
        let out = std::mem::replace(&mut self.buf[self.head], v);
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        out
    }
    /// The oldest value held (the next to be pushed out), if any.
    #[inline]
    pub fn oldest(&self) -> Option<T> {
        if self.is_full() {
            Some(self.buf[self.head])
        } else if self.len == 0 {
            None
        } else {
            // Not yet wrapped: the values are buf[0..len].
            Some(self.buf[0])
        }
    }
    /// Values in physical buffer order (all slots, only meaningful when full).
    pub fn raw(&self) -> &[T] {
        &self.buf
    }
    /// The values oldest first, as two slices.
    #[inline]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        if self.is_full() {
            (&self.buf[self.head..], &self.buf[..self.head])
        } else {
            (&self.buf[..self.len], &[])
        }
    }
    /// Values oldest first.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let (a, b) = self.as_slices();
        a.iter().chain(b.iter()).copied()
    }
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.buf.iter_mut().for_each(|v| *v = T::default());
    }
}

/// Sliding-window extreme (max when `max`, else min) over the last `n` values, with a
/// monotonic deque held in a ring of capacity `n`: O(1) amortized, no allocation after `new`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Extreme {
    max: bool,
    n: u64,
    seen: u64,
    // (index, value) pairs in one allocation; values monotonic from front to back.
    q: Vec<(u64, f64)>,
    front: usize,
    len: usize,
}

impl Extreme {
    pub fn new(n: usize, max: bool) -> Self {
        let cap = n.max(1);
        Self {
            max,
            n: cap as u64,
            seen: 0,
            q: vec![(0, 0.0); cap],
            front: 0,
            len: 0,
        }
    }
    #[inline(always)]
    fn slot(&self, i: usize) -> usize {
        // front < cap and i <= len <= cap, so one subtraction wraps (no division).
        let s = self.front + i;
        if s >= self.q.len() {
            s - self.q.len()
        } else {
            s
        }
    }
    /// Push a value; returns the extreme of the last `n` values once `n` have been seen.
    #[inline]
    pub fn push(&mut self, v: f64) -> Option<f64> {
        let i = self.seen;
        self.seen += 1;
        // Drop from the front what left the window.
        while self.len > 0 && self.q[self.front].0 + self.n <= i {
            self.front += 1;
            if self.front == self.q.len() {
                self.front = 0;
            }
            self.len -= 1;
        }
        // Drop from the back what the new value dominates (ties keep the newest: the value is the same).
        while self.len > 0 {
            let back = self.q[self.slot(self.len - 1)].1;
            let dominated = if self.max { back <= v } else { back >= v };
            if !dominated {
                break;
            }
            self.len -= 1;
        }
        let s = self.slot(self.len);
        self.q[s] = (i, v);
        self.len += 1;
        if self.seen >= self.n {
            Some(self.q[self.front].1)
        } else {
            None
        }
    }
    pub fn reset(&mut self) {
        *self = Self::new(self.n as usize, self.max);
    }
}

pub(crate) fn check_period(name: &str, n: usize, min: usize) -> crate::Result<()> {
    if n < min || n > 100_000 {
        return Err(crate::error::spec_err(
            name,
            format!("period {n} must be in {min}..=100000"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_matches_naive_window() {
        let xs = [
            3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0, 9.0,
        ];
        for n in 1..6 {
            let mut mx = Extreme::new(n, true);
            let mut mn = Extreme::new(n, false);
            for (i, &x) in xs.iter().enumerate() {
                let (a, b) = (mx.push(x), mn.push(x));
                if i + 1 >= n {
                    let w = &xs[i + 1 - n..=i];
                    assert_eq!(a, Some(w.iter().cloned().fold(f64::MIN, f64::max)));
                    assert_eq!(b, Some(w.iter().cloned().fold(f64::MAX, f64::min)));
                } else {
                    assert_eq!((a, b), (None, None));
                }
            }
        }
    }

    #[test]
    fn ring_keeps_last_values_in_order() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        r.push(2.0);
        r.push(3.0);
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!(r.oldest(), Some(2.0));
    }
}
