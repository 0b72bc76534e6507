//! The run configuration: one TOML shape for `elite backtest`, `elite run trader --paper` and
//! `elite run trader --live`. The `[broker]` section is optional and read only by live runs.

use std::collections::BTreeMap;

use elite_trade::costs::CostModel;
use elite_trade::money::Money;
use elite_trade::risk::RiskLimits;
use elite_trade::sim::FillConfig;
use elite_trade::strategies::StrategySpec;
use serde::{Deserialize, Serialize};

use crate::brokers::Product;
use crate::{Error, Result};

/// A run (backtest, paper or live) as its TOML file describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    pub data: DataConfig,
    pub initial_cash: Money,
    #[serde(default)]
    pub fills: FillConfig,
    #[serde(default)]
    pub costs: CostModel,
    #[serde(default)]
    pub risk: RiskLimits,
    /// For annualizing the tear sheet; inferred from bar spacing when absent.
    #[serde(default)]
    pub periods_per_year: Option<f64>,
    #[serde(rename = "strategy")]
    pub strategies: Vec<StrategyEntry>,
    /// Move capital between strategies by recent Sharpe (see `elite_trade::engine::AllocatorConfig`).
    #[serde(default)]
    pub allocator: Option<elite_trade::engine::AllocatorConfig>,
    /// How market orders are worked: direct (default), twap, vwap or pov.
    #[serde(default)]
    pub execution: elite_trade::engine::Execution,
    /// Exit rules for every strategy's positions: stop-loss, trailing stop, break-even stop,
    /// partial take-profits.
    #[serde(default)]
    pub rules: Option<elite_trade::engine::ExitRules>,
    /// The live broker (`elite run trader --live`); meaningful only live (a backtest or paper
    /// run never reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerConfig>,
    /// Exchange contract rules (lots, ticks, freeze quantities, circuit band) for every order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contracts: Option<ContractsConfig>,
}

/// `[contracts]`: every traded symbol's lot, tick and freeze quantity — from the `contracts`
/// table (`elite ingest instruments`, the newest row per symbol, matched on the instrument key or
/// the trading symbol) unless `[contracts.symbols."SYM"]` gives them — and the price band: the
/// exchange's circuit limits of the day from `circuit_limits` when known, else a configured band.
/// A traded symbol with neither is an error: an order must not reach an exchange unshaped.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContractsConfig {
    /// Read the `contracts` table (default true).
    #[serde(default = "yes")]
    pub table: bool,
    /// Circuit band for every symbol: prices beyond ±band × the previous session's close are
    /// refused (NSE's bands are 2%, 5%, 10% or 20% by stock). The exchange's own limits of the
    /// day, where known, come first.
    #[serde(default)]
    pub band: Option<f64>,
    /// Read the `circuit_limits` table (`elite ingest quotes`, default true): a day's limits,
    /// once known, replace the band for that day.
    #[serde(default = "yes")]
    pub circuit_limits: bool,
    /// Per-symbol rules, over the table's.
    #[serde(default)]
    pub symbols: std::collections::BTreeMap<String, SymbolContract>,
}

fn yes() -> bool {
    true
}

/// One symbol's rules in `[contracts.symbols]`; what is absent comes from the table.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SymbolContract {
    pub lot: Option<i64>,
    pub tick: Option<Money>,
    pub freeze: Option<i64>,
    pub band: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub timeframe: String,
    /// Symbols to trade; all in `bars` for the timeframe when empty.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// `bars` table version; the latest when absent (the run records which one it read).
    #[serde(default)]
    pub version: Option<u64>,
    /// First and last bar dates (`YYYY-MM-DD`, by `ts_event`, inclusive).
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StrategyEntry {
    pub name: String,
    /// Share of equity this strategy manages.
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(flatten)]
    pub spec: StrategySpec,
}

fn one() -> f64 {
    1.0
}

impl RunConfig {
    /// Parse and check a TOML config (errors name the field).
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: RunConfig =
            toml::from_str(text).map_err(|e| Error::invalid("backtest config")(e.into()))?;
        if c.strategies.is_empty() {
            return Err(Error::Config("backtest config: no [[strategy]]".into()));
        }
        if c.initial_cash.0 <= 0 {
            return Err(Error::Config(
                "backtest config: initial_cash must be positive".into(),
            ));
        }
        let p = c.fills.max_participation;
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::Config(format!(
                "backtest config: fills.max_participation {p} must be in (0, 1]"
            )));
        }
        Ok(c)
    }
}

/// `[broker]` in a trader config.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// `upstox` (the only live broker).
    pub kind: String,
    /// API base URL.
    #[serde(default = "default_base")]
    pub base_url: String,
    /// Environment variable holding the access token (never the token itself in a file).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// `delivery` (default) or `intraday`.
    #[serde(default = "default_product")]
    pub product: String,
    /// Listen to Upstox's order-update feed (portfolio stream): the books are then read when an
    /// update for one of this run's orders arrives, and every `poll_every` bars as a safety net;
    /// without the feed (or when it cannot connect) they are read every bar orders are working.
    #[serde(default = "dtrue")]
    pub order_updates: bool,
    #[serde(default = "d_poll_every")]
    pub poll_every: usize,
    /// Symbol → more instrument keys of the same ISIN on other venues (`RELIANCE =
    /// ["BSE_EQ|INE002A01018"]`): market orders are then routed by best price among the primary
    /// (`instruments`) and these, from Upstox's full market quotes at the time of sending.
    #[serde(default)]
    pub venues: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Symbol → Upstox instrument key (`GOOG = "NSE_EQ|INE..."`); a symbol without one is not
    /// traded live (its orders are refused with the reason).
    #[serde(default)]
    pub instruments: BTreeMap<String, String>,
}

/// `[broker.routing]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Quotes older than this are not used.
    #[serde(default = "d_max_age_ms")]
    pub max_age_ms: u64,
    /// Leave the primary venue only for at least this price improvement.
    #[serde(default)]
    pub min_gain_bps: f64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            max_age_ms: d_max_age_ms(),
            min_gain_bps: 0.0,
        }
    }
}

fn d_max_age_ms() -> u64 {
    2_000
}

fn dtrue() -> bool {
    true
}
fn d_poll_every() -> usize {
    20
}

fn default_base() -> String {
    "https://api.upstox.com/".into()
}
fn default_token_env() -> String {
    "UPSTOX_ACCESS_TOKEN".into()
}
fn default_product() -> String {
    "delivery".into()
}

impl BrokerConfig {
    pub fn product(&self) -> Result<Product> {
        match self.product.as_str() {
            "delivery" => Ok(Product::Delivery),
            "intraday" => Ok(Product::Intraday),
            p => Err(Error::Config(format!(
                "broker.product {p:?}: expected delivery or intraday"
            ))),
        }
    }
}

pub(crate) fn day(s: &str, what: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| Error::invalid(format!("backtest config: data.{what} {s:?}"))(e.into()))
}
