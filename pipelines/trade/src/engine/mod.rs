//! The event-driven engine: one synchronous core for backtest, paper and live.
//!
//! Per event (a bar, in `ts_recv` order): (1) the broker fills working orders against the bar —
//! orders were decided on earlier bars, so a decision never sees the bar it fills on; (2) the
//! ledger books the fills; (3) the last price moves to the bar's close; (4) each strategy sees the
//! bar and may request orders; (5) every request passes pre-trade risk and only approved ones reach
//! the broker, stamped with the bar's `ts_recv`. When `ts_recv` moves on, the finished instant is
//! closed: equity is recorded and the drawdown kill switch is checked (if it trips, working orders
//! are cancelled, flattening orders are sent, and every later request is refused).
//!
//! Backtest, paper and live differ only in where bars come from, which clock stamps them and which
//! broker executes; this type does not read a clock or do I/O.
//!
//! The engine's parts: [`context`] (the [`Strategy`] trait and its [`Ctx`]), [`allocator`]
//! (capital between strategies), [`rules`] (exit rules), [`journal`] (what happened, and each
//! strategy's book); parent orders are worked by [`crate::execution`].

pub mod allocator;
pub mod context;
pub mod journal;
pub mod rules;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

pub use self::allocator::{AllocatorConfig, allocate};
pub use self::context::{Ctx, Strategy};
pub use self::journal::{EquityPoint, Journal, OrderLog, ParentRecord, PositionSnapshot, SubBook};
use self::rules::RuleState;
pub use self::rules::{ExitRules, TakeProfit};
use crate::broker::Broker;
use crate::costs::CostModel;
use crate::event::Event;
pub use crate::execution::Execution;
use crate::execution::{self, Parent, Sessions, unsent};
use crate::inputs::Inputs;
use crate::ledger::Ledger;
use crate::money::Money;
use crate::order::{Fill, OrderRequest, OrderStatus};
use crate::risk::{Book, RiskEngine, RiskEvent, RiskLimits};
use crate::sim::{FillConfig, SimBroker, Submitted};
use crate::types::{Bar, Sym};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    pub initial_cash: Money,
    #[serde(default)]
    pub fills: FillConfig,
    #[serde(default)]
    pub costs: CostModel,
    #[serde(default)]
    pub risk: RiskLimits,
    #[serde(default)]
    pub allocator: Option<AllocatorConfig>,
    #[serde(default)]
    pub execution: Execution,
    /// For annualizing volatility (vol-target sizing): 252 when absent.
    #[serde(default)]
    pub periods_per_year: Option<f64>,
    /// Exit rules applied to every strategy's positions.
    #[serde(default)]
    pub rules: Option<ExitRules>,
}

impl EngineConfig {
    /// Starting cash, and defaults for everything else (no costs, no limits, direct execution).
    pub fn new(initial_cash: Money) -> Self {
        EngineConfig {
            initial_cash,
            fills: FillConfig::default(),
            costs: CostModel::default(),
            risk: RiskLimits::default(),
            allocator: None,
            execution: Execution::default(),
            periods_per_year: None,
            rules: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error(
        "bar for symbol {sym} at ts_recv {got} arrived after ts_recv {after}: events must be in ts_recv order"
    )]
    OutOfOrder {
        sym: Sym,
        got: Timestamp,
        after: Timestamp,
    },
    #[error("a broker report at ts_recv {got} arrived after ts_recv {after}")]
    Late { got: Timestamp, after: Timestamp },
    #[error("broker report refused: {reason}")]
    Broker { reason: String },
}

pub struct Engine {
    pub broker: Box<dyn Broker>,
    /// Predictions and signal events received so far, and the calendars (see [`Inputs`]).
    pub inputs: Inputs,
    pub risk: RiskEngine,
    pub ledger: Ledger,
    pub prices: Vec<f64>,
    pub journal: Journal,
    strategies: Vec<Box<dyn Strategy>>,
    names: Vec<String>,
    pub subs: Vec<SubBook>,
    allocator: Option<AllocatorConfig>,
    execution: Execution,
    parents: Vec<Parent>,
    instants: usize,
    /// Per symbol: last close, EWMA variance of log returns, returns seen.
    vol: Vec<Option<(f64, f64, usize)>>,
    /// Per symbol: intraday volume by bar position (for VWAP).
    sessions: Vec<Sessions>,
    rules: Option<ExitRules>,
    /// Per strategy, per symbol.
    rule_state: Vec<Vec<RuleState>>,
    periods_per_year: f64,
    /// Σ qty × last price, kept incrementally (re-summed exactly at each instant's close).
    mv: f64,
    seq: u64,
    current: Option<Timestamp>,
    fills: Vec<Fill>,
    requests: Vec<OrderRequest>,
    /// Keep every risk approval in the journal (refusals are always kept).
    pub log_approvals: bool,
    /// Regime rows the risk rule reads, not yet applied: (state, value, ts_event, known), in
    /// arrival (`known`) order. Each is applied at the close of the first instant at or after
    /// the time it became known.
    regime: std::collections::VecDeque<(i32, f64, Timestamp, Timestamp)>,
    /// Lot, tick, freeze quantity and circuit band per symbol (none: orders go as asked).
    contracts: Option<crate::contract::Contracts>,
}

impl Engine {
    /// An engine whose orders the fill simulator works.
    pub fn new(cfg: EngineConfig, n_symbols: usize) -> Self {
        let broker = Box::new(SimBroker::new(cfg.fills.clone(), cfg.costs.clone()));
        Self::with_broker(cfg, n_symbols, broker)
    }

    /// An engine whose orders `broker` works (e.g. [`crate::broker::Outbox`] for live trading;
    /// `cfg.fills` and `cfg.costs` then matter only as far as `broker` uses them).
    pub fn with_broker(cfg: EngineConfig, n_symbols: usize, broker: Box<dyn Broker>) -> Self {
        let mut ledger = Ledger::new(cfg.initial_cash);
        ledger.positions.resize(n_symbols, Default::default());
        Engine {
            broker,
            inputs: Inputs::default(),
            risk: RiskEngine::new(cfg.risk),
            ledger,
            prices: vec![f64::NAN; n_symbols],
            journal: Journal::default(),
            strategies: vec![],
            names: vec![],
            subs: vec![],
            allocator: cfg.allocator,
            execution: cfg.execution,
            parents: vec![],
            instants: 0,
            vol: vec![None; n_symbols],
            sessions: vec![Sessions::default(); n_symbols],
            rules: cfg.rules,
            rule_state: vec![],
            periods_per_year: cfg.periods_per_year.unwrap_or(252.0),
            mv: 0.0,
            seq: 0,
            current: None,
            fills: vec![],
            requests: vec![],
            log_approvals: true,
            regime: Default::default(),
            contracts: None,
        }
    }

    /// Apply exchange contract rules (by symbol index) to every order from now on: whole lots,
    /// the tick grid, splits above the freeze quantity, refusals outside the circuit band.
    pub fn set_contracts(&mut self, c: crate::contract::Contracts) {
        self.contracts = Some(c);
    }

    /// A day's circuit limits for `sym` that arrived while running (a live quote). No-op
    /// without contract rules.
    pub fn add_circuit_limit(&mut self, sym: Sym, limit: crate::contract::CircuitLimit) {
        if let Some(c) = self.contracts.as_mut() {
            c.add_limit(sym, limit);
        }
    }

    /// Add a strategy managing `weight` of the initial cash in a book of its own. Strategy
    /// names must be unique (they tag orders and route fills).
    pub fn add(&mut self, s: Box<dyn Strategy>, weight: f64) {
        let cash = Money::from_f64(self.ledger.initial.to_f64() * weight).unwrap_or_default();
        let mut ledger = Ledger::new(cash);
        ledger
            .positions
            .resize(self.prices.len(), Default::default());
        self.names.push(s.name().to_string());
        self.strategies.push(s);
        self.subs.push(SubBook {
            ledger,
            start: cash,
            base: cash.to_f64(),
            ..Default::default()
        });
    }

    pub fn strategy_names(&self) -> &[String] {
        &self.names
    }

    /// Cash plus positions at last prices.
    pub fn equity(&self) -> f64 {
        self.ledger.cash.to_f64() + self.mv
    }

    /// The kill switch tripped (`ev`): journal it, cancel every working order and flatten
    /// every book at the last prices `px`.
    fn trip(&mut self, ev: RiskEvent, ts: Timestamp, px: &[f64]) {
        self.journal.risk.push(ev);
        self.broker
            .cancel_all(ts, "kill switch", &mut self.journal.order_events);
        for (sub, name) in self.subs.iter().zip(&self.names) {
            for a in self.risk.flatten(&sub.ledger, ts, name) {
                let sym = a.order().sym;
                self.journal.submitted.push((ts, a.order().clone()));
                let last = Money::from_f64(px[sym as usize]).unwrap_or_default();
                self.broker.submit(a, ts, last);
            }
        }
    }

    /// The engine's clock: the instant being processed (`None` before the first event).
    pub fn now(&self) -> Option<Timestamp> {
        self.current
    }

    /// Close instant `ts`; strategies then decide on it unless it is the `last` (nothing trades
    /// after the last bar).
    fn close_instant(&mut self, ts: Timestamp, last: bool) {
        let px: Vec<f64> = self
            .prices
            .iter()
            .map(|p| if p.is_finite() { *p } else { 0.0 })
            .collect();
        self.mv = self.ledger.market_value(&px);
        let equity = self.ledger.equity(&px);
        for sub in &mut self.subs {
            sub.mv = sub.ledger.market_value(&px);
            let e = sub.equity_now();
            sub.equity.push(e);
            let prev = sub.index.last().copied().unwrap_or(sub.start.to_f64());
            let r = if sub.base > 0.0 { e / sub.base } else { 1.0 };
            sub.index.push(prev * r);
            sub.base = e;
        }
        self.instants += 1;
        let gross = self.ledger.gross(&px);
        let net = self.ledger.market_value(&px);
        self.journal.equity.push(EquityPoint {
            ts,
            cash: self.ledger.cash,
            equity,
            gross,
            net,
            fees: self.ledger.fees.total(),
        });
        if let Some(ev) = self.risk.on_equity(equity, ts) {
            self.trip(ev, ts, &px);
        } else if !self.risk.halted() {
            if let Some(ev) = self.risk.on_volatility(equity, ts) {
                let cut = ev.decision == crate::risk::Decision::Derisk;
                self.journal.risk.push(ev);
                if cut {
                    let fraction = self.risk.limits.vol_spike.map_or(0.0, |v| v.cut);
                    self.reduce_all(fraction, ts, &px);
                }
            }
            let due = self.regime.partition_point(|r| r.3 <= ts);
            let rows: Vec<(i32, f64, Timestamp)> =
                self.regime.drain(..due).map(|r| (r.0, r.1, r.2)).collect();
            if let Some(ev) = self.risk.on_regime(&rows, ts) {
                let cut = ev.decision == crate::risk::Decision::Derisk;
                self.journal.risk.push(ev);
                if cut {
                    let fraction = self.risk.limits.regime.as_ref().map_or(0.0, |r| r.cut);
                    self.reduce_all(fraction, ts, &px);
                }
            }
            self.allocate_now(ts);
        }
        if !last {
            self.strategies_close(ts);
        }
        self.journal.sync_order_log();
    }

    /// Cut every strategy's positions by `fraction` (de-risking), at `ts`'s prices `px`.
    fn reduce_all(&mut self, fraction: f64, ts: Timestamp, px: &[f64]) {
        for (sub, name) in self.subs.iter().zip(&self.names) {
            for a in self.risk.reduce(&sub.ledger, fraction, ts, name) {
                let sym = a.order().sym;
                self.journal.submitted.push((ts, a.order().clone()));
                let last = Money::from_f64(px[sym as usize]).unwrap_or_default();
                self.broker.submit(a, ts, last);
            }
        }
    }

    /// Run `f` for every strategy with its context at `now` (its own book and capital).
    fn for_strategies(
        &mut self,
        now: Timestamp,
        mut f: impl FnMut(&mut dyn Strategy, &mut Ctx<'_>),
    ) {
        for ((s, sub), tag) in self.strategies.iter_mut().zip(&self.subs).zip(&self.names) {
            let mut ctx = Ctx {
                now,
                book: &sub.ledger,
                prices: &self.prices,
                capital: sub.equity_now(),
                inputs: &self.inputs,
                broker: self.broker.as_ref(),
                parents: &self.parents,
                vol: &self.vol,
                periods_per_year: self.periods_per_year,
                requests: &mut self.requests,
                seq: &mut self.seq,
                tag,
            };
            f(s.as_mut(), &mut ctx);
        }
    }

    /// [`Strategy::on_instant_close`] for every strategy, then their requests (at `ts`, the
    /// closed instant's time: orders fill from the next instant on).
    fn strategies_close(&mut self, ts: Timestamp) {
        let equity = self.equity();
        self.for_strategies(ts, |s, ctx| s.on_instant_close(ctx));
        self.process_requests(ts, None, equity);
    }

    /// Feed one bar.
    pub fn on_bar(&mut self, bar: &Bar) -> Result<(), EngineError> {
        let r = self.on_bar_inner(bar);
        self.journal.sync_order_log();
        r
    }

    fn on_bar_inner(&mut self, bar: &Bar) -> Result<(), EngineError> {
        match self.current {
            Some(t) if bar.ts_recv < t => {
                return Err(EngineError::OutOfOrder {
                    sym: bar.sym,
                    got: bar.ts_recv,
                    after: t,
                });
            }
            Some(t) if bar.ts_recv > t => self.close_instant(t, false),
            _ => {}
        }
        self.current = Some(bar.ts_recv);
        let i = bar.sym as usize;
        if i >= self.prices.len() {
            self.prices.resize(i + 1, f64::NAN);
            self.ledger.positions.resize(i + 1, Default::default());
            for sub in &mut self.subs {
                sub.ledger.positions.resize(i + 1, Default::default());
            }
        }
        let old = if self.prices[i].is_finite() {
            self.prices[i]
        } else {
            0.0
        };
        self.mv -= self.ledger.qty(bar.sym) as f64 * old;
        for sub in &mut self.subs {
            sub.mv -= sub.ledger.qty(bar.sym) as f64 * old;
        }
        self.fills.clear();
        self.broker
            .on_bar(bar, &mut self.fills, &mut self.journal.order_events);
        for f in std::mem::take(&mut self.fills) {
            self.book(f);
        }
        self.prices[i] = bar.close;
        if let Some(c) = self.contracts.as_mut() {
            c.on_bar(bar.sym, bar.ts_event, bar.close);
        }
        self.risk.on_close(bar.sym, bar.ts_event, bar.close);
        self.mv += self.ledger.qty(bar.sym) as f64 * bar.close;
        for sub in &mut self.subs {
            sub.mv += sub.ledger.qty(bar.sym) as f64 * bar.close;
        }

        if self.vol.len() <= i {
            self.vol.resize(i + 1, None);
        }
        if let Execution::Vwap { lookback, .. } = self.execution {
            if self.sessions.len() <= i {
                self.sessions.resize(i + 1, Sessions::default());
            }
            self.sessions[i].on_bar(bar, lookback);
        }
        self.vol[i] = match self.vol[i] {
            None => Some((bar.close, 0.0, 0)),
            Some((prev, var, n)) if prev > 0.0 && bar.close > 0.0 => {
                let r = (bar.close / prev).ln();
                Some((
                    bar.close,
                    if n == 0 {
                        r * r
                    } else {
                        0.94 * var + 0.06 * r * r
                    },
                    n + 1,
                ))
            }
            Some((_, var, n)) => Some((bar.close, var, n)),
        };
        self.send_children(bar, false);

        self.apply_rules(bar);

        let equity = self.equity();
        self.for_strategies(bar.ts_recv, |s, ctx| s.on_bar(bar, ctx));
        self.process_requests(bar.ts_recv, Some(bar), equity);
        self.send_children(bar, true);
        Ok(())
    }

    /// Risk-check the strategies' requests at `now` and send the approved ones (through the
    /// execution algorithm when one works them).
    fn process_requests(&mut self, now: Timestamp, bar: Option<&Bar>, equity: f64) {
        if self.requests.is_empty() {
            return;
        }
        let requests = std::mem::take(&mut self.requests);
        for r in requests {
            let sym = r.sym;
            let shaped = self.contracts.as_mut().and_then(|c| {
                let band = c.band(sym, now);
                Some((c.spec(sym)?.clone(), band))
            });
            let r = match shaped {
                None => r,
                Some((spec, band)) => {
                    let id = r.id.clone();
                    match spec.shape_within(r, band.as_ref()) {
                        Ok(r) => r,
                        Err(b) => {
                            self.journal.risk.push(RiskEvent {
                                ts: now,
                                order_id: id,
                                sym: Some(sym),
                                decision: crate::risk::Decision::Refused,
                                check: b.check.into(),
                                detail: b.detail,
                            });
                            continue;
                        }
                    }
                }
            };
            let broker = self.broker.as_ref();
            let parents = &self.parents;
            let pending = |s: Sym| {
                let (b, se) = broker.pending(s, None);
                let (pb, ps) = unsent(parents, s, None);
                (b + pb, se + ps)
            };
            let book = Book {
                ledger: &self.ledger,
                prices: &self.prices,
                pending: &pending,
                equity,
            };
            let (ok, ev) = self.risk.check(r, &book, now);
            if ok.is_none() || self.log_approvals {
                self.journal.risk.push(ev);
            }
            if let Some(a) = ok {
                // The last price of the order's own symbol (a cross-sectional strategy orders
                // symbols other than the bar's).
                let sym = a.order().sym;
                let px = self.prices.get(sym as usize).copied().unwrap_or(f64::NAN);
                let last =
                    Money::from_f64(if px.is_finite() { px } else { 0.0 }).unwrap_or_default();
                if let Some(parent) =
                    execution::work(&self.execution, &self.sessions, a.clone(), bar)
                {
                    self.journal.submitted.push((now, a.order().clone()));
                    self.journal.parents.push(ParentRecord {
                        id: a.order().id.clone(),
                        sym: a.order().sym,
                        side: a.order().side,
                        qty: a.order().qty,
                        arrival: last,
                        ts: now,
                    });
                    self.parents.push(parent);
                    continue;
                }
                // Above the freeze quantity: several orders, `<id>.1`, `<id>.2`, … (each at most
                // the parent's quantity, so approved with it).
                let parts = match self.contracts.as_ref().and_then(|c| c.spec(sym)) {
                    Some(spec) => spec.split(a.order().qty),
                    None => vec![a.order().qty],
                };
                let pieces = if parts.len() == 1 {
                    vec![a]
                } else {
                    parts
                        .iter()
                        .enumerate()
                        .map(|(k, q)| a.piece(k + 1, *q))
                        .collect()
                };
                for a in pieces {
                    self.journal.submitted.push((now, a.order().clone()));
                    if self.broker.submit(a, now, last) == Submitted::Duplicate {
                        self.journal.risk.push(RiskEvent {
                            ts: now,
                            order_id: self
                                .journal
                                .submitted
                                .pop()
                                .map(|(_, o)| o.id)
                                .unwrap_or_default(),
                            sym: Some(sym),
                            decision: crate::risk::Decision::Refused,
                            check: "duplicate_id".into(),
                            detail: "client order id already sent; not sent again".into(),
                        });
                    }
                }
            }
        }
    }

    /// Send the next child of every parent working on this bar's symbol.
    fn send_children(&mut self, bar: &Bar, only_new: bool) {
        execution::send_children(
            &self.execution,
            &mut self.parents,
            bar,
            only_new,
            &mut self.journal.submitted,
            self.broker.as_mut(),
        );
    }

    /// Put a fill on the account's and its strategy's books.
    fn book(&mut self, f: Fill) {
        self.ledger.apply(&f);
        if let Some(k) = self.names.iter().position(|n| *n == f.tag) {
            self.subs[k].ledger.apply(&f);
            self.journal.positions.push(PositionSnapshot {
                ts: f.ts,
                strategy: f.tag.clone(),
                sym: f.sym,
                position: self.subs[k].ledger.position(f.sym),
                price: f.price,
            });
        }
        self.journal.fills.push(f);
    }

    /// Feed one event: a bar, a broker report, a prediction or signal event (stored for the
    /// strategies; they do not move the clock), or a timer. Returns the fill a fill report
    /// booked.
    pub fn process(&mut self, e: &Event) -> Result<Option<Fill>, EngineError> {
        match e {
            Event::Bar(b) => self.on_bar(b).map(|()| None),
            Event::Fill {
                order_id,
                qty,
                price,
                ts,
                ts_recv,
                ..
            } => self
                .on_fill(order_id, *qty, *price, *ts, *ts_recv)
                .map(Some),
            Event::Status {
                order_id,
                status,
                reason,
                ts_recv,
            } => self
                .on_order_status(order_id, *status, reason, *ts_recv)
                .map(|_| None),
            Event::Route {
                order_id,
                sym,
                venue,
                detail,
                ts_recv,
            } => {
                self.journal.risk.push(RiskEvent {
                    ts: *ts_recv,
                    order_id: order_id.clone(),
                    sym: Some(*sym),
                    decision: crate::risk::Decision::Approved,
                    check: "route".into(),
                    detail: if detail.starts_with(venue.as_str()) {
                        detail.clone()
                    } else {
                        format!("{venue}: {detail}")
                    },
                });
                Ok(None)
            }
            Event::Prediction { .. } | Event::Signal { .. } => {
                self.inputs.add(e);
                Ok(None)
            }
            Event::Regime {
                scope,
                method,
                ts_event,
                state,
                value,
                known,
            } => {
                if self
                    .risk
                    .limits
                    .regime
                    .as_ref()
                    .is_some_and(|r| &r.scope == scope && &r.method == method)
                {
                    self.regime.push_back((*state, *value, *ts_event, *known));
                }
                Ok(None)
            }
            Event::Timer { ts_recv } => {
                self.advance(*ts_recv)?;
                self.journal.sync_order_log();
                Ok(None)
            }
            Event::Control { halt, why, ts_recv } => {
                let ts = self.current.unwrap_or(*ts_recv);
                if *halt {
                    if !self.risk.halted() {
                        let px: Vec<f64> = self
                            .prices
                            .iter()
                            .map(|p| if p.is_finite() { *p } else { 0.0 })
                            .collect();
                        let ev = self.risk.kill(ts, why);
                        self.trip(ev, ts, &px);
                    }
                } else if self.risk.halted() {
                    let ev = self.risk.resume(ts, self.equity(), why);
                    self.journal.risk.push(ev);
                }
                self.journal.sync_order_log();
                Ok(None)
            }
        }
    }

    /// The approved orders to place and the client order ids to cancel since the last call
    /// (see [`Broker::take_outbox`]; always empty with the fill simulator).
    pub fn take_outbox(&mut self) -> (Vec<crate::risk::Approved>, Vec<String>) {
        self.broker.take_outbox()
    }

    /// Move the clock to `ts_recv`, closing the current instant when it is later.
    fn advance(&mut self, ts_recv: Timestamp) -> Result<(), EngineError> {
        match self.current {
            Some(t) if ts_recv < t => Err(EngineError::Late {
                got: ts_recv,
                after: t,
            }),
            Some(t) if ts_recv > t => {
                self.close_instant(t, false);
                self.current = Some(ts_recv);
                Ok(())
            }
            Some(_) => Ok(()),
            None => {
                self.current = Some(ts_recv);
                Ok(())
            }
        }
    }

    /// An outside broker executed `qty` of working order `id` at `price` (at `ts`, learned at
    /// `ts_recv`). The fill is booked exactly as a simulated one (charges from the cost model);
    /// an unknown order or an overfill is refused and changes nothing.
    pub fn on_fill(
        &mut self,
        id: &str,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
    ) -> Result<Fill, EngineError> {
        self.advance(ts_recv)?;
        let f = self
            .broker
            .report_fill(id, qty, price, ts, ts_recv, &mut self.journal.order_events)
            .map_err(|reason| EngineError::Broker { reason })?;
        let i = f.sym as usize;
        let mark = self
            .prices
            .get(i)
            .copied()
            .filter(|p| p.is_finite())
            .unwrap_or(0.0);
        let d = (f.qty * f.side.sign()) as f64 * mark;
        self.mv += d;
        if let Some(k) = self.names.iter().position(|n| *n == f.tag) {
            self.subs[k].mv += d;
        }
        self.book(f.clone());
        self.journal.sync_order_log();
        Ok(f)
    }

    /// An outside broker cancelled, expired or rejected working order `id`; false (nothing
    /// changes) when the order is not working.
    pub fn on_order_status(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: &str,
        ts_recv: Timestamp,
    ) -> Result<bool, EngineError> {
        self.advance(ts_recv)?;
        let done =
            self.broker
                .report_end(id, status, reason, ts_recv, &mut self.journal.order_events);
        self.journal.sync_order_log();
        Ok(done)
    }

    /// Close the last instant (call after the last bar).
    pub fn finish(&mut self) {
        if let Some(t) = self.current.take() {
            self.close_instant(t, true);
        }
    }
}
