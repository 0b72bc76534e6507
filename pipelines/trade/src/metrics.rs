//! The tear sheet: performance, risk and trading statistics of an equity curve and its fills.
//!
//! Conventions (those of `empyrical` and `quantstats`, and tested against them on the same
//! returns): returns are simple per-instant returns of equity; annualization uses
//! `periods_per_year` (252 for daily bars, inferred from the median spacing when not given);
//! Sharpe and Sortino take a zero risk-free rate, standard deviation with ddof 1, the Sortino
//! downside deviation `sqrt(mean(min(r, 0)²))` over all periods; CAGR is `empyrical.annual_return`
//! (compounded growth over `n / periods_per_year` years); max drawdown from the initial equity;
//! VaR and CVaR are one-period, at 95%, as positive loss fractions: historical VaR is the 5th
//! percentile (linear interpolation), historical CVaR the mean of the `⌊0.05 (n − 1)⌋ + 1` worst
//! returns (`empyrical.conditional_value_at_risk`), parametric VaR `mean + z₀.₀₅ · sd`
//! (`quantstats.value_at_risk`); win rate and profit factor as `quantstats` defines them, applied
//! to round-trip P&L. The filtered-historical-simulation VaR scales every past return by the
//! ratio of today's EWMA volatility to the volatility when it happened (Hull & White 1998,
//! "Incorporating volatility updating into the historical simulation method for value-at-risk";
//! RiskMetrics λ = 0.94) and takes the 5th percentile of those scenarios.

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
    /// Filtered historical simulation (volatility-updated, Hull & White 1998).
    pub var_95_filtered_hs: f64,
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

fn mean(r: &[f64]) -> f64 {
    r.iter().sum::<f64>() / r.len() as f64
}

/// Sample standard deviation (ddof 1).
fn sd(r: &[f64]) -> f64 {
    let m = mean(r);
    (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r.len() as f64 - 1.0)).sqrt()
}

/// Annualized Sharpe ratio, zero risk-free rate (`empyrical.sharpe_ratio`). NaN when undefined.
pub fn sharpe(r: &[f64], periods_per_year: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    mean(r) / sd(r) * periods_per_year.sqrt()
}

/// Annualized Sortino ratio, zero target (`empyrical.sortino_ratio`). NaN when undefined.
pub fn sortino(r: &[f64], periods_per_year: f64) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    let down = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    mean(r) / down * periods_per_year.sqrt()
}

/// Largest peak-to-trough fall of compounded returns, from the starting value, as a positive
/// fraction (`-empyrical.max_drawdown`).
pub fn max_drawdown(r: &[f64]) -> f64 {
    let (mut v, mut peak, mut mdd) = (1.0f64, 1.0f64, 0.0f64);
    for x in r {
        v *= 1.0 + x;
        peak = peak.max(v);
        if peak > 0.0 {
            mdd = mdd.max(1.0 - v / peak);
        }
    }
    mdd
}

/// Compound annual growth rate over `n / periods_per_year` years (`empyrical.annual_return`).
pub fn annual_return(r: &[f64], periods_per_year: f64) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    let growth: f64 = r.iter().map(|x| 1.0 + x).product();
    let years = r.len() as f64 / periods_per_year;
    growth.powf(1.0 / years) - 1.0
}

/// Historical 95% VaR: minus the 5th percentile (`-empyrical.value_at_risk`).
pub fn var_historical(r: &[f64]) -> f64 {
    let mut s = r.to_vec();
    s.sort_by(f64::total_cmp);
    -quantile(&s, 0.05)
}

/// Historical 95% CVaR: minus the mean of the `⌊0.05 (n − 1)⌋ + 1` worst returns
/// (`-empyrical.conditional_value_at_risk`).
pub fn cvar_historical(r: &[f64]) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    let mut s = r.to_vec();
    s.sort_by(f64::total_cmp);
    let k = ((r.len() - 1) as f64 * 0.05) as usize + 1;
    -mean(&s[..k])
}

/// Parametric (normal) 95% VaR: minus `mean + z₀.₀₅ · sd` (`-quantstats.value_at_risk`).
pub fn var_parametric(r: &[f64]) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    -(mean(r) + Z05 * sd(r))
}

/// Filtered historical simulation 95% VaR (Hull & White 1998, EWMA λ = 0.94): each past return
/// rescaled by `σ_{T+1} / σ_t` (the EWMA volatility now over the one when it happened, each
/// estimated from earlier returns only; seeded with the mean square of the first 20), and minus
/// the 5th percentile of those scenarios.
pub fn var_filtered_hs(r: &[f64]) -> f64 {
    const LAMBDA: f64 = 0.94;
    if r.len() < 2 {
        return f64::NAN;
    }
    let seed = r.len().min(20);
    let mut var = r[..seed].iter().map(|x| x * x).sum::<f64>() / seed as f64;
    let mut sig = Vec::with_capacity(r.len());
    for x in r {
        sig.push(var.sqrt());
        var = LAMBDA * var + (1.0 - LAMBDA) * x * x;
    }
    let now = var.sqrt();
    let mut scen: Vec<f64> = r
        .iter()
        .zip(&sig)
        .filter(|(_, s)| **s > 0.0)
        .map(|(x, s)| x * now / s)
        .collect();
    if scen.is_empty() {
        return f64::NAN;
    }
    scen.sort_by(f64::total_cmp);
    -quantile(&scen, 0.05)
}

/// Share of winners among the non-zero outcomes (`quantstats.win_rate`).
pub fn win_rate(x: &[f64]) -> f64 {
    let nonzero = x.iter().filter(|v| **v != 0.0).count();
    if nonzero == 0 {
        return 0.0;
    }
    x.iter().filter(|v| **v > 0.0).count() as f64 / nonzero as f64
}

/// Gains over losses, `|Σ x≥0 / Σ x<0|` (`quantstats.profit_factor`); infinite with no losses.
pub fn profit_factor(x: &[f64]) -> f64 {
    let gain: f64 = x.iter().filter(|v| **v >= 0.0).sum();
    let loss: f64 = x.iter().filter(|v| **v < 0.0).sum();
    (gain / loss).abs()
}

/// VaR and CVaR (95%, one period) of a return series: historical VaR, historical CVaR,
/// parametric (normal) VaR and filtered-historical-simulation VaR.
pub fn var95(returns: &[f64]) -> (f64, f64, f64, f64) {
    if returns.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    (
        var_historical(returns),
        cvar_historical(returns),
        var_parametric(returns),
        var_filtered_hs(returns),
    )
}

/// A finite value, else 0 (a tear sheet shows 0 where a ratio is undefined, e.g. no variance).
fn or0(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
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
    let dev = if rets.len() > 1 { sd(&rets) } else { 0.0 };
    let final_equity = equity.last().map_or(init, |e| e.equity);
    let years = match (ts.first(), ts.last()) {
        (Some(a), Some(b)) if b > a => (b.as_nanos() - a.as_nanos()) as f64 / (365.25 * 86_400e9),
        _ => 0.0,
    };
    let cagr = if init > 0.0 && final_equity > 0.0 {
        or0(annual_return(&rets, ppy))
    } else {
        0.0
    };
    let trips = round_trips(fills);
    let pnl: Vec<f64> = trips.iter().map(|t| t.pnl.to_f64()).collect();
    let traded: f64 = fills.iter().map(|f| f.price.times(f.qty).to_f64()).sum();
    let avg_eq = eq_sum / n;
    let (var_h, cvar_h, var_p, var_fhs) = var95(&rets);
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
        volatility: dev * ann,
        sharpe: if dev > 0.0 {
            or0(sharpe(&rets, ppy))
        } else {
            0.0
        },
        sortino: or0(sortino(&rets, ppy)),
        calmar: if mdd > 0.0 { cagr / mdd } else { 0.0 },
        max_drawdown: mdd,
        trades: trips.len(),
        win_rate: win_rate(&pnl),
        profit_factor: or0(profit_factor(&pnl)),
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
        var_95_filtered_hs: var_fhs,
    }
}
