//! The Upstox order API (v2): place, modify, cancel, and the order book for reconciliation.
//!
//! Request and response shapes are the SDK's (`upstox-python-sdk` 2.30.0 models, listed in
//! `fixtures/upstox/rest/SHAPES.md`). Placing an order is **never blindly retried**: a timeout or
//! a 5xx after the request left may mean the order exists. Every order carries our client order id
//! in Upstox's `tag`; after an uncertain outcome the client reads the order book and returns the
//! order with that tag if there is one, and only sends again when there is none. So one client
//! order id becomes at most one Upstox order.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use elite_warehouse::Secret;

use crate::upstox::{ApiErrorItem, api_error, auth_headers, check_token};
use crate::{Error, Result};

/// `PlaceOrderRequest` (v2), as the SDK sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceOrder {
    pub quantity: i64,
    /// `D` delivery, `I` intraday.
    pub product: String,
    /// `DAY` or `IOC`.
    pub validity: String,
    pub price: f64,
    /// Our client order id (the idempotency key).
    pub tag: String,
    pub instrument_token: String,
    /// `MARKET`, `LIMIT`, `SL` (stop-limit) or `SL-M` (stop-market).
    pub order_type: String,
    /// `BUY` or `SELL`.
    pub transaction_type: String,
    pub disclosed_quantity: i64,
    pub trigger_price: f64,
    pub is_amo: bool,
}

/// `ModifyOrderRequest` (v2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModifyOrder {
    pub order_id: String,
    pub quantity: i64,
    pub validity: String,
    pub price: f64,
    pub order_type: String,
    pub disclosed_quantity: i64,
    pub trigger_price: f64,
}

/// An order as the order book (`OrderData`) and the order-update feed report it (the fields
/// trading needs). Upstox sends `null` for absent values (`"average_price": null` before a fill,
/// `"tag": null` for orders placed outside the API); those read as the default.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct OrderStatus {
    pub order_id: String,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default, deserialize_with = "null_default")]
    pub status_message: String,
    #[serde(default, deserialize_with = "null_default")]
    pub quantity: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub filled_quantity: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub pending_quantity: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub average_price: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub instrument_token: String,
    #[serde(default, deserialize_with = "null_default")]
    pub transaction_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub order_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub order_timestamp: String,
    #[serde(default, deserialize_with = "null_default")]
    pub exchange_timestamp: String,
}

/// Where an Upstox order status leaves the order (statuses from Upstox's order-status appendix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// Still working (or on its way: `put order req received`, `validation pending`,
    /// `open pending`, `trigger pending`, `modify pending`, `cancel pending`, `open`, …).
    Working,
    Complete,
    Rejected,
    Cancelled,
}

impl OrderStatus {
    pub fn state(&self) -> OrderState {
        match self.status.trim().to_ascii_lowercase().as_str() {
            "complete" => OrderState::Complete,
            "rejected" => OrderState::Rejected,
            "cancelled" | "cancelled after market order" => OrderState::Cancelled,
            _ => OrderState::Working,
        }
    }
}

/// One execution from the day's trade book (`GET /v2/order/trades/get-trades-for-day`). An
/// order filled in parts has one trade per part.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Trade {
    pub order_id: String,
    pub trade_id: String,
    /// Shares in this trade.
    pub quantity: i64,
    /// This trade's price.
    pub average_price: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub instrument_token: String,
    #[serde(default, deserialize_with = "null_default")]
    pub transaction_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub exchange_timestamp: String,
}

fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One message of the portfolio stream feed (`/v2/feed/portfolio-stream-feed`) or of the order
/// webhook: Upstox documents both as the same order JSON. `location` names the source in errors.
pub fn parse_order_update(body: &[u8], location: &str) -> Result<OrderStatus> {
    serde_json::from_slice(body).map_err(|e| Error::Input {
        location: location.into(),
        reason: format!("not an Upstox order update: {e}"),
    })
}

/// An Upstox timestamp (exchange time, IST): `2023-10-19 09:23:23` (order book) or
/// `03-Aug-2017 15:03:42` (trade book), as UTC; `None` when empty or unreadable.
pub fn upstox_time(s: &str) -> Option<elite_warehouse::Timestamp> {
    let s = s.trim();
    let ndt = ["%Y-%m-%d %H:%M:%S", "%d-%b-%Y %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())?;
    let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800)?;
    let utc = ndt
        .and_local_timezone(ist)
        .single()?
        .with_timezone(&chrono::Utc);
    elite_warehouse::Timestamp::from_datetime(&utc)
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Debug, Deserialize)]
struct OrderIdData {
    order_id: String,
}

/// What `place` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placed {
    /// Sent and accepted: Upstox's order id.
    New(String),
    /// The order with this tag already existed (found after an uncertain outcome): not re-sent.
    Existing(String),
}

impl Placed {
    pub fn order_id(&self) -> &str {
        match self {
            Placed::New(id) | Placed::Existing(id) => id,
        }
    }
}

#[derive(Clone, Debug)]
pub struct UpstoxOrders {
    base: reqwest::Url,
    http: reqwest::Client,
    token: Secret,
}

enum Outcome {
    /// The server answered: status and body.
    Answer(u16, bytes::Bytes),
    /// No answer (or a 5xx/429): the request may or may not have taken effect.
    Uncertain(String),
}

impl UpstoxOrders {
    pub fn new(base: &str, token: Secret) -> Result<Self> {
        let base = reqwest::Url::parse(base)
            .map_err(|e| Error::Options(format!("invalid Upstox base URL {base:?}: {e}")))?;
        check_token(&token)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("elite/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| Error::Options(e.to_string()))?;
        Ok(Self { base, http, token })
    }

    fn headers(&self) -> Result<HeaderMap> {
        auth_headers(&self.token)
    }

    fn url(&self, path: &str) -> Result<reqwest::Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Options(format!("Upstox URL {path}: {e}")))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Outcome> {
        match req.headers(self.headers()?).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(b) if status == 429 || status >= 500 => Ok(Outcome::Uncertain(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&b[..b.len().min(200)])
                    ))),
                    Ok(b) => Ok(Outcome::Answer(status, b)),
                    Err(e) => Ok(Outcome::Uncertain(e.to_string())),
                }
            }
            Err(e) => Ok(Outcome::Uncertain(e.to_string())),
        }
    }

    fn decode<T: for<'de> Deserialize<'de>>(status: u16, body: &[u8], what: &str) -> Result<T> {
        let env: Envelope<T> = serde_json::from_slice(body).map_err(|e| Error::Input {
            location: format!("upstox {what} response"),
            reason: e.to_string(),
        })?;
        if status != 200 || !env.errors.is_empty() {
            return Err(api_error(Some(status), &env.errors));
        }
        env.data.ok_or_else(|| Error::Input {
            location: format!("upstox {what} response"),
            reason: "no data".into(),
        })
    }

    /// Place an order; at most one Upstox order per `tag` (see the module docs).
    pub async fn place(&self, o: &PlaceOrder) -> Result<Placed> {
        if o.tag.is_empty() {
            return Err(Error::Options(
                "an order needs a tag (the client order id)".into(),
            ));
        }
        let url = self.url("v2/order/place")?;
        let mut last = String::new();
        for attempt in 0..2 {
            if attempt > 0 {
                // Before sending again: did the first one land?
                if let Some(found) = self.find_by_tag(&o.tag).await? {
                    return Ok(Placed::Existing(found.order_id));
                }
            }
            match self.send(self.http.post(url.clone()).json(o)).await? {
                Outcome::Answer(status, body) => {
                    let d: OrderIdData = Self::decode(status, &body, "place order")?;
                    return Ok(Placed::New(d.order_id));
                }
                Outcome::Uncertain(why) => last = why,
            }
        }
        if let Some(found) = self.find_by_tag(&o.tag).await? {
            return Ok(Placed::Existing(found.order_id));
        }
        Err(Error::Network {
            source_name: "upstox",
            url: url.to_string(),
            attempts: 2,
            reason: last,
        })
    }

    /// Modify a working order.
    pub async fn modify(&self, m: &ModifyOrder) -> Result<String> {
        let url = self.url("v2/order/modify")?;
        match self.send(self.http.put(url.clone()).json(m)).await? {
            Outcome::Answer(status, body) => {
                Ok(Self::decode::<OrderIdData>(status, &body, "modify order")?.order_id)
            }
            Outcome::Uncertain(reason) => Err(Error::Network {
                source_name: "upstox",
                url: url.to_string(),
                attempts: 1,
                reason,
            }),
        }
    }

    /// Cancel a working order.
    pub async fn cancel(&self, order_id: &str) -> Result<String> {
        let mut url = self.url("v2/order/cancel")?;
        url.query_pairs_mut().append_pair("order_id", order_id);
        match self.send(self.http.delete(url.clone())).await? {
            Outcome::Answer(status, body) => {
                Ok(Self::decode::<OrderIdData>(status, &body, "cancel order")?.order_id)
            }
            Outcome::Uncertain(reason) => Err(Error::Network {
                source_name: "upstox",
                url: url.to_string(),
                attempts: 1,
                reason,
            }),
        }
    }

    /// The day's order book (`GET /v2/order/retrieve-all`).
    pub async fn order_book(&self) -> Result<Vec<OrderStatus>> {
        let url = self.url("v2/order/retrieve-all")?;
        for _ in 0..3 {
            if let Outcome::Answer(status, body) = self.send(self.http.get(url.clone())).await? {
                return Self::decode(status, &body, "order book");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::Network {
            source_name: "upstox",
            url: url.to_string(),
            attempts: 3,
            reason: "order book unavailable".into(),
        })
    }

    /// The day's trades (`GET /v2/order/trades/get-trades-for-day`).
    pub async fn trades(&self) -> Result<Vec<Trade>> {
        let url = self.url("v2/order/trades/get-trades-for-day")?;
        for _ in 0..3 {
            if let Outcome::Answer(status, body) = self.send(self.http.get(url.clone())).await? {
                return Self::decode(status, &body, "trade book");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::Network {
            source_name: "upstox",
            url: url.to_string(),
            attempts: 3,
            reason: "trade book unavailable".into(),
        })
    }

    /// The one-time WebSocket URL of the portfolio stream feed carrying order updates
    /// (`GET /v2/feed/portfolio-stream-feed/authorize?update_types=order`).
    pub async fn order_updates_url(&self) -> Result<String> {
        let mut url = self.url("v2/feed/portfolio-stream-feed/authorize")?;
        url.query_pairs_mut().append_pair("update_types", "order");
        let (status, body) = match self.send(self.http.get(url.clone())).await? {
            Outcome::Answer(status, body) => (status, body),
            Outcome::Uncertain(reason) => {
                return Err(Error::Network {
                    source_name: "upstox",
                    url: url.path().to_string(),
                    attempts: 1,
                    reason,
                });
            }
        };
        // Upstox's documented response carries the URL twice, snake_case and camelCase.
        #[derive(Deserialize)]
        struct Authorized {
            authorized_redirect_uri: Option<String>,
            #[serde(rename = "authorizedRedirectUri")]
            camel: Option<String>,
        }
        let a: Authorized = Self::decode(status, &body, "portfolio feed authorize")?;
        a.authorized_redirect_uri
            .or(a.camel)
            .ok_or_else(|| Error::Input {
                location: "upstox portfolio feed authorize response".into(),
                reason: "no authorized_redirect_uri".into(),
            })
    }

    /// Connect to the portfolio stream feed. Order updates arrive on the returned
    /// [`OrderUpdates`]; a background task re-authorizes and reconnects (with backoff) when the
    /// connection drops, until the `OrderUpdates` is dropped. The first connection is made here,
    /// so a refused token or an unreachable feed is an error at once.
    pub async fn order_updates(&self) -> Result<OrderUpdates> {
        let first = connect_feed(&self.order_updates_url().await?).await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let client = self.clone();
        let task = tokio::spawn(async move {
            let mut ws = Some(first);
            let mut failures = 0u32;
            loop {
                let conn = match ws.take() {
                    Some(c) => c,
                    None => {
                        let next = match client.order_updates_url().await {
                            Ok(u) => connect_feed(&u).await,
                            Err(e) => Err(e),
                        };
                        match next {
                            Ok(c) => {
                                failures = 0;
                                c
                            }
                            Err(e) => {
                                failures += 1;
                                tracing::warn!(reason = %e, failures, "order-update feed: reconnect failed");
                                let wait =
                                    Duration::from_millis(250).saturating_mul(1 << failures.min(5));
                                tokio::time::sleep(wait).await;
                                continue;
                            }
                        }
                    }
                };
                if !pump(conn, &tx).await {
                    return; // the receiver is gone
                }
                let _ = tx.send(Update::Reconnecting);
            }
        });
        Ok(OrderUpdates {
            rx,
            task,
            bad: 0,
            reconnects: 0,
        })
    }

    /// Full market quotes (`GET /v2/market-quote/quotes?instrument_key=…`): the top of book of
    /// each instrument Upstox returns (an instrument it does not know is simply absent).
    pub async fn quotes(&self, keys: &[String]) -> Result<Vec<Quote>> {
        let mut url = self.url("v2/market-quote/quotes")?;
        url.query_pairs_mut()
            .append_pair("instrument_key", &keys.join(","));
        for _ in 0..3 {
            if let Outcome::Answer(status, body) = self.send(self.http.get(url.clone())).await? {
                let data: std::collections::BTreeMap<String, RawQuote> =
                    Self::decode(status, &body, "market quote")?;
                return Ok(data.into_values().map(Quote::from).collect());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::Network {
            source_name: "upstox",
            url: url.path().to_string(),
            attempts: 3,
            reason: "market quotes unavailable".into(),
        })
    }

    /// The order carrying `tag`, if the book has one.
    pub async fn find_by_tag(&self, tag: &str) -> Result<Option<OrderStatus>> {
        Ok(self
            .order_book()
            .await?
            .into_iter()
            .find(|o| o.tag.as_deref() == Some(tag)))
    }
}

type Feed =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_feed(url: &str) -> Result<Feed> {
    tokio_tungstenite::connect_async(url)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| Error::Network {
            source_name: "upstox",
            url: url.split('?').next().unwrap_or_default().to_string(),
            attempts: 1,
            reason: e.to_string(),
        })
}

enum Update {
    Order(Box<OrderStatus>),
    Bad(String),
    Reconnecting,
}

/// Forward one connection's messages until it ends; false when the receiver is gone.
async fn pump(mut ws: Feed, tx: &tokio::sync::mpsc::UnboundedSender<Update>) -> bool {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Ws;
    let mut n = 0u64;
    while let Some(msg) = ws.next().await {
        let data: Vec<u8> = match msg {
            Ok(Ws::Text(t)) => t.as_bytes().to_vec(),
            Ok(Ws::Binary(b)) => b.to_vec(),
            Ok(Ws::Close(_)) => break,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(reason = %e, "order-update feed dropped");
                break;
            }
        };
        n += 1;
        let update = match decode_update(&data, n) {
            Ok(Some(o)) => Update::Order(Box::new(o)),
            Ok(None) => continue, // a position or holding update
            Err(e) => Update::Bad(e.to_string()),
        };
        if tx.send(update).is_err() {
            return false;
        }
    }
    !tx.is_closed()
}

/// Decode an order-book response (`GET /v2/order/retrieve-all`) as the client does.
pub fn decode_order_book(status: u16, body: &[u8]) -> Result<Vec<OrderStatus>> {
    UpstoxOrders::decode(status, body, "order book")
}

/// Decode a trade-book response (`GET /v2/order/trades/get-trades-for-day`) as the client does.
pub fn decode_trades(status: u16, body: &[u8]) -> Result<Vec<Trade>> {
    UpstoxOrders::decode(status, body, "trade book")
}

/// One feed message: an order update, `None` for other update types, or an error naming it.
pub fn decode_update(data: &[u8], n: u64) -> Result<Option<OrderStatus>> {
    let location = format!("order-update feed message {n}");
    let v: serde_json::Value = serde_json::from_slice(data).map_err(|e| Error::Input {
        location: location.clone(),
        reason: format!("not JSON: {e}"),
    })?;
    match v.get("update_type").and_then(|t| t.as_str()) {
        Some(t) if t != "order" => Ok(None),
        _ => parse_order_update(data, &location).map(Some),
    }
}

/// Order updates from the portfolio stream feed (see [`UpstoxOrders::order_updates`]).
pub struct OrderUpdates {
    rx: tokio::sync::mpsc::UnboundedReceiver<Update>,
    task: tokio::task::JoinHandle<()>,
    /// Messages that did not decode (each logged with its reason).
    pub bad: u64,
    /// Times the connection dropped and was re-established.
    pub reconnects: u64,
}

impl OrderUpdates {
    fn take(&mut self, u: Update) -> Option<OrderStatus> {
        match u {
            Update::Order(o) => Some(*o),
            Update::Bad(reason) => {
                self.bad += 1;
                tracing::warn!(%reason, "order-update feed: message skipped");
                None
            }
            Update::Reconnecting => {
                self.reconnects += 1;
                None
            }
        }
    }

    /// Every update received so far (does not wait).
    pub fn drain(&mut self) -> Vec<OrderStatus> {
        let mut out = vec![];
        while let Ok(u) = self.rx.try_recv() {
            out.extend(self.take(u));
        }
        out
    }

    /// The next update, waiting at most `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<OrderStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let u = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .ok()??;
            if let Some(o) = self.take(u) {
                return Some(o);
            }
        }
    }
}

impl Drop for OrderUpdates {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default, Deserialize)]
struct Level {
    #[serde(default, deserialize_with = "null_default")]
    quantity: i64,
    #[serde(default, deserialize_with = "null_default")]
    price: f64,
}

#[derive(Debug, Default, Deserialize)]
struct Depth {
    #[serde(default)]
    buy: Vec<Level>,
    #[serde(default)]
    sell: Vec<Level>,
}

#[derive(Debug, Deserialize)]
struct RawQuote {
    instrument_token: String,
    #[serde(default)]
    depth: Option<Depth>,
    #[serde(default, deserialize_with = "null_default")]
    timestamp: String,
    #[serde(default, deserialize_with = "null_default")]
    last_price: f64,
}

/// One instrument's top of book from a full market quote. A side with no order reads as price
/// 0 (Upstox sends zero levels).
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub instrument_token: String,
    pub bid: f64,
    pub bid_qty: i64,
    pub ask: f64,
    pub ask_qty: i64,
    pub last_price: f64,
    /// The quote's time (`None` when absent or unreadable: too old to use).
    pub ts: Option<elite_warehouse::Timestamp>,
}

impl From<RawQuote> for Quote {
    fn from(r: RawQuote) -> Self {
        let d = r.depth.unwrap_or_default();
        let top = |v: &[Level]| v.first().map_or((0.0, 0), |l| (l.price, l.quantity));
        let (bid, bid_qty) = top(&d.buy);
        let (ask, ask_qty) = top(&d.sell);
        let ts = chrono::DateTime::parse_from_rfc3339(r.timestamp.trim())
            .ok()
            .and_then(|t| elite_warehouse::Timestamp::from_datetime(&t));
        Quote {
            instrument_token: r.instrument_token,
            bid,
            bid_qty,
            ask,
            ask_qty,
            last_price: r.last_price,
            ts,
        }
    }
}
