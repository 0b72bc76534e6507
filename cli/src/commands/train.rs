//! `elite train FILE`, `elite predict GROUP`, `elite jobs retrain FILE`, `elite models import SPEC`

use anyhow::{Context, Result};
use elite_jobs::models::{Served, TrainConfig, TrainReport, retrain as run_retrain, serve, train};
use elite_jobs::onnx_import::ImportSpec;
use elite_warehouse::{SystemClock, Timestamp};
use serde::Serialize;

use crate::args::{ImportArgs, PredictArgs, RetrainArgs, TrainArgs};
use crate::printer::Printer;
use crate::settings::Settings;

/// One line of the walk-forward table.
#[derive(Serialize)]
struct Line {
    model: String,
    kind: String,
    accuracy: String,
    auc: String,
    log_loss: String,
    ic: String,
    rank_ic: String,
    ls_sharpe: String,
    ls_max_dd: String,
    lf_sharpe: String,
    lf_max_dd: String,
    seconds: String,
}

fn f(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".into()
    }
}

pub async fn run(a: TrainArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let cfg = TrainConfig::from_toml(&text)
        .map_err(|e| super::UserError(format!("{}: {e}", a.file.display())))?;
    let wh = settings.warehouse()?;
    let report = train(&wh, &cfg, &SystemClock).await?;
    print_train(&report, printer)
}

fn print_train(report: &TrainReport, printer: &Printer) -> Result<()> {
    if !report.resumed.is_empty() {
        printer.note(format!(
            "resumed: walk-forward predictions of {} were already recorded",
            report.resumed.join(", ")
        ));
    }
    let wf = &report.walk_forward;
    printer.note(format!(
        "{}: bars version {:?}, {} symbols, {} usable rows; {}, {} folds, {} out-of-sample rows from {} to {}; {} rows landed",
        wf.group,
        wf.bars_version,
        wf.symbols,
        wf.rows,
        wf.validation,
        wf.folds,
        wf.test_rows,
        Timestamp::from_nanos(wf.test_from).to_datetime().date_naive(),
        Timestamp::from_nanos(wf.test_to).to_datetime().date_naive(),
        report.rows_added
    ));
    let lines: Vec<Line> = wf
        .rows_table
        .iter()
        .map(|r| {
            let s = &r.scores;
            Line {
                model: r.name.clone(),
                kind: r.kind.clone(),
                accuracy: f(s.accuracy, 4),
                auc: f(s.auc, 4),
                log_loss: s.log_loss.map_or("-".into(), |v| f(v, 4)),
                ic: f(s.ic, 4),
                rank_ic: f(s.rank_ic, 4),
                ls_sharpe: f(s.long_short.sharpe, 2),
                ls_max_dd: f(s.long_short.max_drawdown, 3),
                lf_sharpe: f(s.long_flat.sharpe, 2),
                lf_max_dd: f(s.long_flat.max_drawdown, 3),
                seconds: f(r.seconds, 2),
            }
        })
        .collect();
    printer.heading(format!(
        "{}, out-of-sample (ls = long/short, lf = long/flat, after costs){}",
        wf.validation,
        if wf.validation.starts_with("purged") {
            "; k-fold: model selection, not a tradable backtest"
        } else {
            ""
        }
    ));
    printer.records(&lines)?;
    printer.heading("registry");
    printer.records(&report.registered)?;
    for e in &report.events {
        printer.note(e);
    }
    Ok(())
}

#[derive(Serialize)]
struct AbLine {
    stage: String,
    model_id: String,
    runtime: String,
    rows: usize,
    labelled: usize,
    accuracy: String,
    auc: String,
    log_loss: String,
}

fn print_served(served: &[Served], printer: &Printer) -> Result<()> {
    printer
        .heading("production vs shadow on bars after their training data (labelled rows scored)");
    let lines: Vec<AbLine> = served
        .iter()
        .map(|s| AbLine {
            stage: s.stage.clone(),
            model_id: s.model_id.clone(),
            runtime: s.runtime.clone(),
            rows: s.rows,
            labelled: s.labelled,
            accuracy: f(s.accuracy, 4),
            auc: f(s.auc, 4),
            log_loss: f(s.log_loss, 4),
        })
        .collect();
    printer.records(&lines)?;
    #[derive(Serialize)]
    struct Latest {
        stage: String,
        symbol: String,
        bar: String,
        score: String,
    }
    let latest: Vec<Latest> = served
        .iter()
        .flat_map(|s| {
            s.latest.iter().map(|(sym, t, v)| Latest {
                stage: s.stage.clone(),
                symbol: sym.clone(),
                bar: t.clone(),
                score: f(*v, 4),
            })
        })
        .collect();
    printer.heading("newest prediction per symbol");
    printer.records(&latest)
}

pub async fn predict(a: PredictArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let (served, added) = serve(&wh, &a.group).await?;
    printer.note(format!("{}: {} prediction rows landed", a.group, added));
    print_served(&served, printer)
}

/// One drift detection, as the note and the alert say it.
fn drift_line(d: &elite_jobs::models::Drift) -> String {
    format!(
        "drift: {}{} = {:.4} (threshold {}) at {}",
        d.detector,
        d.feature
            .as_ref()
            .map_or(String::new(), |x| format!("({x})")),
        d.value,
        d.threshold,
        Timestamp::from_nanos(d.ts_event)
    )
}

pub async fn retrain(a: RetrainArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let cfg = TrainConfig::from_toml(&text)
        .map_err(|e| super::UserError(format!("{}: {e}", a.file.display())))?;
    let wh = settings.warehouse()?;
    // The nightly job's alerts: each drift detection, or its failure.
    let mut alerter = match &settings.alerts {
        Some(c) => Some(elite_jobs::ops::alerts::Alerter::new(
            c.clone(),
            &format!("retrain {}", cfg.name),
            c.channels()?,
        )),
        None => None,
    };
    // Its status file, for `elite status` (a local warehouse's state directory; none on an
    // object store without one).
    let health = super::pipelines::state_dir(&wh, &None)
        .ok()
        .map(|d| elite_jobs::ops::health::Health::new("retrain", &cfg.name, Some(&d)));
    let out = run_retrain(&wh, &cfg, &SystemClock, a.force).await;
    if let Some(h) = &health {
        match &out {
            Ok(r) => {
                h.fact("action", &r.action);
                h.fact("reason", &r.reason);
                h.fact("drift_detections", r.drift.len());
                h.fact("rows_landed", r.rows_added);
                h.stop("finished")?;
            }
            Err(e) => h.stop(&format!("failed: {e}"))?,
        }
    }
    if let Some(mut al) = alerter.take() {
        match &out {
            Ok(r) if al.cfg.drift => {
                for d in &r.drift {
                    al.event(
                        "drift",
                        &format!("{}; {} ({})", drift_line(d), r.action, r.reason),
                    );
                }
            }
            Err(e) if al.cfg.job_failure => {
                al.event("job_failure", &format!("the nightly retrain failed: {e}"));
            }
            _ => {}
        }
        al.flush(std::time::Duration::from_secs(15)).await;
    }
    let r = out?;
    printer.note(format!(
        "{}: {} ({}); {} rows landed",
        cfg.name, r.action, r.reason, r.rows_added
    ));
    for d in &r.drift {
        printer.note(drift_line(d));
    }
    if !r.served.is_empty() {
        print_served(&r.served, printer)?;
    }
    if let Some(t) = &r.train {
        print_train(t, printer)?;
    }
    if !r.served_after.is_empty() {
        printer.note("the models this run promoted, serving:");
        print_served(&r.served_after, printer)?;
    }
    Ok(())
}

pub async fn import(a: ImportArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let text = std::fs::read_to_string(&a.spec)
        .with_context(|| format!("reading {}", a.spec.display()))?;
    let spec = ImportSpec::from_toml(&text)
        .map_err(|e| super::UserError(format!("{}: {e}", a.spec.display())))?;
    let base = a.spec.parent().unwrap_or(std::path::Path::new("."));
    let wh = settings.warehouse()?;
    let r = elite_jobs::onnx_import::import(&wh, &spec, base, &SystemClock).await?;
    printer.note(format!(
        "{}: {} registered as {} in {}; {} rows landed",
        a.spec.display(),
        r.model_id,
        r.stage,
        r.group,
        r.rows_added
    ));
    printer.heading(format!(
        "out-of-sample: {} labelled bars {} .. {} (after trained_until)",
        r.scores.rows,
        Timestamp::from_nanos(r.scored_from),
        Timestamp::from_nanos(r.scored_to)
    ));
    printer.records(&[ScoreLine::of(&r.model_id, &r.scores)])
}

/// `elite models ensemble SPEC`: register an ensemble of registered models.
pub async fn ensemble(a: ImportArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let text = std::fs::read_to_string(&a.spec)
        .with_context(|| format!("reading {}", a.spec.display()))?;
    let spec = elite_jobs::models::ensemble::EnsembleSpec::from_toml(&text)
        .map_err(|e| super::UserError(format!("{}: {e}", a.spec.display())))?;
    let wh = settings.warehouse()?;
    let r = elite_jobs::models::ensemble::register(&wh, &spec, &SystemClock).await?;
    printer.note(format!(
        "{}: {} registered as {} in {} ({:?} of {}); {} rows landed",
        a.spec.display(),
        r.model_id,
        r.stage,
        r.group,
        r.method,
        r.members.join(", "),
        r.rows_added
    ));
    if let Some((b, w)) = &r.meta {
        printer.note(format!(
            "meta-learner: intercept {b:.6}, coefficients {w:.6?}"
        ));
    }
    printer.heading(format!(
        "out-of-sample: {} rows the members predicted walk-forward",
        r.scored_rows
    ));
    printer.records(&[ScoreLine::of(&r.model_id, &r.scores)])
}

/// One model's out-of-sample scores, as `models import` and `models ensemble` print them.
#[derive(Serialize)]
struct ScoreLine {
    model_id: String,
    accuracy: String,
    auc: String,
    log_loss: String,
    ic: String,
    long_short_sharpe: String,
    long_flat_sharpe: String,
}

impl ScoreLine {
    fn of(model_id: &str, s: &elite_models::validate::Scores) -> Self {
        Self {
            model_id: model_id.to_string(),
            accuracy: f(s.accuracy, 4),
            auc: f(s.auc, 4),
            log_loss: s.log_loss.map_or("-".into(), |v| f(v, 4)),
            ic: f(s.ic, 4),
            long_short_sharpe: f(s.long_short.sharpe, 2),
            long_flat_sharpe: f(s.long_flat.sharpe, 2),
        }
    }
}
