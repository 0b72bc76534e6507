//! `elite regimes hmm|rules|stress`: classify, land in `regimes`, print a summary.

use anyhow::{Context, Result};
use elite_jobs::regimes::{Method, RegimeOptions, RegimeRun, regimes};
use elite_pipelines::regime::hmm_label;
use elite_pipelines::regime::rules::RuleOptions;
use elite_pipelines::regime::stress::StressOptions;
use elite_warehouse::Timeframe;
use serde::Serialize;

use crate::args::{Format, RegimesCommand};
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Count {
    label: String,
    bars: usize,
    share: String,
}

#[derive(Serialize)]
struct HmmState {
    state: usize,
    label: String,
    mean_return: String,
    mean_vol: String,
    sd_return: String,
    stays: String,
    expected_bars: String,
}

fn timeframe(s: &str) -> Result<Timeframe> {
    Timeframe::parse(s).map_err(|e| super::UserError(format!("--timeframe: {e}")).into())
}

pub async fn run(cmd: RegimesCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let opts = match cmd {
        RegimesCommand::Hmm(a) => RegimeOptions {
            method: Method::Hmm {
                states: usize::from(a.states),
                window: a.window,
                refit: a.refit,
                min_train: a.min_train,
            },
            symbols: vec![a.on.symbol],
            timeframe: timeframe(&a.on.timeframe)?,
        },
        RegimesCommand::Rules(a) => RegimeOptions {
            method: Method::Rules(RuleOptions::default()),
            symbols: vec![a.symbol],
            timeframe: timeframe(&a.timeframe)?,
        },
        RegimesCommand::Stress(a) => RegimeOptions {
            method: Method::Stress {
                scope: a.scope,
                opts: StressOptions::default(),
            },
            symbols: a.symbols,
            timeframe: timeframe(&a.timeframe)?,
        },
    };
    let r = regimes(&wh, &opts).await.context("regimes")?;
    printer.note(format!(
        "{} {} {}: {} bars classified, {} rows landed in regimes",
        r.method, r.scope, r.timeframe, r.rows, r.rows_added
    ));
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print(&r, printer)
}

fn print(r: &RegimeRun, printer: &Printer) -> Result<()> {
    let total = r.rows.max(1) as f64;
    let counts: Vec<Count> = r
        .counts
        .iter()
        .map(|(l, n)| Count {
            label: l.clone(),
            bars: *n,
            share: format!("{:.1}%", 100.0 * *n as f64 / total),
        })
        .collect();
    printer.heading("bars per regime");
    printer.records(&counts)?;
    if let Some(m) = &r.model {
        let k = m.states();
        let rows: Vec<HmmState> = (0..k)
            .map(|s| {
                let p = m.trans[s * k + s];
                HmmState {
                    state: s,
                    label: hmm_label(s, k),
                    mean_return: format!("{:.4}", m.means[s][0]),
                    mean_vol: format!("{:.4}", m.means[s][1]),
                    sd_return: format!("{:.4}", m.covars[s][0].sqrt()),
                    stays: format!("{:.4}", p),
                    expected_bars: format!("{:.1}", 1.0 / (1.0 - p).max(1e-12)),
                }
            })
            .collect();
        printer.heading(format!(
            "last model (fitted by EM in {} iterations, log-likelihood {:.3}; returns and volatility in percent)",
            m.iterations, m.loglik
        ));
        printer.records(&rows)?;
    }
    if let Some(l) = &r.latest {
        printer.heading("latest");
        printer.records(std::slice::from_ref(l))?;
    }
    Ok(())
}
