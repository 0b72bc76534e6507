//! The leaf types every other module shares: the symbol index, the side of a trade, and the one
//! bar the engine, the strategies and the simulated broker see. Nothing here imports the rest of
//! the crate.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

/// Index of an instrument in the engine's symbol table.
pub type Sym = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// A bar as the engine and the simulated broker see it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub sym: Sym,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}
