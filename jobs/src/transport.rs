//! Streams between jobs: a [`Source`] / [`Sink`] pair of keyed records with offsets, and the
//! embedded in-process implementation (the default: one machine runs everything, no server).
//!
//! The contract every transport keeps (and a Fluvio transport will be tested against):
//! - a sink assigns each record the next offset of its topic (0, 1, 2, …), in send order;
//! - a source reads records in offset order, from any offset it is told to start at, so a
//!   consumer that restarts from its last committed offset sees exactly the records after it;
//! - `poll` never blocks longer than its timeout and returns what is available (maybe nothing);
//!   a closed, fully read topic reports `Polled::Closed`.
//!
//! Consumers commit their offset only after their output is durable (see the signal runner),
//! so a crash replays rather than loses; outputs are keyed, so a replay does not duplicate.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A record with its key (the partitioning key, e.g. the symbol) and offset.
#[derive(Clone, Debug, PartialEq)]
pub struct Record<T> {
    pub offset: u64,
    pub key: Arc<str>,
    pub value: T,
}

/// What a poll returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Polled {
    /// This many records were appended to the output.
    Records(usize),
    /// The topic is closed and everything in it was read.
    Closed,
}

/// Reads records in offset order.
pub trait Source<T> {
    /// Append up to `max` records to `out`, waiting at most `timeout` for the first.
    fn poll(
        &mut self,
        max: usize,
        timeout: Duration,
        out: &mut Vec<Record<T>>,
    ) -> crate::Result<Polled>;
    /// Continue from `offset` (the next record read has this offset).
    fn seek(&mut self, offset: u64);
    /// The offset of the next record to read.
    fn position(&self) -> u64;
}

/// Appends records; returns each record's offset.
pub trait Sink<T> {
    fn send(&mut self, key: Arc<str>, value: T) -> crate::Result<u64>;
    /// Send many records at once (a feed frame carrying many instruments); returns the offset of
    /// the first. Transports override it to pay their per-send cost once.
    fn send_batch(
        &mut self,
        records: &mut dyn Iterator<Item = (Arc<str>, T)>,
    ) -> crate::Result<Option<u64>> {
        let mut first = None;
        for (k, v) in records {
            let off = self.send(k, v)?;
            first.get_or_insert(off);
        }
        Ok(first)
    }
    /// No more records will come (a source that read everything then reports `Closed`).
    fn close(&mut self);
    /// The offset the next record sent will get (= records in the topic, for the topic's only
    /// producer). A producer that restarts compares it with its checkpoint to skip what it had
    /// already sent: exactly once on the topic.
    fn end(&self) -> crate::Result<u64>;
    /// Make what was sent durable (before a checkpoint that counts it is written).
    fn flush(&mut self) -> crate::Result<()> {
        Ok(())
    }
}

struct Log<T> {
    records: Vec<(Arc<str>, T)>,
    closed: bool,
}

/// An in-process topic: an append-only log in memory shared by producers and consumers.
pub struct Topic<T> {
    inner: Arc<(Mutex<Log<T>>, Condvar)>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Clone> Default for Topic<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Topic<T> {
    pub fn new() -> Self {
        Self {
            inner: Arc::new((
                Mutex::new(Log {
                    records: Vec::new(),
                    closed: false,
                }),
                Condvar::new(),
            )),
        }
    }
    /// A sink appending to this topic.
    pub fn producer(&self) -> Producer<T> {
        Producer {
            topic: self.clone(),
        }
    }
    /// A source reading this topic from `offset`.
    pub fn consumer(&self, offset: u64) -> Consumer<T> {
        Consumer {
            topic: self.clone(),
            next: offset,
        }
    }
    /// Records in the topic.
    pub fn len(&self) -> u64 {
        self.inner
            .0
            .lock()
            .map(|l| l.records.len() as u64)
            .unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The embedded sink.
pub struct Producer<T> {
    topic: Topic<T>,
}

impl<T: Clone> Sink<T> for Producer<T> {
    fn send(&mut self, key: Arc<str>, value: T) -> crate::Result<u64> {
        let (lock, cv) = &*self.topic.inner;
        let mut log = lock
            .lock()
            .map_err(|_| crate::Error::Internal("topic lock poisoned".into()))?;
        if log.closed {
            return Err(crate::Error::Internal("send on a closed topic".into()));
        }
        log.records.push((key, value));
        let offset = log.records.len() as u64 - 1;
        drop(log);
        cv.notify_all();
        Ok(offset)
    }
    fn send_batch(
        &mut self,
        records: &mut dyn Iterator<Item = (Arc<str>, T)>,
    ) -> crate::Result<Option<u64>> {
        let (lock, cv) = &*self.topic.inner;
        let mut log = lock
            .lock()
            .map_err(|_| crate::Error::Internal("topic lock poisoned".into()))?;
        if log.closed {
            return Err(crate::Error::Internal("send on a closed topic".into()));
        }
        let first = log.records.len() as u64;
        log.records.extend(records);
        let added = log.records.len() as u64 > first;
        drop(log);
        if added {
            cv.notify_all();
        }
        Ok(added.then_some(first))
    }
    fn close(&mut self) {
        let (lock, cv) = &*self.topic.inner;
        if let Ok(mut log) = lock.lock() {
            log.closed = true;
        }
        cv.notify_all();
    }
    fn end(&self) -> crate::Result<u64> {
        Ok(self.topic.len())
    }
}

/// The embedded source.
pub struct Consumer<T> {
    topic: Topic<T>,
    next: u64,
}

impl<T: Clone> Source<T> for Consumer<T> {
    fn poll(
        &mut self,
        max: usize,
        timeout: Duration,
        out: &mut Vec<Record<T>>,
    ) -> crate::Result<Polled> {
        let (lock, cv) = &*self.topic.inner;
        let poisoned = |_| crate::Error::Internal("topic lock poisoned".into());
        let mut log = lock.lock().map_err(poisoned)?;
        if (log.records.len() as u64) <= self.next && !log.closed {
            log = cv
                .wait_timeout(log, timeout)
                .map_err(|_| crate::Error::Internal("topic lock poisoned".into()))?
                .0;
        }
        let len = log.records.len() as u64;
        if self.next >= len {
            return Ok(if log.closed {
                Polled::Closed
            } else {
                Polled::Records(0)
            });
        }
        let end = len.min(self.next + max as u64);
        for off in self.next..end {
            let (k, v) = &log.records[off as usize];
            out.push(Record {
                offset: off,
                key: Arc::clone(k),
                value: v.clone(),
            });
        }
        let n = (end - self.next) as usize;
        self.next = end;
        Ok(Polled::Records(n))
    }
    fn seek(&mut self, offset: u64) {
        self.next = offset;
    }
    fn position(&self) -> u64 {
        self.next
    }
}

/// A replay published on a new in-process topic by a producer thread: `items` (key, value) in
/// order, then the topic is closed. With a `rate`, the items `paced` selects (by index and
/// value) are released at `rate` per second — the k-th of them no earlier than k / rate seconds
/// after the start, as a live feed would deliver them — and the others at once. Returns the
/// topic and the producer thread (which stops early when the topic refuses a send).
pub fn paced_feed<T, I, P>(
    items: I,
    rate: Option<f64>,
    mut paced: P,
) -> (Topic<T>, std::thread::JoinHandle<()>)
where
    T: Clone + Send + 'static,
    I: IntoIterator<Item = (Arc<str>, T)> + Send + 'static,
    P: FnMut(usize, &T) -> bool + Send + 'static,
{
    let topic = Topic::new();
    let mut producer = topic.producer();
    let feed = std::thread::spawn(move || {
        let t0 = std::time::Instant::now();
        let mut released = 0usize;
        for (i, (key, value)) in items.into_iter().enumerate() {
            if let Some(r) = rate
                && paced(i, &value)
            {
                let due = Duration::from_secs_f64(released as f64 / r);
                if let Some(wait) = due.checked_sub(t0.elapsed()) {
                    std::thread::sleep(wait);
                }
                released += 1;
            }
            if producer.send(key, value).is_err() {
                break;
            }
        }
        producer.close();
    });
    (topic, feed)
}

/// Poll `source` from an async task without blocking the runtime's other tasks.
pub fn poll_blocking<T, S: Source<T>>(
    source: &mut S,
    out: &mut Vec<Record<T>>,
) -> crate::Result<Polled> {
    tokio::task::block_in_place(|| source.poll(1024, Duration::from_millis(50), out))
}

/// The transport test-suite: every transport must pass it. The embedded transport runs it in
/// this crate's tests; a Fluvio transport runs the same functions against a real cluster.
pub mod suite {
    use super::*;

    fn drain<S: Source<u64>>(src: &mut S, want: usize) -> crate::Result<Vec<Record<u64>>> {
        let mut out = vec![];
        let mut idle = 0;
        while out.len() < want && idle < 200 {
            match src.poll(64, Duration::from_millis(10), &mut out)? {
                Polled::Records(0) => idle += 1,
                Polled::Records(_) => idle = 0,
                Polled::Closed => break,
            }
        }
        Ok(out)
    }

    /// Offsets are dense and in send order; a consumer sees every record once, in order.
    pub fn offsets_in_order<P: Sink<u64>, S: Source<u64>>(
        mut sink: P,
        mut src: S,
    ) -> crate::Result<()> {
        let keys: [Arc<str>; 3] = ["A".into(), "B".into(), "C".into()];
        for i in 0..1000u64 {
            let off = sink.send(Arc::clone(&keys[(i % 3) as usize]), i * 7)?;
            if off != i {
                return Err(crate::Error::Internal(format!(
                    "offset {off} for record {i}"
                )));
            }
        }
        let got = drain(&mut src, 1000)?;
        let ok = got.len() == 1000
            && got.iter().enumerate().all(|(i, r)| {
                r.offset == i as u64 && r.value == i as u64 * 7 && *r.key == *keys[i % 3]
            });
        if !ok {
            return Err(crate::Error::Internal(format!(
                "read {} records, not the 1000 sent in order",
                got.len()
            )));
        }
        Ok(())
    }

    /// A consumer that seeks to a committed offset reads exactly the records after it.
    pub fn resume_from_offset<P: Sink<u64>, S: Source<u64>>(
        mut sink: P,
        mut src: S,
    ) -> crate::Result<()> {
        for i in 0..100u64 {
            sink.send("K".into(), i)?;
        }
        src.seek(40);
        let got = drain(&mut src, 60)?;
        if got.first().map(|r| r.offset) != Some(40) || got.len() != 60 || src.position() != 100 {
            return Err(crate::Error::Internal(format!(
                "resume read {} records from {:?}",
                got.len(),
                got.first().map(|r| r.offset)
            )));
        }
        Ok(())
    }

    /// A batch gets consecutive offsets after what was sent before, in order.
    pub fn batch_offsets<P: Sink<u64>, S: Source<u64>>(
        mut sink: P,
        mut src: S,
    ) -> crate::Result<()> {
        sink.send("K".into(), 0)?;
        let first = sink.send_batch(&mut (1..=500u64).map(|i| (Arc::<str>::from("K"), i)))?;
        let got = drain(&mut src, 501)?;
        if first != Some(1)
            || got.len() != 501
            || got
                .iter()
                .enumerate()
                .any(|(i, r)| r.offset != i as u64 || r.value != i as u64)
        {
            return Err(crate::Error::Internal(format!(
                "batch: first offset {first:?}, read {}",
                got.len()
            )));
        }
        Ok(())
    }

    /// A poll on an empty open topic returns within its timeout with nothing; after close, Closed.
    pub fn poll_times_out_then_closes<P: Sink<u64>, S: Source<u64>>(
        mut sink: P,
        mut src: S,
    ) -> crate::Result<()> {
        let mut out = vec![];
        let t = std::time::Instant::now();
        let r = src.poll(10, Duration::from_millis(50), &mut out)?;
        if r != Polled::Records(0) || t.elapsed() > Duration::from_secs(5) {
            return Err(crate::Error::Internal(format!(
                "empty poll gave {r:?} after {:?}",
                t.elapsed()
            )));
        }
        sink.send("K".into(), 1)?;
        sink.close();
        let got = drain(&mut src, 1)?;
        let end = src.poll(10, Duration::from_millis(50), &mut out)?;
        if got.len() != 1 || end != Polled::Closed {
            return Err(crate::Error::Internal(format!(
                "after close: {} records, then {end:?}",
                got.len()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_transport_passes_the_suite() {
        let t = Topic::new();
        suite::offsets_in_order(t.producer(), t.consumer(0)).unwrap();
        let t = Topic::new();
        suite::resume_from_offset(t.producer(), t.consumer(0)).unwrap();
        let t = Topic::new();
        suite::poll_times_out_then_closes(t.producer(), t.consumer(0)).unwrap();
        let t = Topic::new();
        suite::batch_offsets(t.producer(), t.consumer(0)).unwrap();
    }

    #[test]
    fn producer_on_another_thread_is_seen_in_order() {
        let t: Topic<u64> = Topic::new();
        let mut p = t.producer();
        let h = std::thread::spawn(move || {
            for i in 0..10_000 {
                p.send("S".into(), i).unwrap();
            }
            p.close();
        });
        let mut c = t.consumer(0);
        let mut out = vec![];
        while c.poll(512, Duration::from_millis(100), &mut out).unwrap() != Polled::Closed {}
        h.join().unwrap();
        assert_eq!(out.len(), 10_000);
        assert!(out.iter().enumerate().all(|(i, r)| r.value == i as u64));
    }
}
