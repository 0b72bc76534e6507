//! `elite report` through the CLI on a real backtest (six strategies on GOOG daily bars): its
//! numbers agree with the run's own tear sheet and with values worked out here from the
//! fixture, the deflated Sharpe deflates by the runs recorded under the same name, the HTML is
//! self-contained with every chart drawn, and an unknown run is the user's error.

mod common;

use std::path::{Path, PathBuf};

use common::{elite, fixture, sql_scalar};

fn config(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs")
        .join(name)
}

fn ingest_goog(home: &Path) {
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
}

/// GOOG's daily bars and the six-strategy backtest of `goog_strategies.toml` over them.
fn goog_backtest(home: &Path) {
    ingest_goog(home);
    elite(home)
        .arg("backtest")
        .arg(config("goog_strategies.toml"))
        .assert()
        .success();
}

fn report_json(home: &Path, args: &[&str]) -> serde_json::Value {
    let out = elite(home)
        .args(["--format", "json", "report"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Relative agreement; NaN or infinite on either side fails.
fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        got.is_finite() && want.is_finite(),
        "{what}: {got} vs {want}"
    );
    let d = (got - want).abs() / want.abs().max(1e-12);
    assert!(d < tol, "{what}: {got} vs {want} (rel {d:e})");
}

#[test]
fn report_agrees_with_the_tear_sheet_and_the_fixture_and_deflates_by_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    goog_backtest(home);
    let html = home.join("report.html");
    let r = report_json(
        home,
        &[
            "goog-strategies",
            "--benchmark",
            "GOOG",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let f = |k: &str| {
        r[k].as_f64()
            .unwrap_or_else(|| panic!("no number {k} in {r}"))
    };
    let run_id = r["run_id"].as_str().unwrap().to_string();
    assert_eq!(r["name"], "goog-strategies");
    assert_eq!(f("periods"), 2148.0);

    // The same numbers as the tear sheet the backtest recorded (metrics.rs, another path).
    let sheet: serde_json::Value = serde_json::from_str(
        sql_scalar(
            home,
            &format!("SELECT tear_sheet FROM runs WHERE run_id = '{run_id}'"),
        )
        .as_str()
        .unwrap(),
    )
    .unwrap();
    for (k, s) in [
        ("sharpe", "sharpe"),
        ("sortino", "sortino"),
        ("max_drawdown", "max_drawdown"),
        ("cagr", "cagr"),
        ("var_95", "var_95_historical"),
        ("cvar_95", "cvar_95_historical"),
        ("total_return", "total_return"),
    ] {
        close(k, f(k), sheet[s].as_f64().unwrap(), 1e-9);
    }
    // Turnover and costs are the tear sheet's.
    close(
        "turnover",
        f("turnover"),
        sheet["turnover"].as_f64().unwrap(),
        1e-12,
    );
    let costs: f64 = sheet["costs_paid"]
        .as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| sheet["costs_paid"].as_f64())
        .unwrap();
    close("costs_paid", f("costs_paid"), costs, 1e-12);

    // The benchmark over the run: GOOG's last close over its first, from the fixture.
    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let closes: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(closes.len(), 2148);
    close(
        "benchmark_return",
        f("benchmark_return"),
        closes[closes.len() - 1] / closes[0] - 1.0,
        1e-9,
    );
    assert!(f("beta").is_finite() && f("alpha").is_finite());

    // Fama-French regressions over the run's months the bundled factor file covers: August
    // 2004 to March 2013, 104 months; an intercept and three slopes.
    let ff = &r["factors"]["fama_french"];
    assert_eq!(ff["n"], 104, "{ff}");
    assert_eq!(ff["coef"].as_array().unwrap().len(), 4);
    assert_eq!(r["factors"]["treynor_mazuy"]["n"], 104);

    // Brinson-Fachler with GOOG as the only sector member: the benchmark is GOOG held from the
    // first instant to the last, and the linked effects add up to the holdings' excess return.
    let sectors = home.join("sectors.csv");
    std::fs::write(&sectors, "symbol,sector\nGOOG,Communication Services\n").unwrap();
    let rb = report_json(
        home,
        &["goog-strategies", "--sectors", sectors.to_str().unwrap()],
    );
    let b = &rb["brinson"];
    close(
        "brinson benchmark",
        b["benchmark_return"].as_f64().unwrap(),
        closes[closes.len() - 1] / closes[0] - 1.0,
        1e-9,
    );
    let total: f64 = b["by_sector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_f64().unwrap())
        .sum();
    close(
        "brinson total",
        total,
        b["portfolio_return"].as_f64().unwrap() - b["benchmark_return"].as_f64().unwrap(),
        1e-9,
    );
    assert_eq!(b["periods"], 2147);

    // Trade statistics, against the same numbers computed in SQL over `trades`.
    let ts = &r["trade_stats"];
    let q = |sql: &str| sql_scalar(home, &sql.replace("RUN", &run_id));
    assert_eq!(
        ts["trades"],
        q("SELECT count(*) FROM trades WHERE run_id = 'RUN'")
    );
    assert_eq!(
        ts["winners"],
        q("SELECT count(*) FROM trades WHERE run_id = 'RUN' AND pnl > 0")
    );
    for (k, sql) in [
        (
            "average_win",
            "SELECT cast(avg(pnl) AS DOUBLE) FROM trades WHERE run_id = 'RUN' AND pnl > 0",
        ),
        (
            "average_loss",
            "SELECT cast(avg(pnl) AS DOUBLE) FROM trades WHERE run_id = 'RUN' AND pnl < 0",
        ),
        (
            "largest_win",
            "SELECT cast(max(pnl) AS DOUBLE) FROM trades WHERE run_id = 'RUN'",
        ),
        (
            "largest_loss",
            "SELECT cast(min(pnl) AS DOUBLE) FROM trades WHERE run_id = 'RUN'",
        ),
        (
            "expectancy",
            "SELECT cast(avg(pnl) AS DOUBLE) FROM trades WHERE run_id = 'RUN'",
        ),
    ] {
        close(k, ts[k].as_f64().unwrap(), q(sql).as_f64().unwrap(), 1e-9);
    }

    // Contribution to risk: one share per strategy, adding up to the whole variance.
    let risk = r["risk_by_strategy"].as_array().unwrap();
    assert_eq!(risk.len(), 6);
    let shares: f64 = risk.iter().map(|x| x["risk_share"].as_f64().unwrap()).sum();
    close("risk shares", shares, 1.0, 1e-9);
    assert_eq!(r["risk_by_symbol"].as_array().unwrap().len(), 1);

    // One run of this name: nothing to deflate.
    assert_eq!(f("trials"), 1.0);
    assert_eq!(f("dsr"), f("psr"));
    // P&L by strategy sums to the round trips' P&L.
    let by: f64 = r["by_strategy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pnl"].as_f64().unwrap())
        .sum();
    let trips = sql_scalar(
        home,
        &format!("SELECT cast(sum(pnl) AS DOUBLE) FROM trades WHERE run_id = '{run_id}'"),
    );
    close("by_strategy pnl", by, trips.as_f64().unwrap(), 1e-9);
    assert_eq!(r["by_strategy"].as_array().unwrap().len(), 6);

    // The HTML: self-contained (no script or stylesheet fetched), three charts with lines, the
    // monthly table.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    for id in [
        "id=\"equity\"",
        "id=\"drawdown\"",
        "id=\"rolling_sharpe\"",
        "id=\"exposure\"",
        "id=\"rolling_beta\"",
        "id=\"rolling_volatility\"",
        "id=\"exposure_by_symbol\"",
        "id=\"monthly\"",
        "id=\"factors\"",
    ] {
        assert!(page.contains(id), "{id} missing");
    }
    assert!(
        page.matches("<path d=\"M").count() >= 4,
        "every chart draws"
    );

    // A second trial under the same name (a different parameter): the DSR now deflates.
    let text = std::fs::read_to_string(config("goog_strategies.toml")).unwrap();
    let other = home.join("goog_strategies_2.toml");
    let changed = text.replacen("fast = 10", "fast = 12", 1);
    assert_ne!(changed, text, "the config's sma_cross has fast = 10");
    std::fs::write(&other, changed).unwrap();
    elite(home).arg("backtest").arg(&other).assert().success();
    let r2 = report_json(home, &[&run_id]);
    assert_eq!(r2["trials"], 2);
    assert!(
        r2["dsr"].as_f64().unwrap() < r2["psr"].as_f64().unwrap(),
        "{r2}"
    );
    // The run id still names the first run; the name names the newest.
    let newest = report_json(home, &["goog-strategies"]);
    assert_ne!(newest["run_id"], r2["run_id"]);

    // An unknown run: exit code 1, saying what was looked for.
    let out = elite(home)
        .args(["report", "no-such-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-run"));
}

/// The chromium binary the report's browser test drives: `ELITE_CHROMIUM`, else `chromium` on
/// the PATH (tests/dev setup installs Debian's).
fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("ELITE_CHROMIUM") {
        return PathBuf::from(p);
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "no chromium on the PATH (nor ELITE_CHROMIUM): run tests/dev setup, which installs Debian's"
    );
}

/// Screenshot `page` in headless chromium at `w`×`h`: (RGBA pixels, chromium's stderr).
fn screenshot(page: &Path, w: u32, h: u32) -> (Vec<[u8; 4]>, String) {
    let png_path = page.with_extension("png");
    let out = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size={w},{h}"))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "chromium failed: {err}");
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (w, h));
    let px: Vec<[u8; 4]> = match info.color_type {
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect(),
        png::ColorType::Rgb => buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2], 255])
            .collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (px, err)
}

#[test]
fn the_html_report_draws_every_chart_in_a_real_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    goog_backtest(home);
    let html = home.join("report.html");
    elite(home)
        .args(["report", "goog-strategies", "--benchmark", "GOOG", "--html"])
        .arg(&html)
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();

    // The whole page opens without a console error.
    let (px, err) = screenshot(&html, 960, 1600);
    assert!(
        !err.contains("CONSOLE") && !err.contains("Uncaught"),
        "console output: {err}"
    );
    assert!(px.iter().filter(|p| p[..3] != [255, 255, 255]).count() > 10_000);

    // Each chart alone: it draws (many non-white pixels, its line's colour among them).
    for (id, colour) in [
        ("equity", [0x1f_i32, 0x5f, 0xa8]),
        ("drawdown", [0xb0, 0x30, 0x30]),
        ("rolling_sharpe", [0x2e, 0x7d, 0x32]),
        ("exposure", [0xe0, 0x82, 0x14]), // net drawn over gross (long-only: equal)
        ("rolling_beta", [0x55, 0x55, 0x55]),
        ("rolling_volatility", [0x15, 0x65, 0xc0]),
        ("exposure_by_symbol", [0x1f, 0x77, 0xb4]),
    ] {
        let start = page
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("no chart {id}"));
        let end = start + page[start..].find("</svg>").unwrap() + "</svg>".len();
        let one = home.join(format!("{id}.html"));
        std::fs::write(
            &one,
            format!(
                "<!doctype html><html><body style=\"margin:0;background:#fff\">{}</body></html>",
                &page[start..end]
            ),
        )
        .unwrap();
        let (px, _) = screenshot(&one, 900, 260);
        let inked = px.iter().filter(|p| p[..3] != [255, 255, 255]).count();
        assert!(inked > 2_000, "{id}: only {inked} non-white pixels");
        // Anti-aliasing blends the line's edges; its core keeps the colour within a few levels.
        let near = |p: &[u8; 4]| {
            p.iter()
                .zip(colour)
                .take(3)
                .all(|(a, b)| (i32::from(*a) - b).abs() <= 24)
        };
        let line = px.iter().filter(|p| near(p)).count();
        assert!(line > 200, "{id}: the line's colour covers {line} pixels");
    }
}

#[test]
fn forecast_vol_through_the_cli_equals_arch() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ingest_goog(home);
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
                .join("../pipelines/trade/golden/forecast_golden.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let out = elite(home)
        .args(["--format", "json", "forecast", "vol", "--symbol", "GOOG"])
        .args(["--model", "gjr", "--dist", "t", "--horizon", "10"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out_err = out.stderr.clone();
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = &golden["fits"]["gjr_t"];
    for k in ["mu", "omega", "alpha", "gamma", "beta", "nu", "loglik"] {
        close(
            k,
            f["fit"][k].as_f64().unwrap(),
            w[k].as_f64().unwrap(),
            1e-4,
        );
    }
    let path = f["path"].as_array().unwrap();
    assert_eq!(path.len(), 10);
    for (h, step) in path.iter().enumerate() {
        close(
            "variance",
            step["variance"].as_f64().unwrap(),
            w["variance"][h].as_f64().unwrap(),
            1e-4,
        );
    }
    // The forecast landed in `forecasts`, known when the last bar fitted was; again: nothing new.
    assert!(String::from_utf8_lossy(&out_err).contains("10 rows landed"));
    assert_eq!(sql_scalar(home, "SELECT count(*) FROM forecasts"), 10);
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM forecasts WHERE ts_recv = (SELECT max(ts_recv) FROM bars WHERE symbol = 'GOOG')"
        ),
        10
    );
    let again = elite(home)
        .args([
            "forecast", "vol", "--symbol", "GOOG", "--model", "gjr", "--dist", "t",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 rows landed"));
    assert_eq!(sql_scalar(home, "SELECT count(*) FROM forecasts"), 10);

    // Nothing to fit: the user's error.
    let out = elite(home)
        .args(["forecast", "vol", "--symbol", "MSFT"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MSFT"));
}
