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
    /// Volatility targeting: a share of capital of `vol` / the symbol's annualized volatility
    /// (EWMA), at most `max` (no trade before 20 returns).
    VolTarget { vol: f64, max: f64 },
}

impl Default for Sizing {
    fn default() -> Self {
        Sizing::Percent(0.1)
    }
}

impl Sizing {
    /// Trade toward this size in `sym`: long (`dir` = 1), short (−1) or flat (0).
    pub fn go(&self, ctx: &mut Ctx<'_>, sym: Sym, dir: i64) {
        match *self {
            Sizing::Shares(n) => ctx.target_qty(sym, n * dir),
            Sizing::Percent(f) => {
                if dir == 0 {
                    ctx.target_qty(sym, 0)
                } else {
                    ctx.target_percent(sym, f * dir as f64)
                }
            }
            Sizing::VolTarget { vol, max } => {
                if dir == 0 {
                    ctx.target_qty(sym, 0)
                } else if let Some(s) = ctx.volatility(sym).filter(|s| *s > 0.0) {
                    ctx.target_percent(sym, (vol / s).min(max) * dir as f64)
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
    /// A portfolio of every symbol, rebalanced every `every` instants (and when a weight drifts
    /// more than `drift` from its target) to weights from `method` over the last `lookback`
    /// returns (Ledoit-Wolf covariance, mean returns). Trades smaller than `min_trade` × capital
    /// are skipped (turnover and cost awareness).
    /// Pairs trading on `a` and `b`: over the last `lookback` instants, regress log a on log b
    /// (hedge ratio β), and when the pair is cointegrated (Engle-Granger at 5%, unless
    /// `require_cointegration = false`) and the spread's z-score passes ±`entry`, sell the rich
    /// leg and buy β times the value of the cheap one, each leg `size` × capital; flat when |z| <
    /// `exit`. Needs shorting allowed by risk.
    Pairs {
        a: String,
        b: String,
        #[serde(default = "d60")]
        lookback: usize,
        #[serde(default = "d2")]
        entry: f64,
        #[serde(default = "d05")]
        exit: f64,
        #[serde(default = "d05")]
        size: f64,
        #[serde(default = "dtrue")]
        require_cointegration: bool,
    },
    Portfolio {
        method: PortfolioMethod,
        #[serde(default = "d60")]
        lookback: usize,
        #[serde(default = "d20")]
        every: usize,
        #[serde(default)]
        drift: Option<f64>,
        #[serde(default = "d1")]
        max_weight: f64,
        #[serde(default = "d095")]
        invested: f64,
        #[serde(default)]
        min_trade: f64,
    },
    /// Trades a model's predictions (the models issue's `predictions` table): long when the
    /// score exceeds `long_above`, short when it falls below `short_below` (if set), flat again
    /// when it crosses `neutral`. For a classifier the score is P(up); for a regression model it
    /// is the predicted forward return (set the thresholds in return units).
    Ml {
        /// The model or ensemble whose predictions to trade: its name (`ensemble:stacking`,
        /// `lstm`…), matched to one run's `<name>-<hash>` model id, or an exact model id.
        model: String,
        /// `walk_forward` (out-of-sample, the default), `production` or `shadow` (served).
        #[serde(default = "d_walk_forward")]
        source: String,
        #[serde(default = "d055")]
        long_above: f64,
        #[serde(default)]
        short_below: Option<f64>,
        #[serde(default = "d05")]
        neutral: f64,
        #[serde(default)]
        size: Sizing,
    },
    /// Conditional entries from the config: enter (`long` or `short`) when every `entry`
    /// condition holds, exit when any `exit` condition holds. A condition is
    /// `<operand> <op> <operand>`, an operand being `open|high|low|close|volume`, a number or an
    /// indicator (`sma(200)`, `macd(12,26,9).hist`), the op one of `<`, `<=`, `>`, `>=`,
    /// `crosses_above`, `crosses_below`. Exits also come from the `[rules]` stops.
    Conditional {
        entry: Vec<String>,
        #[serde(default)]
        exit: Vec<String>,
        #[serde(default = "d_long")]
        direction: String,
        #[serde(default)]
        size: Sizing,
    },
    /// Market making: after each bar, quote a bid and an ask around a reservation price, the
    /// close skewed against inventory `q`: `r = close × (1 − skew × q / max_inventory)`, at
    /// `r × (1 ∓ half_spread_bps / 10⁴)` rounded outward to `tick`, `quote` shares each, as IOC
    /// limit orders that live for the next bar only (filled when it trades through them, at its
    /// open when it opens through). No bid that could take inventory past `+max_inventory`, no
    /// ask past `−max_inventory` (needs shorting allowed by risk). The shared data has no quote
    /// history, so this quotes on bars: the close stands for the mid.
    MarketMaking {
        quote: i64,
        max_inventory: i64,
        #[serde(default = "d10f")]
        half_spread_bps: f64,
        #[serde(default)]
        skew: f64,
        #[serde(default = "d_tick")]
        tick: f64,
    },
    /// Event-driven: acts on events as they are recorded — rule signals from the `signals`
    /// table (`rules`, at least `min_strength`): enter in the signal's direction (short only
    /// when `short`), hold `hold` bars from the last event, then exit — and on the exchange
    /// calendar (`calendar`): flat by the close before a holiday, no entry into it.
    Event {
        rules: Vec<String>,
        #[serde(default)]
        min_strength: f64,
        #[serde(default = "d_hold")]
        hold: usize,
        #[serde(default)]
        short: bool,
        /// A calendar in the `calendar` table (e.g. `NYSE`).
        #[serde(default)]
        calendar: Option<String>,
        #[serde(default)]
        size: Sizing,
    },
}

fn d10f() -> f64 {
    10.0
}
fn d_tick() -> f64 {
    0.01
}

fn d_hold() -> usize {
    5
}
fn d_long() -> String {
    "long".into()
}

fn d_walk_forward() -> String {
    "walk_forward".into()
}
fn d055() -> f64 {
    0.55
}

pub use crate::inputs::{Events, Inputs, Predictions, SignalEvent};

fn d05() -> f64 {
    0.5
}
fn dtrue() -> bool {
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortfolioMethod {
    Equal,
    MinVariance,
    MaxSharpe,
    RiskParity,
    Hrp,
}

fn d60() -> usize {
    60
}
fn d1() -> f64 {
    1.0
}
fn d095() -> f64 {
    0.95
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
    /// Build the strategy, named `name`; `symbols` names the engine's symbol indices.
    pub fn build(&self, name: &str, symbols: &[String]) -> Result<Box<dyn Strategy>, crate::Error> {
        self.build_with(name, symbols, &Inputs::default())
    }

    /// [`StrategySpec::build`] with side inputs (model predictions).
    pub fn build_with(
        &self,
        name: &str,
        symbols: &[String],
        inputs: &Inputs,
    ) -> Result<Box<dyn Strategy>, crate::Error> {
        let bad = |m: String| crate::Error::Config(format!("strategy {name}: {m}"));
        if let StrategySpec::Ml {
            model,
            long_above,
            short_below,
            neutral,
            size,
            ..
        } = self
        {
            if !inputs.predictions.contains_key(model) {
                return Err(bad(format!(
                    "no predictions of model {model:?} were loaded"
                )));
            }
            if short_below.is_some_and(|s| s > *neutral) || *long_above < *neutral {
                return Err(bad(format!(
                    "short_below ≤ neutral ≤ long_above is needed (got {short_below:?}, {neutral}, {long_above})"
                )));
            }
            return Ok(Box::new(MlSignal {
                name: name.into(),
                model: model.clone(),
                long_above: *long_above,
                short_below: *short_below,
                neutral: *neutral,
                size: *size,
                unknown_yet: 0,
            }));
        }
        let ind = |e: elite_pipelines::Error| bad(e.to_string());
        if let StrategySpec::Pairs {
            a,
            b,
            lookback,
            entry,
            exit,
            size,
            require_cointegration,
        } = self
        {
            let find = |s: &str| {
                symbols
                    .iter()
                    .position(|x| x == s)
                    .map(|i| i as Sym)
                    .ok_or_else(|| bad(format!("symbol {s} is not in the data")))
            };
            if *lookback < 10 || *entry <= *exit || *size <= 0.0 {
                return Err(bad(format!(
                    "lookback ≥ 10, entry > exit and size > 0 are needed (got {lookback}, {entry}, {exit}, {size})"
                )));
            }
            return Ok(Box::new(Pairs {
                name: name.into(),
                a: find(a)?,
                b: find(b)?,
                lookback: *lookback,
                entry: *entry,
                exit: *exit,
                size: *size,
                require_cointegration: *require_cointegration,
                last: (f64::NAN, f64::NAN),
                hist: std::collections::VecDeque::new(),
                state: 0,
            }));
        }
        if let StrategySpec::Event {
            rules,
            min_strength,
            hold,
            short,
            calendar,
            size,
        } = self
        {
            if rules.is_empty() || *hold == 0 {
                return Err(bad("needs at least one rule and hold ≥ 1 bar".into()));
            }
            let holidays = match calendar {
                None => None,
                Some(c) => Some(std::sync::Arc::clone(inputs.holidays.get(c).ok_or_else(
                    || bad(format!("no holidays of calendar {c:?} were loaded")),
                )?)),
            };
            return Ok(Box::new(EventDriven {
                name: name.into(),
                rules: rules.clone(),
                min_strength: *min_strength,
                hold: *hold,
                short: *short,
                holidays,
                size: *size,
                since: vec![],
            }));
        }
        if let StrategySpec::Conditional {
            entry,
            exit,
            direction,
            size,
        } = self
        {
            let dir = match direction.as_str() {
                "long" => 1,
                "short" => -1,
                other => return Err(bad(format!("direction {other:?} is not long or short"))),
            };
            if entry.is_empty() {
                return Err(bad("needs at least one entry condition".into()));
            }
            let parse = |list: &[String]| -> Result<Vec<Condition>, crate::Error> {
                list.iter()
                    .map(|c| Condition::parse(c).map_err(bad))
                    .collect()
            };
            let (entry, exit) = (parse(entry)?, parse(exit)?);
            let mut ops = vec![];
            for c in entry.iter().chain(&exit) {
                for o in [&c.left, &c.right] {
                    if let Operand::Indicator(spec) = o
                        && !ops.contains(spec)
                    {
                        ops.push(*spec);
                    }
                }
            }
            return Ok(Box::new(ConditionalRule {
                name: name.into(),
                entry,
                exit,
                dir,
                size: *size,
                indicators: ops,
                state: vec![],
            }));
        }
        Ok(match *self {
            StrategySpec::Pairs { .. }
            | StrategySpec::Ml { .. }
            | StrategySpec::Event { .. }
            | StrategySpec::Conditional { .. } => unreachable!("handled above"),
            StrategySpec::MarketMaking {
                quote,
                max_inventory,
                half_spread_bps,
                skew,
                tick,
            } => {
                if quote <= 0
                    || max_inventory < quote
                    || half_spread_bps.is_nan()
                    || half_spread_bps <= 0.0
                    || tick.is_nan()
                    || tick <= 0.0
                    || !(0.0..1.0).contains(&skew)
                {
                    return Err(bad(format!(
                        "quote > 0, max_inventory ≥ quote, half_spread_bps > 0, tick > 0 and \
                         0 ≤ skew < 1 are needed (got {quote}, {max_inventory}, {half_spread_bps}, \
                         {tick}, {skew})"
                    )));
                }
                Box::new(MarketMaker {
                    name: name.into(),
                    quote,
                    max: max_inventory,
                    half: half_spread_bps / 10_000.0,
                    skew,
                    tick,
                })
            }
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
                let fresh = (
                    Sma::new(fast).map_err(ind)?,
                    Sma::new(slow).map_err(ind)?,
                    0.0,
                );
                Box::new(SmaCross {
                    name: name.into(),
                    fresh,
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
                let rsi = Rsi::new(period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || RsiRev {
                    rsi: rsi.clone(),
                    low,
                    exit,
                }))
            }
            StrategySpec::Bollinger { period, k, size } => {
                let bb = Bbands::new(period, k).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || Boll { bb: bb.clone() }))
            }
            StrategySpec::Breakout {
                period,
                exit_period,
                size,
            } => {
                let entry = Donchian::new(period).map_err(ind)?;
                let exit = Donchian::new(exit_period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || Breakout {
                    entry: entry.clone(),
                    exit: exit.clone(),
                    prev: None,
                }))
            }
            StrategySpec::MacdCross {
                fast,
                slow,
                signal,
                size,
            } => {
                let macd = Macd::new(fast, slow, signal).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || MacdX {
                    macd: macd.clone(),
                }))
            }
            StrategySpec::Portfolio {
                method,
                lookback,
                every,
                drift,
                max_weight,
                invested,
                min_trade,
            } => {
                if lookback < 2
                    || every == 0
                    || !(0.0..=1.0).contains(&invested)
                    || max_weight <= 0.0
                {
                    return Err(bad(format!(
                        "lookback ≥ 2, every ≥ 1, 0 ≤ invested ≤ 1 and max_weight > 0 are needed \
                         (got {lookback}, {every}, {invested}, {max_weight})"
                    )));
                }
                Box::new(Portfolio {
                    name: name.into(),
                    method,
                    lookback,
                    every,
                    drift,
                    max_weight,
                    invested,
                    min_trade,
                    hist: std::collections::VecDeque::new(),
                    last: vec![],
                    since: usize::MAX,
                    target: vec![],
                    errors: 0,
                })
            }
            StrategySpec::Trend { period, size } => {
                let ema = Ema::new(period).map_err(ind)?;
                Box::new(PerSymbol::new(name, size, move || TrendRule {
                    ema: ema.clone(),
                    prev: None,
                }))
            }
        })
    }
}

/// SMA crossover, written out for the benchmark's hot loop (two running sums per symbol).
struct SmaCross {
    name: String,
    /// A symbol's state before its first bar: (fast SMA, slow SMA, last non-zero difference).
    fresh: (Sma, Sma, f64),
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
        let st = self.state[i].get_or_insert_with(|| self.fresh.clone());
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

struct MarketMaker {
    name: String,
    quote: i64,
    max: i64,
    half: f64,
    skew: f64,
    tick: f64,
}

impl MarketMaker {
    /// (bid, ask) for a mid of `mid` holding `inventory`.
    fn quotes(&self, mid: f64, inventory: i64) -> (f64, f64) {
        let r = mid * (1.0 - self.skew * inventory as f64 / self.max as f64);
        // Rounded outward to the tick; the small epsilon keeps an exact tick multiple exact.
        let t = self.tick;
        let bid = ((r * (1.0 - self.half)) / t + 1e-9).floor() * t;
        let ask = ((r * (1.0 + self.half)) / t - 1e-9).ceil() * t;
        (bid, ask)
    }
}

impl Strategy for MarketMaker {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        use crate::order::{OrderKind, OrderRequest, Side, Tif};
        if !(bar.close.is_finite() && bar.close > 0.0) {
            return;
        }
        // Last bar's quotes were IOC: they have filled or ended, so the book is the inventory.
        let q = ctx.book.qty(bar.sym);
        let (bid, ask) = self.quotes(bar.close, q);
        for (side, px, qty) in [
            (Side::Buy, bid, (self.max - q).min(self.quote)),
            (Side::Sell, ask, (self.max + q).min(self.quote)),
        ] {
            let Some(limit) = crate::Money::from_f64(px).filter(|m| m.0 > 0) else {
                continue;
            };
            if qty > 0 {
                ctx.submit(
                    OrderRequest::new("", bar.sym, side, qty, OrderKind::Limit { limit })
                        .tif(Tif::Ioc),
                );
            }
        }
    }
}

struct Portfolio {
    name: String,
    method: PortfolioMethod,
    lookback: usize,
    every: usize,
    drift: Option<f64>,
    max_weight: f64,
    invested: f64,
    min_trade: f64,
    /// Closes at the end of each completed instant (the last `lookback + 1`).
    hist: std::collections::VecDeque<Vec<f64>>,
    last: Vec<f64>,
    since: usize,
    target: Vec<f64>,
    /// Optimizations that failed (the portfolio then keeps its previous weights).
    errors: usize,
}

impl Portfolio {
    fn weights(&self, ret: &[Vec<f64>]) -> Result<Vec<f64>, crate::portfolio::OptError> {
        use crate::portfolio::{Bounds, Objective, hrp, ledoit_wolf, mean_variance, risk_parity};
        let n = ret.first().map_or(0, Vec::len);
        let (cov, _, mu) = ledoit_wolf(ret)?;
        let cap = self.max_weight.max(1.0 / n as f64);
        Ok(match self.method {
            PortfolioMethod::Equal => vec![1.0 / n as f64; n],
            PortfolioMethod::MinVariance => {
                mean_variance(&mu, &cov, Objective::MinVariance, &Bounds::long_only(cap))?
            }
            PortfolioMethod::MaxSharpe => {
                mean_variance(&mu, &cov, Objective::MaxSharpe, &Bounds::long_only(cap))?
            }
            PortfolioMethod::RiskParity => risk_parity(&cov)?,
            PortfolioMethod::Hrp => hrp(&cov)?,
        })
    }

    fn rebalance(&mut self, ctx: &mut Ctx<'_>) {
        let n = self.last.len();
        let window: Vec<&Vec<f64>> = self.hist.iter().collect();
        // Assets with a full, positive price window.
        let assets: Vec<usize> = (0..n)
            .filter(|&i| {
                window
                    .iter()
                    .all(|c| c.get(i).is_some_and(|p| p.is_finite() && *p > 0.0))
            })
            .collect();
        if assets.len() < 2 {
            return;
        }
        let ret: Vec<Vec<f64>> = window
            .windows(2)
            .map(|w| assets.iter().map(|&i| w[1][i] / w[0][i] - 1.0).collect())
            .collect();
        let w = match self.weights(&ret) {
            Ok(w) => w,
            Err(_) => {
                self.errors += 1;
                return;
            }
        };
        let mut target = vec![0.0; n];
        for (k, &i) in assets.iter().enumerate() {
            target[i] = w[k] * self.invested;
        }
        self.target = target;
        self.trade(ctx);
    }

    fn trade(&mut self, ctx: &mut Ctx<'_>) {
        for (i, &t) in self.target.iter().enumerate() {
            let p = ctx.prices.get(i).copied().unwrap_or(f64::NAN);
            if !(p.is_finite() && p > 0.0) {
                continue;
            }
            let want = (t * ctx.capital / p).trunc() as i64;
            let have = ctx.exposure(i as Sym);
            if ((want - have) as f64 * p).abs() >= self.min_trade * ctx.capital && want != have {
                ctx.target_qty(i as Sym, want);
            }
        }
    }

    fn drifted(&self, ctx: &Ctx<'_>) -> bool {
        let Some(th) = self.drift else { return false };
        if self.target.is_empty() || ctx.capital <= 0.0 {
            return false;
        }
        let cur: Vec<f64> = (0..self.target.len())
            .map(|i| {
                let p = ctx.prices.get(i).copied().unwrap_or(0.0);
                ctx.book.qty(i as Sym) as f64 * if p.is_finite() { p } else { 0.0 } / ctx.capital
            })
            .collect();
        crate::portfolio::drifted(&cur, &self.target, th)
    }
}

impl Strategy for Portfolio {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, _ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.last.len() <= i {
            self.last.resize(i + 1, f64::NAN);
        }
        self.last[i] = bar.close;
    }
    fn on_instant_close(&mut self, ctx: &mut Ctx<'_>) {
        // The instant is complete: its closes are known, decide now.
        self.hist.push_back(self.last.clone());
        while self.hist.len() > self.lookback + 1 {
            self.hist.pop_front();
        }
        self.since = self.since.saturating_add(1);
        if self.hist.len() == self.lookback + 1 && (self.since >= self.every || self.drifted(ctx)) {
            self.since = 0;
            self.rebalance(ctx);
        }
    }
}

struct Pairs {
    name: String,
    a: Sym,
    b: Sym,
    lookback: usize,
    entry: f64,
    exit: f64,
    size: f64,
    require_cointegration: bool,
    last: (f64, f64),
    /// Log prices (a, b) at the end of each completed instant where both traded.
    hist: std::collections::VecDeque<(f64, f64)>,
    /// +1 long the spread (long a, short b), −1 short it, 0 flat.
    state: i8,
}

impl Pairs {
    fn decide(&mut self, ctx: &mut Ctx<'_>) {
        let (la, lb): (Vec<f64>, Vec<f64>) = self.hist.iter().copied().unzip();
        let Some(st) = crate::pairs::pair_stat(&la, &lb) else {
            return;
        };
        let (pa, pb) = (ctx.prices[self.a as usize], ctx.prices[self.b as usize]);
        if !(pa > 0.0 && pb > 0.0) {
            return;
        }
        let want: i8 = if self.state != 0 && st.z.abs() < self.exit {
            0
        } else if self.state == 0 && (st.cointegrated || !self.require_cointegration) {
            if st.z > self.entry {
                -1
            } else if st.z < -self.entry {
                1
            } else {
                0
            }
        } else {
            self.state
        };
        if want == self.state {
            return;
        }
        self.state = want;
        let notional = self.size * ctx.capital;
        let qa = (notional / pa).trunc() as i64 * want as i64;
        let qb = -(st.beta * notional / pb).trunc() as i64 * want as i64;
        ctx.target_qty(self.a, qa);
        ctx.target_qty(self.b, qb);
    }
}

impl Strategy for Pairs {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, _ctx: &mut Ctx<'_>) {
        if bar.sym == self.a {
            self.last.0 = bar.close;
        } else if bar.sym == self.b {
            self.last.1 = bar.close;
        }
    }
    fn on_instant_close(&mut self, ctx: &mut Ctx<'_>) {
        if self.last.0 > 0.0 && self.last.1 > 0.0 {
            self.hist.push_back((self.last.0.ln(), self.last.1.ln()));
            while self.hist.len() > self.lookback {
                self.hist.pop_front();
            }
            if self.hist.len() == self.lookback {
                self.decide(ctx);
            }
        }
    }
}

/// Trades a model's predictions (see [`StrategySpec::Ml`]).
struct MlSignal {
    name: String,
    /// The model whose predictions (in [`Ctx::inputs`]) it trades.
    model: String,
    long_above: f64,
    short_below: Option<f64>,
    neutral: f64,
    size: Sizing,
    /// Predictions present for a bar but not yet known at its close (ignored; never traded).
    unknown_yet: u64,
}

impl Strategy for MlSignal {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let Some(&(p, known)) = ctx
            .inputs
            .predictions
            .get(&self.model)
            .and_then(|m| m.get(&(bar.sym, bar.ts_event.as_nanos())))
        else {
            return;
        };
        // A prediction is usable only once it exists: at or before this bar's close.
        if known > ctx.now.as_nanos() {
            self.unknown_yet += 1;
            return;
        }
        let holding = ctx.exposure(bar.sym).signum();
        let dir = if p > self.long_above {
            1
        } else if self.short_below.is_some_and(|s| p < s) {
            -1
        } else if (holding > 0 && p < self.neutral) || (holding < 0 && p > self.neutral) {
            0
        } else {
            holding
        };
        if dir != holding {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}

/// Acts on recorded events (see [`StrategySpec::Event`]).
struct EventDriven {
    name: String,
    rules: Vec<String>,
    min_strength: f64,
    hold: usize,
    short: bool,
    holidays: Option<std::sync::Arc<std::collections::BTreeSet<chrono::NaiveDate>>>,
    size: Sizing,
    /// Per symbol: bars since the last event acted on.
    since: Vec<usize>,
}

impl EventDriven {
    /// Whether one of the next two weekdays after `bar`'s date is a holiday of the calendar
    /// (schedules are published in advance, so this is known at the bar's close). Orders decided
    /// now fill at the next bar's open, so exiting now is what leaves the book flat at the close
    /// before the holiday.
    fn holiday_soon(&self, bar: &Bar) -> bool {
        let Some(h) = &self.holidays else {
            return false;
        };
        use chrono::Datelike;
        let mut d = bar.ts_event.to_datetime().date_naive();
        for _ in 0..2 {
            loop {
                d = d.succ_opt().unwrap_or(d);
                if d.weekday().number_from_monday() <= 5 {
                    break;
                }
            }
            if h.contains(&d) {
                return true;
            }
        }
        false
    }
}

impl Strategy for EventDriven {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.since.len() <= i {
            self.since.resize(i + 1, usize::MAX);
        }
        self.since[i] = self.since[i].saturating_add(1);
        let holding = ctx.exposure(bar.sym).signum();
        if self.holiday_soon(bar) {
            if holding != 0 {
                self.size.go(ctx, bar.sym, 0);
            }
            return;
        }
        // The strongest known event of this bar among the rules acted on.
        let now = ctx.now.as_nanos();
        let event = ctx
            .inputs
            .events
            .get(&(bar.sym, bar.ts_event.as_nanos()))
            .into_iter()
            .flatten()
            .filter(|e| {
                e.known <= now
                    && e.strength >= self.min_strength
                    && e.direction != 0
                    && self.rules.contains(&e.rule)
            })
            .max_by(|a, b| a.strength.total_cmp(&b.strength));
        let mut dir = holding;
        if let Some(e) = event {
            let d = i64::from(e.direction.signum());
            dir = if d < 0 && !self.short { 0 } else { d };
            self.since[i] = 0;
        } else if holding != 0 && self.since[i] >= self.hold {
            dir = 0;
        }
        if dir != holding {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}

/// One side of a condition.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Operand {
    Field(usize),
    Number(f64),
    Indicator(elite_pipelines::spec::IndicatorSpec),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    CrossesAbove,
    CrossesBelow,
}

/// `<operand> <op> <operand>`.
#[derive(Clone, Debug, PartialEq)]
struct Condition {
    text: String,
    left: Operand,
    op: Op,
    right: Operand,
}

const FIELDS: [&str; 5] = ["open", "high", "low", "close", "volume"];

impl Condition {
    fn parse(text: &str) -> Result<Self, String> {
        let ops = [
            (" crosses_above ", Op::CrossesAbove),
            (" crosses_below ", Op::CrossesBelow),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (at, tok, op) = ops
            .iter()
            .find_map(|(t, o)| text.find(t).map(|i| (i, *t, *o)))
            .ok_or_else(|| {
                format!(
                    "condition {text:?}: expected `<operand> <op> <operand>` with op one of <, <=, >, >=, crosses_above, crosses_below"
                )
            })?;
        let operand = |s: &str| -> Result<Operand, String> {
            let s = s.trim();
            if let Some(i) = FIELDS.iter().position(|f| *f == s) {
                return Ok(Operand::Field(i));
            }
            if let Ok(v) = s.parse::<f64>() {
                return Ok(Operand::Number(v));
            }
            let spec: elite_pipelines::spec::IndicatorSpec =
                s.parse().map_err(|e| format!("condition {text:?}: {e}"))?;
            if spec.kind.input() == elite_pipelines::spec::InputKind::Pair {
                return Err(format!(
                    "condition {text:?}: `{s}` needs a second series, which conditions do not have"
                ));
            }
            Ok(Operand::Indicator(spec))
        };
        Ok(Condition {
            text: text.to_string(),
            left: operand(&text[..at])?,
            op,
            right: operand(&text[at + tok.len()..])?,
        })
    }
}

/// Per-symbol state: indicators, their latest values, and each condition's previous sides.
#[derive(Clone, Debug)]
struct CondState {
    ind: Vec<elite_pipelines::spec::DynIndicator>,
    val: Vec<Option<f64>>,
    prev: Vec<Option<(f64, f64)>>,
}

/// Enters when every entry condition holds, exits when any exit condition does.
struct ConditionalRule {
    name: String,
    entry: Vec<Condition>,
    exit: Vec<Condition>,
    dir: i64,
    size: Sizing,
    indicators: Vec<elite_pipelines::spec::IndicatorSpec>,
    state: Vec<Option<CondState>>,
}

impl Strategy for ConditionalRule {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let n = self.entry.len() + self.exit.len();
        let st = self.state[i].get_or_insert_with(|| CondState {
            ind: self.indicators.iter().map(|s| s.build()).collect(),
            val: vec![None; self.indicators.len()],
            prev: vec![None; n],
        });
        let ohlcv = Ohlcv {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        let obs = elite_pipelines::spec::Obs {
            bar: ohlcv,
            session: bar.ts_event.as_nanos().div_euclid(86_400_000_000_000),
            other: f64::NAN,
        };
        for (k, ind) in st.ind.iter_mut().enumerate() {
            st.val[k] = ind.update(&obs);
        }
        let fields = [bar.open, bar.high, bar.low, bar.close, bar.volume];
        let value = |o: &Operand, st: &CondState| -> Option<f64> {
            match o {
                Operand::Field(f) => Some(fields[*f]),
                Operand::Number(v) => Some(*v),
                Operand::Indicator(s) => {
                    let k = self.indicators.iter().position(|x| x == s)?;
                    st.val[k]
                }
            }
        };
        // Every condition is evaluated on every bar, so crossings see the previous bar.
        let mut truth = Vec::with_capacity(n);
        for (k, c) in self.entry.iter().chain(&self.exit).enumerate() {
            let now = value(&c.left, st).zip(value(&c.right, st));
            let prev = st.prev[k];
            truth.push(match (now, c.op) {
                (None, _) => false,
                (Some((l, r)), Op::Lt) => l < r,
                (Some((l, r)), Op::Le) => l <= r,
                (Some((l, r)), Op::Gt) => l > r,
                (Some((l, r)), Op::Ge) => l >= r,
                (Some((l, r)), Op::CrossesAbove) => prev.is_some_and(|(pl, pr)| pl <= pr) && l > r,
                (Some((l, r)), Op::CrossesBelow) => prev.is_some_and(|(pl, pr)| pl >= pr) && l < r,
            });
            st.prev[k] = now;
        }
        let holding = ctx.exposure(bar.sym).signum();
        let (entry, exit) = truth.split_at(self.entry.len());
        if holding == 0 && entry.iter().all(|t| *t) {
            self.size.go(ctx, bar.sym, self.dir);
        } else if holding != 0 && exit.iter().any(|t| *t) {
            self.size.go(ctx, bar.sym, 0);
        }
    }
}
