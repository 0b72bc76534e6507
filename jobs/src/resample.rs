//! `elite bars resample`: aggregate bars of one timeframe into another along a session calendar
//! and land them in `bars` (source `resample:<from>`), idempotently. Buckets still open at the
//! clock's now are left for a later run (see `elite_pipelines::resample` for the rules).

use std::sync::Arc;

use elite_pipelines::calendar::Calendar;
use elite_pipelines::resample::resample;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Bar, BarsBuilder, Clock, Symbol, Timeframe, tables};
use serde::Serialize;

use crate::bars::{BarQuery, read_bars};
use crate::features::series;

/// What a resample did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResampleReport {
    pub from: String,
    pub to: String,
    pub calendar: String,
    pub bars_version: Option<u64>,
    pub series: usize,
    pub bars_in: usize,
    pub bars_out: usize,
    pub outside_sessions: u64,
    pub rows_added: usize,
}

pub async fn resample_bars(
    wh: &Warehouse,
    query: &BarQuery,
    to: Timeframe,
    cal: &Calendar,
    clock: Arc<dyn Clock>,
) -> crate::Result<ResampleReport> {
    let from = query
        .timeframe
        .ok_or_else(|| crate::Error::Internal("resample needs the input timeframe".into()))?;
    let (bars, version) = read_bars(wh, query).await?;
    let mut report = ResampleReport {
        from: from.to_string(),
        to: to.to_string(),
        calendar: cal.name.clone(),
        bars_version: version,
        bars_in: bars.len(),
        ..Default::default()
    };
    let now = clock.now();
    let mut out = BarsBuilder::default();
    for ((sym, _), s) in series(bars) {
        report.series += 1;
        let timed: Vec<_> = s.iter().map(|b| b.timed()).collect();
        let (bars, r) = resample(cal, to, &timed, now)?;
        report.outside_sessions += r.outside();
        let symbol = Symbol::new(sym.as_str())?;
        for b in bars {
            out.push(&Bar {
                symbol: symbol.clone(),
                timeframe: to,
                ts_event: b.ts_event,
                ts_recv: b.ts_recv,
                open: b.bar.open,
                high: b.bar.high,
                low: b.bar.low,
                close: b.bar.close,
                volume: Some(b.bar.volume),
                source: format!("resample:{from}"),
            });
            report.bars_out += 1;
        }
    }
    if !out.is_empty() {
        let meta =
            CommitMeta::new(format!("resample:{from}->{to}")).with("calendar", cal.name.clone());
        report.rows_added = wh
            .insert_new(&tables::BARS, vec![out.finish()?], meta)
            .await?
            .rows_added;
    }
    Ok(report)
}
