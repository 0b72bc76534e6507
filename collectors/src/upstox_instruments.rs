//! Upstox's instrument master: the BOD JSON file (a JSON array of instruments, e.g.
//! `complete.json.gz`, `NSE.json.gz`) and the option-contract API's response
//! (`{"status": "success", "data": [instrument, …]}`), into contract rules (lot size, tick size,
//! freeze quantity, expiry, strike) per `instrument_key`.
//!
//! Units: the JSON gives `tick_size` in paise — the documented option-contract sample has
//! `"tick_size": 5` for NIFTY options whose tick the CSV master documents as `0.05` (rupees) —
//! so rows carry `tick_size / 100` rupees. `expiry` is a date (`"2024-02-15"`, the API) or epoch
//! milliseconds (the BOD file); either lands as a timestamp.

use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde_json::Value;

use crate::{Error, Result};

/// One instrument's contract rules.
#[derive(Clone, Debug, PartialEq)]
pub struct ContractRow {
    /// The Upstox instrument key (`NSE_EQ|INE002A01018`, `NSE_FO|37590`): Elite's symbol for
    /// Upstox data.
    pub symbol: String,
    pub trading_symbol: Option<String>,
    pub name: Option<String>,
    pub exchange: Option<String>,
    pub segment: Option<String>,
    pub instrument_type: Option<String>,
    pub isin: Option<String>,
    pub lot_size: i64,
    /// Rupees.
    pub tick_size: f64,
    pub freeze_quantity: Option<f64>,
    pub expiry: Option<Timestamp>,
    pub strike: Option<f64>,
    pub underlying_key: Option<String>,
    pub weekly: Option<bool>,
}

/// What an instrument master decoded to.
#[derive(Debug, Default)]
pub struct DecodedContracts {
    pub rows: Vec<ContractRow>,
    pub quarantine: Vec<QuarantineRecord>,
    /// Instruments read (indices aside).
    pub rows_read: usize,
    /// Indices (`*_INDEX` segments): not tradable, no lot or tick; not read.
    pub indices: usize,
}

fn is_index(v: &Value) -> bool {
    text(v, "segment").is_some_and(|s| s.ends_with("_INDEX"))
        || text(v, "instrument_type").as_deref() == Some("INDEX")
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn expiry(v: &Value) -> std::result::Result<Option<Timestamp>, String> {
    match v.get("expiry") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(Timestamp::from_millis)
            .map(Some)
            .ok_or_else(|| format!("expiry: {n} is not epoch milliseconds")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|d| Timestamp::from_datetime(&d.and_utc()))
            .map(Some)
            .ok_or_else(|| format!("expiry: {s:?} is not a YYYY-MM-DD date")),
        Some(other) => Err(format!(
            "expiry: {other} is neither a date nor milliseconds"
        )),
    }
}

/// One instrument, or why it cannot be a contract row (naming the field).
fn row(v: &Value) -> std::result::Result<ContractRow, String> {
    let symbol = text(v, "instrument_key").ok_or("instrument_key: missing or empty")?;
    let lot = num(v, "lot_size").ok_or("lot_size: missing or not a number")?;
    if lot < 1.0 || lot.fract() != 0.0 || lot > 1e12 {
        return Err(format!(
            "lot_size: {lot} is not a whole number of at least 1"
        ));
    }
    let tick = num(v, "tick_size").ok_or("tick_size: missing or not a number")?;
    if tick <= 0.0 {
        return Err(format!("tick_size: {tick} must be above 0"));
    }
    let freeze = num(v, "freeze_quantity");
    if let Some(f) = freeze
        && f < 0.0
    {
        return Err(format!("freeze_quantity: {f} is negative"));
    }
    Ok(ContractRow {
        symbol,
        trading_symbol: text(v, "trading_symbol"),
        name: text(v, "name"),
        exchange: text(v, "exchange"),
        segment: text(v, "segment"),
        instrument_type: text(v, "instrument_type"),
        isin: text(v, "isin"),
        lot_size: lot as i64,
        tick_size: tick / 100.0,
        // 0 means "no freeze limit" in the master (indices, some segments).
        freeze_quantity: freeze.filter(|f| *f > 0.0),
        expiry: expiry(v)?,
        strike: num(v, "strike_price").filter(|s| *s > 0.0),
        underlying_key: text(v, "underlying_key"),
        weekly: v.get("weekly").and_then(Value::as_bool),
    })
}

/// Decode an instrument master (the BOD JSON array or an option-contract response). A record
/// that cannot be a contract goes to quarantine with its position and key; the rest land.
pub fn decode_contracts(body: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedContracts> {
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::Input {
        location: format!("{source}: line {} column {}", e.line(), e.column()),
        reason: format!("not JSON: {e}"),
    })?;
    let items = match &v {
        Value::Array(a) => a,
        Value::Object(o) => {
            match (o.get("status").and_then(Value::as_str), o.get("data")) {
                (Some("success"), Some(Value::Array(a))) => a,
                (Some(status), _) if status != "success" => {
                    return Err(Error::Input {
                        location: source.to_string(),
                        reason: format!(
                            "the response's status is {status:?}: {}",
                            o.get("errors").unwrap_or(&Value::Null)
                        ),
                    });
                }
                _ => {
                    return Err(Error::Input {
                    location: source.to_string(),
                    reason: "neither an instrument array nor {\"status\": \"success\", \"data\": [...]}".into(),
                });
                }
            }
        }
        _ => {
            return Err(Error::Input {
                location: source.to_string(),
                reason: "neither an instrument array nor an option-contract response".into(),
            });
        }
    };
    let now = clock.now();
    let mut out = DecodedContracts::default();
    for (i, item) in items.iter().enumerate() {
        if is_index(item) {
            out.indices += 1;
            continue;
        }
        out.rows_read += 1;
        match row(item) {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.quarantine.push(QuarantineRecord::new(
                source,
                "contracts",
                format!(
                    "item {i}{}",
                    text(item, "instrument_key")
                        .map(|k| format!(" ({k})"))
                        .unwrap_or_default()
                ),
                reason,
                item.to_string(),
                "json",
                now,
            )),
        }
    }
    Ok(out)
}
