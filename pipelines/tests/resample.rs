//! Multi-timeframe aggregation against independently made bars (relations verified with pandas
//! in ../shared/data/README.md): freqtrade's XRP/ETH trades -> its 1-minute bars (2,469 exact),
//! its 1-minute -> its 5-minute bars (706 exact), and backtrader's EuroStoxx50 daily -> its
//! weekly (52) and monthly (12) files. Stream (clock ticking after every input) == batch.

use elite_pipelines::calendar::Calendar;
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::resample::{OutBar, Resampler, TimedBar, resample};
use elite_warehouse::{Timeframe, Timestamp};
use proptest::prelude::*;
use std::io::Read;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../collectors/fixtures/bars/{name}",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    );
    let f = std::fs::File::open(&path).unwrap();
    let mut s = String::new();
    if name.ends_with(".gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut s)
            .unwrap();
    } else {
        std::io::BufReader::new(f).read_to_string(&mut s).unwrap();
    }
    s
}

fn rows(name: &str) -> Vec<Vec<String>> {
    let text = fixture(name);
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn iso(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(&s.replace(".000Z", "Z")).unwrap()
}

fn day(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")).unwrap()
}

fn bars_from(rows: &[Vec<String>], ts: fn(&str) -> Timestamp, step_ns: i64) -> Vec<TimedBar> {
    rows.iter()
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            let t = ts(&r[0]);
            TimedBar {
                ts_event: t,
                ts_recv: t.add_nanos(step_ns),
                bar: Ohlcv::new(f(1), f(2), f(3), f(4), f(5)),
            }
        })
        .collect()
}

fn same(got: &[OutBar], want: &[TimedBar], check_ts: bool) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            g.bar, w.bar,
            "bar at {} (expected {})",
            g.ts_event, w.ts_event
        );
        if check_ts {
            assert_eq!(g.ts_event, w.ts_event);
        }
    }
}

const MIN: i64 = 60_000_000_000;
const DAY: i64 = 86_400 * 1_000_000_000;

#[test]
fn trades_to_one_minute_match_freqtrade() {
    let trades: Vec<TimedBar> = rows("XRP_ETH-trades.csv.gz")
        .iter()
        .map(|r| {
            TimedBar::tick(
                Timestamp::from_millis(r[0].parse().unwrap()).unwrap(),
                r[4].parse().unwrap(),
                r[5].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(trades.len(), 12_477);
    let want = bars_from(&rows("XRP_ETH-1m.csv"), iso, MIN);
    let end = want.last().unwrap().ts_recv;
    let (got, r) = resample(
        &Calendar::always_open(),
        Timeframe::parse("1m").unwrap(),
        &trades,
        end,
    )
    .unwrap();
    // Volume is a float sum of trade sizes; freqtrade's too (same order), so compare exactly.
    same(&got, &want, true);
    assert_eq!((r.outside(), r.late()), (0, 0));
}

#[test]
fn one_minute_to_five_minutes_match_freqtrade() {
    let m1 = bars_from(&rows("XRP_ETH-1m.csv"), iso, MIN);
    let want = bars_from(&rows("XRP_ETH-5m.csv"), iso, 5 * MIN);
    let (got, _) = resample(
        &Calendar::always_open(),
        Timeframe::parse("5m").unwrap(),
        &m1,
        want.last().unwrap().ts_recv,
    )
    .unwrap();
    same(&got, &want, true);
    // A 5-minute bar is knowable at its end, never before.
    assert!(
        got.iter()
            .all(|b| b.ts_recv.as_nanos() - b.ts_event.as_nanos() >= 5 * MIN)
    );
}

#[test]
fn daily_to_weekly_and_monthly_match_backtrader() {
    let daily = bars_from(&rows("2006-day-001.txt"), day, DAY);
    let until = daily.last().unwrap().ts_recv.add_nanos(7 * DAY);
    for (tf, file, n) in [
        ("1w", "2006-week-001.txt", 52),
        ("1mo", "2006-month-001.txt", 12),
    ] {
        let want = bars_from(&rows(file), day, DAY);
        let (got, _) = resample(
            &Calendar::always_open(),
            Timeframe::parse(tf).unwrap(),
            &daily,
            until,
        )
        .unwrap();
        assert_eq!(got.len(), n);
        // backtrader labels a week by its last trading day; ours start at Monday 00:00.
        same(&got, &want, false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn stream_with_a_ticking_clock_equals_batch(tf in prop::sample::select(vec!["3m", "5m", "15m", "1h", "1d"]), cut in 1usize..2469) {
        let m1 = bars_from(&rows("XRP_ETH-1m.csv"), iso, MIN);
        let cal = Calendar::always_open();
        let tf = Timeframe::parse(tf).unwrap();
        let until = m1[cut - 1].ts_recv;
        let (batch, _) = resample(&cal, tf, &m1[..cut], until).unwrap();
        let mut r = Resampler::new(cal, tf).unwrap();
        let mut stream = vec![];
        for (i, b) in m1[..cut].iter().enumerate() {
            r.update(b, &mut stream);
            // The clock ticks at each input's ts_recv; checkpoint the state halfway.
            r.on_time(b.ts_recv, &mut stream);
            if i == cut / 2 {
                r = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            }
        }
        prop_assert_eq!(batch, stream);
    }
}
