//! Shared helpers for the end-to-end tests: the real `elite` binary, fixtures, and local
//! servers that replay recorded payloads (loopback only, bounded, stop by themselves).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;

pub fn fixtures() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("../collectors/fixtures")
}

pub fn fixture(p: &str) -> PathBuf {
    fixtures().join(p)
}

/// `elite` with a private warehouse and no config file or progress bars.
pub fn elite(home: &Path) -> Command {
    let mut c = Command::cargo_bin("elite")
        .expect("the elite binary is built by `cargo test --workspace --all-targets`");
    c.env("ELITE_HOME", home)
        .env("ELITE_CONFIG", "/dev/null")
        .env("ELITE_NO_PROGRESS", "1")
        .env_remove("ELITE_FORMAT")
        .env_remove("UPSTOX_ACCESS_TOKEN");
    c
}

/// Run a query and return the rows as JSON objects.
pub fn sql_json(home: &Path, query: &str) -> Vec<serde_json::Value> {
    let out = elite(home)
        .args(["--format", "json", "sql", query])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// One value of a one-row query.
pub fn sql_scalar(home: &Path, query: &str) -> serde_json::Value {
    let rows = sql_json(home, query);
    let obj = rows[0].as_object().unwrap();
    obj.values().next().unwrap().clone()
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// A loopback HTTP/1.1 server answering each request with the next scripted `(status, body)`;
/// it serves exactly the scripted responses and then stops.
pub struct ReplayServer {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl ReplayServer {
    pub fn start(responses: Vec<(u16, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (status, body) in responses {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                log.lock().unwrap().push(Seen { path, headers });
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { base, seen }
    }
}

/// `elite --format json ARGS`, which must succeed; its first JSON document (some commands print
/// more than one).
pub fn json(home: &Path, args: &[&str]) -> serde_json::Value {
    let out = elite(home)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .next()
        .expect("a JSON document on stdout")
        .unwrap()
}

/// `elite ingest csv FILE ARGS`, which must succeed.
pub fn ingest_csv(home: &Path, file: &Path, args: &[&str]) {
    elite(home)
        .args(["ingest", "csv"])
        .arg(file)
        .args(args)
        .assert()
        .success();
}

/// A plain HTTP/1.1 request to a loopback server: (status, body).
pub fn http(method: &str, addr: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // Chunked bodies (hyper's default for streamed ones): join the chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut r = rest;
        while let Some((len, tail)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
            if n == 0 || tail.len() < n {
                break;
            }
            out.push_str(&tail[..n]);
            r = tail[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback stand-in for Telegram's Bot API (`sendMessage`, `getUpdates` under
/// `/bot<TOKEN>/`) and a Discord webhook (`/api/webhooks/<id>/<token>`), answering with the
/// payloads the providers document (jobs/tests/fixtures/ops). The first `sendMessage` and the
/// first webhook post are answered 429 with a retry-after, as a rate-limited provider does.
pub struct ChatServer {
    pub addr: String,
    pub token: String,
    /// (chat id, text) of every message Telegram accepted.
    pub telegram: Arc<Mutex<Vec<(i64, String)>>>,
    /// Content of every webhook post Discord accepted.
    pub discord: Arc<Mutex<Vec<String>>>,
    /// Responses with status 429 sent.
    pub limited: Arc<Mutex<usize>>,
    updates: Arc<Mutex<Vec<serde_json::Value>>>,
    next_update: Arc<Mutex<i64>>,
}

impl ChatServer {
    pub fn start(token: &str) -> ChatServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = ChatServer {
            addr,
            token: token.to_string(),
            telegram: Arc::default(),
            discord: Arc::default(),
            limited: Arc::default(),
            updates: Arc::default(),
            next_update: Arc::new(Mutex::new(1000)),
        };
        let (tg, dc, lim, ups) = (
            server.telegram.clone(),
            server.discord.clone(),
            server.limited.clone(),
            server.updates.clone(),
        );
        let token = token.to_string();
        let tg_429 =
            std::fs::read(fixtures().join("../../jobs/tests/fixtures/ops/telegram_429.json"))
                .unwrap();
        let dc_429 =
            std::fs::read(fixtures().join("../../jobs/tests/fixtures/ops/discord_429.json"))
                .unwrap();
        let sent_ok = std::fs::read(
            fixtures().join("../../jobs/tests/fixtures/ops/telegram_sendMessage.json"),
        )
        .unwrap();
        let first_tg = Arc::new(Mutex::new(true));
        let first_dc = Arc::new(Mutex::new(true));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let (tg, dc, lim, ups) = (tg.clone(), dc.clone(), lim.clone(), ups.clone());
                let (token, tg_429, dc_429, sent_ok) = (
                    token.clone(),
                    tg_429.clone(),
                    dc_429.clone(),
                    sent_ok.clone(),
                );
                let (first_tg, first_dc) = (first_tg.clone(), first_dc.clone());
                std::thread::spawn(move || {
                    use std::io::Read;
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.trim_end().split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                    let req: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    let respond = |stream: &mut std::net::TcpStream,
                                   status: u16,
                                   extra: &str,
                                   body: &[u8]| {
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(body);
                    };
                    let tg_prefix = format!("/bot{token}/");
                    if let Some(method) = path.strip_prefix(&tg_prefix) {
                        match method {
                            "sendMessage" => {
                                if std::mem::replace(&mut *first_tg.lock().unwrap(), false) {
                                    *lim.lock().unwrap() += 1;
                                    return respond(&mut stream, 429, "", &tg_429);
                                }
                                tg.lock().unwrap().push((
                                    req["chat_id"].as_i64().unwrap_or(0),
                                    req["text"].as_str().unwrap_or_default().to_string(),
                                ));
                                respond(&mut stream, 200, "", &sent_ok)
                            }
                            "getUpdates" => {
                                let offset = req["offset"].as_i64().unwrap_or(0);
                                let mut pending: Vec<serde_json::Value> = ups
                                    .lock()
                                    .unwrap()
                                    .iter()
                                    .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
                                    .cloned()
                                    .collect();
                                if pending.is_empty() {
                                    // Long polling, shortened.
                                    std::thread::sleep(std::time::Duration::from_millis(300));
                                    pending = vec![];
                                }
                                let body = serde_json::json!({ "ok": true, "result": pending });
                                respond(&mut stream, 200, "", body.to_string().as_bytes())
                            }
                            _ => respond(
                                &mut stream,
                                404,
                                "",
                                br#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
                            ),
                        }
                    } else if path.starts_with("/bot") {
                        respond(
                            &mut stream,
                            401,
                            "",
                            br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
                        )
                    } else if path.starts_with("/api/webhooks/") {
                        if std::mem::replace(&mut *first_dc.lock().unwrap(), false) {
                            *lim.lock().unwrap() += 1;
                            return respond(&mut stream, 429, "retry-after: 1\r\n", &dc_429);
                        }
                        dc.lock()
                            .unwrap()
                            .push(req["content"].as_str().unwrap_or_default().to_string());
                        respond(&mut stream, 204, "", b"")
                    } else {
                        respond(&mut stream, 404, "", b"{}")
                    }
                });
            }
        });
        server
    }

    /// Queue a chat message, shaped like the Bot API documentation's Update example (the
    /// fixture telegram_getUpdates.json), from user `user` in chat `chat`.
    pub fn say(&self, chat: i64, user: i64, text: &str) {
        let mut id = self.next_update.lock().unwrap();
        *id += 1;
        let template: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                fixtures().join("../../jobs/tests/fixtures/ops/telegram_getUpdates.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let mut u = template["result"][0].clone();
        u["update_id"] = (*id).into();
        u["message"]["message_id"] = (*id).into();
        u["message"]["from"]["id"] = user.into();
        u["message"]["chat"]["id"] = chat.into();
        u["message"]["text"] = text.into();
        self.updates.lock().unwrap().push(u);
    }

    pub fn telegram_texts(&self) -> Vec<(i64, String)> {
        self.telegram.lock().unwrap().clone()
    }

    pub fn discord_texts(&self) -> Vec<String> {
        self.discord.lock().unwrap().clone()
    }
}

/// The 20 recorded Upstox V3 feed frames (collectors/fixtures/upstox/vectors).
pub fn upstox_frames() -> Vec<Vec<u8>> {
    (0..20)
        .map(|i| std::fs::read(fixture(&format!("upstox/vectors/frame_{i:02}.bin"))).unwrap())
        .collect()
}

/// The row of `elite status` whose `key` is `value`.
pub fn status_row(home: &Path, key: &str, value: &str) -> serde_json::Value {
    let st = json(home, &["status"]);
    st.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no job with {key} = {value} in {st}"))
        .clone()
}
