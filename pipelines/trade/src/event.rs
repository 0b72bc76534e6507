//! The one event type the engine consumes ([`crate::engine::Engine::process`]).
//!
//! Market data ([`Event::Bar`]) and model/signal outputs ([`Event::Prediction`],
//! [`Event::Signal`]) come from the runner's intake in `ts_recv` order; broker reports
//! ([`Event::Fill`], [`Event::Status`], [`Event::Route`]) from a live broker adapter;
//! [`Event::Timer`] moves the clock without data. A backtest, a paper run and a live run are the
//! same engine fed different sequences of these, and a restart is the recorded sequence fed
//! again.
//!
//! Predictions and signal events carry the time they became known (`known`): the engine stores
//! them as they arrive and strategies use one only at a bar whose `ts_recv` is at or after it, so
//! feeding them early never leaks the future and feeding them late only means they are missed.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::order::OrderStatus;
use crate::types::{Bar, Sym};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A closed bar.
    Bar(Bar),
    /// A broker's execution of `qty` at `price` on working order `order_id`.
    Fill {
        order_id: String,
        trade_id: String,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
    },
    /// A broker ended working order `order_id` (`cancelled`, `expired` or `rejected`).
    Status {
        order_id: String,
        status: OrderStatus,
        reason: String,
        ts_recv: Timestamp,
    },
    /// Where an order was routed, and why (journaled as risk check `route`).
    Route {
        order_id: String,
        sym: Sym,
        venue: String,
        detail: String,
        ts_recv: Timestamp,
    },
    /// Model `model`'s score for the bar of `sym` at `ts_event`, known from `known` on.
    Prediction {
        model: String,
        sym: Sym,
        ts_event: Timestamp,
        score: f64,
        known: Timestamp,
    },
    /// A rule signal on the bar of `sym` at `ts_event`, known from `known` on.
    Signal {
        sym: Sym,
        ts_event: Timestamp,
        rule: String,
        direction: i8,
        strength: f64,
        known: Timestamp,
    },
    /// A market regime row (the `regimes` table) for the bar at `ts_event`, known from `known`
    /// on: what [`crate::risk::RegimeRule`] de-risks on.
    Regime {
        scope: String,
        method: String,
        ts_event: Timestamp,
        state: i32,
        value: f64,
        known: Timestamp,
    },
    /// Time passes to `ts_recv` (closing the current instant when it is later).
    Timer { ts_recv: Timestamp },
    /// An operator's command (`/halt`, `/resume` from a chat, or the CLI), applied when it was
    /// received and kept with the session's broker reports so a restart replays it at the same
    /// place. `halt`: trip the kill switch exactly as a drawdown breach does (cancel working
    /// orders, flatten, refuse every order); otherwise lift it. `ts_recv` is the engine's clock
    /// when it arrived; it does not move the clock.
    Control {
        halt: bool,
        why: String,
        ts_recv: Timestamp,
    },
}

impl Event {
    /// When the event can be acted on: a bar's or report's `ts_recv`, an input's `known`.
    pub fn ts(&self) -> Timestamp {
        match self {
            Event::Bar(b) => b.ts_recv,
            Event::Fill { ts_recv, .. }
            | Event::Status { ts_recv, .. }
            | Event::Route { ts_recv, .. }
            | Event::Timer { ts_recv }
            | Event::Control { ts_recv, .. } => *ts_recv,
            Event::Prediction { known, .. }
            | Event::Signal { known, .. }
            | Event::Regime { known, .. } => *known,
        }
    }

    /// Model and signal outputs: data the engine stores, not a step of its clock.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Event::Prediction { .. } | Event::Signal { .. } | Event::Regime { .. }
        )
    }

    /// The bar an input is about: (symbol, bar `ts_event`); `None` for a regime row (about the
    /// market, not one symbol).
    pub fn input_key(&self) -> Option<(Sym, Timestamp)> {
        match self {
            Event::Prediction { sym, ts_event, .. } | Event::Signal { sym, ts_event, .. } => {
                Some((*sym, *ts_event))
            }
            _ => None,
        }
    }
}
