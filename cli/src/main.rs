//! The `elite` binary: parses the command line, resolves settings, runs one command, and maps
//! failures to exit codes (0 success, 1 expected failure such as bad input or a refusal, 2 error).
//! No business logic lives here.

mod args;
mod commands;
mod printer;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::printer::Printer;
use crate::settings::Settings;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.quiet, cli.global.verbose, cli.global.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  Caused by: {cause}");
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global)?;
    let printer = Printer::new(settings.format, settings.quiet, settings.progress);
    match cli.command {
        Command::Ingest(cmd) => commands::ingest::run(cmd, &settings, &printer).await,
        Command::Warehouse(cmd) => commands::warehouse::run(cmd, &settings, &printer).await,
        Command::Sql(args) => commands::sql::run(args, &settings, &printer).await,
        Command::Demo(args) => commands::demo::run(args, &settings, &printer).await,
        Command::Features(cmd) => commands::pipelines::features(cmd, &settings, &printer).await,
        Command::Signals(cmd) => commands::pipelines::signals(cmd, &settings, &printer).await,
        Command::Bars(cmd) => commands::pipelines::bars(cmd, &settings, &printer).await,
        Command::Run(cmd) => commands::pipelines::run(cmd, &settings, &printer).await,
        Command::Stream(cmd) => commands::stream::stream(cmd, &settings, &printer).await,
        Command::Status(args) => commands::status::run(args, &settings, &printer).await,
        Command::Backtest(args) => commands::backtest::run(args, &settings, &printer).await,
        Command::Report(args) if args.models => {
            commands::report_models::run(args, &settings, &printer).await
        }
        Command::Report(args) => commands::report::run(args, &settings, &printer).await,
        Command::Forecast(cmd) => commands::forecast::run(cmd, &settings, &printer).await,
        Command::Regimes(cmd) => commands::regimes::run(cmd, &settings, &printer).await,
        Command::Train(args) => commands::train::run(args, &settings, &printer).await,
        Command::Predict(args) => commands::train::predict(args, &settings, &printer).await,
        Command::Models(args::ModelsCommand::Import(args)) => {
            commands::train::import(args, &settings, &printer).await
        }
        Command::Models(args::ModelsCommand::Ensemble(args)) => {
            commands::train::ensemble(args, &settings, &printer).await
        }
        Command::Jobs(args::JobsCommand::Retrain(args)) => {
            commands::train::retrain(args, &settings, &printer).await
        }
        Command::Sentiment(args::SentimentCommand::Score(a)) => {
            commands::sentiment::score(a, &printer)
        }
        Command::Sentiment(args::SentimentCommand::Eval(a)) => {
            commands::sentiment::eval(a, &printer)
        }
        Command::Social(args::SocialCommand::Spikes(a)) => {
            commands::sentiment::spikes(a, &settings, &printer).await
        }
        Command::Sentiment(args::SentimentCommand::Signals(a)) => {
            commands::sentiment::alt_signals(a, &settings, &printer).await
        }
        Command::Sentiment(args::SentimentCommand::Impact(a)) => {
            commands::sentiment::impact(a, &settings, &printer).await
        }
        Command::Sentiment(args::SentimentCommand::Build(a)) => {
            commands::sentiment::build(a, &settings, &printer).await
        }
        Command::Bench(args::BenchCommand::Ingest(a)) => {
            commands::bench::ingest(a, &settings, &printer).await
        }
        Command::Bench(args::BenchCommand::Models(a)) => {
            commands::bench_models::run(a, &settings, &printer)
        }
        Command::Bench(args::BenchCommand::Cycle(a)) => {
            commands::bench_cycle::run(a, &settings, &printer)
        }
        Command::Bench(args::BenchCommand::Sql(a)) => {
            commands::bench_sql::sql(a, &settings, &printer).await
        }
        Command::Bench(args::BenchCommand::Backtest(a)) => {
            commands::bench_backtest::run(a, &settings, &printer)
        }
        Command::Bench(args::BenchCommand::Signals(a)) => {
            commands::bench_stream::signals_latency(a, &settings, &printer)
        }
        Command::Bench(args::BenchCommand::Indicators(a)) => {
            commands::bench_indicators::run(a, &settings, &printer)
        }
        Command::Bench(args::BenchCommand::Crash(a)) => {
            commands::bench_crash::run(a, &settings, &printer).await
        }
        Command::Bench(args::BenchCommand::Fuzz(a)) => {
            commands::bench_fuzz::run(a, &settings, &printer)
        }
    }
}

fn init_logging(quiet: bool, verbose: u8, format: args::LogFormat) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ELITE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},deltalake=warn,datafusion=warn"))
    });
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let fmt = match format {
        args::LogFormat::Text => fmt.boxed(),
        // One JSON object per line, with the fields of the spans it happened in (job, name,
        // run_id) flattened beside its own (symbol, …).
        args::LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(
            elite_jobs::ops::metrics::CountLogEvents
                .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
        )
        .try_init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 1 for failures the user can fix (bad input, bad options, refusals); 2 for everything else.
fn exit_code(err: &anyhow::Error) -> u8 {
    let expected = err.chain().any(|c| {
        if let Some(e) = c.downcast_ref::<elite_collectors::Error>() {
            return e.is_user_error();
        }
        if let Some(e) = c.downcast_ref::<elite_store::Error>() {
            return e.is_user_error();
        }
        if let Some(e) = c.downcast_ref::<elite_sql::Error>() {
            return match e {
                elite_sql::Error::ReadOnly { .. } | elite_sql::Error::Query(_) => true,
                elite_sql::Error::Store(s) => s.is_user_error(),
                elite_sql::Error::View { .. } => false,
            };
        }
        if let Some(e) = c.downcast_ref::<elite_jobs::Error>() {
            return e.is_user_error();
        }
        if let Some(e) = c.downcast_ref::<elite_text::Error>() {
            return !matches!(e, elite_text::Error::Model { .. });
        }
        if let Some(e) = c.downcast_ref::<elite_models::Error>() {
            return matches!(
                e,
                elite_models::Error::Input { .. }
                    | elite_models::Error::Contract(_)
                    | elite_models::Error::Artifact(_)
            );
        }
        c.downcast_ref::<elite_warehouse::Error>().is_some()
            || c.downcast_ref::<commands::UserError>().is_some()
    });
    if expected { 1 } else { 2 }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every command (a subcommand flag that shadows a global
    /// one, duplicate names, bad defaults) — they would otherwise panic only when the command runs.
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        crate::args::Cli::command().debug_assert();
    }

    /// A subcommand's own `--format` beside the global `--format` compiles, passes
    /// `debug_assert` and panics at parse time: no subcommand may reuse a global flag's id.
    #[test]
    fn no_subcommand_flag_shadows_a_global_one() {
        use clap::CommandFactory;
        let cli = crate::args::Cli::command();
        let globals: Vec<String> = cli
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| a.get_id().to_string())
            .collect();
        assert!(globals.iter().any(|g| g == "format"), "{globals:?}");
        fn walk(c: &clap::Command, path: String, globals: &[String], bad: &mut Vec<String>) {
            for sc in c.get_subcommands() {
                let p = format!("{path} {}", sc.get_name());
                for a in sc.get_arguments() {
                    if globals.iter().any(|g| g == a.get_id().as_str()) {
                        bad.push(format!("{p}: --{}", a.get_id()));
                    }
                }
                walk(sc, p, globals, bad);
            }
        }
        let mut bad = Vec::new();
        walk(&cli, "elite".into(), &globals, &mut bad);
        assert!(bad.is_empty(), "flags shadowing global ones: {bad:?}");
    }
}
