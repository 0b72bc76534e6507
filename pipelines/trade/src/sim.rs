//! The simulated broker: fills resting orders against bars, without look-ahead.
//!
//! Rules (each has a test in `tests/fills.rs`):
//! - An order submitted at `t` (the `ts_recv` of the bar it was decided on) is eligible only for
//!   bars whose `ts_event >= t + latency`: a decision on bar *t* fills on bar *t+1* at the earliest.
//! - Market orders fill at the bar's open. A buy limit `L` fills at the open if `open <= L`, else
//!   at `L` if `low <= L`; a buy stop `S` fills at the open if the bar gaps through (`open >= S`),
//!   else at `S` if `high >= S` (sells mirror). A stop-limit triggers like a stop and then rests as
//!   a limit (it fills in the triggering bar only if the trigger price satisfies the limit).
//!   A trailing stop's level comes from the best price of the bars *before* the current one.
//! - Slippage (fixed bps, or square-root impact `coef × σ × √(qty / bar volume)` with σ an EWMA
//!   (λ = 0.94) of close-to-close log returns up to the previous bar) worsens market and stop
//!   fills; no fill is ever outside the bar's `[low, high]`, nor worse than a limit.
//! - At most `max_participation × bar volume` fills per symbol per bar (all orders together); the
//!   rest stays working (partial fills). Bars with no volume (indices) are not capped. An iceberg
//!   fills at most its display quantity per bar.
//! - DAY orders expire when a bar of a later UTC day arrives; IOC orders are cancelled after their
//!   first eligible bar; GTC orders stay. The first fill of an order in an OCO group cancels the
//!   rest of the group; attached (bracket) legs start working, for the filled quantity, once their
//!   parent is done.

use std::collections::HashMap;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::costs::{ContractNote, CostModel};
use crate::money::Money;
use crate::order::{Fill, OrderKind, OrderRequest, OrderStatus, Tif, Trail};
use crate::risk::Approved;
use crate::types::{Side, Sym};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

pub use crate::types::Bar;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Slippage {
    None,
    /// A fixed cost in basis points of price.
    Bps {
        bps: f64,
    },
    /// Square-root market impact: `coef × σ × √(qty / bar volume)` as a fraction of price.
    SqrtImpact {
        coef: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FillConfig {
    pub slippage: Slippage,
    /// Share of a bar's volume one symbol's orders may take (0 < p ≤ 1).
    pub max_participation: f64,
    /// Order-to-market latency in nanoseconds.
    pub latency_ns: i64,
    /// Fill prices are rounded to this tick.
    pub tick: Money,
}

impl Default for FillConfig {
    fn default() -> Self {
        FillConfig {
            slippage: Slippage::None,
            max_participation: 1.0,
            latency_ns: 0,
            tick: Money(1),
        }
    }
}

/// An order the broker holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Working {
    pub req: OrderRequest,
    pub status: OrderStatus,
    pub filled: i64,
    pub submitted: Timestamp,
    pub eligible_from: Timestamp,
    /// UTC day number of the first bar the order was eligible for (DAY expiry).
    day: Option<i64>,
    /// A stop-limit whose stop has traded.
    triggered: bool,
    /// Best price seen since placement (trailing stops).
    best: Option<Money>,
}

/// A change of an order's status, for the orders table and the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub ts: Timestamp,
    pub id: String,
    pub sym: Sym,
    pub status: OrderStatus,
    pub filled: i64,
    pub reason: String,
}

/// What `submit` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    Accepted,
    /// The client order id was seen before; nothing new was sent.
    Duplicate,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SimBroker {
    pub config: FillConfig,
    pub costs: CostModel,
    /// Working orders, by symbol.
    open: Vec<Vec<Working>>,
    /// Every client order id ever accepted, with its final status once done.
    seen: HashMap<String, OrderStatus>,
    vol: Vec<Option<(f64, f64)>>,
    /// The day's contract note: fills are charged its increase (brokerage per order, STT per
    /// security per day, the rest on the note's totals).
    #[serde(default)]
    note: ContractNote,
}

impl SimBroker {
    pub fn new(config: FillConfig, costs: CostModel) -> Self {
        SimBroker {
            config,
            costs,
            ..Default::default()
        }
    }

    fn slot(&mut self, sym: Sym) -> &mut Vec<Working> {
        let i = sym as usize;
        if self.open.len() <= i {
            self.open.resize_with(i + 1, Vec::new);
            self.vol.resize(i + 1, None);
        }
        &mut self.open[i]
    }

    /// Accept a risk-approved order at `now`; `last` is the last traded price (trailing stops
    /// start from it). A client order id seen before is not accepted twice.
    pub fn submit(&mut self, order: Approved, now: Timestamp, last: Money) -> Submitted {
        if self.seen.contains_key(&order.order().id) {
            return Submitted::Duplicate;
        }
        let req = order.into_inner();
        self.seen.insert(req.id.clone(), OrderStatus::Open);
        let eligible_from = now.add_nanos(self.config.latency_ns);
        let best = matches!(req.kind, OrderKind::TrailingStop { .. }).then_some(last);
        self.slot(req.sym).push(Working {
            req,
            status: OrderStatus::Open,
            filled: 0,
            submitted: now,
            eligible_from,
            day: None,
            triggered: false,
            best,
        });
        Submitted::Accepted
    }

    /// Status of a client order id (`None`: never accepted).
    pub fn status(&self, id: &str) -> Option<OrderStatus> {
        self.seen.get(id).copied()
    }

    /// Working orders (all symbols).
    pub fn working(&self) -> impl Iterator<Item = &Working> {
        self.open.iter().flatten()
    }

    /// Quantities still to fill on working orders of `sym` (placed by `tag`, if given):
    /// (buys, sells), both ≥ 0.
    pub fn pending(&self, sym: Sym, tag: Option<&str>) -> (i64, i64) {
        let mut out = (0, 0);
        for w in self.open.get(sym as usize).into_iter().flatten() {
            if tag.is_some_and(|t| w.req.tag != t) {
                continue;
            }
            let left = w.req.qty - w.filled;
            match w.req.side {
                Side::Buy => out.0 += left,
                Side::Sell => out.1 += left,
            }
        }
        out
    }

    /// Cancel one order; false when it is not working.
    pub fn cancel(&mut self, id: &str, now: Timestamp, events: &mut Vec<OrderEvent>) -> bool {
        for v in &mut self.open {
            if let Some(i) = v.iter().position(|w| w.req.id == id) {
                let w = v.remove(i);
                self.seen.insert(w.req.id.clone(), OrderStatus::Cancelled);
                events.push(event(now, &w, OrderStatus::Cancelled, "cancelled"));
                return true;
            }
        }
        false
    }

    /// Cancel every working order (kill switch).
    pub fn cancel_all(&mut self, now: Timestamp, reason: &str, events: &mut Vec<OrderEvent>) {
        for v in &mut self.open {
            for w in v.drain(..) {
                self.seen.insert(w.req.id.clone(), OrderStatus::Cancelled);
                events.push(event(now, &w, OrderStatus::Cancelled, reason));
            }
        }
    }

    /// An outside broker's execution of `qty` at `price` on working order `id` (charges from the
    /// cost model, as a simulated fill). Refused (with the reason) for an order that is not
    /// working or a quantity above what is left: nothing changes then.
    pub fn fill_external(
        &mut self,
        id: &str,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Fill, String> {
        let (si, wi) = self
            .find(id)
            .ok_or_else(|| format!("order {id} is not working (unknown, done or cancelled)"))?;
        let w = &mut self.open[si][wi];
        let left = w.req.qty - w.filled;
        if qty <= 0 || qty > left {
            return Err(format!(
                "order {id}: a fill of {qty} with {left} left to fill"
            ));
        }
        if price.0 <= 0 {
            return Err(format!("order {id}: fill price {price} is not positive"));
        }
        w.filled += qty;
        w.status = if w.filled == w.req.qty {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let fill = Fill {
            order_id: w.req.id.clone(),
            sym: w.req.sym,
            side: w.req.side,
            qty,
            price,
            ts,
            ts_recv,
            charges: self.costs.charge_fill(
                &mut self.note,
                ts.as_nanos().div_euclid(NANOS_PER_DAY),
                &w.req.id,
                w.req.sym,
                w.req.side,
                qty,
                price,
            ),
            tag: w.req.tag.clone(),
        };
        events.push(event(ts_recv, w, w.status, ""));
        if w.status.is_done() {
            let w = self.open[si].remove(wi);
            self.seen.insert(w.req.id, w.status);
        }
        Ok(fill)
    }

    /// An outside broker ended working order `id` (`Cancelled`, `Expired` or `Rejected`); false
    /// when it is not working or `status` is not an end.
    pub fn status_external(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: &str,
        ts: Timestamp,
        events: &mut Vec<OrderEvent>,
    ) -> bool {
        if !matches!(
            status,
            OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Rejected
        ) {
            return false;
        }
        let Some((si, wi)) = self.find(id) else {
            return false;
        };
        let w = self.open[si].remove(wi);
        self.seen.insert(w.req.id.clone(), status);
        events.push(event(ts, &w, status, reason));
        true
    }

    pub(crate) fn find(&self, id: &str) -> Option<(usize, usize)> {
        self.open
            .iter()
            .enumerate()
            .find_map(|(si, v)| v.iter().position(|w| w.req.id == id).map(|wi| (si, wi)))
    }

    /// Fill what `bar` allows of the working orders on its symbol.
    pub fn on_bar(&mut self, bar: &Bar, fills: &mut Vec<Fill>, events: &mut Vec<OrderEvent>) {
        let cfg = self.config.clone();
        let sigma = self
            .vol
            .get(bar.sym as usize)
            .copied()
            .flatten()
            .map(|v| v.1.sqrt());
        let mut orders = std::mem::take(self.slot(bar.sym));
        if !orders.is_empty() {
            let cap = if bar.volume.is_finite() && bar.volume > 0.0 {
                (cfg.max_participation * bar.volume).floor() as i64
            } else {
                i64::MAX
            };
            let mut used = 0i64;
            let day = bar.ts_event.as_nanos().div_euclid(NANOS_PER_DAY);
            let (o, h, l) = (px(bar.open), px(bar.high), px(bar.low));
            let mut cancel_groups: Vec<String> = vec![];
            let mut activated: Vec<Working> = vec![];
            for w in &mut orders {
                if w.status.is_done() || bar.ts_event < w.eligible_from {
                    continue;
                }
                if w.req
                    .oco
                    .as_ref()
                    .is_some_and(|g| cancel_groups.contains(g))
                {
                    continue; // its group already filled on this bar; cancelled below
                }
                if w.req.tif == Tif::Day && w.day.is_some_and(|d| d != day) {
                    w.status = OrderStatus::Expired;
                    events.push(event(
                        bar.ts_event,
                        w,
                        OrderStatus::Expired,
                        "day order expired",
                    ));
                    continue;
                }
                w.day.get_or_insert(day);
                let price = fill_price(w, o, h, l);
                if let Some((raw, slips)) = price {
                    let remaining = w.req.qty - w.filled;
                    let mut q = remaining.min(cap.saturating_sub(used));
                    if let Some(d) = w.req.display_qty {
                        q = q.min(d.max(1));
                    }
                    if q > 0 {
                        let p = if slips {
                            slipped(&cfg, w.req.side, raw, q, bar.volume, sigma)
                        } else {
                            raw
                        };
                        let p = clamp(p, w, l, h, cfg.tick);
                        used += q;
                        w.filled += q;
                        let charges = self.costs.charge_fill(
                            &mut self.note,
                            day,
                            &w.req.id,
                            w.req.sym,
                            w.req.side,
                            q,
                            p,
                        );
                        fills.push(Fill {
                            order_id: w.req.id.clone(),
                            sym: w.req.sym,
                            side: w.req.side,
                            qty: q,
                            price: p,
                            ts: bar.ts_event,
                            ts_recv: bar.ts_recv,
                            charges,
                            tag: w.req.tag.clone(),
                        });
                        w.status = if w.filled == w.req.qty {
                            OrderStatus::Filled
                        } else {
                            OrderStatus::PartiallyFilled
                        };
                        events.push(event(bar.ts_event, w, w.status, ""));
                        if let Some(g) = &w.req.oco {
                            cancel_groups.push(g.clone());
                        }
                    }
                }
                if !w.status.is_done() && w.req.tif == Tif::Ioc {
                    w.status = OrderStatus::Cancelled;
                    events.push(event(
                        bar.ts_event,
                        w,
                        OrderStatus::Cancelled,
                        "ioc remainder",
                    ));
                }
                // Trailing stops follow the best price only after this bar was tested.
                if let (OrderKind::TrailingStop { .. }, Some(b)) = (w.req.kind, w.best.as_mut()) {
                    *b = match w.req.side {
                        Side::Sell => (*b).max(h),
                        Side::Buy => (*b).min(l),
                    };
                }
                if w.status.is_done() && w.filled > 0 && !w.req.attached.is_empty() {
                    for mut leg in std::mem::take(&mut w.req.attached) {
                        leg.qty = w.filled;
                        activated.push(Working {
                            best: matches!(leg.kind, OrderKind::TrailingStop { .. })
                                .then_some(px(bar.close)),
                            req: leg,
                            status: OrderStatus::Open,
                            filled: 0,
                            submitted: bar.ts_recv,
                            eligible_from: bar.ts_recv,
                            day: None,
                            triggered: false,
                        });
                    }
                }
            }
            for g in &cancel_groups {
                for w in &mut orders {
                    if !w.status.is_done() && w.req.oco.as_ref() == Some(g) {
                        w.status = OrderStatus::Cancelled;
                        events.push(event(bar.ts_event, w, OrderStatus::Cancelled, "oco"));
                    }
                }
            }
            for w in &orders {
                if w.status.is_done() {
                    self.seen.insert(w.req.id.clone(), w.status);
                }
            }
            orders.retain(|w| !w.status.is_done());
            for a in activated {
                if !self.seen.contains_key(&a.req.id) {
                    self.seen.insert(a.req.id.clone(), OrderStatus::Open);
                    orders.push(a);
                }
            }
        }
        *self.slot(bar.sym) = orders;
        // σ for square-root impact: EWMA of log returns up to and including this bar, used from
        // the next bar on.
        let v = &mut self.vol[bar.sym as usize];
        *v = match *v {
            None => Some((bar.close, 0.0)),
            Some((prev, var)) if prev > 0.0 && bar.close > 0.0 => {
                let r = (bar.close / prev).ln();
                Some((bar.close, 0.94 * var + 0.06 * r * r))
            }
            Some((_, var)) => Some((bar.close, var)),
        };
    }
}

fn px(x: f64) -> Money {
    Money::from_f64(x).unwrap_or_default()
}

fn event(ts: Timestamp, w: &Working, status: OrderStatus, reason: &str) -> OrderEvent {
    OrderEvent {
        ts,
        id: w.req.id.clone(),
        sym: w.req.sym,
        status,
        filled: w.filled,
        reason: reason.to_string(),
    }
}

/// The raw fill price on this bar, and whether slippage applies (market and stop fills).
fn fill_price(w: &mut Working, o: Money, h: Money, l: Money) -> Option<(Money, bool)> {
    let buy = w.req.side == Side::Buy;
    let limit = |lim: Money| -> Option<Money> {
        if buy {
            if o <= lim {
                Some(o)
            } else if l <= lim {
                Some(lim)
            } else {
                None
            }
        } else if o >= lim {
            Some(o)
        } else if h >= lim {
            Some(lim)
        } else {
            None
        }
    };
    let stop = |s: Money| -> Option<Money> {
        if buy {
            if o >= s {
                Some(o)
            } else if h >= s {
                Some(s)
            } else {
                None
            }
        } else if o <= s {
            Some(o)
        } else if l <= s {
            Some(s)
        } else {
            None
        }
    };
    match w.req.kind {
        OrderKind::Market => Some((o, true)),
        OrderKind::Limit { limit: lim } => limit(lim).map(|p| (p, false)),
        OrderKind::Stop { stop: s } => stop(s).map(|p| (p, true)),
        OrderKind::StopLimit {
            stop: s,
            limit: lim,
        } => {
            if w.triggered {
                return limit(lim).map(|p| (p, false));
            }
            let t = stop(s)?;
            w.triggered = true;
            let ok = if buy { t <= lim } else { t >= lim };
            ok.then_some((t, false))
        }
        OrderKind::TrailingStop { trail } => {
            let best = w.best?;
            let dist = match trail {
                Trail::Amount(a) => a,
                Trail::Bps(b) => Money((best.0 as i128 * b as i128 / 10_000) as i64),
            };
            let level = if buy { best + dist } else { best - dist };
            stop(level).map(|p| (p, true))
        }
    }
}

fn slipped(
    cfg: &FillConfig,
    side: Side,
    p: Money,
    q: i64,
    volume: f64,
    sigma: Option<f64>,
) -> Money {
    let frac = match cfg.slippage {
        Slippage::None => 0.0,
        Slippage::Bps { bps } => bps / 10_000.0,
        Slippage::SqrtImpact { coef } => match sigma {
            Some(s) if volume > 0.0 => coef * s * (q as f64 / volume).sqrt(),
            _ => 0.0,
        },
    };
    if frac == 0.0 {
        return p;
    }
    let x = p.to_f64() * (1.0 + frac * side.sign() as f64);
    Money::from_f64(x).unwrap_or(p)
}

/// Round to the tick (against the trader), then keep inside the bar and the limit.
fn clamp(p: Money, w: &Working, l: Money, h: Money, tick: Money) -> Money {
    let t = tick.0.max(1);
    let p = match w.req.side {
        Side::Buy => Money(p.0.div_euclid(t) * t + if p.0.rem_euclid(t) > 0 { t } else { 0 }),
        Side::Sell => Money(p.0.div_euclid(t) * t),
    };
    let mut p = p.clamp(l, h);
    if let OrderKind::Limit { limit } | OrderKind::StopLimit { limit, .. } = w.req.kind {
        p = match w.req.side {
            Side::Buy => p.min(limit),
            Side::Sell => p.max(limit),
        };
    }
    p
}
