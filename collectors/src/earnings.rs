//! Earnings from Yahoo's quoteSummary: `calendarEvents` (the next announcement's date window,
//! EPS and revenue estimates, the last earnings call) and `earningsHistory` (the last four
//! quarters: EPS actual, estimate, surprise).
//!
//! The payloads do not name the symbol (the caller does) nor when each past result was announced,
//! except `earningsCallDate`, the last call: it times the most recent reported quarter. The ingest
//! job turns that and the fetch time into `ts_recv`.

use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde_json::Value;

use crate::{Error, Result};

/// One earnings record: an announcement scheduled, or a quarter reported.
#[derive(Clone, Debug, PartialEq)]
pub struct EarningsRow {
    /// `scheduled` or `reported`.
    pub kind: &'static str,
    /// End of the fiscal quarter (reported).
    pub period_end: Option<Timestamp>,
    /// Announcement window (scheduled: Yahoo's `earningsDate` [start, end]; reported: the
    /// last earnings call, when it is this quarter's).
    pub announce_start: Option<Timestamp>,
    pub announce_end: Option<Timestamp>,
    /// Yahoo marks a scheduled date as an estimate until the company confirms it.
    pub date_is_estimate: Option<bool>,
    pub eps_estimate: Option<f64>,
    pub eps_actual: Option<f64>,
    pub eps_surprise: Option<f64>,
    pub surprise_pct: Option<f64>,
    pub revenue_estimate: Option<f64>,
    pub location: String,
}

/// What an earnings payload decoded to.
#[derive(Debug, Default)]
pub struct DecodedEarnings {
    pub rows: Vec<EarningsRow>,
    /// The last earnings call (`calendarEvents.earnings.earningsCallDate`).
    pub last_call: Option<Timestamp>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

fn num(v: &Value) -> Option<f64> {
    v.get("raw").unwrap_or(v).as_f64().filter(|x| x.is_finite())
}

fn secs(v: &Value) -> Option<Timestamp> {
    v.get("raw")
        .unwrap_or(v)
        .as_i64()
        .and_then(Timestamp::from_secs)
}

fn result<'a>(v: &'a Value, module: &str, source: &str) -> Result<&'a Value> {
    let qs = v.get("quoteSummary").ok_or_else(|| Error::Input {
        location: source.to_string(),
        reason: "not a quoteSummary response".into(),
    })?;
    if let Some(e) = qs.get("error").filter(|e| !e.is_null()) {
        return Err(Error::Api {
            source_name: "yahoo",
            status: None,
            message: e.to_string(),
        });
    }
    qs.pointer("/result/0")
        .and_then(|r| r.get(module))
        .ok_or_else(|| Error::Input {
            location: source.to_string(),
            reason: format!("no `{module}` module in the response"),
        })
}

/// Decode a quoteSummary response with `calendarEvents` and/or `earningsHistory`.
pub fn decode_earnings(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedEarnings> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let now = clock.now();
    let mut out = DecodedEarnings::default();
    let cal = result(&v, "calendarEvents", source).ok();
    let hist = result(&v, "earningsHistory", source).ok();
    if cal.is_none() && hist.is_none() {
        return Err(result(&v, "calendarEvents or earningsHistory", source)
            .err()
            .unwrap_or(Error::Input {
                location: source.to_string(),
                reason: "no calendarEvents or earningsHistory".into(),
            }));
    }
    if let Some(e) = cal.and_then(|c| c.get("earnings")) {
        out.rows_read += 1;
        out.last_call = e
            .get("earningsCallDate")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().filter_map(secs).max());
        let dates: Vec<Timestamp> = e
            .get("earningsDate")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(secs).collect())
            .unwrap_or_default();
        match dates.first() {
            Some(&start) => out.rows.push(EarningsRow {
                kind: "scheduled",
                period_end: None,
                announce_start: Some(start),
                announce_end: dates.last().copied(),
                date_is_estimate: e.get("isEarningsDateEstimate").and_then(Value::as_bool),
                eps_estimate: e.get("earningsAverage").and_then(num),
                eps_actual: None,
                eps_surprise: None,
                surprise_pct: None,
                revenue_estimate: e.get("revenueAverage").and_then(num),
                location: "calendarEvents.earnings".into(),
            }),
            None => out.quarantine.push(QuarantineRecord::new(
                source,
                "earnings",
                "calendarEvents.earnings",
                "earningsDate: missing or empty",
                e.to_string(),
                "json",
                now,
            )),
        }
    }
    let history = hist
        .and_then(|h| h.get("history"))
        .and_then(Value::as_array);
    for (i, q) in history.into_iter().flatten().enumerate() {
        out.rows_read += 1;
        let location = format!("earningsHistory.history[{i}]");
        let Some(period_end) = q.get("quarter").and_then(secs) else {
            out.quarantine.push(QuarantineRecord::new(
                source,
                "earnings",
                location,
                "quarter: missing or not epoch seconds",
                q.to_string(),
                "json",
                now,
            ));
            continue;
        };
        out.rows.push(EarningsRow {
            kind: "reported",
            period_end: Some(period_end),
            announce_start: None,
            announce_end: None,
            date_is_estimate: None,
            eps_estimate: q.get("epsEstimate").and_then(num),
            eps_actual: q.get("epsActual").and_then(num),
            eps_surprise: q.get("epsDifference").and_then(num),
            surprise_pct: q.get("surprisePercent").and_then(num),
            revenue_estimate: None,
            location,
        });
    }
    Ok(out)
}
