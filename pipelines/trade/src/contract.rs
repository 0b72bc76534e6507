//! Exchange contract rules an order must meet before it is sent, as Indian exchanges publish them
//! in their instrument masters (Upstox's BOD file): quantities in whole **lots**, prices on the
//! **tick** grid, no single order above the **freeze quantity** (NSE rejects it; it is split into
//! orders of at most that many), and no price outside the day's **circuit band** around the
//! previous session's close (refused).
//!
//! Rounding never makes an order more aggressive than the strategy asked: quantities round down
//! to whole lots, a buy limit rounds down to the tick and a sell limit up; stop prices round to
//! the nearest tick. Sessions are UTC days (an NSE session, 03:45–10:00 UTC, lies inside one),
//! as in the execution algorithms' volume profiles.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::order::{OrderKind, OrderRequest, Side, Sym};

/// One instrument's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSpec {
    /// Quantities are whole multiples of this (1 for cash equities).
    pub lot: i64,
    /// Prices are whole multiples of this.
    pub tick: Money,
    /// Largest quantity one order may carry; larger orders are split.
    #[serde(default)]
    pub freeze: Option<i64>,
    /// Circuit band: prices beyond ±band × the previous session's close are refused (0.2: 20%).
    #[serde(default)]
    pub band: Option<f64>,
}

/// Why an order cannot be sent as the contract stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Breach {
    /// `lot_size` or `circuit_band`.
    pub check: &'static str,
    pub detail: String,
}

impl ContractSpec {
    /// A spec that can be applied: lot ≥ 1, tick > 0, freeze ≥ one lot, band in (0, 1).
    pub fn check(&self) -> Result<(), String> {
        if self.lot < 1 {
            return Err(format!("lot {}: must be at least 1", self.lot));
        }
        if self.tick.0 <= 0 {
            return Err(format!("tick {}: must be above 0", self.tick.to_f64()));
        }
        if let Some(f) = self.freeze
            && f < self.lot
        {
            return Err(format!("freeze {f}: below one lot of {}", self.lot));
        }
        if let Some(b) = self.band
            && !(b > 0.0 && b < 1.0)
        {
            return Err(format!("band {b}: must be in (0, 1)"));
        }
        Ok(())
    }

    fn round_price(&self, p: Money, down: Option<bool>) -> Money {
        let t = self.tick.0;
        let q = p.0.div_euclid(t);
        let r = p.0.rem_euclid(t);
        let steps = match down {
            Some(true) => q,
            Some(false) if r > 0 => q + 1,
            Some(false) => q,
            None if 2 * r >= t => q + 1,
            None => q,
        };
        Money(steps * t)
    }

    /// The band of ±`band` around `reference` (the previous session's close), if both are known.
    pub fn band_around(&self, reference: Option<f64>) -> Option<Band> {
        let (band, r) = (self.band?, reference.filter(|r| r.is_finite() && *r > 0.0)?);
        Some(Band {
            lower: r * (1.0 - band),
            upper: r * (1.0 + band),
            from: format!("±{band} of the previous close {r}"),
        })
    }

    /// [`Self::shape_within`] the band around `reference` (the previous session's close; `None`:
    /// no band yet).
    pub fn shape(&self, o: OrderRequest, reference: Option<f64>) -> Result<OrderRequest, Breach> {
        self.shape_within(o, self.band_around(reference).as_ref())
    }

    /// The order on the contract's grid: quantity in whole lots (rounded down), prices on the
    /// tick grid, limit and stop prices checked against `band` (none: unchecked). Attached
    /// orders (bracket legs) get the same treatment.
    pub fn shape_within(
        &self,
        mut o: OrderRequest,
        band: Option<&Band>,
    ) -> Result<OrderRequest, Breach> {
        let lots = o.qty / self.lot;
        if lots == 0 {
            return Err(Breach {
                check: "lot_size",
                detail: format!("{} is less than one lot of {}", o.qty, self.lot),
            });
        }
        o.qty = lots * self.lot;
        let buy = o.side == Side::Buy;
        let limit_down = Some(buy);
        match &mut o.kind {
            OrderKind::Market => {}
            OrderKind::Limit { limit } => *limit = self.round_price(*limit, limit_down),
            OrderKind::Stop { stop } => *stop = self.round_price(*stop, None),
            OrderKind::StopLimit { stop, limit } => {
                *stop = self.round_price(*stop, None);
                *limit = self.round_price(*limit, limit_down);
            }
            _ => {}
        }
        if let Some(band) = band {
            let prices: Vec<f64> = match &o.kind {
                OrderKind::Limit { limit } => vec![limit.to_f64()],
                OrderKind::Stop { stop } => vec![stop.to_f64()],
                OrderKind::StopLimit { stop, limit } => vec![stop.to_f64(), limit.to_f64()],
                _ => vec![],
            };
            if let Some(p) = prices
                .into_iter()
                .find(|p| *p < band.lower || *p > band.upper)
            {
                return Err(Breach {
                    check: "circuit_band",
                    detail: format!(
                        "price {p} outside the band {:.4}..{:.4} ({})",
                        band.lower, band.upper, band.from
                    ),
                });
            }
        }
        let attached = std::mem::take(&mut o.attached);
        for a in attached {
            let mut a = self.shape_within(a, band)?;
            // A leg closes what the parent opened: never more than the parent's quantity.
            a.qty = a.qty.min(o.qty);
            o.attached.push(a);
        }
        Ok(o)
    }

    /// The quantities `qty` is sent as: one order, or orders of at most the freeze quantity
    /// (rounded down to whole lots) and the remainder.
    pub fn split(&self, qty: i64) -> Vec<i64> {
        let Some(freeze) = self.freeze else {
            return vec![qty];
        };
        let most = (freeze / self.lot).max(1) * self.lot;
        if qty <= most {
            return vec![qty];
        }
        let mut out = vec![most; (qty / most) as usize];
        if qty % most > 0 {
            out.push(qty % most);
        }
        out
    }
}

/// The prices an order may carry today.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub lower: f64,
    pub upper: f64,
    /// Where the band comes from (for the refusal's text).
    pub from: String,
}

/// One trading day's exchange price band (circuit limits) for an instrument, as a broker's quote
/// gave it: it holds from `day` (00:00 of the trading day, exchange time) for 24 hours, once
/// known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CircuitLimit {
    pub day: Timestamp,
    /// When it was known (the quote's time).
    pub known: Timestamp,
    pub lower: f64,
    pub upper: f64,
}

const DAY_NS: i64 = 86_400_000_000_000;

/// Every symbol's spec (by symbol index), the previous-session close each configured band is
/// around, and the exchange's circuit limits where a broker's quotes gave them.
#[derive(Clone, Debug, Default)]
pub struct Contracts {
    specs: Vec<Option<ContractSpec>>,
    /// Per symbol: (UTC day of the last bar, previous session's close, last close).
    closes: Vec<(i64, f64, f64)>,
    /// Per symbol: limits not yet known, by `known` (the next is first).
    pending: Vec<std::collections::VecDeque<CircuitLimit>>,
    /// Per symbol: the newest limits known.
    limits: Vec<Option<CircuitLimit>>,
}

impl Contracts {
    pub fn new(specs: Vec<Option<ContractSpec>>) -> Result<Self, String> {
        for s in specs.iter().flatten() {
            s.check()?;
        }
        Ok(Self {
            closes: vec![(i64::MIN, f64::NAN, f64::NAN); specs.len()],
            pending: vec![Default::default(); specs.len()],
            limits: vec![None; specs.len()],
            specs,
        })
    }

    /// The circuit limits of `sym` over time (a backtest or paper run reads them from the
    /// `circuit_limits` table; each counts from when it was known).
    pub fn set_limits(&mut self, sym: Sym, mut limits: Vec<CircuitLimit>) {
        limits.retain(|l| l.lower.is_finite() && l.upper.is_finite() && l.lower < l.upper);
        limits.sort_by_key(|l| (l.known, l.day));
        if let Some(p) = self.pending.get_mut(sym as usize) {
            *p = limits.into();
        }
    }

    /// Limits that arrive while running (a live quote), known from `limit.known`.
    pub fn add_limit(&mut self, sym: Sym, limit: CircuitLimit) {
        if let Some(p) = self.pending.get_mut(sym as usize) {
            let at = p.partition_point(|l| (l.known, l.day) <= (limit.known, limit.day));
            p.insert(at, limit);
        }
    }

    /// The band an order of `sym` must stay in at `now`: the exchange's circuit limits of the
    /// day when known, else the spec's ±band around the previous session's close, else none.
    pub fn band(&mut self, sym: Sym, now: Timestamp) -> Option<Band> {
        let i = sym as usize;
        if let Some(p) = self.pending.get_mut(i) {
            while p.front().is_some_and(|l| l.known <= now) {
                self.limits[i] = p.pop_front();
            }
        }
        let t = now.as_nanos();
        if let Some(l) = self.limits.get(i).copied().flatten()
            && l.day.as_nanos() <= t
            && t < l.day.as_nanos() + DAY_NS
        {
            return Some(Band {
                lower: l.lower,
                upper: l.upper,
                from: format!(
                    "the exchange's circuit limits of the day, known {}",
                    l.known
                ),
            });
        }
        self.spec(sym)?.band_around(self.reference(sym))
    }

    pub fn spec(&self, sym: Sym) -> Option<&ContractSpec> {
        self.specs.get(sym as usize).and_then(Option::as_ref)
    }

    /// Record a bar's close: a new UTC day makes the last close the previous session's.
    pub fn on_bar(&mut self, sym: Sym, ts_event: Timestamp, close: f64) {
        let Some(c) = self.closes.get_mut(sym as usize) else {
            return;
        };
        let day = ts_event.as_nanos().div_euclid(86_400_000_000_000);
        if day != c.0 {
            if c.0 != i64::MIN {
                c.1 = c.2;
            }
            c.0 = day;
        }
        c.2 = close;
    }

    /// The close the band of `sym` is around today (none before a session has ended).
    pub fn reference(&self, sym: Sym) -> Option<f64> {
        self.closes
            .get(sym as usize)
            .map(|c| c.1)
            .filter(|p| p.is_finite())
    }
}
