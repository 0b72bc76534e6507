//! The operator's side: Telegram and Discord clients against loopback servers speaking the
//! documented payloads (tests/fixtures/ops: 429 retry-after, 401, network failure, getUpdates),
//! chat command parsing, alert de-duplication and rate limits, the job-failure alert, and the
//! metrics text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use elite_jobs::ops::alerts::{AlertConfig, Alerter, Command};
use elite_jobs::ops::notify::{Channels, Discord, NotifyError, Retry, Secret, Telegram};

const TOKEN: &str = "5550001:tok-SECRET-8c1f";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("tests/fixtures/ops")
            .join(name),
    )
    .unwrap()
}

/// A server answering each request with the next scripted (status, body), the last one
/// repeated; it records (path, body) of every request.
#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<Vec<(u16, String)>>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

async fn answer(State(s): State<Script>, uri: axum::http::Uri, body: String) -> impl IntoResponse {
    s.seen.lock().unwrap().push((uri.path().to_string(), body));
    let mut r = s.replies.lock().unwrap();
    let (code, text) = if r.len() > 1 {
        r.remove(0)
    } else {
        r[0].clone()
    };
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        text,
    )
}

async fn serve(replies: Vec<(u16, String)>) -> (String, Script) {
    let s = Script {
        replies: Arc::new(Mutex::new(replies)),
        ..Default::default()
    };
    let app = axum::Router::new().fallback(answer).with_state(s.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), s)
}

fn quick(mut r: Retry) -> Retry {
    r.backoff = Duration::from_millis(20);
    r
}

#[tokio::test]
async fn telegram_waits_the_retry_after_of_a_429_then_delivers() {
    let (base, s) = serve(vec![
        (429, fixture("telegram_429.json")),
        (200, fixture("telegram_sendMessage.json")),
    ])
    .await;
    let tg = Telegram::new(&base, Secret::new(TOKEN), Duration::from_secs(5)).unwrap();
    let t0 = Instant::now();
    tg.send(100, "drawdown 5%").await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t0.elapsed()
    );
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].0, format!("/bot{TOKEN}/sendMessage"));
    let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(body["chat_id"], 100);
    assert_eq!(body["text"], "drawdown 5%");
    assert!(!format!("{tg:?}").contains("tok-SECRET"), "{tg:?}");
}

#[tokio::test]
async fn discord_obeys_a_fractional_retry_after_and_accepts_204() {
    let (base, s) = serve(vec![
        (429, fixture("discord_429.json")),
        (204, String::new()),
    ])
    .await;
    let d = Discord::new(
        Secret::new(format!("{base}/api/webhooks/42/hook-SECRET-77")),
        Duration::from_secs(5),
    )
    .unwrap();
    let t0 = Instant::now();
    d.send(&"x".repeat(2500)).await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(290),
        "{:?}",
        t0.elapsed()
    );
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(
        body["content"].as_str().unwrap().len(),
        2000,
        "Discord's limit"
    );
    assert!(!format!("{d:?}").contains("hook-SECRET"));
}

#[tokio::test]
async fn a_rejected_token_fails_at_once_and_a_dead_server_after_the_retries_without_the_secret() {
    let (base, s) = serve(vec![(
        401,
        r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#.into(),
    )])
    .await;
    let tg = Telegram::new(&base, Secret::new(TOKEN), Duration::from_secs(5)).unwrap();
    match tg.send(1, "x").await {
        Err(NotifyError::Refused {
            status: 401,
            detail,
            ..
        }) => assert_eq!(detail, "Unauthorized"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.seen.lock().unwrap().len(), 1, "a 401 is not retried");

    // Nothing listens on the port: every attempt fails to connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tg = Telegram::new(
        &format!("http://127.0.0.1:{port}"),
        Secret::new(TOKEN),
        Duration::from_secs(2),
    )
    .unwrap();
    tg.retry = quick(tg.retry);
    let err = tg.send(1, "x").await.unwrap_err();
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(matches!(err, NotifyError::Http { .. }), "{shown}");
    assert!(!shown.contains("tok-SECRET"), "{shown}");

    // A 5xx is retried with backoff, then given up with the provider's words.
    let (base, s) = serve(vec![(502, r#"{"message":"bad gateway"}"#.into())]).await;
    let mut d = Discord::new(
        Secret::new(format!("{base}/api/webhooks/1/hook-SECRET-77")),
        Duration::from_secs(2),
    )
    .unwrap();
    d.retry = quick(d.retry);
    let err = d.send("x").await.unwrap_err();
    assert!(err.to_string().contains("HTTP 502: bad gateway"), "{err}");
    assert!(!err.to_string().contains("hook-SECRET"));
    assert_eq!(s.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn get_updates_reads_the_documented_update() {
    let (base, s) = serve(vec![(200, fixture("telegram_getUpdates.json"))]).await;
    let tg = Telegram::new(&base, Secret::new(TOKEN), Duration::from_secs(5)).unwrap();
    let u = tg.updates(1000, 0).await.unwrap();
    assert_eq!(u.len(), 1);
    assert_eq!(
        (u[0].update_id, u[0].chat_id, u[0].user_id),
        (1000, 100, Some(7))
    );
    assert_eq!(u[0].text, "/status");
    let body: serde_json::Value = serde_json::from_str(&s.seen.lock().unwrap()[0].1).unwrap();
    assert_eq!(body["offset"], 1000);
}

#[test]
fn commands_parse_as_telegram_sends_them() {
    let cases = [
        ("/status", Some(Command::Status)),
        ("  /positions  ", Some(Command::Positions)),
        ("/pnl@elite_ops_bot", Some(Command::Pnl)),
        (
            "/HALT market is wrong",
            Some(Command::Halt("market is wrong".into())),
        ),
        ("/halt@elite_ops_bot", Some(Command::Halt(String::new()))),
        ("/resume  ok now ", Some(Command::Resume("ok now".into()))),
        ("/start", Some(Command::Help)),
        ("halt", None),
        ("/sell GOOG", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(Command::parse(text), want, "{text:?}");
    }
}

#[tokio::test]
async fn alerts_are_deduplicated_cleared_once_and_rate_limited() {
    let cfg: AlertConfig = toml::from_str("repeat_after_s = 3600\nmax_per_minute = 3").unwrap();
    let mut a = Alerter::new(cfg, "trader t", Channels::default());
    assert!(a.holds("drawdown", "drawdown", "drawdown 6%"));
    assert!(
        !a.holds("drawdown", "drawdown", "drawdown 7%"),
        "still the same condition"
    );
    assert!(a.clears("drawdown", "drawdown", "back to 1%"));
    assert!(!a.clears("drawdown", "drawdown", "back to 0%"), "said once");
    assert!(a.event("kill_switch", "on"));
    assert!(!a.event("kill_switch", "on again"), "3 per minute");
    let m = elite_jobs::ops::metrics::metrics().encode();
    assert!(
        m.contains("elite_alerts_suppressed_total{rule=\"drawdown\",reason=\"duplicate\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("elite_alerts_suppressed_total{rule=\"kill_switch\",reason=\"rate_limited\"} 1"),
        "{m}"
    );
}

#[test]
fn alert_config_is_checked_and_credentials_come_from_the_environment() {
    let bad = [
        "drawdown = 1.5",
        "feed_silent_s = 0",
        "max_per_minute = 0",
        "[telegram]\nchats = []",
    ];
    for b in bad {
        let c: AlertConfig = toml::from_str(b).unwrap();
        assert!(c.check().is_err(), "{b}");
    }
    assert!(
        toml::from_str::<AlertConfig>("drawdwn = 0.1").is_err(),
        "unknown keys are refused"
    );
    // What the README documents as the defaults, beside a key that is given.
    let c: AlertConfig = toml::from_str("drawdown = 0.1").unwrap();
    assert_eq!(c.drawdown, Some(0.1));
    assert!(c.kill_switch && c.job_failure && c.daily_pnl && c.drift);
    assert_eq!((c.repeat_after_s, c.max_per_minute), (300.0, 20));
    assert!(c.telegram.is_none() && c.discord.is_none() && c.feed_silent_s.is_none());
    let c: AlertConfig =
        toml::from_str("[telegram]\nchats = [1]\ntoken_env = \"ELITE_TEST_NEVER_SET_7f3\"")
            .unwrap();
    let err = c.channels().unwrap_err().to_string();
    assert!(
        err.contains("$ELITE_TEST_NEVER_SET_7f3 is not set"),
        "{err}"
    );
}

#[tokio::test]
async fn a_job_that_fails_says_so_in_its_channels_and_its_status() {
    let (base, s) = serve(vec![(200, fixture("telegram_sendMessage.json"))]).await;
    let dir = tempfile::tempdir().unwrap();
    let health = elite_jobs::ops::health::Health::new("trader", "t", Some(dir.path()));
    let tg = Telegram::new(&base, Secret::new(TOKEN), Duration::from_secs(5)).unwrap();
    let mut ops = elite_jobs::ops::watch::Ops::new("trader", "t", health);
    ops.alerter = Some(Alerter::new(
        AlertConfig::default(),
        "trader t",
        Channels {
            telegram: Some((tg, vec![100, 200])),
            discord: None,
        },
    ));
    ops.finish(Err("the warehouse is gone".into())).await;
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "both chats");
    for (_, b) in &seen {
        let v: serde_json::Value = serde_json::from_str(b).unwrap();
        assert_eq!(
            v["text"],
            "[elite trader t] stopped on an error: the warehouse is gone"
        );
    }
    let st = elite_jobs::ops::health::read_all(dir.path()).unwrap();
    let s = st[0].1.as_ref().unwrap();
    assert_eq!(s.stopped.as_deref(), Some("failed: the warehouse is gone"));
    assert!(!s.ready());
}

#[test]
fn metrics_follow_the_conventions() {
    let m = elite_jobs::ops::metrics::metrics();
    m.orders
        .get_or_create(&elite_jobs::ops::metrics::job("trader", "x"))
        .inc();
    let text = m.encode();
    assert!(text.ends_with("# EOF\n"), "OpenMetrics");
    assert!(text.contains("# TYPE elite_orders_submitted counter"));
    assert!(text.contains("elite_orders_submitted_total{runner=\"trader\",name=\"x\"} 1"));
    assert!(text.contains("elite_build_info{version="));
    let names = elite_jobs::ops::metrics::Metrics::declared();
    for n in [
        "elite_event_to_decision_seconds_bucket",
        "elite_bar_to_signal_seconds_count",
        "elite_data_age_seconds",
        "elite_job_last_success_timestamp_seconds",
        "elite_consumer_lag_records",
        "elite_alerts_sent_total",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }
    // Counters end in _total; nothing else does.
    assert!(names.iter().filter(|n| n.ends_with("_total")).count() >= 16);
    // No family uses the label `job` (Prometheus owns it) or a per-symbol label.
    assert!(!text.contains("{job=") && !text.contains(",job=") && !text.contains("symbol="));
}

/// The Grafana dashboard (jobs/ops/grafana-dashboard.json) queries only series elite exposes;
/// the ops test checks the trader's against a real Prometheus.
#[test]
fn the_dashboard_queries_only_declared_series() {
    let names = elite_jobs::ops::metrics::Metrics::declared();
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
                .join("ops/grafana-dashboard.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut n = 0;
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let e = t["expr"].as_str().unwrap();
            let mut rest = e;
            while let Some(i) = rest.find("elite_") {
                let tail = &rest[i..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                let name = &tail[..end];
                assert!(
                    names.iter().any(|x| x == name),
                    "{name} in {e:?} is not exposed"
                );
                n += 1;
                rest = &tail[end..];
            }
        }
    }
    assert!(n >= 30, "{n}");
}
