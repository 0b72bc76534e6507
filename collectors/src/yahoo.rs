//! Yahoo Finance chart API (v8 JSON): decoder and client.
//!
//! `GET {base}/v8/finance/chart/{symbol}?period1=…&period2=…&interval=…&events=div,splits`.
//! The response carries parallel arrays (`timestamp`, `indicators.quote[0].open…volume`);
//! Yahoo sends `null` for intervals without trading, which are quarantined with the reason.
//! Timestamps are UTC epoch seconds of the bar open; `meta.exchangeTimezoneName` names the
//! exchange zone and is recorded in `instruments`.

use chrono::{DateTime, Utc};
use elite_warehouse::{
    BarsBuilder, Clock, QuarantineRecord, Symbol, Timeframe, Timestamp, validate_ohlcv,
};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::http::{HttpClient, Retry};
use crate::{Decoded, Error, Result};

#[derive(Debug, Deserialize)]
struct Envelope {
    chart: Chart,
}

#[derive(Debug, Deserialize)]
struct Chart {
    result: Option<Vec<ChartResult>>,
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    code: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChartResult {
    meta: Meta,
    #[serde(default)]
    timestamp: Vec<Option<i64>>,
    indicators: Indicators,
}

/// The instrument description Yahoo sends with every chart.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub symbol: String,
    pub currency: Option<String>,
    pub exchange_name: Option<String>,
    pub full_exchange_name: Option<String>,
    pub instrument_type: Option<String>,
    pub exchange_timezone_name: Option<String>,
    pub long_name: Option<String>,
    pub short_name: Option<String>,
    pub data_granularity: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Indicators {
    #[serde(default)]
    quote: Vec<Quote>,
}

#[derive(Debug, Default, Deserialize)]
struct Quote {
    #[serde(default)]
    open: Vec<Option<f64>>,
    #[serde(default)]
    high: Vec<Option<f64>>,
    #[serde(default)]
    low: Vec<Option<f64>>,
    #[serde(default)]
    close: Vec<Option<f64>>,
    #[serde(default)]
    volume: Vec<Option<f64>>,
}

/// A decoded chart: bars plus the instrument's metadata.
#[derive(Debug)]
pub struct DecodedChart {
    pub decoded: Decoded,
    pub meta: Meta,
    pub timeframe: Timeframe,
}

/// Map Yahoo's interval names (`1m`, `60m`, `1d`, `1wk`, `1mo`, `3mo`) to a timeframe.
pub fn timeframe_of(interval: &str) -> Result<Timeframe> {
    Timeframe::parse(interval).map_err(|e| Error::Options(e.to_string()))
}

/// Decode a v8 chart response body. `source` names it in quarantine rows.
pub fn decode_chart(body: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedChart> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| Error::Input {
        location: format!("{source} line {} column {}", e.line(), e.column()),
        reason: format!("not a Yahoo chart response: {e}"),
    })?;
    if let Some(err) = env.chart.error {
        return Err(Error::Api {
            source_name: "yahoo",
            status: None,
            message: format!(
                "{}: {}",
                err.code.unwrap_or_default(),
                err.description.unwrap_or_default()
            ),
        });
    }
    let result = env
        .chart
        .result
        .and_then(|mut r| {
            if r.is_empty() {
                None
            } else {
                Some(r.swap_remove(0))
            }
        })
        .ok_or_else(|| Error::Input {
            location: source.into(),
            reason: "chart has neither result nor error".into(),
        })?;
    let meta = result.meta;
    let timeframe = timeframe_of(meta.data_granularity.as_deref().unwrap_or("1d"))?;
    let tf_text = timeframe.to_string();
    let symbol = Symbol::new(meta.symbol.clone())?;
    let q = result
        .indicators
        .quote
        .into_iter()
        .next()
        .unwrap_or_default();
    let now = clock.now();
    let mut out = BarsBuilder::default();
    let mut quarantine = Vec::new();
    let mut last: Option<Timestamp> = None;
    let mut seen = std::collections::HashSet::new();
    for (i, ts) in result.timestamp.iter().enumerate() {
        let at = |v: &Vec<Option<f64>>| v.get(i).copied().flatten();
        let fields = [at(&q.open), at(&q.high), at(&q.low), at(&q.close)];
        let raw = || {
            serde_json::json!({"timestamp": ts, "open": fields[0], "high": fields[1], "low": fields[2], "close": fields[3], "volume": at(&q.volume)})
                .to_string()
        };
        let checked = (|| -> std::result::Result<_, String> {
            let ts = ts.ok_or("field `timestamp` is null")?;
            let ts_event = Timestamp::from_secs(ts).ok_or("field `timestamp` out of range")?;
            let mut ohlc = [0.0; 4];
            for (k, (name, v)) in ["open", "high", "low", "close"]
                .iter()
                .zip(fields)
                .enumerate()
            {
                ohlc[k] = v.ok_or_else(|| {
                    if i >= q.close.len() {
                        format!("field `{name}` missing: quote arrays are shorter than `timestamp`")
                    } else {
                        format!("field `{name}` is null (no trading in this interval)")
                    }
                })?;
            }
            let volume = at(&q.volume);
            validate_ohlcv(ohlc, volume)?;
            Ok((ts_event, ohlc, volume))
        })();
        match checked {
            Ok((ts_event, ohlc, volume)) => {
                if !seen.insert(ts_event) {
                    quarantine.push(q_rec(
                        source,
                        i,
                        format!("duplicate key (symbol {symbol}, ts_event {ts_event})"),
                        raw(),
                        now,
                    ));
                    continue;
                }
                last = last.max(Some(ts_event));
                out.push_values(
                    &symbol,
                    &tf_text,
                    ts_event,
                    timeframe.bar_end(ts_event),
                    ohlc,
                    volume,
                    None,
                    source,
                );
            }
            Err(reason) => quarantine.push(q_rec(source, i, reason, raw(), now)),
        }
    }
    let rows_read = result.timestamp.len();
    Ok(DecodedChart {
        decoded: Decoded {
            batch: out.finish()?,
            quarantine,
            rows_read,
        },
        meta,
        timeframe,
    })
}

fn q_rec(source: &str, i: usize, reason: String, raw: String, now: Timestamp) -> QuarantineRecord {
    QuarantineRecord {
        source: source.into(),
        unit: String::new(),
        location: format!("index {i}"),
        target_table: "bars".into(),
        reason,
        raw,
        raw_encoding: "utf8",
        ts_recv: now,
    }
}

/// Fetches charts from Yahoo (or a server replaying its responses).
#[derive(Clone, Debug)]
pub struct YahooClient {
    base: reqwest::Url,
    http: HttpClient,
}

/// The public endpoint.
pub const YAHOO_BASE: &str = "https://query1.finance.yahoo.com";

impl YahooClient {
    pub fn new(base: &str, retry: Retry) -> Result<Self> {
        let base = reqwest::Url::parse(base)
            .map_err(|e| Error::Options(format!("invalid Yahoo base URL {base:?}: {e}")))?;
        Ok(Self {
            base,
            http: HttpClient::new("yahoo", retry)?,
        })
    }

    /// The request URL for a chart.
    pub fn chart_url(
        &self,
        symbol: &Symbol,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval: &str,
    ) -> Result<reqwest::Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Options("Yahoo base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["v8", "finance", "chart", symbol.as_str()]);
        url.query_pairs_mut()
            .append_pair("period1", &from.timestamp().to_string())
            .append_pair("period2", &to.timestamp().to_string())
            .append_pair("interval", interval)
            .append_pair("events", "div,splits");
        Ok(url)
    }

    /// Fetch the raw body of a chart (decode it with [`decode_chart`]).
    pub async fn chart(
        &self,
        symbol: &Symbol,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval: &str,
    ) -> Result<bytes::Bytes> {
        let url = self.chart_url(symbol, from, to, interval)?;
        let (status, body) = self.http.get(&url, HeaderMap::new()).await?;
        if status != 200 && !(status == 404 && body.starts_with(b"{\"chart\"")) {
            return Err(Error::Api {
                source_name: "yahoo",
                status: Some(status),
                message: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            });
        }
        Ok(body)
    }
}
