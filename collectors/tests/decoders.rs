//! Decoders against real recorded data. Reference values come from outside the code under test:
//! the Upstox SDK's own JSON decoding of each frame, and sums computed with Python's `csv` module
//! (`python3 -c "import csv; …"` over the same files; see each constant).

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use elite_collectors::bars_csv::{BarsOptions, ColumnMap, decode_bars_csv};
use elite_collectors::{upstox, yahoo};
use elite_warehouse::{FixedClock, Symbol, Timeframe, Timestamp};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

fn clock() -> FixedClock {
    FixedClock(Timestamp::from_secs(1_700_000_000).unwrap())
}

fn sum(b: &RecordBatch, col: &str) -> f64 {
    b.column_by_name(col)
        .unwrap()
        .as_primitive::<Float64Type>()
        .iter()
        .flatten()
        .sum()
}

fn close_to(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn opts(source: &str, symbol: &str, tf: &str) -> BarsOptions {
    let mut o = BarsOptions::new(source, Timeframe::parse(tf).unwrap());
    o.symbol = Some(Symbol::new(symbol).unwrap());
    o
}

/// Row count and OHLC(V) sums from Python's csv module (reference computed outside this code).
fn check_csv(file: &str, o: &BarsOptions, rows: usize, sums: &[(&str, f64)]) {
    let bytes = std::fs::read(fixture(file)).unwrap();
    let bytes = if file.ends_with(".gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        bytes
    };
    let d = decode_bars_csv(&bytes[..], o, &clock()).unwrap();
    assert!(
        d.quarantine.is_empty(),
        "{file}: {:?}",
        &d.quarantine[..d.quarantine.len().min(3)]
    );
    assert_eq!((d.rows_read, d.batch.num_rows()), (rows, rows), "{file}");
    for (col, want) in sums {
        assert!(
            close_to(sum(&d.batch, col), *want),
            "{file} {col}: {} vs {want}",
            sum(&d.batch, col)
        );
    }
}

#[test]
fn real_csv_files_decode_with_reference_sums() {
    check_csv(
        "bars/GOOG_1d.csv",
        &opts("t", "GOOG", "1d"),
        2148,
        &[
            ("open", 1021827.91),
            ("high", 1032862.05),
            ("low", 1009857.8),
            ("close", 1021327.2),
            ("volume", 11856390000.0),
        ],
    );
    let mut sp = opts("t", "SPX", "1m");
    sp.tz = chrono_tz::America::New_York;
    check_csv(
        "bars/SP500_NOV2019_IDayRVol.csv",
        &sp,
        1563,
        &[
            ("open", 4816453.46),
            ("high", 4816883.79),
            ("low", 4816020.91),
            ("close", 4816445.17),
            ("volume", 2156798053.0),
        ],
    );
    check_csv(
        "bars/2006-min-005.txt",
        &opts("t", "STOXX50E", "5m"),
        2142,
        &[
            ("open", 7758836.39),
            ("high", 7761272.52),
            ("low", 7756477.68),
            ("close", 7758977.51),
        ],
    );
    check_csv(
        "bars/2006-01-02-volume-min-001.txt.gz",
        &opts("t", "FESX", "1m"),
        30889,
        &[
            ("open", 113901904.0),
            ("high", 113922038.0),
            ("low", 113882032.0),
            ("close", 113902210.0),
            ("volume", 23244742.0),
        ],
    );
    check_csv(
        "bars/XRP_ETH-1m.csv",
        &opts("t", "XRP/ETH".replace('/', "-").as_str(), "1m"),
        2469,
        &[
            ("open", 3.654077050000007),
            ("close", 3.6540989800000103),
            ("volume", 5545735.0),
        ],
    );
}

#[test]
fn exchange_time_zone_is_converted_to_utc() {
    let mut o = opts("t", "SPX", "1m");
    o.tz = chrono_tz::America::New_York;
    let d = decode_bars_csv(
        &std::fs::read(fixture("bars/SP500_NOV2019_IDayRVol.csv")).unwrap()[..],
        &o,
        &clock(),
    )
    .unwrap();
    let ts = d
        .batch
        .column_by_name("ts_event")
        .unwrap()
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    // 2019-11-05 09:30 New York (EST, UTC-5) is 14:30 UTC; ts_recv is the bar's end.
    assert_eq!(
        ts.value(0),
        Timestamp::parse_rfc3339("2019-11-05T14:30:00Z")
            .unwrap()
            .as_micros()
    );
    let recv = d
        .batch
        .column_by_name("ts_recv")
        .unwrap()
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    assert_eq!(recv.value(0) - ts.value(0), 60_000_000);
}

#[test]
fn column_mapping_reads_vendor_layouts() {
    let mut o = opts("t", "JPY", "1d");
    o.columns = ColumnMap::parse("close=Last,ts=Time").unwrap();
    let d = decode_bars_csv(
        &std::fs::read(fixture("bars/jpyusd_barchartdotcom.csv")).unwrap()[..],
        &o,
        &clock(),
    )
    .unwrap();
    assert_eq!(d.batch.num_rows() + d.quarantine.len(), 519);
    assert_eq!(d.rows_read, 519);
    assert!(ColumnMap::parse("bogus=X").is_err());
    let missing =
        decode_bars_csv(&b"when,o,h,l\n"[..], &opts("t", "X", "1d"), &clock()).unwrap_err();
    assert!(missing.to_string().contains("--map"), "{missing}");
}

#[test]
fn malformed_rows_are_quarantined_with_line_field_and_reason() {
    let csv = "\
ts,open,high,low,close,volume
2020-01-02,10,11,9,10.5,100
2020-01-03,10,abc,9,10.5,100
2020-01-06,10,11,9
2020-01-07,10,9,9.5,10.5,100
not-a-date,10,11,9,10.5,100
2020-01-02,10,11,9,10.5,100
2020-01-08,10,11,9,10.5,-5
2020-01-09,10,11,9,10.5,100
";
    let d = decode_bars_csv(csv.as_bytes(), &opts("csv:bad.csv", "X", "1d"), &clock()).unwrap();
    assert_eq!(d.rows_read, 8);
    assert_eq!(d.batch.num_rows(), 2);
    let got: Vec<(&str, &str)> = d
        .quarantine
        .iter()
        .map(|q| (q.location.as_str(), q.reason.as_str()))
        .collect();
    let want = [
        ("line 3", "field `high`: cannot parse \"abc\" as a number"),
        ("line 4", "missing field `close`"),
        ("line 5", "field `high` 9 < `low` 9.5"),
        ("line 6", "field `ts`: cannot parse \"not-a-date\""),
        (
            "line 7",
            "duplicate key (symbol X, ts_event 2020-01-02T00:00:00Z) first seen on line 2",
        ),
        ("line 8", "field `volume` must be finite and >= 0"),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for ((loc, reason), (wl, wr)) in got.iter().zip(want) {
        assert_eq!(*loc, wl);
        assert!(
            reason.starts_with(wr),
            "{loc}: {reason:?} should start with {wr:?}"
        );
    }
    assert_eq!(d.quarantine[0].raw, "2020-01-03,10,abc,9,10.5,100");
}

// ------------------------------------------------------------------ Upstox

/// Every recorded frame decodes, and re-encoding the decoded message as proto3 JSON gives
/// exactly the SDK's own `MessageToDict` output.
#[test]
fn every_upstox_vector_matches_the_sdk_decoding() {
    use prost::Message;
    let mut n = 0;
    for i in 0..20 {
        let bin = std::fs::read(fixture(&format!("upstox/vectors/frame_{i:02}.bin"))).unwrap();
        let want: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixture(&format!("upstox/vectors/frame_{i:02}.json"))).unwrap(),
        )
        .unwrap();
        let msg = upstox::proto::FeedResponse::decode(&bin[..]).unwrap();
        let got = serde_json::to_value(&msg).unwrap();
        assert_eq!(got, want, "frame_{i:02}");
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn upstox_feed_frames_become_ticks_and_depth() {
    // frame_14: an NSE_FO option in full_d5 with greeks, OI, IV and five depth levels.
    let bin = std::fs::read(fixture("upstox/vectors/frame_14.bin")).unwrap();
    let d = upstox::decode_feed(&bin, "frame_14", &clock());
    assert!(d.quarantine.is_empty(), "{:?}", d.quarantine);
    let t = d.ticks.iter().find(|t| t.symbol == "NSE_FO|54908").unwrap();
    assert_eq!(t.price, 214.6);
    assert_eq!(t.size, Some(75.0));
    assert_eq!(t.prev_close, Some(171.2));
    assert_eq!(t.iv, Some(0.1289));
    assert_eq!(
        t.ts_event,
        Timestamp::from_millis(1_726_119_160_017).unwrap()
    );
    assert_eq!(
        t.ts_recv,
        Timestamp::from_millis(1_726_119_160_311).unwrap()
    );
    let levels: Vec<_> = d
        .quotes
        .iter()
        .filter(|q| q.symbol == "NSE_FO|54908")
        .collect();
    assert_eq!(levels.len(), 5);
    assert_eq!(
        (
            levels[0].bid_price,
            levels[0].bid_qty,
            levels[0].ask_price,
            levels[0].ask_qty
        ),
        (Some(214.6), Some(800.0), Some(214.65), Some(300.0))
    );
    assert_eq!(levels[4].ask_price, Some(214.85));
    let (ticks, quotes) = d.batches().unwrap();
    assert_eq!((ticks.num_rows(), quotes.num_rows()), (d.ticks.len(), 5));

    // frame_19: an LTPC batch of 4 equities and 2 indices.
    let d = upstox::decode_feed(
        &std::fs::read(fixture("upstox/vectors/frame_19.bin")).unwrap(),
        "frame_19",
        &clock(),
    );
    assert_eq!(d.ticks.len(), 6);
    let sensex = d
        .ticks
        .iter()
        .find(|t| t.symbol == "BSE_INDEX|SENSEX")
        .unwrap();
    assert_eq!(
        (sensex.price, sensex.prev_close),
        (83116.19, Some(81523.16))
    );

    // frame_17 (market status) and frame_18 (empty live feed) carry no ticks and no errors.
    for f in ["frame_17", "frame_18"] {
        let d = upstox::decode_feed(
            &std::fs::read(fixture(&format!("upstox/vectors/{f}.bin"))).unwrap(),
            f,
            &clock(),
        );
        assert!(d.ticks.is_empty() && d.quarantine.is_empty(), "{f}");
    }
    // Garbage is quarantined whole, base64-encoded, not a panic.
    let d = upstox::decode_feed(&[0xff, 0xff, 0xff], "frame_x", &clock());
    assert_eq!(d.quarantine.len(), 1);
    assert_eq!(d.quarantine[0].raw_encoding, "base64");
}

#[test]
fn upstox_feed_times_out_of_range_are_quarantined_not_1970() {
    use prost::Message;
    use upstox::proto::feed::FeedUnion;
    let bin = std::fs::read(fixture("upstox/vectors/frame_19.bin")).unwrap();
    let good = upstox::proto::FeedResponse::decode(&bin[..]).unwrap();

    // A trade time past what the warehouse can hold (i64 nanoseconds end in 2262): that feed is
    // quarantined naming the field; the frame's other feeds still land.
    let mut msg = good.clone();
    let key = "BSE_INDEX|SENSEX".to_string();
    let feed = msg.feeds.get_mut(&key).unwrap();
    match &mut feed.feed_union {
        Some(FeedUnion::Ltpc(l)) => l.ltt = i64::MAX / 2,
        other => panic!("frame_19 {key} is not LTPC: {other:?}"),
    }
    let d = upstox::decode_feed(&msg.encode_to_vec(), "frame_19", &clock());
    assert_eq!(d.ticks.len(), 5);
    assert!(d.ticks.iter().all(|t| t.symbol != key));
    assert!(d.ticks.iter().all(|t| t.ts_event.as_nanos() > 0));
    assert_eq!(d.quarantine.len(), 1);
    assert_eq!(d.quarantine[0].location, format!("frame_19 feed {key}"));
    assert!(
        d.quarantine[0].reason.contains("`ltpc.ltt`"),
        "{}",
        d.quarantine[0].reason
    );

    // A frame time out of range: the whole frame is quarantined (raw bytes), nothing lands at 1970.
    let mut msg = good;
    msg.current_ts = i64::MAX;
    let d = upstox::decode_feed(&msg.encode_to_vec(), "frame_19", &clock());
    assert!(d.ticks.is_empty() && d.quotes.is_empty());
    assert_eq!(d.quarantine.len(), 1);
    assert_eq!(d.quarantine[0].raw_encoding, "base64");
    assert!(d.quarantine[0].reason.contains("`currentTs`"));
}

#[test]
fn upstox_candles_decode_and_errors_are_reported() {
    let key = Symbol::new("NSE_EQ|INE002A01018").unwrap();
    let body = std::fs::read(fixture("upstox/rest/historical_candle_v3_minutes_1.json")).unwrap();
    let tf = upstox::candle_timeframe("minutes", "1").unwrap();
    let d = upstox::decode_candles(&body, &key, tf, "upstox", &clock()).unwrap();
    assert_eq!((d.rows_read, d.batch.num_rows()), (375, 375));
    let ts = d
        .batch
        .column_by_name("ts_event")
        .unwrap()
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    // Newest first; 15:29 IST = 09:59 UTC.
    assert_eq!(
        ts.value(0),
        Timestamp::parse_rfc3339("2024-06-03T09:59:00Z")
            .unwrap()
            .as_micros()
    );
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let want_close: f64 = v["data"]["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[4].as_f64().unwrap())
        .sum();
    assert!(close_to(sum(&d.batch, "close"), want_close));
    let err = std::fs::read(fixture("upstox/rest/error_invalid_instrument.json")).unwrap();
    let e = upstox::decode_candles(&err, &key, tf, "upstox", &clock()).unwrap_err();
    assert!(
        e.to_string().contains("UDAPI1021") && e.to_string().contains("Instrument key is invalid"),
        "{e}"
    );
    assert_eq!(
        upstox::candle_timeframe("", "30minute").unwrap(),
        Timeframe::Minutes(30)
    );
    assert_eq!(
        upstox::candle_timeframe("days", "1").unwrap(),
        Timeframe::Days(1)
    );
}

// ------------------------------------------------------------------ Yahoo

#[test]
fn yahoo_charts_decode() {
    let c = yahoo::decode_chart(
        &std::fs::read(fixture("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json")).unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!(
        (c.decoded.batch.num_rows(), c.meta.symbol.as_str()),
        (49, "AAPL")
    );
    assert_eq!(
        c.meta.exchange_timezone_name.as_deref(),
        Some("America/New_York")
    );
    assert_eq!(c.timeframe, Timeframe::Days(1));
    let close = c
        .decoded
        .batch
        .column_by_name("close")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(close.value(0), 129.0399932861328);

    let m = yahoo::decode_chart(
        &std::fs::read(fixture(
            "yahoo/chart_MSFT_1d_2021-02-01_2022-01-31_div.json",
        ))
        .unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!(m.decoded.batch.num_rows(), 252);

    for f in [
        "chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
        "chart_EURUSD=X_1d_2020-01-01_2020-01-03.json",
        "chart_WSU.DE_1d_2023-08-04_2023-08-09.json",
    ] {
        let c = yahoo::decode_chart(
            &std::fs::read(fixture(&format!("yahoo/{f}"))).unwrap(),
            "yahoo",
            &clock(),
        )
        .unwrap();
        assert_eq!(
            c.decoded.batch.num_rows() + c.decoded.quarantine.len(),
            3,
            "{f}"
        );
    }

    let w = yahoo::decode_chart(
        &std::fs::read(fixture("yahoo/chart_AAPL_1m_2025-02-01_weekend_empty.json")).unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!((w.decoded.rows_read, w.decoded.batch.num_rows()), (0, 0));

    // Assembled GOOG chart: 299 rows, row 17 all null -> quarantined with its index and reason.
    let g = yahoo::decode_chart(
        &std::fs::read(fixture("yahoo/chart_GOOG_1d.json")).unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!(
        (
            g.decoded.rows_read,
            g.decoded.batch.num_rows(),
            g.decoded.quarantine.len()
        ),
        (299, 298, 1)
    );
    assert_eq!(g.decoded.quarantine[0].location, "index 17");
    assert!(g.decoded.quarantine[0].reason.contains("is null"));

    let e = yahoo::decode_chart(
        &std::fs::read(fixture("yahoo/chart_error_not_found.json")).unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("No data found"), "{e}");
    for f in [
        "edge_chart_notimestamp-quotes-length.fake.json",
        "edge_chart_notimestamp-weird-quote.fake.json",
    ] {
        // Hand-made malformed charts: decode without panicking; whatever cannot be a bar is quarantined.
        let r = yahoo::decode_chart(
            &std::fs::read(fixture(&format!("yahoo/{f}"))).unwrap(),
            "yahoo",
            &clock(),
        );
        if let Ok(c) = r {
            assert_eq!(
                c.decoded.rows_read,
                c.decoded.batch.num_rows() + c.decoded.quarantine.len(),
                "{f}"
            );
        }
    }
    assert!(
        yahoo::decode_chart(b"<html>", "yahoo", &clock())
            .unwrap_err()
            .to_string()
            .contains("not a Yahoo chart")
    );
}

#[test]
fn decoded_symbols_are_valid_columns() {
    let c = yahoo::decode_chart(
        &std::fs::read(fixture("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json")).unwrap(),
        "yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!(
        c.decoded
            .batch
            .column_by_name("symbol")
            .unwrap()
            .null_count(),
        0
    );
}

// ------------------------------------------------------------------ Parquet

/// Real GOOG rows written to Parquet with typed columns (naive millisecond timestamps, integer
/// volume, a symbol column) plus one row with a null close: the Parquet decoder must land the same
/// bars as the CSV reference and quarantine the null row by its row number.
#[test]
fn parquet_bars_decode_typed_columns() {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use elite_collectors::bars_parquet::decode_bars_parquet;

    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let (mut ts, mut o, mut h, mut l, mut c, mut v) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for r in rdr.records() {
        let r = r.unwrap();
        let d = chrono::NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap();
        ts.push(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis());
        o.push(Some(r[1].parse::<f64>().unwrap()));
        h.push(r[2].parse::<f64>().unwrap());
        l.push(r[3].parse::<f64>().unwrap());
        c.push(Some(r[4].parse::<f64>().unwrap()));
        v.push(r[5].parse::<f64>().unwrap() as i64);
    }
    let n = ts.len();
    // One extra row, a day after the last, with a null close.
    ts.push(ts[n - 1] + 86_400_000);
    o.push(Some(1.0));
    h.push(1.0);
    l.push(1.0);
    c.push(None);
    v.push(1);
    let schema = Arc::new(Schema::new(vec![
        Field::new("Ticker", DataType::Utf8, false),
        Field::new(
            "Datetime",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("Open", DataType::Float64, true),
        Field::new("High", DataType::Float64, false),
        Field::new("Low", DataType::Float64, false),
        Field::new("Close", DataType::Float64, true),
        Field::new("Volume", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(vec!["GOOG"; n + 1])),
            Arc::new(TimestampMillisecondArray::from(ts)),
            Arc::new(Float64Array::from(o)),
            Arc::new(Float64Array::from(h)),
            Arc::new(Float64Array::from(l)),
            Arc::new(Float64Array::from(c)),
            Arc::new(Int64Array::from(v)),
        ],
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let d = decode_bars_parquet(
        buf.into(),
        &BarsOptions::new("parquet:goog", Timeframe::Days(1)),
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.batch.num_rows()), (2149, 2148));
    assert!(close_to(sum(&d.batch, "close"), 1021327.2));
    assert!(close_to(sum(&d.batch, "volume"), 11856390000.0));
    assert_eq!(d.quarantine.len(), 1);
    assert_eq!(d.quarantine[0].location, "row 2149");
    assert_eq!(d.quarantine[0].reason, "field `close` is null");
    let sym = d.batch.column_by_name("symbol").unwrap().as_string::<i32>();
    assert_eq!(sym.value(0), "GOOG");
}

#[test]
fn symbol_column_rows_are_validated_per_symbol() {
    let csv = "symbol,ts,open,high,low,close\nAAA,2020-01-02,1,2,0.5,1.5\nA B,2020-01-02,1,2,0.5,1.5\nBBB,2020-01-02,1,2,0.5,1.5\nAAA,2020-01-02,1,2,0.5,1.5\n";
    let d = decode_bars_csv(
        csv.as_bytes(),
        &BarsOptions::new("t", Timeframe::Days(1)),
        &clock(),
    )
    .unwrap();
    assert_eq!(d.batch.num_rows(), 2);
    let got: Vec<(&str, &str)> = d
        .quarantine
        .iter()
        .map(|q| (q.location.as_str(), q.reason.as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "line 3");
    assert!(
        got[0]
            .1
            .starts_with("field `symbol`: invalid symbol \"A B\""),
        "{}",
        got[0].1
    );
    assert_eq!(got[1].0, "line 5");
    assert!(
        got[1].1.starts_with("duplicate key (symbol AAA"),
        "{}",
        got[1].1
    );
}
