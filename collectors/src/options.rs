//! Option chains from Yahoo's v7 `options/{symbol}` API: one record per contract per snapshot.
//!
//! The snapshot time is the quote's `regularMarketTime` (when the underlying last traded as the
//! chain was served). A contract without a strike, an expiry or a contract symbol is quarantined;
//! missing `volume` (Yahoo omits it for contracts that did not trade) stays null.

use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde_json::Value;

use crate::{Error, Result};

/// One contract in a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionQuote {
    pub contract: String,
    /// `call` or `put`.
    pub option_type: &'static str,
    pub strike: f64,
    pub expiry: Timestamp,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub last: Option<f64>,
    pub volume: Option<f64>,
    pub open_interest: Option<f64>,
    pub implied_vol: Option<f64>,
    pub in_the_money: Option<bool>,
    pub last_trade: Option<Timestamp>,
    /// The provider's delta (Upstox); `None`: computed from the implied volatility on ingest.
    pub delta: Option<f64>,
    pub location: String,
}

/// A decoded chain.
#[derive(Debug, Default)]
pub struct DecodedChain {
    pub underlying: String,
    pub underlying_price: Option<f64>,
    /// The snapshot time (`quote.regularMarketTime`).
    pub as_of: Option<Timestamp>,
    pub quotes: Vec<OptionQuote>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64).filter(|x| x.is_finite())
}

/// Decode a v7 options response.
pub fn decode_chain(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedChain> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let chain = v.get("optionChain").ok_or_else(|| Error::Input {
        location: source.to_string(),
        reason: "not an optionChain response".into(),
    })?;
    if let Some(e) = chain.get("error").filter(|e| !e.is_null()) {
        return Err(Error::Api {
            source_name: "yahoo",
            status: None,
            message: e.to_string(),
        });
    }
    let r = chain.pointer("/result/0").ok_or_else(|| Error::Input {
        location: source.to_string(),
        reason: "optionChain.result is empty".into(),
    })?;
    let now = clock.now();
    let quote = r.get("quote").unwrap_or(&Value::Null);
    let mut out = DecodedChain {
        underlying: r
            .get("underlyingSymbol")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        underlying_price: f(quote, "regularMarketPrice"),
        as_of: quote
            .get("regularMarketTime")
            .and_then(Value::as_i64)
            .and_then(Timestamp::from_secs),
        ..Default::default()
    };
    let options = r.get("options").and_then(Value::as_array);
    for (i, o) in options.into_iter().flatten().enumerate() {
        for (side, kind) in [("calls", "call"), ("puts", "put")] {
            let list = o.get(side).and_then(Value::as_array);
            for (j, c) in list.into_iter().flatten().enumerate() {
                out.rows_read += 1;
                let location = format!("options[{i}].{side}[{j}]");
                let contract = c.get("contractSymbol").and_then(Value::as_str);
                let expiry = c
                    .get("expiration")
                    .and_then(Value::as_i64)
                    .and_then(Timestamp::from_secs);
                let (Some(contract), Some(strike), Some(expiry)) =
                    (contract, f(c, "strike"), expiry)
                else {
                    out.quarantine.push(QuarantineRecord::new(
                        source,
                        "options_chain",
                        location,
                        "contractSymbol/strike/expiration: missing or not valid",
                        c.to_string(),
                        "json",
                        now,
                    ));
                    continue;
                };
                out.quotes.push(OptionQuote {
                    contract: contract.to_string(),
                    option_type: kind,
                    strike,
                    expiry,
                    bid: f(c, "bid"),
                    ask: f(c, "ask"),
                    last: f(c, "lastPrice"),
                    volume: f(c, "volume"),
                    open_interest: f(c, "openInterest"),
                    implied_vol: f(c, "impliedVolatility"),
                    in_the_money: c.get("inTheMoney").and_then(Value::as_bool),
                    last_trade: c
                        .get("lastTradeDate")
                        .and_then(Value::as_i64)
                        .and_then(Timestamp::from_secs),
                    delta: None,
                    location,
                });
            }
        }
    }
    Ok(out)
}

/// Decode an Upstox put/call option chain response (`GET /v2/option/chain`): one strike per
/// `data` item with its call and put (`market_data`: ltp, bid/ask, volume, oi; `option_greeks`:
/// delta, iv in percent). Contracts are named by their instrument keys; the expiry (a date) is
/// taken at NSE's close, 15:30 IST (10:00 UTC). The response has no quote time: the ingest dates
/// it by the fetch.
pub fn decode_upstox_chain(body: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedChain> {
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::Input {
        location: format!("{source}: line {} column {}", e.line(), e.column()),
        reason: format!("not JSON: {e}"),
    })?;
    let status = v.get("status").and_then(Value::as_str);
    let Some(items) = v
        .get("data")
        .and_then(Value::as_array)
        .filter(|_| status == Some("success"))
    else {
        return Err(Error::Input {
            location: source.to_string(),
            reason: format!(
                "not a successful Upstox option-chain response (status {status:?}): {}",
                v.get("errors").unwrap_or(&Value::Null)
            ),
        });
    };
    let now = clock.now();
    let mut out = DecodedChain::default();
    for (i, item) in items.iter().enumerate() {
        let underlying = item.get("underlying_key").and_then(Value::as_str);
        let spot = f(item, "underlying_spot_price");
        let strike = f(item, "strike_price").filter(|k| *k > 0.0);
        let expiry = item
            .get("expiry")
            .and_then(Value::as_str)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .and_then(|d| Timestamp::from_datetime(&d.and_utc()));
        for (side, kind) in [("call_options", "call"), ("put_options", "put")] {
            let Some(c) = item.get(side).filter(|c| !c.is_null()) else {
                continue;
            };
            out.rows_read += 1;
            let location = format!("data[{i}].{side}");
            let key = c.get("instrument_key").and_then(Value::as_str);
            let (Some(u), Some(key), Some(strike), Some(expiry)) =
                (underlying, key, strike, expiry)
            else {
                out.quarantine.push(QuarantineRecord::new(
                    source,
                    "options_chain",
                    location,
                    "underlying_key/instrument_key/strike_price/expiry: missing or not valid",
                    item.to_string(),
                    "json",
                    now,
                ));
                continue;
            };
            if out.underlying.is_empty() {
                out.underlying = u.to_string();
                out.underlying_price = spot;
            } else if out.underlying != u {
                out.quarantine.push(QuarantineRecord::new(
                    source,
                    "options_chain",
                    location,
                    format!("underlying_key: {u} in a chain of {}", out.underlying),
                    item.to_string(),
                    "json",
                    now,
                ));
                continue;
            }
            let md = c.get("market_data").unwrap_or(&Value::Null);
            let g = c.get("option_greeks").unwrap_or(&Value::Null);
            // An IV of 0 is Upstox's "none" (deep in-the-money quotes carry iv 0, delta 1).
            let iv = f(g, "iv").filter(|x| *x > 0.0).map(|x| x / 100.0);
            out.quotes.push(OptionQuote {
                contract: key.to_string(),
                option_type: kind,
                strike,
                expiry,
                bid: f(md, "bid_price"),
                ask: f(md, "ask_price"),
                last: f(md, "ltp"),
                volume: f(md, "volume"),
                open_interest: f(md, "oi"),
                implied_vol: iv,
                in_the_money: spot.map(|s| {
                    if kind == "call" {
                        strike < s
                    } else {
                        strike > s
                    }
                }),
                last_trade: None,
                delta: f(g, "delta"),
                location,
            });
        }
    }
    Ok(out)
}
