//! How big a position a strategy takes.

use serde::{Deserialize, Serialize};

use crate::engine::Ctx;
use crate::types::Sym;

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
