//! Macro series and social posts end to end through the CLI: point-in-time `ts_recv` (vintages,
//! a stated release lag, revisions learned later), quarantine with reasons, re-ingest adds
//! nothing; Reddit and X posts with their creation times; mention spikes.

mod common;

use common::{fixture, json, sql_json, sql_scalar};

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn macro_series_are_point_in_time() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let unrate = fixture("macro/UNRATE.csv");
    let u = unrate.to_str().unwrap();
    let r = json(h, &["ingest", "macro", u, "--release-lag-days", "35"]);
    assert_eq!(
        (r[0]["rows_read"].as_i64(), r[0]["rows_added"].as_i64()),
        (Some(294), Some(294))
    );
    let first = &sql_json(
        h,
        "SELECT value, CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r FROM macro_series \
         WHERE series = 'UNRATE' ORDER BY ts_event LIMIT 1",
    )[0];
    assert_eq!(first["value"], 3.9); // 2000-12-01,3.9 in the export
    assert_eq!(s(&first["e"]), "2000-12-01T00:00:00Z");
    assert_eq!(s(&first["r"]), "2001-01-05T00:00:00Z");
    let r = json(h, &["ingest", "macro", u, "--release-lag-days", "35"]);
    assert_eq!(r[0]["skipped_already_ingested"].as_bool(), Some(true));

    // A later export revises January 2001 and adds a month: two rows, the revision known now.
    let text = std::fs::read_to_string(&unrate).unwrap();
    assert!(text.contains("2001-01-01,4.2\n"));
    let later = h.join("UNRATE_later.csv");
    std::fs::write(
        &later,
        text.replace("2001-01-01,4.2\n", "2001-01-01,4.3\n") + "2025-06-01,4.1\n",
    )
    .unwrap();
    let r = json(
        h,
        &[
            "ingest",
            "macro",
            later.to_str().unwrap(),
            "--release-lag-days",
            "35",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(2));
    assert_eq!(r[0]["already_present"].as_i64(), Some(294 - 1));
    let jan = sql_json(
        h,
        "SELECT value, CAST(ts_recv AS VARCHAR) r FROM macro_series WHERE series = 'UNRATE' \
         AND ts_event = TIMESTAMP '2001-01-01T00:00:00Z' ORDER BY ts_recv",
    );
    assert_eq!(jan.len(), 2, "{jan:?}");
    assert_eq!(
        (jan[0]["value"].as_f64(), s(&jan[0]["r"])),
        (Some(4.2), "2001-02-05T00:00:00Z")
    );
    assert_eq!(jan[1]["value"], 4.3);
    assert!(
        s(&jan[1]["r"]) > "2026",
        "a revision learned at ingest: {}",
        jan[1]["r"]
    );

    // Weekly claims: the last row's two empty fields are quarantined, naming line and series.
    let claims = fixture("macro/ICSA_ICNSA_CCSA_CCNSA_weekly.csv");
    let r = json(h, &["ingest", "macro", claims.to_str().unwrap()]);
    assert_eq!(r[0]["rows_read"].as_i64(), Some(1282 * 4));
    assert_eq!(r[0]["quarantined"].as_i64(), Some(2));
    let q = sql_json(
        h,
        "SELECT location, reason FROM quarantine WHERE target_table = 'macro_series' ORDER BY location",
    );
    assert_eq!(s(&q[0]["location"]), "line 1283, column 4");
    assert!(s(&q[0]["reason"]).starts_with("CCSA: empty"), "{q:?}");

    // The API's vintages: ts_recv is the end of the release day in New York; an unchanged
    // re-release adds nothing; '.' is quarantined.
    let api = fixture("macro/fred_unrate_vintages.json");
    let r = json(
        h,
        &[
            "ingest",
            "macro",
            api.to_str().unwrap(),
            "--series",
            "UNRATE_ALFRED",
        ],
    );
    assert_eq!(r[0]["rows_read"].as_i64(), Some(6));
    assert_eq!(r[0]["rows_added"].as_i64(), Some(4));
    assert_eq!(r[0]["already_present"].as_i64(), Some(1));
    assert_eq!(r[0]["quarantined"].as_i64(), Some(1));
    let asof = |t: &str| {
        sql_scalar(
            h,
            &format!(
                "SELECT value FROM macro_series WHERE series = 'UNRATE_ALFRED' \
                 AND ts_event = TIMESTAMP '2020-03-01T00:00:00Z' AND ts_recv <= TIMESTAMP '{t}' \
                 ORDER BY ts_recv DESC LIMIT 1"
            ),
        )
    };
    assert_eq!(asof("2020-06-01T00:00:00Z"), 4.4);
    assert_eq!(asof("2021-02-01T00:00:00Z"), 4.5);
    let first = sql_scalar(
        h,
        "SELECT CAST(min(ts_recv) AS VARCHAR) FROM macro_series WHERE series = 'UNRATE_ALFRED'",
    );
    assert_eq!(s(&first), "2020-04-04T04:00:00Z"); // 2020-04-03, end of day EDT
}

#[test]
fn reddit_and_x_posts_land_with_their_times_and_spikes_are_scored() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let listing = fixture("social/r_askreddit_new_limit100.json");
    let comments = fixture("social/comments_2gmzqe.json");
    let args = [
        "ingest",
        "social",
        listing.to_str().unwrap(),
        comments.to_str().unwrap(),
        "--platform",
        "reddit",
        "--backfill-delay",
        "60",
    ];
    let r = json(h, &args);
    assert_eq!(r[0]["rows_added"].as_i64(), Some(100));
    // The submission and its two comments (one nested in the other's replies).
    assert_eq!(r[1]["rows_added"].as_i64(), Some(3));
    let post = &sql_json(
        h,
        "SELECT community, author, CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r, url \
         FROM social_posts WHERE id = 'reddit:t3_48fbm9'",
    )[0];
    assert_eq!(s(&post["community"]), "AskReddit");
    assert_eq!(s(&post["author"]), "RedHeadQc");
    assert_eq!(s(&post["e"]), "2016-03-01T08:37:38Z"); // created_utc 1456821458
    assert_eq!(s(&post["r"]), "2016-03-01T08:38:38Z");
    assert!(s(&post["url"]).starts_with("https://www.reddit.com/r/AskReddit/comments/48fbm9/"));
    let nested = sql_scalar(
        h,
        "SELECT CAST(ts_event AS VARCHAR) FROM social_posts WHERE id = 'reddit:t1_cklhv0f'",
    );
    assert_eq!(s(&nested), "2014-09-18T03:13:54Z"); // created_utc 1411010034
    let r = json(h, &args);
    assert_eq!(r[0]["skipped_already_ingested"].as_bool(), Some(true));

    // X without created_at: the time comes from the snowflake id. The tweepy script wrote its own
    // clock into each tweet: the first says 22:42:12.637 and X stamped it 115 ms later.
    let home2 = tempfile::tempdir().unwrap();
    let h2 = home2.path();
    let x = fixture("social/v2_tweets_search_recent.json");
    let r = json(
        h2,
        &[
            "ingest",
            "social",
            x.to_str().unwrap(),
            "--platform",
            "x",
            "--backfill-delay",
            "1",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(10));
    let rows = sql_json(
        h2,
        "SELECT text, CAST(ts_event AS VARCHAR) e, url FROM social_posts ORDER BY ts_event",
    );
    assert_eq!(rows.len(), 10);
    for row in &rows {
        // text "2022-10-07 22:42:12.637103 tweepy" vs ts_event "2022-10-07T22:42:12.752Z"
        let said = &s(&row["text"])[..19].replace(' ', "T");
        let stamped = &s(&row["e"])[..19];
        let gap = chrono::NaiveDateTime::parse_from_str(stamped, "%Y-%m-%dT%H:%M:%S").unwrap()
            - chrono::NaiveDateTime::parse_from_str(said, "%Y-%m-%dT%H:%M:%S").unwrap();
        assert!((0..=2).contains(&gap.num_seconds()), "{row:?}");
    }
    assert_eq!(
        s(&rows[9]["url"]),
        "https://x.com/i/web/status/1578516068309794817"
    );
    // Tweets every two minutes: buckets of one at 2m, none a spike, ten mentions in all.
    let b = json(
        h2,
        &[
            "social", "spikes", "--all", "--bucket", "2m", "--window", "3",
        ],
    );
    let b = b.as_array().unwrap();
    assert!(b.iter().all(|x| x["spike"] == false));
    let total: i64 = b.iter().map(|x| x["mentions"].as_i64().unwrap()).sum();
    assert_eq!(total, 10);
}

#[test]
fn insider_filings_land_one_row_per_transaction_or_holding() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let files = [
        "SNOW_2022-12-13_form4.xml",
        "SCWO_2025-04-30_form4.xml",
        "TSVT_0001562180-25-000280.nc",
        "AIR_0001127602-25-001055.txt",
        "SNOW_form3.xml",
        "form3.nosecurities.xml",
        "SNOW_form5.xml",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| {
            fixture(&format!("insider/{f}"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut args = vec!["ingest", "insider"];
    args.extend(paths.iter().map(String::as_str));
    let out = common::elite(h)
        .args(["--format", "json"])
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Counted in the XML by hand: transactions + holdings, derivative or not.
    let by_file = sql_json(
        h,
        "SELECT source, count(*) n, sum(CASE WHEN row_kind = 'holding' THEN 1 ELSE 0 END) holdings, \
         sum(CASE WHEN derivative THEN 1 ELSE 0 END) derivative FROM insider_trades GROUP BY source ORDER BY source",
    );
    let n = |src: &str| {
        by_file
            .iter()
            .find(|r| r["source"] == format!("sec:{src}"))
            .map(|r| {
                (
                    r["n"].as_i64().unwrap(),
                    r["holdings"].as_i64().unwrap(),
                    r["derivative"].as_i64().unwrap(),
                )
            })
    };
    assert_eq!(n("SNOW_2022-12-13_form4.xml"), Some((15, 8, 1)));
    assert_eq!(n("SCWO_2025-04-30_form4.xml"), Some((2, 0, 1)));
    assert_eq!(n("TSVT_0001562180-25-000280.nc"), Some((2, 0, 1)));
    assert_eq!(n("AIR_0001127602-25-001055.txt"), Some((1, 0, 0)));
    assert_eq!(n("SNOW_form3.xml"), Some((6, 6, 6)));
    assert_eq!(n("form3.nosecurities.xml"), None, "no securities, no rows");
    assert_eq!(n("SNOW_form5.xml"), Some((3, 2, 0)));

    let first = &sql_json(
        h,
        "SELECT symbol, owner_names, is_officer, officer_title, code, shares, price, shares_after, \
         acquired_disposed, footnotes FROM insider_trades WHERE source = 'sec:SNOW_2022-12-13_form4.xml' \
         AND row = 'nonDerivativeTable/nonDerivativeTransaction[1]'",
    )[0];
    assert_eq!(s(&first["symbol"]), "SNOW");
    assert_eq!(s(&first["owner_names"]), "Scarpelli Michael");
    assert_eq!(first["is_officer"], true);
    assert_eq!(s(&first["officer_title"]), "Chief Financial Officer");
    assert_eq!(
        (s(&first["code"]), s(&first["acquired_disposed"])),
        ("M", "A")
    );
    assert_eq!(
        (first["shares"].as_f64(), first["price"].as_f64()),
        (Some(200000.0), Some(8.88))
    );
    assert_eq!(first["shares_after"].as_f64(), Some(301097.0));
    assert!(
        s(&first["footnotes"]).starts_with("F1: Includes shares to be issued"),
        "{first:?}"
    );

    // The .txt submission's acceptance time (16:07:30 New York) is when it was public.
    let air = &sql_json(
        h,
        "SELECT accession, code, shares, price, CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r \
         FROM insider_trades WHERE symbol = 'AIR'",
    )[0];
    assert_eq!(s(&air["accession"]), "0001127602-25-001055");
    assert_eq!(
        (
            s(&air["code"]),
            air["shares"].as_f64(),
            air["price"].as_f64()
        ),
        ("S", Some(1500.0), Some(66.903))
    );
    assert_eq!(s(&air["r"]), "2025-01-10T21:07:30Z");
    // The .nc submission gives only its filing day: public by the end of it, New York time; the
    // option's exercise date is a footnote only, kept as text.
    let tsvt = sql_json(
        h,
        "SELECT derivative, exercise_price, underlying_shares, footnotes, CAST(ts_recv AS VARCHAR) r \
         FROM insider_trades WHERE symbol = 'TSVT' ORDER BY derivative",
    );
    assert_eq!(s(&tsvt[0]["r"]), "2025-01-09T05:00:00Z");
    assert_eq!(tsvt[1]["exercise_price"].as_f64(), Some(2.64));
    assert_eq!(tsvt[1]["underlying_shares"].as_f64(), Some(70750.0));
    assert!(
        s(&tsvt[1]["footnotes"]).contains("F2: This stock option vests"),
        "{tsvt:?}"
    );
    // Open-market trades by role: the SNOW CFO's five sales (S; 200,000 shares in all, summed
    // from the XML with Python's ElementTree) and AIR's one, nothing bought.
    let net = sql_json(
        h,
        "SELECT symbol, role, insiders, net_shares FROM insider_net_buying ORDER BY symbol",
    );
    assert_eq!(net.len(), 2, "{net:?}");
    assert_eq!(
        (s(&net[0]["symbol"]), s(&net[0]["role"])),
        ("AIR", "officer")
    );
    assert_eq!(net[0]["net_shares"].as_f64(), Some(-1500.0));
    assert_eq!(
        (s(&net[1]["symbol"]), net[1]["insiders"].as_i64()),
        ("SNOW", Some(1))
    );
    assert_eq!(net[1]["net_shares"].as_f64(), Some(-200000.0));
    // Re-ingest adds nothing.
    let again = common::elite(h)
        .args(["--format", "json"])
        .args(&args)
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .all(|x| x["skipped_already_ingested"] == true)
    );
}

#[test]
fn earnings_are_known_from_when_they_were_fetched_or_reported() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let cal = fixture("earnings/yahoo_calendarEvents_AAPL.json");
    let hist = fixture("earnings/yahoo_earningsHistory_AAPL.json");
    let r = json(
        h,
        &[
            "ingest",
            "earnings",
            cal.to_str().unwrap(),
            "--symbol",
            "AAPL",
            "--fetched-at",
            "2025-02-24T09:34:47Z",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(1));
    let r = json(
        h,
        &[
            "ingest",
            "earnings",
            hist.to_str().unwrap(),
            "--symbol",
            "AAPL",
            "--fetched-at",
            "2025-02-24T09:34:56Z",
            "--report-lag-days",
            "35",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(4));
    let next = &sql_json(
        h,
        "SELECT CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r, CAST(announce_end AS VARCHAR) until, \
         date_is_estimate, eps_estimate, revenue_estimate FROM earnings WHERE kind = 'scheduled'",
    )[0];
    // earningsDate [1746010740, 1746446400], earningsAverage 1.61696, revenueAverage 94076168920
    assert_eq!(s(&next["e"]), "2025-04-30T10:59:00Z");
    assert_eq!(s(&next["until"]), "2025-05-05T12:00:00Z");
    assert_eq!(s(&next["r"]), "2025-02-24T09:34:47Z");
    assert_eq!(next["date_is_estimate"], true);
    assert_eq!(next["eps_estimate"].as_f64(), Some(1.61696));
    assert_eq!(next["revenue_estimate"].as_f64(), Some(94076168920.0));
    let q = sql_json(
        h,
        "SELECT CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r, eps_actual, eps_estimate, surprise_pct \
         FROM earnings WHERE kind = 'reported' ORDER BY ts_event",
    );
    assert_eq!(q.len(), 4);
    // quarter 1711843200 = 2024-03-31: epsActual 1.53, epsEstimate 1.49923, surprisePercent 0.020499999,
    // known 35 days after the quarter ended (the stated lag).
    assert_eq!(s(&q[0]["e"]), "2024-03-31T00:00:00Z");
    assert_eq!(s(&q[0]["r"]), "2024-05-05T00:00:00Z");
    assert_eq!(q[0]["eps_actual"].as_f64(), Some(1.53));
    assert_eq!(q[0]["eps_estimate"].as_f64(), Some(1.49923));
    assert_eq!(q[0]["surprise_pct"].as_f64(), Some(0.020499999));
    assert_eq!(s(&q[3]["e"]), "2024-12-31T00:00:00Z");
}

#[test]
fn option_chains_land_per_contract_with_delta_and_summaries() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let chain = fixture("options/yahoo_options_AAPL.json");
    let expired = fixture("options/yahoo_options_AAPL_expired-2022-03-01.json");
    let r = json(
        h,
        &[
            "ingest",
            "options",
            chain.to_str().unwrap(),
            expired.to_str().unwrap(),
            "--fetched-at",
            "2025-02-24T09:34:47Z",
        ],
    );
    assert_eq!(
        (r[0]["rows_read"].as_i64(), r[0]["rows_added"].as_i64()),
        (Some(102), Some(102))
    );
    assert_eq!(
        r[1]["rows_read"].as_i64(),
        Some(0),
        "an expired date: empty chain"
    );
    let c = &sql_json(
        h,
        "SELECT CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r, volume, delta, underlying_price \
         FROM options_chain WHERE contract = 'AAPL250228C00250000'",
    )[0];
    assert_eq!(s(&c["e"]), "2025-02-21T21:00:02Z"); // quote.regularMarketTime 1740171602
    assert_eq!(s(&c["r"]), "2025-02-24T09:34:47Z");
    assert_eq!(c["volume"].as_f64(), Some(62051.0));
    assert_eq!(c["underlying_price"].as_f64(), Some(245.55));
    // Black-Scholes delta by Python's math.erf on the same inputs (IV 0.0312596875, 6.13 days).
    let d = c["delta"].as_f64().unwrap();
    assert!((d / 4.640441279568641e-06 - 1.0).abs() < 1e-6, "{d}");
    let p = sql_scalar(
        h,
        "SELECT delta FROM options_chain WHERE contract = 'AAPL250228P00240000'",
    );
    assert!(
        (p.as_f64().unwrap() / -0.002346761129503605 - 1.0).abs() < 1e-6,
        "{p}"
    );
    // Summed by Python over the JSON: calls 182,476 and puts 159,505 contracts traded; every open
    // interest in this recording is 0, so the OI ratio is undefined; 62 contracts traded ≥ 100
    // and more than their open interest. Yahoo's IVs here are placeholders (1e-5, 0.0156…): no
    // contract has a delta within 0.20–0.30, so there is no 25-delta skew.
    let sm = &sql_json(h, "SELECT * FROM options_summary")[0];
    assert_eq!(
        (sm["call_volume"].as_f64(), sm["put_volume"].as_f64()),
        (Some(182476.0), Some(159505.0))
    );
    let ratio = sm["put_call_volume"].as_f64().unwrap();
    assert!((ratio - 159505.0 / 182476.0).abs() < 1e-12);
    assert!(sm["put_call_oi"].is_null());
    assert!(sm["skew_25d"].is_null());
    assert_eq!(sm["unusual_contracts"].as_i64(), Some(62));
}

#[test]
fn news_impact_measures_abnormal_returns_by_the_market_model() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    common::ingest_csv(
        h,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let feed = fixture("news/rss2_sp500_events.xml");
    json(
        h,
        &[
            "ingest",
            "news",
            feed.to_str().unwrap(),
            "--backfill-delay",
            "60",
        ],
    );
    json(h, &["sentiment", "build"]);
    let out = common::elite(h)
        .args([
            "--format",
            "json",
            "sentiment",
            "impact",
            "--market",
            "equal-weight",
        ])
        .args(["--estimation", "120", "--gap", "10", "--post", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = sql_json(
        h,
        "SELECT symbol, CAST(ts_event AS VARCHAR) d0, alpha, beta, ar0, car FROM news_impact ORDER BY ts_event",
    );
    // numpy.polyfit on the fixture's closes: the equal-weight market of all 20 symbols, 120
    // estimation days ending 10 before day 0, CAR over days 0..=5
    // (collectors/fixtures/news/impact_reference.py prints these).
    let want = [
        (
            "AAPL",
            "2015-01-28",
            0.0010234928180334988,
            1.1179273237503513,
            0.0737458276553434,
            0.08282619617868309,
        ),
        (
            "MSFT",
            "2015-04-24",
            -0.0011472692173110804,
            1.204433730209531,
            0.10278788052628691,
            0.12178686102536593,
        ),
        (
            "KO",
            "2015-09-10",
            -6.595568671418536e-06,
            0.6543136196872615,
            -0.0002535925264618693,
            0.01199809073161415,
        ),
        (
            "JPM",
            "2016-02-16",
            -0.0009202565774443353,
            1.1641387175434104,
            0.0016761847438374194,
            -0.038619639734863744,
        ),
        (
            "XOM",
            "2016-07-29",
            0.0005838376649796516,
            0.7708807867277523,
            -0.015198274504959933,
            -0.03761028050142509,
        ),
        (
            "AMD",
            "2017-01-17",
            0.004700498274190055,
            3.057120881572384,
            -0.062158612772536884,
            -0.031206458441134198,
        ),
    ];
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for (r, (sym, d0, a, b, ar0, car)) in rows.iter().zip(want) {
        assert_eq!(s(&r["symbol"]), sym);
        assert!(s(&r["d0"]).starts_with(d0), "{r:?}");
        for (k, v) in [("alpha", a), ("beta", b), ("ar0", ar0), ("car", car)] {
            let got = r[k].as_f64().unwrap();
            assert!((got - v).abs() < 1e-9, "{sym} {k}: {got} vs {v}");
        }
    }
    let by = sql_json(
        h,
        "SELECT label, events, mean_car FROM news_impact_by_label ORDER BY label",
    );
    let labels: Vec<&str> = by.iter().map(|r| s(&r["label"])).collect();
    assert_eq!(labels, ["negative", "neutral", "positive"], "{by:?}");
    // Running it again adds nothing.
    let again = common::elite(h)
        .args(["--format", "json", "sentiment", "impact"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 rows added"));
}

#[test]
fn the_event_strategy_trades_on_news_signals_known_only() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    common::ingest_csv(
        h,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let feed = fixture("news/rss2_sp500_events.xml");
    json(
        h,
        &[
            "ingest",
            "news",
            feed.to_str().unwrap(),
            "--backfill-delay",
            "60",
        ],
    );
    json(h, &["sentiment", "build"]);
    let r = json(
        h,
        &[
            "sentiment",
            "signals",
            "--timeframe",
            "1d",
            "--threshold",
            "0.3",
        ],
    );
    let scores = sql_json(
        h,
        "SELECT symbol, score FROM sentiment WHERE abs(score) >= 0.3 ORDER BY symbol",
    );
    assert_eq!(
        r[0]["news_signals"].as_i64(),
        Some(scores.len() as i64),
        "{scores:?}"
    );
    let sig = sql_json(
        h,
        "SELECT symbol, CAST(ts_event AS VARCHAR) bar, CAST(ts_recv AS VARCHAR) known, direction \
         FROM signals WHERE rule = 'news_sentiment' ORDER BY ts_event",
    );
    // AAPL's item was received 2015-01-28 13:01 UTC: the first close after it is that day's bar.
    assert_eq!(s(&sig[0]["symbol"]), "AAPL");
    assert!(s(&sig[0]["bar"]).starts_with("2015-01-28"), "{sig:?}");
    assert_eq!(s(&sig[0]["known"]), "2015-01-28T13:01:00Z");
    assert_eq!(sig[0]["direction"].as_i64(), Some(1));
    // The backtest acts at that close and fills at the next open; the JPM item of a market
    // holiday (2016-02-15) waits for the next session.
    let cfg = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs/sp500_news_events.toml");
    let out = common::elite(h)
        .args(["--format", "json", "backtest"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fills = sql_json(
        h,
        "SELECT symbol, side, CAST(ts_event AS VARCHAR) t FROM fills ORDER BY ts_event, symbol",
    );
    let first = fills.iter().find(|f| f["symbol"] == "AAPL").unwrap();
    assert_eq!(s(&first["side"]).to_ascii_lowercase(), "buy");
    assert!(s(&first["t"]).starts_with("2015-01-29"), "{fills:?}");
    if let Some(jpm) = sig.iter().find(|x| x["symbol"] == "JPM") {
        assert!(s(&jpm["bar"]).starts_with("2016-02-16"), "{jpm:?}");
    }
    // Every fill comes after the signal it acts on was known.
    for f in &fills {
        let known = sig
            .iter()
            .filter(|x| x["symbol"] == f["symbol"])
            .map(|x| s(&x["known"]))
            .min()
            .unwrap();
        assert!(s(&f["t"]) > known, "{f:?} before {known}");
    }
}

#[test]
fn yahoo_insider_transactions_land_with_codes_read_off_their_text() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let f = fixture("insider/yahoo_insiderTransactions_AAPL.json");
    let args = [
        "ingest",
        "insider",
        f.to_str().unwrap(),
        "--yahoo",
        "AAPL",
        "--fetched-at",
        "2025-02-24T09:35:14Z",
    ];
    let r = json(h, &args);
    assert_eq!(r[0]["rows_added"].as_i64(), Some(85));
    // Counted with Python over the JSON: 37 sales (2,648,879 shares), 8 gifts (218,107), 40
    // without a text (3,438,283).
    let by = sql_json(
        h,
        "SELECT coalesce(code, '-') code, count(*) n, sum(shares) shares FROM insider_trades \
         GROUP BY 1 ORDER BY 1",
    );
    let got: Vec<(String, i64, f64)> = by
        .iter()
        .map(|r| {
            (
                s(&r["code"]).to_string(),
                r["n"].as_i64().unwrap(),
                r["shares"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("-".to_string(), 40, 3438283.0),
            ("G".to_string(), 8, 218107.0),
            ("S".to_string(), 37, 2648879.0)
        ]
    );
    let first = &sql_json(
        h,
        "SELECT owner_names, is_director, price, CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r \
         FROM insider_trades WHERE owner_names = 'LEVINSON ARTHUR D' AND price = 226.35",
    )[0];
    assert_eq!(first["is_director"], true);
    assert_eq!(s(&first["e"]), "2025-02-03T00:00:00Z"); // startDate 1738540800
    assert_eq!(s(&first["r"]), "2025-02-24T09:35:14Z");
    let again = json(h, &args);
    assert_eq!(again[0]["skipped_already_ingested"].as_bool(), Some(true));
}

/// `options_history` over three snapshots of the recorded AAPL chain, a day apart, with every
/// contract's IV set to 0.30, 0.20, 0.25 and its open interest to 1000, 1010, 1030: ATM IV is that
/// IV; IV rank (by hand from the definition) is undefined, 0, (0.25 − 0.20) / (0.30 − 0.20) = 0.5;
/// the IV percentile (earlier snapshots with a lower IV) undefined, 0 of 1, 1 of 2; the open
/// interest 102 contracts × 1000/1010/1030, its change undefined, +1020, +2040. Changing the
/// last snapshot changes nothing of the earlier ones.
#[test]
fn option_history_ranks_iv_and_tracks_open_interest_without_look_ahead() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("options/yahoo_options_AAPL.json")).unwrap())
            .unwrap();
    let snapshot = |k: i64, iv: f64, oi: f64| {
        let mut v = raw.clone();
        let r = &mut v["optionChain"]["result"][0];
        let t = r["quote"]["regularMarketTime"].as_i64().unwrap() + k * 86_400;
        r["quote"]["regularMarketTime"] = t.into();
        for side in ["calls", "puts"] {
            for c in r["options"][0][side].as_array_mut().unwrap() {
                c["impliedVolatility"] = iv.into();
                c["openInterest"] = oi.into();
            }
        }
        let p = h.join(format!("snap{k}-{iv}.json"));
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        p
    };
    let files = [
        snapshot(0, 0.30, 1000.0),
        snapshot(1, 0.20, 1010.0),
        snapshot(2, 0.25, 1030.0),
    ];
    for f in &files {
        json(
            h,
            &[
                "ingest",
                "options",
                f.to_str().unwrap(),
                "--fetched-at",
                "2025-03-01T00:00:00Z",
            ],
        );
    }
    let q = "SELECT atm_iv, iv_rank, iv_percentile, open_interest, oi_change FROM options_history ORDER BY ts_event";
    let rows = sql_json(h, q);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let close =
        |v: &serde_json::Value, want: f64| v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9);
    for (r, iv) in rows.iter().zip([0.30, 0.20, 0.25]) {
        assert!(close(&r["atm_iv"], iv), "{r}");
    }
    assert!(rows[0]["iv_rank"].is_null() && rows[0]["iv_percentile"].is_null());
    assert!(close(&rows[1]["iv_rank"], 0.0) && close(&rows[1]["iv_percentile"], 0.0));
    assert!(close(&rows[2]["iv_rank"], 0.5) && close(&rows[2]["iv_percentile"], 0.5));
    assert!(close(&rows[0]["open_interest"], 102_000.0), "{:?}", rows[0]);
    assert!(rows[0]["oi_change"].is_null());
    assert!(close(&rows[1]["oi_change"], 1020.0) && close(&rows[2]["oi_change"], 2040.0));

    // A later snapshot changes nothing before it.
    json(
        h,
        &[
            "ingest",
            "options",
            snapshot(3, 0.90, 50.0).to_str().unwrap(),
            "--fetched-at",
            "2025-03-01T00:00:00Z",
        ],
    );
    let after = sql_json(h, q);
    assert_eq!(after.len(), 4);
    assert_eq!(&after[..3], &rows[..]);
}

/// `social_spike` signals from X posts (a v2 response written here: cashtag tweets a day apart):
/// AAPL, MSFT and JPM are mentioned once a day on Mon–Wed 2015-03-02..04, then 6 times on Thu
/// 03-05. With 1-day buckets and a 3-bucket window the Thursday bucket scores
/// (6 − median 1) / max(1.4826 · MAD 0, 1) = 5 ≥ 3.5: a spike, known when the bucket ends
/// (03-06 00:00 UTC), so on the first bar closing then: the 03-05 daily bar; AAPL's posts are positive (+1), MSFT's negative (−1),
/// JPM's have no sentiment (no signal); strength 5 / (2 · 3.5).
#[test]
fn social_spikes_become_signals_directed_by_their_posts_sentiment() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    common::ingest_csv(
        h,
        &fixture("bars/sp500_20_1d_2010_2022.csv.gz"),
        &["--timeframe", "1d"],
    );
    let mut tweets = vec![];
    let mut id = 570_000_000_000_000_000u64;
    for (sym, text) in [
        ("AAPL", "love this, great quarter"),
        ("MSFT", "terrible, awful fraud"),
        ("JPM", "watching"),
    ] {
        for (day, n) in [(2, 1), (3, 1), (4, 1), (5, 6)] {
            for k in 0..n {
                id += 1;
                tweets.push(serde_json::json!({
                    "id": id.to_string(),
                    "text": format!("${sym} {text}"),
                    "created_at": format!("2015-03-{day:02}T15:{k:02}:00.000Z"),
                }));
            }
        }
    }
    let file = h.join("x.json");
    std::fs::write(
        &file,
        serde_json::to_vec(
            &serde_json::json!({"data": tweets, "meta": {"result_count": tweets.len()}}),
        )
        .unwrap(),
    )
    .unwrap();
    json(
        h,
        &[
            "ingest",
            "social",
            file.to_str().unwrap(),
            "--platform",
            "x",
            "--backfill-delay",
            "60",
        ],
    );
    let r = json(
        h,
        &[
            "sentiment",
            "signals",
            "--social-bucket",
            "1d",
            "--social-window",
            "3",
        ],
    );
    assert_eq!(r[0]["social_signals"].as_i64(), Some(2), "{r}");
    assert_eq!(r[0]["social_spikes_undirected"].as_i64(), Some(1), "{r}");
    let sig = sql_json(
        h,
        "SELECT symbol, CAST(ts_event AS VARCHAR) bar, CAST(ts_recv AS VARCHAR) known, direction, strength \
         FROM signals WHERE rule = 'social_spike' ORDER BY symbol",
    );
    assert_eq!(sig.len(), 2, "{sig:?}");
    for (row, (sym, dir)) in sig.iter().zip([("AAPL", 1), ("MSFT", -1)]) {
        assert_eq!(s(&row["symbol"]), sym);
        assert!(s(&row["bar"]).starts_with("2015-03-05"), "{row:?}");
        assert_eq!(s(&row["known"]), "2015-03-06T00:00:00Z");
        assert_eq!(row["direction"].as_i64(), Some(dir));
        assert!(
            (row["strength"].as_f64().unwrap() - 5.0 / 7.0).abs() < 1e-12,
            "{row:?}"
        );
    }
}

/// Upstox's put/call option chain (the API's published sample: NIFTY 19500, 2024-02-15) lands
/// in `options_chain` like a Yahoo chain: contracts named by instrument key, the quote values as
/// given, IV from percent to a fraction (0 = none), Upstox's own delta, in-the-money from the
/// spot, dated by the fetch; re-ingest adds nothing.
#[test]
fn upstox_option_chains_land_with_their_greeks() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let f = fixture("upstox/rest/option_chain_nifty.json");
    let args = [
        "ingest",
        "options",
        f.to_str().unwrap(),
        "--provider",
        "upstox",
        "--fetched-at",
        "2024-02-12T09:00:00Z",
    ];
    let r = json(h, &args);
    assert_eq!(r[0]["rows_added"].as_i64(), Some(2), "{r}");
    assert_eq!(json(h, &args)[0]["rows_added"].as_i64(), Some(0));
    let rows = sql_json(
        h,
        "SELECT symbol, contract, option_type, strike, CAST(expiry AS VARCHAR) x, CAST(ts_event AS VARCHAR) e, \
         bid, ask, last, volume, open_interest, implied_vol, delta, in_the_money, underlying_price \
         FROM options_chain ORDER BY contract",
    );
    assert_eq!(rows.len(), 2);
    let (c, p) = (&rows[0], &rows[1]);
    assert_eq!(s(&c["symbol"]), "NSE_INDEX|Nifty 50");
    assert_eq!(
        (s(&c["contract"]), s(&c["option_type"])),
        ("NSE_FO|37263", "call")
    );
    assert_eq!(
        (s(&p["contract"]), s(&p["option_type"])),
        ("NSE_FO|37264", "put")
    );
    assert_eq!(s(&c["x"]), "2024-02-15T10:00:00Z");
    assert_eq!(s(&c["e"]), "2024-02-12T09:00:00Z");
    assert_eq!(c["strike"].as_f64(), Some(19500.0));
    assert_eq!(c["underlying_price"].as_f64(), Some(22122.25));
    assert_eq!(
        (c["bid"].as_f64(), c["ask"].as_f64(), c["last"].as_f64()),
        (Some(2292.85), Some(2302.25), Some(2291.8))
    );
    assert_eq!(
        (c["volume"].as_f64(), c["open_interest"].as_f64()),
        (Some(1200.0), Some(2350.0))
    );
    assert!(c["implied_vol"].is_null(), "iv 0 is none: {c}");
    assert_eq!(c["delta"].as_f64(), Some(1.0));
    assert_eq!(c["in_the_money"], true);
    assert_eq!(p["volume"].as_f64(), Some(12367100.0));
    assert_eq!(p["open_interest"].as_f64(), Some(3957550.0));
    assert!((p["implied_vol"].as_f64().unwrap() - 0.3143).abs() < 1e-12);
    assert_eq!(p["delta"].as_f64(), Some(-0.0026));
    assert_eq!(p["in_the_money"], false);
    // The summary view reads it: put/call volume 12,367,100 / 1,200.
    let sm = &sql_json(
        h,
        "SELECT put_call_volume, put_call_oi FROM options_summary",
    )[0];
    assert!((sm["put_call_volume"].as_f64().unwrap() - 12367100.0 / 1200.0).abs() < 1e-9);
    assert!((sm["put_call_oi"].as_f64().unwrap() - 3957550.0 / 2350.0).abs() < 1e-9);
}
