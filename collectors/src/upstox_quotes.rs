//! Upstox's full market quotes (`GET /v2/market-quote/quotes`, `{"status": "success", "data":
//! {"NSE_EQ:NHPC": {…}}}`) into the day's **circuit limits** per instrument key: the exchange's
//! lower and upper price band for the trading day the quote belongs to (its `timestamp`, IST),
//! which the trade-runner's `[contracts]` enforces instead of a configured band.

use chrono::TimeZone;
use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde_json::Value;

use crate::{Error, Result};

/// One instrument's limits for one trading day.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitLimit {
    /// The instrument key (`NSE_EQ|INE848E01016`).
    pub symbol: String,
    /// The trading symbol (`NHPC`).
    pub trading_symbol: Option<String>,
    /// 00:00 IST of the trading day the limits hold for.
    pub day: Timestamp,
    /// The quote's time, when it gives one.
    pub quoted: Option<Timestamp>,
    pub lower: f64,
    pub upper: f64,
    pub last_price: Option<f64>,
}

/// What a quotes response decoded to.
#[derive(Debug, Default)]
pub struct DecodedLimits {
    pub rows: Vec<CircuitLimit>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

/// 00:00 IST of the day `t` falls on in India.
pub fn ist_day(t: Timestamp) -> Option<Timestamp> {
    let ist = chrono_tz::Asia::Kolkata;
    let local = ist.timestamp_nanos(t.as_nanos()).date_naive();
    let start = ist
        .from_local_datetime(&local.and_time(chrono::NaiveTime::MIN))
        .earliest()?;
    Timestamp::from_datetime(&start)
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64).filter(|x| x.is_finite())
}

/// Decode a full-market-quote response; `fetched` dates a quote without a timestamp.
pub fn decode_circuit_limits(
    body: &[u8],
    source: &str,
    fetched: Timestamp,
    clock: &dyn Clock,
) -> Result<DecodedLimits> {
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let data = v
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Input {
            location: source.to_string(),
            reason: "no `data` object of quotes (GET /v2/market-quote/quotes)".into(),
        })?;
    let now = clock.now();
    let mut out = DecodedLimits::default();
    for (name, q) in data {
        out.rows_read += 1;
        let location = format!("data[{name:?}]");
        let bad = |why: String| {
            QuarantineRecord::new(
                source,
                "circuit_limits",
                location.clone(),
                why,
                q.to_string(),
                "json",
                now,
            )
        };
        let Some(key) = q
            .get("instrument_token")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            out.quarantine.push(bad("instrument_token: missing".into()));
            continue;
        };
        let (lower, upper) = (num(q, "lower_circuit_limit"), num(q, "upper_circuit_limit"));
        let (Some(lower), Some(upper)) = (lower, upper) else {
            out.quarantine.push(bad(format!(
                "lower_circuit_limit/upper_circuit_limit: missing or not numbers ({:?}, {:?})",
                q.get("lower_circuit_limit"),
                q.get("upper_circuit_limit")
            )));
            continue;
        };
        if !(lower > 0.0 && upper > lower) {
            out.quarantine.push(bad(format!(
                "lower_circuit_limit {lower} / upper_circuit_limit {upper}: not 0 < lower < upper"
            )));
            continue;
        }
        let quoted = q
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
            .and_then(|t| Timestamp::from_datetime(&t));
        let Some(day) = ist_day(quoted.unwrap_or(fetched)) else {
            out.quarantine.push(bad("timestamp: out of range".into()));
            continue;
        };
        out.rows.push(CircuitLimit {
            symbol: key.to_string(),
            trading_symbol: q
                .get("symbol")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            day,
            quoted,
            lower,
            upper,
            last_price: num(q, "last_price"),
        });
    }
    Ok(out)
}
