//! `elite train FILE`

use anyhow::{Context, Result};
use elite_jobs::models::{TrainConfig, train};
use elite_warehouse::{SystemClock, Timestamp};
use serde::Serialize;

use crate::args::TrainArgs;
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
    let report = match train(&wh, &cfg, &SystemClock).await {
        Ok(r) => r,
        Err(elite_jobs::Error::Config(m)) => return Err(super::UserError(m).into()),
        Err(e) => return Err(e.into()),
    };
    let wf = &report.walk_forward;
    printer.note(format!(
        "{}: bars version {:?}, {} symbols, {} usable rows; walk-forward {} folds, {} out-of-sample rows from {} to {}; {} rows landed",
        wf.group,
        wf.bars_version,
        wf.symbols,
        wf.rows,
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
    printer.heading("walk-forward, out-of-sample (ls = long/short, lf = long/flat, after costs)");
    printer.records(&lines)?;
    printer.heading("registry");
    printer.records(&report.registered)?;
    for e in &report.events {
        printer.note(e);
    }
    Ok(())
}
