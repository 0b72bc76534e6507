//! Pre-trade risk and the kill switch.
//!
//! The executor accepts only [`Approved`] orders, and only [`RiskEngine`] can make one: the
//! type, not a convention, guarantees that every order a broker sees passed the checks. Every
//! decision (approval or refusal, with the check that refused) is returned as a [`RiskEvent`] for
//! the `risk_events` table and the audit log.
//!
//! Checks, in order: kill switch (halted → refuse all), allowed instruments, price band (a limit or
//! stop price too far from the last price: fat finger), order rate (per sliding window), order
//! notional, then — for orders that would increase the position's size — position quantity,
//! position notional, concentration (position value / equity), sector exposure, gross and net
//! leverage, shorting, and correlation with the rest of the book. Orders that only reduce a
//! position skip the exposure checks: refusing them would keep risk on.

use std::collections::VecDeque;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ledger::Ledger;
use crate::money::Money;
use crate::order::{OrderKind, OrderRequest, Side, Sym, Tif};

/// An order that passed pre-trade risk. Only this module constructs one.
#[derive(Clone, Debug, PartialEq)]
pub struct Approved(OrderRequest);

impl Approved {
    pub fn order(&self) -> &OrderRequest {
        &self.0
    }
    pub fn into_inner(self) -> OrderRequest {
        self.0
    }

    /// A child of this approved order (execution algorithms): the same instrument, side, type and
    /// tag, at most the parent's quantity — so it needs no new approval.
    pub fn child(&self, id: String, qty: i64) -> Approved {
        let mut o = self.0.clone();
        o.id = id;
        o.qty = qty.clamp(0, self.0.qty);
        o.attached.clear();
        Approved(o)
    }

    /// Piece `k` (from 1) of this approved order split by quantity (a freeze-quantity split):
    /// id `<id>.<k>`, at most the parent's quantity, its bracket legs kept (ids `<leg>.<k>`,
    /// each at most the piece's quantity).
    pub fn piece(&self, k: usize, qty: i64) -> Approved {
        let mut o = self.0.clone();
        o.id = format!("{}.{k}", self.0.id);
        o.qty = qty.clamp(0, self.0.qty);
        for leg in &mut o.attached {
            leg.id = format!("{}.{k}", leg.id);
            leg.qty = leg.qty.min(o.qty);
        }
        Approved(o)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskLimits {
    pub max_position_qty: Option<i64>,
    pub max_position_notional: Option<f64>,
    pub max_order_notional: Option<f64>,
    /// Largest |position value| / equity for one instrument.
    pub max_concentration: Option<f64>,
    /// Largest |Σ exposure of one sector| / equity.
    pub max_sector: Option<f64>,
    /// Σ|position value| / equity.
    pub max_gross_leverage: Option<f64>,
    /// |Σ position value| / equity.
    pub max_net_leverage: Option<f64>,
    /// At most `max_orders` approvals within `window_secs`.
    pub max_orders: Option<u32>,
    pub window_secs: Option<i64>,
    /// Largest |limit or stop − last| / last.
    pub price_band: Option<f64>,
    pub allow_short: bool,
    /// Kill switch: peak-to-trough equity loss that flattens and halts.
    pub max_drawdown: Option<f64>,
    /// Automatic de-risking when volatility spikes.
    pub vol_spike: Option<VolSpike>,
    /// Correlation risk: refuse an order that adds exposure in a direction whose returns
    /// correlate with the rest of the book's above `limit`.
    pub max_correlation: Option<MaxCorrelation>,
    /// De-risking on a market regime or the stress index (rows of the `regimes` table, fed to
    /// the engine as [`crate::event::Event::Regime`] when they become known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regime: Option<RegimeRule>,
}

/// De-risk while a regime holds: on entering, cut every position by `cut` and refuse new
/// exposure until it ends (as a volatility spike does). A regime row enters when its value is at
/// least `above` or its state is one of `states`; it ends when its value is below `below`
/// (default `above`) and its state is not one of `states`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeRule {
    /// The rows' scope: a stress universe's name or a symbol.
    pub scope: String,
    /// `stress`, `rules` or `hmm<K>` (the `regimes` table's method).
    pub method: String,
    #[serde(default)]
    pub above: Option<f64>,
    #[serde(default)]
    pub below: Option<f64>,
    #[serde(default)]
    pub states: Vec<i32>,
    /// Fraction of every position cut on entering.
    pub cut: f64,
}

impl RegimeRule {
    /// Whether the regime holds after a row with `state` and `value`, given whether it held.
    pub fn holds(&self, on: bool, state: i32, value: f64) -> bool {
        let level = if on {
            self.below.or(self.above)
        } else {
            self.above
        };
        self.states.contains(&state) || level.is_some_and(|l| value >= l)
    }
}

/// Correlation of the order's instrument (signed by the position it leads to) with the book it
/// joins (every other position, weighted by signed value), over the instrument's recent bar
/// returns that the book's instruments also have (at least `lookback` of them; before that,
/// nothing is measured and the check passes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaxCorrelation {
    pub limit: f64,
    #[serde(default = "d_corr_lookback")]
    pub lookback: usize,
}

fn d_corr_lookback() -> usize {
    60
}

/// De-risk when the account's short-term volatility (EWMA of instant returns, half-life 5) runs
/// above `ratio` × its long-term volatility (half-life 60, after 60 instants): cut every position
/// by `cut` (a fraction) and refuse orders that add exposure until the ratio is back below 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolSpike {
    pub ratio: f64,
    pub cut: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Refused,
    KillSwitch,
    /// Volatility spike: positions cut, new exposure refused.
    Derisk,
    /// Volatility back to normal: new exposure allowed again.
    Normal,
}

/// One risk decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskEvent {
    pub ts: Timestamp,
    pub order_id: String,
    pub sym: Option<Sym>,
    pub decision: Decision,
    /// The check that decided (`ok` for approvals).
    pub check: String,
    pub detail: String,
}

/// What risk needs to know about the book at decision time.
pub struct Book<'a> {
    pub ledger: &'a Ledger,
    /// Last price per symbol (NaN: none yet).
    pub prices: &'a [f64],
    /// Quantities still working at the broker per symbol: (buys, sells), both ≥ 0. Limits are
    /// checked against the worst case — every working order on the order's side filling and none
    /// on the other.
    pub pending: &'a dyn Fn(Sym) -> (i64, i64),
    pub equity: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RiskEngine {
    pub limits: RiskLimits,
    /// Instruments that may be traded (`None`: all).
    pub allowed: Option<Vec<bool>>,
    /// Sector of each symbol, if sector caps are used.
    pub sectors: Vec<Option<u32>>,
    halted: bool,
    peak: f64,
    recent: VecDeque<Timestamp>,
    /// Volatility state: last equity, fast and slow EWMA variances, instants seen, de-risked.
    vol: (f64, f64, f64, usize, bool),
    /// Per symbol, for the correlation limit: last close and the recent (ts_event ns, return).
    #[serde(default)]
    returns: Vec<(f64, VecDeque<(i64, f64)>)>,
    /// De-risked by [`RiskLimits::regime`].
    #[serde(default)]
    regime_on: bool,
}

impl RiskEngine {
    pub fn new(limits: RiskLimits) -> Self {
        RiskEngine {
            limits,
            ..Default::default()
        }
    }

    pub fn halted(&self) -> bool {
        self.halted
    }

    fn refuse(ts: Timestamp, o: &OrderRequest, check: &str, detail: String) -> RiskEvent {
        RiskEvent {
            ts,
            order_id: o.id.clone(),
            sym: Some(o.sym),
            decision: Decision::Refused,
            check: check.into(),
            detail,
        }
    }

    /// Decide on one order.
    pub fn check(
        &mut self,
        o: OrderRequest,
        book: &Book<'_>,
        now: Timestamp,
    ) -> (Option<Approved>, RiskEvent) {
        match self.evaluate(&o, book, now) {
            Err(ev) => (None, ev),
            Ok(()) => {
                self.recent.push_back(now);
                let ev = RiskEvent {
                    ts: now,
                    order_id: o.id.clone(),
                    sym: Some(o.sym),
                    decision: Decision::Approved,
                    check: "ok".into(),
                    detail: String::new(),
                };
                (Some(Approved(o)), ev)
            }
        }
    }

    fn evaluate(
        &mut self,
        o: &OrderRequest,
        book: &Book<'_>,
        now: Timestamp,
    ) -> Result<(), RiskEvent> {
        let l = &self.limits;
        if self.halted {
            return Err(Self::refuse(now, o, "halted", "kill switch is on".into()));
        }
        if o.qty <= 0 {
            return Err(Self::refuse(
                now,
                o,
                "quantity",
                format!("quantity {} is not positive", o.qty),
            ));
        }
        if self.vol.4 || self.regime_on {
            let pos = book.ledger.qty(o.sym);
            let (buys, sells) = (book.pending)(o.sym);
            let adds = match o.side {
                Side::Buy => pos + buys + o.qty > 0,
                Side::Sell => pos - sells - o.qty < 0,
            };
            if adds {
                return Err(if self.vol.4 {
                    Self::refuse(now, o, "vol_spike", "de-risked: volatility spike".into())
                } else {
                    Self::refuse(now, o, "regime", "de-risked: market regime".into())
                });
            }
        }
        if let Some(a) = &self.allowed
            && !a.get(o.sym as usize).copied().unwrap_or(false)
        {
            return Err(Self::refuse(
                now,
                o,
                "instrument",
                "instrument not allowed".into(),
            ));
        }
        let last = book.prices.get(o.sym as usize).copied().unwrap_or(f64::NAN);
        if let (Some(band), Some(p)) = (l.price_band, o.reference_price())
            && last.is_finite()
            && last > 0.0
        {
            let dev = (p.to_f64() - last).abs() / last;
            if dev > band {
                return Err(Self::refuse(
                    now,
                    o,
                    "price_band",
                    format!("price {p} is {:.2}% from last {last}", dev * 100.0),
                ));
            }
        }
        if let (Some(max), Some(w)) = (l.max_orders, l.window_secs) {
            let from = now.add_nanos(-w.saturating_mul(1_000_000_000));
            while self.recent.front().is_some_and(|t| *t <= from) {
                self.recent.pop_front();
            }
            if self.recent.len() >= max as usize {
                return Err(Self::refuse(
                    now,
                    o,
                    "order_rate",
                    format!("{max} orders within {w}s already"),
                ));
            }
        }
        let price = o.reference_price().map(Money::to_f64).unwrap_or(last);
        if !price.is_finite() {
            return Err(Self::refuse(
                now,
                o,
                "price",
                "no price known for the instrument".into(),
            ));
        }
        let notional = o.qty as f64 * price;
        if let Some(m) = l.max_order_notional
            && notional > m
        {
            return Err(Self::refuse(
                now,
                o,
                "order_notional",
                format!("{notional:.2} > {m}"),
            ));
        }
        let pos = book.ledger.qty(o.sym);
        let (buys, sells) = (book.pending)(o.sym);
        // The worst case on the order's side: all working orders of that side and this one fill.
        let next = match o.side {
            Side::Buy => pos + buys + o.qty,
            Side::Sell => pos - sells - o.qty,
        };
        let reduces = match o.side {
            Side::Buy => next <= 0,
            Side::Sell => next >= 0,
        };
        if reduces {
            return Ok(()); // only takes risk off, even in the worst case
        }
        if next < 0 && !l.allow_short {
            return Err(Self::refuse(
                now,
                o,
                "short",
                format!("would leave {next} (shorting not allowed)"),
            ));
        }
        if let Some(m) = l.max_position_qty
            && next.abs() > m
        {
            return Err(Self::refuse(
                now,
                o,
                "position_qty",
                format!("|{next}| > {m}"),
            ));
        }
        let value = next as f64 * price;
        if let Some(m) = l.max_position_notional
            && value.abs() > m
        {
            return Err(Self::refuse(
                now,
                o,
                "position_notional",
                format!("{:.2} > {m}", value.abs()),
            ));
        }
        let eq = book.equity;
        if eq <= 0.0 {
            return Err(Self::refuse(
                now,
                o,
                "equity",
                format!("equity {eq:.2} is not positive"),
            ));
        }
        if let Some(m) = l.max_concentration
            && value.abs() / eq > m
        {
            return Err(Self::refuse(
                now,
                o,
                "concentration",
                format!("{:.4} of equity > {m}", value.abs() / eq),
            ));
        }
        if let Some(mc) = l.max_correlation
            && let Some(c) = self.correlation_with_book(o.sym, next.signum(), book, mc.lookback)
            && c > mc.limit
        {
            return Err(Self::refuse(
                now,
                o,
                "correlation",
                format!(
                    "{c:.3} with the rest of the book over {} bars > {}",
                    mc.lookback, mc.limit
                ),
            ));
        }
        // Book-wide exposures with this order's effect (positions and pending orders at last
        // prices): O(symbols), so only when a limit needs them.
        if l.max_sector.is_none() && l.max_gross_leverage.is_none() && l.max_net_leverage.is_none()
        {
            return Ok(());
        }
        let px = |i: usize| {
            let p = book.prices.get(i).copied().unwrap_or(f64::NAN);
            if p.is_finite() { p } else { 0.0 }
        };
        let n = book.ledger.positions.len().max(o.sym as usize + 1);
        let (mut gross, mut net) = (0.0, 0.0);
        let mut sector = 0.0;
        let my_sector = self.sectors.get(o.sym as usize).copied().flatten();
        for i in 0..n {
            let q = if i == o.sym as usize {
                next
            } else {
                let (b, s) = (book.pending)(i as Sym);
                book.ledger.qty(i as Sym) + b - s
            };
            let v = q as f64 * if i == o.sym as usize { price } else { px(i) };
            gross += v.abs();
            net += v;
            if my_sector.is_some() && self.sectors.get(i).copied().flatten() == my_sector {
                sector += v;
            }
        }
        if let Some(m) = l.max_sector
            && my_sector.is_some()
            && sector.abs() / eq > m
        {
            return Err(Self::refuse(
                now,
                o,
                "sector",
                format!("{:.4} of equity > {m}", sector.abs() / eq),
            ));
        }
        if let Some(m) = l.max_gross_leverage
            && gross / eq > m
        {
            return Err(Self::refuse(
                now,
                o,
                "gross_leverage",
                format!("{:.4} > {m}", gross / eq),
            ));
        }
        if let Some(m) = l.max_net_leverage
            && net.abs() / eq > m
        {
            return Err(Self::refuse(
                now,
                o,
                "net_leverage",
                format!("{:.4} > {m}", net.abs() / eq),
            ));
        }
        Ok(())
    }

    /// Record a bar's close for the correlation limit (a no-op without one).
    pub fn on_close(&mut self, sym: Sym, ts_event: Timestamp, close: f64) {
        let Some(mc) = self.limits.max_correlation else {
            return;
        };
        let i = sym as usize;
        if self.returns.len() <= i {
            self.returns
                .resize_with(i + 1, || (f64::NAN, VecDeque::new()));
        }
        let (last, rets) = &mut self.returns[i];
        if last.is_finite() && *last > 0.0 && close.is_finite() {
            rets.push_back((ts_event.as_nanos(), close / *last - 1.0));
            // One spare: another symbol's bar of this instant may not have arrived yet.
            while rets.len() > mc.lookback + 1 {
                rets.pop_front();
            }
        }
        *last = close;
    }

    /// Pearson correlation of `dir` × the returns of `sym` with the book's other positions'
    /// value-weighted returns, on the bars both have; `None` below `lookback` common bars or
    /// with no other position.
    fn correlation_with_book(
        &self,
        sym: Sym,
        dir: i64,
        book: &Book<'_>,
        lookback: usize,
    ) -> Option<f64> {
        let mine = &self.returns.get(sym as usize)?.1;
        if mine.len() < lookback || dir == 0 {
            return None;
        }
        let mut port = vec![0.0; mine.len()];
        let mut covered = vec![true; mine.len()];
        let mut any = false;
        for (j, (_, rets)) in self.returns.iter().enumerate() {
            let q = book.ledger.qty(j as Sym);
            if j == sym as usize || q == 0 {
                continue;
            }
            let p = book.prices.get(j).copied().unwrap_or(f64::NAN);
            if !p.is_finite() {
                continue;
            }
            any = true;
            let w = q as f64 * p;
            // Both deques are in time order: merge on ts_event.
            let mut k = 0;
            for (t, (ts, _)) in mine.iter().enumerate() {
                while k < rets.len() && rets[k].0 < *ts {
                    k += 1;
                }
                if k < rets.len() && rets[k].0 == *ts {
                    port[t] += w * rets[k].1;
                } else {
                    covered[t] = false;
                }
            }
        }
        if !any {
            return None;
        }
        let pairs: Vec<(f64, f64)> = mine
            .iter()
            .zip(&port)
            .zip(&covered)
            .filter(|(_, c)| **c)
            .map(|((m, p), _)| (dir as f64 * m.1, *p))
            .collect();
        if pairs.len() < lookback {
            return None;
        }
        let n = pairs.len() as f64;
        let (mx, my) = (
            pairs.iter().map(|p| p.0).sum::<f64>() / n,
            pairs.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in &pairs {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
            syy += (y - my) * (y - my);
        }
        (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
    }

    /// Track equity; when the drawdown limit is breached, trip the kill switch. Returns the event
    /// when it trips.
    pub fn on_equity(&mut self, equity: f64, now: Timestamp) -> Option<RiskEvent> {
        self.peak = self.peak.max(equity);
        let dd = if self.peak > 0.0 {
            1.0 - equity / self.peak
        } else {
            0.0
        };
        match self.limits.max_drawdown {
            Some(m) if !self.halted && dd > m => {
                Some(self.kill(now, &format!("drawdown {:.4} > {m}", dd)))
            }
            _ => None,
        }
    }

    /// Track the account's volatility at each instant's close; returns the event when the state
    /// changes (`Derisk`: the caller cuts positions with [`RiskEngine::reduce`]).
    pub fn on_volatility(&mut self, equity: f64, now: Timestamp) -> Option<RiskEvent> {
        let spike = self.limits.vol_spike?;
        let (last, fast, slow, n, on) = self.vol;
        self.vol.0 = equity;
        if last <= 0.0 {
            return None;
        }
        let r = equity / last - 1.0;
        let (lf, ls) = (0.5f64.powf(1.0 / 5.0), 0.5f64.powf(1.0 / 60.0));
        let fast = lf * fast + (1.0 - lf) * r * r;
        let slow = ls * slow + (1.0 - ls) * r * r;
        self.vol = (equity, fast, slow, n + 1, on);
        if n + 1 < 60 || slow <= 0.0 {
            return None;
        }
        let ratio = (fast / slow).sqrt();
        let (decision, check) = if !on && ratio > spike.ratio {
            self.vol.4 = true;
            (Decision::Derisk, "vol_spike")
        } else if on && ratio < 1.0 {
            self.vol.4 = false;
            (Decision::Normal, "vol_normal")
        } else {
            return None;
        };
        Some(RiskEvent {
            ts: now,
            order_id: String::new(),
            sym: None,
            decision,
            check: check.into(),
            detail: format!(
                "short/long volatility {ratio:.3} (threshold {})",
                spike.ratio
            ),
        })
    }

    /// Whether new exposure is refused because of a volatility spike or a regime.
    pub fn derisked(&self) -> bool {
        self.vol.4 || self.regime_on
    }

    /// Regime rows became known (`(state, value, ts_event)` in order): returns the event when
    /// the rule's state after all of them differs from before (`Derisk`: the caller cuts
    /// positions with [`RiskEngine::reduce`] by the rule's `cut`). Rows that arrive together
    /// (e.g. the history before a run's first bar) thus make at most one change.
    pub fn on_regime(
        &mut self,
        rows: &[(i32, f64, Timestamp)],
        now: Timestamp,
    ) -> Option<RiskEvent> {
        let rule = self.limits.regime.as_ref()?;
        let &(state, value, ts_event) = rows.last()?;
        let on = rows
            .iter()
            .fold(self.regime_on, |on, (s, v, _)| rule.holds(on, *s, *v));
        if on == self.regime_on {
            return None;
        }
        self.regime_on = on;
        let (decision, check) = if on {
            (Decision::Derisk, "regime")
        } else {
            (Decision::Normal, "regime_normal")
        };
        Some(RiskEvent {
            ts: now,
            order_id: String::new(),
            sym: None,
            decision,
            check: check.into(),
            detail: format!(
                "{} {} at {ts_event}: state {state}, value {value:.4}",
                rule.method, rule.scope
            ),
        })
    }

    /// Market orders cutting every position of `ledger` by `fraction` (approved: they only
    /// remove risk), tagged `tag`.
    pub fn reduce(
        &self,
        ledger: &Ledger,
        fraction: f64,
        now: Timestamp,
        tag: &str,
    ) -> Vec<Approved> {
        ledger
            .positions
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let q = (p.qty.abs() as f64 * fraction.clamp(0.0, 1.0)).trunc() as i64;
                (q > 0).then(|| {
                    let side = if p.qty > 0 { Side::Sell } else { Side::Buy };
                    let mut o = OrderRequest::new(
                        format!("derisk-{tag}-{}-{i}", now.as_nanos()),
                        i as Sym,
                        side,
                        q,
                        OrderKind::Market,
                    );
                    o.tif = Tif::Gtc;
                    o.tag = tag.into();
                    Approved(o)
                })
            })
            .collect()
    }

    /// Trip the kill switch: from now on every order is refused. The caller cancels working
    /// orders and sends [`RiskEngine::flatten`]'s orders.
    pub fn kill(&mut self, now: Timestamp, why: &str) -> RiskEvent {
        self.halted = true;
        RiskEvent {
            ts: now,
            order_id: String::new(),
            sym: None,
            decision: Decision::KillSwitch,
            check: "kill_switch".into(),
            detail: why.into(),
        }
    }

    /// Lift the kill switch (an operator's `/resume`): orders are checked again, and the
    /// drawdown is measured from `equity` on (else the same breach would trip it at once).
    pub fn resume(&mut self, now: Timestamp, equity: f64, why: &str) -> RiskEvent {
        self.halted = false;
        self.peak = equity;
        RiskEvent {
            ts: now,
            order_id: String::new(),
            sym: None,
            decision: Decision::Normal,
            check: "kill_switch".into(),
            detail: why.into(),
        }
    }

    /// Market orders that close every position of `ledger` (approved: they only remove risk),
    /// tagged `tag`.
    pub fn flatten(&self, ledger: &Ledger, now: Timestamp, tag: &str) -> Vec<Approved> {
        ledger
            .positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.qty != 0)
            .map(|(i, p)| {
                let side = if p.qty > 0 { Side::Sell } else { Side::Buy };
                let mut o = OrderRequest::new(
                    format!("flatten-{tag}-{}-{i}", now.as_nanos()),
                    i as Sym,
                    side,
                    p.qty.abs(),
                    OrderKind::Market,
                );
                o.tif = Tif::Gtc;
                o.tag = tag.into();
                Approved(o)
            })
            .collect()
    }
}
