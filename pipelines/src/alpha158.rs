//! `alpha158`: the 158 price/volume features of Microsoft qlib's Alpha158 (9 candle shape, 4
//! price levels, and 29 rolling statistics over 5, 10, 20, 30 and 60 bars), computed bar by bar.
//!
//! Definitions follow qlib's `Alpha158DL.get_feature_config`; Elite's conventions (mirrored by
//! the numpy reference in `pipelines/golden/gen_alpha158.py`): a value appears only once its
//! whole window exists (qlib gives partial windows), VWAP0 uses the typical price, and a value
//! that is not finite is absent. Memory is bounded (61 bars per series); each update is
//! O(Σ windows) = O(125) work per statistic, with no allocation after the first bar.

use serde::{Deserialize, Serialize};

use crate::indicators::Ohlcv;

const E: f64 = 1e-12;
/// The rolling windows.
pub const WINDOWS: [usize; 5] = [5, 10, 20, 30, 60];
/// The rolling statistics, in qlib's order.
pub const ROLLING: [&str; 29] = [
    "ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD", "RANK", "RSV",
    "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD", "SUMP", "SUMN", "SUMD", "VMA",
    "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD",
];
const BASE: [&str; 13] = [
    "KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2", "OPEN0", "HIGH0",
    "LOW0", "VWAP0",
];
const CAP: usize = 61;

/// The 158 names, in output order.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = BASE.iter().map(|s| s.to_string()).collect();
    for d in WINDOWS {
        for op in ROLLING {
            v.push(format!("{op}{d}"));
        }
    }
    v
}

/// The last `CAP` values of a series, contiguous (compacted when the buffer fills).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Hist {
    buf: Vec<f64>,
}

impl Hist {
    fn push(&mut self, x: f64) {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(2 * CAP);
        }
        if self.buf.len() == 2 * CAP {
            self.buf.drain(..CAP);
        }
        self.buf.push(x);
    }
    fn len(&self) -> usize {
        self.buf.len()
    }
    /// The last `d` values, oldest first (`None` when fewer exist).
    fn last(&self, d: usize) -> Option<&[f64]> {
        (self.buf.len() >= d).then(|| &self.buf[self.buf.len() - d..])
    }
}

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
fn mean(w: &[f64]) -> f64 {
    w.iter().sum::<f64>() / w.len() as f64
}
fn std1(w: &[f64]) -> f64 {
    let m = mean(w);
    (w.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (w.len() as f64 - 1.0)).sqrt()
}
fn corr(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}
/// numpy's linear quantile of sorted values (its two-sided interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[(lo + 1).min(sorted.len() - 1)]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The Alpha158 state of one series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alpha158 {
    c: Hist,
    h: Hist,
    l: Hist,
    v: Hist,
    lv: Hist,
    dc: Hist,
    dv: Hist,
    rc: Hist,
    lvr: Hist,
    wv: Hist,
    prev: Option<(f64, f64)>,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl Alpha158 {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one bar; appends the 158 values (in [`names`] order) to `out`.
    pub fn update(&mut self, b: &Ohlcv, out: &mut Vec<Option<f64>>) {
        let (o, h, l, c, v) = (b.open, b.high, b.low, b.close, b.volume);
        self.c.push(c);
        self.h.push(h);
        self.l.push(l);
        self.v.push(v);
        self.lv.push((v + 1.0).ln());
        if let Some((pc, pv)) = self.prev {
            self.dc.push(c - pc);
            self.dv.push(v - pv);
            self.rc.push(c / pc);
            self.lvr.push((v / pv + 1.0).ln());
            self.wv.push((c / pc - 1.0).abs() * v);
        }
        self.prev = Some((c, v));
        let rng = h - l + E;
        let (mx, mn) = (o.max(c), o.min(c));
        for x in [
            (c - o) / o,
            (h - l) / o,
            (c - o) / rng,
            (h - mx) / o,
            (h - mx) / rng,
            (mn - l) / o,
            (mn - l) / rng,
            (2.0 * c - h - l) / o,
            (2.0 * c - h - l) / rng,
            o / c,
            h / c,
            l / c,
            ((h + l + c) / 3.0) / c,
        ] {
            out.push(fin(x));
        }
        if self.scratch.capacity() < CAP {
            self.scratch.reserve_exact(CAP);
        }
        for d in WINDOWS {
            self.window(d, c, v, out);
        }
    }

    fn window(&mut self, d: usize, c: f64, v: f64, out: &mut Vec<Option<f64>>) {
        let full = self.c.len() >= d;
        let diffs = self.dc.len() >= d;
        let none = |out: &mut Vec<Option<f64>>, k: usize| out.extend(std::iter::repeat_n(None, k));
        // ROC needs d+1 closes.
        out.push(if self.c.len() > d {
            fin(self.c.buf[self.c.len() - 1 - d] / c)
        } else {
            None
        });
        if full {
            let cw = self.c.last(d).unwrap_or(&[]);
            let (hw, lw) = (self.h.last(d).unwrap_or(&[]), self.l.last(d).unwrap_or(&[]));
            let n = d as f64;
            let ym = mean(cw);
            let xm = (n - 1.0) / 2.0;
            let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
            for (i, y) in cw.iter().enumerate() {
                let (dx, dy) = (i as f64 - xm, y - ym);
                sxy += dx * dy;
                sxx += dx * dx;
                syy += dy * dy;
            }
            let slope = sxy / sxx;
            let resid = cw[d - 1] - ((ym - slope * xm) + slope * (n - 1.0));
            let (hmax, lmin) = (
                hw.iter().cloned().fold(f64::MIN, f64::max),
                lw.iter().cloned().fold(f64::MAX, f64::min),
            );
            self.scratch.clear();
            self.scratch.extend_from_slice(cw);
            self.scratch.sort_unstable_by(f64::total_cmp);
            let below = cw.iter().filter(|&&x| x < c).count() as f64;
            let equal = cw.iter().filter(|&&x| x == c).count() as f64;
            let imax = hw
                .iter()
                .enumerate()
                .fold(
                    (0, f64::MIN),
                    |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) },
                )
                .0;
            let imin = lw
                .iter()
                .enumerate()
                .fold(
                    (0, f64::MAX),
                    |(bi, bv), (i, &x)| if x < bv { (i, x) } else { (bi, bv) },
                )
                .0;
            for x in [
                ym / c,
                std1(cw) / c,
                slope / c,
                sxy * sxy / (sxx * syy),
                resid / c,
                hmax / c,
                lmin / c,
                quantile(&self.scratch, 0.8) / c,
                quantile(&self.scratch, 0.2) / c,
                (below + (equal + 1.0) / 2.0) / n,
                (c - lmin) / (hmax - lmin + E),
                (imax + 1) as f64 / n,
                (imin + 1) as f64 / n,
                (imax as f64 - imin as f64) / n,
                corr(cw, self.lv.last(d).unwrap_or(&[])),
            ] {
                out.push(fin(x));
            }
        } else {
            none(out, 15);
        }
        if diffs {
            out.push(fin(corr(
                self.rc.last(d).unwrap_or(&[]),
                self.lvr.last(d).unwrap_or(&[]),
            )));
            let dc = self.dc.last(d).unwrap_or(&[]);
            let n = d as f64;
            let up = dc.iter().filter(|&&x| x > 0.0).count() as f64 / n;
            let down = dc.iter().filter(|&&x| x < 0.0).count() as f64 / n;
            let (p, m, a) = sums(dc);
            for x in [
                up,
                down,
                up - down,
                p / (a + E),
                m / (a + E),
                (p - m) / (a + E),
            ] {
                out.push(fin(x));
            }
        } else {
            none(out, 7);
        }
        if full {
            let vw = self.v.last(d).unwrap_or(&[]);
            out.push(fin(mean(vw) / (v + E)));
            out.push(fin(std1(vw) / (v + E)));
        } else {
            none(out, 2);
        }
        if diffs {
            let ww = self.wv.last(d).unwrap_or(&[]);
            out.push(fin(std1(ww) / (mean(ww) + E)));
            let (p, m, a) = sums(self.dv.last(d).unwrap_or(&[]));
            for x in [p / (a + E), m / (a + E), (p - m) / (a + E)] {
                out.push(fin(x));
            }
        } else {
            none(out, 4);
        }
    }
}

/// Σ max(x, 0), Σ max(−x, 0), Σ |x|.
fn sums(w: &[f64]) -> (f64, f64, f64) {
    let (mut p, mut m, mut a) = (0.0, 0.0, 0.0);
    for &x in w {
        p += x.max(0.0);
        m += (-x).max(0.0);
        a += x.abs();
    }
    (p, m, a)
}
