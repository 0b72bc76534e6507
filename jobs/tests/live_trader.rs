//! The live trader against a loopback Upstox: a venue that speaks the v2 order API (place,
//! cancel, order book, trade book) and answers with Upstox's own documented sample records
//! (`collectors/fixtures/upstox/orders/`) with its orders' fields substituted, so every field and
//! null Upstox sends passes through the client.
//!
//! The venue fills working market orders at the open of the next bar the test announces, as the
//! simulator does; so the live run must equal the backtest of the same config on the same real
//! GOOG bars: the same orders, fills, charges and cash. Also shown: a crash between sending and
//! the checkpoint is resumed without placing any order twice; Upstox's rejections and orders
//! Upstox has no form for end as rejected with the reason; partial executions are booked trade
//! by trade.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use elite_collectors::bars_csv::BarsOptions;
use elite_collectors::upstox_orders::UpstoxOrders;
use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
use elite_jobs::live::{LiveOptions, LiveTrader};
use elite_jobs::run::{Intake, RunConfig, build_engine};
use elite_store::Warehouse;
use elite_trade::order::OrderStatus;
use elite_trade::sim::Bar;
use elite_warehouse::{Symbol, SystemClock, Timeframe};
use serde_json::{Value, json};

/// Upstox's documented records, read once: the venue answers with copies of them.
struct Templates {
    trade: Value,
    order: Value,
    quote: Value,
}

static TEMPLATES: std::sync::LazyLock<Templates> = std::sync::LazyLock::new(|| Templates {
    trade: fixture("trades_for_day.json")["data"][0].clone(),
    order: fixture("order_book.json")["data"][0].clone(),
    quote: fixture("full_market_quote.json")["data"]["NSE_EQ:NHPC"].clone(),
});

fn fixture(name: &str) -> Value {
    let p = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../collectors/fixtures/upstox/orders")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[derive(Clone, Debug)]
struct VOrder {
    order_id: String,
    tag: String,
    instrument: String,
    side: String,
    order_type: String,
    qty: i64,
    filled: i64,
    value: f64,
    status: String,
    message: String,
    ts: String,
}

#[derive(Default)]
struct Venue {
    orders: Vec<VOrder>,
    trades: Vec<Value>,
    placements: HashMap<String, usize>,
    cancels: usize,
    /// Every n-th order placed is rejected by "RMS" after acceptance.
    reject_every: Option<usize>,
    /// Executions per fill (an order filled in this many trades).
    parts: i64,
    next: u64,
    /// The last bar announced: the market's clock never goes back (a restarted trader processes
    /// a bar again; the venue does not open it again).
    last: Option<elite_warehouse::Timestamp>,
    /// The order-update feed: its URL (served by `authorize`) and where updates go.
    feed: Option<(String, tokio::sync::mpsc::UnboundedSender<String>)>,
    pushed: usize,
    /// Fill only on every n-th bar (orders then rest a while), when set.
    fill_every: Option<usize>,
    bars: usize,
    /// Quotes for smart routing: (last price, time) set by the test; BSE quotes a tighter ask
    /// and a lower bid than NSE.
    quote_at: Option<(f64, elite_warehouse::Timestamp)>,
}

impl Venue {
    /// A bar opens: every working market order fills at its open, in `parts` trades.
    fn open_bar(&mut self, bar: &Bar) {
        if self.last.is_some_and(|t| bar.ts_event <= t) {
            return;
        }
        self.last = Some(bar.ts_event);
        self.bars += 1;
        if self
            .fill_every
            .is_some_and(|n| !self.bars.is_multiple_of(n))
        {
            return;
        }
        let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let t = bar.ts_event.to_datetime().with_timezone(&ist);
        let (trade_ts, book_ts) = (
            t.format("%d-%b-%Y %H:%M:%S").to_string(),
            t.format("%Y-%m-%d %H:%M:%S").to_string(),
        );
        let price = elite_trade::Money::from_f64(bar.open).unwrap().to_f64();
        let template = &TEMPLATES.trade;
        for o in &mut self.orders {
            if o.status != "open" || o.order_type != "MARKET" {
                continue;
            }
            let parts = self.parts.max(1).min(o.qty - o.filled);
            let mut left = o.qty - o.filled;
            for k in 0..parts {
                let q = if k + 1 == parts {
                    left
                } else {
                    left / (parts - k)
                };
                left -= q;
                self.next += 1;
                let mut tr = template.clone();
                tr["order_id"] = json!(o.order_id);
                tr["trade_id"] = json!(format!("T{}", self.next));
                tr["quantity"] = json!(q);
                tr["average_price"] = json!(price);
                tr["instrument_token"] = json!(o.instrument);
                tr["transaction_type"] = json!(o.side);
                tr["exchange_timestamp"] = json!(trade_ts);
                self.trades.push(tr);
                o.filled += q;
                o.value += q as f64 * price;
            }
            o.status = "complete".into();
            o.ts = book_ts.clone();
            let row = Self::row(o);
            if let Some((_, tx)) = &self.feed {
                let mut u = row;
                u["update_type"] = json!("order");
                tx.send(u.to_string()).unwrap();
                self.pushed += 1;
            }
        }
    }

    /// An order as Upstox's documented order record, with this order's fields.
    fn row(o: &VOrder) -> Value {
        let mut r = TEMPLATES.order.clone();
        r["order_id"] = json!(o.order_id);
        r["tag"] = json!(o.tag);
        r["status"] = json!(o.status);
        r["quantity"] = json!(o.qty);
        r["filled_quantity"] = json!(o.filled);
        r["pending_quantity"] = json!(o.qty - o.filled);
        r["average_price"] = if o.filled > 0 {
            json!(o.value / o.filled as f64)
        } else {
            Value::Null
        };
        r["status_message"] = if o.message.is_empty() {
            Value::Null
        } else {
            json!(o.message)
        };
        r["instrument_token"] = json!(o.instrument);
        r["transaction_type"] = json!(o.side);
        r["order_type"] = json!(o.order_type);
        r["exchange_timestamp"] = json!(o.ts);
        r
    }

    fn book(&self) -> Value {
        let rows: Vec<Value> = self.orders.iter().map(Self::row).collect();
        json!({"status": "success", "data": rows})
    }

    fn handle(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        match (method, path.split('?').next().unwrap_or("")) {
            ("POST", "/v2/order/place") => {
                let req: Value = serde_json::from_slice(body).unwrap();
                let tag = req["tag"].as_str().unwrap().to_string();
                *self.placements.entry(tag.clone()).or_default() += 1;
                self.next += 1;
                let qty = req["quantity"].as_i64().unwrap();
                let n = self.orders.len() + 1;
                let (status, message) = match self.reject_every {
                    Some(m) if n.is_multiple_of(m) => (
                        "rejected",
                        format!(
                            "You need to add Rs. {:.2} in your account to place this trade.",
                            qty as f64
                        ),
                    ),
                    _ => ("open", String::new()),
                };
                let id = format!("2410{:08}", self.next);
                let rejected = status == "rejected";
                self.orders.push(VOrder {
                    order_id: id.clone(),
                    tag,
                    instrument: req["instrument_token"].as_str().unwrap().into(),
                    side: req["transaction_type"].as_str().unwrap().into(),
                    order_type: req["order_type"].as_str().unwrap().into(),
                    qty,
                    filled: 0,
                    value: 0.0,
                    status: status.into(),
                    message,
                    ts: String::new(),
                });
                if rejected && let Some((_, tx)) = &self.feed {
                    let mut u = Self::row(self.orders.last().unwrap());
                    u["update_type"] = json!("order");
                    tx.send(u.to_string()).unwrap();
                    self.pushed += 1;
                }
                (200, json!({"status": "success", "data": {"order_id": id}}))
            }
            ("GET", "/v2/order/retrieve-all") => (200, self.book()),
            ("GET", "/v2/market-quote/quotes") => {
                let (px, ts) = self.quote_at.expect("a quote price");
                let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
                let stamp = ts
                    .to_datetime()
                    .with_timezone(&ist)
                    .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                    .to_string();
                let keys = path
                    .split("instrument_key=")
                    .nth(1)
                    .unwrap_or("")
                    .replace("%7C", "|");
                let template = &TEMPLATES.quote;
                let mut data = serde_json::Map::new();
                for k in keys.split("%2C") {
                    let (bid, ask) = if k.starts_with("BSE") {
                        (px * 0.998, px * 1.0005)
                    } else {
                        (px * 0.999, px * 1.001)
                    };
                    let mut q = template.clone();
                    q["instrument_token"] = json!(k);
                    q["depth"]["buy"][0] = json!({"quantity": 100000, "price": bid, "orders": 5});
                    q["depth"]["sell"][0] = json!({"quantity": 100000, "price": ask, "orders": 5});
                    q["timestamp"] = json!(stamp);
                    q["last_price"] = json!(px);
                    data.insert(k.replace('|', ":"), q);
                }
                (200, json!({"status": "success", "data": data}))
            }
            ("GET", "/v2/feed/portfolio-stream-feed/authorize") if self.feed.is_some() => {
                let url = self.feed.as_ref().unwrap().0.clone();
                (
                    200,
                    json!({"status": "success", "data": {"authorized_redirect_uri": url, "authorizedRedirectUri": url}}),
                )
            }
            ("GET", "/v2/order/trades/get-trades-for-day") => {
                (200, json!({"status": "success", "data": self.trades}))
            }
            ("DELETE", "/v2/order/cancel") => {
                let id = path.split("order_id=").nth(1).unwrap_or("").to_string();
                self.cancels += 1;
                if let Some(o) = self.orders.iter_mut().find(|o| o.order_id == id)
                    && o.status == "open"
                {
                    o.status = "cancelled".into();
                }
                (200, json!({"status": "success", "data": {"order_id": id}}))
            }
            _ => (
                404,
                json!({"status": "error", "errors": [{"errorCode": "UDAPI100060", "message": "Resource not Found."}]}),
            ),
        }
    }
}

/// The venue on a loopback port: its base URL and its state.
fn venue() -> (String, Arc<Mutex<Venue>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Venue {
        parts: 1,
        ..Default::default()
    }));
    let v = Arc::clone(&state);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            );
            let (mut len, mut auth) = (0usize, String::new());
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, val)) = h.trim_end().split_once(':') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "content-length" => len = val.trim().parse().unwrap_or(0),
                        "authorization" => auth = val.trim().to_string(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let (status, out) = if auth != "Bearer live-token" {
                (
                    401,
                    json!({"status": "error", "errors": [{"errorCode": "UDAPI100050", "message": "Invalid token used to access API"}]}),
                )
            } else {
                v.lock().unwrap().handle(&method, &path, &body)
            };
            let out = out.to_string();
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                out.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(out.as_bytes());
        }
    });
    (base, state)
}

async fn warehouse(dir: &Path) -> Warehouse {
    let wh = Warehouse::open(dir.to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    let mut o = BarsOptions::new("", Timeframe::parse("1d").unwrap());
    o.symbol = Some(Symbol::new("GOOG").unwrap());
    let p = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../collectors/fixtures/bars/GOOG_1d.csv");
    ing.ingest_file(&FileIngest::new(p, FileFormat::Csv, o), &())
        .await
        .unwrap();
    wh
}

fn config(base: &str, extra: &str) -> RunConfig {
    RunConfig::from_toml(&format!(
        r#"
name = "goog-live"
initial_cash = "1000000"
[data]
timeframe = "1d"
symbols = ["GOOG"]
[costs]
model = "zerodha_delivery"
[risk]
max_gross_leverage = 1.0
[[strategy]]
name = "sma"
type = "sma_cross"
fast = 10
slow = 30
weight = 0.5
size = {{ percent = 0.9 }}
[[strategy]]
name = "rsi"
type = "rsi_reversion"
period = 14
low = 30
exit = 55
weight = 0.5
size = {{ percent = 0.9 }}
{extra}
[broker]
kind = "upstox"
base_url = "{base}"
token_env = "ELITE_TEST_UPSTOX_TOKEN"
instruments = {{ GOOG = "NSE_EQ|INE000GOOG01" }}
"#
    ))
    .unwrap()
}

fn client(base: &str) -> UpstoxOrders {
    UpstoxOrders::new(base, "live-token".into()).unwrap()
}

/// The same config as a backtest (the simulator fills).
async fn backtest(wh: &Warehouse, cfg: &RunConfig) -> elite_trade::engine::Engine {
    let i = Intake::load(wh, cfg, None, &Default::default())
        .await
        .unwrap();
    let mut e = build_engine(cfg, &i.symbols, &i.inputs, None).unwrap();
    for ev in &i.events {
        e.process(ev).unwrap();
    }
    e
}

fn fills(e: &elite_trade::engine::Engine) -> Vec<String> {
    e.journal
        .fills
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect()
}

async fn drive(t: &mut LiveTrader<'_>, venue: &Arc<Mutex<Venue>>, upto: Option<usize>) {
    let mut n = 0;
    while let Some(b) = t.peek().copied() {
        if upto.is_some_and(|u| n >= u) {
            break;
        }
        venue.lock().unwrap().open_bar(&b);
        t.step().await.unwrap();
        n += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_equals_the_backtest_and_a_crash_never_sends_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    let (base, v) = venue();
    let cfg = config(&base, "");
    let opts = LiveOptions {
        name: "t".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };

    // First session: 1200 bars with a commit every 100, then a crash right after the orders of
    // bar 1200 went out and before any checkpoint recorded them.
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    for _ in 0..12 {
        drive(&mut t, &v, Some(100)).await;
        t.commit().await.unwrap();
    }
    let sent_before_crash = v.lock().unwrap().placements.len();
    let mut crashed_at = None;
    while let Some(b) = t.peek().copied() {
        v.lock().unwrap().open_bar(&b);
        t.step().await.unwrap();
        if v.lock().unwrap().placements.len() > sent_before_crash {
            crashed_at = Some(b.ts_recv);
            break; // orders are at Upstox; the checkpoint does not know
        }
        t.commit().await.unwrap();
    }
    assert!(crashed_at.is_some(), "an order went out after bar 1200");
    let first = t.stats.clone();
    drop(t);

    // Restart: rebuilt from the checkpoint; the lost bar is processed again, its orders are found
    // at Upstox by tag and adopted.
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive(&mut t, &v, None).await;
    t.commit().await.unwrap();
    assert!(t.stats.adopted >= 1, "{:?}", t.stats);
    {
        let venue = v.lock().unwrap();
        let twice: Vec<_> = venue.placements.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "placed twice: {twice:?}");
        assert!(venue.orders.len() > 20, "{} orders", venue.orders.len());
    }

    // Live == backtest: every fill (price, quantity, time, charges, strategy), and the cash.
    let bt = backtest(&wh, &cfg).await;
    let live_fills = fills(&t.session.engine);
    let bt_fills = fills(&bt);
    // Both end at the last bar: orders decided on it are still working, in both.
    assert_eq!(
        live_fills.len(),
        bt_fills.len(),
        "{:?} {:?}",
        first,
        t.stats
    );
    if let Some(i) = (0..live_fills.len()).find(|&i| live_fills[i] != bt_fills[i]) {
        panic!(
            "fill {i} differs:\n live     {}\n backtest {}",
            live_fills[i], bt_fills[i]
        );
    }
    assert_eq!(t.session.engine.ledger.cash, bt.ledger.cash);
    assert_eq!(
        t.session.engine.journal.submitted.len(),
        bt.journal.submitted.len()
    );
    t.session
        .engine
        .ledger
        .reconcile(Some(&t.session.engine.journal.fills))
        .unwrap();

    // The warehouse holds the live run's fills, once each, under its run id.
    use elite_store::datafusion::prelude::{col, lit};
    let rows: usize = wh
        .read(
            "fills",
            elite_store::At::Latest,
            Some(col("run_id").eq(lit(t.session.run_id.clone()))),
        )
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, live_fills.len());

    // Nothing new to do: a third session sends nothing.
    let before = v.lock().unwrap().placements.values().sum::<usize>();
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    assert_eq!(t.remaining(), 0);
    drive(&mut t, &v, None).await;
    assert_eq!(v.lock().unwrap().placements.values().sum::<usize>(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_partials_and_unsendable_orders() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    let (base, v) = venue();
    {
        let mut venue = v.lock().unwrap();
        venue.parts = 3;
        venue.reject_every = Some(3);
    }
    let cfg = config(&base, "");
    let opts = LiveOptions {
        name: "r".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive(&mut t, &v, Some(600)).await;
    let j = &t.session.engine.journal;
    // Every third order was rejected by the venue's RMS: rejected in the engine with Upstox's
    // message, nothing booked for it.
    let rejected: Vec<_> = j
        .order_events
        .iter()
        .filter(|e| e.status == OrderStatus::Rejected)
        .collect();
    assert!(!rejected.is_empty());
    assert!(
        rejected
            .iter()
            .all(|e| e.reason.contains("upstox: rejected: You need to add Rs.") && e.filled == 0),
        "{rejected:?}"
    );
    // Every accepted order filled in three trades, each booked once.
    let filled_orders: std::collections::HashSet<&str> =
        j.fills.iter().map(|f| f.order_id.as_str()).collect();
    assert!(!filled_orders.is_empty());
    for id in &filled_orders {
        let n = j.fills.iter().filter(|f| f.order_id == *id).count();
        let qty: i64 = j.submitted.iter().find(|(_, o)| o.id == *id).unwrap().1.qty;
        assert_eq!(n as i64, 3.min(qty), "{id}");
    }
    assert_eq!(t.stats.fills, j.fills.len());
    t.session.engine.ledger.reconcile(Some(&j.fills)).unwrap();

    // A symbol without an Upstox instrument key: its orders are refused before sending, with
    // the reason.
    let mut cfg = config(&base, "");
    cfg.broker.as_mut().unwrap().instruments.clear();
    let opts = LiveOptions {
        name: "u".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let placed = v.lock().unwrap().orders.len();
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive(&mut t, &v, Some(300)).await;
    assert_eq!(v.lock().unwrap().orders.len(), placed, "nothing sent");
    let ev = t
        .session
        .engine
        .journal
        .order_events
        .iter()
        .find(|e| e.status == OrderStatus::Rejected)
        .expect("a refused order");
    assert!(
        ev.reason
            .contains("no Upstox instrument key for GOOG in [broker.instruments]"),
        "{}",
        ev.reason
    );
    assert!(t.session.engine.journal.fills.is_empty());

    // A bad token stops the trader at once (opening reads the order book) instead of refusing
    // orders one by one.
    let cfg = config(&base, "");
    let opts = LiveOptions {
        name: "b".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let err = LiveTrader::open(
        &wh,
        &cfg,
        &opts,
        UpstoxOrders::new(&base, "stale".into()).unwrap(),
    )
    .await
    .err()
    .expect("opening reads the order book, which a stale token cannot")
    .to_string();
    assert!(err.contains("UDAPI100050"), "{err}");
}

/// Give the venue an order-update feed: a WebSocket server forwarding what the venue pushes.
async fn with_feed(v: &Arc<Mutex<Venue>>) {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "ws://{}/order-updates?code=x",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                continue;
            };
            let mut rx = rx.lock().await;
            while let Some(m) = rx.recv().await {
                if ws.send(Message::Text(m.into())).await.is_err() {
                    break;
                }
            }
        }
    });
    v.lock().unwrap().feed = Some((url, tx));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_update_feed_replaces_polling_every_bar() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    let (base, v) = venue();
    with_feed(&v).await;
    {
        let mut venue = v.lock().unwrap();
        venue.reject_every = Some(4);
        venue.fill_every = Some(3); // orders rest up to three bars
    }
    let mut cfg = config(&base, "");
    cfg.broker.as_mut().unwrap().poll_every = 1000;
    let opts = LiveOptions {
        name: "f".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    assert_eq!(t.stats.feed, "connected");
    let mut bars_working = 0;
    let mut waited = 0;
    while let Some(b) = t.peek().copied() {
        v.lock().unwrap().open_bar(&b);
        // Fills of this open and rejections of the last placements: let every update cross the
        // socket before the bar is processed (so the run does not depend on timing).
        let pushed = v.lock().unwrap().pushed;
        if pushed > waited {
            let got = t
                .wait_updates(pushed - waited, std::time::Duration::from_secs(10))
                .await;
            assert_eq!(got, pushed - waited);
            waited = pushed;
        }
        if t.working() > 0 {
            bars_working += 1;
        }
        t.step().await.unwrap();
    }
    let s = t.stats.clone();
    eprintln!("feed run: {s:?}; {bars_working} bars with orders working");
    // The books were read when the feed said one of our orders changed, not every bar orders
    // were working.
    assert!(s.our_updates > 20, "{s:?}");
    assert!(s.polls <= s.our_updates + bars_working / 1000 + 1, "{s:?}");
    assert!(
        bars_working > s.polls,
        "{bars_working} bars with orders working, {s:?}"
    );
    // Every venue trade is booked once, every rejection ended with Upstox's message.
    {
        let vs = v.lock().unwrap();
        let traded: i64 = vs
            .trades
            .iter()
            .map(|t| t["quantity"].as_i64().unwrap())
            .sum();
        let booked: i64 = t.session.engine.journal.fills.iter().map(|f| f.qty).sum();
        let still_open = vs.orders.iter().filter(|o| o.status == "open").count();
        assert!(
            still_open <= 2,
            "only the last bar's orders wait for a next open"
        );
        assert_eq!(booked, traded);
        let rejected = vs.orders.iter().filter(|o| o.status == "rejected").count();
        let ended = t
            .session
            .engine
            .journal
            .order_events
            .iter()
            .filter(|e| e.status == OrderStatus::Rejected)
            .count();
        assert!(rejected > 0);
        assert_eq!(ended, rejected);
        t.session
            .engine
            .ledger
            .reconcile(Some(&t.session.engine.journal.fills))
            .unwrap();
    }

    // The same venue behaviour without the feed: the books are read every bar orders work, and
    // the trading is exactly the same.
    let (base2, v2) = venue();
    {
        let mut venue = v2.lock().unwrap();
        venue.reject_every = Some(4);
        venue.fill_every = Some(3);
    }
    let mut cfg2 = config(&base2, "");
    cfg2.broker.as_mut().unwrap().order_updates = false;
    let opts2 = LiveOptions {
        name: "p".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut polled = LiveTrader::open(&wh, &cfg2, &opts2, client(&base2))
        .await
        .unwrap();
    drive(&mut polled, &v2, None).await;
    assert_eq!(polled.stats.feed, "off");
    assert_eq!(polled.stats.polls, bars_working);
    assert!(s.polls < polled.stats.polls);
    assert_eq!(fills(&polled.session.engine), fills(&t.session.engine));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_orders_are_routed_to_the_better_venue_and_replayed_on_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    let (base, v) = venue();
    let mut cfg = config(&base, "");
    let b = cfg.broker.as_mut().unwrap();
    b.order_updates = false;
    b.venues
        .insert("GOOG".into(), vec!["BSE_EQ|INE000GOOG01".into()]);
    let opts = LiveOptions {
        name: "route".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let drive_quoting = async |t: &mut LiveTrader<'_>, upto: Option<usize>| {
        let mut n = 0;
        while let Some(b) = t.peek().copied() {
            if upto.is_some_and(|u| n >= u) {
                break;
            }
            {
                let mut venue = v.lock().unwrap();
                venue.open_bar(&b);
                venue.quote_at = Some((b.close, b.ts_recv));
            }
            t.step().await.unwrap();
            n += 1;
        }
    };
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive_quoting(&mut t, Some(1000)).await;
    t.commit().await.unwrap();
    drop(t);
    // The restart replays the recorded routing decisions: the rebuilt journal matches.
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive_quoting(&mut t, None).await;
    t.commit().await.unwrap();

    let venue = v.lock().unwrap();
    assert!(venue.orders.len() > 20);
    for o in &venue.orders {
        let want = if o.side == "BUY" {
            "BSE_EQ|"
        } else {
            "NSE_EQ|"
        };
        assert!(
            o.instrument.starts_with(want),
            "{} went to {}",
            o.side,
            o.instrument
        );
    }
    let routes: Vec<_> = t
        .session
        .engine
        .journal
        .risk
        .iter()
        .filter(|r| r.check == "route")
        .collect();
    assert_eq!(
        routes.len(),
        venue.orders.len(),
        "one decision per order, across the restart"
    );
    let buys = routes
        .iter()
        .filter(|r| r.detail.starts_with("BSE_EQ|"))
        .count();
    assert!(buys > 0 && buys < routes.len());
    // Buys save 5 bps of ask on BSE; sells get a bid 10 bps higher on NSE (the primary).
    assert!(
        routes
            .iter()
            .filter(|r| r.detail.starts_with("BSE_EQ|"))
            .all(|r| r.detail.contains("better by 5.00 bps")),
        "{routes:?}"
    );
    t.session
        .engine
        .ledger
        .reconcile(Some(&t.session.engine.journal.fills))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_the_bars_table_trades_bars_as_they_land() {
    // The first 1,000 GOOG days land, the trader trades them; then the rest lands and
    // `refresh` hands them over: the result equals a backtest over everything.
    let tmp = tempfile::tempdir().unwrap();
    let full = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../collectors/fixtures/bars/GOOG_1d.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let part = tmp.path().join("GOOG_part.csv");
    std::fs::write(
        &part,
        text.lines().take(1001).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let wh = Warehouse::open(tmp.path().join("wh").to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    let ingest = async |p: &Path| {
        let mut o = BarsOptions::new("", Timeframe::parse("1d").unwrap());
        o.symbol = Some(Symbol::new("GOOG").unwrap());
        ing.ingest_file(&FileIngest::new(p, FileFormat::Csv, o), &())
            .await
            .unwrap();
    };
    ingest(&part).await;
    let (base, v) = venue();
    let mut cfg = config(&base, "");
    cfg.broker.as_mut().unwrap().order_updates = false;
    let opts = LiveOptions {
        name: "follow".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    assert_eq!(t.remaining(), 1000);
    drive(&mut t, &v, None).await;
    t.commit().await.unwrap();
    assert_eq!(t.refresh().await.unwrap(), 0, "nothing new yet");
    ingest(&full).await;
    assert_eq!(t.refresh().await.unwrap(), 1148);
    drive(&mut t, &v, None).await;
    t.commit().await.unwrap();
    let bt = backtest(&wh, &cfg).await;
    assert_eq!(fills(&t.session.engine), fills(&bt));
    assert_eq!(t.session.engine.ledger.cash, bt.ledger.cash);
}

/// An `ml` strategy on GOOG trading the predictions of model `mom` (`walk_forward`): long above
/// 0.55, flat below 0.5.
fn ml_config(base: &str) -> RunConfig {
    RunConfig::from_toml(&format!(
        r#"
name = "goog-ml"
initial_cash = "1000000"
[data]
timeframe = "1d"
symbols = ["GOOG"]
[costs]
model = "zerodha_delivery"
[risk]
max_gross_leverage = 1.0
[[strategy]]
name = "ml"
type = "ml"
model = "mom"
long_above = 0.55
neutral = 0.5
size = {{ percent = 0.9 }}
[broker]
kind = "upstox"
base_url = "{base}"
token_env = "ELITE_TEST_UPSTOX_TOKEN"
instruments = {{ GOOG = "NSE_EQ|INE000GOOG01" }}
order_updates = false
"#
    ))
    .unwrap()
}

/// Land GOOG's first `take` days (all when `None`) with one prediction of model `mom` per bar,
/// known at the bar's close: 0.7 when the close is above the close 5 bars before, else 0.3 (a
/// score made from the data, not by the code under test). Re-landing lands only what is new.
async fn land_bars_and_predictions(wh: &Warehouse, dir: &Path, take: Option<usize>) {
    use elite_jobs::bars::{BarQuery, read_bars};
    use elite_jobs::models::{PredictionRow, insert_predictions};
    let full = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../collectors/fixtures/bars/GOOG_1d.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let part = dir.join("GOOG_part.csv");
    let n = take.map_or(usize::MAX, |t| t + 1);
    std::fs::write(
        &part,
        text.lines().take(n).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    let mut o = BarsOptions::new("", Timeframe::parse("1d").unwrap());
    o.symbol = Some(Symbol::new("GOOG").unwrap());
    ing.ingest_file(&FileIngest::new(&part, FileFormat::Csv, o), &())
        .await
        .unwrap();
    let q = BarQuery {
        timeframe: Some(Timeframe::parse("1d").unwrap()),
        symbols: vec![Symbol::new("GOOG").unwrap()],
        version: None,
    };
    let (bars, _) = read_bars(wh, &q).await.unwrap();
    let rows: Vec<PredictionRow> = bars
        .iter()
        .enumerate()
        .skip(5)
        .map(|(i, b)| PredictionRow {
            model_id: "mom".into(),
            source: "walk_forward".into(),
            symbol: "GOOG".into(),
            ts_event: b.ts_event.as_nanos() / 1000,
            ts_recv: b.ts_recv.as_nanos() / 1000,
            score: if b.bar.close > bars[i - 5].bar.close {
                0.7
            } else {
                0.3
            },
            confidence: None,
            fold: None,
        })
        .collect();
    insert_predictions(wh, &rows, elite_store::CommitMeta::new("test:predictions"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictions_that_land_after_start_are_traded_as_the_backtest_trades_them() {
    use elite_jobs::trader::{PaperTrader, TraderOptions};
    // 1,000 GOOG days and their predictions land; a paper and a live trader start and trade
    // them; the other 1,148 days land with their predictions; after a refresh both traders must
    // trade the new predictions exactly as a backtest over the whole period does.
    let tmp = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(tmp.path().join("wh").to_str().unwrap()).unwrap();
    land_bars_and_predictions(&wh, tmp.path(), Some(1000)).await;
    let (base, v) = venue();
    let cfg = ml_config(&base);
    let popts = TraderOptions {
        name: "paper-ml".into(),
        state_dir: tmp.path().join("_state"),
        commit_every: 250,
        rate: None,
        fresh: false,
        follow: true,
    };
    let mut paper = PaperTrader::open(&wh, &cfg, &popts).await.unwrap();
    assert_eq!(paper.remaining(), 1000);
    assert_eq!(paper.run(&wh).await.unwrap(), 1000);
    paper.commit(&wh).await.unwrap();
    let lopts = LiveOptions {
        name: "live-ml".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut live = LiveTrader::open(&wh, &cfg, &lopts, client(&base))
        .await
        .unwrap();
    drive(&mut live, &v, None).await;
    live.commit().await.unwrap();
    let early = backtest(&wh, &cfg).await;
    assert!(
        early.journal.fills.len() >= 10,
        "the first half trades: {} fills",
        early.journal.fills.len()
    );
    assert_eq!(fills(&paper.session.engine), fills(&early));
    assert_eq!(fills(&live.session.engine), fills(&early));

    land_bars_and_predictions(&wh, tmp.path(), None).await;
    assert_eq!(paper.refresh(&wh).await.unwrap(), (1148, 1148));
    assert_eq!(live.refresh().await.unwrap(), 1148);
    assert_eq!(paper.run(&wh).await.unwrap(), 1148);
    drive(&mut live, &v, None).await;
    live.commit().await.unwrap();

    let bt = backtest(&wh, &cfg).await;
    let late_fills = bt.journal.fills.len() - early.journal.fills.len();
    assert!(
        late_fills >= 10,
        "the second half trades: {late_fills} fills"
    );
    assert_eq!(
        (
            paper.session.engine.journal.fills.len(),
            live.session.engine.journal.fills.len()
        ),
        (bt.journal.fills.len(), bt.journal.fills.len()),
        "fills of paper and live vs the backtest"
    );
    assert_eq!(fills(&paper.session.engine), fills(&bt), "paper");
    assert_eq!(paper.session.engine.ledger.cash, bt.ledger.cash);
    assert_eq!(fills(&live.session.engine), fills(&bt), "live");
    assert_eq!(live.session.engine.ledger.cash, bt.ledger.cash);
    assert_eq!(paper.report.late_inputs, 0);
    assert_eq!(live.stats.late_inputs, 0);

    // A restart of either rebuilds the same book by replaying the intake, predictions included.
    let report = paper.close(&wh, &SystemClock).await.unwrap();
    assert!(report.summary.is_none(), "a following run has no end");
    let paper = PaperTrader::open(&wh, &cfg, &popts).await.unwrap();
    assert_eq!(paper.remaining(), 0);
    assert_eq!(fills(&paper.session.engine), fills(&bt));
    drop(live);
    let live = LiveTrader::open(&wh, &cfg, &lopts, client(&base))
        .await
        .unwrap();
    assert_eq!(live.remaining(), 0);
    assert_eq!(fills(&live.session.engine), fills(&bt));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_halt_flattens_at_upstox_and_a_restart_stays_halted() {
    use elite_jobs::ops::alerts::{Command, Request};
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    let (base, v) = venue();
    let cfg = config(&base, "");
    let opts = LiveOptions {
        name: "h".into(),
        state_dir: tmp.path().join("_state"),
        fresh: false,
    };
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    drive(&mut t, &v, Some(300)).await;
    // On to a bar where the book holds GOOG.
    while t.session.engine.ledger.qty(0) == 0 {
        assert!(t.peek().is_some(), "the strategies never held a position");
        drive(&mut t, &v, Some(1)).await;
    }
    t.commit().await.unwrap();
    let placed = |v: &Arc<Mutex<Venue>>| v.lock().unwrap().placements.values().sum::<usize>();
    let before = placed(&v);
    let req = |command| Request {
        command,
        chat_id: 100,
        user_id: Some(7),
    };
    let reply = t.command(&req(Command::Status)).await.unwrap();
    assert!(reply.starts_with("LIVE trader (run "), "{reply}");
    let reply = t
        .command(&req(Command::Halt("desk call".into())))
        .await
        .unwrap();
    assert!(reply.starts_with("HALTED: kill switch on"), "{reply}");
    assert!(t.session.engine.risk.halted());
    assert!(
        placed(&v) > before,
        "the flattening order went to Upstox at once: {reply} {:?} {:?}",
        t.stats,
        t.session.engine.journal.submitted.last()
    );
    let again = t.command(&req(Command::Halt(String::new()))).await.unwrap();
    assert_eq!(again, "the kill switch is already on");
    // The venue fills it at the next bar; nothing else is placed while halted.
    let after_halt = placed(&v);
    drive(&mut t, &v, Some(5)).await;
    t.commit().await.unwrap();
    assert_eq!(t.session.engine.ledger.qty(0), 0, "flattened");
    assert_eq!(placed(&v), after_halt, "halted: no new order");
    drop(t);

    // A restart replays the halt where it happened: still halted, nothing placed twice.
    let mut t = LiveTrader::open(&wh, &cfg, &opts, client(&base))
        .await
        .unwrap();
    assert!(t.session.engine.risk.halted());
    drive(&mut t, &v, Some(50)).await;
    assert_eq!(placed(&v), after_halt);
    let twice: Vec<_> = v
        .lock()
        .unwrap()
        .placements
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, n)| format!("{k}×{n}"))
        .collect();
    assert!(twice.is_empty(), "{twice:?}");
    let reply = t
        .command(&req(Command::Resume("cleared".into())))
        .await
        .unwrap();
    assert!(reply.starts_with("resumed"), "{reply}");
    assert!(!t.session.engine.risk.halted());
}
