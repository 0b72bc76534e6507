//! The V3 market feed reconnects for real: Upstox's `authorized_redirect_uri` carries a one-time
//! code, so after a dropped connection the client must authorize again, not reuse the URL. The
//! loopback server here refuses a reused code at the WebSocket handshake (HTTP 403), as Upstox does.
//! Frames are the recorded protobuf vectors in `fixtures/upstox/vectors/`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elite_collectors::http::Retry;
use elite_collectors::upstox::{FeedClient, FeedMode, FeedUrl, UpstoxClient};
use elite_warehouse::SystemClock;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

fn frame(name: &str) -> Vec<u8> {
    let p = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join(format!("fixtures/upstox/vectors/{name}"));
    std::fs::read(p).unwrap()
}

/// The authorize endpoint: every request gets a new one-time URL (`code=1`, `code=2`, …).
fn authorize_server(ws: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let code = n.fetch_add(1, Ordering::SeqCst) + 1;
            let body = format!(
                r#"{{"status":"success","data":{{"authorized_redirect_uri":"{ws}?code={code}"}}}}"#
            );
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    (base, count)
}

/// The feed: refuses a code it has seen; on each accepted connection reads the subscription,
/// sends the next recorded frame and drops the connection without a close frame (a network drop).
async fn feed_server(frames: Vec<Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/feed", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    tokio::spawn(async move {
        let used = Arc::new(Mutex::new(HashSet::new()));
        let mut frames = frames.into_iter();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (used, seen) = (Arc::clone(&used), Arc::clone(&seen));
            // The callback's signature is tungstenite's (its error type is an HTTP response).
            #[allow(clippy::result_large_err)]
            let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                let q = req.uri().query().unwrap_or("").to_string();
                let fresh = used.lock().unwrap().insert(q.clone());
                seen.lock().unwrap().push(format!(
                    "{q} {}",
                    if fresh { "accepted" } else { "refused" }
                ));
                if fresh {
                    Ok(resp)
                } else {
                    let mut e = ErrorResponse::new(Some("code already used".into()));
                    *e.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
                    Err(e)
                }
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                continue;
            };
            let sub = ws.next().await;
            assert!(
                matches!(&sub, Some(Ok(Message::Binary(b))) if String::from_utf8_lossy(b).contains("\"sub\"")),
                "{sub:?}"
            );
            if let Some(f) = frames.next() {
                ws.send(Message::Binary(f.into())).await.unwrap();
            }
            drop(ws); // no close handshake: the client sees a dropped connection
        }
    });
    (url, log)
}

fn client(url: FeedUrl) -> FeedClient {
    FeedClient {
        url,
        instrument_keys: vec!["NSE_EQ|INE002A01018".into()],
        mode: FeedMode::Full,
        retry: Retry {
            attempts: 3,
            base: Duration::from_millis(20),
            max: Duration::from_millis(50),
        },
        connections: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_feed_is_authorized_again_and_resumes() {
    let (ws, log) = feed_server(vec![frame("frame_19.bin"), frame("frame_14.bin")]).await;
    let (base, authorized) = authorize_server(ws);
    let upstox = UpstoxClient::new(&base, "token".into(), Retry::default()).unwrap();
    let mut got = Vec::new();
    let n = client(FeedUrl::Authorize(upstox))
        .run(Some(2), &SystemClock, |i, d| {
            got.push((i, d.ticks.len()));
            Ok(true)
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    // frame_19 carries 6 LTPC ticks, frame_14 the option with its depth (and others).
    assert_eq!(got[0], (0, 6));
    assert!(got[1].1 > 0);
    assert_eq!(
        authorized.load(Ordering::SeqCst),
        2,
        "one authorization per connection"
    );
    assert_eq!(
        log.lock().unwrap().clone(),
        ["code=1 accepted", "code=2 accepted"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reusing_a_one_time_url_is_refused_by_the_server() {
    // What the client did before: reconnect to the same URL. The server refuses it, so the run
    // ends in an error after its retries instead of a silent stall.
    let (ws, log) = feed_server(vec![frame("frame_19.bin"), frame("frame_14.bin")]).await;
    let fixed = format!("{ws}?code=1");
    let mut frames = 0;
    let err = client(FeedUrl::Fixed(fixed))
        .run(Some(2), &SystemClock, |_, _| {
            frames += 1;
            Ok(true)
        })
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(frames, 1);
    assert!(err.contains("403"), "{err}");
    assert!(
        !err.contains("code=1"),
        "the one-time code is redacted: {err}"
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], "code=1 accepted");
    assert!(log[1..].iter().all(|l| l == "code=1 refused"), "{log:?}");
}
