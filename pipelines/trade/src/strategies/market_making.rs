//! Market making on bars: quote a bid and an ask around an inventory-skewed reservation price.

use serde::{Deserialize, Serialize};

use super::bad;
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// Settings of [`StrategySpec::MarketMaking`](super::StrategySpec::MarketMaking).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketMakingConfig {
    /// Shares per quote.
    pub quote: i64,
    /// No bid past `+max_inventory`, no ask past `−max_inventory`.
    pub max_inventory: i64,
    #[serde(default = "d_half_spread_bps")]
    pub half_spread_bps: f64,
    /// Reservation-price skew against inventory, in [0, 1).
    #[serde(default)]
    pub skew: f64,
    #[serde(default = "d_tick")]
    pub tick: f64,
}

fn d_half_spread_bps() -> f64 {
    10.0
}
fn d_tick() -> f64 {
    0.01
}

impl Default for MarketMakingConfig {
    fn default() -> Self {
        Self {
            quote: 100,
            max_inventory: 1000,
            half_spread_bps: d_half_spread_bps(),
            skew: 0.0,
            tick: d_tick(),
        }
    }
}

impl MarketMakingConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let MarketMakingConfig {
            quote,
            max_inventory,
            half_spread_bps,
            skew,
            tick,
        } = *self;
        if quote <= 0
            || max_inventory < quote
            || half_spread_bps.is_nan()
            || half_spread_bps <= 0.0
            || tick.is_nan()
            || tick <= 0.0
            || !(0.0..1.0).contains(&skew)
        {
            return Err(bad(
                name,
                format!(
                    "quote > 0, max_inventory ≥ quote, half_spread_bps > 0, tick > 0 and \
                     0 ≤ skew < 1 are needed (got {quote}, {max_inventory}, {half_spread_bps}, \
                     {tick}, {skew})"
                ),
            ));
        }
        Ok(Box::new(MarketMaker {
            name: name.into(),
            quote,
            max: max_inventory,
            half: half_spread_bps / 10_000.0,
            skew,
            tick,
        }))
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
