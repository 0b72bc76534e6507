//! NSE insider-trading disclosures through the CLI (JSON and CSV downloads of the same
//! disclosures land once; bad records quarantined naming the field), and the `insider` feature
//! set through `elite train`: open-market trades reach the model's rows.

mod common;

use std::path::Path;

use common::{elite, fixture, json, sql_json, sql_scalar};

fn nse(home: &Path, file: &Path) -> serde_json::Value {
    json(
        home,
        &["ingest", "insider", "--nse", file.to_str().unwrap()],
    )
}

#[test]
fn nse_disclosures_land_once_with_codes_roles_and_broadcast_times() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = nse(h, &fixture("insider/nse/corporates_pit_sample.json"));
    assert_eq!(r[0]["rows_read"], 5);
    assert_eq!(r[0]["rows_added"], 4);
    assert_eq!(r[0]["quarantined"], 1);
    // The CSV download of the same disclosures adds nothing; its broken row is quarantined.
    let r = nse(h, &fixture("insider/nse/corporates_pit_sample.csv"));
    assert_eq!(
        (r[0]["rows_added"].as_i64(), r[0]["quarantined"].as_i64()),
        (Some(0), Some(1))
    );
    let r = nse(h, &fixture("insider/nse/corporates_pit_sample.csv"));
    assert_eq!(r[0]["skipped_already_ingested"], true);
    let q = sql_json(
        h,
        "SELECT location, reason FROM quarantine ORDER BY location",
    );
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q[0]["location"], "data[4]");
    assert!(
        q[0]["reason"].as_str().unwrap().contains("secAcq")
            && q[0]["reason"].as_str().unwrap().contains("\"NIL\""),
        "{q:?}"
    );
    assert!(
        q[1]["reason"].as_str().unwrap().contains("31-Feb-2023"),
        "{q:?}"
    );

    let rows = sql_json(
        h,
        "SELECT symbol, cast(ts_event AS VARCHAR) te, cast(ts_recv AS VARCHAR) tr, form, code, \
         acquired_disposed ad, shares, price, shares_after, is_director, is_officer, \
         is_ten_percent_owner, is_other, officer_title, issuer_name FROM insider_trades ORDER BY symbol, code",
    );
    assert_eq!(rows.len(), 4);
    // INFY: a KMP's ESOP allotment (J, acquired), a director's market sale (S at 1480).
    assert_eq!(rows[0]["code"], "J");
    assert_eq!(rows[0]["ad"], "A");
    assert_eq!(rows[0]["is_officer"], true);
    assert_eq!(rows[0]["officer_title"], "Key Managerial Personnel");
    assert_eq!(rows[1]["code"], "S");
    assert_eq!(rows[1]["shares"], 2000.0);
    assert_eq!(rows[1]["price"], 1480.0);
    assert_eq!(rows[1]["is_director"], true);
    // Broadcast 06-Dec-2023 10:05 IST = 04:35 UTC; traded 04-Dec-2023.
    assert_eq!(rows[1]["tr"], "2023-12-06T04:35:00Z");
    assert_eq!(rows[1]["te"], "2023-12-04T00:00:00Z");
    // RELIANCE: the promoter group's market purchase, 369,000,000 / 150,000 = 2460.
    assert_eq!(rows[2]["symbol"], "RELIANCE");
    assert_eq!(rows[2]["code"], "P");
    assert_eq!(rows[2]["price"], 2460.0);
    assert_eq!(rows[2]["is_ten_percent_owner"], true);
    assert_eq!(rows[2]["issuer_name"], "Reliance Industries Limited");
    assert_eq!(rows[2]["form"], "PIT");
    // TCS: a relative's pledge — neither acquired nor disposed, role other.
    assert_eq!(rows[3]["code"], "J");
    assert!(rows[3]["ad"].is_null());
    assert_eq!(rows[3]["is_other"], true);

    let net = sql_json(
        h,
        "SELECT symbol, role, net_shares FROM insider_net_buying ORDER BY symbol",
    );
    assert_eq!(net.len(), 2, "{net:?}");
    assert_eq!(
        (&net[0]["symbol"], &net[0]["role"], &net[0]["net_shares"]),
        (&"INFY".into(), &"director".into(), &(-2000.0).into())
    );
    assert_eq!(net[1]["net_shares"], 150000.0);
}

const CONFIG: &str = r#"
name = "goog-insider"
[data]
timeframe = "1d"
[features]
set = "technical+insider"
select = ["ret_1", "ret_5", "rsi_14", "dist_sma_20", "insider_net_30d", "insider_net_90d",
          "insider_officer_net_90d", "insider_director_net_90d", "insider_buys_90d", "insider_sells_90d"]
horizon = 1
[validation]
train = 500
test = 250
[[model]]
name = "logistic"
kind = "logistic"
"#;

/// Disclosures in NSE's JSON shape about GOOG (every ~2 months, 2005–2012, alternating buyers and
/// sellers by role) change the logistic model's out-of-sample predictions against a warehouse
/// without them: the insider features reach the rows through the CLI.
#[test]
fn insider_features_reach_the_trained_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (with, without) = (tmp.path().join("with"), tmp.path().join("without"));
    let mut data = vec![];
    for k in 0..48 {
        let day = chrono::NaiveDate::from_ymd_opt(2005, 1, 10).unwrap() + chrono::Days::new(k * 61);
        let (kind, mode) = if k % 3 == 0 {
            ("Sell", "Market Sale")
        } else {
            ("Buy", "Market Purchase")
        };
        let category = ["Director", "Key Managerial Personnel", "Promoters"][k as usize % 3];
        data.push(serde_json::json!({
            "symbol": "GOOG", "company": "Example", "acqName": format!("Insider {}", k % 5),
            "personCategory": category, "secType": "Equity Shares",
            "secAcq": format!("{}", 1000 + k * 150), "secVal": format!("{}", (1000 + k * 150) * 400),
            "tdpTransactionType": kind, "acqMode": mode,
            "acqfromDt": day.format("%d-%b-%Y").to_string(), "acqtoDt": day.format("%d-%b-%Y").to_string(),
            "date": (day + chrono::Days::new(2)).format("%d-%b-%Y 18:00").to_string(),
        }));
    }
    let file = tmp.path().join("goog_pit.json");
    std::fs::write(&file, serde_json::json!({ "data": data }).to_string()).unwrap();
    let cfg = tmp.path().join("train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    for home in [&with, &without] {
        common::ingest_csv(home, &fixture("bars/GOOG_1d.csv"), &["--symbol", "GOOG"]);
    }
    let r = nse(&with, &file);
    assert_eq!(r[0]["rows_added"], 48);
    for home in [&with, &without] {
        elite(home).arg("train").arg(&cfg).assert().success();
    }
    let q = "SELECT cast(ts_event AS VARCHAR) t, score AS prediction FROM predictions ORDER BY ts_event";
    let (a, b) = (sql_json(&with, q), sql_json(&without, q));
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 1000, "{}", a.len());
    let moved = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x["t"] == y["t"] && x["prediction"] != y["prediction"])
        .count();
    assert!(
        moved > a.len() / 2,
        "only {moved} of {} predictions moved",
        a.len()
    );
    // The run is registered with the insider set's name.
    let set = sql_scalar(&with, "SELECT feature_set FROM models LIMIT 1");
    assert_eq!(set, "technical+insider");
}
