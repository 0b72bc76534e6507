//! Rule signals: synchronous state machines over one symbol's bars, built from the indicators.
//! A rule fires on an *event* (a cross, a breakout), not on every bar in a state, so a signal
//! is a decision point. Each signal carries its direction (+1 long, −1 short), a strength in
//! [0, 1] and the indicator values that produced it.
//!
//! Every rule uses only the bar just closed and state built from earlier bars: perturbing any
//! later bar cannot change a signal at or before it (tested in `tests/lookahead.rs`).

use crate::Result;
use crate::calendar::Calendar;
use crate::indicators::{Adx, Atr, Bbands, Donchian, Ema, Indicator, Macd, Rsi};
use crate::mtf::MtfTrend;
use crate::resample::TimedBar;
use elite_warehouse::Timeframe;
use serde::{Deserialize, Serialize};

/// A signal produced by a rule on one bar.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signal {
    pub rule: &'static str,
    pub direction: i8,
    pub strength: f64,
    pub features: Vec<(&'static str, f64)>,
}

impl Signal {
    /// The features as a JSON object with round-trip precision.
    pub fn features_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .features
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, Into::into),
                )
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// The rules Elite ships. Names are what the `signals.rule` column holds.
pub const RULES: &[(&str, &str)] = &[
    (
        "rsi_reversion",
        "RSI(14) crosses back above 30 (long) or below 70 (short); strength = how far it went beyond",
    ),
    (
        "bollinger_reversion",
        "close crosses back inside the Bollinger(20, 2) band from below (long) or above (short)",
    ),
    (
        "macd_cross",
        "MACD(12,26,9) line crosses its signal line; strength = |histogram| / ATR(14)",
    ),
    (
        "donchian_breakout",
        "close breaks the previous 20-bar high (long) or low (short); strength = distance / ATR(14)",
    ),
    (
        "trend_ema_adx",
        "EMA(20) crosses EMA(50) while ADX(14) > 20; strength = ADX / 50",
    ),
];

/// All rules for one symbol: one `update` per closed bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalEngine {
    rsi: Rsi,
    prev_rsi: Option<f64>,
    rsi_extreme: f64,
    bb: Bbands,
    prev_bb_side: i8,
    macd: Macd,
    prev_hist: Option<f64>,
    atr: Atr,
    last_atr: Option<f64>,
    donchian: Donchian,
    prev_channel: Option<(f64, f64)>,
    fast: Ema,
    slow: Ema,
    adx: Adx,
    prev_diff: Option<f64>,
    mtf: Option<MtfTrend>,
}

impl SignalEngine {
    pub fn new() -> Result<Self> {
        Ok(Self {
            rsi: Rsi::new(14)?,
            prev_rsi: None,
            rsi_extreme: 50.0,
            bb: Bbands::new(20, 2.0)?,
            prev_bb_side: 0,
            macd: Macd::new(12, 26, 9)?,
            prev_hist: None,
            atr: Atr::new(14)?,
            last_atr: None,
            donchian: Donchian::new(20)?,
            prev_channel: None,
            fast: Ema::new(20)?,
            slow: Ema::new(50)?,
            adx: Adx::new(14)?,
            prev_diff: None,
            mtf: None,
        })
    }

    /// With the multi-timeframe confirmation rule: `higher` bars built along `cal` from the
    /// bars this engine sees.
    pub fn with_mtf(cal: Calendar, higher: Timeframe) -> Result<Self> {
        Ok(Self {
            mtf: Some(MtfTrend::new(cal, higher, 10, 30)?),
            ..Self::new()?
        })
    }

    /// Feed one closed bar; push the signals it fires onto `out`.
    pub fn update(&mut self, tb: &TimedBar, out: &mut Vec<Signal>) {
        let b = &tb.bar;
        let c = b.close;
        let higher = self.mtf.as_mut().and_then(|m| m.update(tb));
        let atr = self.atr.update(*b);
        if atr.is_some() {
            self.last_atr = atr;
        }

        // RSI mean reversion: fire when RSI comes back from an extreme.
        if let Some(r) = self.rsi.update(c) {
            if !(30.0..=70.0).contains(&r) {
                self.rsi_extreme = if r < 30.0 {
                    self.rsi_extreme.min(r)
                } else {
                    self.rsi_extreme.max(r)
                };
            }
            if let Some(p) = self.prev_rsi {
                if p < 30.0 && r >= 30.0 {
                    out.push(Signal {
                        rule: "rsi_reversion",
                        direction: 1,
                        strength: clamp01((30.0 - self.rsi_extreme) / 30.0),
                        features: vec![("rsi_14", r), ("rsi_extreme", self.rsi_extreme)],
                    });
                    self.rsi_extreme = 50.0;
                } else if p > 70.0 && r <= 70.0 {
                    out.push(Signal {
                        rule: "rsi_reversion",
                        direction: -1,
                        strength: clamp01((self.rsi_extreme - 70.0) / 30.0),
                        features: vec![("rsi_14", r), ("rsi_extreme", self.rsi_extreme)],
                    });
                    self.rsi_extreme = 50.0;
                }
            }
            self.prev_rsi = Some(r);
        }

        // Bollinger mean reversion: back inside the band after closing outside it.
        if let Some(v) = self.bb.update(c) {
            let side = if c < v.lower {
                -1
            } else if c > v.upper {
                1
            } else {
                0
            };
            if side == 0 && self.prev_bb_side != 0 {
                let pb = v.percent_b().unwrap_or(0.5);
                out.push(Signal {
                    rule: "bollinger_reversion",
                    direction: -self.prev_bb_side,
                    strength: clamp01((pb - 0.5).abs() * 2.0),
                    features: vec![
                        ("bb_percent_b", pb),
                        ("bb_bandwidth", v.bandwidth().unwrap_or(0.0)),
                    ],
                });
            }
            self.prev_bb_side = side;
        }

        // MACD crossover: the histogram changes sign.
        if let Some(m) = self.macd.update(c) {
            if let (Some(p), Some(a)) = (self.prev_hist, self.last_atr) {
                let dir = if p <= 0.0 && m.hist > 0.0 {
                    1
                } else if p >= 0.0 && m.hist < 0.0 {
                    -1
                } else {
                    0
                };
                if dir != 0 {
                    let strength = clamp01(if a > 0.0 { m.hist.abs() / a } else { 0.0 });
                    out.push(Signal {
                        rule: "macd_cross",
                        direction: dir,
                        strength,
                        features: vec![
                            ("macd_line", m.line),
                            ("macd_signal", m.signal),
                            ("macd_hist", m.hist),
                            ("atr_14", a),
                        ],
                    });
                    if let Some(h) = higher.filter(|h| h.trend == dir) {
                        out.push(Signal {
                            rule: "mtf_confirm",
                            direction: dir,
                            strength,
                            features: vec![
                                ("macd_hist", m.hist),
                                ("higher_ema_fast", h.ema_fast),
                                ("higher_ema_slow", h.ema_slow),
                                ("higher_as_of_ns", h.as_of.as_nanos() as f64),
                            ],
                        });
                    }
                }
            }
            self.prev_hist = Some(m.hist);
        }

        // Donchian breakout against the channel of the bars *before* this one.
        if let (Some((hi, lo)), Some(a)) = (self.prev_channel, self.last_atr) {
            let dir = if c > hi {
                1
            } else if c < lo {
                -1
            } else {
                0
            };
            if dir != 0 {
                let dist = if dir > 0 { c - hi } else { lo - c };
                out.push(Signal {
                    rule: "donchian_breakout",
                    direction: dir,
                    strength: clamp01(if a > 0.0 { dist / a } else { 0.0 }),
                    features: vec![
                        ("donchian_upper", hi),
                        ("donchian_lower", lo),
                        ("close", c),
                        ("atr_14", a),
                    ],
                });
            }
        }
        if let Some(ch) = self.donchian.update(*b) {
            self.prev_channel = Some((ch.upper, ch.lower));
        }

        // Trend following: EMA(20)/EMA(50) cross confirmed by ADX.
        let (f, s, adx) = (
            self.fast.update(c),
            self.slow.update(c),
            self.adx.update(*b),
        );
        if let (Some(f), Some(s)) = (f, s) {
            let d = f - s;
            if let (Some(p), Some(Some(x))) = (self.prev_diff, adx.map(|a| a.adx)) {
                let dir = if p <= 0.0 && d > 0.0 {
                    1
                } else if p >= 0.0 && d < 0.0 {
                    -1
                } else {
                    0
                };
                if dir != 0 && x > 20.0 {
                    out.push(Signal {
                        rule: "trend_ema_adx",
                        direction: dir,
                        strength: clamp01(x / 50.0),
                        features: vec![("ema_20", f), ("ema_50", s), ("adx_14", x)],
                    });
                }
            }
            self.prev_diff = Some(d);
        }
    }
}
