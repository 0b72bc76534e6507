//! The fixed-point ledger: cash, positions, cost basis, realized P&L and fees, exact.
//!
//! Invariant, checked by [`Ledger::reconcile`] and property tests: at every point
//! `cash + Σ basis = initial + Σ realized − fees`, and `cash = initial − Σ buys + Σ sells − fees`,
//! to the last 1/10,000 of the currency unit.

use serde::{Deserialize, Serialize};

use crate::costs::Charges;
use crate::money::Money;
use crate::order::{Fill, Sym};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Signed quantity (+ long).
    pub qty: i64,
    /// Signed cost of the open quantity (+ for a long, − proceeds of a short).
    pub basis: Money,
    /// Realized P&L before fees.
    pub realized: Money,
}

impl Position {
    /// Average entry price (0 when flat).
    pub fn avg_price(&self) -> Money {
        if self.qty == 0 {
            Money::ZERO
        } else {
            Money(self.basis.0 / self.qty)
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub initial: Money,
    pub cash: Money,
    pub positions: Vec<Position>,
    pub bought: Money,
    pub sold: Money,
    pub fees: Charges,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("ledger does not reconcile: {0}")]
pub struct ReconcileError(pub String);

impl Ledger {
    pub fn new(initial: Money) -> Self {
        Ledger {
            initial,
            cash: initial,
            ..Default::default()
        }
    }

    pub fn position(&self, sym: Sym) -> Position {
        self.positions
            .get(sym as usize)
            .copied()
            .unwrap_or_default()
    }

    pub fn qty(&self, sym: Sym) -> i64 {
        self.positions.get(sym as usize).map_or(0, |p| p.qty)
    }

    /// Book a fill: cash, position, basis, realized P&L, fees.
    pub fn apply(&mut self, f: &Fill) {
        let i = f.sym as usize;
        if self.positions.len() <= i {
            self.positions.resize(i + 1, Position::default());
        }
        let flow = f.flow();
        let fee = f.charges.total();
        self.cash -= flow + fee;
        self.fees += f.charges;
        if flow.0 > 0 {
            self.bought += flow;
        } else {
            self.sold -= flow;
        }
        let p = &mut self.positions[i];
        let dq = f.qty * f.side.sign();
        let mut left = dq;
        // Reduce an opposite position first (exact: what leaves the basis is what is realized
        // against).
        if p.qty != 0 && p.qty.signum() != dq.signum() {
            let close = left.abs().min(p.qty.abs()) * dq.signum();
            let removed = Money((p.basis.0 as i128 * (-close) as i128 / p.qty as i128) as i64);
            let close_flow = f.price.times(close);
            p.basis -= removed;
            p.realized += -close_flow - removed;
            p.qty += close;
            left -= close;
            if p.qty == 0 {
                // Rounding residue of the basis belongs to the closed trade.
                p.realized -= p.basis;
                p.basis = Money::ZERO;
            }
        }
        if left != 0 {
            p.basis += f.price.times(left);
            p.qty += left;
        }
    }

    /// Market value of positions at `prices` (f64: analytics).
    pub fn market_value(&self, prices: &[f64]) -> f64 {
        self.positions
            .iter()
            .zip(prices)
            .filter(|(p, _)| p.qty != 0)
            .map(|(p, &px)| p.qty as f64 * px)
            .sum()
    }

    /// Gross exposure (Σ|qty × price|).
    pub fn gross(&self, prices: &[f64]) -> f64 {
        self.positions
            .iter()
            .zip(prices)
            .map(|(p, &px)| (p.qty as f64 * px).abs())
            .sum()
    }

    pub fn equity(&self, prices: &[f64]) -> f64 {
        self.cash.to_f64() + self.market_value(prices)
    }

    pub fn realized(&self) -> Money {
        self.positions.iter().map(|p| p.realized).sum()
    }

    /// Check the ledger's identities exactly, and optionally that its positions equal the sum of
    /// `fills` (a broker's record).
    pub fn reconcile(&self, fills: Option<&[Fill]>) -> Result<(), ReconcileError> {
        let fees = self.fees.total();
        if self.cash != self.initial - self.bought + self.sold - fees {
            return Err(ReconcileError(format!(
                "cash {} != initial {} - bought {} + sold {} - fees {}",
                self.cash, self.initial, self.bought, self.sold, fees
            )));
        }
        let basis: Money = self.positions.iter().map(|p| p.basis).sum();
        if self.cash + basis != self.initial + self.realized() - fees {
            return Err(ReconcileError(format!(
                "cash {} + basis {} != initial {} + realized {} - fees {}",
                self.cash,
                basis,
                self.initial,
                self.realized(),
                fees
            )));
        }
        if let Some(fills) = fills {
            let mut q = vec![0i64; self.positions.len()];
            for f in fills {
                let i = f.sym as usize;
                if i >= q.len() {
                    return Err(ReconcileError(format!("fill for unknown symbol {i}")));
                }
                q[i] += f.qty * f.side.sign();
            }
            for (i, (p, q)) in self.positions.iter().zip(&q).enumerate() {
                if p.qty != *q {
                    return Err(ReconcileError(format!(
                        "symbol {i}: ledger {} != fills {q}",
                        p.qty
                    )));
                }
            }
        }
        Ok(())
    }
}
