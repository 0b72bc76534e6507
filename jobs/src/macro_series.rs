//! Macro series (FRED API with vintages, FRED CSV exports, any wide dated CSV) into
//! `macro_series`, point in time.
//!
//! `ts_event` is the start of the period observed; `ts_recv` is when the value could be known:
//! - from the API, the vintage: the end of its `realtime_start` day, New York time (FRED dates
//!   its vintages by the US release day; the end of that day never precedes the release);
//! - from a file without vintages, `ts_event + --release-lag-days` when the user states the
//!   series' publication lag (for backtests), else the time of ingest; a later file that changes
//!   a known value is a revision learned at the time of that ingest.
//!
//! Only new information lands: an observation whose value equals the value already known for
//! that series and period (as of its `ts_recv`) adds no row, so re-downloading an export adds
//! nothing and a revision lands as a new row with its own `ts_recv`.

use std::collections::HashMap;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use chrono::TimeZone;
use elite_collectors::Decoded;
use elite_collectors::fred::{self, Observation};
use elite_store::{At, Warehouse};
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};

use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;
use crate::{Error, Result};

/// How a macro payload is read.
#[derive(Clone, Debug)]
pub enum MacroFormat {
    /// A wide CSV (FRED's export, or any file whose first column is a date).
    Csv,
    /// FRED API `series/observations` JSON of this series.
    FredJson { series: String },
}

#[derive(Clone, Debug)]
pub struct MacroOptions {
    pub format: MacroFormat,
    /// For files without vintages: each value was published this long after its period began.
    pub release_lag: Option<Duration>,
}

/// End of a vintage day in New York, in UTC.
fn vintage_recv(d: chrono::NaiveDate) -> Option<Timestamp> {
    let next = d.succ_opt()?.and_time(chrono::NaiveTime::MIN);
    let ny = chrono_tz::America::New_York
        .from_local_datetime(&next)
        .earliest()?;
    Timestamp::from_datetime(&ny)
}

/// (series, ts_event) → the values known, as (ts_recv, value), ascending.
async fn known(
    wh: &Warehouse,
    series: &[String],
) -> Result<HashMap<(String, i64), Vec<(i64, f64)>>> {
    use elite_store::datafusion::prelude::{col, lit};
    let filter = col("series").in_list(series.iter().map(|s| lit(s.as_str())).collect(), false);
    let mut out: HashMap<(String, i64), Vec<(i64, f64)>> = HashMap::new();
    for b in wh
        .read(tables::MACRO_SERIES.name, At::Latest, Some(filter))
        .await?
    {
        let cols = (
            b.column_by_name("series")
                .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok()),
            b.column_by_name("ts_event"),
            b.column_by_name("ts_recv"),
            b.column_by_name("value"),
        );
        let (Some(s), Some(te), Some(tr), Some(v)) = cols else {
            return Err(Error::Internal("macro_series: a column is missing".into()));
        };
        let s = s.as_string::<i32>();
        let (te, tr) = (
            te.as_primitive::<TimestampMicrosecondType>(),
            tr.as_primitive::<TimestampMicrosecondType>(),
        );
        let v = v.as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            out.entry((s.value(i).to_string(), te.value(i)))
                .or_default()
                .push((tr.value(i), v.value(i)));
        }
    }
    out.values_mut().for_each(|v| v.sort_by_key(|x| x.0));
    Ok(out)
}

impl Ingestor {
    /// Land one macro payload (a file's bytes or an API response).
    pub async fn ingest_macro_body(
        &self,
        source: &str,
        body: &[u8],
        opts: &MacroOptions,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("{:?}|{:?}", opts.format, opts.release_lag);
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::MACRO_SERIES.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let decoded = match &opts.format {
            MacroFormat::Csv => fred::decode_fred_csv(body, source, self.clock())?,
            MacroFormat::FredJson { series } => {
                fred::decode_fred_json(body, series, source, self.clock())?
            }
        };
        let recv = |o: &Observation| -> Option<Timestamp> {
            let t = match (o.vintage, opts.release_lag) {
                (Some(d), _) => vintage_recv(d)?,
                (None, Some(lag)) => o.ts_event.add_nanos(i64::try_from(lag.as_nanos()).ok()?),
                (None, None) => now,
            };
            Some(Timestamp::from_nanos(t.as_nanos().min(now.as_nanos())))
        };
        let mut series: Vec<String> = decoded
            .observations
            .iter()
            .map(|o| o.series.clone())
            .collect();
        series.sort();
        series.dedup();
        let mut known = known(self.warehouse(), &series).await?;
        let mut quarantine = decoded.quarantine;
        let mut obs: Vec<(Observation, Timestamp)> = decoded
            .observations
            .into_iter()
            .filter_map(|o| recv(&o).map(|r| (o, r)))
            .collect();
        obs.sort_by(|a, b| (&a.0.series, a.0.ts_event, a.1).cmp(&(&b.0.series, b.0.ts_event, b.1)));
        let mut b = RowsBuilder::new(&tables::MACRO_SERIES);
        let mut unchanged = 0;
        for (o, mut r) in obs {
            let hist = known
                .entry((o.series.clone(), o.ts_event.as_micros()))
                .or_default();
            // A value that differs from one already known, from a file without vintages, is a
            // revision Elite learned of now: the stated release lag was the first release's.
            if o.vintage.is_none() && hist.last().is_some_and(|(_, v)| *v != o.value) {
                r = now;
            }
            let r_us = r.as_micros();
            if let Some(&(_, v)) = hist.iter().find(|(t, _)| *t == r_us) {
                if v == o.value {
                    unchanged += 1;
                } else {
                    quarantine.push(elite_warehouse::QuarantineRecord::new(
                        source,
                        tables::MACRO_SERIES.name,
                        format!("{} {}", o.series, o.ts_event),
                        format!(
                            "value: {} conflicts with {v} already known from the same time ({r})",
                            o.value
                        ),
                        o.value.to_string(),
                        "text",
                        now,
                    ));
                }
                continue;
            }
            let before = hist.iter().rev().find(|(t, _)| *t <= r_us).map(|(_, v)| *v);
            if before == Some(o.value) {
                unchanged += 1;
                continue;
            }
            let at = hist.partition_point(|(t, _)| *t <= r_us);
            hist.insert(at, (r_us, o.value));
            let vintage = o.vintage.map(|d| d.to_string());
            b.row()
                .str(&o.series)
                .ts(o.ts_event)
                .ts(r)
                .f64(o.value)
                .opt_str(vintage.as_deref())
                .str(source)
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read: decoded.rows_read,
        };
        let mut report = self
            .land(
                source,
                &content_hash,
                &tables::MACRO_SERIES,
                decoded,
                reporter,
            )
            .await?;
        report.rows_already_present += unchanged;
        Ok(report)
    }
}
