//! `elite report GROUP --models`: a model group's walk-forward as a table, JSON, or one
//! self-contained HTML page (the models' equity curves as inline SVG).

use std::fmt::Write as _;

use anyhow::{Context, Result};
use elite_jobs::report_models::{GroupReport, group_report};
use serde::Serialize;

use super::charts::{esc, line_chart, num, pct};
use crate::args::{Format, ReportArgs};
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Line {
    model: String,
    kind: String,
    accuracy: String,
    auc: String,
    total_return: String,
    cagr: String,
    sharpe: String,
    sortino: String,
    max_drawdown: String,
    psr: String,
    dsr: String,
    alpha: String,
    beta: String,
    turnover: String,
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), num)
}

fn lines(r: &GroupReport) -> Vec<Line> {
    r.models
        .iter()
        .map(|m| Line {
            model: m.name.clone(),
            kind: m.kind.clone(),
            accuracy: opt(m.accuracy),
            auc: opt(m.auc),
            total_return: pct(m.metrics.total_return),
            cagr: pct(m.metrics.cagr),
            sharpe: num(m.metrics.sharpe),
            sortino: num(m.metrics.sortino),
            max_drawdown: pct(m.metrics.max_drawdown),
            psr: num(m.metrics.psr),
            dsr: num(m.metrics.dsr),
            alpha: opt(m.metrics.alpha),
            beta: opt(m.metrics.beta),
            turnover: num(m.turnover),
        })
        .collect()
}

const COLOURS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#444444",
];

/// The HTML page: the table and the equity curves.
pub fn html(r: &GroupReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elite model report: {g}</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}}table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.t{{font-weight:600;font-size:13px}}.a{{font-size:11px;fill:#555}}.chart{{display:block;margin:6px 0 18px}}h2{{font-size:16px;margin-top:26px}}</style></head><body>
<h1>{g}</h1><p>Walk-forward, out of sample: {n} symbols at {tf}, {start} → {end}, bars version {v}; each model traded long/short on its predictions, equal weight across symbols, {cost} bps per unit of position change. Alpha and beta are against buy-and-hold of the same rows; the deflated Sharpe deflates for the {trials} models and ensembles tried.</p>"#,
        g = esc(&r.group),
        n = r.symbols,
        tf = esc(&r.timeframe),
        start = esc(&r.start),
        end = esc(&r.end),
        v = r.bars_version.map_or("latest".into(), |v| v.to_string()),
        cost = r.cost_bps,
        trials = r.models.len().saturating_sub(1),
    );
    let series: Vec<(&str, &[f64], &str)> = r
        .curves
        .iter()
        .enumerate()
        .map(|(k, (n, v))| (n.as_str(), v.as_slice(), COLOURS[k % COLOURS.len()]))
        .collect();
    s.push_str(&line_chart(
        "equity",
        "Growth of 1 (long/short, after costs)",
        &r.dates,
        &series,
        |x| format!("{x:.2}"),
    ));
    s.push_str("<h2>Models</h2><table><tr>");
    for h in [
        "model",
        "kind",
        "accuracy",
        "AUC",
        "total return",
        "CAGR",
        "Sharpe",
        "Sortino",
        "max drawdown",
        "PSR",
        "DSR",
        "alpha",
        "beta",
        "turnover",
    ] {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr>");
    for l in lines(r) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.model),
            esc(&l.kind),
            l.accuracy,
            l.auc,
            l.total_return,
            l.cagr,
            l.sharpe,
            l.sortino,
            l.max_drawdown,
            l.psr,
            l.dsr,
            l.alpha,
            l.beta,
            l.turnover
        );
    }
    s.push_str("</table><p><small>Made by elite report --models.</small></p></body></html>\n");
    s
}

pub async fn run(a: ReportArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let r = group_report(&wh, &a.run)
        .await
        .with_context(|| format!("report of model group {}", a.run))?;
    if let Some(path) = &a.html {
        std::fs::write(path, html(&r)).with_context(|| format!("writing {}", path.display()))?;
        printer.note(format!(
            "report of model group {} written to {}",
            r.group,
            path.display()
        ));
    }
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    printer.note(format!(
        "{}: walk-forward of {} symbols at {}, {} → {}, {} bps costs",
        r.group, r.symbols, r.timeframe, r.start, r.end, r.cost_bps
    ));
    printer.records(&lines(&r))
}
