//! `elite backtest` through the CLI on real GOOG daily bars: six strategies under Indian delivery
//! charges; results land in queryable tables, reconcile exactly in SQL, and a re-run is
//! byte-identical and lands nothing new.

mod common;

use std::path::{Path, PathBuf};

use common::{elite, fixture, sql_json, sql_scalar};

fn config(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs")
        .join(name)
}

/// `elite --format <format> backtest <config>`: (stdout, stderr), asserting success.
fn backtest(home: &Path, format: &str, name: &str) -> (Vec<u8>, String) {
    let out = elite(home)
        .args(["--format", format, "backtest"])
        .arg(config(name))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    (out.stdout, err)
}

#[test]
fn backtest_lands_reconciles_and_reruns_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let run = || backtest(home, "json", "goog_strategies.toml");
    let (first, note1) = run();
    let (second, note2) = run();
    assert_eq!(first, second, "a re-run must print the same bytes");
    assert!(note2.contains("0 rows landed"), "{note2}");
    assert!(!note1.contains(" 0 rows landed"), "{note1}");

    // JSON output: the tear sheet, then the per-strategy table.
    let mut docs =
        serde_json::Deserializer::from_slice(&first).into_iter::<Vec<serde_json::Value>>();
    let metrics = docs.next().unwrap().unwrap();
    let by_strategy = docs.next().unwrap().unwrap();
    assert_eq!(by_strategy.len(), 6);
    let get = |k: &str| -> String {
        metrics
            .iter()
            .find(|m| m["metric"] == k)
            .unwrap_or_else(|| panic!("no {k}"))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let run_id = get("run_id");
    assert_eq!(sql_scalar(home, "SELECT count(*) FROM runs"), 1);
    assert_eq!(
        sql_scalar(
            home,
            &format!("SELECT count(*) FROM equity_curve WHERE run_id = '{run_id}'")
        ),
        2148
    );
    // Charges in the tear sheet = the sum of every fill's contract-note charges, to the paisa.
    let charges = sql_scalar(home, "SELECT cast(sum(charges) AS VARCHAR) FROM fills");
    assert_eq!(charges.as_str().unwrap(), get("costs_paid"));
    // Each fill's charges are the sum of its components, and no charge is negative.
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM fills WHERE charges <> brokerage + stt + exchange + sebi + stamp + gst + other \
             OR stt < 0 OR gst < 0"
        ),
        0
    );
    // Exact cash: initial − buys + sells − charges equals the last snapshot's cash.
    let row = &sql_json(
        home,
        "SELECT cast(1000000 - sum(CASE WHEN side = 'buy' THEN value ELSE -value END) - sum(charges) AS VARCHAR) AS cash \
         FROM fills",
    )[0];
    let last = sql_scalar(
        home,
        "SELECT cast(cash AS VARCHAR) FROM equity_curve ORDER BY ts_event DESC LIMIT 1",
    );
    assert_eq!(row["cash"], last);
    // No fill before its decision: every fill is in a bar that starts at or after the order was sent.
    assert_eq!(
        sql_scalar(
            home,
            "SELECT count(*) FROM fills f JOIN orders o ON f.order_id = o.order_id AND o.status = 'sent' \
             WHERE f.ts_event < o.ts_event"
        ),
        0
    );
    // Every strategy traded and has round trips.
    assert_eq!(
        sql_scalar(home, "SELECT count(DISTINCT strategy) FROM trades"),
        6
    );
    // Position snapshots: one per fill, and each book's last position is the sum of its fills.
    assert_eq!(
        sql_scalar(home, "SELECT count(*) FROM positions"),
        sql_scalar(home, "SELECT count(*) FROM fills")
    );
    let mismatched = sql_scalar(
        home,
        "WITH f AS (SELECT strategy, symbol, sum(CASE WHEN side = 'buy' THEN qty ELSE -qty END) AS q \
                    FROM fills GROUP BY strategy, symbol), \
              p AS (SELECT strategy, symbol, qty, row_number() OVER (PARTITION BY strategy, symbol ORDER BY seq DESC) AS k \
                    FROM positions) \
         SELECT count(*) FROM f JOIN p USING (strategy, symbol) WHERE p.k = 1 AND p.qty <> f.q",
    );
    assert_eq!(mismatched, 0);
    // Books that end flat realized exactly what their round trips made before charges.
    let realized = sql_json(
        home,
        "WITH last AS (SELECT strategy, qty, realized, row_number() OVER (PARTITION BY strategy, symbol ORDER BY seq DESC) AS k \
                       FROM positions), \
              rt AS (SELECT strategy, sum(pnl + charges) AS gross FROM trades GROUP BY strategy) \
         SELECT strategy, cast(realized AS VARCHAR) AS r, cast(gross AS VARCHAR) AS g \
         FROM last JOIN rt USING (strategy) WHERE k = 1 AND qty = 0 ORDER BY strategy",
    );
    assert!(realized.len() >= 2, "{realized:?}");
    assert!(realized.iter().all(|x| x["r"] == x["g"]), "{realized:?}");
}

#[test]
fn a_bad_config_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "name = \"x\"\ninitial_cash = \"1000\"\n[data]\ntimeframe = \"1d\"\n[[strategy]]\nname = \"a\"\ntype = \"sma_crosss\"\nfast = 1\nslow = 2\n",
    )
    .unwrap();
    let out = elite(tmp.path())
        .arg("backtest")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sma_crosss") && err.contains("strategy"),
        "{err}"
    );
    // A good config over an empty warehouse says there are no bars.
    std::fs::write(
        &cfg,
        "name = \"x\"\ninitial_cash = \"1000\"\n[data]\ntimeframe = \"1d\"\n[[strategy]]\nname = \"a\"\ntype = \"sma_cross\"\nfast = 1\nslow = 2\n",
    )
    .unwrap();
    let out = elite(tmp.path())
        .arg("backtest")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no 1d bars"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn combined_portfolio_allocator_risk_and_twap_on_20_stocks() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(
        home,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let run = || backtest(home, "csv", "sp500_combined.toml").0;
    let first = run();
    assert_eq!(first, run(), "a re-run must print the same bytes");
    assert_eq!(
        sql_scalar(home, "SELECT count(DISTINCT symbol) FROM fills"),
        20
    );
    assert_eq!(sql_scalar(home, "SELECT count(*) FROM equity_curve"), 3270);
    // Every strategy traded; market orders of 500+ shares were worked as TWAP children.
    assert_eq!(
        sql_scalar(home, "SELECT count(DISTINCT strategy) FROM fills"),
        6
    );
    let children = sql_scalar(
        home,
        "SELECT count(*) FROM fills WHERE order_id LIKE '%-c_'",
    );
    assert!(children.as_i64().unwrap() > 100, "{children}");
    // Risk refused something, and said which check; nothing refused was ever sent.
    let refused = sql_json(
        home,
        "SELECT order_id, \"check\" FROM risk_events WHERE decision = 'refused'",
    );
    assert!(!refused.is_empty());
    for r in &refused {
        let id = r["order_id"].as_str().unwrap();
        assert_eq!(
            sql_scalar(
                home,
                &format!("SELECT count(*) FROM orders WHERE order_id = '{id}' AND status = 'sent'")
            ),
            0
        );
    }
}

#[test]
fn the_event_strategy_acts_on_recorded_signals_and_the_calendar() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    // No signals recorded yet: a clear error.
    let out = elite(home)
        .arg("backtest")
        .arg(config("goog_events.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `elite run signals` first"));
    elite(home)
        .args(["ingest", "calendar"])
        .arg(fixture("calendar/NYSE_2010_2012.csv"))
        .args(["--calendar", "NYSE"])
        .assert()
        .success();
    elite(home)
        .args(["run", "signals", "--timeframe", "1d"])
        .assert()
        .success();
    let (first, _) = backtest(home, "json", "goog_events.toml");
    let (second, note) = backtest(home, "json", "goog_events.toml");
    assert_eq!(first, second);
    assert!(note.contains("0 rows landed"), "{note}");
    let fills = sql_scalar(home, "SELECT count(*) FROM fills")
        .as_i64()
        .unwrap();
    assert!(fills > 20, "{fills}");
    // Every buy follows a known event of an acted-on rule (strength ≥ 0.5) within the days
    // before it: decided at that event's bar close, filled at the next open.
    let orphan = sql_scalar(
        home,
        "WITH buys AS (SELECT ts_event FROM fills WHERE side = 'buy'), \
              ev AS (SELECT ts_recv FROM signals WHERE rule IN ('rsi_reversion', 'bollinger_reversion') \
                     AND strength >= 0.5 AND direction = 1) \
         SELECT count(*) FROM buys WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.ts_recv <= buys.ts_event \
                AND ev.ts_recv > buys.ts_event - INTERVAL '5 days')",
    );
    assert_eq!(orphan, 0);
    // The last trading day before each 2010–2012 holiday: flat at its close (the equity point
    // at that bar's ts_recv) with the calendar, not always without it (calendar line removed).
    let bars: Vec<String> = std::fs::read_to_string(fixture("bars/GOOG_1d.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l[..10].to_string())
        .collect();
    let eves: Vec<String> = std::fs::read_to_string(fixture("calendar/NYSE_2010_2012.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(",holiday,"))
        .filter_map(|l| bars.iter().rev().find(|b| b.as_str() < &l[..10]).cloned())
        .map(|d| format!("DATE '{d}'"))
        .collect();
    assert_eq!(eves.len(), 28);
    let held = |name: &str| {
        sql_scalar(
            home,
            &format!(
                "SELECT count(*) FROM equity_curve e JOIN runs r ON e.run_id = r.run_id \
                 WHERE r.name = '{name}' AND e.gross > 0 AND e.ts_event IN \
                 (SELECT ts_recv FROM bars WHERE cast(bars.ts_event AS DATE) IN ({}))",
                eves.join(", ")
            ),
        )
        .as_i64()
        .unwrap()
    };
    assert_eq!(held("goog-events"), 0);
    let text = std::fs::read_to_string(config("goog_events.toml"))
        .unwrap()
        .replace("calendar = \"NYSE\"\n", "")
        .replace("name = \"goog-events\"", "name = \"goog-events-nocal\"");
    let nocal = home.join("nocal.toml");
    std::fs::write(&nocal, text).unwrap();
    elite(home).arg("backtest").arg(&nocal).assert().success();
    assert!(
        held("goog-events-nocal") > 0,
        "the calendar check must be able to fail"
    );
}

#[test]
fn conditional_entries_with_exit_rules_from_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let (first, _) = backtest(home, "json", "goog_conditional.toml");
    let (second, note) = backtest(home, "json", "goog_conditional.toml");
    assert_eq!(first, second);
    assert!(note.contains("0 rows landed"), "{note}");
    // Every entry was decided on a bar where both conditions held — RSI(14) < 35 and the close
    // above its 200-day EMA — as the features table (built separately) records them.
    elite(home)
        .args([
            "features",
            "build",
            "--set",
            "technical",
            "--timeframe",
            "1d",
        ])
        .assert()
        .success();
    let buys = sql_scalar(home, "SELECT count(*) FROM fills WHERE side = 'buy'")
        .as_i64()
        .unwrap();
    assert!(buys >= 3, "{buys}");
    let check = |cond: &str| {
        sql_scalar(
            home,
            &format!(
                "WITH buys AS (SELECT ts_event AS b FROM fills WHERE side = 'buy'), \
                      d AS (SELECT buys.b, max(bars.ts_event) AS dbar FROM buys JOIN bars ON bars.ts_event < buys.b GROUP BY buys.b), \
                      f AS (SELECT ts_event, max(CASE WHEN feature = 'rsi_14' THEN value END) AS rsi, \
                                   max(CASE WHEN feature = 'dist_ema_200' THEN value END) AS dist \
                            FROM features WHERE feature_set = 'technical' GROUP BY ts_event) \
                 SELECT count(*) FROM d JOIN f ON f.ts_event = d.dbar WHERE {cond}"
            ),
        )
        .as_i64()
        .unwrap()
    };
    assert_eq!(check("true"), buys);
    assert_eq!(check("NOT (f.rsi < 35 AND f.dist > 0)"), 0);
}

#[test]
fn correlation_risk_refuses_trades_that_move_with_the_book() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(
        home,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let cfg = |name: &str, limit: &str| {
        format!(
            "name = \"{name}\"\ninitial_cash = \"10000000\"\n[data]\ntimeframe = \"1d\"\nend = \"2013-12-31\"\n\
             [risk]\n{limit}\n[[strategy]]\nname = \"trend\"\ntype = \"trend\"\nperiod = 50\nsize = {{ percent = 0.04 }}\n"
        )
    };
    let with = home.join("with.toml");
    let without = home.join("without.toml");
    std::fs::write(
        &with,
        cfg(
            "trend-limited",
            "max_correlation = { limit = 0.6, lookback = 60 }",
        ),
    )
    .unwrap();
    std::fs::write(&without, cfg("trend-free", "")).unwrap();
    elite(home).arg("backtest").arg(&with).assert().success();
    elite(home).arg("backtest").arg(&without).assert().success();
    let refused = |name: &str| {
        sql_scalar(
            home,
            &format!(
                "SELECT count(*) FROM risk_events e JOIN runs r ON e.run_id = r.run_id \
                 WHERE r.name = '{name}' AND e.\"check\" = 'correlation'"
            ),
        )
        .as_i64()
        .unwrap()
    };
    // Stocks trending together are correlated: some entries are refused, with the value.
    assert!(refused("trend-limited") > 0);
    assert_eq!(refused("trend-free"), 0);
    let detail = sql_scalar(
        home,
        "SELECT detail FROM risk_events WHERE \"check\" = 'correlation' LIMIT 1",
    );
    assert!(
        detail.as_str().unwrap().contains("over 60 bars > 0.6"),
        "{detail}"
    );
}

#[test]
fn market_making_quotes_both_sides_within_its_inventory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(
        home,
        &fixture("bars/SP500_NOV2019_IDayRVol.csv"),
        &[
            "--symbol",
            "SPX",
            "--timeframe",
            "1m",
            "--tz",
            "America/New_York",
        ],
    );
    let (first, _) = backtest(home, "json", "spx_market_making.toml");
    // Two IOC quotes a bar at most, passive fills on both sides, inventory within ±50 after
    // every fill, every fill at or better than its quote's limit.
    let n = |sql: &str| sql_scalar(home, sql).as_i64().unwrap();
    let bars = n("SELECT count(*) FROM bars WHERE symbol = 'SPX'");
    let sent = n("SELECT count(*) FROM orders WHERE status = 'sent'");
    assert!(
        sent <= 2 * bars && sent > bars,
        "{sent} quotes over {bars} bars"
    );
    assert!(n("SELECT count(*) FROM fills WHERE side = 'buy'") > 50);
    assert!(n("SELECT count(*) FROM fills WHERE side = 'sell'") > 50);
    assert_eq!(n("SELECT count(*) FROM positions WHERE abs(qty) > 50"), 0);
    assert!(
        n("SELECT max(abs(qty)) FROM positions") > 10,
        "inventory builds up"
    );
    let worse = n(
        "WITH q AS (SELECT run_id, order_id, cast(split_part(split_part(detail, '\"limit\":\"', 2), '\"', 1) AS DOUBLE) AS lim \
                    FROM orders WHERE status = 'sent') \
         SELECT count(*) FROM fills f JOIN q USING (run_id, order_id) \
         WHERE (f.side = 'buy' AND cast(f.price AS DOUBLE) > q.lim) OR (f.side = 'sell' AND cast(f.price AS DOUBLE) < q.lim) \
            OR q.lim IS NULL",
    );
    assert_eq!(worse, 0);
    // Deterministic: a re-run prints the same bytes.
    let (again, _) = backtest(home, "json", "spx_market_making.toml");
    assert_eq!(first, again);
}
