//! Exchange contract rules through the CLI: `elite ingest instruments` lands Upstox's instrument
//! master (the option-contract API's published sample; BOD-shaped records) into `contracts` —
//! ticks from paise to rupees, indices not read, broken records quarantined naming the field,
//! a re-ingest adding nothing — and a backtest with `[contracts]` sends only whole lots, never
//! more than the freeze quantity, from the table or from the config.

mod common;

use std::path::Path;

use common::{elite, fixture, json, sql_json, sql_scalar};

fn ingest(home: &Path, file: &str) -> serde_json::Value {
    json(
        home,
        &[
            "ingest",
            "instruments",
            fixture(file).to_str().unwrap(),
            "--fetched-at",
            "2024-06-03T00:40:00Z",
        ],
    )
}

#[test]
fn instrument_masters_land_in_contracts() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let r = ingest(home, "upstox/rest/instruments_bod_sample.json");
    let r = &r[0];
    assert_eq!(r["rows_added"], 5, "{r}");
    assert_eq!(r["quarantined"], 2, "{r}");
    assert_eq!(r["rows_read"], 7, "{r}"); // the index is not read
    let again = ingest(home, "upstox/rest/instruments_bod_sample.json");
    assert_eq!(again[0]["rows_added"], 0, "{again}");
    assert_eq!(again[0]["skipped_already_ingested"], true, "{again}");
    let q = sql_json(
        home,
        "SELECT location, reason FROM quarantine WHERE target_table = 'contracts' ORDER BY location",
    );
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(q[0]["location"].as_str().unwrap().contains("NSE_FO|999001"));
    assert!(
        q[0]["reason"].as_str().unwrap().starts_with("lot_size"),
        "{q:?}"
    );
    assert!(
        q[1]["reason"].as_str().unwrap().starts_with("tick_size"),
        "{q:?}"
    );
    // Ticks in rupees (the JSON's paise / 100); the CSV sample's RELIANCE 1840 CE.
    let rows = sql_json(
        home,
        "SELECT symbol, trading_symbol, lot_size, tick_size, freeze_quantity, CAST(expiry AS VARCHAR) expiry, strike \
         FROM contracts ORDER BY symbol",
    );
    let by = |k: &str| rows.iter().find(|r| r["symbol"] == k).unwrap().clone();
    assert_eq!(by("NSE_EQ|INE002A01018")["tick_size"], 0.1);
    assert_eq!(by("NSE_EQ|INE062A01020")["tick_size"], 0.05);
    let opt = by("NSE_FO|164693");
    assert_eq!(opt["lot_size"], 250);
    assert_eq!(opt["freeze_quantity"], 10000.0);
    assert_eq!(opt["strike"], 1840.0);
    assert!(
        opt["expiry"]
            .as_str()
            .unwrap()
            .starts_with("2024-01-25T10:00:00"),
        "{opt}"
    );

    // The API's documented sample: NIFTY calls, lot 50, tick ₹0.05, freeze 1800.
    let r = ingest(home, "upstox/rest/option_contracts_nifty.json");
    assert_eq!(r[0]["rows_added"], 2, "{r}");
    let n = sql_json(
        home,
        "SELECT lot_size, tick_size, freeze_quantity, CAST(expiry AS VARCHAR) e, weekly FROM contracts WHERE symbol = 'NSE_FO|37590'",
    );
    assert_eq!(n[0]["lot_size"], 50);
    assert_eq!(n[0]["tick_size"], 0.05);
    assert_eq!(n[0]["freeze_quantity"], 1800.0);
    assert_eq!(n[0]["weekly"], true);
    assert!(
        n[0]["e"].as_str().unwrap().starts_with("2024-02-15"),
        "{n:?}"
    );
}

const CONFIG: &str = r#"
name = "goog-lots"
initial_cash = "1000000"
[data]
timeframe = "1d"
symbols = ["GOOG"]
[risk]
allow_short = true
[[strategy]]
name = "cross"
type = "sma_cross"
fast = 10
slow = 30
short = true
size = { percent = 0.5 }
"#;

fn backtest(home: &Path, extra: &str) -> std::process::Output {
    let cfg = home.join("cfg.toml");
    std::fs::write(&cfg, format!("{CONFIG}{extra}")).unwrap();
    elite(home)
        .args(["--format", "json", "backtest"])
        .arg(&cfg)
        .output()
        .unwrap()
}

/// Every sent order's quantity (from the request JSON of its `sent` row) and id.
fn sent(home: &Path) -> Vec<(String, i64)> {
    sql_json(
        home,
        "SELECT order_id, detail FROM orders WHERE status = 'sent' ORDER BY seq",
    )
    .iter()
    .map(|r| {
        let d: serde_json::Value =
            serde_json::from_str(r["detail"].as_str().unwrap()).unwrap_or_default();
        (
            r["order_id"].as_str().unwrap().to_string(),
            d["qty"].as_i64().unwrap_or(-1),
        )
    })
    .collect()
}

#[test]
fn a_backtest_with_contracts_sends_whole_lots_within_the_freeze() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);

    // No rules for GOOG anywhere: refused before any order.
    let out = backtest(home, "[contracts]\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no lot and tick for GOOG"), "{err}");

    // From the table: a master naming GOOG as its trading symbol (lot 25, tick 1 paisa,
    // freeze 100).
    let master = home.join("master.json");
    std::fs::write(
        &master,
        r#"[{"instrument_key": "NASDAQ|GOOG", "trading_symbol": "GOOG", "segment": "NASDAQ_EQ", "lot_size": 25, "tick_size": 1, "freeze_quantity": 100}]"#,
    )
    .unwrap();
    let r = json(home, &["ingest", "instruments", master.to_str().unwrap()]);
    assert_eq!(r[0]["rows_added"], 1, "{r}");
    let out = backtest(home, "[contracts]\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let orders = sent(home);
    assert!(orders.len() > 20, "{} orders", orders.len());
    assert!(
        orders
            .iter()
            .all(|(_, q)| *q > 0 && q % 25 == 0 && *q <= 100),
        "{orders:?}"
    );
    assert!(
        orders.iter().any(|(id, _)| id.ends_with(".2")),
        "no split order"
    );
    let bad_fills = sql_scalar(home, "SELECT count(*) FROM fills WHERE qty % 25 <> 0");
    assert_eq!(bad_fills, 0);

    // The config's rules over the table's: lot 10, freeze 30 (a second run: its own id).
    let first = sql_scalar(home, "SELECT run_id FROM runs");
    let out = backtest(
        home,
        "[contracts]\n[contracts.symbols.GOOG]\nlot = 10\nfreeze = 30\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = sql_json(home, "SELECT run_id FROM runs ORDER BY run_id");
    assert_eq!(runs.len(), 2, "{runs:?}");
    let lots = sql_json(
        home,
        &format!(
            "SELECT count(*) n, max(qty) m, sum(CASE WHEN qty % 10 <> 0 THEN 1 ELSE 0 END) bad \
             FROM fills WHERE run_id <> '{}'",
            first.as_str().unwrap()
        ),
    );
    assert!(lots[0]["n"].as_i64().unwrap() > 0, "{lots:?}");
    assert_eq!(lots[0]["bad"], 0, "{lots:?}");
    assert!(lots[0]["m"].as_i64().unwrap() <= 30, "{lots:?}");
}

/// Upstox's documented full market quote (NHPC, quoted 2023-10-19 05:21:51 IST) lands its circuit
/// limits for that trading day; broken quotes are quarantined naming the field; the same file
/// again adds nothing.
#[test]
fn circuit_limits_land_from_market_quotes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let quote = fixture("upstox/orders/full_market_quote.json");
    let r = json(home, &["ingest", "quotes", quote.to_str().unwrap()]);
    assert_eq!(
        (r[0]["rows_added"].as_i64(), r[0]["quarantined"].as_i64()),
        (Some(1), Some(0)),
        "{r}"
    );
    let r = json(home, &["ingest", "quotes", quote.to_str().unwrap()]);
    assert_eq!(r[0]["skipped_already_ingested"], true);
    let row = &sql_json(
        home,
        "SELECT symbol, trading_symbol, cast(ts_event AS VARCHAR) d, cast(ts_recv AS VARCHAR) k, \
         lower_circuit_limit lo, upper_circuit_limit hi FROM circuit_limits",
    )[0];
    assert_eq!(row["symbol"], "NSE_EQ|INE848E01016");
    assert_eq!(row["trading_symbol"], "NHPC");
    assert_eq!(row["d"], "2023-10-18T18:30:00Z", "00:00 IST of 2023-10-19");
    assert_eq!(row["k"], "2023-10-18T23:51:51.099Z");
    assert_eq!(
        (row["lo"].as_f64(), row["hi"].as_f64()),
        (Some(42.5), Some(63.7))
    );

    let broken = home.join("broken.json");
    std::fs::write(
        &broken,
        r#"{"status": "success", "data": {
            "NSE_EQ:A": {"instrument_token": "NSE_EQ|A", "timestamp": "2023-10-19T09:00:00+05:30", "lower_circuit_limit": 70, "upper_circuit_limit": 60},
            "NSE_EQ:B": {"instrument_token": "NSE_EQ|B", "timestamp": "2023-10-19T09:00:00+05:30", "upper_circuit_limit": 60},
            "NSE_EQ:C": {"instrument_token": "NSE_EQ|C", "timestamp": "2023-10-19T09:00:00+05:30", "lower_circuit_limit": 9.5, "upper_circuit_limit": 10.5}
        }}"#,
    )
    .unwrap();
    let r = json(home, &["ingest", "quotes", broken.to_str().unwrap()]);
    assert_eq!(
        (r[0]["rows_added"].as_i64(), r[0]["quarantined"].as_i64()),
        (Some(1), Some(2)),
        "{r}"
    );
    let q = sql_json(
        home,
        "SELECT location, reason FROM quarantine ORDER BY location",
    );
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not 0 < lower < upper"),
        "{q:?}"
    );
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .contains("lower_circuit_limit"),
        "{q:?}"
    );
}

/// A backtest under `[contracts]` reads the day's circuit limits from the table: the market
/// maker's quotes after the 2011-01-04 bar (close 602.12, bid/ask 10 bps away) fall outside a
/// 602.00..602.20 band known for 2011-01-05 (IST) and are refused with the reason; no other
/// quote is, and without the limits none is.
#[test]
fn a_backtest_refuses_prices_outside_the_days_circuit_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    let cfg = home.join("mm.toml");
    std::fs::write(
        &cfg,
        r#"
name = "goog-mm-limits"
initial_cash = "10000000"
[data]
timeframe = "1d"
symbols = ["GOOG"]
start = "2010-12-01"
end = "2011-01-31"
[risk]
allow_short = true
[[strategy]]
name = "mm"
type = "market_making"
quote = 10
max_inventory = 100
half_spread_bps = 10
[contracts]
[contracts.symbols.GOOG]
lot = 1
tick = "0.01"
"#,
    )
    .unwrap();
    let refusals = |home: &Path| {
        sql_json(
            home,
            "SELECT detail FROM risk_events WHERE \"check\" = 'circuit_band' ORDER BY detail",
        )
    };
    let run = |home: &Path| {
        let out = elite(home)
            .args(["--format", "json", "backtest"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(home);
    assert!(refusals(home).is_empty());
    let quotes = home.join("quotes.json");
    std::fs::write(
        &quotes,
        r#"{"status": "success", "data": {"NASDAQ:GOOG": {"instrument_token": "NASDAQ|GOOG", "symbol": "GOOG",
            "timestamp": "2011-01-05T05:00:00.000+05:30", "last_price": 602.12,
            "lower_circuit_limit": 602.0, "upper_circuit_limit": 602.2}}}"#,
    )
    .unwrap();
    json(home, &["ingest", "quotes", quotes.to_str().unwrap()]);
    run(home);
    let r = refusals(home);
    assert_eq!(r.len(), 2, "{r:?}");
    for d in &r {
        let d = d["detail"].as_str().unwrap();
        assert!(
            d.contains("602.0000..602.2000") && d.contains("circuit limits"),
            "{d}"
        );
    }
}
