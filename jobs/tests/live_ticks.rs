//! The live feed's ticks topic is its log: ticks are published before they land, and a feed
//! killed in between lands them from the topic when it starts again (recorded Upstox frames,
//! file transport).

use std::path::Path;

use elite_collectors::upstox::decode_feed;
use elite_jobs::stream::live::LiveTicks;
use elite_store::{At, Warehouse};
use elite_warehouse::{FixedClock, Timestamp};

fn frames() -> Vec<elite_collectors::upstox::FeedDecoded> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../collectors/fixtures/upstox/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            decode_feed(
                &std::fs::read(p).unwrap(),
                &p.display().to_string(),
                &FixedClock(Timestamp::from_nanos(0)),
            )
        })
        .collect()
}

async fn ticks(wh: &Warehouse) -> usize {
    match wh.read("ticks", At::Latest, None).await {
        Ok(b) => b.iter().map(|b| b.num_rows()).sum(),
        Err(elite_store::Error::EmptyTable { .. }) => 0,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_killed_after_publishing_lands_the_topic_on_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(tmp.path().join("wh").to_str().unwrap()).unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let url = format!("file:{}", tmp.path().join("topics").display());
    let mut frames = frames();
    let want: usize = frames.iter().map(|f| f.ticks.len()).sum();
    assert!(want >= 20, "{want} ticks in the recorded frames");
    let rest = frames.split_off(frames.len() / 2);
    let first = &frames[..];
    let n_first: usize = first.iter().map(|f| f.ticks.len()).sum();
    {
        let bus = elite_jobs::stream::open(&url).unwrap();
        let (mut live, caught) = LiveTicks::open(&wh, &*bus, "ticks", &state, "t")
            .await
            .unwrap();
        assert_eq!(caught, 0);
        // Published, then the process dies before landing them.
        live.publish(first).unwrap();
        assert_eq!(live.published as usize, n_first);
    }
    assert_eq!(ticks(&wh).await, 0);
    let bus = elite_jobs::stream::open(&url).unwrap();
    let (mut live, caught) = LiveTicks::open(&wh, &*bus, "ticks", &state, "t")
        .await
        .unwrap();
    assert_eq!(caught, n_first, "the restart lands what the topic holds");
    assert_eq!(ticks(&wh).await, n_first);
    // The rest goes the normal way: published, landed (with every field), checkpointed.
    live.publish(&rest).unwrap();
    let ing = elite_jobs::ingest::Ingestor::new(
        wh.clone(),
        std::sync::Arc::new(elite_warehouse::SystemClock),
    );
    ing.land_feed(rest).await.unwrap();
    live.landed().unwrap();
    drop(live);
    let (_, caught) = LiveTicks::open(&wh, &*bus, "ticks", &state, "t")
        .await
        .unwrap();
    assert_eq!(caught, 0, "nothing beyond the checkpoint");
    assert_eq!(ticks(&wh).await, want);
    assert_eq!(bus.end("ticks").unwrap() as usize, want);
}
