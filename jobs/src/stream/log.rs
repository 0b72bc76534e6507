//! The file-log transport (`file:DIR`): each topic is an append-only file of framed records under
//! `DIR`, shared by processes on one machine without a server. It keeps the transport contract
//! (dense offsets in send order, read from any offset, polls that time out, close) across
//! processes and restarts, so the live chain's jobs can run as separate processes, be killed and
//! be restarted, in CI, where no Fluvio cluster is available.
//!
//! A record is `len: u32 LE | crc32(body): u32 LE | body`, body = `key_len: u16 LE | key | value`;
//! `len = u32::MAX` (no body) closes the topic. One producer per topic (an exclusive lock on
//! `<topic>.lock` is held while it is open). A producer that opens a topic whose last record was
//! torn by a crash (short, or failing its checksum) cuts it off; consumers never deliver a record
//! until all of it is there and its checksum matches.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::transport::{Polled, Record, Sink, Source};
use crate::{Error, Result};

const CLOSE: u32 = u32::MAX;
const HEADER: usize = 8;
/// The largest record accepted (a frame of many instruments is far below).
const MAX_RECORD: usize = 64 << 20;

/// A topic name is a file name: letters, digits, `.`, `_`, `-`.
pub fn check_topic(topic: &str) -> Result<()> {
    let ok = !topic.is_empty()
        && !topic.starts_with('.')
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Transport {
            topic: topic.into(),
            reason: "a topic name is letters, digits, '.', '_' and '-' (not starting with '.')"
                .into(),
        })
    }
}

fn topic_path(root: &Path, topic: &str) -> PathBuf {
    root.join(format!("{topic}.log"))
}

fn io(topic: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::TopicIo {
        topic: topic.into(),
        source,
    }
}

/// One parsed frame of a buffer.
enum Frame<'a> {
    Record { key: &'a [u8], value: &'a [u8] },
    Close,
}

/// Parse the frame at the start of `buf`: `Ok(Some((frame, bytes)))`, `Ok(None)` when the buffer
/// ends inside it (not all written yet, or torn), `Err` when it cannot be a frame (bad checksum
/// or length).
fn parse(buf: &[u8]) -> std::result::Result<Option<(Frame<'_>, usize)>, String> {
    if buf.len() < HEADER {
        return Ok(None);
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes"));
    if len == CLOSE {
        return Ok(Some((Frame::Close, HEADER)));
    }
    let len = len as usize;
    if !(2..=MAX_RECORD).contains(&len) {
        return Err(format!("record length {len} out of range"));
    }
    let Some(body) = buf.get(HEADER..HEADER + len) else {
        return Ok(None);
    };
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    let klen = u16::from_le_bytes([body[0], body[1]]) as usize;
    if 2 + klen > len {
        return Err(format!("key length {klen} beyond the record"));
    }
    Ok(Some((
        Frame::Record {
            key: &body[2..2 + klen],
            value: &body[2 + klen..],
        },
        HEADER + len,
    )))
}

fn encode(key: &str, value: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let len = 2 + key.len() + value.len();
    if key.len() > u16::MAX as usize || len > MAX_RECORD {
        return Err(Error::Transport {
            topic: key.into(),
            reason: format!(
                "record of {len} bytes (key {} bytes) is too large",
                key.len()
            ),
        });
    }
    let start = out.len();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value);
    let crc = crc32fast::hash(&out[start + HEADER..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// What a scan of a topic file found.
struct Scan {
    records: u64,
    /// Byte position after the last whole record (or the close marker).
    end: u64,
    closed: bool,
}

fn scan(file: &File, topic: &str) -> Result<Scan> {
    let mut s = Scan {
        records: 0,
        end: 0,
        closed: false,
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut have = 0usize;
    let mut at = 0u64;
    loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = file
            .read_at(&mut buf[have..], at + have as u64)
            .map_err(io(topic))?;
        if n == 0 {
            return Ok(s);
        }
        have += n;
        let mut used = 0;
        loop {
            match parse(&buf[used..have]) {
                Ok(Some((Frame::Record { .. }, n))) => {
                    used += n;
                    s.records += 1;
                    s.end = at + used as u64;
                }
                Ok(Some((Frame::Close, n))) => {
                    s.end = at + (used + n) as u64;
                    s.closed = true;
                    return Ok(s);
                }
                Ok(None) => break,
                // A torn or damaged tail: everything before it is the topic.
                Err(_) => return Ok(s),
            }
        }
        buf.copy_within(used..have, 0);
        have -= used;
        at += used as u64;
    }
}

/// A topic's producer: appends frames to its file.
pub struct LogSink {
    topic: String,
    file: File,
    _lock: File,
    records: u64,
    closed: bool,
    buf: Vec<u8>,
}

impl LogSink {
    /// Open (creating) `topic` under `root` as its only producer.
    pub fn open(root: &Path, topic: &str) -> Result<Self> {
        check_topic(topic)?;
        std::fs::create_dir_all(root).map_err(io(topic))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(format!("{topic}.lock")))
            .map_err(io(topic))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Transport {
                    topic: topic.into(),
                    reason: format!(
                        "another process is producing to it (lock {}/{topic}.lock)",
                        root.display()
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(topic)(e)),
        }
        let path = topic_path(root, topic);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io(topic))?;
        let s = scan(&file, topic)?;
        let len = file.metadata().map_err(io(topic))?.len();
        if len > s.end {
            tracing::warn!(
                topic,
                bytes = len - s.end,
                "cutting a torn record off the end of the topic"
            );
            file.set_len(s.end).map_err(io(topic))?;
        }
        Ok(Self {
            topic: topic.into(),
            file,
            _lock: lock,
            records: s.records,
            closed: s.closed,
            buf: Vec::new(),
        })
    }

    fn refuse_closed(&self) -> Result<()> {
        if self.closed {
            return Err(Error::Transport {
                topic: self.topic.clone(),
                reason: "send on a closed topic".into(),
            });
        }
        Ok(())
    }
}

impl Sink<Vec<u8>> for LogSink {
    fn send(&mut self, key: Arc<str>, value: Vec<u8>) -> Result<u64> {
        self.refuse_closed()?;
        self.buf.clear();
        encode(&key, &value, &mut self.buf)?;
        self.file.write_all(&self.buf).map_err(io(&self.topic))?;
        self.records += 1;
        Ok(self.records - 1)
    }
    fn send_batch(
        &mut self,
        records: &mut dyn Iterator<Item = (Arc<str>, Vec<u8>)>,
    ) -> Result<Option<u64>> {
        self.refuse_closed()?;
        self.buf.clear();
        let first = self.records;
        let mut n = 0;
        for (k, v) in records {
            encode(&k, &v, &mut self.buf)?;
            n += 1;
        }
        if n == 0 {
            return Ok(None);
        }
        self.file.write_all(&self.buf).map_err(io(&self.topic))?;
        self.records += n;
        Ok(Some(first))
    }
    fn close(&mut self) {
        if !self.closed {
            let mut b = CLOSE.to_le_bytes().to_vec();
            b.extend_from_slice(&[0; 4]);
            if self.file.write_all(&b).is_ok() {
                let _ = self.file.sync_data();
            }
            self.closed = true;
        }
    }
    fn end(&self) -> Result<u64> {
        Ok(self.records)
    }
    fn flush(&mut self) -> Result<()> {
        self.file.sync_data().map_err(io(&self.topic))
    }
}

/// A topic's consumer: reads whole frames from its file, waiting for the producer.
pub struct LogSource {
    topic: String,
    path: PathBuf,
    file: Option<File>,
    /// Offset and byte position of the next record in the file.
    next: u64,
    pos: u64,
    /// Records before this offset are read but not delivered (after a seek).
    skip_to: u64,
    closed: bool,
    buf: Vec<u8>,
}

impl LogSource {
    /// A consumer of `topic` under `root` from offset 0 (the topic may not exist yet).
    pub fn open(root: &Path, topic: &str) -> Result<Self> {
        check_topic(topic)?;
        Ok(Self {
            topic: topic.into(),
            path: topic_path(root, topic),
            file: None,
            next: 0,
            pos: 0,
            skip_to: 0,
            closed: false,
            buf: Vec::new(),
        })
    }

    /// Read what is there now: deliver up to `max` records at or after `skip_to`.
    fn read_some(&mut self, max: usize, out: &mut Vec<Record<Vec<u8>>>) -> Result<usize> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                Err(e) => return Err(io(&self.topic)(e)),
            }
        }
        let file = self.file.as_ref().expect("opened above");
        let mut delivered = 0;
        loop {
            if self.buf.len() < 1 << 20 {
                self.buf.resize(1 << 20, 0);
            }
            let n = file
                .read_at(&mut self.buf, self.pos)
                .map_err(io(&self.topic))?;
            if n == 0 {
                return Ok(delivered);
            }
            let mut used = 0;
            let mut progressed = false;
            while delivered < max {
                match parse(&self.buf[used..n]) {
                    Ok(Some((Frame::Record { key, value }, len))) => {
                        if self.next >= self.skip_to {
                            let key = std::str::from_utf8(key).map_err(|_| Error::Transport {
                                topic: self.topic.clone(),
                                reason: format!("record {} has a key that is not UTF-8", self.next),
                            })?;
                            out.push(Record {
                                offset: self.next,
                                key: Arc::from(key),
                                value: value.to_vec(),
                            });
                            delivered += 1;
                        }
                        used += len;
                        self.next += 1;
                        progressed = true;
                    }
                    Ok(Some((Frame::Close, _))) => {
                        self.closed = true;
                        self.pos += used as u64;
                        return Ok(delivered);
                    }
                    Ok(None) => {
                        if used == 0 && n == self.buf.len() {
                            // One record larger than the buffer: grow and read again.
                            let want = self.buf.len() * 2;
                            self.buf.resize(want.min(MAX_RECORD + HEADER), 0);
                        }
                        break;
                    }
                    // Torn by a producer that died mid-write: it will be cut off and written
                    // again when the producer restarts; wait for that.
                    Err(_) => break,
                }
            }
            self.pos += used as u64;
            if delivered >= max || !progressed {
                return Ok(delivered);
            }
        }
    }
}

impl Source<Vec<u8>> for LogSource {
    fn poll(
        &mut self,
        max: usize,
        timeout: Duration,
        out: &mut Vec<Record<Vec<u8>>>,
    ) -> Result<Polled> {
        let start = Instant::now();
        let mut nap = Duration::from_micros(20);
        loop {
            let n = self.read_some(max.max(1), out)?;
            if n > 0 {
                return Ok(Polled::Records(n));
            }
            if self.closed {
                return Ok(Polled::Closed);
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(Polled::Records(0));
            }
            std::thread::sleep(nap.min(left));
            nap = (nap * 2).min(Duration::from_millis(2));
        }
    }
    fn seek(&mut self, offset: u64) {
        if offset < self.next {
            self.next = 0;
            self.pos = 0;
            self.closed = false;
        }
        self.skip_to = offset;
    }
    fn position(&self) -> u64 {
        self.next.max(self.skip_to)
    }
}

/// Records in `topic` under `root` (0 when it does not exist).
pub fn topic_end(root: &Path, topic: &str) -> Result<u64> {
    check_topic(topic)?;
    match File::open(topic_path(root, topic)) {
        Ok(f) => Ok(scan(&f, topic)?.records),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io(topic)(e)),
    }
}

/// The topics under `root`.
pub fn topics(root: &Path) -> Result<Vec<String>> {
    let mut out = vec![];
    let dir = match std::fs::read_dir(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(Error::Read {
                path: root.display().to_string(),
                source: e,
            });
        }
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(t) = name.strip_suffix(".log") {
            out.push(t.to_string());
        }
    }
    out.sort();
    Ok(out)
}
