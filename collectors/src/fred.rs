//! Macro series: FRED's API (`/fred/series/observations?…&file_type=json`, with vintages) and CSV
//! exports (`fredgraph.csv`: `observation_date,SERIES[,SERIES…]`), or any wide CSV whose first
//! column is a date.
//!
//! An observation is (series, period start date, value) plus, from the API, its vintage: the
//! `realtime_start` date from which FRED published that value. The ingest job turns the vintage
//! into `ts_recv`, so a revised number is never seen before it was published. A missing value
//! (`.` in the API, an empty cell in an export: not published yet, or no observation that day)
//! and an unreadable one are quarantined with the series and the line.

use chrono::NaiveDate;
use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde::Deserialize;

use crate::timeparse::TimeParser;
use crate::{Error, Result};

/// One observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub series: String,
    /// Start of the period observed (UTC midnight of the date).
    pub ts_event: Timestamp,
    pub value: f64,
    /// The first date FRED published this value (API only).
    pub vintage: Option<NaiveDate>,
}

/// What a macro payload decoded to.
#[derive(Debug, Default)]
pub struct DecodedMacro {
    pub observations: Vec<Observation>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

fn refuse(
    source: &str,
    location: String,
    reason: String,
    raw: String,
    now: Timestamp,
) -> QuarantineRecord {
    QuarantineRecord::new(source, "macro_series", location, reason, raw, "text", now)
}

/// A wide CSV: the first column is the date (`observation_date`, `DATE`, `Date`, in any layout
/// the CSV bar reader knows, e.g. `2000-12-01` or `1/31/1957`), every other column a series named
/// by its header. One record per (row, series).
pub fn decode_fred_csv(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedMacro> {
    let now = clock.now();
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| Error::Input {
            location: format!("{source}: header"),
            reason: e.to_string(),
        })?
        .clone();
    if headers.len() < 2 {
        return Err(Error::Input {
            location: format!("{source}: header"),
            reason: "needs a date column and at least one series column".into(),
        });
    }
    let series: Vec<String> = headers
        .iter()
        .skip(1)
        .map(|h| h.trim().to_string())
        .collect();
    let dates = TimeParser::new(chrono_tz::UTC, None);
    let mut out = DecodedMacro::default();
    for (i, rec) in rdr.records().enumerate() {
        let line = format!("line {}", i + 2);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.rows_read += 1;
                out.quarantine.push(refuse(
                    source,
                    line,
                    format!("unreadable record: {e}"),
                    String::new(),
                    now,
                ));
                continue;
            }
        };
        let raw = rec.iter().collect::<Vec<_>>().join(",");
        let date = match dates.parse(rec.get(0).unwrap_or("")) {
            Ok(d) => d,
            Err(e) => {
                out.rows_read += series.len();
                out.quarantine.push(refuse(
                    source,
                    line,
                    format!("{}: {e}", &headers[0]),
                    raw,
                    now,
                ));
                continue;
            }
        };
        for (k, name) in series.iter().enumerate() {
            out.rows_read += 1;
            let cell = rec.get(k + 1).unwrap_or("").trim();
            match parse_value(cell) {
                Ok(value) => out.observations.push(Observation {
                    series: name.clone(),
                    ts_event: date,
                    value,
                    vintage: None,
                }),
                Err(why) => out.quarantine.push(refuse(
                    source,
                    format!("{line}, column {}", k + 2),
                    format!("{name}: {why}"),
                    raw.clone(),
                    now,
                )),
            }
        }
    }
    Ok(out)
}

fn parse_value(cell: &str) -> std::result::Result<f64, String> {
    match cell {
        "" => Err("empty (no value published in this file)".into()),
        "." => Err("'.' (FRED: no value for this date)".into()),
        c => match c.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("{c:?} is not a number")),
        },
    }
}

#[derive(Deserialize)]
struct ApiBody {
    observations: Option<Vec<serde_json::Value>>,
    error_message: Option<String>,
}

/// The API's JSON (`series/observations`, any `realtime_start`/`realtime_end`, e.g. all vintages
/// with `realtime_start=1776-07-04&realtime_end=9999-12-31`) for one series.
pub fn decode_fred_json(
    bytes: &[u8],
    series: &str,
    source: &str,
    clock: &dyn Clock,
) -> Result<DecodedMacro> {
    let now = clock.now();
    let body: ApiBody = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not a FRED observations response: {e}"),
    })?;
    let Some(obs) = body.observations else {
        return Err(Error::Api {
            source_name: "fred",
            status: None,
            message: body
                .error_message
                .unwrap_or_else(|| "no observations in the response".into()),
        });
    };
    let mut out = DecodedMacro::default();
    for (i, o) in obs.into_iter().enumerate() {
        out.rows_read += 1;
        let location = format!("observations[{i}]");
        let raw = o.to_string();
        let field = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::trim);
        let date = |k: &str| {
            let s = field(k).ok_or_else(|| format!("{k}: missing"))?;
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("{k}: {s:?} is not YYYY-MM-DD"))
        };
        let parsed = (|| {
            let d = date("date")?;
            let vintage = date("realtime_start")?;
            let value =
                parse_value(field("value").unwrap_or("")).map_err(|e| format!("value: {e}"))?;
            let ts = Timestamp::from_datetime(&d.and_time(chrono::NaiveTime::MIN).and_utc())
                .ok_or_else(|| format!("date: {d} out of range"))?;
            Ok::<_, String>((ts, value, vintage))
        })();
        match parsed {
            Ok((ts_event, value, vintage)) => out.observations.push(Observation {
                series: series.to_string(),
                ts_event,
                value,
                vintage: Some(vintage),
            }),
            Err(why) => out.quarantine.push(refuse(source, location, why, raw, now)),
        }
    }
    Ok(out)
}
