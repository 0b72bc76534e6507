//! `elite ingest …`

use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{NaiveDate, Utc};
use elite_collectors::bars_csv::{BarLabel, BarsOptions, ColumnMap};
use elite_collectors::http::Retry;
use elite_collectors::news::NewsFormat;
use elite_collectors::upstox::{FeedClient, FeedMode, FeedUrl, UpstoxClient};
use elite_collectors::yahoo::YahooClient;
use elite_jobs::alt::NewsOptions;
use elite_jobs::ingest::{FeedReport, FileFormat, FileIngest, IngestReport, Ingestor};
use elite_jobs::macro_series::{MacroFormat, MacroOptions};
use elite_jobs::social::Platform;
use elite_warehouse::{Symbol, SystemClock, Timeframe};

use super::user_bail;
use crate::args::{
    FeedModeArg, FileArgs, IngestCommand, Label, NewsArgs, SocialArgs, UpstoxFeedArgs,
    UpstoxHistoryArgs, YahooArgs,
};
use crate::printer::Printer;
use crate::settings::Settings;

pub async fn run(cmd: IngestCommand, settings: &Settings, printer: &Printer) -> Result<()> {
    let ingestor = Ingestor::new(settings.warehouse()?, Arc::new(SystemClock));
    let reports = match cmd {
        IngestCommand::Csv(a) => {
            let ingestor = file_ingestor(settings, &a).await?;
            files(&ingestor, a, FileFormat::Csv, printer).await?
        }
        IngestCommand::Parquet(a) => {
            let ingestor = file_ingestor(settings, &a).await?;
            files(&ingestor, a, FileFormat::Parquet, printer).await?
        }
        IngestCommand::Yahoo(a) => yahoo(&ingestor, a, settings, printer).await?,
        IngestCommand::UpstoxHistory(a) => upstox_history(&ingestor, a, settings, printer).await?,
        IngestCommand::UpstoxFeed(a) => return upstox_feed(&ingestor, a, settings, printer).await,
        IngestCommand::Calendar(a) => {
            elite_pipelines::calendar::Calendar::by_name(&a.calendar)
                .map_err(|e| super::UserError(e.to_string()))?;
            let r = elite_jobs::calendar::ingest_calendar(
                &settings.warehouse()?,
                &a.file,
                &a.calendar,
                &SystemClock,
            )
            .await
            .with_context(|| format!("ingesting {}", a.file.display()))?;
            return printer.records(&[r]);
        }
        IngestCommand::News(a) => news(&ingestor, a, printer).await?,
        IngestCommand::Social(a) => social(&ingestor, a, printer).await?,
        IngestCommand::Options(a) => {
            let fetched_at = match &a.fetched_at {
                Some(t) => Some(elite_warehouse::Timestamp::parse_rfc3339(t)?),
                None => None,
            };
            let mut out = Vec::new();
            for input in &a.inputs {
                let upstox = a.provider == "upstox";
                let kind = if upstox {
                    "upstox-options"
                } else {
                    "yahoo-options"
                };
                let (source, body) = fetch_or_read(input, kind).await?;
                let r = ingestor
                    .ingest_options_body(&source, &body, fetched_at, upstox, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {input}"))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Earnings(a) => {
            let fetched_at = match &a.fetched_at {
                Some(t) => Some(elite_warehouse::Timestamp::parse_rfc3339(t)?),
                None => None,
            };
            let opts = elite_jobs::earnings::EarningsOptions {
                symbol: a.symbol.clone(),
                fetched_at,
                report_lag: a
                    .report_lag_days
                    .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400)),
            };
            let mut out = Vec::new();
            for input in &a.inputs {
                let (source, body) = fetch_or_read(input, "yahoo-earnings").await?;
                let r = ingestor
                    .ingest_earnings_body(&source, &body, &opts, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {input}"))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Instruments(a) => {
            let opts = elite_jobs::contracts::ContractsOptions {
                fetched_at: match &a.fetched_at {
                    Some(t) => Some(elite_warehouse::Timestamp::parse_rfc3339(t)?),
                    None => None,
                },
                as_of: match &a.as_of {
                    Some(d) => Some(
                        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                            .and_then(|t| elite_warehouse::Timestamp::from_datetime(&t.and_utc()))
                            .ok_or_else(|| {
                                super::UserError(format!("--as-of {d:?}: not a YYYY-MM-DD date"))
                            })?,
                    ),
                    None => None,
                },
            };
            let mut out = Vec::new();
            for input in &a.inputs {
                let (source, body) = fetch_or_read(input, "upstox-instruments").await?;
                let r = ingestor
                    .ingest_contracts_body(&source, &body, &opts, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {input}"))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Quotes(a) => {
            let fetched_at = match &a.fetched_at {
                Some(t) => Some(elite_warehouse::Timestamp::parse_rfc3339(t)?),
                None => None,
            };
            let mut out = Vec::new();
            for input in &a.inputs {
                let (source, body) = fetch_or_read(input, "upstox-quotes").await?;
                let r = ingestor
                    .ingest_circuit_limits_body(&source, &body, fetched_at, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {input}"))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Insider(a) => {
            let mut out = Vec::new();
            for input in &a.inputs {
                let fetched_at = match &a.fetched_at {
                    Some(t) => Some(elite_warehouse::Timestamp::parse_rfc3339(t)?),
                    None => None,
                };
                let r = match &a.yahoo {
                    None if a.nse => {
                        let (source, body) = fetch_or_read(input, "nse-pit").await?;
                        ingestor
                            .ingest_nse_insider_body(
                                &source,
                                &body,
                                fetched_at,
                                &printer.reporter(),
                            )
                            .await
                    }
                    None => {
                        let (source, body) = fetch_or_read(input, "sec").await?;
                        ingestor
                            .ingest_insider_body(&source, &body, &printer.reporter())
                            .await
                    }
                    Some(symbol) => {
                        let (source, body) = fetch_or_read(input, "yahoo-insider").await?;
                        ingestor
                            .ingest_yahoo_insider_body(
                                &source,
                                &body,
                                symbol,
                                fetched_at,
                                &printer.reporter(),
                            )
                            .await
                    }
                }
                .with_context(|| format!("ingesting {input}"))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Macro(a) => {
            let opts = MacroOptions {
                format: match a.series {
                    Some(series) => MacroFormat::FredJson { series },
                    None => MacroFormat::Csv,
                },
                release_lag: a
                    .release_lag_days
                    .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400)),
            };
            let mut out = Vec::new();
            for f in &a.files {
                let body = elite_jobs::ingest::read_input(f)?;
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
                let source = format!("macro:{}", name.unwrap_or_default());
                let r = ingestor
                    .ingest_macro_body(&source, &body, &opts, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {}", f.display()))?;
                out.push(r);
            }
            out
        }
        IngestCommand::Aliases(a) => {
            let mut out = Vec::new();
            for f in &a.files {
                let r = ingestor
                    .ingest_aliases(f, &printer.reporter())
                    .await
                    .with_context(|| format!("ingesting {}", f.display()))?;
                out.push(r);
            }
            out
        }
    };
    print_reports(&reports, printer)
}

async fn news(ingestor: &Ingestor, a: NewsArgs, printer: &Printer) -> Result<Vec<IngestReport>> {
    let opts = NewsOptions {
        format: NewsFormat::parse(&a.provider)?,
        backfill_delay: a.backfill_delay.map(std::time::Duration::from_secs),
    };
    let mut out = Vec::new();
    for input in &a.inputs {
        let reporter = printer.reporter();
        let r = if input.starts_with("http://") || input.starts_with("https://") {
            ingestor.ingest_news_url(input, &opts, &reporter).await
        } else {
            let path = std::path::Path::new(input);
            let body = elite_jobs::ingest::read_input(path)?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let source = format!("news:{}", name.unwrap_or_default());
            ingestor
                .ingest_news_body(&source, &body, &opts, &reporter)
                .await
        };
        out.push(r.with_context(|| format!("ingesting {input}"))?);
    }
    Ok(out)
}

/// The bytes of a URL or a file, and the source name to record.
async fn fetch_or_read(input: &str, kind: &str) -> Result<(String, Vec<u8>)> {
    if input.starts_with("http://") || input.starts_with("https://") {
        let url = reqwest_url(input)?;
        let client = elite_collectors::http::HttpClient::new("social", Retry::default())?;
        let (status, body) = client.get(&url, Default::default()).await?;
        if status != 200 {
            user_bail!("{input}: HTTP {status}");
        }
        let source = format!("{kind}:{}{}", url.host_str().unwrap_or(""), url.path());
        Ok((source, body.to_vec()))
    } else {
        let path = std::path::Path::new(input);
        let body = elite_jobs::ingest::read_input(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Ok((format!("{kind}:{}", name.unwrap_or_default()), body))
    }
}

fn reqwest_url(s: &str) -> Result<elite_collectors::http::Url> {
    elite_collectors::http::Url::parse(s).with_context(|| format!("{s:?} is not a URL"))
}

async fn social(
    ingestor: &Ingestor,
    a: SocialArgs,
    printer: &Printer,
) -> Result<Vec<IngestReport>> {
    let platform = Platform::parse(&a.platform)?;
    let delay = a.backfill_delay.map(std::time::Duration::from_secs);
    let mut out = Vec::new();
    for input in &a.inputs {
        let (source, body) = fetch_or_read(input, &a.platform).await?;
        let r = ingestor
            .ingest_social_body(&source, &body, platform, delay, &printer.reporter())
            .await
            .with_context(|| format!("ingesting {input}"))?;
        out.push(r);
    }
    Ok(out)
}

/// Bars options from the shared file flags.
pub fn bars_options(a: &FileArgs) -> Result<BarsOptions> {
    let timeframe = Timeframe::parse(&a.timeframe)?;
    let mut o = BarsOptions::new("", timeframe);
    o.symbol = a.symbol.as_deref().map(Symbol::new).transpose()?;
    o.tz = a.tz.parse().map_err(|_| {
        super::UserError(format!(
            "unknown time zone {:?}; use an IANA name such as Asia/Kolkata",
            a.tz
        ))
    })?;
    o.ts_format = a.ts_format.clone();
    if let Some(m) = &a.map {
        o.columns = ColumnMap::parse(m)?;
    }
    o.label = match a.label {
        Label::Open => BarLabel::Open,
        Label::Close => BarLabel::Close,
    };
    if !a.delimiter.is_ascii() {
        user_bail!("the delimiter must be one ASCII character");
    }
    o.delimiter = a.delimiter as u8;
    Ok(o)
}

/// The ingestor for bar files: `--partition-by` sets the layout `bars` is created with, and is
/// refused when the table exists laid out otherwise.
async fn file_ingestor(settings: &Settings, a: &FileArgs) -> Result<Ingestor> {
    let mut wh = settings.warehouse()?;
    if let Some(cols) = &a.partition_by {
        let cols: Vec<&str> = cols.iter().map(|c| c.trim()).collect();
        wh = wh
            .with_partitioning("bars", &cols)
            .map_err(|e| super::UserError(e.to_string()))?;
        let actual = wh.partitioning("bars").await?;
        if actual != cols {
            user_bail!(
                "bars exists partitioned by {}; --partition-by applies when the table is created \
                 (move it with: elite warehouse relayout bars --partition-by {})",
                actual.join(","),
                cols.join(",")
            );
        }
    }
    Ok(Ingestor::new(wh, Arc::new(SystemClock)))
}

async fn files(
    ingestor: &Ingestor,
    a: FileArgs,
    format: FileFormat,
    printer: &Printer,
) -> Result<Vec<IngestReport>> {
    let opts = bars_options(&a)?;
    let mut reports = Vec::new();
    for path in &a.files {
        let mut job = FileIngest::new(path, format, opts.clone());
        job.force = a.force;
        job.chunk_bytes = match a.chunk_mib {
            Some(m) if m.is_finite() && m > 0.0 => Some((m * 1_048_576.0) as usize),
            Some(m) => user_bail!("--chunk-mib {m} is not a positive number"),
            None => None,
        };
        let r = ingestor
            .ingest_file(&job, &printer.reporter())
            .await
            .with_context(|| format!("ingesting {}", path.display()))?;
        reports.push(r);
    }
    Ok(reports)
}

fn parse_date(s: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| super::UserError(format!("{what} {s:?} is not a date (YYYY-MM-DD)")).into())
}

async fn yahoo(
    ingestor: &Ingestor,
    a: YahooArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<Vec<IngestReport>> {
    let mut reports = Vec::new();
    for f in &a.file {
        let body = elite_jobs::ingest::read_input(f)?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        reports.push(
            ingestor
                .ingest_yahoo_body(&format!("yahoo-file:{name}"), &body, &printer.reporter())
                .await?,
        );
    }
    if a.symbols.is_empty() {
        if a.file.is_empty() {
            user_bail!("give at least one symbol (or --file with a saved chart response)");
        }
        return Ok(reports);
    }
    let client = YahooClient::new(
        a.base_url.as_deref().unwrap_or(&settings.yahoo_base_url),
        Retry::default(),
    )?;
    let to = match &a.to {
        Some(s) => parse_date(s, "--to")?
            .and_hms_opt(23, 59, 59)
            .map(|d| d.and_utc())
            .unwrap_or_else(Utc::now),
        None => Utc::now(),
    };
    let from = a
        .from
        .as_deref()
        .map(|s| parse_date(s, "--from"))
        .transpose()?
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    for s in &a.symbols {
        let sym = Symbol::new(s.as_str())?;
        let r = ingestor
            .ingest_yahoo(&client, &sym, from, to, &a.interval, &printer.reporter())
            .await
            .with_context(|| format!("ingesting Yahoo {s}"))?;
        reports.push(r);
    }
    Ok(reports)
}

async fn upstox_history(
    ingestor: &Ingestor,
    a: UpstoxHistoryArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<Vec<IngestReport>> {
    let (unit, interval) = match &a.v2_interval {
        Some(v2) => ("", v2.as_str()),
        None => (a.unit.as_str(), a.interval.as_str()),
    };
    let timeframe = elite_collectors::upstox::candle_timeframe(unit, interval)?;
    if let Some(f) = &a.file {
        let key = Symbol::new(a.key.clone().unwrap_or_default())?;
        let body = elite_jobs::ingest::read_input(f)?;
        return Ok(vec![
            ingestor
                .ingest_upstox_body(&key, timeframe, &body, &printer.reporter())
                .await?,
        ]);
    }
    if a.keys.is_empty() {
        user_bail!("give at least one instrument key (or --file with --key)");
    }
    let token = settings.upstox_access_token.clone().unwrap_or_default();
    let client = UpstoxClient::new(
        a.base_url.as_deref().unwrap_or(&settings.upstox_base_url),
        token,
        Retry::default(),
    )?;
    let to = match &a.to {
        Some(s) => parse_date(s, "--to")?,
        None => Utc::now().date_naive(),
    };
    let Some(from) = a.from.as_deref() else {
        user_bail!("--from is required (YYYY-MM-DD)")
    };
    let from = parse_date(from, "--from")?;
    let mut reports = Vec::new();
    for k in &a.keys {
        let key = Symbol::new(k.as_str())?;
        let r = ingestor
            .ingest_upstox_history(&client, &key, unit, interval, from, to, &printer.reporter())
            .await
            .with_context(|| format!("ingesting Upstox candles for {k}"))?;
        reports.push(r);
    }
    Ok(reports)
}

async fn upstox_feed(
    ingestor: &Ingestor,
    a: UpstoxFeedArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    let report = if let Some(dir) = &a.replay {
        ingestor
            .replay_feed_dir(dir, a.flush_every, &printer.reporter())
            .await?
    } else {
        if a.keys.is_empty() {
            user_bail!("give --keys to subscribe to (or --replay DIR for recorded frames)");
        }
        // Authorized afresh for every connection (the URL's code is single-use), unless a
        // fixed --url is given.
        let url = match &a.url {
            Some(u) => FeedUrl::Fixed(u.clone()),
            None => {
                let token = settings.upstox_access_token.clone().unwrap_or_default();
                let base = a.base_url.as_deref().unwrap_or(&settings.upstox_base_url);
                FeedUrl::Authorize(UpstoxClient::new(base, token, Retry::default())?)
            }
        };
        let client = FeedClient {
            url,
            instrument_keys: a.keys.clone(),
            mode: match a.mode {
                FeedModeArg::Ltpc => FeedMode::Ltpc,
                FeedModeArg::Full => FeedMode::Full,
                FeedModeArg::OptionGreeks => FeedMode::OptionGreeks,
                FeedModeArg::FullD30 => FeedMode::FullD30,
            },
            retry: Retry::default(),
            connections: Default::default(),
        };
        let wh = settings.warehouse()?;
        let state_dir = super::pipelines::state_dir(&wh, &None)?;
        let mut ops =
            super::pipelines::start_ops("feed", "upstox", &state_dir, &a.ops, settings, printer)
                .await?;
        let mut topic = match &a.to {
            Some(t) => {
                let bus = super::stream::open_bus(&a.transport, true)?;
                let (live, caught_up) =
                    elite_jobs::stream::live::LiveTicks::open(&wh, &*bus, t, &state_dir, "upstox")
                        .await?;
                if caught_up > 0 {
                    printer.note(format!(
                        "landed {caught_up} ticks a previous run had published to {t} but not landed"
                    ));
                }
                Some((live, bus))
            }
            None => None,
        };
        let out = live_feed(
            ingestor,
            client,
            a.max_frames,
            a.flush_every,
            &mut ops,
            topic.as_mut().map(|(l, _)| l),
        )
        .await;
        if let (Some((live, _)), Some(t)) = (&topic, &a.to) {
            printer.note(format!("{} ticks published to {t}", live.published));
        }
        ops.finish(out.as_ref().map(|_| ()).map_err(|e| format!("{e:#}")))
            .await;
        out?
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("frames", DataType::UInt64, false),
        Field::new("ticks_added", DataType::UInt64, false),
        Field::new("quotes_added", DataType::UInt64, false),
        Field::new("quarantined", DataType::UInt64, false),
        Field::new("ticks_version", DataType::UInt64, true),
    ]));
    let u = |v: usize| Arc::new(UInt64Array::from(vec![v as u64])) as ArrayRef;
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            u(report.frames),
            u(report.ticks_added),
            u(report.quotes_added),
            u(report.quarantined),
            Arc::new(UInt64Array::from(vec![report.ticks_version])),
        ],
    )?;
    printer.batches(schema, &[batch])
}

/// Receive frames on a task, land them every `flush_every` frames. Reports frames, reconnects
/// and the rows landed (`/metrics`), the feed's state (`/readyz`), and raises the feed-down alert
/// when no frame came for `[alerts] feed_silent_s` (cleared when frames come again).
async fn live_feed(
    ingestor: &Ingestor,
    client: FeedClient,
    max_frames: Option<usize>,
    flush_every: usize,
    ops: &mut elite_jobs::ops::watch::Ops,
    mut topic: Option<&mut elite_jobs::stream::live::LiveTicks>,
) -> Result<FeedReport> {
    let connections = Arc::clone(&client.connections);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        client
            .run(max_frames, &SystemClock, |_, frame| {
                Ok(tx.send(frame).is_ok())
            })
            .await
    });
    let m = elite_jobs::ops::metrics::metrics();
    let source = vec![("source", "upstox-feed".to_string())];
    let mut reconnects = 0u64;
    let mut total = FeedReport::default();
    let mut buf = Vec::new();
    let mut received = 0usize;
    let silent = ops.feed_silent;
    ops.health.set("feed", false, "connecting");
    ops.health.beat()?;
    loop {
        let next = match silent {
            Some(bound) => match tokio::time::timeout(bound, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    let why = format!("no frame for {} s", bound.as_secs_f64());
                    ops.health.set("feed", false, &why);
                    ops.health.beat()?;
                    if let Some(a) = &mut ops.alerter {
                        a.holds("feed_down", "feed_down", &format!("feed down: {why}"));
                    }
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(frame) = next else { break };
        received += 1;
        let made = connections.load(std::sync::atomic::Ordering::Relaxed);
        if made > reconnects + 1 {
            m.feed_reconnects
                .get_or_create(&source)
                .inc_by(made - 1 - reconnects);
            reconnects = made - 1;
        }
        ops.health.set(
            "feed",
            true,
            format!("connected: {received} frames, {reconnects} reconnects"),
        );
        if let Some(a) = &mut ops.alerter {
            a.clears("feed_down", "feed_down", "frames arriving again");
        }
        buf.push(frame);
        if buf.len() >= flush_every.max(1) {
            if let Some(t) = topic.as_deref_mut() {
                t.publish(&buf)?;
            }
            total.add(&ingestor.land_feed(std::mem::take(&mut buf)).await?);
            if let Some(t) = topic.as_deref_mut() {
                t.landed()?;
            }
            m.last_success
                .get_or_create(&ops.labels)
                .set(elite_jobs::ops::metrics::unix_now());
            ops.health.fact("frames", received);
            ops.health.beat()?;
        }
    }
    if !buf.is_empty() {
        if let Some(t) = topic.as_deref_mut() {
            t.publish(&buf)?;
        }
        total.add(&ingestor.land_feed(buf).await?);
        if let Some(t) = topic {
            t.landed()?;
        }
    }
    task.await
        .map_err(|e| anyhow::anyhow!("feed task failed: {e}"))??;
    Ok(total)
}

/// Print ingest reports as a table (or CSV/JSON), and the first quarantined records to stderr.
pub fn print_reports(reports: &[IngestReport], printer: &Printer) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("table", DataType::Utf8, false),
        Field::new("rows_read", DataType::UInt64, false),
        Field::new("rows_added", DataType::UInt64, false),
        Field::new("already_present", DataType::UInt64, false),
        Field::new("quarantined", DataType::UInt64, false),
        Field::new("version", DataType::UInt64, true),
        Field::new("skipped_already_ingested", DataType::Boolean, false),
        Field::new("key_lookups", DataType::UInt64, false),
    ]));
    let col_u = |f: &dyn Fn(&IngestReport) -> usize| {
        Arc::new(UInt64Array::from_iter_values(
            reports.iter().map(|r| f(r) as u64),
        )) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                reports.iter().map(|r| r.source.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                reports.iter().map(|r| r.table.as_str()),
            )),
            col_u(&|r| r.rows_read),
            col_u(&|r| r.rows_added),
            col_u(&|r| r.rows_already_present),
            col_u(&|r| r.rows_quarantined),
            Arc::new(UInt64Array::from(
                reports.iter().map(|r| r.table_version).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                reports
                    .iter()
                    .map(|r| r.already_ingested)
                    .collect::<Vec<_>>(),
            )),
            col_u(&|r| r.key_lookups),
        ],
    )?;
    printer.batches(schema, &[batch])?;
    for r in reports.iter().filter(|r| r.rows_quarantined > 0) {
        printer.note(format!(
            "{}: {} record(s) quarantined; first:",
            r.source, r.rows_quarantined
        ));
        for (loc, reason) in &r.quarantine_sample {
            printer.note(format!("  {loc}: {reason}"));
        }
        printer.note("  (all of them: elite sql \"SELECT location, reason, raw FROM quarantine\")");
    }
    Ok(())
}
