//! `elite backtest FILE`

use anyhow::{Context, Result};
use elite_jobs::backtest::run_backtest;
use elite_jobs::run::RunConfig;
use elite_warehouse::SystemClock;
use serde::Serialize;

use crate::args::BacktestArgs;
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Metric {
    metric: String,
    value: String,
}

pub async fn run(a: BacktestArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let mut cfg = RunConfig::from_toml(&text)
        .map_err(|e| super::UserError(format!("{}: {e}", a.file.display())))?;
    if a.start.is_some() {
        cfg.data.start = a.start;
    }
    if a.end.is_some() {
        cfg.data.end = a.end;
    }
    let wh = settings.warehouse()?;
    let report = run_backtest(&wh, &cfg, &SystemClock).await?;
    printer.note(format!(
        "run {} ({}): {} bars of {} symbols at bars version {:?}; {} orders, {} fills, {} refusals; {} rows landed",
        report.run_id,
        report.name,
        report.bars,
        report.symbols,
        report.bars_version,
        report.orders,
        report.fills,
        report.refusals,
        report.rows_added
    ));
    let rows = sheet_rows(&report.run_id, &report.tear_sheet)?;
    printer.records(&rows)?;
    if report.strategies.len() > 1 {
        printer.heading("by strategy (each strategy's own book)");
        printer.records(&report.strategies)?;
    }
    Ok(())
}

/// A tear sheet as (metric, value) rows, the run id first.
pub(crate) fn sheet_rows(
    run_id: &str,
    sheet: &elite_trade::metrics::TearSheet,
) -> Result<Vec<impl Serialize + use<>>> {
    let sheet = serde_json::to_value(sheet)?;
    let mut rows = vec![Metric {
        metric: "run_id".into(),
        value: run_id.to_string(),
    }];
    if let serde_json::Value::Object(m) = sheet {
        for (k, v) in m {
            let value = match v {
                serde_json::Value::Number(n) if k == "start" || k == "end" => n
                    .as_i64()
                    .map(|t| elite_warehouse::Timestamp::from_nanos(t).to_string())
                    .unwrap_or_default(),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(x) if n.is_f64() => format!("{x:.6}"),
                    _ => n.to_string(),
                },
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            rows.push(Metric { metric: k, value });
        }
    }
    Ok(rows)
}
