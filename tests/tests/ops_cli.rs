//! Operations end to end: a real Prometheus (Debian's `prometheus`, installed by `tests/dev
//! setup`) scrapes a running `elite run trader --paper --follow`, and its HTTP API finds the
//! series with sane values; the Grafana dashboard in the repo uses only series it found; `elite
//! status` reads the job; alerts fire to loopback Telegram and Discord servers (forced drawdown,
//! kill switch, daily P&L, a feed that stops), through a 429 each; `/halt` and `/resume` work from
//! the allowed chat and a stranger gets nothing; the halted session survives a restart; logs are
//! JSON with the run id.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{ChatServer, fixture, free_port, http};

fn config() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs/goog_strategies.toml")
}

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("..")
        .join(p)
}

/// The GOOG daily bars but the last `hold` rows (ingested), and the held rows one file each.
fn ingest_all_but(home: &Path, hold: usize) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (head, rows) = (lines[0], &lines[1..]);
    let cut = rows.len() - hold;
    let first = home.join("first.csv");
    std::fs::write(&first, format!("{head}\n{}\n", rows[..cut].join("\n"))).unwrap();
    common::ingest_csv(home, &first, &["--symbol", "GOOG"]);
    rows[cut..]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let p = home.join(format!("day{i}.csv"));
            std::fs::write(&p, format!("{head}\n{r}\n")).unwrap();
            p
        })
        .collect()
}

/// `elite` as a plain process (to spawn and signal), set up as `common::elite` is.
fn elite_proc(home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("elite"));
    c.env("ELITE_HOME", home)
        .env("ELITE_CONFIG", "/dev/null")
        .env("ELITE_NO_PROGRESS", "1")
        .env_remove("ELITE_FORMAT")
        .env_remove("UPSTOX_ACCESS_TOKEN");
    c
}

/// Start `c` with stdout discarded and stderr as given.
fn start(c: &mut std::process::Command, stderr: Stdio) -> Running {
    Running(c.stdout(Stdio::null()).stderr(stderr).spawn().unwrap())
}

/// The lines `child` writes to its (piped) stderr, as they come.
fn stderr_lines(child: &mut Child) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let stderr = child.stderr.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Kills the child when dropped (a failing test leaves nothing running).
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Wait up to `secs` for `f` to give Some.
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Prometheus as `tests/dev setup` installs it (Debian's package): the binary the test runs.
fn prometheus_bin() -> PathBuf {
    let p = std::env::var_os("ELITE_PROMETHEUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus"));
    let ok = std::process::Command::new(&p)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} does not run: `tests/dev setup` installs Debian's prometheus package",
        p.display()
    );
    p
}

/// One instant-query value per series: (labels, value).
fn query(prom: &str, q: &str) -> Vec<(serde_json::Value, f64)> {
    let path = format!(
        "/api/v1/query?query={}",
        q.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    );
    let Ok((200, body)) = http("GET", prom, &path, "") else {
        return vec![];
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let x = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (r["metric"].clone(), x)
        })
        .collect()
}

#[test]
fn prometheus_scrapes_the_paper_trader_and_the_dashboard_uses_what_it_found() {
    let prom_bin = prometheus_bin();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let trader = start(
        elite_proc(home)
            .args(["run", "trader"])
            .arg(config())
            .args([
                "--paper",
                "--name",
                "prom",
                "--follow",
                "0.5",
                "--metrics-addr",
                &addr,
            ]),
        Stdio::piped(),
    );
    // The signal runner over the same bars, paced so that it runs for a while (~14 s).
    let sport = free_port();
    let saddr = format!("127.0.0.1:{sport}");
    let _signals = start(
        elite_proc(home)
            .args([
                "run",
                "signals",
                "--name",
                "prom-sig",
                "--rate",
                "150",
                "--commit-every",
                "200",
            ])
            .args(["--metrics-addr", &saddr]),
        Stdio::null(),
    );
    let ppath = home.join("prom");
    std::fs::create_dir_all(&ppath).unwrap();
    std::fs::write(
        ppath.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: elite\n    static_configs:\n      - targets: ['{addr}']\n  - job_name: elite-signals\n    static_configs:\n      - targets: ['{saddr}']\n"
        ),
    )
    .unwrap();
    let prom = format!("127.0.0.1:{}", free_port());
    let _prometheus = start(
        std::process::Command::new(prom_bin)
            .arg(format!(
                "--config.file={}",
                ppath.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                ppath.join("data").display()
            ))
            .arg(format!("--web.listen-address={prom}")),
        Stdio::null(),
    );

    // The trader works through all 2148 bars, then follows; Prometheus sees it.
    let bars = wait_for(120, "elite_bars_processed_total in Prometheus", || {
        query(
            &prom,
            "elite_bars_processed_total{runner=\"trader\",name=\"prom\"}",
        )
        .first()
        .map(|r| r.1)
        .filter(|v| *v >= 2148.0)
    });
    assert_eq!(bars, 2148.0);
    let one = |q: &str| {
        let r = query(&prom, q);
        assert_eq!(r.len(), 1, "{q}: {r:?}");
        r[0].1
    };
    assert_eq!(one("up{job=\"elite\"}"), 1.0);
    let equity = one("elite_equity{name=\"prom\"}");
    let pnl = one("elite_pnl{name=\"prom\"}");
    assert!(equity.is_finite() && equity > 0.0, "{equity}");
    assert!(
        (equity - 1_000_000.0 - pnl).abs() < 1e-3,
        "pnl = equity - initial cash"
    );
    assert!(one("elite_orders_submitted_total{name=\"prom\"}") > 10.0);
    assert!(one("elite_fills_total{name=\"prom\"}") > 10.0);
    let dd = one("elite_drawdown_ratio{name=\"prom\"}");
    assert!((0.0..1.0).contains(&dd), "{dd}");
    assert_eq!(one("elite_drawdown_limit_ratio{name=\"prom\"}"), 0.5);
    assert_eq!(one("elite_kill_switch{name=\"prom\"}"), 0.0);
    let lev = one("elite_leverage_ratio{name=\"prom\"}");
    assert!(
        (0.0..2.0).contains(&lev),
        "{lev} (orders are capped at gross leverage 1)"
    );
    assert!(one("elite_event_to_decision_seconds_count{name=\"prom\"}") >= 2148.0);
    let last = one("elite_job_last_success_timestamp_seconds{name=\"prom\"}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(now - last < 300.0 && last <= now + 1.0, "{last} vs {now}");
    // Historical bars: the latest one was received years ago.
    assert!(one("elite_data_age_seconds{name=\"prom\"}") > 86400.0 * 30.0);

    // The signal runner, scraped while it replays: bars, signals and the bar → signal latency.
    let sig = |q: &str| query(&prom, q).first().map(|r| r.1).filter(|v| *v > 0.0);
    wait_for(60, "the signal runner's series in Prometheus", || {
        sig("elite_bars_processed_total{runner=\"signals\",name=\"prom-sig\"}")
    });
    wait_for(30, "signals emitted", || {
        sig("elite_signals_emitted_total{runner=\"signals\",name=\"prom-sig\"}")
    });
    wait_for(30, "the bar-to-signal histogram", || {
        sig("elite_bar_to_signal_seconds_count{runner=\"signals\",name=\"prom-sig\"}")
    });
    assert_eq!(
        query(&prom, "up{job=\"elite-signals\"}")
            .first()
            .map(|r| r.1),
        Some(1.0)
    );

    // Every series name Prometheus holds from the job.
    let (_, body) = http(
        "GET",
        &prom,
        "/api/v1/label/__name__/values?match[]=%7Bjob%3D%22elite%22%7D",
        "",
    )
    .unwrap();
    let names: Vec<String> = serde_json::from_str::<serde_json::Value>(&body).unwrap()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    eprintln!("series scraped from elite: {}", names.join(" "));

    // The dashboard: every series of the trader's it queries is one Prometheus scraped (the
    // others — signals, predictions, ingest, alerts — are checked against what elite declares in
    // jobs/tests/ops.rs).
    let dash: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo("jobs/ops/grafana-dashboard.json")).unwrap())
            .unwrap();
    let exprs: Vec<String> = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    let trader_families = [
        "elite_equity",
        "elite_pnl",
        "elite_drawdown_ratio",
        "elite_drawdown_limit_ratio",
        "elite_leverage_ratio",
        "elite_concentration_ratio",
        "elite_kill_switch",
        "elite_data_age_seconds",
        "elite_job_last_success_timestamp_seconds",
        "elite_orders_submitted_total",
        "elite_fills_total",
        "elite_event_to_decision_seconds_bucket",
        "elite_bars_processed_total",
        "elite_consumer_lag_records",
    ];
    for n in trader_families {
        assert!(names.iter().any(|x| x == n), "{n} not scraped");
        assert!(
            exprs.iter().any(|e| e.contains(n)),
            "the dashboard does not show {n}"
        );
    }
    assert!(names.iter().any(|x| x == "elite_build_info"));

    // Health endpoints and `elite status`.
    let (code, body) = http("GET", &addr, "/healthz", "").unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("alive"), "{body}");
    let (code, body) = http("GET", &addr, "/readyz", "").unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("ok   kill_switch: off") && body.contains("ok   broker"),
        "{body}"
    );
    let row = common::status_row(home, "name", "prom");
    assert_eq!(row["job"], "trader");
    assert_eq!(row["state"], "running");
    assert_eq!(row["ready"], true);
    assert_eq!(row["endpoint"], addr);

    // Ctrl-C: commits, exits 0, and the status says so.
    let mut trader = trader;
    signal(&trader.0, "-INT");
    let status = wait_for(60, "the trader to exit", || trader.0.try_wait().unwrap());
    let mut err = String::new();
    std::io::Read::read_to_string(trader.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    let row = common::status_row(home, "name", "prom");
    assert_eq!(row["state"], "stopped (finished)", "{row}");
    assert_eq!(row["ready"], false);
}

#[test]
fn alerts_and_chat_commands_in_a_paper_run() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let days = ingest_all_but(home, 6);
    let token = "5550001:tok-SECRET-8c1f";
    let chat = ChatServer::start(token);
    let hook = format!("http://{}/api/webhooks/42/hook-SECRET-77", chat.addr);
    // A tight drawdown limit so the kill switch trips on real GOOG history.
    let cfg_text = std::fs::read_to_string(config())
        .unwrap()
        .replace("max_drawdown = 0.5", "max_drawdown = 0.03");
    assert!(cfg_text.contains("max_drawdown = 0.03"));
    let cfg = home.join("tight.toml");
    std::fs::write(&cfg, cfg_text).unwrap();
    let elite_toml = home.join("elite.toml");
    std::fs::write(
        &elite_toml,
        format!(
            "[alerts]\ndrawdown = 0.01\nfeed_silent_s = 4\nrepeat_after_s = 600\n\
             [alerts.telegram]\napi_base = \"http://{}\"\nchats = [100]\nallowed_users = [7]\npoll_s = 1\n\
             [alerts.discord]\n",
            chat.addr
        ),
    )
    .unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let spawn = |fresh: bool| {
        let mut c = elite_proc(home);
        c.env("ELITE_CONFIG", &elite_toml)
            .env("ELITE_TELEGRAM_TOKEN", token)
            .env("ELITE_DISCORD_WEBHOOK", &hook)
            .args(["--log-format", "json", "-v", "run", "trader"])
            .arg(&cfg)
            .args([
                "--paper",
                "--name",
                "ops",
                "--follow",
                "0.5",
                "--metrics-addr",
                &addr,
            ]);
        if fresh {
            c.arg("--fresh");
        }
        start(&mut c, Stdio::piped())
    };
    let mut trader = spawn(true);
    let log = stderr_lines(&mut trader.0);
    let said = |needle: &str| {
        chat.telegram_texts()
            .iter()
            .any(|(c, t)| *c == 100 && t.contains(needle))
    };
    // The risk engine trips the kill switch on the replayed history: alert on both channels.
    wait_for(120, "the kill-switch alert", || {
        said("KILL SWITCH ON").then_some(())
    });
    wait_for(30, "the drawdown alert", || {
        said("over the 1.00% alert").then_some(())
    });
    wait_for(30, "the Discord copy", || {
        chat.discord_texts()
            .iter()
            .any(|t| t.contains("KILL SWITCH ON"))
            .then_some(())
    });
    // Following: wait until the trader has caught up (its status says following).
    wait_for(60, "the trader to follow", || {
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("following the warehouse"))
            .then_some(())
    });

    // Commands: a stranger gets nothing; the allowed user resumes, asks, and halts.
    chat.say(555, 9, "/halt sell everything");
    chat.say(100, 7, "/resume checked the data");
    wait_for(30, "the /resume reply", || {
        said("resumed: kill switch off").then_some(())
    });
    wait_for(30, "the lifted alert", || {
        said("kill switch lifted").then_some(())
    });
    chat.say(100, 7, "/status");
    wait_for(30, "the /status reply", || {
        said("paper trader ops (run").then_some(())
    });
    chat.say(100, 7, "/pnl");
    wait_for(30, "the /pnl reply", || said("P&L").then_some(()));
    chat.say(100, 7, "/halt@elite_ops_bot stop for the day");
    wait_for(30, "the /halt reply", || {
        said("HALTED: kill switch on").then_some(())
    });
    assert!(
        chat.telegram_texts().iter().all(|(c, _)| *c == 100),
        "nothing is ever sent to the stranger's chat"
    );
    let metrics = http("GET", &addr, "/metrics", "").unwrap().1;
    assert!(
        metrics.contains("elite_bot_commands_total{command=\"halt\",allowed=\"false\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("elite_kill_switch{runner=\"trader\",name=\"ops\"} 1"));
    let (code, ready) = http("GET", &addr, "/readyz", "").unwrap();
    assert_eq!(code, 503, "halted: not ready");
    assert!(ready.contains("FAIL kill_switch"), "{ready}");

    // The feed: new days land one by one (each closes a day while following: a daily P&L),
    // then it stops, and the feed-down alert comes.
    let downs = || {
        chat.telegram_texts()
            .iter()
            .filter(|(_, t)| t.contains("feed down: no new bar"))
            .count()
    };
    let before = downs();
    for d in &days {
        common::ingest_csv(home, d, &["--symbol", "GOOG"]);
        std::thread::sleep(Duration::from_millis(700));
    }
    wait_for(30, "a daily P&L summary", || {
        said("daily P&L").then_some(())
    });
    wait_for(30, "the feed-down alert after the feed stopped", || {
        (downs() > before).then_some(())
    });
    // Each channel is posted on its own; Discord's copy may land a moment after Telegram's.
    wait_for(30, "the feed-down alert on Discord too", || {
        chat.discord_texts()
            .iter()
            .any(|t| t.contains("feed down"))
            .then_some(())
    });
    assert!(
        *chat.limited.lock().unwrap() >= 2,
        "both channels were rate limited once and retried"
    );

    for (c, t) in chat.telegram_texts() {
        eprintln!("telegram {c}: {t}");
    }
    for t in chat.discord_texts() {
        eprintln!("discord: {t}");
    }
    signal(&trader.0, "-TERM");
    let status = wait_for(60, "the trader to exit", || trader.0.try_wait().unwrap());
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));

    // The operator's halt is in the journal, and a restart replays it: still halted.
    let rows = common::sql_json(
        home,
        "SELECT decision, detail FROM risk_events WHERE \"check\" = 'kill_switch' ORDER BY seq",
    );
    let details: Vec<String> = rows
        .iter()
        .map(|r| r["detail"].as_str().unwrap().to_string())
        .collect();
    assert!(details[0].starts_with("drawdown"), "{details:?}");
    assert!(
        details
            .iter()
            .any(|d| d.contains("operator resume from chat 100 user 7: checked the data")),
        "{details:?}"
    );
    assert!(
        details
            .last()
            .unwrap()
            .contains("operator halt from chat 100 user 7: stop for the day"),
        "{details:?}"
    );
    let mut again = spawn(false);
    let lines = stderr_lines(&mut again.0);
    wait_for(60, "the restarted trader to follow", || {
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("following the warehouse"))
            .then_some(())
    });
    wait_for(30, "the restarted trader to report itself halted", || {
        http("GET", &addr, "/metrics", "")
            .ok()
            .filter(|(_, m)| m.contains("elite_kill_switch{runner=\"trader\",name=\"ops\"} 1"))
    });
    signal(&again.0, "-INT");
    let status = wait_for(60, "the restarted trader to exit", || {
        again.0.try_wait().unwrap()
    });
    assert!(status.success(), "{:?}", lines.lock().unwrap());

    // Logs: JSON objects, the trader's span with its run id; no secret anywhere.
    let log = log.lock().unwrap().clone();
    let json: Vec<serde_json::Value> = log
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!json.is_empty(), "{log:?}");
    assert!(
        json.iter().any(|j| j["spans"].as_array().is_some_and(|s| s
            .iter()
            .any(|s| s["job"] == "trader" && s["job_name"] == "ops" && s["run_id"].is_string()))),
        "{log:?}"
    );
    assert!(
        json.iter()
            .any(|j| j["message"] == "operator command" && j["command"] == "halt"),
        "{log:?}"
    );
    let everything = format!(
        "{}\n{}\n{}",
        log.join("\n"),
        lines.lock().unwrap().join("\n"),
        std::fs::read_to_string(home.join("_state/status/trader-ops.json")).unwrap()
    );
    assert!(!everything.contains("tok-SECRET") && !everything.contains("hook-SECRET"));
}

/// The feed collector: frames, rows and reconnects in `/metrics`; a feed that goes quiet raises
/// the feed-down alert and marks `/readyz` failing, and frames arriving again resolve it.
#[test]
fn a_feed_that_goes_quiet_alerts_and_recovers() {
    use futures::{SinkExt, StreamExt};
    let frames = common::upstox_frames();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (quiet_tx, quiet_rx) = std::sync::mpsc::channel::<()>();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let server = rt.spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _sub = ws.next().await.unwrap().unwrap();
        for f in &frames[..10] {
            ws.send(tokio_tungstenite::tungstenite::Message::Binary(
                f.clone().into(),
            ))
            .await
            .unwrap();
        }
        // Quiet, connection open, until the test has seen the alert.
        quiet_tx.send(()).unwrap();
        tokio::task::spawn_blocking(move || resume_rx.recv().unwrap())
            .await
            .unwrap();
        for f in &frames[10..] {
            ws.send(tokio_tungstenite::tungstenite::Message::Binary(
                f.clone().into(),
            ))
            .await
            .unwrap();
        }
        let _ = ws.close(None).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let token = "5550001:tok-SECRET-feed";
    let chat = ChatServer::start(token);
    let elite_toml = home.join("elite.toml");
    std::fs::write(
        &elite_toml,
        format!(
            "[alerts]\nfeed_silent_s = 1.5\n[alerts.telegram]\napi_base = \"http://{}\"\nchats = [100]\ncommands = false\n",
            chat.addr
        ),
    )
    .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut feed = start(
        elite_proc(home)
            .env("ELITE_CONFIG", &elite_toml)
            .env("ELITE_TELEGRAM_TOKEN", token)
            .args(["ingest", "upstox-feed", "--url", &url])
            .args([
                "--keys",
                "NSE_EQ|INE002A01018,NSE_FO|54908",
                "--flush-every",
                "5",
            ])
            .args(["--metrics-addr", &addr]),
        Stdio::piped(),
    );
    quiet_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let said = |needle: &str| {
        chat.telegram_texts()
            .iter()
            .any(|(_, t)| t.contains(needle))
    };
    wait_for(30, "the feed-down alert", || {
        said("feed down: no frame for 1.5 s").then_some(())
    });
    let (code, ready) = http("GET", &addr, "/readyz", "").unwrap();
    assert_eq!(code, 503, "{ready}");
    assert!(ready.contains("FAIL feed: no frame for 1.5 s"), "{ready}");
    let metrics = http("GET", &addr, "/metrics", "").unwrap().1;
    assert!(
        metrics.contains("elite_feed_frames_total{source=\"upstox-feed\"} 10"),
        "{metrics}"
    );
    assert!(
        metrics.contains("elite_rows_ingested_total{table=\"ticks\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("elite_alerts_sent_total{channel=\"telegram\",rule=\"feed_down\"} 1"));
    resume_tx.send(()).unwrap();
    wait_for(30, "the resolved message", || {
        said("resolved: frames arriving again").then_some(())
    });
    let status = wait_for(60, "the feed to end", || feed.0.try_wait().unwrap());
    let mut err = String::new();
    std::io::Read::read_to_string(feed.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    rt.block_on(server).unwrap();
    assert!(!err.contains("tok-SECRET"));
    // The status file says how it ended and what it counted.
    let row = common::status_row(home, "job", "feed");
    assert_eq!(row["state"], "stopped (finished)", "{row}");
    assert!(
        row["facts"].as_str().unwrap().contains("frames=20"),
        "{row}"
    );
}
