//! Walk-forward evaluation of a model group, without I/O: how rows are split ([`Validation`] →
//! [`plan`]), one model's out-of-sample predictions over the plan ([`evaluate`]), and the report
//! of every model, ensemble and buy-and-hold on the same test rows ([`assemble`]).
//!
//! `elite-jobs` loads the dataset from the warehouse, calls these, and records what they return;
//! everything here is a function of the dataset and the settings, so it is tested without a
//! warehouse.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::data::Dataset;
use crate::ensemble::{self, Method};
use crate::error::input;
use crate::model::{Learner, Task};
use crate::validate::{self, Fold, Scores, WalkForward, Window};

/// How a group's rows are split for out-of-sample evaluation (the `[validation]` section of a
/// train config).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    #[serde(default = "expanding")]
    pub window: Window,
    /// Dates before the first test block (and the rolling window).
    #[serde(default)]
    pub train: usize,
    /// Dates per test block.
    #[serde(default)]
    pub test: usize,
    /// Purged k-fold instead of walk-forward: `k` contiguous test blocks, each model fitted on
    /// the rows whose label intervals do not overlap the block, minus `embargo` dates after it.
    /// Every prediction is still out-of-sample, but a block's model may have seen later data:
    /// a model-selection estimate, not a tradable backtest.
    #[serde(default)]
    pub kfold: Option<usize>,
    /// Dates dropped from training after each k-fold test block.
    #[serde(default)]
    pub embargo: usize,
    /// Trading cost per unit of position change (bps) for the P&L columns.
    #[serde(default = "five")]
    pub cost_bps: f64,
    #[serde(default = "d_ppy")]
    pub periods_per_year: f64,
}

fn expanding() -> Window {
    Window::Expanding
}
fn five() -> f64 {
    5.0
}
fn d_ppy() -> f64 {
    252.0
}

impl Default for Validation {
    fn default() -> Self {
        Self {
            window: expanding(),
            train: 0,
            test: 0,
            kfold: None,
            embargo: 0,
            cost_bps: five(),
            periods_per_year: d_ppy(),
        }
    }
}

impl Validation {
    /// How the report names the split: `walk-forward (expanding)`, `walk-forward (rolling)` or
    /// `purged 5-fold, embargo 10`.
    pub fn describe(&self) -> String {
        match self.kfold {
            Some(k) => format!("purged {k}-fold, embargo {}", self.embargo),
            None => format!("walk-forward ({:?})", self.window).to_lowercase(),
        }
    }
}

/// Ensemble members and how they are combined (the `[ensemble]` section of a train config).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleConfig {
    /// Member model names (classification models).
    pub members: Vec<String>,
    #[serde(default = "all_methods")]
    pub methods: Vec<Method>,
    #[serde(default)]
    pub params: ensemble::Params,
}

fn all_methods() -> Vec<Method> {
    Method::ALL.to_vec()
}

/// The splits of a dataset: every model is evaluated on the same test rows (those with a full
/// window for the longest sequence model).
#[derive(Clone, Debug)]
pub struct Plan {
    /// Rows every model can use.
    pub rows: Vec<usize>,
    pub folds: Vec<Fold>,
    /// The test rows of all folds, in fold order.
    pub test: Vec<usize>,
    /// The fold of each test row.
    pub fold_of: Vec<usize>,
}

/// Split `ds` as `v` says, for models that read at most `seq_len` bars of history.
pub fn plan(ds: &Dataset, v: &Validation, seq_len: usize) -> Result<Plan> {
    let rows = ds.usable(seq_len.max(1));
    let folds: Vec<Fold> = match v.kfold {
        Some(k) => validate::purged_kfold(ds, &rows, k, v.embargo)?,
        None if v.train == 0 || v.test == 0 => {
            return Err(input(
                "train config: [validation]",
                "needs train and test (dates) for walk-forward, or kfold",
            ));
        }
        None => validate::walk_forward(
            ds,
            &rows,
            &WalkForward {
                window: v.window,
                train: v.train,
                test: v.test,
            },
        )?,
    };
    let test: Vec<usize> = folds.iter().flat_map(|f| f.test.iter().copied()).collect();
    let fold_of: Vec<usize> = folds
        .iter()
        .enumerate()
        .flat_map(|(k, f)| std::iter::repeat_n(k, f.test.len()))
        .collect();
    Ok(Plan {
        rows,
        folds,
        test,
        fold_of,
    })
}

/// One model's out-of-sample predictions over the plan's test rows (each fold's model fitted on
/// its training rows only), and the seconds it took.
pub fn evaluate(ds: &Dataset, plan: &Plan, learner: &dyn Learner) -> Result<(Vec<f64>, f64)> {
    let t0 = Instant::now();
    let pred = validate::predict_folds(ds, &plan.folds, learner)?;
    Ok((pred, t0.elapsed().as_secs_f64()))
}

/// One row of the walk-forward table.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluated {
    /// Model name, `ensemble:<method>` or `buy_and_hold`.
    pub name: String,
    pub kind: String,
    pub scores: Scores,
    /// Seconds spent fitting and predicting across all folds.
    pub seconds: f64,
}

/// The out-of-sample evaluation of a model group.
#[derive(Clone, Debug, Serialize)]
pub struct WalkForwardReport {
    pub group: String,
    /// How rows were split: `walk-forward (expanding)`, `walk-forward (rolling)` or
    /// `purged 5-fold, embargo 10`.
    pub validation: String,
    pub bars_version: Option<u64>,
    pub symbols: usize,
    pub rows: usize,
    pub folds: usize,
    pub test_rows: usize,
    pub test_from: i64,
    pub test_to: i64,
    pub rows_table: Vec<Evaluated>,
    /// Out-of-sample predictions, aligned with `test`.
    #[serde(skip)]
    pub predictions: BTreeMap<String, Vec<f64>>,
    #[serde(skip)]
    pub confidence: BTreeMap<String, Vec<f64>>,
    #[serde(skip)]
    pub test: Vec<usize>,
    #[serde(skip)]
    pub fold_of: Vec<usize>,
}

/// A base model's out-of-sample predictions over a plan's test rows.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub name: String,
    /// The model family as configs spell it (`logistic`, `lightgbm`, …).
    pub kind: String,
    pub task: Task,
    pub predictions: Vec<f64>,
    pub seconds: f64,
}

/// The report of a group named `group` from its base models' predictions: their scores, the
/// ensembles' (combined from the members' predictions, each using only labels known before it)
/// and buy-and-hold's, all on `plan.test`.
pub fn assemble(
    group: &str,
    ds: &Dataset,
    v: &Validation,
    bars_version: Option<u64>,
    plan: &Plan,
    base: Vec<Evaluation>,
    ensemble: Option<&EnsembleConfig>,
) -> Result<WalkForwardReport> {
    let test = plan.test.clone();
    let (cost, ppy) = (v.cost_bps, v.periods_per_year);
    let mut report = WalkForwardReport {
        group: group.to_string(),
        validation: v.describe(),
        bars_version,
        symbols: ds.symbols.len(),
        rows: plan.rows.len(),
        folds: plan.folds.len(),
        test_rows: test.len(),
        test_from: test.iter().map(|&i| ds.rows[i].ts_event).min().unwrap_or(0),
        test_to: test.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0),
        rows_table: vec![],
        predictions: BTreeMap::new(),
        confidence: BTreeMap::new(),
        test: test.clone(),
        fold_of: plan.fold_of.clone(),
    };
    for b in base {
        let scores = validate::score(ds, &test, &b.predictions, b.task, cost, ppy)?;
        report.rows_table.push(Evaluated {
            name: b.name.clone(),
            kind: b.kind,
            scores,
            seconds: b.seconds,
        });
        report.predictions.insert(b.name, b.predictions);
    }
    if let Some(e) = ensemble {
        let members: Vec<Vec<f64>> = e
            .members
            .iter()
            .map(|n| {
                report.predictions.get(n).cloned().ok_or_else(|| {
                    input(
                        format!("ensemble member {n:?}"),
                        "has no walk-forward predictions",
                    )
                })
            })
            .collect::<Result<_>>()?;
        for &method in &e.methods {
            let t0 = Instant::now();
            let c = ensemble::combine(method, ds, &test, &members, &e.params)?;
            let seconds = t0.elapsed().as_secs_f64();
            let mut scores = validate::score(ds, &test, &c.prob, Task::Classification, cost, ppy)?;
            if method == Method::Vote {
                // A vote share is not a calibrated probability: no log-loss.
                scores.log_loss = None;
            }
            let name = format!("ensemble:{}", method.name());
            report.rows_table.push(Evaluated {
                name: name.clone(),
                kind: "ensemble".into(),
                scores,
                seconds,
            });
            report.predictions.insert(name.clone(), c.prob);
            report.confidence.insert(name, c.confidence);
        }
    }
    let hold = validate::buy_and_hold(ds, &test, cost, ppy);
    report.rows_table.push(Evaluated {
        name: "buy_and_hold".into(),
        kind: "baseline".into(),
        scores: Scores {
            rows: test.len(),
            accuracy: f64::NAN,
            auc: f64::NAN,
            log_loss: None,
            ic: f64::NAN,
            rank_ic: f64::NAN,
            long_short: hold,
            long_flat: hold,
        },
        seconds: 0.0,
    });
    Ok(report)
}
