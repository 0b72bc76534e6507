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

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::costs::{Charges, CostModel};
use crate::ledger::Ledger;
use crate::money::Money;
use crate::order::{Fill, OrderKind, OrderRequest, Side, Sym};
use crate::risk::{Book, RiskEngine, RiskEvent, RiskLimits};
use crate::sim::{Bar, FillConfig, OrderEvent, SimBroker, Submitted};

/// A trading strategy: sees each closed bar and requests orders through [`Ctx`].
pub trait Strategy {
    fn name(&self) -> &str;
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>);
}

/// What a strategy may see and do while handling one bar.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub ledger: &'a Ledger,
    pub prices: &'a [f64],
    /// Capital this strategy manages (the allocator's share of equity).
    pub capital: f64,
    broker: &'a SimBroker,
    requests: &'a mut Vec<OrderRequest>,
    seq: &'a mut u64,
    tag: &'a str,
}

impl Ctx<'_> {
    /// Position plus what is still working at the broker, plus what this bar already requested.
    pub fn exposure(&self, sym: Sym) -> i64 {
        self.ledger.qty(sym)
            + self.broker.pending_qty(sym)
            + self
                .requests
                .iter()
                .filter(|r| r.sym == sym)
                .map(|r| r.qty * r.side.sign())
                .sum::<i64>()
    }

    /// A fresh, deterministic client order id.
    pub fn next_id(&mut self) -> String {
        *self.seq += 1;
        format!("{}-{}-{}", self.tag, self.now.as_nanos(), self.seq)
    }

    /// Request an order (the id is filled in when empty; the tag is the strategy's name).
    pub fn submit(&mut self, mut o: OrderRequest) {
        if o.id.is_empty() {
            o.id = self.next_id();
        }
        if o.tag.is_empty() {
            o.tag = self.tag.to_string();
        }
        self.requests.push(o);
    }

    /// Trade toward holding `target` shares of `sym` with market orders.
    pub fn target_qty(&mut self, sym: Sym, target: i64) {
        let d = target - self.exposure(sym);
        if d != 0 {
            let side = if d > 0 { Side::Buy } else { Side::Sell };
            let o = OrderRequest::new("", sym, side, d.abs(), OrderKind::Market);
            self.submit(o);
        }
    }

    /// Trade toward holding `frac` of this strategy's capital in `sym` (at the last price).
    pub fn target_percent(&mut self, sym: Sym, frac: f64) {
        let p = self.prices.get(sym as usize).copied().unwrap_or(f64::NAN);
        if !(p.is_finite() && p > 0.0) {
            return;
        }
        let target = (frac * self.capital / p).trunc() as i64;
        self.target_qty(sym, target);
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    pub initial_cash: Money,
    #[serde(default)]
    pub fills: FillConfig,
    #[serde(default)]
    pub costs: CostModel,
    #[serde(default)]
    pub risk: RiskLimits,
}

/// Equity at the close of one instant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
}

pub struct Engine {
    pub broker: SimBroker,
    pub risk: RiskEngine,
    pub ledger: Ledger,
    pub prices: Vec<f64>,
    pub journal: Journal,
    strategies: Vec<Box<dyn Strategy>>,
    names: Vec<String>,
    weights: Vec<f64>,
    /// Σ qty × last price, kept incrementally (re-summed exactly at each instant's close).
    mv: f64,
    seq: u64,
    current: Option<Timestamp>,
    fills: Vec<Fill>,
    requests: Vec<OrderRequest>,
    /// Keep every risk approval in the journal (refusals are always kept).
    pub log_approvals: bool,
}

impl Engine {
    pub fn new(cfg: EngineConfig, n_symbols: usize) -> Self {
        let mut ledger = Ledger::new(cfg.initial_cash);
        ledger.positions.resize(n_symbols, Default::default());
        Engine {
            broker: SimBroker::new(cfg.fills, cfg.costs),
            risk: RiskEngine::new(cfg.risk),
            ledger,
            prices: vec![f64::NAN; n_symbols],
            journal: Journal::default(),
            strategies: vec![],
            names: vec![],
            weights: vec![],
            mv: 0.0,
            seq: 0,
            current: None,
            fills: vec![],
            requests: vec![],
            log_approvals: true,
        }
    }

    /// Add a strategy managing `weight` of equity.
    pub fn add(&mut self, s: Box<dyn Strategy>, weight: f64) {
        self.names.push(s.name().to_string());
        self.strategies.push(s);
        self.weights.push(weight);
    }

    pub fn strategy_names(&self) -> &[String] {
        &self.names
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Re-weight strategies (the allocator's decision); weights are used from the next bar.
    pub fn set_weights(&mut self, w: &[f64]) {
        for (cur, new) in self.weights.iter_mut().zip(w) {
            *cur = *new;
        }
    }

    /// Cash plus positions at last prices.
    pub fn equity(&self) -> f64 {
        self.ledger.cash.to_f64() + self.mv
    }

    fn close_instant(&mut self, ts: Timestamp) {
        let px: Vec<f64> = self
            .prices
            .iter()
            .map(|p| if p.is_finite() { *p } else { 0.0 })
            .collect();
        self.mv = self.ledger.market_value(&px);
        let equity = self.ledger.equity(&px);
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
            self.journal.risk.push(ev);
            self.broker
                .cancel_all(ts, "kill switch", &mut self.journal.order_events);
            for a in self.risk.flatten(&self.ledger, ts) {
                let sym = a.order().sym;
                self.journal.submitted.push((ts, a.order().clone()));
                let last = Money::from_f64(px[sym as usize]).unwrap_or_default();
                self.broker.submit(a, ts, last);
            }
        }
    }

    /// Feed one bar.
    pub fn on_bar(&mut self, bar: &Bar) -> Result<(), EngineError> {
        match self.current {
            Some(t) if bar.ts_recv < t => {
                return Err(EngineError::OutOfOrder {
                    sym: bar.sym,
                    got: bar.ts_recv,
                    after: t,
                });
            }
            Some(t) if bar.ts_recv > t => self.close_instant(t),
            _ => {}
        }
        self.current = Some(bar.ts_recv);
        let i = bar.sym as usize;
        if i >= self.prices.len() {
            self.prices.resize(i + 1, f64::NAN);
            self.ledger.positions.resize(i + 1, Default::default());
        }
        let old = if self.prices[i].is_finite() {
            self.prices[i]
        } else {
            0.0
        };
        self.mv -= self.ledger.qty(bar.sym) as f64 * old;
        self.fills.clear();
        self.broker
            .on_bar(bar, &mut self.fills, &mut self.journal.order_events);
        for f in &self.fills {
            self.ledger.apply(f);
        }
        self.journal.fills.append(&mut self.fills);
        self.prices[i] = bar.close;
        self.mv += self.ledger.qty(bar.sym) as f64 * bar.close;

        let equity = self.equity();
        for ((s, w), tag) in self
            .strategies
            .iter_mut()
            .zip(&self.weights)
            .zip(&self.names)
        {
            let mut ctx = Ctx {
                now: bar.ts_recv,
                ledger: &self.ledger,
                prices: &self.prices,
                capital: equity * *w,
                broker: &self.broker,
                requests: &mut self.requests,
                seq: &mut self.seq,
                tag,
            };
            s.on_bar(bar, &mut ctx);
        }
        if self.requests.is_empty() {
            return Ok(());
        }
        let requests = std::mem::take(&mut self.requests);
        for r in requests {
            let broker = &self.broker;
            let pending = |s: Sym| broker.pending_qty(s);
            let book = Book {
                ledger: &self.ledger,
                prices: &self.prices,
                pending: &pending,
                equity,
            };
            let (ok, ev) = self.risk.check(r, &book, bar.ts_recv);
            if ok.is_none() || self.log_approvals {
                self.journal.risk.push(ev);
            }
            if let Some(a) = ok {
                let last = Money::from_f64(bar.close).unwrap_or_default();
                self.journal
                    .submitted
                    .push((bar.ts_recv, a.order().clone()));
                if self.broker.submit(a, bar.ts_recv, last) == Submitted::Duplicate {
                    self.journal.risk.push(RiskEvent {
                        ts: bar.ts_recv,
                        order_id: self
                            .journal
                            .submitted
                            .pop()
                            .map(|(_, o)| o.id)
                            .unwrap_or_default(),
                        sym: Some(bar.sym),
                        decision: crate::risk::Decision::Refused,
                        check: "duplicate_id".into(),
                        detail: "client order id already sent; not sent again".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Close the last instant (call after the last bar).
    pub fn finish(&mut self) {
        if let Some(t) = self.current.take() {
            self.close_instant(t);
        }
    }

    /// Total charges paid.
    pub fn charges(&self) -> Charges {
        self.ledger.fees
    }
}
