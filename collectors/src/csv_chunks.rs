//! Cutting a CSV stream into chunks of whole records, so a file of any size is decoded in
//! bounded memory and the chunks in parallel.
//!
//! A cut falls only on a line end outside quotes: quotes are counted from the start of the
//! stream (RFC 4180 escapes a quote by doubling it, which keeps the count's parity), so a quoted
//! field with a line break never straddles two chunks. Each chunk knows the file line of its
//! first record, so errors and quarantine name the same lines a whole-file read would.

use std::io::Read;

/// Whole records of a CSV stream, with the file line of the first.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Position in the stream, from 0.
    pub seq: u64,
    /// The file line (from 1) of the chunk's first byte.
    pub first_line: u64,
    pub bytes: Vec<u8>,
}

/// Reads a stream and hands out chunks of about `target` bytes, each ending on a record end.
pub struct Chunker<R> {
    input: R,
    target: usize,
    /// Bytes read but not yet handed out (the start of the next chunk).
    carry: Vec<u8>,
    next_line: u64,
    seq: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    /// `first_line` is the file line of the stream's first byte (2 when the header was taken).
    pub fn new(input: R, target: usize, first_line: u64, carry: Vec<u8>) -> Self {
        Self {
            input,
            target: target.max(1 << 10),
            carry,
            next_line: first_line,
            seq: 0,
            eof: false,
        }
    }

    /// The next chunk; `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> std::io::Result<Option<Chunk>> {
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            if !self.eof && buf.len() < self.target {
                let want = self.target - buf.len();
                let start = buf.len();
                buf.resize(start + want, 0);
                let mut filled = start;
                while filled < buf.len() {
                    match self.input.read(&mut buf[filled..]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                buf.truncate(filled);
            }
            if buf.is_empty() {
                return Ok(None);
            }
            if self.eof {
                return Ok(Some(self.emit(buf)));
            }
            match last_record_end(&buf) {
                Some(end) => {
                    self.carry = buf.split_off(end);
                    return Ok(Some(self.emit(buf)));
                }
                // One record longer than the target: read on until it ends.
                None => self.target = self.target.saturating_mul(2),
            }
        }
    }

    fn emit(&mut self, bytes: Vec<u8>) -> Chunk {
        let chunk = Chunk {
            seq: self.seq,
            first_line: self.next_line,
            bytes,
        };
        self.seq += 1;
        self.next_line += memchr::memchr_iter(b'\n', &chunk.bytes).count() as u64;
        chunk
    }
}

/// The end (exclusive) of the last complete record in `buf`, which starts outside quotes: the
/// byte after the last line feed at an even count of quotes.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', buf).is_none() {
        return memchr::memrchr(b'\n', buf).map(|i| i + 1);
    }
    let mut in_quotes = false;
    let mut end = None;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            end = Some(i + 1);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], target: usize) -> Vec<Chunk> {
        let mut c = Chunker::new(input, target, 2, Vec::new());
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            out.push(ch);
        }
        out
    }

    #[test]
    fn chunks_end_on_records_and_count_lines() {
        let text: String = (0..500).map(|i| format!("S,{i},1,2\n")).collect();
        let chunks = all(text.as_bytes(), 1024);
        assert!(chunks.len() > 3);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, text.as_bytes());
        for c in &chunks {
            assert_eq!(c.bytes.last(), Some(&b'\n'));
            // The chunk's first record is file line first_line: header is line 1, row i line i + 2.
            let first = std::str::from_utf8(&c.bytes)
                .unwrap()
                .lines()
                .next()
                .unwrap();
            let i: u64 = first.split(',').nth(1).unwrap().parse().unwrap();
            assert_eq!(c.first_line, i + 2);
        }
        assert_eq!(
            chunks.iter().map(|c| c.seq).collect::<Vec<_>>(),
            (0..chunks.len() as u64).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_quoted_line_break_never_splits() {
        let rec = "S,\"a\nb \"\"q\"\" c\",1\n";
        let text = rec.repeat(300);
        for target in [1024, 1500, 4000] {
            for c in all(text.as_bytes(), target) {
                assert_eq!(c.bytes.len() % rec.len(), 0, "cut inside a record");
            }
        }
    }

    #[test]
    fn a_record_longer_than_the_target_and_a_last_line_without_newline() {
        let long = format!("S,{},1\nT,2,3", "x".repeat(5000));
        let chunks = all(long.as_bytes(), 1024);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, long.as_bytes());
        assert!(chunks.last().unwrap().bytes.ends_with(b"\nT,2,3"));
    }
}
