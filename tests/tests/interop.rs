//! Any Delta reader reads the warehouse, and the warehouse reads any Delta writer.
//!
//! Independent readers, installed by `tests/dev setup` from PyPI (the test fails, never skips,
//! when they are missing):
//! - Python `deltalake` (delta-rs' Python package: `DeltaTable(path, version=N).to_pyarrow_table()`);
//! - `polars.read_delta` (polars' own Parquet reader over the Delta log);
//! - DuckDB over the Parquet files the Delta log says are live, the log replayed here in plain
//!   Python (not by delta-rs): an extra check that needs no Delta library at all.
//!
//! The warehouse is built through the real binary: `bars` over nineteen ingests (so the table
//! has a Delta checkpoint: one every `CHECKPOINT_INTERVAL` = 10 commits), `features`,
//! `predictions` (`elite train`) and `fills` (`elite backtest`), then `optimize` and a
//! `vacuum` that deletes the files the compaction replaced. Every row each reader returns equals
//! what `elite sql` returns for the same table and version (compared NaN-aware, column by column,
//! after sorting both sides the same way). The other direction: tables written by Python
//! `deltalake` and by polars are attached (`elite warehouse attach`) and queried by `elite sql`,
//! time travel included.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{elite, fixture, sql_json, sql_scalar};

/// The project's Python (the venv `tests/dev setup` makes), with the readers importable.
fn python() -> String {
    let p = std::env::var("ELITE_PYTHON").ok().unwrap_or_else(|| {
        let home = std::env::var("HOME").expect("HOME is set");
        format!("{home}/.cache/elite/venv/bin/python")
    });
    let out = Command::new(&p)
        .args(["-c", "import deltalake, polars, duckdb, pyarrow"])
        .output();
    match out {
        Ok(o) if o.status.success() => p,
        Ok(o) => panic!(
            "{p} cannot import deltalake, polars, duckdb and pyarrow: run `tests/dev setup`\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("no Python at {p} ({e}): run `tests/dev setup`"),
    }
}

/// Reads one table with one reader and compares it, row for row, with the Parquet file that
/// `elite sql` wrote for the same table and version. Prints a JSON verdict.
const COMPARE: &str = r#"
import json, math, sys
import pyarrow as pa, pyarrow.parquet as pq
reader, path, version, elite_file = sys.argv[1:5]
v = None if version == "latest" else int(version)
if reader == "deltalake":
    from deltalake import DeltaTable
    theirs = DeltaTable(path, version=v).to_pyarrow_table()
elif reader == "polars":
    import polars as pl
    theirs = pl.read_delta(path, version=v).to_arrow()
else:
    raise SystemExit("unknown reader " + reader)
ours = pq.read_table(elite_file)

def norm(t):
    out = {}
    for name in t.column_names:
        c = t.column(name)
        ty = c.type
        if pa.types.is_dictionary(ty):
            c = c.cast(ty.value_type); ty = c.type
        if pa.types.is_large_string(ty) or pa.types.is_string_view(ty):
            c = c.cast(pa.string())
        if pa.types.is_timestamp(ty):
            c = c.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        out[name] = c.to_pylist()
    return out

def key(x):
    if x is None: return (0, 0)
    if isinstance(x, float) and math.isnan(x): return (1, 0)
    return (2, x)

def same(a, b):
    if a is None or b is None: return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b): return True
    return a == b

a, b = norm(theirs), norm(ours)
verdict = {"reader": reader, "rows": theirs.num_rows, "elite_rows": ours.num_rows, "mismatch": None}
if sorted(a) != sorted(b):
    verdict["mismatch"] = "columns differ: %s vs %s" % (sorted(a), sorted(b))
else:
    names = sorted(a)
    ra = sorted(zip(*[a[n] for n in names]), key=lambda r: tuple(key(x) for x in r))
    rb = sorted(zip(*[b[n] for n in names]), key=lambda r: tuple(key(x) for x in r))
    if len(ra) != len(rb):
        verdict["mismatch"] = "row counts differ: %d vs %d" % (len(ra), len(rb))
    else:
        for i, (x, y) in enumerate(zip(ra, rb)):
            bad = [n for n, p, q in zip(names, x, y) if not same(p, q)]
            if bad:
                verdict["mismatch"] = "row %d differs in %s: %r vs %r" % (i, bad, x, y)
                break
print(json.dumps(verdict, default=str))
"#;

/// The Delta log replayed in plain Python; DuckDB reads the live Parquet files.
const DUCKDB_READER: &str = r#"
import duckdb, glob, json, os, sys
from urllib.parse import unquote
table = sys.argv[1]
live = {}
# Start from the last checkpoint when there is one (its add actions), then the later commits.
start = -1
cp = os.path.join(table, "_delta_log", "_last_checkpoint")
if os.path.exists(cp):
    start = json.load(open(cp))["version"]
    for a in duckdb.connect().execute(
            "SELECT add.path, add.partitionValues FROM read_parquet(?) WHERE add IS NOT NULL",
            [os.path.join(table, "_delta_log", "%020d.checkpoint.parquet" % start)]).fetchall():
        live[a[0]] = dict(zip(a[1]["key"], a[1]["value"])) if isinstance(a[1], dict) and "key" in a[1] else dict(a[1])
for f in sorted(glob.glob(os.path.join(table, "_delta_log", "*.json"))):
    if int(os.path.basename(f).split(".")[0]) <= start:
        continue
    for line in open(f):
        a = json.loads(line)
        if "add" in a:
            live[a["add"]["path"]] = a["add"]["partitionValues"]
        elif "remove" in a:
            live.pop(a["remove"]["path"], None)
con = duckdb.connect()
rows = []
for path, parts in sorted(live.items()):
    # A column the file lacks is a partition column: its value is in the log, not the file.
    cur = con.execute("SELECT * EXCLUDE (ts_event, ts_recv), epoch_us(ts_event) AS ts FROM read_parquet(?)", [os.path.join(table, unquote(path))])
    names = [d[0] for d in cur.description]
    for r in cur.fetchall():
        v = dict(zip(names, r))
        v.update(parts)
        rows.append({"symbol": v["symbol"], "year": int(v["year"]), "ts": v["ts"], "timeframe": v["timeframe"],
                     "open": v["open"], "high": v["high"], "low": v["low"], "close": v["close"], "volume": v["volume"]})
rows.sort(key=lambda r: (r["symbol"], r["timeframe"], r["ts"]))
json.dump(rows, sys.stdout)
"#;

const TRAIN: &str = r#"
name = "goog-interop"
[data]
timeframe = "1d"
[features]
set = "technical"
select = ["ret_1", "ret_5", "rsi_14", "macd_hist", "volatility_20"]
horizon = 1
[validation]
train = 500
test = 250
[[model]]
name = "logistic"
kind = "logistic"
[registry]
metric = "auc"
"#;

fn run(home: &Path, args: &[&str]) {
    let out = elite(home).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "elite {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `elite sql` of `query` written as Parquet to `file`.
fn sql_parquet(home: &Path, query: &str, file: &Path) {
    let out = elite(home)
        .args(["--format", "parquet", "sql", query])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(file, out.stdout).unwrap();
}

/// Compare `table` at `version` read by `reader` with `elite sql`; returns the row count.
fn compare(py: &str, home: &Path, reader: &str, table: &str, version: Option<u64>) -> u64 {
    let name = match version {
        Some(v) => format!("\"{table}@v{v}\""),
        None => table.to_string(),
    };
    let file = home.join(format!(
        "elite-{table}-{}.parquet",
        version.map_or(-1, |v| v as i64)
    ));
    sql_parquet(home, &format!("SELECT * FROM {name}"), &file);
    let version_arg = version.map_or("latest".to_string(), |v| v.to_string());
    let out = Command::new(py)
        .args(["-c", COMPARE, reader])
        .arg(home.join(table))
        .arg(&version_arg)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{reader} on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["mismatch"],
        serde_json::Value::Null,
        "{reader} on {name}: {v}"
    );
    let rows = v["rows"].as_u64().unwrap();
    assert_eq!(Some(rows), v["elite_rows"].as_u64(), "{v}");
    assert!(rows > 0, "{reader} on {name} read nothing");
    rows
}

/// GOOG's daily bars split into one CSV per half-year: eighteen `bars` commits, two files in
/// most year partitions (so that `optimize` has files to compact and `vacuum` files to delete).
fn goog_by_half_year(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut by_half: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for l in lines {
        let half = if &l[5..7] <= "06" { 1 } else { 2 };
        by_half
            .entry(format!("{}_{half}", &l[..4]))
            .or_default()
            .push(l);
    }
    by_half
        .into_iter()
        .map(|(y, rows)| {
            let p = dir.join(format!("GOOG_{y}.csv"));
            std::fs::write(&p, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
            p
        })
        .collect()
}

fn checkpoints(table: &Path) -> Vec<String> {
    std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().to_string_lossy().into_owned();
            n.ends_with(".checkpoint.parquet").then_some(n)
        })
        .collect()
}

#[test]
fn deltalake_and_polars_read_every_table_and_version_as_elite_does() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let h = &tmp.path().join("wh");
    std::fs::create_dir_all(h).unwrap();
    let halves = goog_by_half_year(tmp.path());
    assert_eq!(halves.len(), 18, "2004 H2 … 2013 H1");
    for f in &halves {
        run(
            h,
            &[
                "ingest",
                "csv",
                f.to_str().unwrap(),
                "--symbol",
                "GOOG",
                "--timeframe",
                "1d",
            ],
        );
    }
    let spx = fixture("bars/SP500_NOV2019_IDayRVol.csv");
    run(
        h,
        &[
            "ingest",
            "csv",
            spx.to_str().unwrap(),
            "--symbol",
            "SPX",
            "--timeframe",
            "1m",
            "--tz",
            "America/New_York",
        ],
    );
    // Nineteen commits (v0..v18): the checkpoint written with the tenth (version 9) is there.
    assert_eq!(
        checkpoints(&h.join("bars")),
        ["00000000000000000009.checkpoint.parquet"]
    );
    run(
        h,
        &[
            "features",
            "build",
            "--set",
            "technical",
            "--timeframe",
            "1d",
            "--horizon",
            "1",
        ],
    );
    let cfg = tmp.path().join("train.toml");
    std::fs::write(&cfg, TRAIN).unwrap();
    run(h, &["train", cfg.to_str().unwrap()]);
    let bt = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../jobs/configs/goog_strategies.toml");
    run(h, &["backtest", bt.to_str().unwrap()]);

    // A past version (three years of GOOG) and the latest, before any maintenance.
    for reader in ["deltalake", "polars"] {
        let past = compare(&py, h, reader, "bars", Some(2));
        assert_eq!(
            past,
            sql_scalar(h, "SELECT count(*) FROM \"bars@v2\"")
                .as_u64()
                .unwrap()
        );
        assert!(past < 2148);
        for table in ["bars", "features", "predictions", "fills"] {
            compare(&py, h, reader, table, None);
        }
    }

    // Compaction (add + remove actions), then a vacuum that deletes the replaced files.
    run(h, &["warehouse", "optimize", "bars"]);
    run(h, &["warehouse", "optimize", "features"]);
    let out = elite(h)
        .args([
            "--format",
            "json",
            "warehouse",
            "vacuum",
            "bars",
            "--retention-hours",
            "0",
            "--force",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deleted: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        deleted.len() >= 10,
        "vacuum deleted {} files",
        deleted.len()
    );
    let n = sql_scalar(h, "SELECT count(*) FROM bars").as_u64().unwrap();
    assert_eq!(n, 2148 + 1563);
    for reader in ["deltalake", "polars"] {
        assert_eq!(compare(&py, h, reader, "bars", None), n);
        compare(&py, h, reader, "features", None);
    }

    // The plain-Python log replay (through the checkpoint) + DuckDB sees the same bars.
    let out = Command::new(&py)
        .args(["-c", DUCKDB_READER])
        .arg(h.join("bars"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ours = sql_json(
        h,
        "SELECT symbol, year, CAST(ts_event AS BIGINT) AS ts, timeframe, open, high, low, close, volume \
         FROM bars ORDER BY symbol, timeframe, ts",
    );
    assert_eq!(ours.len() as u64, n);
    assert_eq!(theirs.len(), ours.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b);
    }
}

/// Tables written by Python `deltalake` and by polars (from GOOG's real rows), attached and
/// queried through `elite sql`, with time travel to the first version.
const WRITER: &str = r#"
import csv, sys
from datetime import datetime, timezone
import pyarrow as pa
from deltalake import write_deltalake
import polars as pl
src, out_dl, out_pl = sys.argv[1:4]
rows = list(csv.DictReader(open(src)))
def table(rs):
    return pa.table({
        "symbol": pa.array(["GOOG"] * len(rs)),
        "day": pa.array([datetime.strptime(r["ts"], "%Y-%m-%d").replace(tzinfo=timezone.utc) for r in rs],
                        pa.timestamp("us", tz="UTC")),
        "close": pa.array([float(r["close"]) for r in rs]),
        "volume": pa.array([int(float(r["volume"])) for r in rs], pa.int64()),
    })
write_deltalake(out_dl, table(rows[:300]))
write_deltalake(out_dl, table(rows[300:500]), mode="append")
pl.from_arrow(table(rows[:120])).write_delta(out_pl)
"#;

#[test]
fn tables_written_by_python_are_queried_through_elite_sql() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let h = &tmp.path().join("wh");
    let (dl, pl) = (tmp.path().join("ext_dl"), tmp.path().join("ext_pl"));
    let out = Command::new(&py)
        .args(["-c", WRITER])
        .arg(fixture("bars/GOOG_1d.csv"))
        .args([&dl, &pl])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run(h, &["warehouse", "attach", "goog_py", dl.to_str().unwrap()]);
    run(
        h,
        &["warehouse", "attach", "goog_polars", pl.to_str().unwrap()],
    );
    let listed = sql_json(h, "SELECT 1 AS one"); // a session opens with the attached tables
    assert_eq!(listed.len(), 1);
    // Reference values: Python's csv module over the same file (independent of both writers).
    let text = std::fs::read_to_string(fixture("bars/GOOG_1d.csv")).unwrap();
    let closes: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    let sum = |r: std::ops::Range<usize>| closes[r].iter().sum::<f64>();
    let got = sql_json(
        h,
        "SELECT count(*) AS n, sum(close) AS s, min(day) AS first FROM goog_py",
    );
    assert_eq!(got[0]["n"], 500);
    assert!(
        (got[0]["s"].as_f64().unwrap() - sum(0..500)).abs() < 1e-6,
        "{got:?}"
    );
    assert_eq!(got[0]["first"], "2004-08-19T00:00:00Z");
    let v0 = sql_json(
        h,
        "SELECT count(*) AS n, sum(close) AS s FROM \"goog_py@v0\"",
    );
    assert_eq!(v0[0]["n"], 300);
    assert!((v0[0]["s"].as_f64().unwrap() - sum(0..300)).abs() < 1e-6);
    let p = sql_json(h, "SELECT count(*) AS n, max(volume) AS v FROM goog_polars");
    assert_eq!(p[0]["n"], 120);
    // Joined with a warehouse table: the same closes as the ingested bars.
    run(
        h,
        &[
            "ingest",
            "csv",
            fixture("bars/GOOG_1d.csv").to_str().unwrap(),
            "--symbol",
            "GOOG",
        ],
    );
    let j = sql_scalar(
        h,
        "SELECT count(*) FROM goog_py g JOIN bars b ON b.symbol = g.symbol AND b.ts_event = g.day AND b.close = g.close",
    );
    assert_eq!(j, 500);
    // Listed, refused names, detach.
    let list = sql_json(h, "SELECT 1 AS one");
    assert_eq!(list.len(), 1);
    let attached = elite(h)
        .args(["--format", "json", "warehouse", "attached"])
        .output()
        .unwrap();
    let a: Vec<serde_json::Value> = serde_json::from_slice(&attached.stdout).unwrap();
    assert_eq!(a.len(), 2);
    elite(h)
        .args(["warehouse", "attach", "bars", dl.to_str().unwrap()])
        .assert()
        .code(1);
    elite(h)
        .args([
            "warehouse",
            "attach",
            "nothing_here",
            tmp.path().join("none").to_str().unwrap(),
        ])
        .assert()
        .failure();
    run(h, &["warehouse", "detach", "goog_polars"]);
    elite(h)
        .args(["sql", "SELECT count(*) FROM goog_polars"])
        .assert()
        .code(1);
}
