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
