//! `elite forecast vol|corr|drawdown`: fit, forecast, land in `forecasts`, print.

use anyhow::{Context, Result};
use elite_jobs::forecast::{
    CorrModel, CorrOptions, DrawdownRequest, VolOptions, corr_forecast, drawdown_forecast,
};
use elite_trade::drawdown::DrawdownOptions;
use elite_trade::forecast::{Dist, VolModel};
use serde::Serialize;

use crate::args::{
    CorrModelArg, DistArg, ForecastCommand, ForecastCorrArgs, ForecastDrawdownArgs,
    ForecastVolArgs, Format, VolModelArg,
};
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Metric {
    metric: String,
    value: String,
}

fn metric(m: &str, v: impl Into<String>) -> Metric {
    Metric {
        metric: m.into(),
        value: v.into(),
    }
}

pub async fn run(cmd: ForecastCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    match cmd {
        ForecastCommand::Vol(a) => vol(a, settings, printer).await,
        ForecastCommand::Corr(a) => corr(a, settings, printer).await,
        ForecastCommand::Drawdown(a) => drawdown(a, settings, printer).await,
    }
}

fn timeframe(s: &str) -> Result<elite_warehouse::Timeframe> {
    elite_warehouse::Timeframe::parse(s)
        .map_err(|e| super::UserError(format!("--timeframe: {e}")).into())
}

fn vol_options(a: &ForecastVolArgs) -> Result<VolOptions> {
    Ok(VolOptions {
        symbol: a.symbol.clone(),
        timeframe: timeframe(&a.timeframe)?,
        model: match a.model {
            VolModelArg::Garch => VolModel::Garch,
            VolModelArg::Gjr => VolModel::Gjr,
        },
        dist: match a.dist {
            DistArg::Normal => Dist::Normal,
            DistArg::T => Dist::StudentT,
        },
        horizon: a.horizon,
    })
}

/// `elite forecast vol`: the fitted parameters, then the forecast path.
async fn vol(
    a: crate::args::ForecastVolArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let wh = settings.warehouse()?;
    let opts = vol_options(&a)?;
    let f = elite_jobs::forecast::vol_forecast(&wh, &opts)
        .await
        .with_context(|| format!("volatility forecast of {}", a.symbol))?;
    printer.note(format!(
        "{} {}: {} rows landed in forecasts",
        f.symbol, f.timeframe, f.rows_added
    ));
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&f)?);
        return Ok(());
    }
    let p = &f.fit;
    let mut rows = vec![
        Metric {
            metric: "symbol".into(),
            value: f.symbol.clone(),
        },
        Metric {
            metric: "as_of".into(),
            value: f.as_of.clone(),
        },
        Metric {
            metric: "observations".into(),
            value: p.observations.to_string(),
        },
        Metric {
            metric: "mu".into(),
            value: format!("{:.6}", p.mu),
        },
        Metric {
            metric: "omega".into(),
            value: format!("{:.6}", p.omega),
        },
        Metric {
            metric: "alpha".into(),
            value: format!("{:.6}", p.alpha),
        },
    ];
    if matches!(opts.model, VolModel::Gjr) {
        rows.push(Metric {
            metric: "gamma".into(),
            value: format!("{:.6}", p.gamma),
        });
    }
    rows.push(Metric {
        metric: "beta".into(),
        value: format!("{:.6}", p.beta),
    });
    if let Some(nu) = p.nu {
        rows.push(Metric {
            metric: "nu".into(),
            value: format!("{nu:.4}"),
        });
    }
    rows.push(Metric {
        metric: "loglik".into(),
        value: format!("{:.4}", p.loglik),
    });
    rows.push(Metric {
        metric: "long_run_annualized_vol".into(),
        value: format!("{:.3}%", f.long_run_annualized_vol),
    });
    printer.records(&rows)?;
    printer
        .heading("forecast (variance of the log return in percent², annualized volatility in %)");
    printer.records(&f.path)
}

/// A correlation matrix as rows `symbol, <each symbol>`.
fn matrix_rows(
    names: &[String],
    m: &[Vec<f64>],
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    names
        .iter()
        .zip(m)
        .map(|(n, row)| {
            let mut o = serde_json::Map::new();
            o.insert("symbol".into(), n.clone().into());
            for (c, v) in names.iter().zip(row) {
                o.insert(c.clone(), format!("{v:.4}").into());
            }
            o
        })
        .collect()
}

async fn corr(a: ForecastCorrArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    if !(0.0..1.0).contains(&a.lambda) {
        super::user_bail!("--lambda {} must be in [0, 1)", a.lambda);
    }
    let wh = settings.warehouse()?;
    let opts = CorrOptions {
        symbols: a.symbols.clone(),
        timeframe: timeframe(&a.timeframe)?,
        model: match a.model {
            CorrModelArg::Ewma => CorrModel::Ewma(a.lambda),
            CorrModelArg::Dcc => CorrModel::Dcc,
        },
        horizon: a.horizon,
    };
    let f = corr_forecast(&wh, &opts)
        .await
        .with_context(|| format!("correlation forecast of {}", a.symbols.join(",")))?;
    printer.note(format!(
        "{} {} {}: {} rows landed in forecasts",
        f.model,
        f.symbols.join(","),
        f.timeframe,
        f.rows_added
    ));
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&f)?);
        return Ok(());
    }
    let mut rows = vec![
        metric("model", f.model.clone()),
        metric("as_of", f.as_of.clone()),
        metric("observations", f.observations.to_string()),
    ];
    if let Some((da, db, ll)) = f.dcc {
        rows.push(metric("a", format!("{da:.6}")));
        rows.push(metric("b", format!("{db:.6}")));
        rows.push(metric("persistence", format!("{:.6}", da + db)));
        rows.push(metric("loglik (correlation part)", format!("{ll:.4}")));
    }
    printer.records(&rows)?;
    printer.heading("correlation forecast, next period");
    printer.records(&matrix_rows(&f.symbols, &f.first))?;
    if a.horizon > 1 {
        printer.heading(format!("correlation forecast, {} periods ahead", a.horizon));
        printer.records(&matrix_rows(&f.symbols, &f.last))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Odds {
    threshold: String,
    max_drawdown_at_least: String,
    price_touches_below: String,
    ends_below: String,
}

async fn drawdown(a: ForecastDrawdownArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    if let Some(t) = a.thresholds.iter().find(|t| !(**t > 0.0 && **t < 1.0)) {
        super::user_bail!("--thresholds: {t} is not a fraction in (0, 1)");
    }
    let wh = settings.warehouse()?;
    let req = DrawdownRequest {
        vol: vol_options(&a.vol)?,
        sim: DrawdownOptions {
            horizon: a.vol.horizon,
            paths: a.paths,
            thresholds: a.thresholds.clone(),
            seed: a.seed,
        },
    };
    let d = drawdown_forecast(&wh, &req)
        .await
        .with_context(|| format!("drawdown forecast of {}", a.vol.symbol))?;
    printer.note(format!(
        "{}: {} paths of {} periods; {} rows landed in forecasts",
        d.symbol, d.forecast.paths, d.forecast.horizon, d.rows_added
    ));
    if printer.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(());
    }
    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    let mut rows = vec![
        metric("symbol", d.symbol.clone()),
        metric("as_of", d.as_of.clone()),
        metric("horizon", d.forecast.horizon.to_string()),
        metric("paths", d.forecast.paths.to_string()),
        metric("seed", d.forecast.seed.to_string()),
        metric(
            "expected_max_drawdown",
            pct(d.forecast.expected_max_drawdown),
        ),
    ];
    for (q, v) in &d.forecast.max_drawdown_quantiles {
        rows.push(metric(&format!("max_drawdown_q{:.0}", q * 100.0), pct(*v)));
    }
    printer.records(&rows)?;
    printer.heading("odds within the horizon");
    let odds: Vec<Odds> = d
        .forecast
        .probabilities
        .iter()
        .map(|p| Odds {
            threshold: pct(p.threshold),
            max_drawdown_at_least: pct(p.drawdown),
            price_touches_below: pct(p.loss),
            ends_below: pct(p.final_loss),
        })
        .collect();
    printer.records(&odds)
}
