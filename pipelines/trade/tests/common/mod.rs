//! Shared by the trade tests: the real GOOG daily bars of `collectors/fixtures/bars/GOOG_1d.csv`
//! as engine bars (the open at 14:30 UTC, known at the close 390 minutes later).

use elite_trade::sim::Bar;
use elite_warehouse::Timestamp;

pub fn goog() -> Vec<Bar> {
    let path = format!(
        "{}/../../collectors/fixtures/bars/GOOG_1d.csv",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let d = chrono::NaiveDate::parse_from_str(&rec[0], "%Y-%m-%d").unwrap();
            let open = d.and_hms_opt(14, 30, 0).unwrap().and_utc();
            let f = |i: usize| rec[i].parse::<f64>().unwrap();
            Bar {
                sym: 0,
                ts_event: Timestamp::from_datetime(&open).unwrap(),
                ts_recv: Timestamp::from_datetime(&(open + chrono::Duration::minutes(390)))
                    .unwrap(),
                open: f(1),
                high: f(2),
                low: f(3),
                close: f(4),
                volume: f(5),
            }
        })
        .collect()
}
