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

use crate::broker::Broker;
use crate::costs::CostModel;
use crate::event::Event;
use crate::inputs::Inputs;
use crate::ledger::Ledger;
use crate::money::Money;
use crate::order::{Fill, OrderKind, OrderRequest, OrderStatus};
use crate::risk::{Book, RiskEngine, RiskEvent, RiskLimits};
use crate::sim::{FillConfig, OrderEvent, SimBroker, Submitted};
use crate::types::{Bar, Side, Sym};

/// A trading strategy: sees each closed bar and requests orders through [`Ctx`].
pub trait Strategy {
    fn name(&self) -> &str;
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>);
    /// Every bar of the instant `ctx.now` has been seen (called when the next instant's first
    /// bar arrives, before anything of it is used): cross-sectional strategies decide here, so
    /// their orders fill on the next instant like a single-symbol strategy's.
    fn on_instant_close(&mut self, _ctx: &mut Ctx<'_>) {}
}

/// What a strategy may see and do while handling one bar.
pub struct Ctx<'a> {
    pub now: Timestamp,
    /// This strategy's own book (its share of the account: positions, cash, P&L).
    pub book: &'a Ledger,
    pub prices: &'a [f64],
    /// Capital this strategy manages: its book's equity at last prices.
    pub capital: f64,
    /// Predictions, signal events and calendars received so far.
    pub inputs: &'a Inputs,
    broker: &'a dyn Broker,
    parents: &'a [Parent],
    vol: &'a [Option<(f64, f64, usize)>],
    periods_per_year: f64,
    requests: &'a mut Vec<OrderRequest>,
    seq: &'a mut u64,
    tag: &'a str,
}

impl Ctx<'_> {
    /// This strategy's position plus its orders still working at the broker, plus what this bar
    /// already requested.
    pub fn exposure(&self, sym: Sym) -> i64 {
        let (b, s) = self.broker.pending(sym, Some(self.tag));
        let (pb, ps) = unsent(self.parents, sym, Some(self.tag));
        self.book.qty(sym) + (b + pb) - (s + ps)
            + self
                .requests
                .iter()
                .filter(|r| r.sym == sym && (r.tag.is_empty() || r.tag == self.tag))
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

    /// Annualized volatility of `sym` (EWMA, λ = 0.94, of log returns bar to bar, × √periods per
    /// year); `None` before 20 returns.
    pub fn volatility(&self, sym: Sym) -> Option<f64> {
        let (_, var, n) = self.vol.get(sym as usize).copied().flatten()?;
        (n >= 20).then(|| (var * self.periods_per_year).sqrt())
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

/// Exit rules, applied by the engine to each strategy's position in each symbol at every bar's
/// close (before the strategy sees the bar), as market orders that fill at the next bar:
/// a stop-loss `stop_loss_pct` below the entry (average) price; a trailing stop
/// `trailing_stop_pct` below the best close since entry; the stop moved to the entry price once
/// the position is up `break_even_at_pct`; and partial profit booking — each take-profit target
/// sells `exit_pct` of the position's largest size once it is up `at_pct` (in order). Shorts
/// mirror. Percentages are in percent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExitRules {
    pub stop_loss_pct: Option<f64>,
    pub trailing_stop_pct: Option<f64>,
    pub break_even_at_pct: Option<f64>,
    pub take_profit: Vec<TakeProfit>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeProfit {
    pub at_pct: f64,
    pub exit_pct: f64,
}

/// Rule state of one (strategy, symbol) position.
#[derive(Clone, Copy, Debug, Default)]
struct RuleState {
    dir: i64,
    size: i64,
    best: f64,
    targets_hit: usize,
    break_even: bool,
    exiting: bool,
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

/// How approved market orders reach the broker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algo", rename_all = "snake_case")]
pub enum Execution {
    /// As they are.
    #[default]
    Direct,
    /// Market orders of at least `min_qty` are cut into `slices` equal children
    /// ([`crate::execution::twap`]), one per bar of the symbol, the first on the deciding bar.
    Twap {
        slices: usize,
        #[serde(default)]
        min_qty: i64,
    },
    /// VWAP over the rest of the session: children proportional to the symbol's intraday volume
    /// profile (the average share of a session's volume in each bar position, learned from its
    /// last `lookback` sessions, UTC days), for the next `slices` bar positions at most;
    /// [`crate::execution::vwap`] rounding. With one bar a session (daily bars) this is direct.
    Vwap {
        slices: usize,
        #[serde(default = "twenty")]
        lookback: usize,
        #[serde(default)]
        min_qty: i64,
    },
    /// Percentage of volume: each bar of the symbol gets a child of `rate` × the previous bar's
    /// volume (at least one share) until the parent is done.
    Pov {
        rate: f64,
        #[serde(default)]
        min_qty: i64,
    },
}

fn twenty() -> usize {
    20
}

/// Per symbol: the current session (UTC day, bar position, (position, volume) pairs) and the
/// completed sessions the VWAP profile is learned from.
#[derive(Clone, Debug, Default)]
struct Sessions {
    day: i64,
    position: usize,
    current: Vec<(usize, f64)>,
    done: std::collections::VecDeque<Vec<(usize, f64)>>,
}

/// A parent order being worked by an execution algorithm.
#[derive(Clone, Debug)]
struct Parent {
    order: crate::risk::Approved,
    schedule: Vec<i64>,
    sent: i64,
    children: usize,
    last_volume: f64,
}

/// Quantities of parents on `sym` (of strategy `tag`, if given) not yet sent as children:
/// (buys, sells).
fn unsent(parents: &[Parent], sym: Sym, tag: Option<&str>) -> (i64, i64) {
    let mut out = (0, 0);
    for o in parents.iter().filter(|p| {
        let o = p.order.order();
        o.sym == sym && tag.is_none_or(|t| o.tag == t)
    }) {
        let left = o.order.order().qty - o.sent;
        match o.order.order().side {
            Side::Buy => out.0 += left,
            Side::Sell => out.1 += left,
        }
    }
    out
}

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

/// Moves capital between strategies by recent risk-adjusted performance.
///
/// Every `every` instants, each strategy's Sharpe ratio over its last `lookback` instant returns
/// (of its own book) gives its weight ∝ max(Sharpe, 0) (all non-positive: equal weights); weights
/// are then held within `[floor, cap]` (excess redistributed) and capital is moved between the
/// strategies' books as cash to match them. Positions are not traded by the move: each strategy
/// resizes at its next decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllocatorConfig {
    pub every: usize,
    pub lookback: usize,
    #[serde(default)]
    pub floor: f64,
    #[serde(default = "one")]
    pub cap: f64,
}

fn one() -> f64 {
    1.0
}

/// Weights ∝ max(score, 0), equal when none is positive, held in `[floor, cap]`.
pub fn allocate(scores: &[f64], floor: f64, cap: f64) -> Vec<f64> {
    let n = scores.len();
    if n == 0 {
        return vec![];
    }
    let pos: Vec<f64> = scores
        .iter()
        .map(|s| if s.is_finite() { s.max(0.0) } else { 0.0 })
        .collect();
    let total: f64 = pos.iter().sum();
    let mut w: Vec<f64> = if total > 0.0 {
        pos.iter().map(|p| p / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    let (floor, cap) = (floor.clamp(0.0, 1.0 / n as f64), cap.max(1.0 / n as f64));
    // Clamp and give the excess (or take the shortfall) pro rata from the unclamped weights.
    for _ in 0..n {
        let mut fixed = vec![false; n];
        let mut excess = 0.0;
        for i in 0..n {
            if w[i] > cap {
                excess += w[i] - cap;
                w[i] = cap;
                fixed[i] = true;
            } else if w[i] < floor {
                excess -= floor - w[i];
                w[i] = floor;
                fixed[i] = true;
            }
        }
        if excess.abs() < 1e-15 {
            break;
        }
        let free: f64 = (0..n).filter(|i| !fixed[*i]).map(|i| w[i]).sum();
        let k = (0..n).filter(|i| !fixed[*i]).count();
        for i in (0..n).filter(|i| !fixed[*i]) {
            w[i] += if free > 0.0 {
                excess * w[i] / free
            } else {
                excess / k.max(1) as f64
            };
        }
    }
    w
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
    fn sync_order_log(&mut self) {
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
    mv: f64,
    /// Equity at each instant's close.
    pub equity: Vec<f64>,
    /// Capital the strategy started with.
    pub start: Money,
    /// Time-weighted (allocator transfers removed) equity at each instant's close, starting from
    /// `start`: the strategy's own performance.
    pub index: Vec<f64>,
    base: f64,
}

impl SubBook {
    pub fn equity_now(&self) -> f64 {
        self.ledger.cash.to_f64() + self.mv
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

    /// Move capital between strategies' books (as cash) so that they hold `w` of their total.
    pub fn set_weights(&mut self, w: &[f64], ts: Timestamp) {
        let total: f64 = self.subs.iter().map(SubBook::equity_now).sum();
        for (sub, wk) in self.subs.iter_mut().zip(w) {
            let delta = Money::from_f64(wk * total - sub.equity_now()).unwrap_or_default();
            sub.ledger.cash += delta;
            sub.ledger.initial += delta; // a capital transfer, not P&L
            sub.base += delta.to_f64();
        }
        self.journal.allocations.push((ts, w.to_vec()));
    }

    fn allocate_now(&mut self, ts: Timestamp) {
        let Some(a) = self.allocator.clone() else {
            return;
        };
        if a.every == 0 || !self.instants.is_multiple_of(a.every) || self.subs.len() < 2 {
            return;
        }
        let scores: Vec<f64> = self
            .subs
            .iter()
            .map(|s| {
                let e = &s.equity[s.equity.len().saturating_sub(a.lookback + 1)..];
                let r: Vec<f64> = e
                    .windows(2)
                    .map(|w| if w[0] > 0.0 { w[1] / w[0] - 1.0 } else { 0.0 })
                    .collect();
                let n = r.len() as f64;
                if n < 2.0 {
                    return 0.0;
                }
                let m = r.iter().sum::<f64>() / n;
                let sd = (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                if sd > 0.0 { m / sd } else { 0.0 }
            })
            .collect();
        let w = allocate(&scores, a.floor, a.cap);
        self.set_weights(&w, ts);
    }

    /// Cash plus positions at last prices.
    pub fn equity(&self) -> f64 {
        self.ledger.cash.to_f64() + self.mv
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
        } else if !self.risk.halted() {
            if let Some(ev) = self.risk.on_volatility(equity, ts) {
                let cut = ev.decision == crate::risk::Decision::Derisk;
                self.journal.risk.push(ev);
                if cut {
                    let fraction = self.risk.limits.vol_spike.map_or(0.0, |v| v.cut);
                    for (sub, name) in self.subs.iter().zip(&self.names) {
                        for a in self.risk.reduce(&sub.ledger, fraction, ts, name) {
                            let sym = a.order().sym;
                            self.journal.submitted.push((ts, a.order().clone()));
                            let last = Money::from_f64(px[sym as usize]).unwrap_or_default();
                            self.broker.submit(a, ts, last);
                        }
                    }
                }
            }
            self.allocate_now(ts);
        }
        if !last {
            self.strategies_close(ts);
        }
        self.journal.sync_order_log();
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
            let day = bar.ts_event.as_nanos().div_euclid(86_400_000_000_000);
            let ss = &mut self.sessions[i];
            if day != ss.day || ss.current.is_empty() {
                if !ss.current.is_empty() {
                    let done = std::mem::take(&mut ss.current);
                    ss.done.push_back(done);
                    while ss.done.len() > lookback.max(1) {
                        ss.done.pop_front();
                    }
                }
                ss.day = day;
                ss.position = 0;
            } else {
                ss.position += 1;
            }
            let pos = ss.position;
            ss.current.push((pos, bar.volume.max(0.0)));
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
                if let Some(parent) = self.work(a.clone(), bar) {
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

    /// Exit rules on this bar's symbol, for every strategy's position: exit orders join the
    /// requests (they pass risk like any other, as reductions).
    fn apply_rules(&mut self, bar: &Bar) {
        let Some(rules) = &self.rules else { return };
        let i = bar.sym as usize;
        if self.rule_state.len() < self.subs.len() {
            self.rule_state.resize(self.subs.len(), vec![]);
        }
        for (k, (sub, name)) in self.subs.iter().zip(&self.names).enumerate() {
            let states = &mut self.rule_state[k];
            if states.len() <= i {
                states.resize(i + 1, RuleState::default());
            }
            let st = &mut states[i];
            let pos = sub.ledger.position(bar.sym);
            let dir = pos.qty.signum();
            if dir == 0 || dir != st.dir {
                *st = RuleState {
                    dir,
                    size: pos.qty.abs(),
                    best: bar.close,
                    ..Default::default()
                };
                if dir == 0 {
                    continue;
                }
            }
            st.size = st.size.max(pos.qty.abs());
            let entry = pos.avg_price().to_f64();
            if entry <= 0.0 || st.exiting {
                continue;
            }
            let d = dir as f64;
            st.best = if dir > 0 {
                st.best.max(bar.close)
            } else {
                st.best.min(bar.close)
            };
            let gain = d * (bar.close / entry - 1.0) * 100.0;
            if rules.break_even_at_pct.is_some_and(|b| gain >= b) {
                st.break_even = true;
            }
            // Any of stop-loss, trailing and break-even levels reached by the close.
            let reached = |level: f64| d * (bar.close - level) <= 0.0;
            let hit = rules
                .stop_loss_pct
                .is_some_and(|sl| reached(entry * (1.0 - d * sl / 100.0)))
                || rules
                    .trailing_stop_pct
                    .is_some_and(|tr| reached(st.best * (1.0 - d * tr / 100.0)))
                || st.break_even && reached(entry);
            let mut exit_qty = 0;
            let mut why = String::new();
            if hit {
                exit_qty = pos.qty.abs();
                why = "stop".into();
            } else {
                let mut left = pos.qty.abs();
                while let Some(t) = rules.take_profit.get(st.targets_hit) {
                    if gain < t.at_pct {
                        break;
                    }
                    let q = ((st.size as f64 * t.exit_pct / 100.0).round() as i64).min(left);
                    exit_qty += q;
                    left -= q;
                    st.targets_hit += 1;
                    why = format!("take_profit_{}", st.targets_hit);
                }
            }
            if exit_qty > 0 {
                if exit_qty == pos.qty.abs() {
                    st.exiting = true;
                }
                let side = if dir > 0 { Side::Sell } else { Side::Buy };
                let mut o = OrderRequest::market(
                    format!("rule-{name}-{}-{i}-{why}", bar.ts_recv.as_nanos()),
                    bar.sym,
                    side,
                    exit_qty,
                );
                o.tag = name.clone();
                self.requests.push(o);
            }
        }
    }

    /// A parent for the execution algorithm, or `None` to send `a` directly.
    fn work(&self, a: crate::risk::Approved, bar: Option<&Bar>) -> Option<Parent> {
        let o = a.order();
        // The volume of the order's own symbol's last bar, when that is the bar at hand.
        let volume = bar
            .filter(|b| b.sym == o.sym)
            .map_or(f64::NAN, |b| b.volume);
        if o.kind != OrderKind::Market || !o.attached.is_empty() {
            return None;
        }
        let schedule = match self.execution {
            Execution::Direct => return None,
            Execution::Twap { slices, min_qty } if o.qty >= min_qty.max(2) && slices > 1 => {
                crate::execution::twap(o.qty, slices)
            }
            Execution::Pov { rate, min_qty } if o.qty >= min_qty.max(2) && rate > 0.0 => vec![],
            Execution::Vwap {
                slices, min_qty, ..
            } if o.qty >= min_qty.max(2) && slices > 0 => {
                let ss = self.sessions.get(o.sym as usize)?;
                let buckets = ss
                    .done
                    .iter()
                    .flatten()
                    .map(|(p, _)| p + 1)
                    .max()
                    .unwrap_or(0);
                let done: Vec<Vec<(usize, f64)>> = ss.done.iter().cloned().collect();
                let profile = crate::execution::volume_profile(&done, buckets);
                // Children fill from the next bar position on.
                let from = (ss.position + 1).min(profile.len());
                let rest = &profile[from..(from + slices).min(profile.len())];
                if rest.len() < 2 || rest.iter().sum::<f64>() <= 0.0 {
                    return None;
                }
                crate::execution::vwap(o.qty, rest)
            }
            _ => return None,
        };
        Some(Parent {
            order: a,
            schedule,
            sent: 0,
            children: 0,
            last_volume: volume,
        })
    }

    /// Send the next child of every parent working on this bar's symbol (the first child goes
    /// out on the deciding bar itself, as a direct order would).
    fn send_children(&mut self, bar: &Bar, only_new: bool) {
        if self.parents.is_empty() {
            return;
        }
        let last = Money::from_f64(bar.close).unwrap_or_default();
        let mut i = 0;
        while i < self.parents.len() {
            let p = &mut self.parents[i];
            if p.order.order().sym != bar.sym || only_new && p.children > 0 {
                i += 1;
                continue;
            }
            let left = p.order.order().qty - p.sent;
            let q = match self.execution {
                Execution::Pov { rate, .. } => {
                    let v = if p.last_volume.is_finite() {
                        p.last_volume
                    } else {
                        0.0
                    };
                    ((rate * v).floor() as i64).max(1).min(left)
                }
                _ => p
                    .schedule
                    .get(p.children)
                    .copied()
                    .unwrap_or(left)
                    .min(left),
            };
            p.last_volume = bar.volume;
            let k = p.children;
            p.children += 1; // a zero slice (a bar position with no volume) still uses its turn
            if q > 0 {
                let child = p.order.child(format!("{}-c{k}", p.order.order().id), q);
                p.sent += q;
                self.journal
                    .submitted
                    .push((bar.ts_recv, child.order().clone()));
                self.broker.submit(child, bar.ts_recv, last);
            }
            if self.parents[i].sent >= self.parents[i].order.order().qty {
                self.parents.remove(i);
            } else {
                i += 1;
            }
        }
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
            Event::Timer { ts_recv } => {
                self.advance(*ts_recv)?;
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

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn allocator_weights() {
        // ∝ max(score, 0): 2 / 3 and 1 / 3, then capped at 0.6 with the excess to the other.
        let w = allocate(&[2.0, 1.0, -1.0], 0.0, 0.6);
        assert!(
            (w[0] - 0.6).abs() < 1e-12 && (w[1] - 0.4).abs() < 1e-12 && w[2] == 0.0,
            "{w:?}"
        );
        // A floor of 10%: the loser keeps 0.1, the rest is shared 2:1.
        let w = allocate(&[2.0, 1.0, -1.0], 0.1, 1.0);
        assert!(
            (w[2] - 0.1).abs() < 1e-12 && (w[0] - 0.6).abs() < 1e-12 && (w[1] - 0.3).abs() < 1e-12,
            "{w:?}"
        );
        assert_eq!(allocate(&[-1.0, 0.0], 0.0, 1.0), vec![0.5, 0.5]);
    }
}
