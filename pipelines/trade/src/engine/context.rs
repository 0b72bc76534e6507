//! What a strategy is and what it may see and do while handling a bar.

use elite_warehouse::Timestamp;

use crate::broker::Broker;
use crate::execution::{Parent, unsent};
use crate::inputs::Inputs;
use crate::ledger::Ledger;
use crate::order::{OrderKind, OrderRequest};
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
    pub(super) broker: &'a dyn Broker,
    pub(super) parents: &'a [Parent],
    pub(super) vol: &'a [Option<(f64, f64, usize)>],
    pub(super) periods_per_year: f64,
    pub(super) requests: &'a mut Vec<OrderRequest>,
    pub(super) seq: &'a mut u64,
    pub(super) tag: &'a str,
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
