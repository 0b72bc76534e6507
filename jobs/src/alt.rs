//! Alternative data: symbol aliases, news (feeds, EDGAR, Yahoo search) and the sentiment of text.
//!
//! Same guarantees as bars: a unit (file or response body, with its options) lands once by its
//! content hash; bad records go to `quarantine` with their location and reason; `ts_event` is
//! when it happened (published), `ts_recv` when Elite had it — the time of ingest, or for a
//! backfill of old items, `published + --backfill-delay` (never later than the ingest itself).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampMicrosecondType;
use elite_collectors::Decoded;
use elite_collectors::http::{HttpClient, Retry};
use elite_collectors::news::{self, NewsFormat};
use elite_store::{At, CommitMeta, Warehouse};
use elite_text::Scorer;
use elite_text::tagging::{Alias, AliasKind, Tagger};
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{QuarantineRecord, Timestamp, tables};
use serde::Serialize;

use crate::ingest::{IngestReport, Ingestor, hash, read_input};
use crate::progress::Reporter;
use crate::{Error, Result};

/// How a news payload is read.
#[derive(Clone, Debug)]
pub struct NewsOptions {
    pub format: NewsFormat,
    /// Backfill: items were knowable this long after they were published (`ts_recv = published +
    /// delay`, capped at now). None: `ts_recv` = the time of ingest.
    pub backfill_delay: Option<Duration>,
}

/// An item dated more than this after its ingest is refused (a wrong clock or a wrong zone).
const MAX_FUTURE: i64 = 24 * 3600 * 1_000_000_000;

/// A string column as `Utf8` (the warehouse may hand back `Utf8View` or dictionaries).
pub(crate) fn strings(b: &RecordBatch, name: &str) -> Option<arrow::array::StringArray> {
    let c = b.column_by_name(name)?;
    let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok()?;
    Some(c.as_string::<i32>().clone())
}

/// A timestamp column as microseconds, UTC.
pub(crate) fn times(
    b: &RecordBatch,
    name: &str,
) -> Option<arrow::array::PrimitiveArray<TimestampMicrosecondType>> {
    let c = b.column_by_name(name)?;
    let c = arrow::compute::cast(c, &tables::ts_type()).ok()?;
    Some(c.as_primitive::<TimestampMicrosecondType>().clone())
}

pub(crate) fn year(ts: Timestamp) -> i32 {
    chrono::Datelike::year(&ts.to_datetime())
}

/// When an item published at `published` was knowable: now, or for a backfill `published +
/// delay` (never later than now, never before publication).
pub(crate) fn item_recv(
    published: Option<Timestamp>,
    delay: Option<Duration>,
    now: Timestamp,
) -> Timestamp {
    match (delay, published) {
        (Some(d), Some(p)) => {
            let assumed = p
                .as_nanos()
                .saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            Timestamp::from_nanos(assumed.min(now.as_nanos()).max(p.as_nanos()))
        }
        _ => now,
    }
}

/// The quarantine record of an item dated more than a day after it was received.
pub(crate) fn future_dated(
    source: &str,
    table: &str,
    location: &str,
    ts_event: Timestamp,
    now: Timestamp,
    raw: &str,
) -> Option<QuarantineRecord> {
    (ts_event.as_nanos() > now.as_nanos().saturating_add(MAX_FUTURE)).then(|| {
        refuse(
            source,
            table,
            location.to_string(),
            format!("published: {ts_event} is more than a day after it was received ({now})"),
            raw.to_string(),
            now,
        )
    })
}

/// Every alias in `instrument_aliases`.
pub async fn load_aliases(wh: &Warehouse) -> Result<Vec<Alias>> {
    let mut out = Vec::new();
    for b in wh
        .read(tables::INSTRUMENT_ALIASES.name, At::Latest, None)
        .await?
    {
        let (Some(sym), Some(alias), Some(kind)) = (
            strings(&b, "symbol"),
            strings(&b, "alias"),
            strings(&b, "kind"),
        ) else {
            continue;
        };
        for i in 0..b.num_rows() {
            if let Some(k) = AliasKind::parse(kind.value(i)) {
                out.push(Alias {
                    symbol: sym.value(i).to_string(),
                    alias: alias.value(i).to_string(),
                    kind: k,
                });
            }
        }
    }
    Ok(out)
}

fn refuse(
    source: &str,
    table: &str,
    location: String,
    reason: String,
    raw: String,
    now: Timestamp,
) -> QuarantineRecord {
    QuarantineRecord::new(source, table, location, reason, raw, "text", now)
}

impl Ingestor {
    /// Land aliases from a CSV `symbol,alias,kind[,valid_from]` (kind: ticker, cashtag, name,
    /// cik, isin; `valid_from` an RFC 3339 time or date, default the epoch).
    pub async fn ingest_aliases(
        &self,
        path: &Path,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = format!("aliases:{name}");
        let bytes = read_input(path)?;
        let content_hash = hash(&[&bytes]);
        if let Some(cp) = self.checkpoint(&source, &content_hash).await? {
            return Ok(Self::skipped(
                source,
                tables::INSTRUMENT_ALIASES.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(&bytes[..]);
        let headers = rdr
            .headers()
            .map_err(|e| Error::Invalid {
                what: format!("{}: header", path.display()),
                source: Box::new(e),
            })?
            .clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
        };
        let (Some(cs), Some(ca), Some(ck)) = (col("symbol"), col("alias"), col("kind")) else {
            return Err(Error::Config(format!(
                "{}: the header needs symbol, alias and kind (and may have valid_from)",
                path.display()
            )));
        };
        let cv = col("valid_from");
        let utc = elite_collectors::timeparse::TimeParser::new(chrono_tz::UTC, None);
        let mut b = RowsBuilder::new(&tables::INSTRUMENT_ALIASES);
        let mut quarantine = Vec::new();
        let mut rows_read = 0;
        for (i, rec) in rdr.records().enumerate() {
            rows_read += 1;
            let line = format!("line {}", i + 2);
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    quarantine.push(refuse(
                        &source,
                        "instrument_aliases",
                        line,
                        format!("unreadable record: {e}"),
                        String::new(),
                        now,
                    ));
                    continue;
                }
            };
            let raw = rec.iter().collect::<Vec<_>>().join(",");
            let get = |c: usize| rec.get(c).map(str::trim).unwrap_or("");
            let (symbol, alias, kind) = (get(cs), get(ca), get(ck));
            let bad = |why: String| {
                refuse(
                    &source,
                    "instrument_aliases",
                    line.clone(),
                    why,
                    raw.clone(),
                    now,
                )
            };
            if symbol.is_empty() || alias.is_empty() {
                quarantine.push(bad("symbol/alias: empty".into()));
                continue;
            }
            let Some(kind) = AliasKind::parse(kind) else {
                quarantine.push(bad(format!(
                    "kind: {kind:?} is not ticker, cashtag, name, cik or isin"
                )));
                continue;
            };
            let valid_from = match cv.map(get).filter(|v| !v.is_empty()) {
                None => Timestamp::from_nanos(0),
                Some(v) => match utc.parse(v) {
                    Ok(t) => t,
                    Err(e) => {
                        quarantine.push(bad(format!("valid_from: {e}")));
                        continue;
                    }
                },
            };
            b.row()
                .str(symbol)
                .str(alias)
                .str(kind.as_str())
                .ts(valid_from)
                .ts(now)
                .str(&source)
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(
            &source,
            &content_hash,
            &tables::INSTRUMENT_ALIASES,
            decoded,
            reporter,
        )
        .await
    }

    /// Fetch a news URL (a feed, an EDGAR Atom feed, a Yahoo search) and land it.
    pub async fn ingest_news_url(
        &self,
        url: &str,
        opts: &NewsOptions,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let parsed = reqwest::Url::parse(url).map_err(|e| Error::Invalid {
            what: format!("news URL {url:?}"),
            source: Box::new(e),
        })?;
        let source = format!("news:{}{}", parsed.host_str().unwrap_or(""), parsed.path());
        reporter.stage(&format!("fetching {url}"), None);
        let client = HttpClient::new("news", Retry::default())?;
        let (status, body) = client.get(&parsed, Default::default()).await?;
        reporter.finish();
        if status != 200 {
            return Err(elite_collectors::Error::Api {
                source_name: "news",
                status: Some(status),
                message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            }
            .into());
        }
        self.ingest_news_body(&source, &body, opts, reporter).await
    }

    /// Land one news payload (fetched, or saved to a file): decode, tag through the aliases,
    /// quarantine the bad items, insert the rest once.
    pub async fn ingest_news_body(
        &self,
        source: &str,
        body: &[u8],
        opts: &NewsOptions,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("{:?}|{:?}", opts.format, opts.backfill_delay);
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::NEWS.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let decoded = news::decode_news(body, opts.format, source, self.clock())?;
        let tagger = Tagger::new(&load_aliases(self.warehouse()).await?);
        let mut quarantine = decoded.quarantine;
        let mut b = RowsBuilder::new(&tables::NEWS);
        for item in decoded.items {
            let ts_event = item.published.unwrap_or(now);
            let location = item.location.as_str();
            if let Some(q) = future_dated(source, "news", location, ts_event, now, &item.title) {
                quarantine.push(q);
                continue;
            }
            let ts_recv = item_recv(item.published, opts.backfill_delay, now);
            let text = format!("{} {}", item.title, item.summary.as_deref().unwrap_or(""));
            let mut tags = tagger.tag(&item.tags, &text);
            if tags.is_empty() {
                tags.push(elite_text::tagging::Tag {
                    symbol: String::new(),
                    how: String::new(),
                });
            }
            for t in tags {
                b.row()
                    .str(&item.id)
                    .str(&t.symbol)
                    .ts(ts_event)
                    .ts(ts_recv)
                    .str(source)
                    .opt_str(item.publisher.as_deref())
                    .opt_str(item.category.as_deref())
                    .str(&item.title)
                    .opt_str(item.summary.as_deref())
                    .opt_str(item.url.as_deref())
                    .opt_str(item.guid.as_deref())
                    .str(&item.content_hash)
                    .str(&t.how)
                    .i32(year(ts_event))
                    .end();
            }
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read: decoded.rows_read,
        };
        self.land(source, &content_hash, &tables::NEWS, decoded, reporter)
            .await
    }
}

/// What a scoring pass did.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreReport {
    pub table: String,
    pub version: String,
    pub rows_read: usize,
    pub rows_scored: usize,
    pub rows_already_scored: usize,
    pub table_version: Option<u64>,
}

/// Score every `news` row (item revision × symbol) that this scorer version has not scored yet
/// into `sentiment`.
pub async fn score_news(wh: &Warehouse, scorer: &Scorer) -> Result<ScoreReport> {
    let version = scorer.version();
    let mut done: HashSet<(String, String, String)> = HashSet::new();
    let filter = elite_store::datafusion::prelude::col("version")
        .eq(elite_store::datafusion::prelude::lit(version))
        .and(
            elite_store::datafusion::prelude::col("item_table")
                .eq(elite_store::datafusion::prelude::lit("news")),
        );
    for b in wh
        .read(tables::SENTIMENT.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(id), Some(ch), Some(sym)) = (
            strings(&b, "item_id"),
            strings(&b, "content_hash"),
            strings(&b, "symbol"),
        ) else {
            continue;
        };
        for i in 0..b.num_rows() {
            done.insert((id.value(i).into(), ch.value(i).into(), sym.value(i).into()));
        }
    }
    let mut out = RowsBuilder::new(&tables::SENTIMENT);
    let (mut read, mut already) = (0, 0);
    for b in wh.read(tables::NEWS.name, At::Latest, None).await? {
        let cols = (
            strings(&b, "id"),
            strings(&b, "content_hash"),
            strings(&b, "symbol"),
            strings(&b, "title"),
            strings(&b, "summary"),
            times(&b, "ts_event"),
            times(&b, "ts_recv"),
        );
        let (Some(id), Some(ch), Some(sym), Some(title), Some(summary), Some(te), Some(tr)) = cols
        else {
            return Err(Error::Internal("news: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            read += 1;
            let key = (
                id.value(i).to_string(),
                ch.value(i).to_string(),
                sym.value(i).to_string(),
            );
            if done.contains(&key) {
                already += 1;
                continue;
            }
            let text = if summary.is_null(i) {
                title.value(i).to_string()
            } else {
                format!("{} {}", title.value(i), summary.value(i))
            };
            let s = scorer.score(&text)?;
            let label = elite_text::eval::CLASSES[scorer.classify(&s)];
            let detail = serde_json::Value::Object(
                s.parts
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), serde_json::json!(v)))
                    .collect(),
            )
            .to_string();
            let ts_event = Timestamp::from_nanos(te.value(i).saturating_mul(1000));
            out.row()
                .str("news")
                .str(&key.0)
                .str(&key.1)
                .str(&key.2)
                .ts(ts_event)
                .ts(Timestamp::from_nanos(tr.value(i).saturating_mul(1000)))
                .str(scorer.kind().name())
                .str(version)
                .f64(s.score)
                .str(label)
                .str(&detail)
                .i32(year(ts_event))
                .end();
            done.insert(key);
        }
    }
    let scored = out.len();
    let table_version = if scored > 0 {
        let meta = CommitMeta::new(format!("sentiment:{version}"));
        wh.insert_new(&tables::SENTIMENT, vec![out.finish()?], meta)
            .await?
            .version
    } else {
        None
    };
    Ok(ScoreReport {
        table: "news".into(),
        version: version.into(),
        rows_read: read,
        rows_scored: scored,
        rows_already_scored: already,
        table_version,
    })
}

/// Rows of `symbols`; every symbol when the list is empty (a config without `symbols` reads
/// every symbol's bars).
pub(crate) fn symbols_filter(symbols: &[String]) -> elite_store::datafusion::prelude::Expr {
    use elite_store::datafusion::prelude::{col, lit};
    if symbols.is_empty() {
        lit(true)
    } else {
        col("symbol").in_list(symbols.iter().map(|s| lit(s.as_str())).collect(), false)
    }
}

/// Each symbol's scored items of one scorer version, as (`ts_recv`, score): the input of the
/// sentiment features.
pub async fn read_text_events(
    wh: &Warehouse,
    symbols: &[String],
    version: &str,
) -> Result<std::collections::HashMap<String, Vec<elite_pipelines::sentiment::TextEvent>>> {
    use elite_store::datafusion::prelude::{col, lit};
    let filter = col("version").eq(lit(version)).and(symbols_filter(symbols));
    let mut out: std::collections::HashMap<String, Vec<_>> = Default::default();
    for b in wh
        .read(tables::SENTIMENT.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(sym), Some(tr), Some(score)) = (
            strings(&b, "symbol"),
            times(&b, "ts_recv"),
            b.column_by_name("score")
                .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone()),
        ) else {
            return Err(Error::Internal("sentiment: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            out.entry(sym.value(i).to_string()).or_default().push(
                elite_pipelines::sentiment::TextEvent {
                    ts_recv: Timestamp::from_nanos(tr.value(i).saturating_mul(1000)),
                    score: score.value(i),
                },
            );
        }
    }
    Ok(out)
}
