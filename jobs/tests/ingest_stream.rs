//! The chunked CSV ingest against what the file holds by construction and against the
//! whole-file decoder (`decode_bars_csv`, the batch path): same rows, same quarantine, whatever
//! the chunk size; keys repeated across chunks, out of order or already in the table are caught;
//! appending new days looks nothing up.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use elite_collectors::bars_csv::{BarsOptions, decode_bars_csv};
use elite_jobs::ingest::{FileFormat, FileIngest, IngestReport, Ingestor};
use elite_store::{At, Warehouse};
use elite_warehouse::{FixedClock, Timeframe, Timestamp, tables};

const HEADER: &str = "symbol,ts,open,high,low,close,volume";

fn bar(sym: &str, minute: i64, second: i64, px: f64) -> String {
    let t = chrono::DateTime::from_timestamp(1_704_186_900 + minute * 60 + second, 0).unwrap();
    format!(
        "{sym},{},{px:.2},{:.2},{:.2},{:.2},{}",
        t.format("%Y-%m-%d %H:%M:%S"),
        px + 1.0,
        px - 1.0,
        px + 0.5,
        100 + minute
    )
}

/// The file's lines after the header, and what must be refused: (line, words of the reason).
fn file(days: std::ops::Range<i64>) -> (Vec<String>, Vec<(u64, String)>) {
    let mut rows = Vec::new();
    let mut refused = Vec::new();
    let line = |rows: &Vec<String>| rows.len() as u64 + 2;
    for d in days {
        for m in 0..400 {
            let minute = d * 1440 + m;
            for sym in ["AAA", "BBB", "CCC"] {
                rows.push(bar(sym, minute, 0, 100.0 + m as f64 * 0.01));
            }
            match m {
                // A key repeated hundreds of lines (many chunks) later.
                150 => {
                    refused.push((
                        line(&rows),
                        format!(
                            "duplicate key (symbol BBB, ts_event {}) first seen on line {}",
                            Timestamp::from_nanos(
                                (1_704_186_900 + (d * 1440 + 3) * 60) * 1_000_000_000
                            ),
                            rows.iter()
                                .position(|r| *r == bar("BBB", d * 1440 + 3, 0, 100.03))
                                .unwrap()
                                + 2
                        ),
                    ));
                    rows.push(bar("BBB", d * 1440 + 3, 0, 7.0));
                }
                // The same key twice in a row.
                200 => {
                    refused.push((
                        line(&rows),
                        format!("first seen on line {}", line(&rows) - 1),
                    ));
                    rows.push(bar("CCC", minute, 0, 9.0));
                }
                // A new key out of order, then that key again.
                250 => rows.push(bar("AAA", d * 1440 + 10, 30, 50.0)),
                300 => {
                    let first = rows
                        .iter()
                        .position(|r| *r == bar("AAA", d * 1440 + 10, 30, 50.0))
                        .unwrap() as u64
                        + 2;
                    refused.push((line(&rows), format!("first seen on line {first}")));
                    rows.push(bar("AAA", d * 1440 + 10, 30, 51.0));
                }
                // Invalid bars.
                350 => {
                    refused.push((line(&rows), "high".into()));
                    rows.push(format!(
                        "AAA,{},10,5,9,9,1",
                        &bar("AAA", minute + 5000, 0, 1.0)[4..23]
                    ));
                    refused.push((line(&rows), "field `open`: cannot parse \"abc\"".into()));
                    rows.push(format!(
                        "CCC,{},abc,5,9,9,1",
                        &bar("AAA", minute + 5000, 0, 1.0)[4..23]
                    ));
                }
                _ => {}
            }
        }
    }
    (rows, refused)
}

fn write(dir: &Path, name: &str, rows: &[String]) -> std::path::PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    writeln!(f, "{HEADER}").unwrap();
    for r in rows {
        writeln!(f, "{r}").unwrap();
    }
    p
}

fn opts() -> BarsOptions {
    BarsOptions::new("csv:t", Timeframe::Minutes(1))
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(Timestamp::from_nanos(1_800_000_000_000_000_000)))
}

async fn ingest(ing: &Ingestor, path: &Path, chunk: Option<usize>) -> IngestReport {
    let mut job = FileIngest::new(path, FileFormat::Csv, opts());
    job.chunk_bytes = chunk;
    ing.ingest_file(&job, &()).await.unwrap()
}

/// Every bars row as (symbol, ts_event µs, open, volume), sorted.
fn rows_of(batches: &[RecordBatch]) -> Vec<(String, i64, f64, f64)> {
    let mut out = Vec::new();
    for b in batches {
        let sym = arrow::compute::cast(
            b.column_by_name("symbol").unwrap(),
            &arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let sym = sym.as_string::<i32>();
        let ts = b.column_by_name("ts_event").unwrap();
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let open = b.column_by_name("open").unwrap();
        let open = open.as_primitive::<Float64Type>();
        let vol = b.column_by_name("volume").unwrap();
        let vol = vol.as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            out.push((
                sym.value(i).to_string(),
                ts.value(i),
                open.value(i),
                if vol.is_null(i) {
                    f64::NAN
                } else {
                    vol.value(i)
                },
            ));
        }
    }
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out
}

async fn quarantine(wh: &Warehouse) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for b in wh
        .read(tables::QUARANTINE.name, At::Latest, None)
        .await
        .unwrap()
    {
        let s = |n: &str| {
            arrow::compute::cast(
                b.column_by_name(n).unwrap(),
                &arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
        };
        let (loc, reason) = (s("location"), s("reason"));
        let (loc, reason) = (loc.as_string::<i32>(), reason.as_string::<i32>());
        for i in 0..b.num_rows() {
            let line = loc.value(i).strip_prefix("line ").unwrap().parse().unwrap();
            out.push((line, reason.value(i).to_string()));
        }
    }
    out.sort();
    out
}

fn same_rows(a: &[(String, i64, f64, f64)], b: &[(String, i64, f64, f64)]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!((&x.0, x.1), (&y.0, y.1));
        assert!(
            x.2 == y.2 && (x.3 == y.3 || (x.3.is_nan() && y.3.is_nan())),
            "{x:?} vs {y:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_ingest_equals_the_whole_file_decoder_at_any_chunk_size() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, refused) = file(0..3);
    let path = write(tmp.path(), "bars.csv", &rows);
    // The batch path: the whole file decoded at once.
    let mut o = opts();
    o.source = "csv:bars.csv".into();
    let whole = decode_bars_csv(std::fs::File::open(&path).unwrap(), &o, clock().as_ref()).unwrap();
    let want = rows_of(&[whole.batch]);
    let mut whole_q: Vec<(u64, String)> = whole
        .quarantine
        .iter()
        .map(|q| (q.location[5..].parse().unwrap(), q.reason.clone()))
        .collect();
    whole_q.sort();
    assert_eq!(whole_q.len(), refused.len(), "{whole_q:#?}");
    for ((line, reason), (want_line, words)) in whole_q.iter().zip(&refused) {
        assert_eq!(line, want_line, "{reason}");
        assert!(
            reason.contains(words.as_str()),
            "line {line}: {reason:?} lacks {words:?}"
        );
    }
    assert_eq!(want.len(), rows.len() - refused.len());

    for chunk in [None, Some(1 << 10), Some(3000), Some(64 << 10)] {
        let wh =
            Warehouse::open(tmp.path().join(format!("wh{chunk:?}")).to_str().unwrap()).unwrap();
        let ing = Ingestor::new(wh.clone(), clock());
        let r = ingest(&ing, &path, chunk).await;
        assert_eq!(r.rows_read, rows.len(), "{chunk:?}");
        assert_eq!(r.rows_added, want.len(), "{chunk:?}");
        assert_eq!(r.rows_quarantined, refused.len(), "{chunk:?}");
        assert_eq!(r.key_lookups, 0, "a new table has nothing to look up");
        let got = rows_of(&wh.read(tables::BARS.name, At::Latest, None).await.unwrap());
        same_rows(&got, &want);
        assert_eq!(quarantine(&wh).await, whole_q, "{chunk:?}");
        assert_eq!(r.quarantine_sample.len(), 10);
        assert_eq!(r.quarantine_sample[0].0, format!("line {}", refused[0].0));
        // The same file again: recognised by its content hash.
        let again = ingest(&ing, &path, chunk).await;
        assert!(again.already_ingested);
        // Forced: decoded again, every row already present, no new version.
        let mut job = FileIngest::new(&path, FileFormat::Csv, opts());
        job.force = true;
        job.chunk_bytes = chunk;
        let forced = ing.ingest_file(&job, &()).await.unwrap();
        assert_eq!(
            (forced.rows_added, forced.rows_already_present),
            (0, want.len())
        );
        assert_eq!(forced.table_version, r.table_version);
        assert_eq!(
            quarantine(&wh).await,
            whole_q,
            "re-landing the unit adds no quarantine row"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_files_look_up_only_where_they_meet_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(tmp.path().join("wh").to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), clock());
    let (days01, _) = file(0..2);
    let (days12, _) = file(1..3);
    let (day3, _) = file(3..4);
    let a = write(tmp.path(), "a.csv", &days01);
    let b = write(tmp.path(), "b.csv", &days12);
    let c = write(tmp.path(), "c.csv", &day3);
    let ra = ingest(&ing, &a, Some(4096)).await;
    // Day 1 is in both files: b adds day 2 only.
    let rb = ingest(&ing, &b, Some(4096)).await;
    let per_day = ra.rows_added / 2;
    assert_eq!(rb.rows_added, per_day);
    assert_eq!(rb.rows_already_present, per_day);
    assert!(rb.key_lookups > 0);
    // Day 3 meets no file's time range: nothing is looked up.
    let rc = ingest(&ing, &c, Some(4096)).await;
    assert_eq!(
        (rc.rows_added, rc.rows_already_present, rc.key_lookups),
        (per_day, 0, 0)
    );
    // The table equals one ingest of every day.
    let (all, _) = file(0..4);
    let whole = write(tmp.path(), "all.csv", &all);
    let wh2 = Warehouse::open(tmp.path().join("wh2").to_str().unwrap()).unwrap();
    ingest(&Ingestor::new(wh2.clone(), clock()), &whole, None).await;
    same_rows(
        &rows_of(&wh.read(tables::BARS.name, At::Latest, None).await.unwrap()),
        &rows_of(&wh2.read(tables::BARS.name, At::Latest, None).await.unwrap()),
    );
    // Three commits of bars, each with its source.
    let h = wh.history(tables::BARS.name, None).await.unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[0].source.as_deref(), Some("csv:c.csv"));
    assert_eq!(h[0].rows_added, Some(per_day as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_file_lands_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, refused) = file(0..1);
    let plain = write(tmp.path(), "x.csv", &rows);
    let gz = tmp.path().join("x.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    let w1 = Warehouse::open(tmp.path().join("w1").to_str().unwrap()).unwrap();
    let w2 = Warehouse::open(tmp.path().join("w2").to_str().unwrap()).unwrap();
    let r1 = ingest(&Ingestor::new(w1.clone(), clock()), &plain, Some(2048)).await;
    let r2 = ingest(&Ingestor::new(w2.clone(), clock()), &gz, Some(2048)).await;
    assert_eq!(
        (r2.rows_added, r2.rows_quarantined),
        (r1.rows_added, refused.len())
    );
    assert_ne!(r1.content_hash, r2.content_hash);
    same_rows(
        &rows_of(&w1.read(tables::BARS.name, At::Latest, None).await.unwrap()),
        &rows_of(&w2.read(tables::BARS.name, At::Latest, None).await.unwrap()),
    );
    assert_eq!(quarantine(&w1).await, quarantine(&w2).await);
}
