//! Honest evaluation: walk-forward (expanding or rolling) and purged k-fold with embargo.
//!
//! Every split is by time, and a training row is used only if its *label* was known before the
//! test period's first prediction: a row at t with a label h bars ahead is purged from training
//! for any test period starting before t+h. K-fold additionally drops (embargoes) rows right
//! after each test block. Predictions for the test rows come from a model fitted on nothing else.

use crate::Result;
use crate::data::Dataset;
use crate::error::input;
use crate::metrics::{self, Book, Pnl, Trading};
use crate::model::{Learner, Task};
use serde::{Deserialize, Serialize};

/// Walk-forward window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Train on everything before the test block.
    Expanding,
    /// Train on the last `train` dates before the test block.
    Rolling,
}

/// Walk-forward settings, in dates (distinct bar times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkForward {
    pub window: Window,
    /// Dates before the first test block (and the rolling window's length).
    pub train: usize,
    /// Dates per test block (the model is refitted once per block).
    pub test: usize,
}

/// One split.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

fn dates_of(data: &Dataset, rows: &[usize]) -> Vec<i64> {
    let mut d: Vec<i64> = rows.iter().map(|&i| data.rows[i].ts_event).collect();
    d.sort_unstable();
    d.dedup();
    d
}

/// Walk-forward folds over `rows` (labelled rows, e.g. from [`Dataset::usable`]).
pub fn walk_forward(data: &Dataset, rows: &[usize], wf: &WalkForward) -> Result<Vec<Fold>> {
    if wf.train == 0 || wf.test == 0 {
        return Err(input(
            "walk-forward",
            "train and test must be at least 1 date",
        ));
    }
    let dates = dates_of(data, rows);
    if dates.len() <= wf.train {
        return Err(input(
            "walk-forward",
            format!("{} dates, need more than train = {}", dates.len(), wf.train),
        ));
    }
    let mut folds = vec![];
    let mut s = wf.train;
    while s < dates.len() {
        let e = (s + wf.test).min(dates.len());
        let (lo, start, end) = (dates[s.saturating_sub(wf.train)], dates[s], dates[e - 1]);
        let test: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| (start..=end).contains(&data.rows[i].ts_event))
            .collect();
        // The first prediction of the block is made when its first bar is known.
        let decide = test
            .iter()
            .map(|&i| data.rows[i].ts_recv)
            .min()
            .unwrap_or(i64::MAX);
        let train: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| {
                let r = &data.rows[i];
                r.ts_event < start
                    && (wf.window == Window::Expanding || r.ts_event >= lo)
                    && r.label.is_some_and(|l| l.known_at <= decide)
            })
            .collect();
        if !train.is_empty() && !test.is_empty() {
            folds.push(Fold { train, test });
        }
        s = e;
    }
    Ok(folds)
}

/// Purged k-fold with an embargo of `embargo` dates after each test block.
pub fn purged_kfold(data: &Dataset, rows: &[usize], k: usize, embargo: usize) -> Result<Vec<Fold>> {
    let dates = dates_of(data, rows);
    if k < 2 || dates.len() < k {
        return Err(input(
            "purged k-fold",
            format!("k = {k} over {} dates", dates.len()),
        ));
    }
    let mut folds = vec![];
    for b in 0..k {
        let (a, e) = (b * dates.len() / k, (b + 1) * dates.len() / k);
        let (start, end) = (dates[a], dates[e - 1]);
        let emb_end = dates[(e + embargo).min(dates.len()) - 1];
        let test: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| (start..=end).contains(&data.rows[i].ts_event))
            .collect();
        let test_known = test
            .iter()
            .filter_map(|&i| data.rows[i].label.map(|l| l.known_at))
            .max()
            .unwrap_or(end);
        let train = rows
            .iter()
            .copied()
            .filter(|&i| {
                let r = &data.rows[i];
                let known = r.label.map_or(i64::MAX, |l| l.known_at);
                // Label interval [ts_event, known] must not overlap the test interval.
                let overlaps = r.ts_event <= test_known && known >= start;
                let embargoed = embargo > 0 && r.ts_event > end && r.ts_event <= emb_end;
                !overlaps && !embargoed
            })
            .collect();
        folds.push(Fold { train, test });
    }
    Ok(folds)
}

/// Out-of-sample predictions of one learner over folds, aligned with the concatenated test
/// rows. An online learner keeps learning inside each test block from rows whose labels have
/// become known by the time of each prediction.
pub fn predict_folds(data: &Dataset, folds: &[Fold], learner: &dyn Learner) -> Result<Vec<f64>> {
    let mut out = vec![];
    for f in folds {
        match learner.online() {
            None => out.extend(learner.fit(data, &f.train)?.predict(data, &f.test)?),
            Some(o) => {
                let mut m = o.fit_online(data, &f.train)?;
                let mut order: Vec<usize> = (0..f.test.len()).collect();
                order.sort_by_key(|&k| (data.rows[f.test[k]].ts_recv, k));
                let mut pending: Vec<usize> = vec![];
                let mut preds = vec![0.0; f.test.len()];
                for k in order {
                    let now = data.rows[f.test[k]].ts_recv;
                    let mut still = vec![];
                    for j in pending.drain(..) {
                        let r = data.rows[j];
                        match r.label {
                            Some(l) if l.known_at <= now => m.learn(data.row_x(j), l.up)?,
                            _ => still.push(j),
                        }
                    }
                    pending = still;
                    preds[k] = m.score_row(data.row_x(f.test[k]));
                    pending.push(f.test[k]);
                }
                out.extend(preds);
            }
        }
    }
    Ok(out)
}

/// Out-of-sample scores of one set of predictions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub rows: usize,
    pub accuracy: f64,
    pub auc: f64,
    /// Log-loss (classification scores only).
    pub log_loss: Option<f64>,
    pub ic: f64,
    pub rank_ic: f64,
    pub long_short: Pnl,
    pub long_flat: Pnl,
}

/// Score predictions of `rows`.
pub fn score(
    data: &Dataset,
    rows: &[usize],
    pred: &[f64],
    task: Task,
    cost_bps: f64,
    periods_per_year: f64,
) -> Result<Scores> {
    if rows.len() != pred.len() {
        return Err(input(
            "score",
            format!("{} rows, {} predictions", rows.len(), pred.len()),
        ));
    }
    let labels: Vec<_> = rows
        .iter()
        .map(|&i| {
            data.rows[i]
                .label
                .ok_or_else(|| input(format!("row {i}"), "no label"))
        })
        .collect::<Result<_>>()?;
    let up: Vec<bool> = labels.iter().map(|l| l.up).collect();
    let fwd: Vec<f64> = labels.iter().map(|l| l.fwd_return).collect();
    let next: Vec<f64> = labels.iter().map(|l| l.next_return).collect();
    let dates: Vec<i64> = rows.iter().map(|&i| data.rows[i].ts_event).collect();
    let series: Vec<u32> = rows.iter().map(|&i| data.rows[i].series).collect();
    let th = task.threshold();
    let (ic, rank_ic) = metrics::ic(&dates, pred, &fwd);
    let trade = |book| {
        metrics::pnl(
            &dates,
            &series,
            pred,
            th,
            &next,
            &Trading {
                book,
                cost_bps,
                periods_per_year,
            },
        )
    };
    Ok(Scores {
        rows: rows.len(),
        accuracy: metrics::accuracy(pred, &up, th),
        auc: metrics::auc(pred, &up),
        log_loss: (task == Task::Classification).then(|| metrics::log_loss(pred, &up)),
        ic,
        rank_ic,
        long_short: trade(Book::LongShort),
        long_flat: trade(Book::LongFlat),
    })
}

/// Buy-and-hold over the same rows (every symbol long, equal weight).
pub fn buy_and_hold(data: &Dataset, rows: &[usize], cost_bps: f64, periods_per_year: f64) -> Pnl {
    let dates: Vec<i64> = rows.iter().map(|&i| data.rows[i].ts_event).collect();
    let series: Vec<u32> = rows.iter().map(|&i| data.rows[i].series).collect();
    let next: Vec<f64> = rows
        .iter()
        .map(|&i| data.rows[i].label.map_or(0.0, |l| l.next_return))
        .collect();
    let ones = vec![1.0; rows.len()];
    metrics::pnl(
        &dates,
        &series,
        &ones,
        0.0,
        &next,
        &Trading {
            book: Book::Hold,
            cost_bps,
            periods_per_year,
        },
    )
}
