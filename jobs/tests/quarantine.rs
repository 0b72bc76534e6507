//! The quarantine never drops a record: each is keyed by its input unit (the content hash of the
//! file, response or feed-frame batch) plus its location, so a later feed run with a bad frame at
//! the same position for the same reason still lands, and re-landing the same unit adds nothing.

use std::sync::Arc;

use elite_collectors::upstox;
use elite_jobs::ingest::Ingestor;
use elite_store::{At, Warehouse};
use elite_warehouse::{SystemClock, tables};

async fn quarantine_rows(wh: &Warehouse) -> Vec<(String, String, String)> {
    use arrow::array::AsArray;
    let mut out = Vec::new();
    for b in wh
        .read(tables::QUARANTINE.name, At::Latest, None)
        .await
        .unwrap()
    {
        // Read back as Utf8 whatever string type the scan chose (views, dictionaries).
        let s = |n: &str| {
            arrow::compute::cast(
                b.column_by_name(n).unwrap(),
                &arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
            .as_string::<i32>()
            .clone()
        };
        let (unit, loc, reason) = (s("unit"), s("location"), s("reason"));
        for i in 0..b.num_rows() {
            out.push((
                unit.value(i).to_string(),
                loc.value(i).to_string(),
                reason.value(i).to_string(),
            ));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn feed_runs_with_a_bad_frame_at_the_same_position_keep_both() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(tmp.path().to_str().unwrap()).unwrap();
    let ing = Ingestor::new(wh.clone(), Arc::new(SystemClock));
    // Two runs, each starting its frame count at 0, each with an undecodable first frame.
    let run = |bytes: &[u8]| vec![upstox::decode_feed(bytes, "frame 0", &SystemClock)];
    let (a, b): (&[u8], &[u8]) = (&[0xff, 0xff, 0xff], &[0xff, 0xff, 0xff, 0xff]);
    let ra = ing.land_feed(run(a)).await.unwrap();
    let rb = ing.land_feed(run(b)).await.unwrap();
    assert_eq!((ra.quarantined, rb.quarantined), (1, 1));
    let rows = quarantine_rows(&wh).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.1 == "frame 0"));
    assert_ne!(rows[0].0, rows[1].0);
    // The same units again: recognised by their checkpoints, nothing added.
    let again = ing.land_feed(run(a)).await.unwrap();
    assert!(again.already_ingested);
    ing.land_feed(run(b)).await.unwrap();
    assert_eq!(quarantine_rows(&wh).await.len(), 2);
}
