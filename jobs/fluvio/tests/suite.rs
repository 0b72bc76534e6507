//! The transport suite against a real Fluvio cluster. Needs a running cluster (no registry
//! provides one): set `ELITE_FLUVIO_ENDPOINT=fluvio://127.0.0.1:9003` and run
//! `cargo test -p elite-fluvio -- --ignored`. Ignored (not counted as passed) otherwise.

use std::sync::Arc;

use elite_jobs::stream::{Bus, Typed};
use elite_jobs::transport::suite;

fn bus() -> Arc<dyn Bus> {
    let url = std::env::var("ELITE_FLUVIO_ENDPOINT")
        .expect("set ELITE_FLUVIO_ENDPOINT=fluvio://HOST:PORT to run the Fluvio suite");
    elite_fluvio::open(&url).unwrap()
}

/// A topic no earlier run used.
fn fresh(prefix: &str) -> String {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("elite-test-{prefix}-{ns}")
}

#[test]
#[ignore = "needs a Fluvio cluster: set ELITE_FLUVIO_ENDPOINT and run with --ignored"]
fn fluvio_transport_passes_the_suite() {
    let bus = bus();
    let t = fresh("order");
    suite::offsets_in_order(
        Typed::new(bus.sink(&t).unwrap(), &t),
        Typed::new(bus.source(&t).unwrap(), &t),
    )
    .unwrap();
    assert_eq!(bus.end(&t).unwrap(), 1000);
    let t = fresh("resume");
    suite::resume_from_offset(
        Typed::new(bus.sink(&t).unwrap(), &t),
        Typed::new(bus.source(&t).unwrap(), &t),
    )
    .unwrap();
    let t = fresh("close");
    suite::poll_times_out_then_closes(
        Typed::new(bus.sink(&t).unwrap(), &t),
        Typed::new(bus.source(&t).unwrap(), &t),
    )
    .unwrap();
    assert_eq!(bus.end(&t).unwrap(), 1, "the close marker is not a record");
    let t = fresh("batch");
    suite::batch_offsets(
        Typed::new(bus.sink(&t).unwrap(), &t),
        Typed::new(bus.source(&t).unwrap(), &t),
    )
    .unwrap();
    assert!(bus.topics().unwrap().contains(&t));
}

#[test]
#[ignore = "needs a Fluvio cluster: set ELITE_FLUVIO_ENDPOINT and run with --ignored"]
fn a_reopened_producer_continues_at_the_topic_end() {
    use elite_jobs::transport::Sink;
    let bus = bus();
    let t = fresh("reopen");
    {
        let mut p = bus.sink(&t).unwrap();
        for i in 0..10u8 {
            p.send("K".into(), vec![i]).unwrap();
        }
        p.flush().unwrap();
    }
    let mut p = bus.sink(&t).unwrap();
    assert_eq!(p.end().unwrap(), 10);
    assert_eq!(p.send("K".into(), vec![10]).unwrap(), 10);
    p.flush().unwrap();
    assert_eq!(bus.end(&t).unwrap(), 11);
}
