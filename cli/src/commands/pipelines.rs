//! `elite features …`, `elite signals …`, `elite run signals`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use elite_jobs::bars::read_bars;
use elite_pipelines::features::FeatureSet;
use elite_pipelines::signals::RULES;
use elite_warehouse::Timeframe;
use serde::Serialize;
use tracing::Instrument;

pub(crate) use super::jobctl::{start_ops, state_dir};
use super::user_bail;
use crate::args::{BarsCommand, FeaturesCommand, MtfArgs, RunCommand, SignalsCommand};
use crate::printer::Printer;
use crate::settings::Settings;
use elite_jobs::ops::watch::Ops;
use elite_pipelines::calendar::Calendar;

fn mtf(a: &MtfArgs) -> Result<Option<elite_jobs::signals::Mtf>> {
    let Some(h) = &a.higher else { return Ok(None) };
    let calendar = Calendar::by_name(&a.calendar).map_err(|e| super::UserError(e.to_string()))?;
    Ok(Some(elite_jobs::signals::Mtf {
        calendar,
        higher: Timeframe::parse(h)?,
    }))
}

#[derive(Serialize)]
struct FeatureLine {
    feature_set: String,
    version: i32,
    feature: String,
    definition: String,
}

pub async fn features(cmd: FeaturesCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    match cmd {
        FeaturesCommand::Sets => {
            let mut lines = vec![];
            for name in FeatureSet::BUILT_IN {
                let set = FeatureSet::by_name(name)?;
                for f in &set.features {
                    lines.push(FeatureLine {
                        feature_set: set.name.clone(),
                        version: set.version,
                        feature: f.name.clone(),
                        definition: f.expr.to_string(),
                    });
                }
            }
            printer.records(&lines)
        }
        FeaturesCommand::Build(a) => {
            let mut set =
                FeatureSet::by_name(&a.set).map_err(|e| super::UserError(e.to_string()))?;
            if a.horizons.contains(&0) {
                user_bail!("--horizon must be at least 1 bar");
            }
            let wh = settings.warehouse()?;
            if let Some(h) = &a.mtf.higher {
                Calendar::by_name(&a.mtf.calendar).map_err(|e| super::UserError(e.to_string()))?;
                let cal = elite_jobs::calendar::load_calendar(&wh, &a.mtf.calendar).await?;
                set = set
                    .with_higher(cal, Timeframe::parse(h)?)
                    .map_err(|e| super::UserError(e.to_string()))?;
            }
            if a.dry_run {
                let rows = elite_jobs::features::preview(&wh, &set, &super::bar_query(&a.bars)?)
                    .await
                    .with_context(|| format!("computing feature set {}", set.name))?;
                #[derive(Serialize)]
                struct Row<'a> {
                    symbol: &'a str,
                    timeframe: String,
                    ts_event: String,
                    ts_recv: String,
                    feature_set: &'a str,
                    feature_set_version: i32,
                    feature: &'a str,
                    value: f64,
                }
                let rows: Vec<Row<'_>> = rows
                    .iter()
                    .map(|r| Row {
                        symbol: r.symbol.as_str(),
                        timeframe: r.timeframe.to_string(),
                        ts_event: r.ts_event.to_string(),
                        ts_recv: r.ts_recv.to_string(),
                        feature_set: &r.feature_set,
                        feature_set_version: r.feature_set_version,
                        feature: &r.feature,
                        value: r.value,
                    })
                    .collect();
                return printer.records(&rows);
            }
            let report = elite_jobs::features::build(
                &wh,
                &set,
                &super::bar_query(&a.bars)?,
                &a.horizons,
                &printer.reporter(),
            )
            .await
            .with_context(|| format!("building feature set {}", set.name))?;
            if report.bars == 0 {
                user_bail!(
                    "no bars match; ingest some first (elite ingest csv …) or check --timeframe/--symbol"
                );
            }
            printer.records(&[report])
        }
    }
}

#[derive(Serialize)]
struct RuleLine {
    rule: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct SignalLine {
    symbol: String,
    timeframe: String,
    ts_event: String,
    rule: String,
    direction: i8,
    strength: f64,
    features: String,
}

pub async fn signals(cmd: SignalsCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    match cmd {
        SignalsCommand::Rules => printer.records(
            &RULES
                .iter()
                .map(|(rule, description)| RuleLine { rule, description })
                .collect::<Vec<_>>(),
        ),
        SignalsCommand::Show(a) => {
            let wh = settings.warehouse()?;
            let mtf = mtf(&a.mtf)?;
            let (bars, _) = read_bars(&wh, &super::bar_query(&a.bars)?).await?;
            let mut series = elite_jobs::features::series(bars);
            let mut rows = vec![];
            for bars in series.values_mut() {
                rows.extend(elite_jobs::signals::signals_batch(bars, mtf.as_ref())?);
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r.ts_event));
            rows.truncate(a.limit);
            let lines: Vec<SignalLine> = rows
                .into_iter()
                .map(|r| SignalLine {
                    symbol: r.symbol.to_string(),
                    timeframe: r.timeframe.to_string(),
                    ts_event: r.ts_event.to_string(),
                    rule: r.rule,
                    direction: r.direction,
                    strength: r.strength,
                    features: r.features,
                })
                .collect();
            if lines.is_empty() {
                printer.note("no signals (no bars match, or none of the rules fired)");
                return Ok(());
            }
            printer.records(&lines)
        }
    }
}

pub async fn run(cmd: RunCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    match cmd {
        RunCommand::Trader(a) => {
            let wh = settings.warehouse()?;
            let state_dir = state_dir(&wh, &a.state_dir)?;
            if a.commit_every == 0 {
                user_bail!("--commit-every must be at least 1");
            }
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("reading {}", a.file.display()))?;
            let cfg = elite_jobs::run::RunConfig::from_toml(&text)
                .map_err(|e| super::UserError(format!("{}: {e}", a.file.display())))?;
            if a.live {
                return live_trader(&wh, &cfg, &a, state_dir, settings, printer).await;
            }
            let ops = start_ops("trader", &a.name, &state_dir, &a.ops, settings, printer).await?;
            let opts = elite_jobs::trader::TraderOptions {
                name: a.name.clone(),
                state_dir,
                commit_every: a.commit_every,
                rate: a.rate,
                fresh: a.fresh,
                follow: a.follow.is_some(),
            };
            let span = tracing::info_span!(
                "job",
                job = "trader",
                job_name = %a.name,
                run_id = tracing::field::Empty
            );
            let input = match &a.from {
                Some(bars) => Some(elite_jobs::trader::TraderInput {
                    bus: super::stream::open_bus(&a.transport, true)?,
                    bars: bars.clone(),
                    signals: a.signals.clone(),
                    predictions: a.predictions.clone(),
                }),
                None => None,
            };
            let report = paper_trader(&wh, &cfg, &opts, a.follow, input, ops, printer)
                .instrument(span)
                .await
                .with_context(|| format!("trader {}", a.name))?;
            printer.note(format!(
                "paper trader {} (run {}): resumed at event {}, {} bars, {} commits, {} orders sent, {} fills, {} late inputs left out",
                a.name, report.run_id, report.resumed_from, report.bars_processed, report.commits,
                report.orders_sent, report.fills, report.late_inputs
            ));
            if let Some(s) = &report.summary {
                printer.records(&s.strategies)?;
            }
            Ok(())
        }
        RunCommand::Feed(a) => super::stream::run_feed(a, settings, printer).await,
        RunCommand::Pipeline(a) => super::supervise::run(&a.file, settings, printer).await,
        RunCommand::Bars(a) => super::stream::run_bars(a, settings, printer).await,
        RunCommand::Signals(a) => {
            let input = match &a.from {
                Some(topic) => Some(elite_jobs::signals::StreamInput {
                    bus: super::stream::open_bus(&a.transport, true)?,
                    topic: topic.clone(),
                    out: a.to.clone(),
                    predictions: a.predictions_to.clone(),
                }),
                None => None,
            };
            let wh = settings.warehouse()?;
            let state_dir: PathBuf = match (&a.state_dir, wh.root().scheme()) {
                (Some(d), _) => d.clone(),
                (None, "file") => {
                    wh.root()
                        .to_file_path()
                        .map(|p| p.join("_state"))
                        .map_err(|_| {
                            super::UserError(
                                "cannot turn the warehouse URL into a path; pass --state-dir"
                                    .into(),
                            )
                        })?
                }
                (None, scheme) => user_bail!(
                    "the warehouse is on {scheme}://; pass --state-dir for the runner's checkpoints"
                ),
            };
            if a.commit_every == 0 {
                user_bail!("--commit-every must be at least 1");
            }
            let ops = start_ops("signals", &a.name, &state_dir, &a.ops, settings, printer).await?;
            let opts = elite_jobs::signals::RunOptions {
                name: a.name.clone(),
                query: super::bar_query(&a.bars)?,
                commit_every: a.commit_every,
                rate: a.rate,
                state_dir,
                fresh: a.fresh,
                mtf: mtf(&a.mtf)?,
                models: a.models.clone(),
                health: Some(ops.health.clone()),
                input,
                features: a
                    .features
                    .as_deref()
                    .map(FeatureSet::by_name)
                    .transpose()
                    .map_err(|e| super::UserError(e.to_string()))?,
            };
            let span = tracing::info_span!("job", job = "signals", job_name = %a.name);
            let out = elite_jobs::signals::run(&wh, &opts, &printer.reporter())
                .instrument(span)
                .await;
            ops.finish(out.as_ref().map(|_| ()).map_err(|e| e.to_string()))
                .await;
            let report = out.with_context(|| format!("signal runner {}", a.name))?;
            printer.records(&[report])
        }
    }
}

/// `elite run trader --paper`: stream the config's events to the paper broker; with `--follow`,
/// keep reading the tables every SECONDS for bars, predictions and signal events that landed
/// since, until Ctrl-C (which commits and exits).
async fn paper_trader(
    wh: &elite_store::Warehouse,
    cfg: &elite_jobs::run::RunConfig,
    opts: &elite_jobs::trader::TraderOptions,
    follow: Option<f64>,
    input: Option<elite_jobs::trader::TraderInput>,
    ops: Ops,
    printer: &Printer,
) -> Result<elite_jobs::trader::TraderReport> {
    use elite_jobs::trader::PaperTrader;
    let opened = match &input {
        Some(i) => PaperTrader::open_stream(wh, cfg, opts, i)
            .await
            .map(|(t, r)| (t, Some(r))),
        None => PaperTrader::open(wh, cfg, opts).await.map(|t| (t, None)),
    };
    let (mut t, mut reader) = match opened {
        Ok(t) => t,
        Err(e) => {
            ops.finish(Err(e.to_string())).await;
            return Err(e.into());
        }
    };
    tracing::Span::current().record("run_id", t.session.run_id.as_str());
    tracing::info!(bars = t.remaining(), "paper trader open");
    t.operate(ops);
    let ran: std::result::Result<(), elite_jobs::Error> = async {
        if let Some(r) = reader.as_mut() {
            t.run_stream(wh, r).await?;
            return Ok(());
        }
        t.run(wh).await?;
        if let Some(secs) = follow {
            printer.note(format!(
                "paper trader {}: {} bars done; following the warehouse every {secs} s (Ctrl-C to stop)",
                opts.name, t.report.bars_processed
            ));
            t.follow(wh, secs, super::shutdown_signal()).await?;
        }
        Ok(())
    }
    .await;
    let ops = t.ops.take().map(|o| o.ops);
    let out = match ran {
        Ok(()) => t.close(wh, &elite_warehouse::SystemClock).await,
        Err(e) => Err(e),
    };
    if let Some(ops) = ops {
        ops.finish(out.as_ref().map(|_| ()).map_err(|e| e.to_string()))
            .await;
    }
    Ok(out?)
}

/// `elite run trader --live`: real orders through the config's broker, after confirmation.
async fn live_trader(
    wh: &elite_store::Warehouse,
    cfg: &elite_jobs::run::RunConfig,
    a: &crate::args::RunTraderArgs,
    state_dir: PathBuf,
    settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let Some(broker) = &cfg.broker else {
        user_bail!(
            "{}: live trading needs a [broker] section (kind = \"upstox\", instruments = {{ SYMBOL = \"NSE_EQ|ISIN\" }})",
            a.file.display()
        );
    };
    match &a.confirm {
        Some(n) if *n == cfg.name => {}
        Some(n) => user_bail!(
            "--confirm {n:?} does not match the config's name {:?}: no order was placed",
            cfg.name
        ),
        None => {
            use std::io::{BufRead, IsTerminal, Write};
            if !std::io::stdin().is_terminal() {
                user_bail!(
                    "--live places real orders: confirm with --confirm {} (the config's name)",
                    cfg.name
                );
            }
            eprint!(
                "LIVE trading: real orders for config {:?} will be placed at {}. Type the config name to go on: ",
                cfg.name, broker.base_url
            );
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            if line.trim() != cfg.name {
                user_bail!("not confirmed: no order was placed");
            }
        }
    }
    let client = elite_jobs::live::upstox_client(broker)?;
    let opts = elite_jobs::live::LiveOptions {
        name: a.name.clone(),
        state_dir: state_dir.clone(),
        fresh: a.fresh,
    };
    if let Some(secs) = a.follow
        && !(secs.is_finite() && secs > 0.0)
    {
        user_bail!("--follow needs a positive number of seconds");
    }
    let ops = start_ops("live", &a.name, &state_dir, &a.ops, settings, printer).await?;
    let mut t = match elite_jobs::live::LiveTrader::open(wh, cfg, &opts, client).await {
        Ok(t) => t,
        Err(e) => {
            ops.finish(Err(e.to_string())).await;
            return Err(e).with_context(|| format!("live trader {}", a.name));
        }
    };
    t.operate(ops);
    let mut todo = t.remaining();
    let ran: std::result::Result<(), elite_jobs::Error> = async {
        elite_jobs::live::run_live(&mut t, a.commit_every).await?;
        if let Some(secs) = a.follow {
            printer.note(format!(
                "LIVE trader {}: {todo} bars done; following the bars table every {secs} s (Ctrl-C to stop)",
                a.name
            ));
            todo += t.follow(secs, a.commit_every, super::shutdown_signal()).await?;
        }
        Ok(())
    }
    .await;
    if let Some(o) = t.ops.take() {
        o.ops
            .finish(ran.as_ref().map(|_| ()).map_err(|e| e.to_string()))
            .await;
    }
    ran.with_context(|| format!("live trader {} (run {})", a.name, t.session.run_id))?;
    let s = &t.stats;
    printer.note(format!(
        "LIVE trader {} (run {}): {todo} new bars; {} orders placed, {} found already at the broker, \
         {} refused, {} fills, {} cancels sent, {} book reads; {} orders working at the broker \
         (their fills are booked at the next bar)",
        a.name,
        t.session.run_id,
        s.placed,
        s.adopted,
        s.refused,
        s.fills,
        s.cancels,
        s.polls,
        t.working()
    ));
    // The run so far (a live run has no end: this is as of its last bar).
    let j = &t.session.engine.journal;
    if !j.equity.is_empty() {
        let sheet = elite_trade::metrics::tear_sheet(
            &j.equity,
            &j.fills,
            cfg.initial_cash,
            cfg.periods_per_year,
        );
        printer.records(&super::backtest::sheet_rows(&t.session.run_id, &sheet)?)?;
    }
    Ok(())
}

pub async fn bars(cmd: BarsCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    match cmd {
        BarsCommand::FromTicks(a) => super::stream::from_ticks(a, settings, printer).await,
        BarsCommand::Resample(a) => {
            let q = super::bar_query(&a.bars)?;
            if q.timeframe.is_none() {
                user_bail!(
                    "give the input timeframe with --timeframe (for example --timeframe 1m --to 5m)"
                );
            }
            let to = Timeframe::parse(&a.to)?;
            let wh = settings.warehouse()?;
            Calendar::by_name(&a.calendar).map_err(|e| super::UserError(e.to_string()))?;
            let cal = elite_jobs::calendar::load_calendar(&wh, &a.calendar).await?;
            let r = elite_jobs::resample::resample_bars(
                &wh,
                &q,
                to,
                &cal,
                std::sync::Arc::new(elite_warehouse::SystemClock),
            )
            .await
            .map_err(|e| super::UserError(e.to_string()))?;
            if r.bars_in == 0 {
                user_bail!(
                    "no {} bars match; check --timeframe/--symbol",
                    a.bars.timeframe.unwrap_or_default()
                );
            }
            printer.records(&[r])
        }
    }
}
