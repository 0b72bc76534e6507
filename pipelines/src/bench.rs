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

/// SMA 20, EMA 20, RSI 14, MACD 12/26/9, Bollinger 20/2 and ATR 14 over one symbol, every
/// output written to `out[k][i]` (NaN during warm-up). `out[k]` must hold `bars.len()` values.
pub fn core_six(bars: &[Ohlcv], out: &mut [Vec<f64>; 10]) -> crate::Result<()> {
    let (mut sma, mut ema, mut rsi) = (Sma::new(20)?, Ema::new(20)?, Rsi::new(14)?);
    let (mut macd, mut bb, mut atr) = (Macd::new(12, 26, 9)?, Bbands::new(20, 2.0)?, Atr::new(14)?);
    let nan = f64::NAN;
    let n = bars.len();
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
    for (i, b) in bars.iter().enumerate() {
        o0[i] = sma.update(b.close).unwrap_or(nan);
        o1[i] = ema.update(b.close).unwrap_or(nan);
        o2[i] = rsi.update(b.close).unwrap_or(nan);
        let m = macd.update(b.close);
        o3[i] = m.map_or(nan, |m| m.line);
        o4[i] = m.map_or(nan, |m| m.signal);
        o5[i] = m.map_or(nan, |m| m.hist);
        let v = bb.update(b.close);
        o6[i] = v.map_or(nan, |v| v.upper);
        o7[i] = v.map_or(nan, |v| v.middle);
        o8[i] = v.map_or(nan, |v| v.lower);
        o9[i] = atr.update(*b).unwrap_or(nan);
    }
    Ok(())
}
