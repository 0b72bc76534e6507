//! Drift detection: population stability index and the two-sample Kolmogorov–Smirnov test on
//! feature distributions (training vs recent), and Page–Hinkley and ADWIN on a live error
//! stream.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// PSI of `actual` against `expected`, over `bins` bins at the quantiles of `expected`
/// (empty bins get a 1e-4 share so the log stays finite). 0.1–0.25 is usually read as a
/// moderate shift, above 0.25 as a major one.
pub fn psi(expected: &[f64], actual: &[f64], bins: usize) -> f64 {
    if expected.is_empty() || actual.is_empty() || bins < 2 {
        return f64::NAN;
    }
    let mut e = expected.to_vec();
    e.sort_by(f64::total_cmp);
    let edges: Vec<f64> = (1..bins)
        .map(|b| e[(b * e.len() / bins).min(e.len() - 1)])
        .collect();
    let share = |v: &[f64]| {
        let mut c = vec![0.0; bins];
        for x in v {
            let b = edges.partition_point(|edge| edge <= x);
            c[b] += 1.0;
        }
        c.into_iter()
            .map(|n| (n / v.len() as f64).max(1e-4))
            .collect::<Vec<f64>>()
    };
    let (pe, pa) = (share(expected), share(actual));
    pe.iter()
        .zip(&pa)
        .map(|(e, a)| (a - e) * (a / e).ln())
        .sum()
}

/// Two-sample Kolmogorov–Smirnov: the statistic D and its asymptotic p-value from the
/// Kolmogorov limiting distribution at √(n·m/(n+m))·D (scipy's `kstwobign.sf`; scipy's
/// `ks_2samp(method="asymp")` uses the finite-n distribution instead and is a little smaller).
pub fn ks_2samp(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (mut x, mut y) = (a.to_vec(), b.to_vec());
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    let (n, m) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < x.len() && j < y.len() {
        let v = x[i].min(y[j]);
        while i < x.len() && x[i] <= v {
            i += 1;
        }
        while j < y.len() && y[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    let en = (n * m / (n + m)).sqrt();
    (d, kolmogorov_sf(en * d))
}

/// P(K > x) for the Kolmogorov distribution: 2 Σ (−1)^(k−1) exp(−2k²x²).
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < 0.3 {
        // The alternating series converges slowly here; the complementary form is exact enough.
        let t = std::f64::consts::PI * std::f64::consts::PI / (8.0 * x * x);
        let s: f64 = (1..=50)
            .map(|k| (-((2 * k - 1) as f64).powi(2) * t).exp())
            .sum();
        return (1.0 - (2.0 * std::f64::consts::PI).sqrt() / x * s).clamp(0.0, 1.0);
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * x * x).exp();
        s += if k % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// Page–Hinkley test for an increase in the mean of a stream (e.g. a model's error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageHinkley {
    /// Magnitude of change tolerated.
    pub delta: f64,
    /// Alarm threshold.
    pub lambda: f64,
    n: u64,
    mean: f64,
    cum: f64,
    min: f64,
}

impl PageHinkley {
    pub fn new(delta: f64, lambda: f64) -> Self {
        Self {
            delta,
            lambda,
            n: 0,
            mean: 0.0,
            cum: 0.0,
            min: 0.0,
        }
    }

    /// Add one value; true when drift is detected (the test then restarts).
    pub fn update(&mut self, x: f64) -> bool {
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        self.cum += x - self.mean - self.delta;
        self.min = self.min.min(self.cum);
        if self.cum - self.min > self.lambda {
            *self = Self::new(self.delta, self.lambda);
            return true;
        }
        false
    }
}

/// ADWIN (Bifet & Gavaldà 2007): an adaptive window that drops its older part whenever the
/// means of the two parts differ by more than ε_cut at confidence δ. This version checks every
/// split of a window capped at `max_len` values (exact, O(window) per value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adwin {
    pub delta: f64,
    pub max_len: usize,
    window: VecDeque<f64>,
}

impl Adwin {
    pub fn new(delta: f64, max_len: usize) -> Self {
        Self {
            delta,
            max_len: max_len.max(10),
            window: VecDeque::new(),
        }
    }

    /// Current window length.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Mean of the current window.
    pub fn mean(&self) -> f64 {
        self.window.iter().sum::<f64>() / self.window.len().max(1) as f64
    }

    /// Add one value; true when the window was cut (a change was detected).
    pub fn update(&mut self, x: f64) -> bool {
        self.window.push_back(x);
        if self.window.len() > self.max_len {
            self.window.pop_front();
        }
        let mut cut = false;
        'outer: loop {
            let n = self.window.len();
            if n < 10 {
                break;
            }
            let total: f64 = self.window.iter().sum();
            let dp = self.delta / (n as f64).ln().max(1.0);
            let mut head = 0.0;
            for (i, v) in self.window.iter().enumerate().take(n - 5) {
                head += v;
                let n0 = (i + 1) as f64;
                if n0 < 5.0 {
                    continue;
                }
                let n1 = n as f64 - n0;
                let m = 1.0 / (1.0 / n0 + 1.0 / n1);
                let eps = ((1.0 / (2.0 * m)) * (4.0 / dp).ln()).sqrt();
                if (head / n0 - (total - head) / n1).abs() > eps {
                    for _ in 0..=i {
                        self.window.pop_front();
                    }
                    cut = true;
                    continue 'outer;
                }
            }
            break;
        }
        cut
    }
}
