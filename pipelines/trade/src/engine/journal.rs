//! What the engine did: orders, order events, fills, risk decisions, equity, allocations, parent
//! orders and positions, for the warehouse tables and the tear sheet; and each strategy's book.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ledger::Ledger;
use crate::money::Money;
use crate::order::{Fill, OrderRequest};
use crate::risk::RiskEvent;
use crate::sim::OrderEvent;
use crate::types::{Side, Sym};

/// A parent order's record: what was asked and the price when it was decided (for
/// implementation shortfall).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParentRecord {
    pub id: String,
    pub sym: Sym,
    pub side: Side,
    pub qty: i64,
    pub arrival: Money,
    pub ts: Timestamp,
}

/// Equity at the close of one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub ts: Timestamp,
    pub cash: Money,
    pub equity: f64,
    pub gross: f64,
    pub net: f64,
    pub fees: Money,
}

/// Everything the engine did, for the warehouse tables and the tear sheet.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Journal {
    pub submitted: Vec<(Timestamp, OrderRequest)>,
    pub order_events: Vec<OrderEvent>,
    pub fills: Vec<Fill>,
    pub risk: Vec<RiskEvent>,
    pub equity: Vec<EquityPoint>,
    /// Allocator decisions: when, and the new weights (in strategy order).
    pub allocations: Vec<(Timestamp, Vec<f64>)>,
    /// Parent orders worked by an execution algorithm (children are `<parent id>-c<k>`).
    pub parents: Vec<ParentRecord>,
    /// Every order event in the order it happened: sends and status changes. Its index is a
    /// stable sequence number (the `orders` table's key), the same in a backtest and in a
    /// resumed paper run.
    pub order_log: Vec<OrderLog>,
    /// A strategy book's position in a symbol after each fill.
    #[serde(default)]
    pub positions: Vec<PositionSnapshot>,
    #[serde(default)]
    logged: (usize, usize),
}

/// A strategy book's position in one symbol right after a fill changed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionSnapshot {
    pub ts: Timestamp,
    pub strategy: String,
    pub sym: Sym,
    pub position: crate::ledger::Position,
    /// The fill's price (the mark at that instant).
    pub price: Money,
}

/// One line of the order log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLog {
    pub ts: Timestamp,
    pub order_id: String,
    pub sym: Sym,
    /// `sent`, or the broker's status.
    pub status: String,
    pub filled: i64,
    /// The request as JSON for `sent`; the reason for a status change.
    pub detail: String,
}

impl Journal {
    /// Append the order events and sends since the last call to `order_log`.
    pub(crate) fn sync_order_log(&mut self) {
        let (e0, s0) = self.logged;
        for e in &self.order_events[e0..] {
            self.order_log.push(OrderLog {
                ts: e.ts,
                order_id: e.id.clone(),
                sym: e.sym,
                status: e.status.as_str().into(),
                filled: e.filled,
                detail: e.reason.clone(),
            });
        }
        for (t, o) in &self.submitted[s0..] {
            self.order_log.push(OrderLog {
                ts: *t,
                order_id: o.id.clone(),
                sym: o.sym,
                status: "sent".into(),
                filled: 0,
                detail: serde_json::to_string(o).unwrap_or_default(),
            });
        }
        self.logged = (self.order_events.len(), self.submitted.len());
    }
}

impl Journal {
    /// Implementation shortfall of each parent, in bps of its arrival price (+ = cost), with
    /// the quantity filled.
    pub fn shortfalls(&self) -> Vec<(String, i64, Option<f64>)> {
        let mut by: std::collections::HashMap<&str, Vec<(i64, f64)>> = Default::default();
        for f in &self.fills {
            if let Some((parent, _)) = f.order_id.rsplit_once("-c") {
                by.entry(parent)
                    .or_default()
                    .push((f.qty, f.price.to_f64()));
            }
        }
        self.parents
            .iter()
            .map(|p| {
                let fills = by.get(p.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                let q = fills.iter().map(|f| f.0).sum();
                let s =
                    crate::execution::shortfall_bps(p.side == Side::Buy, p.arrival.to_f64(), fills);
                (p.id.clone(), q, s)
            })
            .collect()
    }
}

/// One strategy's share of the account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SubBook {
    pub ledger: Ledger,
    pub(super) mv: f64,
    /// Equity at each instant's close.
    pub equity: Vec<f64>,
    /// Capital the strategy started with.
    pub start: Money,
    /// Time-weighted (allocator transfers removed) equity at each instant's close, starting from
    /// `start`: the strategy's own performance.
    pub index: Vec<f64>,
    pub(super) base: f64,
}

impl SubBook {
    pub fn equity_now(&self) -> f64 {
        self.ledger.cash.to_f64() + self.mv
    }
}
