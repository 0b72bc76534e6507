//! `elite bench sql`: Elite's SQL on the warehouse beside DuckDB on the same rows, in the same
//! run. A benchmark, not a test: it asserts nothing about speed, but fails when the two engines'
//! answers differ.
//!
//! The data: synthetic 1-minute bars (`elite bench ingest`'s generator) landed by `elite ingest
//! csv` into a fresh warehouse, partitioned by `--partition-by`; for the as-of join, synthetic
//! ticks and two levels of quotes written to `ticks` and `quotes`. DuckDB reads the very Parquet
//! files of each table's latest version (listed, hive partitions giving the partition columns),
//! with `TimeZone = 'UTC'` and the same thread count as Elite's DataFusion session (`--threads`,
//! default all cores).
//!
//! Each query is the same SQL text on both sides (but the as-of join: Elite's `asof_join` table
//! function, DuckDB's `ASOF LEFT JOIN`, the same rows asked for), run once to warm up and then
//! `repeat` times; the median is reported. Elite: `SqlEngine::query` in this process (plan +
//! execute + collect the Arrow batches). DuckDB: `execute(q)` and its Arrow table in a Python
//! process (its start and the views' creation are not timed, as Elite's session start is not).
//! Agreement: the same row count and, per numeric column, sums equal to 1e-9 relative.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};

use crate::args::BenchSqlArgs;
use crate::printer::Printer;
use crate::settings::Settings;

/// Row count and per-column sums of the numeric columns: what both engines must agree on.
#[derive(Debug, Default, PartialEq)]
struct Answer {
    rows: u64,
    sums: BTreeMap<String, f64>,
}

fn answer(batches: &[RecordBatch]) -> Result<Answer> {
    let mut a = Answer::default();
    for b in batches {
        a.rows += b.num_rows() as u64;
        for (f, c) in b.schema().fields().iter().zip(b.columns()) {
            if !f.data_type().is_numeric() {
                continue;
            }
            let c = arrow::compute::cast(c, &DataType::Float64)?;
            let c = c
                .as_any()
                .downcast_ref::<Float64Array>()
                .context("a numeric column cast to f64")?;
            let s: f64 = c.iter().flatten().sum();
            *a.sums.entry(f.name().clone()).or_default() += s;
        }
    }
    Ok(a)
}

fn agree(a: &Answer, b: &Answer) -> Result<(), String> {
    if a.rows == 0 && b.rows == 0 {
        // Nothing to compare, and nothing measured: with few --rows the generated minutes do not
        // reach the day query (a) asks for.
        return Err(
            "both engines returned no rows: the generated data does not cover the query \
                    (use more --rows)"
                .into(),
        );
    }
    if a.rows != b.rows {
        return Err(format!("rows {} vs {}", a.rows, b.rows));
    }
    if a.sums.len() != b.sums.len() {
        return Err(format!(
            "numeric columns {:?} vs {:?}",
            a.sums.keys(),
            b.sums.keys()
        ));
    }
    for (k, x) in &a.sums {
        let Some(y) = b.sums.get(k) else {
            return Err(format!("column {k} missing on one side"));
        };
        let scale = x.abs().max(y.abs()).max(1.0);
        if !(x.is_finite() && y.is_finite()) || (x - y).abs() > 1e-9 * scale {
            return Err(format!("sum of {k}: {x} vs {y}"));
        }
    }
    Ok(())
}

/// A query: name, what it does, Elite's SQL and DuckDB's (the same text but for (d), where
/// each engine spells the as-of join its own way).
type Query = (&'static str, &'static str, String, String);

/// The queries.
fn queries(symbol: &str) -> Vec<Query> {
    let same = |name, what, sql: String| (name, what, sql.clone(), sql);
    vec![
        same(
            "a",
            "one symbol, one day of 1-minute bars",
            format!(
                "SELECT ts_event, open, high, low, close, volume FROM bars WHERE symbol = '{symbol}' \
                 AND ts_event >= '2024-01-03T00:00:00Z' AND ts_event < '2024-01-04T00:00:00Z' ORDER BY ts_event"
            ),
        ),
        same(
            "b",
            "one symbol's full history",
            format!(
                "SELECT ts_event, close, volume FROM bars WHERE symbol = '{symbol}' ORDER BY ts_event"
            ),
        ),
        same(
            "c",
            "daily VWAP of every symbol over all rows",
            "SELECT symbol, date_trunc('day', ts_event) AS day, sum(close * volume) / sum(volume) AS vwap, \
             count(*) AS n FROM bars GROUP BY symbol, date_trunc('day', ts_event) ORDER BY symbol, day"
                .to_string(),
        ),
        (
            "d",
            "as-of join: each tick to its symbol's last best quote received by then (left join), summed",
            "SELECT count(*) AS n, count(bid_price) AS matched, sum(bid_price) AS bid, sum(ask_price) AS ask, \
             sum(price - (bid_price + ask_price) / 2) AS off_mid \
             FROM asof_join('ticks', 'quotes', 'symbol', 'ts_event', 'ts_recv', 'level = 0')"
                .to_string(),
            "SELECT count(*) AS n, count(q.bid_price) AS matched, sum(q.bid_price) AS bid, sum(q.ask_price) AS ask, \
             sum(t.price - (q.bid_price + q.ask_price) / 2) AS off_mid \
             FROM ticks t ASOF LEFT JOIN (SELECT * FROM quotes WHERE level = 0) q \
             ON t.symbol = q.symbol AND t.ts_event >= q.ts_recv"
                .to_string(),
        ),
        same(
            "e",
            "20-bar moving average of close per symbol (window over every row), summed",
            "SELECT count(*) AS n, sum(sma) AS total FROM (SELECT avg(close) OVER (PARTITION BY symbol \
             ORDER BY ts_event ROWS BETWEEN 19 PRECEDING AND CURRENT ROW) AS sma FROM bars) w"
                .to_string(),
        ),
    ]
}

/// `ticks` ticks spread over `symbols` symbols on 2024-01-03, and two depth levels per quote
/// update (levels 0 and 1) at their own times: synthetic, deterministic, every quote's
/// `ts_recv` distinct within its symbol (so "the last quote by then" is one row on any
/// engine). Some ticks come before their symbol's first quote (no match: NULLs).
fn ticks_and_quotes(ticks: usize, symbols: usize) -> Result<(RecordBatch, RecordBatch)> {
    use elite_warehouse::{DepthLevel, QuotesBuilder, Tick, TicksBuilder, Timestamp};
    let per = ticks.div_ceil(symbols);
    let t0: i64 = 1_704_270_600_000_000; // 2024-01-03T08:30:00Z, in µs
    let mut rng = elite_models::rng::SplitMix64::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    let ts = |us: i64| Timestamp::from_nanos(us * 1000);
    let (mut tb, mut qb) = (TicksBuilder::default(), QuotesBuilder::default());
    for s in 0..symbols {
        let symbol = format!("SYM{s:04}");
        let mid = 50.0 + (s % 450) as f64;
        // Quotes every ~20 ms (jittered, strictly increasing), from 30 ms in.
        let mut tq = t0 + 30_000 + s as i64;
        for j in 0..per {
            tq += 15_000 + (next() % 10_000) as i64;
            let m = mid + (j % 50) as f64 * 0.01;
            for level in 0..2 {
                let w = 0.01 * (level + 1) as f64;
                qb.push(DepthLevel {
                    symbol: symbol.clone(),
                    ts_event: ts(tq - 200),
                    ts_recv: ts(tq),
                    level,
                    bid_price: Some(m - w),
                    bid_qty: Some(100.0),
                    ask_price: Some(m + w),
                    ask_qty: Some(100.0),
                    source: "bench".into(),
                });
            }
        }
        let mut tt = t0 + s as i64;
        for i in 0..per {
            tt += 10_000 + (next() % 20_000) as i64;
            tb.push(Tick {
                symbol: symbol.clone(),
                ts_event: ts(tt),
                ts_recv: ts(tt + 100),
                price: mid + (i % 40) as f64 * 0.01,
                size: Some(1.0 + (i % 7) as f64),
                source: "bench".into(),
                ..Tick::default()
            });
        }
    }
    Ok((tb.finish()?, qb.finish()?))
}

const DUCKDB: &str = r#"
import json, sys, time, statistics
import duckdb
tables, threads, repeat, qfile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
con.execute("SET TimeZone = 'UTC'")
for name, live in json.load(open(tables)).items():
    files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in live) + "]"
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files}, hive_partitioning = true)")
out = {"version": duckdb.__version__, "queries": {}}
def arrow(sql):
    cur = con.execute(sql)
    get = getattr(cur, "to_arrow_table", None) or getattr(cur, "fetch_arrow_table")
    return get()
for name, sql in json.load(open(qfile)):
    arrow(sql)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        tab = arrow(sql)
        times.append(time.perf_counter() - t)
    sums = {}
    import pyarrow as pa, pyarrow.compute as pc
    for f in tab.schema:
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type):
            s = pc.sum(tab[f.name].cast(pa.float64())).as_py()
            sums[f.name] = 0.0 if s is None else s
    out["queries"][name] = {"seconds": statistics.median(times), "rows": tab.num_rows, "sums": sums}
print(json.dumps(out))
"#;

pub async fn sql(args: BenchSqlArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let dir: PathBuf = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("elite-bench-sql-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let home = dir.join("warehouse");
    let rows = args.rows.div_ceil(args.symbols) * args.symbols;
    if !home.join("bars").join("_delta_log").exists() {
        let csv = dir.join("bars_1m.csv");
        printer.note(format!(
            "generating {rows} synthetic 1-minute bars ({} symbols) and landing them with elite ingest csv",
            args.symbols
        ));
        super::bench::write_synthetic_csv(&csv, args.rows, args.symbols, args.layout.order)?;
        let t = Instant::now();
        let out = Command::new(std::env::current_exe()?)
            .env("ELITE_CONFIG", "/dev/null")
            .args(["--no-progress", "--format", "json", "--home"])
            .arg(&home)
            .args(["ingest", "csv"])
            .arg(&csv)
            .args([
                "--timeframe",
                "1m",
                "--partition-by",
                &args.layout.partition_by.join(","),
            ])
            .output()?;
        printer.note(format!(
            "landed in {:.2} s (whole process)",
            t.elapsed().as_secs_f64()
        ));
        if !out.status.success() {
            bail!(
                "elite ingest csv failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = std::fs::remove_file(&csv);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let symbol = format!("SYM{:04}", args.symbols / 2);
    let qs = queries(&symbol);

    // Elite, in this process, on `threads` partitions.
    let wh = elite_store::Warehouse::open(&home.to_string_lossy())?;
    let want: Vec<&str> = args
        .layout
        .partition_by
        .iter()
        .map(String::as_str)
        .collect();
    if wh.partitioning("bars").await? != want {
        let t = Instant::now();
        let out = wh.relayout("bars", &want, 512 << 20).await?;
        printer.note(format!(
            "relayout of bars from {} to {}: {} rows, {} files to {}, {:.2} s",
            out.from.join("/"),
            out.to.join("/"),
            out.rows,
            out.files_removed,
            out.files_added,
            t.elapsed().as_secs_f64()
        ));
    }
    // Ticks and quotes for the as-of join (d), landed once.
    if wh.load("ticks", elite_store::At::Latest).await?.is_none() {
        printer.note(format!(
            "generating {} ticks and {} quote levels ({} symbols) for the as-of join",
            args.ticks,
            2 * args.ticks,
            args.symbols
        ));
        let (ticks, quotes) = ticks_and_quotes(args.ticks, args.symbols)?;
        let meta = || elite_store::CommitMeta::new("elite bench sql");
        wh.insert_new(&elite_warehouse::tables::TICKS, vec![ticks], meta())
            .await?;
        wh.insert_new(&elite_warehouse::tables::QUOTES, vec![quotes], meta())
            .await?;
    }
    // DuckDB reads the live files of each table's latest version only (a relayout leaves the
    // old ones).
    let mut files = serde_json::Map::new();
    for name in ["bars", "ticks", "quotes"] {
        let table = wh
            .load(name, elite_store::At::Latest)
            .await?
            .with_context(|| format!("no {name} table"))?;
        let live: Vec<serde_json::Value> = table
            .get_file_uris()?
            .map(|u| u.strip_prefix("file://").unwrap_or(&u).to_string().into())
            .collect();
        files.insert(name.into(), live.into());
    }
    let files_json = dir.join("files.json");
    std::fs::write(&files_json, serde_json::to_vec(&files)?)?;
    let live = files["bars"].as_array().map_or(0, Vec::len);
    let layout = format!(
        "{} ({} files{})",
        want.join("/"),
        live,
        if want.contains(&"symbol") {
            ""
        } else {
            ", each sorted by symbol, ts"
        }
    );
    let engine = elite_sql::SqlEngine::new(wh).await?;
    engine
        .context()
        .state_ref()
        .write()
        .config_mut()
        .options_mut()
        .execution
        .target_partitions = threads;
    let mut elite = BTreeMap::new();
    for (name, _, q, _) in &qs {
        printer.note(format!("elite: query {name} × {} …", args.repeat));
        let first = engine
            .query(q)
            .await
            .with_context(|| format!("query {name}"))?;
        let mut times = Vec::with_capacity(args.repeat);
        for _ in 0..args.repeat {
            let t = Instant::now();
            let b = engine.query(q).await?;
            times.push(t.elapsed().as_secs_f64());
            drop(b);
        }
        elite.insert(
            *name,
            (super::bench_indicators::median(&times), answer(&first)?),
        );
    }

    // DuckDB on the same files.
    printer.note(format!("duckdb ({}) × {} …", args.python, args.repeat));
    let qfile = dir.join("queries.json");
    let list: Vec<(&str, &str)> = qs.iter().map(|(n, _, _, q)| (*n, q.as_str())).collect();
    std::fs::write(&qfile, serde_json::to_vec(&list)?)?;
    let out = Command::new(&args.python)
        .args(["-c", DUCKDB])
        .arg(&files_json)
        .arg(threads.to_string())
        .arg(args.repeat.to_string())
        .arg(&qfile)
        .output()
        .context(
            "running DuckDB (python with duckdb and pyarrow: tests/dev setup installs them)",
        )?;
    if !out.status.success() {
        bail!("duckdb failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let duck: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("duckdb output: {}", String::from_utf8_lossy(&out.stdout)))?;

    let mut names = vec![];
    let (mut es, mut ds, mut ratio, mut nrows) = (vec![], vec![], vec![], vec![]);
    for (name, what, _, _) in &qs {
        let (secs, mine) = &elite[name];
        let d = &duck["queries"][*name];
        let theirs = Answer {
            rows: d["rows"].as_u64().unwrap_or(u64::MAX),
            sums: d["sums"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if let Err(e) = agree(mine, &theirs) {
            bail!("query {name}: elite and duckdb disagree: {e}");
        }
        let dsecs = d["seconds"].as_f64().unwrap_or(f64::NAN);
        names.push(format!("({name}) {what}"));
        es.push(secs * 1e3);
        ds.push(dsecs * 1e3);
        ratio.push(secs / dsecs);
        nrows.push(mine.rows);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("query", DataType::Utf8, false),
        Field::new("rows_out", DataType::UInt64, false),
        Field::new("elite_ms", DataType::Float64, false),
        Field::new("duckdb_ms", DataType::Float64, false),
        Field::new("elite_over_duckdb", DataType::Float64, false),
    ]));
    let r3 = |v: Vec<f64>| {
        Arc::new(Float64Array::from_iter_values(
            v.into_iter().map(|x| (x * 1000.0).round() / 1000.0),
        )) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(names)),
            Arc::new(UInt64Array::from(nrows)),
            r3(es),
            r3(ds),
            r3(ratio),
        ],
    )?;
    if !args.settings.is_empty() {
        printer.note(format!("Elite's session: {}", args.settings.join(", ")));
    }
    printer.note(format!(
        "{rows} rows ({} symbols) in bars, layout {layout}; {threads} threads each; DuckDB {}; \
         median of {} runs after a warm-up; answers agree (rows, column sums to 1e-9); \
         elite_over_duckdb < 1: Elite faster",
        args.symbols,
        duck["version"].as_str().unwrap_or("?"),
        args.repeat
    ));
    printer.batches(schema, &[batch])?;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_answers_are_refused() {
        let none = Answer::default();
        assert!(agree(&none, &none).unwrap_err().contains("no rows"));
    }

    #[test]
    fn answers_agree_only_when_rows_and_sums_do() {
        let a = Answer {
            rows: 3,
            sums: BTreeMap::from([("x".to_string(), 1e6)]),
        };
        let mut b = Answer {
            rows: 3,
            sums: BTreeMap::from([("x".to_string(), 1e6 + 1e-4)]),
        };
        assert!(agree(&a, &b).is_ok());
        b.sums.insert("x".into(), 1e6 + 1.0);
        assert!(agree(&a, &b).is_err());
        b.sums.insert("x".into(), f64::NAN);
        assert!(agree(&a, &b).is_err());
        b.sums.insert("x".into(), 1e6);
        b.rows = 2;
        assert!(agree(&a, &b).is_err());
    }
}
