//! Orders as strategies request them and as brokers hold them.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::money::Money;

pub use crate::types::{Side, Sym};

/// How far a trailing stop follows the best price since it was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trail {
    /// A fixed distance in price.
    Amount(Money),
    /// A distance in basis points of the best price (100 bps = 1%).
    Bps(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderKind {
    Market,
    Limit {
        limit: Money,
    },
    /// Becomes a market order once the price trades through `stop`.
    Stop {
        stop: Money,
    },
    /// Becomes a limit order at `limit` once the price trades through `stop`.
    StopLimit {
        stop: Money,
        limit: Money,
    },
    /// A stop that follows the best price since placement at a distance `trail`.
    TrailingStop {
        trail: Trail,
    },
}

/// Time in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tif {
    /// Until the end of the first trading day it could fill on.
    #[default]
    Day,
    /// Fill what the first eligible bar allows, cancel the rest.
    Ioc,
    /// Until filled or cancelled.
    Gtc,
}

/// An order as a strategy, a rule or the executor asks for it. `id` is the client order id:
/// brokers treat a second submission with the same id as the same order (idempotent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub id: String,
    pub sym: Sym,
    pub side: Side,
    pub qty: i64,
    pub kind: OrderKind,
    #[serde(default)]
    pub tif: Tif,
    /// Iceberg: at most this much is shown (and filled) per bar.
    #[serde(default)]
    pub display_qty: Option<i64>,
    /// One-cancels-other group: the first fill in a group cancels the rest.
    #[serde(default)]
    pub oco: Option<String>,
    /// Orders activated when this one fills (bracket legs), for the filled quantity.
    #[serde(default)]
    pub attached: Vec<OrderRequest>,
    /// Who asked (strategy name, rule, executor), for attribution and the audit log.
    #[serde(default)]
    pub tag: String,
}

impl OrderRequest {
    pub fn market(id: impl Into<String>, sym: Sym, side: Side, qty: i64) -> Self {
        Self::new(id, sym, side, qty, OrderKind::Market)
    }

    pub fn new(id: impl Into<String>, sym: Sym, side: Side, qty: i64, kind: OrderKind) -> Self {
        OrderRequest {
            id: id.into(),
            sym,
            side,
            qty,
            kind,
            tif: Tif::Day,
            display_qty: None,
            oco: None,
            attached: vec![],
            tag: String::new(),
        }
    }

    pub fn tif(mut self, tif: Tif) -> Self {
        self.tif = tif;
        self
    }

    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = tag.into();
        self
    }

    /// A bracket: this entry, and once it fills, a take-profit limit and a stop-loss on the
    /// opposite side, one cancelling the other (both GTC).
    pub fn bracket(mut self, take_profit: Money, stop_loss: Money) -> Self {
        let exit = self.side.opposite();
        let group = format!("{}:bracket", self.id);
        let mut tp = OrderRequest::new(
            format!("{}:tp", self.id),
            self.sym,
            exit,
            self.qty,
            OrderKind::Limit { limit: take_profit },
        )
        .tif(Tif::Gtc);
        tp.oco = Some(group.clone());
        tp.tag.clone_from(&self.tag);
        let mut sl = OrderRequest::new(
            format!("{}:sl", self.id),
            self.sym,
            exit,
            self.qty,
            OrderKind::Stop { stop: stop_loss },
        )
        .tif(Tif::Gtc);
        sl.oco = Some(group);
        sl.tag.clone_from(&self.tag);
        // The stop first: when one bar reaches both, the worse outcome is assumed.
        self.attached = vec![sl, tp];
        self
    }

    /// The price the order could trade at, if it names one (limit, else stop).
    pub fn reference_price(&self) -> Option<Money> {
        match self.kind {
            OrderKind::Limit { limit } | OrderKind::StopLimit { limit, .. } => Some(limit),
            OrderKind::Stop { stop } => Some(stop),
            OrderKind::Market | OrderKind::TrailingStop { .. } => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    PartiallyFilled,
    Filled,
    Cancelled,
    Expired,
    Rejected,
}

impl OrderStatus {
    pub fn is_done(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Expired
                | OrderStatus::Rejected
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
            OrderStatus::Rejected => "rejected",
        }
    }
}

/// One execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub order_id: String,
    pub sym: Sym,
    pub side: Side,
    pub qty: i64,
    pub price: Money,
    /// When it happened: the start of the bar it filled in (the earliest it could have).
    pub ts: Timestamp,
    /// When the simulation knew it: the end of that bar (a live broker's report time).
    pub ts_recv: Timestamp,
    pub charges: crate::costs::Charges,
    pub tag: String,
}

impl Fill {
    /// Signed traded value: + for a buy (cash out), − for a sell.
    pub fn flow(&self) -> Money {
        self.price.times(self.qty * self.side.sign())
    }
}
