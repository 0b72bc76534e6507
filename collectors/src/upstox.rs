//! Upstox (Indian markets): historical candles (REST v2/v3) and the V3 market-data feed
//! (WebSocket, protobuf `FeedResponse`).
//!
//! Candles come as `[timestamp "…+05:30", open, high, low, close, volume, open_interest]`, newest
//! first; the IST offset is converted to UTC. Feed frames become `ticks` (LTP, size, previous
//! close, volume, OI, IV, greeks, total buy/sell quantity) and `quotes` (one row per depth level).
//! `ts_event` of a tick is the last-trade time `ltt`; `ts_recv` is the frame's `currentTs`.
//! Depth carries no time of its own: its `ts_event` is also `currentTs`.
//!
//! The access token is read by the caller from the environment or config and sent only as the
//! `Authorization` header; it never appears in logs or errors.

use std::time::Duration;

use base64::Engine;
use elite_warehouse::{
    BarsBuilder, Clock, DepthLevel, QuarantineRecord, QuotesBuilder, Secret, Symbol, Tick,
    TicksBuilder, Timeframe, Timestamp, validate_ohlcv,
};
use futures::{SinkExt, StreamExt};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use prost::Message;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;

use crate::http::{HttpClient, Retry};
use crate::timeparse::TimeParser;
use crate::{Decoded, Error, Result};

/// Generated from `proto/upstox/MarketDataFeedV3.desc` (with proto3-JSON serde impls).
#[allow(clippy::all, missing_docs, rust_2018_idioms)]
pub mod proto {
    include!(concat!(
        env!("OUT_DIR"),
        "/com.upstox.marketdatafeederv3udapi.rpc.proto.rs"
    ));
    include!(concat!(
        env!("OUT_DIR"),
        "/com.upstox.marketdatafeederv3udapi.rpc.proto.serde.rs"
    ));
}

use proto::{FeedResponse, feed::FeedUnion, full_feed::FullFeedUnion};

// ---------------------------------------------------------------- historical candles

#[derive(Debug, Deserialize)]
struct CandleEnvelope {
    status: Option<String>,
    data: Option<CandleData>,
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Debug, Deserialize)]
struct CandleData {
    #[serde(default)]
    candles: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiErrorItem {
    #[serde(rename = "errorCode")]
    error_code_camel: Option<String>,
    error_code: Option<String>,
    message: Option<String>,
}

pub(crate) fn api_error(status: Option<u16>, errors: &[ApiErrorItem]) -> Error {
    let message = errors
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.error_code_camel
                    .as_deref()
                    .or(e.error_code.as_deref())
                    .unwrap_or("?"),
                e.message.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Error::Api {
        source_name: "upstox",
        status,
        message: if message.is_empty() {
            "unknown error".into()
        } else {
            message
        },
    }
}

/// The timeframe of a v3 `unit`/`interval` pair (`minutes`/`1`, `days`/`1`) or a v2 interval
/// (`1minute`, `30minute`, `day`, `week`, `month`).
pub fn candle_timeframe(unit: &str, interval: &str) -> Result<Timeframe> {
    let text = match (unit, interval) {
        ("", v2) => match v2 {
            "day" => "1d".to_string(),
            "week" => "1w".to_string(),
            "month" => "1mo".to_string(),
            m => m.replace("minute", "m"),
        },
        (u, n) => format!("{n}{u}"),
    };
    Timeframe::parse(&text).map_err(|e| Error::Options(e.to_string()))
}

/// Decode a historical/intraday candle response for `instrument_key`.
pub fn decode_candles(
    body: &[u8],
    instrument_key: &Symbol,
    timeframe: Timeframe,
    source: &str,
    clock: &dyn Clock,
) -> Result<Decoded> {
    let env: CandleEnvelope = serde_json::from_slice(body).map_err(|e| Error::Input {
        location: format!("{source} line {} column {}", e.line(), e.column()),
        reason: format!("not an Upstox candle response: {e}"),
    })?;
    if env.status.as_deref() != Some("success") {
        return Err(api_error(None, &env.errors));
    }
    let candles = env.data.map(|d| d.candles).unwrap_or_default();
    let parser = TimeParser::new(chrono_tz::Asia::Kolkata, None);
    let tf = timeframe.to_string();
    let now = clock.now();
    let mut out = BarsBuilder::default();
    let mut quarantine = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, c) in candles.iter().enumerate() {
        let row = (|| -> std::result::Result<_, String> {
            let a = c.as_array().ok_or("candle is not an array")?;
            if a.len() < 6 {
                return Err(format!("candle has {} fields, expected 6 or 7", a.len()));
            }
            let ts = a[0].as_str().ok_or("field `timestamp` is not a string")?;
            let ts = parser
                .parse(ts)
                .map_err(|e| format!("field `timestamp`: {e}"))?;
            let num = |k: usize, name: &str| {
                a[k].as_f64()
                    .ok_or_else(|| format!("field `{name}` is not a number: {}", a[k]))
            };
            let ohlc = [
                num(1, "open")?,
                num(2, "high")?,
                num(3, "low")?,
                num(4, "close")?,
            ];
            let volume = num(5, "volume")?;
            let oi = a.get(6).and_then(serde_json::Value::as_f64);
            validate_ohlcv(ohlc, Some(volume))?;
            Ok((ts, ohlc, volume, oi))
        })();
        match row {
            Ok((ts, ohlc, v, oi)) if seen.insert(ts) => out.push_values(
                instrument_key,
                &tf,
                ts,
                timeframe.bar_end(ts),
                ohlc,
                Some(v),
                oi,
                source,
            ),
            Ok((ts, ..)) => quarantine.push(q(
                source,
                format!("candle {i}"),
                "bars",
                format!("duplicate key (ts_event {ts})"),
                c.to_string(),
                "utf8",
                now,
            )),
            Err(reason) => quarantine.push(q(
                source,
                format!("candle {i}"),
                "bars",
                reason,
                c.to_string(),
                "utf8",
                now,
            )),
        }
    }
    Ok(Decoded {
        batch: out.finish()?,
        quarantine,
        rows_read: candles.len(),
    })
}

#[allow(clippy::too_many_arguments)]
fn q(
    source: &str,
    location: String,
    table: &str,
    reason: String,
    raw: String,
    enc: &'static str,
    now: Timestamp,
) -> QuarantineRecord {
    QuarantineRecord {
        source: source.into(),
        unit: String::new(),
        location,
        target_table: table.into(),
        reason,
        raw,
        raw_encoding: enc,
        ts_recv: now,
    }
}

// ---------------------------------------------------------------- market feed

/// What one feed frame produced.
#[derive(Debug)]
pub struct FeedDecoded {
    pub ticks: Vec<Tick>,
    pub quotes: Vec<DepthLevel>,
    pub quarantine: Vec<QuarantineRecord>,
    /// The frame's `currentTs` (or the clock's time when absent).
    pub ts_recv: Timestamp,
    /// The decoded message itself (market status frames carry no ticks).
    pub message: Option<FeedResponse>,
    /// SHA-256 of the frame's bytes: what makes a batch of frames a unit for exactly-once
    /// landing and for keying its quarantined records.
    pub frame_sha256: [u8; 32],
}

impl FeedDecoded {
    /// The ticks and quotes as `ticks` / `quotes` batches.
    pub fn batches(&self) -> Result<(arrow_array::RecordBatch, arrow_array::RecordBatch)> {
        let mut t = TicksBuilder::default();
        self.ticks.iter().cloned().for_each(|x| t.push(x));
        let mut qb = QuotesBuilder::default();
        self.quotes.iter().cloned().for_each(|x| qb.push(x));
        Ok((t.finish()?, qb.finish()?))
    }
}

/// Epoch milliseconds as a timestamp; `None` outside what the warehouse can hold (before 1970 or
/// after 2262), which the caller quarantines rather than store as a wrong time.
fn ms(v: i64) -> Option<Timestamp> {
    (v > 0).then(|| Timestamp::from_millis(v)).flatten()
}

/// Decode one binary `FeedResponse` frame. A frame that is not valid protobuf is quarantined
/// whole (base64) rather than failing the stream.
pub fn decode_feed(frame: &[u8], location: &str, clock: &dyn Clock) -> FeedDecoded {
    const SOURCE: &str = "upstox-feed";
    let now = clock.now();
    let frame_sha256: [u8; 32] = {
        use sha2::Digest;
        sha2::Sha256::digest(frame).into()
    };
    let whole_frame = |reason: String, message: Option<FeedResponse>| FeedDecoded {
        ticks: vec![],
        quotes: vec![],
        quarantine: vec![q(
            SOURCE,
            location.into(),
            "ticks",
            reason,
            base64::engine::general_purpose::STANDARD.encode(frame),
            "base64",
            now,
        )],
        ts_recv: now,
        message,
        frame_sha256,
    };
    let msg = match FeedResponse::decode(frame) {
        Ok(m) => m,
        Err(e) => return whole_frame(format!("not a FeedResponse protobuf: {e}"), None),
    };
    let ts_recv = match msg.current_ts {
        0 => now,
        t => match ms(t) {
            Some(ts) => ts,
            None => {
                return whole_frame(
                    format!("field `currentTs` {t} ms is outside 1970..2262"),
                    Some(msg),
                );
            }
        },
    };
    let mut ticks = Vec::new();
    let mut quotes = Vec::new();
    let mut quarantine = Vec::new();
    let mut keys: Vec<_> = msg.feeds.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let feed = &msg.feeds[&key];
        let mut tick = Tick {
            symbol: key.clone(),
            ts_recv,
            source: SOURCE.into(),
            ..Default::default()
        };
        let mut depth: Vec<proto::Quote> = Vec::new();
        let ltpc = match &feed.feed_union {
            Some(FeedUnion::Ltpc(l)) => Some(*l),
            Some(FeedUnion::FullFeed(ff)) => match &ff.full_feed_union {
                Some(FullFeedUnion::MarketFf(m)) => {
                    tick.avg_price = Some(m.atp).filter(|v| *v != 0.0);
                    tick.volume = Some(m.vtt as f64);
                    tick.open_interest = Some(m.oi).filter(|v| *v != 0.0);
                    tick.iv = Some(m.iv).filter(|v| *v != 0.0);
                    tick.total_buy_qty = Some(m.tbq);
                    tick.total_sell_qty = Some(m.tsq);
                    set_greeks(&mut tick, m.option_greeks.as_ref());
                    depth = m
                        .market_level
                        .as_ref()
                        .map(|l| l.bid_ask_quote.clone())
                        .unwrap_or_default();
                    m.ltpc
                }
                Some(FullFeedUnion::IndexFf(i)) => i.ltpc,
                None => None,
            },
            Some(FeedUnion::FirstLevelWithGreeks(f)) => {
                tick.volume = Some(f.vtt as f64);
                tick.open_interest = Some(f.oi).filter(|v| *v != 0.0);
                tick.iv = Some(f.iv).filter(|v| *v != 0.0);
                set_greeks(&mut tick, f.option_greeks.as_ref());
                depth = f.first_depth.iter().cloned().collect();
                f.ltpc
            }
            None => None,
        };
        let loc = format!("{location} feed {key}");
        let Some(l) = ltpc else {
            quarantine.push(q(
                SOURCE,
                loc,
                "ticks",
                "feed carries no LTPC (no price)".into(),
                feed_json(feed),
                "json",
                now,
            ));
            continue;
        };
        let Some(ltt) = ms(l.ltt).filter(|_| l.ltt > 0) else {
            quarantine.push(q(
                SOURCE,
                loc,
                "ticks",
                format!(
                    "field `ltpc.ltt` {} ms is outside 1970..2262 (no trade time)",
                    l.ltt
                ),
                feed_json(feed),
                "json",
                now,
            ));
            continue;
        };
        if !l.ltp.is_finite() || l.ltp <= 0.0 {
            quarantine.push(q(
                SOURCE,
                loc,
                "ticks",
                format!("field `ltpc.ltp` {} is not a positive price", l.ltp),
                feed_json(feed),
                "json",
                now,
            ));
            continue;
        }
        tick.price = l.ltp;
        tick.ts_event = ltt;
        tick.size = Some(l.ltq as f64);
        tick.prev_close = Some(l.cp).filter(|v| *v != 0.0);
        for (level, d) in depth.iter().enumerate() {
            quotes.push(DepthLevel {
                symbol: key.clone(),
                ts_event: ts_recv,
                ts_recv,
                level: level as i32,
                bid_price: Some(d.bid_p).filter(|_| d.bid_q > 0),
                bid_qty: Some(d.bid_q as f64),
                ask_price: Some(d.ask_p).filter(|_| d.ask_q > 0),
                ask_qty: Some(d.ask_q as f64),
                source: SOURCE.into(),
            });
        }
        ticks.push(tick);
    }
    FeedDecoded {
        ticks,
        quotes,
        quarantine,
        ts_recv,
        message: Some(msg),
        frame_sha256,
    }
}

fn set_greeks(t: &mut Tick, g: Option<&proto::OptionGreeks>) {
    if let Some(g) = g {
        t.delta = Some(g.delta);
        t.gamma = Some(g.gamma);
        t.theta = Some(g.theta);
        t.vega = Some(g.vega);
        t.rho = Some(g.rho);
    }
}

fn feed_json(f: &proto::Feed) -> String {
    serde_json::to_string(f).unwrap_or_default()
}

// ---------------------------------------------------------------- clients

/// The public API.
pub const UPSTOX_BASE: &str = "https://api.upstox.com";

/// Refuse an empty access token up front, saying where one goes.
pub(crate) fn check_token(token: &Secret) -> Result<()> {
    if token.is_empty() {
        return Err(Error::Credentials(
            "no Upstox access token: set UPSTOX_ACCESS_TOKEN or `upstox_access_token` in the config file".into(),
        ));
    }
    Ok(())
}

/// `Authorization: Bearer …` (marked sensitive: never logged) and `Accept: application/json`.
pub(crate) fn auth_headers(token: &Secret) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        Error::Credentials(
            "the Upstox access token contains characters not allowed in a header".into(),
        )
    })?;
    v.set_sensitive(true);
    h.insert(AUTHORIZATION, v);
    h.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    Ok(h)
}

/// REST client for historical candles.
#[derive(Clone, Debug)]
pub struct UpstoxClient {
    base: reqwest::Url,
    http: HttpClient,
    token: Secret,
}

impl UpstoxClient {
    /// `token` is the OAuth access token (from `UPSTOX_ACCESS_TOKEN` or the config file).
    pub fn new(base: &str, token: Secret, retry: Retry) -> Result<Self> {
        let base = reqwest::Url::parse(base)
            .map_err(|e| Error::Options(format!("invalid Upstox base URL {base:?}: {e}")))?;
        check_token(&token)?;
        Ok(Self {
            base,
            http: HttpClient::new("upstox", retry)?,
            token,
        })
    }

    fn headers(&self) -> Result<HeaderMap> {
        auth_headers(&self.token)
    }

    /// `base/seg/seg…`, each segment percent-encoded as the SDK does (`NSE_EQ|X` -> `NSE_EQ%7CX`).
    fn url(&self, segments: &[&str]) -> Result<reqwest::Url> {
        const SEGMENT: &AsciiSet = &CONTROLS
            .add(b' ')
            .add(b'"')
            .add(b'#')
            .add(b'%')
            .add(b'/')
            .add(b'<')
            .add(b'>')
            .add(b'?')
            .add(b'`')
            .add(b'{')
            .add(b'}')
            .add(b'|')
            .add(b'^')
            .add(b'[')
            .add(b']')
            .add(b'\\');
        let mut path = self.base.path().trim_end_matches('/').to_string();
        for s in segments {
            path.push('/');
            path.extend(utf8_percent_encode(s, SEGMENT));
        }
        let mut url = self.base.clone();
        url.set_path(&path);
        Ok(url)
    }

    /// v3 historical candles: `/v3/historical-candle/{key}/{unit}/{interval}/{to}/{from}`.
    pub async fn candles_v3(
        &self,
        key: &Symbol,
        unit: &str,
        interval: &str,
        to: &str,
        from: &str,
    ) -> Result<bytes::Bytes> {
        let url = self.url(&[
            "v3",
            "historical-candle",
            key.as_str(),
            unit,
            interval,
            to,
            from,
        ])?;
        self.fetch(url).await
    }

    /// v2 historical candles: `/v2/historical-candle/{key}/{interval}/{to}/{from}`.
    pub async fn candles_v2(
        &self,
        key: &Symbol,
        interval: &str,
        to: &str,
        from: &str,
    ) -> Result<bytes::Bytes> {
        let url = self.url(&["v2", "historical-candle", key.as_str(), interval, to, from])?;
        self.fetch(url).await
    }

    async fn fetch(&self, url: reqwest::Url) -> Result<bytes::Bytes> {
        let (status, body) = self.http.get(&url, self.headers()?).await?;
        if status != 200 {
            let env: Option<CandleEnvelope> = serde_json::from_slice(&body).ok();
            return Err(match env {
                Some(e) if !e.errors.is_empty() => api_error(Some(status), &e.errors),
                _ => Error::Api {
                    source_name: "upstox",
                    status: Some(status),
                    message: String::from_utf8_lossy(&body[..body.len().min(300)]).into(),
                },
            });
        }
        Ok(body)
    }

    /// Ask for the one-time WebSocket URL of the V3 market feed.
    pub async fn feed_url(&self) -> Result<String> {
        let url = self.url(&["v3", "feed", "market-data-feed", "authorize"])?;
        let body = self.fetch(url).await?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error::Input {
            location: "upstox feed authorize".into(),
            reason: e.to_string(),
        })?;
        v.pointer("/data/authorized_redirect_uri")
            .or_else(|| v.pointer("/data/authorizedRedirectUri"))
            .and_then(|u| u.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::Input {
                location: "upstox feed authorize".into(),
                reason: format!("no authorized_redirect_uri in {v}"),
            })
    }
}

/// Subscription mode of the V3 feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedMode {
    Ltpc,
    Full,
    OptionGreeks,
    FullD30,
}

impl FeedMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ltpc => "ltpc",
            Self::Full => "full",
            Self::OptionGreeks => "option_greeks",
            Self::FullD30 => "full_d30",
        }
    }
}

/// Where the market feed's WebSocket URL comes from.
#[derive(Clone, Debug)]
pub enum FeedUrl {
    /// Ask Upstox for a fresh URL before every connection: the `authorized_redirect_uri` carries
    /// a one-time code, so a reconnect to the old URL is refused.
    Authorize(UpstoxClient),
    /// A fixed URL (a recorded or loopback feed); every connection uses it.
    Fixed(String),
}

impl FeedUrl {
    async fn get(&self) -> Result<String> {
        match self {
            Self::Authorize(c) => c.feed_url().await,
            Self::Fixed(u) => Ok(u.clone()),
        }
    }
}

/// V3 market-feed WebSocket client: connects, subscribes, hands each decoded frame to a callback,
/// and re-authorizes and reconnects with backoff when the connection drops.
pub struct FeedClient {
    pub url: FeedUrl,
    pub instrument_keys: Vec<String>,
    pub mode: FeedMode,
    pub retry: Retry,
    /// Connections made and subscribed so far (the first, then one per reconnect): read by the
    /// caller for its metrics.
    pub connections: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FeedClient {
    /// The subscription request (sent as a binary JSON message, as the V3 feed expects).
    pub fn subscription(&self) -> serde_json::Value {
        serde_json::json!({
            "guid": "elite",
            "method": "sub",
            "data": {"mode": self.mode.as_str(), "instrumentKeys": self.instrument_keys},
        })
    }

    /// Run until `on_frame` returns `false`, the server closes cleanly, or `max_frames` frames
    /// arrived. Returns the number of frames handled.
    pub async fn run<F>(
        &self,
        max_frames: Option<usize>,
        clock: &dyn Clock,
        mut on_frame: F,
    ) -> Result<usize>
    where
        F: FnMut(usize, FeedDecoded) -> Result<bool>,
    {
        use tokio_tungstenite::tungstenite::Message as Ws;
        let mut frames = 0usize;
        let mut failures = 0u32;
        loop {
            let (url, conn) = match self.url.get().await {
                Ok(url) => {
                    let conn = tokio_tungstenite::connect_async(url.as_str())
                        .await
                        .map_err(|e| e.to_string());
                    (url, conn)
                }
                Err(e) => (String::from("(authorize)"), Err(e.to_string())),
            };
            let (mut ws, _) = match conn {
                Ok(c) => {
                    failures = 0;
                    c
                }
                Err(reason) => {
                    failures += 1;
                    if failures >= self.retry.attempts {
                        return Err(Error::Network {
                            source_name: "upstox",
                            url: redact(&url),
                            attempts: failures,
                            reason,
                        });
                    }
                    let wait = self
                        .retry
                        .base
                        .saturating_mul(1 << (failures - 1).min(16))
                        .min(self.retry.max);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let sub = self.subscription().to_string().into_bytes();
            ws.send(Ws::Binary(sub.into()))
                .await
                .map_err(|e| Error::Network {
                    source_name: "upstox",
                    url: redact(&url),
                    attempts: 1,
                    reason: e.to_string(),
                })?;
            self.connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            while let Some(msg) = ws.next().await {
                let data = match msg {
                    Ok(Ws::Binary(b)) => b,
                    Ok(Ws::Close(_)) => return Ok(frames),
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(reason = %e, "feed connection dropped; reconnecting");
                        break;
                    }
                };
                let decoded = decode_feed(&data, &format!("frame {frames}"), clock);
                let go_on = on_frame(frames, decoded)?;
                frames += 1;
                if !go_on || max_frames.is_some_and(|m| frames >= m) {
                    let _ = ws.close(None).await;
                    return Ok(frames);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The feed URL carries a one-time code: show only scheme, host and path.
fn redact(url: &str) -> String {
    url.split('?').next().unwrap_or_default().to_string()
}
