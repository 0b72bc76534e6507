//! `elite demo`: real sample data in, warehouse history and SQL answers out.
//!
//! The sample files are compiled into the binary (they live in `collectors/fixtures/`, with
//! their provenance in `collectors/fixtures/SOURCES.md`), so the demo runs from any directory.
//! Running it twice adds nothing the second time: every ingest is exactly-once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use elite_collectors::bars_csv::BarsOptions;
use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
use elite_sql::SqlEngine;
use elite_warehouse::{Symbol, SystemClock, Timeframe};

use crate::args::DemoArgs;
use crate::printer::Printer;
use crate::settings::Settings;

macro_rules! fixture {
    ($p:literal) => {
        (
            $p,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../collectors/fixtures/",
                $p
            )) as &[u8],
        )
    };
}

/// (path under fixtures/, bytes)
const FILES: &[(&str, &[u8])] = &[
    fixture!("bars/GOOG_1d.csv"),
    fixture!("bars/GOOG_1d_malformed.csv"),
    fixture!("bars/SP500_NOV2019_IDayRVol.csv"),
    fixture!("bars/2006-min-005.txt"),
    fixture!("bars/XRP_ETH-1m.csv"),
    fixture!("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json"),
    fixture!("upstox/rest/historical_candle_v3_minutes_1.json"),
    fixture!("upstox/vectors/frame_00.bin"),
    fixture!("upstox/vectors/frame_01.bin"),
    fixture!("upstox/vectors/frame_02.bin"),
    fixture!("upstox/vectors/frame_03.bin"),
    fixture!("upstox/vectors/frame_04.bin"),
    fixture!("upstox/vectors/frame_05.bin"),
    fixture!("upstox/vectors/frame_06.bin"),
    fixture!("upstox/vectors/frame_07.bin"),
    fixture!("upstox/vectors/frame_08.bin"),
    fixture!("upstox/vectors/frame_09.bin"),
    fixture!("upstox/vectors/frame_10.bin"),
    fixture!("upstox/vectors/frame_11.bin"),
    fixture!("upstox/vectors/frame_12.bin"),
    fixture!("upstox/vectors/frame_13.bin"),
    fixture!("upstox/vectors/frame_14.bin"),
    fixture!("upstox/vectors/frame_15.bin"),
    fixture!("upstox/vectors/frame_16.bin"),
    fixture!("upstox/vectors/frame_17.bin"),
    fixture!("upstox/vectors/frame_18.bin"),
    fixture!("upstox/vectors/frame_19.bin"),
];

/// CSV files: (file, symbol, timeframe, time zone).
const CSVS: &[(&str, &str, &str, &str)] = &[
    ("bars/GOOG_1d.csv", "GOOG", "1d", "UTC"),
    ("bars/GOOG_1d_malformed.csv", "GOOG", "1d", "UTC"),
    (
        "bars/SP500_NOV2019_IDayRVol.csv",
        "SPX",
        "1m",
        "America/New_York",
    ),
    ("bars/2006-min-005.txt", "STOXX50E", "5m", "Europe/Berlin"),
    ("bars/XRP_ETH-1m.csv", "XRP-ETH", "1m", "UTC"),
];

const QUESTIONS: &[(&str, &str)] = &[
    (
        "What bars does the warehouse hold? (view bar_coverage)",
        "SELECT * FROM bar_coverage ORDER BY symbol, timeframe",
    ),
    (
        "GOOG by year: range, average close, volume",
        "SELECT year, min(low) AS low, max(high) AS high, round(avg(close), 2) AS avg_close, sum(volume) AS volume, count(*) AS days \
         FROM bars WHERE symbol = 'GOOG' AND timeframe = '1d' GROUP BY year ORDER BY year",
    ),
    (
        "S&P 500 daily VWAP from 1-minute bars (view daily_vwap)",
        "SELECT symbol, day, round(vwap, 2) AS vwap, volume, bars FROM daily_vwap WHERE symbol = 'SPX' ORDER BY day",
    ),
    (
        "Last Upstox tick per instrument (ts in UTC; IST = UTC+05:30)",
        "SELECT symbol, price, size, volume, open_interest, iv, ts_event FROM ( \
           SELECT *, row_number() OVER (PARTITION BY symbol ORDER BY ts_event DESC, ts_recv DESC) AS rn FROM ticks) \
         WHERE rn = 1 ORDER BY symbol",
    ),
    (
        "Best bid/ask of the last depth snapshot per instrument",
        "SELECT symbol, bid_price, bid_qty, ask_price, ask_qty, ts_recv FROM ( \
           SELECT *, row_number() OVER (PARTITION BY symbol ORDER BY ts_recv DESC) AS rn FROM quotes WHERE level = 0) \
         WHERE rn = 1 ORDER BY symbol",
    ),
    (
        "What was refused, and why? (view quarantine_summary)",
        "SELECT * FROM quarantine_summary ORDER BY source, reason_kind",
    ),
    (
        "Time travel: rows of bars at version 0 and now",
        "SELECT (SELECT count(*) FROM \"bars@v0\") AS rows_at_v0, (SELECT count(*) FROM bars) AS rows_now",
    ),
];

fn write_fixtures(dir: &Path) -> Result<()> {
    for (name, bytes) in FILES {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

pub async fn run(_args: DemoArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let dir: PathBuf = std::env::temp_dir().join(format!("elite-demo-{}", std::process::id()));
    write_fixtures(&dir)?;
    let result = demo(&dir, settings, printer).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn demo(dir: &Path, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    printer.note(format!("Elite demo: warehouse at {}", wh.root()));
    let ingestor = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    let reporter = printer.reporter();

    printer.heading(
        "Ingest real bars (CSV), Yahoo and Upstox responses, and 20 recorded Upstox feed frames",
    );
    let mut reports = Vec::new();
    for (file, symbol, tf, tz) in CSVS {
        let mut o = BarsOptions::new("", Timeframe::parse(tf)?);
        o.symbol = Some(Symbol::new(*symbol)?);
        o.tz = tz.parse().map_err(|_| anyhow::anyhow!("bad zone {tz}"))?;
        reports.push(
            ingestor
                .ingest_file(
                    &FileIngest::new(dir.join(file), FileFormat::Csv, o),
                    &reporter,
                )
                .await?,
        );
    }
    let aapl = std::fs::read(dir.join("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json"))?;
    reports.push(
        ingestor
            .ingest_yahoo_body("yahoo-file:chart_AAPL_1d", &aapl, &reporter)
            .await?,
    );
    let candles = std::fs::read(dir.join("upstox/rest/historical_candle_v3_minutes_1.json"))?;
    let key = Symbol::new("NSE_EQ|INE002A01018")?;
    reports.push(
        ingestor
            .ingest_upstox_body(&key, Timeframe::Minutes(1), &candles, &reporter)
            .await?,
    );
    super::ingest::print_reports(&reports, printer)?;
    let feed = ingestor
        .replay_feed_dir(&dir.join("upstox/vectors"), 10, &reporter)
        .await?;
    printer.note(format!(
        "upstox feed: {} frames -> {} ticks, {} depth rows added, {} quarantined",
        feed.frames, feed.ticks_added, feed.quotes_added, feed.quarantined
    ));

    printer.heading("Exactly once: ingesting GOOG_1d.csv again adds nothing");
    let mut o = BarsOptions::new("", Timeframe::Days(1));
    o.symbol = Some(Symbol::new("GOOG")?);
    let again = ingestor
        .ingest_file(
            &FileIngest::new(dir.join("bars/GOOG_1d.csv"), FileFormat::Csv, o),
            &reporter,
        )
        .await?;
    super::ingest::print_reports(&[again], printer)?;

    printer.heading("History of table bars");
    super::warehouse::print_history(&wh.history("bars", Some(20)).await?, printer)?;

    let engine = SqlEngine::new(wh).await?;
    for (question, sql) in QUESTIONS {
        printer.heading(question);
        printer.note(format!("elite sql \"{sql}\""));
        super::sql::query(&engine, sql, printer).await?;
    }
    printer.note("\nNext: elite sql (interactive), elite warehouse tables, elite --help");
    Ok(())
}
