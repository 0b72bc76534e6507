//! `asof_join` through SQL: equal to a brute-force scan written independently here, no
//! look-ahead (changing quotes received after every tick changes nothing), time travel on
//! either side, and clear errors for bad arguments.

use elite_sql::SqlEngine;
use elite_store::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use elite_store::datafusion::arrow::compute::cast;
use elite_store::datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::tables::{QUOTES, TICKS};
use elite_warehouse::{DepthLevel, QuotesBuilder, Tick, TicksBuilder, Timestamp};

const T0: i64 = 1_704_270_600_000_000;

fn ts(us: i64) -> Timestamp {
    Timestamp::from_nanos(us * 1000)
}

/// (symbol, ts_event µs, price)
fn ticks(rows: &[(&str, i64, f64)]) -> RecordBatch {
    let mut b = TicksBuilder::default();
    for &(s, t, p) in rows {
        b.push(Tick {
            symbol: s.into(),
            ts_event: ts(T0 + t),
            ts_recv: ts(T0 + t + 5),
            price: p,
            source: "test".into(),
            ..Tick::default()
        });
    }
    b.finish().unwrap()
}

/// (symbol, ts_recv µs, level, bid)
fn quotes(rows: &[(&str, i64, i32, f64)]) -> RecordBatch {
    let mut b = QuotesBuilder::default();
    for &(s, t, level, bid) in rows {
        b.push(DepthLevel {
            symbol: s.into(),
            ts_event: ts(T0 + t - 50), // sent before it was received
            ts_recv: ts(T0 + t),
            level,
            bid_price: Some(bid),
            bid_qty: Some(1.0),
            ask_price: Some(bid + 0.5),
            ask_qty: Some(1.0),
            source: "test".into(),
        });
    }
    b.finish().unwrap()
}

/// (symbol, ts µs since T0, price) of a tick.
type TickRow = (String, i64, f64);
/// (symbol, ts_recv µs since T0, level, bid) of a quote level.
type QuoteRow = (String, i64, i32, f64);

/// A pseudo-random book: 3 symbols, ticks and two-level quotes at interleaved times.
fn data() -> (Vec<TickRow>, Vec<QuoteRow>) {
    let mut state = 88172645463325252u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut t = Vec::new();
    let mut q = Vec::new();
    for s in ["AAA", "BBB", "CCC"] {
        let (mut tt, mut tq) = (0i64, 40i64);
        for i in 0..200 {
            tt += 1 + (next() % 60) as i64;
            t.push((s.to_string(), tt, 10.0 + i as f64));
            tq += 1 + (next() % 60) as i64;
            for level in 0..2 {
                q.push((s.to_string(), tq, level, 100.0 * level as f64 + i as f64));
            }
        }
    }
    (t, q)
}

/// The expected bid of each tick, by scanning every quote (no sorting, no search).
fn brute_force(t: &[TickRow], q: &[QuoteRow]) -> Vec<Option<f64>> {
    t.iter()
        .map(|(s, tt, _)| {
            q.iter()
                .filter(|(qs, qt, level, _)| qs == s && *level == 0 && qt <= tt)
                .max_by_key(|(_, qt, _, _)| *qt)
                .map(|(_, _, _, bid)| *bid)
        })
        .collect()
}

async fn setup(t: &[TickRow], q: &[QuoteRow]) -> (tempfile::TempDir, Warehouse) {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path().to_str().unwrap()).unwrap();
    let tr: Vec<(&str, i64, f64)> = t.iter().map(|(s, a, b)| (s.as_str(), *a, *b)).collect();
    let qr: Vec<(&str, i64, i32, f64)> = q
        .iter()
        .map(|(s, a, l, b)| (s.as_str(), *a, *l, *b))
        .collect();
    wh.insert_new(&TICKS, vec![ticks(&tr)], CommitMeta::new("t"))
        .await
        .unwrap();
    wh.insert_new(&QUOTES, vec![quotes(&qr)], CommitMeta::new("q"))
        .await
        .unwrap();
    (dir, wh)
}

/// (symbol, ts µs since T0, bid) of every tick, ordered by symbol and time.
async fn joined(engine: &SqlEngine, sql: &str) -> Vec<(String, i64, Option<f64>)> {
    let out = engine.query(sql).await.unwrap();
    let mut v = Vec::new();
    for b in &out {
        let s = cast(b.column(0), &DataType::Utf8).unwrap();
        let t = cast(b.column(1), &DataType::Int64).unwrap();
        let (s, t, bid) = (
            s.as_string::<i32>(),
            t.as_primitive::<Int64Type>(),
            b.column(2).as_primitive::<Float64Type>(),
        );
        for i in 0..b.num_rows() {
            v.push((
                s.value(i).to_string(),
                t.value(i) - T0,
                bid.is_valid(i).then(|| bid.value(i)),
            ));
        }
    }
    v
}

const JOIN: &str = "SELECT symbol, ts_event, bid_price, quotes_ts_recv, level FROM \
     asof_join('ticks', 'quotes', 'symbol', 'ts_event', 'ts_recv', 'level = 0') \
     ORDER BY symbol, ts_event";

#[tokio::test]
async fn every_tick_gets_the_last_best_quote_received_by_then() {
    let (t, q) = data();
    let (_dir, wh) = setup(&t, &q).await;
    let engine = SqlEngine::new(wh).await.unwrap();
    let got = joined(&engine, JOIN).await;
    let want = brute_force(&t, &q);
    assert_eq!(got.len(), t.len());
    let mut expected: Vec<(String, i64, Option<f64>)> = t
        .iter()
        .zip(&want)
        .map(|((s, tt, _), b)| (s.clone(), *tt, *b))
        .collect();
    expected.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(got, expected);
    let unmatched = got.iter().filter(|r| r.2.is_none()).count();
    assert!(
        unmatched > 0 && unmatched < 20,
        "{unmatched} ticks before the first quote"
    );

    // The right side's colliding columns are prefixed; the level filter held.
    let levels = engine
        .query(
            "SELECT count(*) FROM asof_join('ticks', 'quotes', 'symbol', 'ts_event', 'ts_recv', 'level = 0') \
             WHERE level <> 0",
        )
        .await
        .unwrap();
    assert_eq!(levels[0].column(0).as_primitive::<Int64Type>().value(0), 0);
}

#[tokio::test]
async fn quotes_received_after_every_tick_change_nothing() {
    let (t, q) = data();
    let last_tick = t.iter().map(|r| r.1).max().unwrap();
    let (_d1, wh) = setup(&t, &q).await;
    let before = joined(&SqlEngine::new(wh).await.unwrap(), JOIN).await;
    // Perturb the future: every quote received after the last tick gets another price, and
    // more quotes arrive later still.
    let mut q2: Vec<_> = q
        .iter()
        .map(|(s, qt, l, b)| {
            (
                s.clone(),
                *qt,
                *l,
                if *qt > last_tick { b + 1e6 } else { *b },
            )
        })
        .collect();
    q2.push(("AAA".into(), last_tick + 1, 0, -1.0));
    let (_d2, wh2) = setup(&t, &q2).await;
    assert_eq!(
        joined(&SqlEngine::new(wh2).await.unwrap(), JOIN).await,
        before
    );
}

#[tokio::test]
async fn versions_and_bad_arguments() {
    let (t, q) = data();
    let (_dir, wh) = setup(&t, &q).await;
    let engine = SqlEngine::new(wh).await.unwrap();
    let n = |sql: &'static str| {
        let e = &engine;
        async move {
            let b = e.query(sql).await.unwrap();
            b[0].column(0).as_primitive::<Int64Type>().value(0)
        }
    };
    assert_eq!(
        n("SELECT count(*) FROM asof_join('ticks@v0', 'quotes@v0', 'symbol', 'ts_event', 'ts_recv')")
            .await,
        t.len() as i64
    );
    for (sql, needle) in [
        (
            "SELECT * FROM asof_join('ticks', 'quotes', 'symbol', 'ts_event')",
            "4 arguments given",
        ),
        (
            "SELECT * FROM asof_join('ticks', 'nope', 'symbol', 'ts_event', 'ts_recv')",
            "not a warehouse table",
        ),
        (
            "SELECT * FROM asof_join('ticks', 'quotes', 'sym', 'ts_event', 'ts_recv')",
            "no column \"sym\"",
        ),
        (
            "SELECT * FROM asof_join('ticks', 'quotes', 'symbol', 'price', 'ts_recv')",
            "timestamps or integers",
        ),
        (
            "SELECT * FROM asof_join('ticks', 'quotes', 'symbol', 'ts_event', 1)",
            "string literal",
        ),
    ] {
        let e = engine.query(sql).await.unwrap_err().to_string();
        assert!(e.contains(needle), "{sql}: {e}");
    }
}

/// A filter on a column the files are not sorted by (`level`) alone runs above the scan, not as
/// Delta's Parquet row filter, where a filter on the first key column (`symbol`) is taken by the
/// scan; both give the right rows.
#[tokio::test]
async fn only_filters_on_laid_out_columns_reach_the_scan() {
    use elite_store::datafusion::physical_plan::displayable;
    let (t, q) = data();
    let (_dir, wh) = setup(&t, &q).await;
    let engine = SqlEngine::new(wh).await.unwrap();
    for (sql, column, want) in [
        (
            "SELECT bid_price FROM quotes WHERE level = 0",
            "level",
            q.iter().filter(|r| r.2 == 0).count(),
        ),
        (
            "SELECT bid_price FROM quotes WHERE symbol = 'BBB'",
            "symbol",
            q.iter().filter(|r| r.0 == "BBB").count(),
        ),
    ] {
        let plan = engine
            .plan(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let text = displayable(plan.as_ref()).indent(true).to_string();
        let above = text
            .lines()
            .any(|l| l.contains("FilterExec") && l.contains(column));
        let in_scan = text.lines().any(|l| {
            l.contains("DataSourceExec") && l.contains("predicate=") && l.contains(column)
        });
        // `level`: kept in a FilterExec (DataFusion may still hand it to the scan for row-group
        // pruning, but not as an exact row filter); `symbol`: taken by the scan.
        let ok = if column == "level" {
            above
        } else {
            !above && in_scan
        };
        assert!(ok, "{sql}:\n{text}");
        let got: usize = engine
            .query(sql)
            .await
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum();
        assert!(want > 0);
        assert_eq!(got, want, "{sql}");
    }
}
