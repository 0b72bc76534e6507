//! The live Upstox feed onto the `ticks` topic (`elite ingest upstox-feed --to ticks`).
//!
//! A live WebSocket cannot be replayed, so the topic is the feed's log: each batch of decoded
//! frames is published (and flushed) *before* it is landed, and the checkpoint then records the
//! topic offset up to which ticks are landed. A feed killed between the two lands, on restart,
//! what the topic holds beyond the checkpoint ([`LiveTicks::open`]): the table catches up from
//! the log and nothing published is missing from `ticks` (those rows carry what a tick message
//! carries: price, size and times; the frames' other fields and their quotes went down with the
//! process). Keyed writes make catching up idempotent.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use elite_collectors::upstox::FeedDecoded;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Tick, TicksBuilder, tables};
use serde::{Deserialize, Serialize};

use super::wire::TickMsg;
use super::{Bus, ByteSink, Typed, encode};
use crate::Result;
use crate::transport::{Polled, Sink, Source};

#[derive(Debug, Serialize, Deserialize)]
struct LiveCheckpoint {
    name: String,
    topic: String,
    /// Ticks on the topic up to this offset are landed.
    landed: u64,
}

/// The live feed's producer of the ticks topic.
pub struct LiveTicks {
    sink: ByteSink,
    path: PathBuf,
    cp: LiveCheckpoint,
    in_process: bool,
    /// Ticks published by this run.
    pub published: u64,
}

fn checkpoint_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("stream-upstox-{name}.json"))
}

impl LiveTicks {
    /// The producer of `topic`; first, the ticks a killed run published but did not land are
    /// landed from the topic. Returns it and the rows that catching up added.
    pub async fn open(
        wh: &Warehouse,
        bus: &dyn Bus,
        topic: &str,
        state_dir: &Path,
        name: &str,
    ) -> Result<(Self, usize)> {
        let sink = bus.sink(topic)?;
        let end = sink.end()?;
        let path = checkpoint_path(state_dir, name);
        let cp = if bus.in_process() {
            None
        } else {
            crate::checkpoint::load::<LiveCheckpoint>(&path)?
        };
        let mut cp = match cp {
            Some(cp) if cp.topic == topic && cp.landed <= end => cp,
            Some(cp) => {
                return Err(crate::Error::Config(format!(
                    "checkpoint {} is of topic {} at offset {}, but {topic} ends at {end}: \
                     remove it to start afresh",
                    path.display(),
                    cp.topic,
                    cp.landed
                )));
            }
            None => {
                let cp = LiveCheckpoint {
                    name: name.to_string(),
                    topic: topic.to_string(),
                    landed: end,
                };
                // Durable before the first tick is published: a feed killed before its first
                // landing must find the ticks it published beyond this point and land them.
                if !bus.in_process() {
                    crate::checkpoint::save(&path, &cp)?;
                }
                cp
            }
        };
        let mut added = 0;
        if cp.landed < end {
            let mut src: Typed<_, TickMsg> = Typed::new(bus.source(topic)?, topic);
            src.seek(cp.landed);
            let mut rows = TicksBuilder::default();
            let mut got = vec![];
            while src.position() < end {
                got.clear();
                let want = (end - src.position()) as usize;
                let polled = tokio::task::block_in_place(|| {
                    src.poll(want.min(4096), Duration::from_millis(200), &mut got)
                })?;
                for r in &got {
                    let t = &r.value;
                    rows.push(Tick {
                        symbol: r.key.to_string(),
                        ts_event: t.ts_event,
                        ts_recv: t.ts_recv,
                        price: t.price,
                        size: t.size,
                        source: "upstox-feed:topic".into(),
                        ..Default::default()
                    });
                }
                if polled == Polled::Closed {
                    break;
                }
            }
            let meta = CommitMeta::new(format!("upstox-feed:{name}"))
                .with("topic", topic)
                .with("caught_up_to", end);
            added = wh
                .insert_new(&tables::TICKS, vec![rows.finish()?], meta)
                .await?
                .rows_added;
            cp.landed = end;
        }
        let me = Self {
            sink,
            path,
            cp,
            in_process: bus.in_process(),
            published: 0,
        };
        me.save()?;
        Ok((me, added))
    }

    fn save(&self) -> Result<()> {
        if self.in_process {
            return Ok(());
        }
        crate::checkpoint::save(&self.path, &self.cp)
    }

    /// Publish the frames' ticks (keyed by symbol) and flush: call before landing them.
    pub fn publish(&mut self, frames: &[FeedDecoded]) -> Result<()> {
        for t in frames.iter().flat_map(|f| &f.ticks) {
            self.sink
                .send(Arc::from(t.symbol.as_str()), encode(&TickMsg::of(t))?)?;
            self.published += 1;
        }
        self.sink.flush()
    }

    /// The published frames are landed: move the checkpoint to the topic's end.
    pub fn landed(&mut self) -> Result<()> {
        self.cp.landed = self.sink.end()?;
        self.save()
    }
}
