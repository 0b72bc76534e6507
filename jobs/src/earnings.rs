//! Earnings (Yahoo quoteSummary `calendarEvents`, `earningsHistory`) into `earnings`.
//!
//! `ts_recv` is never earlier than Elite could have had the number: a scheduled announcement is
//! known when the response was fetched (`--fetched-at` for a saved response, else now); a
//! reported quarter is known at its earnings call when the payload gives it (the most recent
//! quarter), else `period end + --report-lag-days` when the user states the lag, else at the
//! fetch. The key is (symbol, kind, ts_event): the first knowledge of a quarter or of an
//! announcement date is kept; a moved announcement date is a new row.

use std::time::Duration;

use elite_collectors::Decoded;
use elite_collectors::earnings::{self, DecodedEarnings};
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};

use crate::Result;
use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;

/// How an earnings payload is read.
#[derive(Clone, Debug)]
pub struct EarningsOptions {
    pub symbol: String,
    /// When a saved response was fetched (default: now).
    pub fetched_at: Option<Timestamp>,
    /// Reported quarters were announced this long after the quarter ended (an assumption the
    /// user states for backfills).
    pub report_lag: Option<Duration>,
}

impl Ingestor {
    /// Land one quoteSummary response for `opts.symbol`.
    pub async fn ingest_earnings_body(
        &self,
        source: &str,
        body: &[u8],
        opts: &EarningsOptions,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!(
            "{}|{:?}|{:?}",
            opts.symbol, opts.fetched_at, opts.report_lag
        );
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::EARNINGS.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let known = Timestamp::from_nanos(
            opts.fetched_at
                .unwrap_or(now)
                .as_nanos()
                .min(now.as_nanos()),
        );
        let DecodedEarnings {
            rows,
            last_call,
            quarantine,
            rows_read,
        } = earnings::decode_earnings(body, source, self.clock())?;
        let latest_period = rows.iter().filter_map(|r| r.period_end).max();
        let symbol = opts.symbol.trim().to_uppercase();
        let mut b = RowsBuilder::new(&tables::EARNINGS);
        for r in rows {
            let (ts_event, ts_recv, announce_start) = match r.period_end {
                None => (r.announce_start.unwrap_or(known), known, r.announce_start),
                Some(end) => {
                    let call = last_call.filter(|c| {
                        Some(end) == latest_period && *c > end && c.as_nanos() <= known.as_nanos()
                    });
                    let recv = match (call, opts.report_lag) {
                        (Some(c), _) => c,
                        (None, Some(lag)) => Timestamp::from_nanos(
                            end.as_nanos()
                                .saturating_add(i64::try_from(lag.as_nanos()).unwrap_or(i64::MAX))
                                .min(known.as_nanos()),
                        ),
                        (None, None) => known,
                    };
                    (end, recv, call)
                }
            };
            b.row()
                .str(&symbol)
                .str(r.kind)
                .ts(ts_event)
                .ts(ts_recv)
                .opt_ts(r.period_end)
                .opt_ts(announce_start)
                .opt_ts(r.announce_end)
                .opt_bool(r.date_is_estimate)
                .opt_f64(r.eps_estimate)
                .opt_f64(r.eps_actual)
                .opt_f64(r.eps_surprise)
                .opt_f64(r.surprise_pct)
                .opt_f64(r.revenue_estimate)
                .str(source)
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(source, &content_hash, &tables::EARNINGS, decoded, reporter)
            .await
    }
}

/// Each symbol's earnings records as the earnings features read them.
pub async fn read_earnings_events(
    wh: &elite_store::Warehouse,
    symbols: &[String],
) -> Result<std::collections::HashMap<String, Vec<elite_pipelines::earnings::EarningsEvent>>> {
    use arrow::array::{Array, AsArray};
    use elite_pipelines::earnings::EarningsEvent;
    let filter = crate::alt::symbols_filter(symbols);
    let mut out: std::collections::HashMap<String, Vec<EarningsEvent>> = Default::default();
    for b in wh
        .read(tables::EARNINGS.name, elite_store::At::Latest, Some(filter))
        .await?
    {
        let (Some(sym), Some(kind), Some(te), Some(tr), Some(sp)) = (
            crate::alt::strings(&b, "symbol"),
            crate::alt::strings(&b, "kind"),
            crate::alt::times(&b, "ts_event"),
            crate::alt::times(&b, "ts_recv"),
            b.column_by_name("surprise_pct")
                .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone()),
        ) else {
            return Err(crate::Error::Internal(
                "earnings: a column is missing".into(),
            ));
        };
        for i in 0..b.num_rows() {
            let ts = |us: i64| Timestamp::from_nanos(us.saturating_mul(1000));
            let e = match kind.value(i) {
                "scheduled" => EarningsEvent::Scheduled {
                    ts_recv: ts(tr.value(i)),
                    at: ts(te.value(i)),
                },
                _ if sp.is_null(i) => continue,
                _ => EarningsEvent::Reported {
                    ts_recv: ts(tr.value(i)),
                    surprise: sp.value(i),
                },
            };
            out.entry(sym.value(i).to_string()).or_default().push(e);
        }
    }
    Ok(out)
}
