//! The broker seam: where the engine's risk-approved orders go and where their executions come
//! from.
//!
//! - [`SimBroker`](crate::sim::SimBroker) fills working orders against bars (backtest, paper).
//! - [`Outbox`] works nothing itself: orders and cancels wait in its outbox for a live broker
//!   adapter (in `elite-jobs`) to send, and executions and status changes come back as broker
//!   reports ([`crate::event::Event::Fill`], [`crate::event::Event::Status`]).
//!
//! Both keep the same order book (working orders, partial fills, every client order id seen), so
//! strategies, risk and execution algorithms see one thing whichever runs. Nothing here does I/O.

use elite_warehouse::Timestamp;

use crate::costs::CostModel;
use crate::money::Money;
use crate::order::{Fill, OrderStatus};
use crate::risk::Approved;
use crate::sim::{FillConfig, OrderEvent, SimBroker, Submitted, Working};
use crate::types::{Bar, Sym};

/// What the engine needs of a broker.
pub trait Broker: Send {
    /// Accept a risk-approved order at `now` (`last`: the last traded price, for trailing stops).
    /// A client order id seen before is not accepted twice.
    fn submit(&mut self, order: Approved, now: Timestamp, last: Money) -> Submitted;
    /// Ask to cancel one order; false when it is not working.
    fn cancel(&mut self, id: &str, now: Timestamp, events: &mut Vec<OrderEvent>) -> bool;
    /// Cancel every working order (the kill switch).
    fn cancel_all(&mut self, now: Timestamp, reason: &str, events: &mut Vec<OrderEvent>);
    /// A bar arrived: fill what it allows (a simulator), or nothing (a live broker).
    fn on_bar(&mut self, bar: &Bar, fills: &mut Vec<Fill>, events: &mut Vec<OrderEvent>);
    /// Working orders (all symbols).
    fn working(&self) -> Box<dyn Iterator<Item = &Working> + '_>;
    /// Quantities still to fill on working orders of `sym` (placed by `tag`, if given):
    /// (buys, sells), both ≥ 0.
    fn pending(&self, sym: Sym, tag: Option<&str>) -> (i64, i64);
    /// Status of a client order id (`None`: never accepted).
    fn status(&self, id: &str) -> Option<OrderStatus>;
    /// A reported execution of `qty` at `price` on working order `id`; refused (with the reason,
    /// nothing changed) for an order that is not working or more than is left.
    fn report_fill(
        &mut self,
        id: &str,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Fill, String>;
    /// A reported end (`Cancelled`, `Expired`, `Rejected`) of working order `id`; false when it
    /// is not working or `status` is not an end.
    fn report_end(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: &str,
        ts: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> bool;
    /// Orders to place and client order ids to cancel since the last call (empty for a
    /// simulator, which works its orders itself).
    fn take_outbox(&mut self) -> (Vec<Approved>, Vec<String>) {
        (vec![], vec![])
    }
}

impl Broker for SimBroker {
    fn submit(&mut self, order: Approved, now: Timestamp, last: Money) -> Submitted {
        SimBroker::submit(self, order, now, last)
    }
    fn cancel(&mut self, id: &str, now: Timestamp, events: &mut Vec<OrderEvent>) -> bool {
        SimBroker::cancel(self, id, now, events)
    }
    fn cancel_all(&mut self, now: Timestamp, reason: &str, events: &mut Vec<OrderEvent>) {
        SimBroker::cancel_all(self, now, reason, events)
    }
    fn on_bar(&mut self, bar: &Bar, fills: &mut Vec<Fill>, events: &mut Vec<OrderEvent>) {
        SimBroker::on_bar(self, bar, fills, events)
    }
    fn working(&self) -> Box<dyn Iterator<Item = &Working> + '_> {
        Box::new(SimBroker::working(self))
    }
    fn pending(&self, sym: Sym, tag: Option<&str>) -> (i64, i64) {
        SimBroker::pending(self, sym, tag)
    }
    fn status(&self, id: &str) -> Option<OrderStatus> {
        SimBroker::status(self, id)
    }
    fn report_fill(
        &mut self,
        id: &str,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Fill, String> {
        self.fill_external(id, qty, price, ts, ts_recv, events)
    }
    fn report_end(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: &str,
        ts: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> bool {
        self.status_external(id, status, reason, ts, events)
    }
}

/// The broker of live trading: orders wait here for the adapter that sends them; bars fill
/// nothing; executions and ends arrive as reports. Cancels (one, or all by the kill switch) go
/// out as requests and the orders stay working until the outside broker reports them ended —
/// they may still fill meanwhile.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The order book (the simulator's, never asked to fill).
    book: SimBroker,
    orders: Vec<Approved>,
    cancels: Vec<String>,
}

impl Outbox {
    /// Fills reported to it are charged by `costs` (`fills`: latency for eligibility, as in
    /// the simulator's book).
    pub fn new(fills: FillConfig, costs: CostModel) -> Self {
        Outbox {
            book: SimBroker::new(fills, costs),
            ..Default::default()
        }
    }
}

impl Broker for Outbox {
    fn submit(&mut self, order: Approved, now: Timestamp, last: Money) -> Submitted {
        let copy = order.clone();
        let r = self.book.submit(order, now, last);
        if r == Submitted::Accepted {
            self.orders.push(copy);
        }
        r
    }
    fn cancel(&mut self, id: &str, _now: Timestamp, _events: &mut Vec<OrderEvent>) -> bool {
        let working = self.book.find(id).is_some();
        if working {
            self.cancels.push(id.to_string());
        }
        working
    }
    fn cancel_all(&mut self, _now: Timestamp, _reason: &str, _events: &mut Vec<OrderEvent>) {
        let ids: Vec<String> = self.book.working().map(|w| w.req.id.clone()).collect();
        self.cancels.extend(ids);
    }
    fn on_bar(&mut self, _bar: &Bar, _fills: &mut Vec<Fill>, _events: &mut Vec<OrderEvent>) {}
    fn working(&self) -> Box<dyn Iterator<Item = &Working> + '_> {
        Box::new(self.book.working())
    }
    fn pending(&self, sym: Sym, tag: Option<&str>) -> (i64, i64) {
        self.book.pending(sym, tag)
    }
    fn status(&self, id: &str) -> Option<OrderStatus> {
        self.book.status(id)
    }
    fn report_fill(
        &mut self,
        id: &str,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Fill, String> {
        self.book.fill_external(id, qty, price, ts, ts_recv, events)
    }
    fn report_end(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: &str,
        ts: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> bool {
        self.book.status_external(id, status, reason, ts, events)
    }
    fn take_outbox(&mut self) -> (Vec<Approved>, Vec<String>) {
        (
            std::mem::take(&mut self.orders),
            std::mem::take(&mut self.cancels),
        )
    }
}
