//! Built-in strategies, each a [`Strategy`] over the same streaming indicators the feature and
//! signal pipelines use (so a backtest's indicator values equal the `features` table's).
//!
//! One strategy per file, each with its own config struct (with `Default`) and builder; the
//! [`StrategySpec`] enum only names them for configs and dispatches. All decide on a closed bar
//! and trade through market orders that fill on the next bar (market making quotes IOC limits).

mod bollinger;
mod breakout;
mod conditional;
mod event;
mod macd_cross;
mod market_making;
mod ml;
mod pairs;
mod portfolio;
mod rsi_reversion;
mod rule;
mod sizing;
mod sma_cross;
mod trend;

use serde::{Deserialize, Serialize};

pub use self::bollinger::BollingerConfig;
pub use self::breakout::BreakoutConfig;
pub use self::conditional::ConditionalConfig;
pub use self::event::EventConfig;
pub use self::macd_cross::MacdCrossConfig;
pub use self::market_making::MarketMakingConfig;
pub use self::ml::MlConfig;
pub use self::pairs::PairsConfig;
pub use self::portfolio::{PortfolioConfig, PortfolioMethod, RiskModel};
pub use self::rsi_reversion::RsiReversionConfig;
pub use self::sizing::Sizing;
pub use self::sma_cross::SmaCrossConfig;
pub use self::trend::TrendConfig;
use crate::engine::Strategy;
pub use crate::inputs::{Events, Inputs, Predictions, SignalEvent};

/// A strategy as a backtest config names it (`type = "sma_cross"`, then its settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StrategySpec {
    /// Long when the fast SMA crosses above the slow one, flat (or short) when it crosses below.
    SmaCross(SmaCrossConfig),
    /// Mean reversion: long when RSI < `low`, exit when RSI > `exit`.
    RsiReversion(RsiReversionConfig),
    /// Mean reversion: long below the lower Bollinger band, exit at the middle band.
    Bollinger(BollingerConfig),
    /// Momentum: long on a close above the prior `period`-bar high, exit below the prior
    /// `exit_period`-bar low (Donchian / turtle breakout).
    Breakout(BreakoutConfig),
    /// Momentum: long while the MACD line is above its signal line (entered on the cross).
    MacdCross(MacdCrossConfig),
    /// Trend following: long while close > EMA(period) and EMA rising.
    Trend(TrendConfig),
    /// Pairs trading on `a` and `b`: over the last `lookback` instants, regress log a on log b
    /// (hedge ratio β), and when the pair is cointegrated (Engle-Granger at 5%, unless
    /// `require_cointegration = false`) and the spread's z-score passes ±`entry`, sell the rich
    /// leg and buy β times the value of the cheap one, each leg `size` × capital; flat when |z| <
    /// `exit`. Needs shorting allowed by risk.
    Pairs(PairsConfig),
    /// A portfolio of every symbol, rebalanced every `every` instants (and when a weight drifts
    /// more than `drift` from its target) to weights from `method` over the last `lookback`
    /// returns (Ledoit-Wolf covariance, mean returns). Trades smaller than `min_trade` × capital
    /// are skipped (turnover and cost awareness).
    Portfolio(PortfolioConfig),
    /// Trades a model's predictions (the models issue's `predictions` table): long when the
    /// score exceeds `long_above`, short when it falls below `short_below` (if set), flat again
    /// when it crosses `neutral`. For a classifier the score is P(up); for a regression model it
    /// is the predicted forward return (set the thresholds in return units).
    Ml(MlConfig),
    /// Conditional entries from the config: enter (`long` or `short`) when every `entry`
    /// condition holds, exit when any `exit` condition holds. A condition is
    /// `<operand> <op> <operand>`, an operand being `open|high|low|close|volume`, a number or an
    /// indicator (`sma(200)`, `macd(12,26,9).hist`), the op one of `<`, `<=`, `>`, `>=`,
    /// `crosses_above`, `crosses_below`. Exits also come from the `[rules]` stops.
    Conditional(ConditionalConfig),
    /// Market making: after each bar, quote a bid and an ask around a reservation price, the
    /// close skewed against inventory `q`: `r = close × (1 − skew × q / max_inventory)`, at
    /// `r × (1 ∓ half_spread_bps / 10⁴)` rounded outward to `tick`, `quote` shares each, as IOC
    /// limit orders that live for the next bar only (filled when it trades through them, at its
    /// open when it opens through). No bid that could take inventory past `+max_inventory`, no
    /// ask past `−max_inventory` (needs shorting allowed by risk). The shared data has no quote
    /// history, so this quotes on bars: the close stands for the mid.
    MarketMaking(MarketMakingConfig),
    /// Event-driven: acts on events as they are recorded — rule signals from the `signals`
    /// table (`rules`, at least `min_strength`): enter in the signal's direction (short only
    /// when `short`), hold `hold` bars from the last event, then exit — and on the exchange
    /// calendar (`calendar`): flat by the close before a holiday, no entry into it.
    Event(EventConfig),
}

impl StrategySpec {
    /// Build the strategy, named `name`; `symbols` names the engine's symbol indices.
    pub fn build(&self, name: &str, symbols: &[String]) -> Result<Box<dyn Strategy>, crate::Error> {
        self.build_with(name, symbols, &Inputs::default())
    }

    /// [`StrategySpec::build`] with side inputs (model predictions, signal events, calendars).
    pub fn build_with(
        &self,
        name: &str,
        symbols: &[String],
        inputs: &Inputs,
    ) -> Result<Box<dyn Strategy>, crate::Error> {
        match self {
            StrategySpec::SmaCross(c) => c.build(name),
            StrategySpec::RsiReversion(c) => c.build(name),
            StrategySpec::Bollinger(c) => c.build(name),
            StrategySpec::Breakout(c) => c.build(name),
            StrategySpec::MacdCross(c) => c.build(name),
            StrategySpec::Trend(c) => c.build(name),
            StrategySpec::Pairs(c) => c.build(name, symbols),
            StrategySpec::Portfolio(c) => c.build(name),
            StrategySpec::Ml(c) => c.build(name, inputs),
            StrategySpec::Conditional(c) => c.build(name),
            StrategySpec::MarketMaking(c) => c.build(name),
            StrategySpec::Event(c) => c.build(name, inputs),
        }
    }
}

/// A configuration error of strategy `name`.
fn bad(name: &str, m: impl std::fmt::Display) -> crate::Error {
    crate::Error::Config(format!("strategy {name}: {m}"))
}

/// An indicator's refusal of its parameters, as a configuration error of strategy `name`.
fn indicator(name: &str) -> impl Fn(elite_pipelines::Error) -> crate::Error + '_ {
    move |e| bad(name, e)
}
