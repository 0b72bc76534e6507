//! Kernels shared by `elite bench indicators` and `examples/core_six.rs`: deterministic synthetic
//! bars and the six core indicators written into output arrays (what TA-Lib's functions do).

use crate::indicators::{Atr, Bbands, Ema, Indicator, Macd, Ohlcv, Rsi, Sma};

/// Output names of [`core_six`], in order.
pub const OUTPUTS: [&str; 10] = [
    "sma",
    "ema",
    "rsi",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "atr",
];

/// Deterministic random-walk bars, `[symbol][bar]` (xorshift; no randomness from outside).
pub fn synthetic(symbols: usize, bars: usize) -> Vec<Vec<Ohlcv>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..symbols)
        .map(|s| {
            let mut price = 20.0 + (s % 500) as f64;
            (0..bars)
                .map(|_| {
                    let open = price;
                    let close = (open * (1.0 + (next() - 0.5) * 0.02)).max(0.01);
                    let high = open.max(close) * (1.0 + next() * 0.01);
                    let low = open.min(close) * (1.0 - next() * 0.01);
                    price = close;
                    Ohlcv::new(open, high, low, close, 1000.0 + (next() * 1e5).floor())
                })
                .collect()
        })
        .collect()
}

/// One symbol's bars as columns (what TA-Lib's functions take, and how Arrow holds them).
#[derive(Clone, Debug, Default)]
pub struct BarColumns {
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
}

impl BarColumns {
    pub fn from_bars(bars: &[Ohlcv]) -> Self {
        Self {
            high: bars.iter().map(|b| b.high).collect(),
            low: bars.iter().map(|b| b.low).collect(),
            close: bars.iter().map(|b| b.close).collect(),
        }
    }
}

/// SMA 20, EMA 20, RSI 14, MACD 12/26/9, Bollinger 20/2 and ATR 14 over one symbol, every
/// output written to `out[k][i]` (NaN during warm-up). `out[k]` must hold `bars.close.len()`
/// values.
///
/// One pass over the bars, all six indicators per bar, so that their loop-carried chains (RSI's and
/// ATR's Wilder smoothing, the EMAs) overlap instead of running one after another as six separate
/// loops would. Bars go through `update` until every indicator is warm, then through `step` — the
/// same arithmetic without the warm-up branches — so the values are `update`'s bit for bit.
pub fn core_six(bars: &BarColumns, out: &mut [Vec<f64>; 10]) -> crate::Result<()> {
    let (mut sma, mut ema, mut rsi) = (Sma::new(20)?, Ema::new(20)?, Rsi::new(14)?);
    let (mut macd, mut bb, mut atr) = (Macd::new(12, 26, 9)?, Bbands::new(20, 2.0)?, Atr::new(14)?);
    let nan = f64::NAN;
    let n = bars.close.len().min(bars.high.len()).min(bars.low.len());
    let (high, low, close) = (&bars.high[..n], &bars.low[..n], &bars.close[..n]);
    let [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9] = out;
    let (o0, o1, o2, o3, o4) = (
        &mut o0[..n],
        &mut o1[..n],
        &mut o2[..n],
        &mut o3[..n],
        &mut o4[..n],
    );
    let (o5, o6, o7, o8, o9) = (
        &mut o5[..n],
        &mut o6[..n],
        &mut o7[..n],
        &mut o8[..n],
        &mut o9[..n],
    );
    let mut i = 0;
    while i < n
        && !(sma.ready()
            && ema.is_ready()
            && rsi.ready()
            && macd.ready()
            && bb.ready()
            && atr.ready())
    {
        let c = close[i];
        o0[i] = sma.update(c).unwrap_or(nan);
        o1[i] = ema.update(c).unwrap_or(nan);
        o2[i] = rsi.update(c).unwrap_or(nan);
        let m = macd.update(c);
        o3[i] = m.map_or(nan, |m| m.line);
        o4[i] = m.map_or(nan, |m| m.signal);
        o5[i] = m.map_or(nan, |m| m.hist);
        let v = bb.update(c);
        o6[i] = v.map_or(nan, |v| v.upper);
        o7[i] = v.map_or(nan, |v| v.middle);
        o8[i] = v.map_or(nan, |v| v.lower);
        o9[i] = atr
            .update(Ohlcv::new(c, high[i], low[i], c, 0.0))
            .unwrap_or(nan);
        i += 1;
    }
    for i in i..n {
        let c = close[i];
        o0[i] = sma.step(c);
        o1[i] = ema.step(c);
        o2[i] = rsi.step(c);
        let m = macd.step(c);
        o3[i] = m.line;
        o4[i] = m.signal;
        o5[i] = m.hist;
        let v = bb.step(c);
        o6[i] = v.upper;
        o7[i] = v.middle;
        o8[i] = v.lower;
        o9[i] = atr.step(high[i], low[i], c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::run_bars;
    use crate::spec::IndicatorSpec;

    /// The fused kernel (warm-up through `update`, then `step`) equals each indicator run alone
    /// through the spec path's per-bar `update`, bit for bit, warm-up NaNs included — also for
    /// series shorter than the longest warm-up.
    #[test]
    fn core_six_equals_each_indicator_alone() {
        let specs = [
            "sma(20)",
            "ema(20)",
            "rsi(14)",
            "macd(12,26,9).line",
            "macd(12,26,9).signal",
            "macd(12,26,9).hist",
            "bbands(20,2).upper",
            "bbands(20,2).middle",
            "bbands(20,2).lower",
            "atr(14)",
        ];
        for (symbols, bars) in [(3, 2000), (2, 30), (1, 1), (1, 0)] {
            for s in synthetic(symbols, bars) {
                let mut out: [Vec<f64>; 10] = std::array::from_fn(|_| vec![0.0; s.len()]);
                core_six(&BarColumns::from_bars(&s), &mut out).unwrap();
                for (k, spec) in specs.iter().enumerate() {
                    let spec: IndicatorSpec = spec.parse().unwrap();
                    let want = run_bars(&spec, &s);
                    assert_eq!(want.len(), out[k].len());
                    for (i, (w, got)) in want.iter().zip(&out[k]).enumerate() {
                        let w = w.unwrap_or(f64::NAN);
                        assert!(
                            w.to_bits() == got.to_bits() || (w.is_nan() && got.is_nan()),
                            "{} at bar {i}: update {w}, core_six {got}",
                            OUTPUTS[k]
                        );
                    }
                }
            }
        }
    }
}
