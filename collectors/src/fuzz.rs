//! A deterministic mutation fuzzer over every decoder, seeded with the recorded fixtures.
//!
//! Each input is a fixture mutated by a few random edits (bit flips, interesting bytes and
//! tokens such as `NaN`, `-1e309`, `null`, huge integers, truncation, duplication, deletion,
//! splicing with another seed). Every decoder must, on every input: not panic, and either refuse
//! the whole input with an error that names where and why, or account for every record it read:
//! each one landed or quarantined with a non-empty location and reason
//! (`rows landed + quarantined == rows read`). `elite bench fuzz` runs a million inputs per
//! decoder; the test suite runs a few thousand.

use std::panic::{AssertUnwindSafe, catch_unwind};

use elite_warehouse::{Clock, FixedClock, Symbol, Timeframe, Timestamp};

use crate::Decoded;
use crate::bars_csv::{BarsOptions, decode_bars_csv};
use crate::bars_parquet::decode_bars_parquet;

/// The decoders fuzzed, by name.
pub const DECODERS: &[&str] = &[
    "csv-bars",
    "parquet-bars",
    "yahoo-chart",
    "upstox-candles",
    "upstox-feed",
    "upstox-orders",
];

/// What fuzzing one decoder found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FuzzReport {
    pub decoder: String,
    pub inputs: u64,
    pub panics: u64,
    /// Inputs refused whole, with an error.
    pub refused: u64,
    /// Of those, refusals by the Parquet decoder's guard around the `parquet` crate: a panic of
    /// that crate on a corrupt page, caught and turned into an error for the file.
    pub third_party_panics_caught: u64,
    /// Records that decoded into rows.
    pub records_landed: u64,
    /// Records quarantined with a location and a reason.
    pub records_quarantined: u64,
    /// Broken invariants (a record neither landed nor quarantined, an empty reason, an empty
    /// error message), with the first few described.
    pub violations: u64,
    pub examples: Vec<String>,
    /// The first input that panicked or broke an invariant (for reproduction).
    #[serde(skip)]
    pub first_failure: Option<Vec<u8>>,
}

/// xorshift64*: small, fast, deterministic for a given seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"1e309",
    b"-1e309",
    b"null",
    b"\"\"",
    b"",
    b",",
    b",,",
    b"\n",
    b"\r\n",
    b"\"",
    b"-",
    b"0",
    b"-0",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"2262-04-12",
    b"1677-09-21",
    b"9999-12-31T23:59:59Z",
    b"0000-00-00",
    b"{}",
    b"[]",
    b"[[",
    b"\xff\xfe",
    b"\xc3\x28",
];

const BYTES: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'0', b'9', b'-', b'.', b'e', b',', b'"', b'{',
];

/// One mutated copy of `seed` (sometimes spliced with `other`).
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = BYTES[rng.below(BYTES.len())];
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            3 => {
                // Replace a run of bytes with a token (a field with a bad value).
                let end = (at + rng.below(12)).min(v.len());
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..end, t.iter().copied());
            }
            4 => v.truncate(at),
            5 => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at..end);
            }
            6 => {
                let end = (at + rng.below(64)).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
            7 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                // Varint-looking bytes (protobuf lengths and tags).
                let b = [0x80 | rng.below(128) as u8, 0xff, 0xff, 0xff, 0x0f];
                v.splice(at..at, b[..1 + rng.below(5)].iter().copied());
            }
        }
    }
    v
}

/// What one decode did.
enum Outcome {
    /// Records read, landed and quarantined, and the quarantine's (location, reason) pairs.
    Records {
        read: usize,
        landed: usize,
        quarantine: Vec<(String, String)>,
    },
    /// The input was refused whole with this message.
    Refused(String),
}

fn records(d: Decoded) -> Outcome {
    Outcome::Records {
        read: d.rows_read,
        landed: d.batch.num_rows(),
        quarantine: d
            .quarantine
            .into_iter()
            .map(|q| (q.location, q.reason))
            .collect(),
    }
}

fn refused(e: impl std::fmt::Display) -> Outcome {
    Outcome::Refused(e.to_string())
}

fn clock() -> FixedClock {
    FixedClock(Timestamp::from_secs(1_764_547_200).unwrap_or_default())
}

/// Run `decoder` on `input`.
fn decode(decoder: &str, input: &[u8], clock: &dyn Clock) -> Outcome {
    match decoder {
        "csv-bars" => {
            let mut o = BarsOptions::new("csv:fuzz.csv", Timeframe::Days(1));
            o.symbol = Symbol::new("GOOG").ok();
            decode_bars_csv(input, &o, clock).map_or_else(refused, records)
        }
        "parquet-bars" => {
            let o = BarsOptions::new("parquet:fuzz.parquet", Timeframe::Minutes(1));
            decode_bars_parquet(bytes::Bytes::copy_from_slice(input), &o, clock)
                .map_or_else(refused, records)
        }
        "yahoo-chart" => crate::yahoo::decode_chart(input, "yahoo:FUZZ:1d", clock)
            .map_or_else(refused, |c| records(c.decoded)),
        "upstox-candles" => {
            let key = Symbol::new("NSE_EQ|INE002A01018").ok();
            match key {
                Some(k) => crate::upstox::decode_candles(
                    input,
                    &k,
                    Timeframe::Minutes(1),
                    "upstox:fuzz",
                    clock,
                )
                .map_or_else(refused, records),
                None => refused("bad key"),
            }
        }
        "upstox-feed" => {
            let d = crate::upstox::decode_feed(input, "frame 0", clock);
            // A frame refused whole (not protobuf, or its time out of range) is one record,
            // quarantined as base64; otherwise each feed in it is a tick or a quarantined record.
            let whole = d.quarantine.iter().any(|q| q.raw_encoding == "base64");
            let read = match &d.message {
                Some(m) if !whole => m.feeds.len(),
                _ => 1,
            };
            Outcome::Records {
                read,
                landed: d.ticks.len(),
                quarantine: d
                    .quarantine
                    .into_iter()
                    .map(|q| (q.location, q.reason))
                    .collect(),
            }
        }
        "upstox-orders" => {
            // The three order payloads: the update feed, the order book, the trade book.
            let a = crate::upstox_orders::decode_update(input, 0)
                .err()
                .map(|e| e.to_string());
            let b = crate::upstox_orders::decode_order_book(200, input)
                .err()
                .map(|e| e.to_string());
            let c = crate::upstox_orders::decode_trades(200, input)
                .err()
                .map(|e| e.to_string());
            let errs: Vec<String> = [a, b, c].into_iter().flatten().collect();
            if errs.iter().any(|e| e.trim().is_empty()) {
                Outcome::Refused(String::new())
            } else if errs.len() == 3 {
                Outcome::Refused(errs.join("; "))
            } else {
                Outcome::Records {
                    read: 3 - errs.len(),
                    landed: 3 - errs.len(),
                    quarantine: vec![],
                }
            }
        }
        other => Outcome::Refused(format!("unknown decoder {other}")),
    }
}

/// Fuzz `decoder` with `n` inputs mutated from `seeds` (deterministic for a given `seed`).
pub fn fuzz(decoder: &str, seeds: &[Vec<u8>], n: u64, seed: u64) -> FuzzReport {
    let mut r = FuzzReport {
        decoder: decoder.to_string(),
        ..Default::default()
    };
    if seeds.is_empty() {
        r.violations = 1;
        r.examples.push("no seeds".into());
        return r;
    }
    let clock = clock();
    let mut rng = Rng(seed.max(1));
    for i in 0..n {
        let s = &seeds[rng.below(seeds.len())];
        let o = &seeds[rng.below(seeds.len())];
        // Every 16th input is an unmutated seed, so the happy path is exercised too.
        let input = if i % 16 == 0 {
            s.clone()
        } else {
            mutate(&mut rng, s, o)
        };
        r.inputs += 1;
        let out = catch_unwind(AssertUnwindSafe(|| decode(decoder, &input, &clock)));
        let fail = |r: &mut FuzzReport, what: String| {
            r.violations += 1;
            if r.examples.len() < 5 {
                r.examples.push(what);
            }
            if r.first_failure.is_none() {
                r.first_failure = Some(input.clone());
            }
        };
        match out {
            Err(p) => {
                r.panics += 1;
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if r.examples.len() < 5 {
                    r.examples.push(format!("input {i}: panic: {msg}"));
                }
                if r.first_failure.is_none() {
                    r.first_failure = Some(input.clone());
                }
            }
            Ok(Outcome::Refused(msg)) => {
                r.refused += 1;
                if msg.contains("the reader failed") {
                    r.third_party_panics_caught += 1;
                }
                if msg.trim().is_empty() {
                    fail(&mut r, format!("input {i}: refused with an empty message"));
                }
            }
            Ok(Outcome::Records {
                read,
                landed,
                quarantine,
            }) => {
                r.records_landed += landed as u64;
                r.records_quarantined += quarantine.len() as u64;
                if let Some((l, why)) = quarantine
                    .iter()
                    .find(|(l, why)| l.trim().is_empty() || why.trim().is_empty())
                {
                    fail(
                        &mut r,
                        format!("input {i}: quarantined without location/reason: {l:?} {why:?}"),
                    );
                } else if landed + quarantine.len() < read {
                    fail(
                        &mut r,
                        format!(
                            "input {i}: {read} records read, {landed} landed + {} quarantined",
                            quarantine.len()
                        ),
                    );
                }
            }
        }
    }
    r
}

/// The seed inputs of `decoder`: recorded payloads from the fixtures directory
/// (`collectors/fixtures`), cut to a few dozen records so each mutation matters.
pub fn seeds(decoder: &str, fixtures: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    let read = |p: &str| std::fs::read(fixtures.join(p));
    let head = |bytes: Vec<u8>, lines: usize| -> Vec<u8> {
        let text = String::from_utf8_lossy(&bytes);
        let mut out: String = text.lines().take(lines).collect::<Vec<_>>().join("\n");
        out.push('\n');
        out.into_bytes()
    };
    Ok(match decoder {
        "csv-bars" => vec![
            head(read("bars/GOOG_1d.csv")?, 40),
            read("bars/GOOG_1d_malformed.csv")?,
            head(read("bars/SP500_NOV2019_IDayRVol.csv")?, 40),
            head(read("bars/2006-day-001.txt")?, 40),
            head(read("bars/jpyusd_barchartdotcom.csv")?, 40),
        ],
        "parquet-bars" => vec![
            goog_parquet(&read("bars/GOOG_1d.csv")?, 30)?,
            goog_parquet(&read("bars/GOOG_1d.csv")?, 3)?,
        ],
        "yahoo-chart" => vec![
            read("yahoo/chart_AAPL_1d_2020-08-31_2020-11-07.json")?,
            read("yahoo/chart_BTC-USD_1d_2020-01-01_2020-01-03.json")?,
            read("yahoo/chart_EURUSD=X_1d_2020-01-01_2020-01-03.json")?,
            read("yahoo/chart_AAPL_1m_2025-02-01_weekend_empty.json")?,
        ],
        "upstox-candles" => {
            let full = read("upstox/rest/historical_candle_v3_minutes_1.json")?;
            // The recorded day cut to its first candles, still one valid response.
            let text = String::from_utf8_lossy(&full);
            let parts: Vec<&str> = text.splitn(12, "], [").collect();
            let cut = if parts.len() > 1 {
                let mut s = parts[..parts.len() - 1].join("], [");
                s.push_str("]]}}");
                s
            } else {
                text.to_string()
            };
            vec![
                cut.into_bytes(),
                read("upstox/rest/error_invalid_instrument.json")?,
            ]
        }
        "upstox-feed" => (0..20)
            .map(|i| read(&format!("upstox/vectors/frame_{i:02}.bin")))
            .collect::<std::io::Result<Vec<_>>>()?,
        "upstox-orders" => vec![
            read("upstox/orders/order_update_webhook.json")?,
            read("upstox/orders/order_book.json")?,
            read("upstox/orders/trades_for_day.json")?,
        ],
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unknown decoder {other}; known: {}", DECODERS.join(", ")),
            ));
        }
    })
}

/// The first `n` GOOG daily rows as a typed Parquet file (symbol, naive ms timestamps, floats,
/// integer volume), as a data vendor's export would have them.
fn goog_parquet(csv_bytes: &[u8], n: usize) -> std::io::Result<Vec<u8>> {
    use std::sync::Arc;

    use arrow_array::{
        Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut rdr = csv::Reader::from_reader(csv_bytes);
    let (mut ts, mut o, mut h, mut l, mut c, mut v) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for r in rdr.records().take(n) {
        let r = r.map_err(|e| bad(e.to_string()))?;
        let f = |i: usize| r[i].parse::<f64>().map_err(|e| bad(e.to_string()));
        let d =
            chrono::NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").map_err(|e| bad(e.to_string()))?;
        ts.push(
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis()),
        );
        o.push(f(1)?);
        h.push(f(2)?);
        l.push(f(3)?);
        c.push(f(4)?);
        v.push(f(5)? as i64);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("symbol", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("open", DataType::Float64, false),
        Field::new("high", DataType::Float64, false),
        Field::new("low", DataType::Float64, false),
        Field::new("close", DataType::Float64, false),
        Field::new("volume", DataType::Int64, false),
    ]));
    let rows = ts.len();
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(vec!["GOOG"; rows])),
            Arc::new(TimestampMillisecondArray::from(ts)),
            Arc::new(Float64Array::from(o)),
            Arc::new(Float64Array::from(h)),
            Arc::new(Float64Array::from(l)),
            Arc::new(Float64Array::from(c)),
            Arc::new(Int64Array::from(v)),
        ],
    )
    .map_err(|e| bad(e.to_string()))?;
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None)
        .map_err(|e| bad(e.to_string()))?;
    w.write(&batch).map_err(|e| bad(e.to_string()))?;
    w.close().map_err(|e| bad(e.to_string()))?;
    Ok(buf)
}
