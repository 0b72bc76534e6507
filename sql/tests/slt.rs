//! SQL behaviour as sqllogictest files (`sql/tests/slt/*.slt`), one isolated warehouse each.
//!
//! Each file runs against a fresh warehouse holding real bars: GOOG daily (version 0), the
//! S&P 500 1-minute bars of 2019-11-05…08 in New York time (version 1), and the malformed GOOG
//! sample (quarantine). Expected values were computed outside Elite (Python's csv module) where
//! they are sums or counts of the input files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use elite_collectors::bars_csv::BarsOptions;
use elite_jobs::ingest::{FileFormat, FileIngest, Ingestor};
use elite_sql::SqlEngine;
use elite_store::Warehouse;
use elite_store::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use elite_warehouse::{Symbol, SystemClock, Timeframe};
use sqllogictest::{DBOutput, DefaultColumnType};

struct Db {
    engine: SqlEngine,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DbError(String);

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for Db {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let df = self
            .engine
            .plan(sql)
            .await
            .map_err(|e| DbError(e.to_string()))?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.map_err(|e| DbError(e.to_string()))?;
        let types = schema
            .fields()
            .iter()
            .map(|f| {
                let t = f.data_type();
                if t.is_integer() {
                    DefaultColumnType::Integer
                } else if t.is_floating() {
                    DefaultColumnType::FloatingPoint
                } else {
                    DefaultColumnType::Text
                }
            })
            .collect();
        let opts = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for b in &batches {
            let f: Vec<_> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
                .collect();
            for r in 0..b.num_rows() {
                rows.push(f.iter().map(|f| f.value(r).to_string()).collect());
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "elite"
    }
}

fn fixture(p: &str) -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("../collectors/fixtures")
        .join(p)
}

async fn warehouse(dir: &Path) -> Warehouse {
    let wh = Warehouse::open(dir.to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    for (file, sym, tf, tz) in [
        ("bars/GOOG_1d.csv", "GOOG", "1d", "UTC"),
        (
            "bars/SP500_NOV2019_IDayRVol.csv",
            "SPX",
            "1m",
            "America/New_York",
        ),
        ("bars/GOOG_1d_malformed.csv", "GOOG", "1d", "UTC"),
    ] {
        let mut o = BarsOptions::new("", Timeframe::parse(tf).unwrap());
        o.symbol = Some(Symbol::new(sym).unwrap());
        o.tz = tz.parse().unwrap();
        ing.ingest_file(&FileIngest::new(fixture(file), FileFormat::Csv, o), &())
            .await
            .unwrap();
    }
    wh
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let tmp = tempfile::tempdir().unwrap();
        let result = rt.block_on(async {
            let wh = warehouse(tmp.path()).await;
            let engine = SqlEngine::new(wh).await.unwrap();
            let mut db = Some(Db { engine });
            let mut runner = sqllogictest::Runner::new(move || {
                let db = db.take();
                async move { db.ok_or_else(|| DbError("one connection per file".into())) }
            });
            runner.run_file_async(file).await
        });
        match result {
            Ok(()) => {
                println!(
                    "test {} ... ok",
                    file.file_name().unwrap().to_string_lossy()
                );
                passed += 1;
            }
            Err(e) => {
                println!(
                    "test {} ... FAILED\n{e}",
                    file.file_name().unwrap().to_string_lossy()
                );
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}
