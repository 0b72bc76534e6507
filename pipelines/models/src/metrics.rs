//! Out-of-sample scores of predictions: accuracy, AUC, log-loss, IC and rank IC, and the
//! cost-aware P&L of trading them (long/short or long/flat), beside buy-and-hold.

use serde::{Deserialize, Serialize};

/// Fraction of rows where `score > threshold` agrees with `up`.
pub fn accuracy(score: &[f64], up: &[bool], threshold: f64) -> f64 {
    if score.is_empty() {
        return f64::NAN;
    }
    let hit = score
        .iter()
        .zip(up)
        .filter(|&(s, &u)| (*s > threshold) == u)
        .count();
    hit as f64 / score.len() as f64
}

/// Average ranks (1-based), ties sharing their mean rank.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Area under the ROC curve (Mann–Whitney U with tied scores counted half).
pub fn auc(score: &[f64], up: &[bool]) -> f64 {
    let pos = up.iter().filter(|&&u| u).count() as f64;
    let neg = up.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    let r = ranks(score);
    let sum: f64 = r.iter().zip(up).filter(|&(_, &u)| u).map(|(r, _)| r).sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Mean binary log-loss with probabilities clipped to [1e-15, 1 − 1e-15].
pub fn log_loss(p: &[f64], up: &[bool]) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    let s: f64 = p
        .iter()
        .zip(up)
        .map(|(&p, &u)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if u { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    s / p.len() as f64
}

/// Pearson correlation.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        return f64::NAN;
    }
    sab / (saa * sbb).sqrt()
}

/// Spearman rank correlation.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// IC and rank IC. With several symbols per date (at least 3 on average) they are the means of
/// the per-date cross-sectional correlations — the usual factor IC; with one series, the
/// time-series correlations over all rows.
pub fn ic(dates: &[i64], score: &[f64], fwd: &[f64]) -> (f64, f64) {
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by_key(|&i| dates[i]);
    let mut groups: Vec<Vec<usize>> = vec![];
    for &i in &order {
        match groups.last_mut() {
            Some(g) if dates[g[0]] == dates[i] => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    if groups.is_empty() || (dates.len() as f64 / groups.len() as f64) < 3.0 {
        return (pearson(score, fwd), spearman(score, fwd));
    }
    let (mut ic, mut ric, mut n) = (0.0, 0.0, 0.0);
    for g in groups.iter().filter(|g| g.len() >= 3) {
        let s: Vec<f64> = g.iter().map(|&i| score[i]).collect();
        let f: Vec<f64> = g.iter().map(|&i| fwd[i]).collect();
        let (a, b) = (pearson(&s, &f), spearman(&s, &f));
        if a.is_finite() && b.is_finite() {
            ic += a;
            ric += b;
            n += 1.0;
        }
    }
    (ic / n, ric / n)
}

/// How predictions become positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Book {
    /// +1 when the prediction says up, −1 otherwise.
    LongShort,
    /// +1 when up, 0 otherwise.
    LongFlat,
    /// +1 always (buy-and-hold).
    Hold,
}

/// How predictions are traded for the P&L.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trading {
    pub book: Book,
    /// Cost per unit of position change, in basis points.
    pub cost_bps: f64,
    pub periods_per_year: f64,
}

/// P&L of trading predictions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pnl {
    pub total_return: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    /// Mean |position change| per symbol per bar.
    pub turnover: f64,
}

/// Trade the predictions: each row's position (per `book`) earns the row's next one-bar return,
/// less `cost_bps` per unit of position change per symbol. The book is equal-weighted across the
/// symbols present at each date. `series` tells rows of different symbols apart.
pub fn pnl(
    dates: &[i64],
    series: &[u32],
    score: &[f64],
    threshold: f64,
    next_return: &[f64],
    t: &Trading,
) -> Pnl {
    let s = pnl_series(dates, series, score, threshold, next_return, t);
    let rets = &s.returns;
    let mut eq = 1.0f64;
    let (mut peak, mut mdd) = (1.0f64, 0.0f64);
    for r in rets {
        eq *= 1.0 + r;
        peak = peak.max(eq);
        mdd = mdd.max(1.0 - eq / peak);
    }
    let n = rets.len() as f64;
    let mean = rets.iter().sum::<f64>() / n;
    let sd = (rets.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    Pnl {
        total_return: eq - 1.0,
        sharpe: if sd > 0.0 {
            mean / sd * t.periods_per_year.sqrt()
        } else {
            0.0
        },
        max_drawdown: mdd,
        turnover: s.turnover,
    }
}

/// The per-date returns [`pnl`] summarizes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PnlSeries {
    /// The dates, ascending.
    pub dates: Vec<i64>,
    /// The book's return over the bar after each date, after costs.
    pub returns: Vec<f64>,
    /// Mean |position change| per symbol per bar.
    pub turnover: f64,
}

/// The book's return at every date (see [`pnl`]).
pub fn pnl_series(
    dates: &[i64],
    series: &[u32],
    score: &[f64],
    threshold: f64,
    next_return: &[f64],
    t: &Trading,
) -> PnlSeries {
    let (book, cost_bps) = (t.book, t.cost_bps);
    let mut days = vec![];
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by_key(|&i| (dates[i], series[i]));
    let mut last: std::collections::HashMap<u32, f64> = Default::default();
    let (mut rets, mut turn, mut count): (Vec<f64>, f64, f64) = (vec![], 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let d = dates[order[i]];
        let (mut r, mut n) = (0.0, 0.0);
        while i < order.len() && dates[order[i]] == d {
            let k = order[i];
            let pos = match book {
                Book::Hold => 1.0,
                Book::LongShort if score[k] > threshold => 1.0,
                Book::LongShort => -1.0,
                Book::LongFlat if score[k] > threshold => 1.0,
                Book::LongFlat => 0.0,
            };
            let prev = last.insert(series[k], pos).unwrap_or(0.0);
            let dp = (pos - prev).abs();
            r += pos * next_return[k] - dp * cost_bps / 1e4;
            turn += dp;
            count += 1.0;
            n += 1.0;
            i += 1;
        }
        rets.push(r / n);
        days.push(d);
    }
    PnlSeries {
        dates: days,
        returns: rets,
        turnover: turn / count.max(1.0),
    }
}
