//! The live chain's streams: named topics on a [`Bus`] (the embedded in-process transport, the
//! file log for separate processes on one machine, or Fluvio from the `elite-fluvio` crate), the
//! records they carry ([`wire`]), and the jobs that read and write them ([`feed`], [`bars`]).
//!
//! Every job keeps two promises across crashes:
//! - **tables**: its output rows are landed with keyed, idempotent writes before its checkpoint
//!   (the input offset they came from) moves forward, so a restart replays and adds nothing twice;
//! - **topics**: its checkpoint also counts the records it had published; a restarted job, which
//!   recomputes the same outputs from the same inputs, sends only those beyond the topic's end,
//!   so every record is on its output topic exactly once (each topic has one producer).

pub mod bars;
pub mod feed;
pub mod live;
pub mod log;
pub mod wire;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::transport::{Polled, Record, Sink, Source, Topic};
use crate::{Error, Result};

/// A producer of raw records.
pub type ByteSink = Box<dyn Sink<Vec<u8>> + Send>;
/// A consumer of raw records.
pub type ByteSource = Box<dyn Source<Vec<u8>> + Send>;

impl<T, S: Sink<T> + ?Sized> Sink<T> for Box<S> {
    fn send(&mut self, key: Arc<str>, value: T) -> Result<u64> {
        (**self).send(key, value)
    }
    fn send_batch(
        &mut self,
        records: &mut dyn Iterator<Item = (Arc<str>, T)>,
    ) -> Result<Option<u64>> {
        (**self).send_batch(records)
    }
    fn close(&mut self) {
        (**self).close()
    }
    fn end(&self) -> Result<u64> {
        (**self).end()
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
}

impl<T, S: Source<T> + ?Sized> Source<T> for Box<S> {
    fn poll(
        &mut self,
        max: usize,
        timeout: std::time::Duration,
        out: &mut Vec<Record<T>>,
    ) -> Result<Polled> {
        (**self).poll(max, timeout, out)
    }
    fn seek(&mut self, offset: u64) {
        (**self).seek(offset)
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
}

/// Named topics of raw records.
pub trait Bus: Send + Sync {
    /// The topic's producer (one per topic).
    fn sink(&self, topic: &str) -> Result<ByteSink>;
    /// A consumer of the topic from offset 0.
    fn source(&self, topic: &str) -> Result<ByteSource>;
    /// Records in the topic (0 when it does not exist yet).
    fn end(&self, topic: &str) -> Result<u64>;
    /// The topics that exist.
    fn topics(&self) -> Result<Vec<String>>;
    /// Where the topics are (for messages and status).
    fn describe(&self) -> String;
    /// Whether the topics live in this process only (lost when it exits).
    fn in_process(&self) -> bool {
        false
    }
}

/// In-process topics (the default): one process runs the whole chain.
#[derive(Default)]
pub struct EmbeddedBus {
    topics: Mutex<HashMap<String, Topic<Vec<u8>>>>,
}

impl EmbeddedBus {
    fn topic(&self, name: &str) -> Result<Topic<Vec<u8>>> {
        log::check_topic(name)?;
        let mut t = self
            .topics
            .lock()
            .map_err(|_| Error::Internal("bus lock poisoned".into()))?;
        Ok(t.entry(name.to_string()).or_default().clone())
    }
}

impl Bus for EmbeddedBus {
    fn sink(&self, topic: &str) -> Result<ByteSink> {
        Ok(Box::new(self.topic(topic)?.producer()))
    }
    fn source(&self, topic: &str) -> Result<ByteSource> {
        Ok(Box::new(self.topic(topic)?.consumer(0)))
    }
    fn end(&self, topic: &str) -> Result<u64> {
        Ok(self.topic(topic)?.len())
    }
    fn topics(&self) -> Result<Vec<String>> {
        let t = self
            .topics
            .lock()
            .map_err(|_| Error::Internal("bus lock poisoned".into()))?;
        let mut v: Vec<String> = t.keys().cloned().collect();
        v.sort();
        Ok(v)
    }
    fn describe(&self) -> String {
        "embedded".into()
    }
    fn in_process(&self) -> bool {
        true
    }
}

/// Topics as files under a directory, shared by processes on one machine ([`log`]).
pub struct FileBus {
    pub root: PathBuf,
}

impl Bus for FileBus {
    fn sink(&self, topic: &str) -> Result<ByteSink> {
        Ok(Box::new(log::LogSink::open(&self.root, topic)?))
    }
    fn source(&self, topic: &str) -> Result<ByteSource> {
        Ok(Box::new(log::LogSource::open(&self.root, topic)?))
    }
    fn end(&self, topic: &str) -> Result<u64> {
        log::topic_end(&self.root, topic)
    }
    fn topics(&self) -> Result<Vec<String>> {
        log::topics(&self.root)
    }
    fn describe(&self) -> String {
        format!("file:{}", self.root.display())
    }
}

/// Open the transport a `--transport` value names: `embedded` or `file:DIR` (`file://DIR`).
/// `fluvio://HOST:PORT` is opened by the `elite-fluvio` crate (the CLI does it) and refused here.
pub fn open(url: &str) -> Result<Arc<dyn Bus>> {
    if url == "embedded" {
        return Ok(Arc::new(EmbeddedBus::default()));
    }
    if let Some(rest) = url.strip_prefix("file:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(Error::Config(format!(
                "transport {url}: give the topics' directory, e.g. file:/var/elite/topics"
            )));
        }
        return Ok(Arc::new(FileBus { root: path.into() }));
    }
    Err(Error::Config(format!(
        "transport {url}: use `embedded`, `file:DIR` or `fluvio://HOST:PORT`"
    )))
}

/// Encode a record's value.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::Internal(format!("encoding a record: {e}")))
}

/// Decode a record's value read from `topic`.
pub fn decode<T: serde::de::DeserializeOwned>(topic: &str, r: &Record<Vec<u8>>) -> Result<T> {
    postcard::from_bytes(&r.value).map_err(|e| Error::Transport {
        topic: topic.into(),
        reason: format!(
            "record {} (key {}) is not a {}: {e}",
            r.offset,
            r.key,
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("record")
        ),
    })
}

/// A byte topic seen as records of `T` (encoded with [`encode`], decoded with [`decode`]).
pub struct Typed<S, T> {
    inner: S,
    topic: String,
    scratch: Vec<Record<Vec<u8>>>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<S, T> Typed<S, T> {
    pub fn new(inner: S, topic: &str) -> Self {
        Self {
            inner,
            topic: topic.into(),
            scratch: Vec::new(),
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: serde::Serialize, S: Sink<Vec<u8>>> Sink<T> for Typed<S, T> {
    fn send(&mut self, key: Arc<str>, value: T) -> Result<u64> {
        self.inner.send(key, encode(&value)?)
    }
    fn send_batch(
        &mut self,
        records: &mut dyn Iterator<Item = (Arc<str>, T)>,
    ) -> Result<Option<u64>> {
        let encoded = records
            .map(|(k, v)| Ok((k, encode(&v)?)))
            .collect::<Result<Vec<_>>>()?;
        self.inner.send_batch(&mut encoded.into_iter())
    }
    fn close(&mut self) {
        self.inner.close()
    }
    fn end(&self) -> Result<u64> {
        self.inner.end()
    }
    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }
}

impl<T: serde::de::DeserializeOwned, S: Source<Vec<u8>>> Source<T> for Typed<S, T> {
    fn poll(
        &mut self,
        max: usize,
        timeout: std::time::Duration,
        out: &mut Vec<Record<T>>,
    ) -> Result<Polled> {
        self.scratch.clear();
        let p = self.inner.poll(max, timeout, &mut self.scratch)?;
        for r in self.scratch.drain(..) {
            let value = decode(&self.topic, &r)?;
            out.push(Record {
                offset: r.offset,
                key: r.key,
                value,
            });
        }
        Ok(p)
    }
    fn seek(&mut self, offset: u64) {
        self.inner.seek(offset)
    }
    fn position(&self) -> u64 {
        self.inner.position()
    }
}

/// Where a job's topics stand: the records its producer had published when its checkpoint was
/// written, compared with the topic's end now.
pub fn resume_skip(topic: &str, end: u64, base: u64, published: u64) -> Result<u64> {
    let on_topic = end.checked_sub(base).ok_or_else(|| Error::Transport {
        topic: topic.into(),
        reason: format!(
            "has {end} records but this job's first record was at offset {base}: the topic was \
             replaced; start the job with --fresh"
        ),
    })?;
    on_topic
        .checked_sub(published)
        .ok_or_else(|| Error::Transport {
            topic: topic.into(),
            reason: format!(
                "holds {on_topic} of this job's records but its checkpoint counts {published} \
             published: records were lost (an in-process topic, or a deleted file); start the \
             job with --fresh"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::suite;

    /// The transport suite on fresh topics of `bus`.
    fn passes_the_suite(bus: &dyn Bus) {
        let t = |n: &str| Typed::new(bus.sink(n).unwrap(), n);
        let c = |n: &str| Typed::new(bus.source(n).unwrap(), n);
        suite::offsets_in_order(t("a"), c("a")).unwrap();
        suite::resume_from_offset(t("b"), c("b")).unwrap();
        suite::poll_times_out_then_closes(t("c"), c("c")).unwrap();
        suite::batch_offsets(t("d"), c("d")).unwrap();
    }

    #[test]
    fn file_transport_passes_the_suite() {
        let dir = tempfile::tempdir().unwrap();
        let bus = FileBus {
            root: dir.path().into(),
        };
        passes_the_suite(&bus);
        assert_eq!(bus.end("a").unwrap(), 1000);
        assert_eq!(bus.topics().unwrap(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn embedded_bus_passes_the_suite() {
        passes_the_suite(&EmbeddedBus::default());
    }

    #[test]
    fn a_second_producer_is_refused_and_a_reopened_one_continues() {
        let dir = tempfile::tempdir().unwrap();
        let bus = FileBus {
            root: dir.path().into(),
        };
        let mut p = bus.sink("t").unwrap();
        p.send("K".into(), vec![1]).unwrap();
        let err = bus.sink("t").err().unwrap().to_string();
        assert!(err.contains("another process"), "{err}");
        drop(p);
        let mut p = bus.sink("t").unwrap();
        assert_eq!(p.end().unwrap(), 1);
        assert_eq!(p.send("K".into(), vec![2]).unwrap(), 1);
    }

    #[test]
    fn a_torn_tail_is_never_delivered_and_is_cut_off_by_the_next_producer() {
        let dir = tempfile::tempdir().unwrap();
        let bus = FileBus {
            root: dir.path().into(),
        };
        {
            let mut p = bus.sink("t").unwrap();
            for i in 0..3u8 {
                p.send("K".into(), vec![i; 10]).unwrap();
            }
        }
        // A producer killed mid-write leaves half a record.
        let path = dir.path().join("t.log");
        let len = std::fs::metadata(&path).unwrap().len();
        let mut bytes = std::fs::read(&path).unwrap();
        let head = bytes[..12].to_vec();
        bytes.extend_from_slice(&head);
        std::fs::write(&path, &bytes).unwrap();
        let mut c = bus.source("t").unwrap();
        let mut out = vec![];
        c.poll(10, std::time::Duration::from_millis(20), &mut out)
            .unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(bus.end("t").unwrap(), 3);
        let mut p = bus.sink("t").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        assert_eq!(p.send("K".into(), vec![9]).unwrap(), 3);
        c.poll(10, std::time::Duration::from_millis(200), &mut out)
            .unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].value, vec![9]);
    }

    #[test]
    fn resume_skip_counts_what_was_sent_after_the_checkpoint() {
        assert_eq!(resume_skip("t", 15, 5, 7).unwrap(), 3);
        assert!(resume_skip("t", 4, 5, 0).is_err());
        assert!(resume_skip("t", 10, 5, 7).is_err());
    }
}
