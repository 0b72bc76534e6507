//! The Upstox order client against a loopback server. Responses are **synthetic values in the
//! SDK's documented shapes** (`fixtures/upstox/rest/SHAPES.md`: `PlaceOrderResponse`,
//! `OrderData`, the error envelope recorded in `error_invalid_instrument.json`); no real order
//! payloads are available offline. Checked: the exact requests sent, the error envelope, and that
//! an uncertain placement is resolved through the order book instead of being sent twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use elite_collectors::upstox_orders::{
    ModifyOrder, OrderState, PlaceOrder, Placed, UpstoxOrders, parse_order_update, upstox_time,
};

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    auth: String,
    body: String,
}

/// Answers each request with the next scripted (status, body); records what it saw.
fn server(responses: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(vec![]));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (status, body) in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
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
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "content-length" => len = v.trim().parse().unwrap_or(0),
                        "authorization" => auth = v.trim().to_string(),
                        _ => {}
                    }
                }
            }
            let mut buf = vec![0; len];
            r.read_exact(&mut buf).unwrap();
            log.lock().unwrap().push(Seen {
                method,
                path,
                auth,
                body: String::from_utf8_lossy(&buf).into(),
            });
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    (base, seen)
}

fn order(tag: &str) -> PlaceOrder {
    PlaceOrder {
        quantity: 10,
        product: "D".into(),
        validity: "DAY".into(),
        price: 2973.1,
        tag: tag.into(),
        instrument_token: "NSE_EQ|INE002A01018".into(),
        order_type: "LIMIT".into(),
        transaction_type: "BUY".into(),
        disclosed_quantity: 0,
        trigger_price: 0.0,
        is_amo: false,
    }
}

const OK: &str = r#"{"status":"success","data":{"order_id":"240603000123456"}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn place_modify_cancel_send_the_sdk_requests() {
    let (base, seen) = server(vec![(200, OK.into()), (200, OK.into()), (200, OK.into())]);
    let c = UpstoxOrders::new(&base, "secret-token".into()).unwrap();
    assert_eq!(
        c.place(&order("elite-1")).await.unwrap(),
        Placed::New("240603000123456".into())
    );
    let m = ModifyOrder {
        order_id: "240603000123456".into(),
        quantity: 10,
        validity: "DAY".into(),
        price: 2970.0,
        order_type: "LIMIT".into(),
        disclosed_quantity: 0,
        trigger_price: 0.0,
    };
    assert_eq!(c.modify(&m).await.unwrap(), "240603000123456");
    assert_eq!(
        c.cancel("240603000123456").await.unwrap(),
        "240603000123456"
    );
    let s = seen.lock().unwrap().clone();
    assert_eq!(
        (s[0].method.as_str(), s[0].path.as_str()),
        ("POST", "/v2/order/place")
    );
    assert_eq!(s[0].auth, "Bearer secret-token");
    let body: serde_json::Value = serde_json::from_str(&s[0].body).unwrap();
    assert_eq!(body["tag"], "elite-1");
    assert_eq!(body["instrument_token"], "NSE_EQ|INE002A01018");
    assert_eq!(body["price"], 2973.1);
    assert_eq!(body["transaction_type"], "BUY");
    assert_eq!(
        (s[1].method.as_str(), s[1].path.as_str()),
        ("PUT", "/v2/order/modify")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&s[1].body).unwrap()["price"],
        2970.0
    );
    assert_eq!(
        (s[2].method.as_str(), s[2].path.as_str()),
        ("DELETE", "/v2/order/cancel?order_id=240603000123456")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_error_envelope_is_an_error_naming_the_code() {
    let envelope = std::fs::read_to_string(format!(
        "{}/fixtures/upstox/rest/error_invalid_instrument.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ))
    .unwrap();
    let (base, _) = server(vec![(400, envelope)]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    let e = c.place(&order("elite-2")).await.unwrap_err().to_string();
    assert!(
        e.contains("UDAPI1021") && e.contains("Instrument key is invalid"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uncertain_placement_is_found_by_tag_not_sent_twice() {
    // The POST gets a 503 (it may have landed); the order book shows our tag: no second POST.
    let book = r#"{"status":"success","data":[
        {"order_id":"111","tag":"other","status":"complete","quantity":5,"filled_quantity":5},
        {"order_id":"240603000999","tag":"elite-3","status":"open","quantity":10,"filled_quantity":0}]}"#;
    let (base, seen) = server(vec![(503, "busy".into()), (200, book.into())]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    assert_eq!(
        c.place(&order("elite-3")).await.unwrap(),
        Placed::Existing("240603000999".into())
    );
    let posts = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.method == "POST")
        .count();
    assert_eq!(posts, 1);
    // Not in the book: sent again, once.
    let (base, seen) = server(vec![
        (503, "busy".into()),
        (200, r#"{"status":"success","data":[]}"#.into()),
        (200, OK.into()),
    ]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    assert_eq!(
        c.place(&order("elite-4")).await.unwrap(),
        Placed::New("240603000123456".into())
    );
    let methods: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        methods,
        [
            "POST /v2/order/place",
            "GET /v2/order/retrieve-all",
            "POST /v2/order/place"
        ]
    );
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/upstox/orders/{name}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_documented_order_and_trade_books_decode_nulls_included() {
    // Upstox's published samples: a complete order with `"tag": null`, a rejected one with its
    // message, and a trade book entry with the trade book's date format.
    let (base, seen) = server(vec![
        (200, fixture("order_book.json")),
        (200, fixture("trades_for_day.json")),
    ]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    let book = c.order_book().await.unwrap();
    assert_eq!(book.len(), 2);
    assert_eq!(book[0].order_id, "231019025057849");
    assert_eq!(book[0].tag, None);
    assert_eq!(book[0].state(), OrderState::Complete);
    assert_eq!((book[0].filled_quantity, book[0].average_price), (1, 0.8));
    assert_eq!(book[1].state(), OrderState::Rejected);
    assert!(book[1].status_message.contains("138385.27"));
    assert_eq!(book[1].exchange_timestamp, "");
    let trades = c.trades().await.unwrap();
    assert_eq!(trades.len(), 1);
    let t = &trades[0];
    assert_eq!(
        (
            t.order_id.as_str(),
            t.trade_id.as_str(),
            t.quantity,
            t.average_price
        ),
        ("221013001021539", "50091502", 1, 299.4)
    );
    // 15:03:42 IST is 09:33:42 UTC.
    assert_eq!(
        upstox_time(&t.exchange_timestamp).unwrap().to_string(),
        "2017-08-03T09:33:42Z"
    );
    assert_eq!(
        upstox_time(&book[0].exchange_timestamp)
            .unwrap()
            .to_string(),
        "2023-10-19T03:53:23Z"
    );
    assert_eq!(upstox_time(""), None);
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/v2/order/retrieve-all",
            "/v2/order/trades/get-trades-for-day"
        ]
    );
}

#[test]
fn the_documented_order_update_decodes_and_bad_ones_are_named() {
    // The webhook / portfolio-stream sample has `"average_price": null` (no fill yet): before the
    // fix that tolerates Upstox's nulls this failed to decode.
    let u = parse_order_update(fixture("order_update_webhook.json").as_bytes(), "webhook").unwrap();
    assert_eq!(u.order_id, "230822025708869");
    assert_eq!(u.state(), OrderState::Cancelled);
    assert_eq!(
        (u.average_price, u.filled_quantity, u.pending_quantity),
        (0.0, 0, 1)
    );
    let e = parse_order_update(b"{\"status\":\"open\"}", "feed frame 7")
        .unwrap_err()
        .to_string();
    assert!(e.contains("feed frame 7") && e.contains("order_id"), "{e}");
}

/// A WebSocket server on a loopback port: each connection gets the next script of text
/// messages, then a close.
async fn ws_server(scripts: Vec<Vec<String>>) -> String {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/feed?code=one-time", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for script in scripts {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for m in script {
                ws.send(Message::Text(m.into())).await.unwrap();
            }
            let _ = ws.close(None).await;
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn order_updates_stream_from_the_portfolio_feed_and_reconnect() {
    // Connection 1: the documented order update, a position update (not ours to read), a
    // message that is not JSON; then the server closes. Connection 2 (re-authorized): a fill.
    let complete = r#"{"update_type":"order","order_id":"240603000999","tag":"elite-9","status":"complete",
        "quantity":10,"filled_quantity":10,"pending_quantity":0,"average_price":2973.1,
        "exchange_timestamp":"2024-06-03 10:15:02"}"#;
    let ws = ws_server(vec![
        vec![
            fixture("order_update_webhook.json"),
            r#"{"update_type":"position","instrument_token":"NSE_EQ|INE002A01018","quantity":10}"#
                .into(),
            "not json".into(),
        ],
        vec![complete.into()],
    ])
    .await;
    let authorized = format!(
        r#"{{"status":"success","data":{{"authorized_redirect_uri":"{ws}","authorizedRedirectUri":"{ws}"}}}}"#
    );
    let (base, seen) = server(vec![(200, authorized.clone()), (200, authorized)]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    let mut updates = c.order_updates().await.unwrap();
    let wait = std::time::Duration::from_secs(10);
    let first = updates.next(wait).await.unwrap();
    assert_eq!(first.order_id, "230822025708869");
    assert_eq!(first.state(), OrderState::Cancelled);
    let second = updates.next(wait).await.unwrap();
    assert_eq!(
        (
            second.tag.as_deref(),
            second.state(),
            second.filled_quantity,
            second.average_price
        ),
        (Some("elite-9"), OrderState::Complete, 10, 2973.1)
    );
    assert_eq!(updates.bad, 1, "the non-JSON message is counted, not fatal");
    assert_eq!(updates.reconnects, 1);
    let s = seen.lock().unwrap().clone();
    assert_eq!(s.len(), 2, "authorized once per connection");
    assert!(
        s.iter().all(|r| r.method == "GET"
            && r.path == "/v2/feed/portfolio-stream-feed/authorize?update_types=order"
            && r.auth == "Bearer t"),
        "{s:?}"
    );
    assert!(updates.drain().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_documented_full_market_quote_decodes_with_its_empty_ask_side() {
    let (base, seen) = server(vec![(200, fixture("full_market_quote.json"))]);
    let c = UpstoxOrders::new(&base, "t".into()).unwrap();
    let q = c
        .quotes(&["NSE_EQ|INE848E01016".into(), "BSE_EQ|INE848E01016".into()])
        .await
        .unwrap();
    assert_eq!(q.len(), 1, "only what Upstox returned");
    let q = &q[0];
    assert_eq!(q.instrument_token, "NSE_EQ|INE848E01016");
    assert_eq!((q.bid, q.bid_qty, q.ask, q.ask_qty), (52.05, 6917, 0.0, 0));
    // 05:21:51.099 IST is 23:51:51.099 UTC the day before.
    assert_eq!(q.ts.unwrap().to_string(), "2023-10-18T23:51:51.099Z");
    assert_eq!(
        seen.lock().unwrap()[0].path,
        "/v2/market-quote/quotes?instrument_key=NSE_EQ%7CINE848E01016%2CBSE_EQ%7CINE848E01016"
    );
}
