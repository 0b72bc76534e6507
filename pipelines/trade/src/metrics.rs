//! The tear sheet: performance, risk and trading statistics of an equity curve and its fills.
//!
//! Conventions: returns are simple per-instant returns of equity; annualization uses
//! `periods_per_year` (252 for daily bars, inferred from the median spacing when not given);
//! Sharpe and Sortino take a zero risk-free rate; the Sortino downside deviation is
//! `sqrt(mean(min(r, 0)²))` over all periods; CAGR uses calendar time between the first and last
//! points; VaR and CVaR are one-period, at 95%, as positive loss fractions.

use std::collections::HashMap;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::engine::EquityPoint;
use crate::money::Money;
use crate::order::{Fill, Sym};

/// One round trip: from flat to flat in one symbol, within one strategy's book.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    pub strategy: String,
    pub sym: Sym,
    pub open_ts: Timestamp,
    pub close_ts: Timestamp,
    /// +1 long, −1 short.
    pub direction: i8,
    /// Largest absolute position held.
    pub max_qty: i64,
    /// Net of charges.
    pub pnl: Money,
    pub charges: Money,
}

/// Round trips from fills (in time order), per strategy (the fill's tag) and symbol. A fill that flips the position closes one trip and
/// opens the next, its charges split in proportion to quantity.
pub fn round_trips(fills: &[Fill]) -> Vec<RoundTrip> {
    struct Open {
        qty: i64,
        max: i64,
        cash: Money,
        charges: Money,
        ts: Timestamp,
    }
    let mut open: HashMap<(&str, Sym), Open> = HashMap::new();
    let mut out = vec![];
    for f in fills {
        let dq = f.qty * f.side.sign();
        let fee = f.charges.total();
        let key = (f.tag.as_str(), f.sym);
        let sign = f.side.sign();
        // Reduce an opposite open trip first; `part` is the share of this fill's charges it bears.
        let (mut part, mut closed) = (Money::ZERO, false);
        let closing = match open.get_mut(&key) {
            Some(o) if o.qty != 0 && o.qty.signum() != dq.signum() => {
                let c = dq.abs().min(o.qty.abs());
                part = Money((fee.0 as i128 * c as i128 / f.qty as i128) as i64);
                o.cash -= f.price.times(c * sign) + part;
                o.charges += part;
                o.qty += c * sign;
                closed = o.qty == 0;
                c
            }
            _ => 0,
        };
        let opening = f.qty - closing;
        if closed && let Some(o) = open.remove(&key) {
            out.push(RoundTrip {
                strategy: f.tag.clone(),
                sym: f.sym,
                open_ts: o.ts,
                close_ts: f.ts,
                direction: if dq < 0 { 1 } else { -1 },
                max_qty: o.max,
                pnl: o.cash,
                charges: o.charges,
            });
        }
        if closing > 0 {
            if opening > 0 {
                let rest = fee - part;
                open.insert(
                    key,
                    Open {
                        qty: opening * f.side.sign(),
                        max: opening,
                        cash: -(f.price.times(opening * f.side.sign()) + rest),
                        charges: rest,
                        ts: f.ts,
                    },
                );
            }
        } else {
            let o = open.entry(key).or_insert(Open {
                qty: 0,
                max: 0,
                cash: Money::ZERO,
                charges: Money::ZERO,
                ts: f.ts,
            });
            o.qty += dq;
            o.max = o.max.max(o.qty.abs());
            o.cash -= f.flow() + fee;
            o.charges += fee;
        }
    }
    out.sort_by(|a, b| (a.close_ts, a.sym, &a.strategy).cmp(&(b.close_ts, b.sym, &b.strategy)));
    out
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TearSheet {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub periods: usize,
    pub periods_per_year: f64,
    pub initial: Money,
    pub final_equity: f64,
    pub total_return: f64,
    pub cagr: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub max_drawdown: f64,
    pub trades: usize,
    pub win_rate: f64,
    pub profit_factor: f64,
    /// Traded value per year / average equity.
    pub turnover: f64,
    /// Average gross exposure / equity.
    pub exposure: f64,
    pub costs_paid: Money,
    pub var_95_historical: f64,
    pub cvar_95_historical: f64,
    pub var_95_parametric: f64,
    pub var_95_monte_carlo: f64,
}

/// Periods per year from the median spacing of the points: daily → 252, weekly → 52, monthly →
/// 12, intraday → 252 × 6.5 h / spacing.
pub fn infer_periods_per_year(ts: &[Timestamp]) -> f64 {
    let mut d: Vec<i64> = ts
        .windows(2)
        .map(|w| w[1].as_nanos() - w[0].as_nanos())
        .collect();
    if d.is_empty() {
        return 252.0;
    }
    d.sort_unstable();
    let days = d[d.len() / 2] as f64 / 86_400e9;
    if days >= 25.0 {
        12.0
    } else if days >= 5.0 {
        52.0
    } else if days >= 0.9 {
        252.0
    } else {
        252.0 * 6.5 / (days * 24.0)
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    // Linear interpolation between order statistics (numpy's default).
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q * (n - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Standard normal quantile at 5%.
const Z05: f64 = -1.644_853_626_951_472_2;

/// A small deterministic generator (SplitMix64) for the Monte Carlo VaR: same seed, same number.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// VaR and CVaR (95%, one period) of a return series: historical VaR, historical CVaR,
/// parametric (normal) VaR and Monte Carlo VaR (20,000 normal draws, fixed seed).
pub fn var95(returns: &[f64]) -> (f64, f64, f64, f64) {
    if returns.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let mut s = returns.to_vec();
    s.sort_by(f64::total_cmp);
    let q = quantile(&s, 0.05);
    let tail: Vec<f64> = s.iter().copied().filter(|r| *r <= q).collect();
    let cvar = -tail.iter().sum::<f64>() / tail.len().max(1) as f64;
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let sd = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let param = -(mean + Z05 * sd);
    let mut g = SplitMix(0x5EED);
    let mut draws: Vec<f64> = (0..10_000)
        .flat_map(|_| {
            let (u1, u2) = (g.next(), g.next());
            let r = (-2.0 * u1.ln()).sqrt();
            let t = 2.0 * std::f64::consts::PI * u2;
            [mean + sd * r * t.cos(), mean + sd * r * t.sin()]
        })
        .collect();
    draws.sort_by(f64::total_cmp);
    let mc = -quantile(&draws, 0.05);
    (-q, cvar, param, mc)
}

/// The tear sheet of an equity curve and its fills.
pub fn tear_sheet(
    equity: &[EquityPoint],
    fills: &[Fill],
    initial: Money,
    periods_per_year: Option<f64>,
) -> TearSheet {
    let ts: Vec<Timestamp> = equity.iter().map(|e| e.ts).collect();
    let ppy = periods_per_year.unwrap_or_else(|| infer_periods_per_year(&ts));
    let init = initial.to_f64();
    let mut prev = init;
    let mut rets = Vec::with_capacity(equity.len());
    let (mut peak, mut mdd) = (init, 0.0f64);
    let (mut expo, mut eq_sum) = (0.0, 0.0);
    for e in equity {
        rets.push(if prev != 0.0 {
            e.equity / prev - 1.0
        } else {
            0.0
        });
        prev = e.equity;
        peak = peak.max(e.equity);
        if peak > 0.0 {
            mdd = mdd.max(1.0 - e.equity / peak);
        }
        if e.equity > 0.0 {
            expo += e.gross / e.equity;
        }
        eq_sum += e.equity;
    }
    let n = rets.len().max(1) as f64;
    let mean = rets.iter().sum::<f64>() / n;
    let sd = (rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let down = (rets.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    let final_equity = equity.last().map_or(init, |e| e.equity);
    let years = match (ts.first(), ts.last()) {
        (Some(a), Some(b)) if b > a => (b.as_nanos() - a.as_nanos()) as f64 / (365.25 * 86_400e9),
        _ => 0.0,
    };
    let cagr = if years > 0.0 && init > 0.0 && final_equity > 0.0 {
        (final_equity / init).powf(1.0 / years) - 1.0
    } else {
        0.0
    };
    let trips = round_trips(fills);
    let wins = trips.iter().filter(|t| t.pnl.0 > 0).count();
    let gain: i64 = trips.iter().filter(|t| t.pnl.0 > 0).map(|t| t.pnl.0).sum();
    let loss: i64 = trips.iter().filter(|t| t.pnl.0 < 0).map(|t| -t.pnl.0).sum();
    let traded: f64 = fills.iter().map(|f| f.price.times(f.qty).to_f64()).sum();
    let avg_eq = eq_sum / n;
    let (var_h, cvar_h, var_p, var_mc) = var95(&rets);
    let ann = ppy.sqrt();
    TearSheet {
        start: ts.first().copied(),
        end: ts.last().copied(),
        periods: equity.len(),
        periods_per_year: ppy,
        initial,
        final_equity,
        total_return: if init > 0.0 {
            final_equity / init - 1.0
        } else {
            0.0
        },
        cagr,
        volatility: sd * ann,
        sharpe: if sd > 0.0 { mean / sd * ann } else { 0.0 },
        sortino: if down > 0.0 { mean / down * ann } else { 0.0 },
        calmar: if mdd > 0.0 { cagr / mdd } else { 0.0 },
        max_drawdown: mdd,
        trades: trips.len(),
        win_rate: if trips.is_empty() {
            0.0
        } else {
            wins as f64 / trips.len() as f64
        },
        profit_factor: if loss > 0 {
            gain as f64 / loss as f64
        } else {
            0.0
        },
        turnover: if years > 0.0 && avg_eq > 0.0 {
            traded / years / avg_eq
        } else {
            0.0
        },
        exposure: expo / n,
        costs_paid: fills.iter().map(|f| f.charges.total()).sum(),
        var_95_historical: var_h,
        cvar_95_historical: cvar_h,
        var_95_parametric: var_p,
        var_95_monte_carlo: var_mc,
    }
}
