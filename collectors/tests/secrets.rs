//! The Upstox access token never reaches `Debug` output or an error message: not on a refused
//! token (HTTP 401 with Upstox's error envelope), a server error (500), an unreachable host, or a
//! token that cannot be a header. The 401 body is in the documented error-envelope shape
//! (`fixtures/upstox/rest/error_invalid_instrument.json`), with the code Upstox documents for an
//! invalid token (UDAPI100050).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use elite_collectors::http::Retry;
use elite_collectors::upstox::UpstoxClient;
use elite_collectors::upstox_orders::UpstoxOrders;
use elite_warehouse::{Secret, Symbol};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJrZXlfaWQiOiJza192MS4wIn0.tok-8f2c91";

/// Answers every request with `status` and `body` (forever).
fn server(status: u16, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    base
}

fn fast() -> Retry {
    Retry {
        attempts: 2,
        base: std::time::Duration::from_millis(5),
        max: std::time::Duration::from_millis(10),
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.is_empty(), "{what}: empty");
    assert!(
        !text.contains("tok-8f2c91") && !text.contains("eyJ0eXAi"),
        "{what} shows the token: {text}"
    );
}

#[test]
fn debug_output_never_shows_the_token() {
    let c = UpstoxClient::new("http://127.0.0.1:9/", Secret::new(TOKEN), fast()).unwrap();
    assert_clean("UpstoxClient {:?}", &format!("{c:?}"));
    assert_clean("UpstoxClient {:#?}", &format!("{c:#?}"));
    let o = UpstoxOrders::new("http://127.0.0.1:9/", Secret::new(TOKEN)).unwrap();
    assert_clean("UpstoxOrders {:?}", &format!("{o:?}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn error_paths_never_show_the_token() {
    let key = Symbol::new("NSE_EQ|INE002A01018").unwrap();
    let refused = server(
        401,
        r#"{"status":"error","errors":[{"errorCode":"UDAPI100050","message":"Invalid token used to access API","propertyPath":null,"invalidValue":null}]}"#,
    );
    let broken = server(500, "upstream failure");
    for (what, base) in [("401", &refused), ("500", &broken)] {
        let c = UpstoxClient::new(base, Secret::new(TOKEN), fast()).unwrap();
        let e = c
            .candles_v3(&key, "minutes", "1", "2024-06-03", "2024-06-03")
            .await
            .unwrap_err();
        assert_clean(&format!("candles {what} Display"), &e.to_string());
        assert_clean(&format!("candles {what} Debug"), &format!("{e:?}"));
        let e = c.feed_url().await.unwrap_err();
        assert_clean(&format!("feed authorize {what}"), &format!("{e} {e:?}"));
        let o = UpstoxOrders::new(base, Secret::new(TOKEN)).unwrap();
        let e = o.order_book().await.unwrap_err();
        assert_clean(&format!("order book {what}"), &format!("{e} {e:?}"));
    }
    // Nothing listening.
    let c = UpstoxClient::new("http://127.0.0.1:9/", Secret::new(TOKEN), fast()).unwrap();
    let e = c
        .candles_v3(&key, "minutes", "1", "2024-06-03", "2024-06-03")
        .await
        .unwrap_err();
    assert_clean("unreachable", &format!("{e} {e:?}"));
    // A token that cannot be an HTTP header value: the error says so without echoing it.
    let bad = format!("{TOKEN}\n");
    let c = UpstoxClient::new("http://127.0.0.1:9/", Secret::new(bad), fast()).unwrap();
    let e = c.feed_url().await.unwrap_err();
    assert_clean("bad header", &format!("{e} {e:?}"));
}
