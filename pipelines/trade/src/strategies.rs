//! Built-in strategies, each a [`Strategy`] over the same streaming indicators the feature and
//! signal pipelines use (so a backtest's indicator values equal the `features` table's).
//!
//! All decide on a closed bar and trade through market orders that fill on the next bar.

use elite_pipelines::indicators::{Bbands, Donchian, Ema, Indicator, Macd, Ohlcv, Rsi, Sma};
use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Strategy};
use crate::order::Sym;
use crate::sim::Bar;

/// How big a position is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizing {
    /// A fixed number of shares.
    Shares(i64),
    /// A share of the strategy's capital per position.
    Percent(f64),
}

impl Default for Sizing {
    fn default() -> Self {
        Sizing::Percent(0.1)
    }
}

impl Sizing {
    fn go(&self, ctx: &mut Ctx<'_>, sym: Sym, dir: i64) {
        match *self {
            Sizing::Shares(n) => ctx.target_qty(sym, n * dir),
            Sizing::Percent(f) => {
                if dir == 0 {
                    ctx.target_qty(sym, 0)
                } else {
                    ctx.target_percent(sym, f * dir as f64)
                }
            }
        }
    }
}

/// A strategy as a backtest config names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StrategySpec {
    /// Long when the fast SMA crosses above the slow one, flat (or short) when it crosses below.
    SmaCross {
        fast: usize,
        slow: usize,
        #[serde(default)]
        short: bool,
        #[serde(default)]
        size: Sizing,
    },
    /// Mean reversion: long when RSI < `low`, exit when RSI > `exit`.
    RsiReversion {
        #[serde(default = "d14")]
        period: usize,
        #[serde(default = "d30")]
        low: f64,
        #[serde(default = "d50")]
        exit: f64,
        #[serde(default)]
        size: Sizing,
    },
    /// Mean reversion: long below the lower Bollinger band, exit at the middle band.
    Bollinger {
        #[serde(default = "d20")]
        period: usize,
        #[serde(default = "d2")]
        k: f64,
        #[serde(default)]
        size: Sizing,
    },
    /// Momentum: long on a close above the prior `period`-bar high, exit below the prior
    /// `exit_period`-bar low (Donchian / turtle breakout).
    Breakout {
        #[serde(default = "d20")]
        period: usize,
        #[serde(default = "d10")]
        exit_period: usize,
        #[serde(default)]
        size: Sizing,
    },
    /// Momentum: long while the MACD line is above its signal line (entered on the cross).
    MacdCross {
        #[serde(default = "d12")]
        fast: usize,
        #[serde(default = "d26")]
        slow: usize,
        #[serde(default = "d9")]
        signal: usize,
        #[serde(default)]
        size: Sizing,
    },
    /// Trend following: long while close > EMA(period) and EMA rising.
    Trend {
        #[serde(default = "d50")]
        period: usize,
        #[serde(default)]
        size: Sizing,
    },
}

fn d2() -> f64 {
    2.0
}
fn d9() -> usize {
    9
}
fn d10() -> usize {
    10
}
fn d12() -> usize {
    12
}
fn d14() -> usize {
    14
}
fn d20() -> usize {
    20
}
fn d26() -> usize {
    26
}
fn d30() -> f64 {
    30.0
}
fn d50<T: From<u8>>() -> T {
    T::from(50)
}

impl StrategySpec {
    /// Build the strategy, named `name`.
    pub fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let bad = |m: String| crate::Error::Config(format!("strategy {name}: {m}"));
        let ind = |e: elite_pipelines::Error| bad(e.to_string());
        Ok(match *self {
            StrategySpec::SmaCross {
                fast,
                slow,
                short,
                size,
            } => {
                if fast >= slow {
                    return Err(bad(format!(
                        "fast ({fast}) must be shorter than slow ({slow})"
                    )));
                }
                Sma::new(fast).map_err(ind)?;
                Sma::new(slow).map_err(ind)?;
                Box::new(SmaCross {
                    name: name.into(),
                    fast,
                    slow,
                    short,
                    size,
                    state: vec![],
                })
            }
            StrategySpec::RsiReversion {
                period,
                low,
                exit,
                size,
            } => {
                Rsi::new(period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || RsiRev {
                    rsi: Rsi::new(period).expect("validated above"),
                    low,
                    exit,
                }))
            }
            StrategySpec::Bollinger { period, k, size } => {
                Bbands::new(period, k).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || Boll {
                    bb: Bbands::new(period, k).expect("validated above"),
                }))
            }
            StrategySpec::Breakout {
                period,
                exit_period,
                size,
            } => {
                Donchian::new(period).map_err(ind)?;
                Donchian::new(exit_period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || Breakout {
                    entry: Donchian::new(period).expect("validated above"),
                    exit: Donchian::new(exit_period).expect("validated above"),
                    prev: None,
                }))
            }
            StrategySpec::MacdCross {
                fast,
                slow,
                signal,
                size,
            } => {
                Macd::new(fast, slow, signal).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || MacdX {
                    macd: Macd::new(fast, slow, signal).expect("validated above"),
                }))
            }
            StrategySpec::Trend { period, size } => {
                Ema::new(period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || TrendRule {
                    ema: Ema::new(period).expect("validated above"),
                    prev: None,
                }))
            }
        })
    }
}

/// SMA crossover, written out for the benchmark's hot loop (two running sums per symbol).
struct SmaCross {
    name: String,
    fast: usize,
    slow: usize,
    short: bool,
    size: Sizing,
    state: Vec<Option<(Sma, Sma, f64)>>,
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let (fast, slow) = (self.fast, self.slow);
        let st = self.state[i].get_or_insert_with(|| {
            (
                Sma::new(fast).expect("validated in build"),
                Sma::new(slow).expect("validated in build"),
                0.0,
            )
        });
        let f = st.0.update(bar.close);
        let s = st.1.update(bar.close);
        let (Some(f), Some(s)) = (f, s) else { return };
        let d = f - s;
        let before = st.2;
        if d != 0.0 {
            st.2 = d; // last non-zero difference, as backtrader's CrossOver keeps it
        }
        if before < 0.0 && d > 0.0 {
            self.size.go(ctx, bar.sym, 1);
        } else if before > 0.0 && d < 0.0 {
            self.size.go(ctx, bar.sym, if self.short { -1 } else { 0 });
        }
    }
}

/// A per-symbol rule: given the bar, the wanted direction (`Some(+1 | 0 | -1)`) or no change.
trait Rule {
    fn decide(&mut self, bar: &Ohlcv, holding: i64) -> Option<i64>;
}

struct PerSymbol<R, F> {
    name: String,
    size: Sizing,
    make: F,
    state: Vec<Option<R>>,
}

impl<R: Rule, F: Fn() -> R> PerSymbol<R, F> {
    fn new(name: &str, size: Sizing, make: F) -> Self {
        PerSymbol {
            name: name.into(),
            size,
            make,
            state: vec![],
        }
    }
}

impl<R: Rule, F: Fn() -> R> Strategy for PerSymbol<R, F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let r = self.state[i].get_or_insert_with(&self.make);
        let ohlcv = Ohlcv {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        let holding = ctx.exposure(bar.sym).signum();
        if let Some(dir) = r.decide(&ohlcv, holding)
            && dir != holding
        {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}

struct RsiRev {
    rsi: Rsi,
    low: f64,
    exit: f64,
}

impl Rule for RsiRev {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let r = self.rsi.update(b.close)?;
        if holding == 0 && r < self.low {
            Some(1)
        } else if holding > 0 && r > self.exit {
            Some(0)
        } else {
            None
        }
    }
}

struct Boll {
    bb: Bbands,
}

impl Rule for Boll {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let o = self.bb.update(b.close)?;
        if holding == 0 && b.close < o.lower {
            Some(1)
        } else if holding > 0 && b.close > o.middle {
            Some(0)
        } else {
            None
        }
    }
}

struct Breakout {
    entry: Donchian,
    exit: Donchian,
    /// The channels up to the previous bar (a breakout compares with the *prior* extremes).
    prev: Option<(Option<f64>, Option<f64>)>,
}

impl Rule for Breakout {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let hi = self.entry.update(*b).map(|o| o.upper);
        let lo = self.exit.update(*b).map(|o| o.lower);
        let prev = self.prev.replace((hi, lo));
        let (Some(ph), Some(pl)) = prev? else {
            return None;
        };
        if holding == 0 && b.close > ph {
            Some(1)
        } else if holding > 0 && b.close < pl {
            Some(0)
        } else {
            None
        }
    }
}

struct MacdX {
    macd: Macd,
}

impl Rule for MacdX {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let o = self.macd.update(b.close)?;
        match (holding, o.line > o.signal) {
            (0, true) => Some(1),
            (h, false) if h > 0 => Some(0),
            _ => None,
        }
    }
}

struct TrendRule {
    ema: Ema,
    prev: Option<f64>,
}

impl Rule for TrendRule {
    fn decide(&mut self, b: &Ohlcv, holding: i64) -> Option<i64> {
        let e = self.ema.update(b.close)?;
        let rising = self.prev.replace(e).is_some_and(|p| e > p);
        let up = b.close > e && rising;
        match (holding, up) {
            (0, true) => Some(1),
            (h, false) if h > 0 => Some(0),
            _ => None,
        }
    }
}
