//! `elite report`: a run's metrics and attribution as tables, CSV or JSON, and optionally one
//! self-contained HTML file whose charts are inline SVG (nothing is fetched when it is opened).

use std::fmt::Write as _;

use anyhow::{Context, Result};
use elite_jobs::report::{Analysis, Contribution, ReportOptions, analyze};
use serde::Serialize;

use super::charts::{esc, line_chart, num, pct};
use crate::args::{Format, ReportArgs};
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Metric {
    metric: String,
    value: String,
}

/// The report's scalar numbers as (metric, value) rows, in the JSON's order.
fn metric_rows(a: &Analysis) -> Result<Vec<Metric>> {
    let mut rows = vec![];
    if let serde_json::Value::Object(m) = serde_json::to_value(a)? {
        for (k, v) in m {
            let value = match v {
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(x) if n.is_f64() => format!("{x:.6}"),
                    _ => n.to_string(),
                },
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => "-".into(),
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => continue,
                other => other.to_string(),
            };
            rows.push(Metric { metric: k, value });
        }
    }
    Ok(rows)
}

#[derive(Serialize)]
struct Period {
    period: String,
    #[serde(rename = "return")]
    ret: f64,
}

pub async fn run(a: ReportArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let factors_csv = match &a.factors {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let sectors_csv = match &a.sectors {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let analysis = analyze(
        &wh,
        &ReportOptions {
            run: a.run.clone(),
            benchmark: a.benchmark.clone(),
            rolling: a.rolling,
            factors_csv,
            sectors_csv,
        },
    )
    .await
    .with_context(|| format!("report of {}", a.run))?;
    if let Some(path) = &a.html {
        std::fs::write(path, html(&analysis))
            .with_context(|| format!("writing {}", path.display()))?;
        printer.note(format!(
            "report of run {} ({}) written to {}",
            analysis.run_id,
            analysis.name,
            path.display()
        ));
    }
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
        return Ok(());
    }
    printer.records(&metric_rows(&analysis)?)?;
    printer.heading("yearly returns");
    let yearly: Vec<Period> = analysis
        .yearly
        .iter()
        .map(|(y, r)| Period {
            period: y.to_string(),
            ret: *r,
        })
        .collect();
    printer.records(&yearly)?;
    let fits = factor_rows(&analysis);
    if !fits.is_empty() {
        printer.heading(format!(
            "factor and timing regressions of monthly excess returns, {} … {}",
            analysis.factors.from, analysis.factors.to
        ));
        printer.records(&fits)?;
    }
    if let Some(b) = &analysis.brinson {
        printer.heading(format!(
            "Brinson-Fachler by sector vs equal weight, {} periods linked by Carino (portfolio {:.4}, benchmark {:.4})",
            b.periods, b.portfolio_return, b.benchmark_return
        ));
        printer.records(&b.by_sector)?;
    }
    if !analysis.risk_by_strategy.is_empty() {
        printer.heading(
            "contribution to the holdings' return (Carino-linked) and variance, by strategy",
        );
        printer.records(&analysis.risk_by_strategy)?;
        printer.heading("… by symbol");
        printer.records(&analysis.risk_by_symbol)?;
    }
    if analysis.trade_stats.trades > 0 {
        printer.heading("closed round trips (net of charges)");
        printer.records(&[&analysis.trade_stats])?;
    }
    if !analysis.by_strategy.is_empty() {
        printer.heading("P&L by strategy (closed round trips, net of charges)");
        printer.records(&analysis.by_strategy)?;
        printer.heading("P&L by symbol");
        printer.records(&analysis.by_symbol)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct FitRow {
    model: &'static str,
    term: String,
    coef: f64,
    t: f64,
    r2: f64,
    months: usize,
}

/// One row per coefficient of each regression that could be fitted.
fn factor_rows(a: &Analysis) -> Vec<FitRow> {
    let f = &a.factors;
    let mut rows = vec![];
    for (model, fit) in [
        ("fama_french", &f.fama_french),
        ("treynor_mazuy", &f.treynor_mazuy),
        ("henriksson_merton", &f.henriksson_merton),
    ] {
        if let Some(o) = fit {
            for (i, term) in o.names.iter().enumerate() {
                rows.push(FitRow {
                    model,
                    term: term.clone(),
                    coef: o.coef[i],
                    t: o.t[i],
                    r2: o.r2,
                    months: o.n,
                });
            }
        }
    }
    rows
}

/// Red for losses, green for gains, stronger with size (±10% saturates).
fn heat(v: f64) -> String {
    if !v.is_finite() {
        return "#fff".into();
    }
    let a = (v.abs() / 0.10).min(1.0);
    let (r, g, b) = if v >= 0.0 {
        (255.0 - 155.0 * a, 255.0 - 60.0 * a, 255.0 - 155.0 * a)
    } else {
        (255.0 - 35.0 * a, 255.0 - 175.0 * a, 255.0 - 175.0 * a)
    };
    format!("rgb({:.0},{:.0},{:.0})", r, g, b)
}

fn contribution_table(title: &str, rows: &[Contribution]) -> String {
    let mut s = format!(
        "<h2>{}</h2><table><tr><th></th><th>trades</th><th>P&amp;L</th><th>of initial</th><th>win rate</th><th>charges</th></tr>",
        esc(title)
    );
    for c in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            esc(&c.key),
            c.trades,
            c.pnl,
            pct(c.contribution),
            pct(c.win_rate),
            c.charges
        );
    }
    s.push_str("</table>");
    s
}

/// The report as one self-contained HTML page.
pub fn html(a: &Analysis) -> String {
    let m = &a.metrics;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elite report: {name}</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:960px}}table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.t{{font-weight:600;font-size:13px}}.a{{font-size:11px;fill:#555}}.chart{{display:block;margin:6px 0 18px}}h2{{font-size:16px;margin-top:26px}}</style></head><body>
<h1>{name}</h1><p>Run <code>{id}</code> ({mode}), {start} → {end}; initial {initial:.2}, final equity {fin:.2}{bench}.</p>"#,
        name = esc(&a.name),
        id = esc(&a.run_id),
        mode = esc(&a.mode),
        start = esc(&a.start),
        end = esc(&a.end),
        initial = a.initial,
        fin = a.final_equity,
        bench = a
            .benchmark
            .as_ref()
            .map_or(String::new(), |b| format!("; benchmark {}", esc(b))),
    );
    s.push_str("<h2>Performance</h2><table>");
    let rows: Vec<(&str, String)> = vec![
        ("Total return", pct(m.total_return)),
        ("CAGR", pct(m.cagr)),
        ("Annual volatility", pct(m.annual_volatility)),
        ("Sharpe", num(m.sharpe)),
        ("Sortino", num(m.sortino)),
        ("Calmar", num(m.calmar)),
        ("Max drawdown", pct(m.max_drawdown)),
        (
            "Longest drawdown (periods)",
            m.max_drawdown_periods.to_string(),
        ),
        ("VaR 95% (1 period)", pct(m.var_95)),
        ("CVaR 95% (1 period)", pct(m.cvar_95)),
        ("Tail ratio", num(m.tail_ratio)),
        ("Stability (R²)", num(m.stability)),
        ("Omega", num(m.omega)),
        ("Skew", num(m.skew)),
        ("Excess kurtosis", num(m.kurtosis)),
        ("Best period", pct(m.best_period)),
        ("Worst period", pct(m.worst_period)),
        ("Win rate (periods)", pct(m.win_rate)),
        ("Profit factor (periods)", num(m.profit_factor)),
        ("Probabilistic Sharpe (SR > 0)", pct(m.psr)),
        (
            "Deflated Sharpe",
            format!("{} ({} trials)", pct(m.dsr), m.trials),
        ),
        ("Turnover (per year)", a.turnover.map_or("–".into(), num)),
        (
            "Costs paid",
            a.costs_paid.map_or("–".into(), |c| format!("{c:.2}")),
        ),
        ("Alpha (annual)", m.alpha.map_or("–".into(), pct)),
        ("Beta", m.beta.map_or("–".into(), num)),
        (
            "Information ratio",
            m.information_ratio.map_or("–".into(), num),
        ),
        (
            "Benchmark return",
            m.benchmark_return.map_or("–".into(), pct),
        ),
    ];
    for (k, v) in rows {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v));
    }
    s.push_str("</table>");
    let sr = &a.series;
    let mut eq: Vec<(&str, &[f64], &str)> = vec![("equity", &sr.equity, "#1f5fa8")];
    if let Some(b) = &sr.benchmark {
        eq.push(("benchmark", b, "#999"));
    }
    s.push_str(&line_chart("equity", "Equity", &sr.ts, &eq, |v| {
        format!("{v:.0}")
    }));
    let under: Vec<f64> = sr.drawdown.iter().map(|d| -d).collect();
    s.push_str(&line_chart(
        "drawdown",
        "Drawdown (under water)",
        &sr.ts,
        &[("drawdown", &under, "#b03030")],
        pct,
    ));
    s.push_str(&line_chart(
        "rolling_sharpe",
        &format!("Rolling Sharpe ({} periods)", sr.rolling_window),
        &sr.ts,
        &[("sharpe", &sr.rolling_sharpe, "#2e7d32")],
        |v| format!("{v:.2}"),
    ));
    s.push_str(&line_chart(
        "exposure",
        "Exposure (of equity)",
        &sr.ts,
        &[("gross", &sr.gross, "#6a3d9a"), ("net", &sr.net, "#e08214")],
        pct,
    ));
    if let Some(beta) = &sr.rolling_beta {
        s.push_str(&line_chart(
            "rolling_beta",
            &format!(
                "Rolling beta to the benchmark ({} periods)",
                sr.rolling_window
            ),
            &sr.ts,
            &[("beta", beta, "#555555")],
            |v| format!("{v:.2}"),
        ));
    }
    s.push_str(&line_chart(
        "rolling_volatility",
        &format!(
            "Rolling volatility, annualized ({} periods)",
            sr.rolling_window
        ),
        &sr.ts,
        &[("volatility", &sr.rolling_volatility, "#1565c0")],
        pct,
    ));
    let colours = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
        "#bcbd22", "#444444",
    ];
    for (id, title, parts) in [
        (
            "exposure_by_symbol",
            "Net exposure by symbol (of equity)",
            &sr.exposure_by_symbol,
        ),
        (
            "exposure_by_sector",
            "Net exposure by sector (of equity)",
            &sr.exposure_by_sector,
        ),
    ] {
        if parts.is_empty() {
            continue;
        }
        let n = parts[0].1.len();
        let series: Vec<(&str, &[f64], &str)> = parts
            .iter()
            .enumerate()
            .map(|(k, (name, v))| (name.as_str(), v.as_slice(), colours[k % colours.len()]))
            .collect();
        s.push_str(&line_chart(
            id,
            title,
            &sr.ts[..n.min(sr.ts.len())],
            &series,
            pct,
        ));
    }
    // Monthly returns heatmap: a year per row.
    s.push_str("<h2>Monthly returns</h2><table id=\"monthly\"><tr><th>year</th>");
    for m in [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ] {
        let _ = write!(s, "<th>{m}</th>");
    }
    s.push_str("<th>year</th></tr>");
    for (year, yr) in &a.yearly {
        let _ = write!(s, "<tr><td>{year}</td>");
        for month in 1..=12u32 {
            match a
                .monthly
                .iter()
                .find(|(y, mo, _)| y == year && *mo == month)
            {
                Some((_, _, v)) => {
                    let _ = write!(s, "<td style=\"background:{}\">{}</td>", heat(*v), pct(*v));
                }
                None => s.push_str("<td></td>"),
            }
        }
        let _ = write!(
            s,
            "<td style=\"background:{}\"><b>{}</b></td></tr>",
            heat(*yr / 3.0),
            pct(*yr)
        );
    }
    s.push_str("</table>");
    let fits = factor_rows(a);
    if !fits.is_empty() {
        let _ = write!(
            s,
            "<h2>Factor and timing regressions (monthly excess returns, {} … {})</h2><table id=\"factors\"><tr><th>model</th><th>term</th><th>coefficient</th><th>t</th><th>R²</th><th>months</th></tr>",
            esc(&a.factors.from),
            esc(&a.factors.to)
        );
        for r in &fits {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.5}</td><td>{:.2}</td><td>{:.3}</td><td>{}</td></tr>",
                r.model,
                esc(&r.term),
                r.coef,
                r.t,
                r.r2,
                r.months
            );
        }
        s.push_str("</table>");
    }
    if let Some(b) = &a.brinson {
        let _ = write!(
            s,
            "<h2>Brinson-Fachler by sector (vs equal weight; {} periods linked by Carino; holdings return {}, benchmark {})</h2><table id=\"brinson\"><tr><th>sector</th><th>allocation</th><th>selection</th><th>interaction</th><th>total</th></tr>",
            b.periods,
            pct(b.portfolio_return),
            pct(b.benchmark_return)
        );
        for r in &b.by_sector {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.sector),
                pct(r.allocation),
                pct(r.selection),
                pct(r.interaction),
                pct(r.total)
            );
        }
        s.push_str("</table>");
    }
    for (title, rows) in [
        (
            "Contribution to return and risk by strategy",
            &a.risk_by_strategy,
        ),
        (
            "Contribution to return and risk by symbol",
            &a.risk_by_symbol,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "<h2>{}</h2><table><tr><th></th><th>return (linked)</th><th>share of variance</th></tr>",
            esc(title)
        );
        for r in rows.iter() {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.key),
                pct(r.return_contribution),
                pct(r.risk_share)
            );
        }
        s.push_str("</table>");
    }
    let t = &a.trade_stats;
    if t.trades > 0 {
        let _ = write!(
            s,
            "<h2>Closed round trips (net of charges)</h2><table id=\"trades\"><tr><td>trades</td><td>{}</td></tr><tr><td>winners / losers</td><td>{} / {}</td></tr><tr><td>average win / loss</td><td>{:.2} / {:.2}</td></tr><tr><td>largest win / loss</td><td>{:.2} / {:.2}</td></tr><tr><td>expectancy per trade</td><td>{:.2}</td></tr><tr><td>payoff ratio</td><td>{}</td></tr><tr><td>charges</td><td>{:.2}</td></tr></table>",
            t.trades,
            t.winners,
            t.losers,
            t.average_win,
            t.average_loss,
            t.largest_win,
            t.largest_loss,
            t.expectancy,
            num(t.payoff_ratio),
            t.charges
        );
    }
    if !a.by_strategy.is_empty() {
        s.push_str(&contribution_table(
            "P&L by strategy (closed round trips, net of charges)",
            &a.by_strategy,
        ));
        s.push_str(&contribution_table("P&L by symbol", &a.by_symbol));
    }
    s.push_str("<p><small>Made by elite report. Metrics follow empyrical/quantstats conventions; PSR and DSR after Bailey &amp; López de Prado.</small></p></body></html>\n");
    s
}
