//! Social posts (Reddit, X) into `social_posts`, tagged like news; mention spikes per symbol.

use std::time::Duration;

use elite_collectors::Decoded;
use elite_collectors::social::{self, DecodedPosts};
use elite_pipelines::mentions::{Bucket, spikes};
use elite_store::{At, Warehouse};
use elite_text::tagging::{Tag, Tagger};
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};
use serde::Serialize;

use crate::alt::{future_dated, item_recv, load_aliases, strings, times};
use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;
use crate::{Error, Result};

/// Which platform a payload is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Reddit,
    X,
}

impl Platform {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "reddit" => Ok(Self::Reddit),
            "x" | "twitter" => Ok(Self::X),
            other => Err(Error::Config(format!(
                "unknown platform {other:?} (reddit or x)"
            ))),
        }
    }
}

impl Ingestor {
    /// Land one Reddit or X payload: decode, tag through the aliases, quarantine the bad posts.
    pub async fn ingest_social_body(
        &self,
        source: &str,
        body: &[u8],
        platform: Platform,
        backfill_delay: Option<Duration>,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("{platform:?}|{backfill_delay:?}");
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::SOCIAL_POSTS.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let DecodedPosts {
            posts,
            mut quarantine,
            rows_read,
        } = match platform {
            Platform::Reddit => social::decode_reddit(body, source, self.clock())?,
            Platform::X => social::decode_x(body, source, self.clock())?,
        };
        let tagger = Tagger::new(&load_aliases(self.warehouse()).await?);
        let mut b = RowsBuilder::new(&tables::SOCIAL_POSTS);
        for p in posts {
            if let Some(q) = future_dated(
                source,
                "social_posts",
                &p.location,
                p.ts_event,
                now,
                &p.text,
            ) {
                quarantine.push(q);
                continue;
            }
            let ts_recv = item_recv(Some(p.ts_event), backfill_delay, now);
            let title = p.title.as_deref().unwrap_or("");
            let mut tags = tagger.tag(&[], &format!("{title} {}", p.text));
            if tags.is_empty() {
                tags.push(Tag {
                    symbol: String::new(),
                    how: String::new(),
                });
            }
            for t in tags {
                b.row()
                    .str(&p.id)
                    .str(&t.symbol)
                    .ts(p.ts_event)
                    .ts(ts_recv)
                    .str(p.platform)
                    .opt_str(p.community.as_deref())
                    .opt_str(p.author.as_deref())
                    .opt_str(p.title.as_deref())
                    .str(&p.text)
                    .opt_f64(p.score)
                    .opt_f64(p.replies)
                    .opt_str(p.url.as_deref())
                    .str(&p.content_hash)
                    .str(&t.how)
                    .str(source)
                    .i32(crate::alt::year(p.ts_event))
                    .end();
            }
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(
            source,
            &content_hash,
            &tables::SOCIAL_POSTS,
            decoded,
            reporter,
        )
        .await
    }
}

/// One symbol's completed mention bucket.
#[derive(Clone, Debug, Serialize)]
pub struct MentionRow {
    pub symbol: String,
    pub bucket_start: String,
    pub mentions: u64,
    pub median: Option<f64>,
    pub mad: Option<f64>,
    pub z: Option<f64>,
    pub spike: bool,
}

/// Mention counts of each symbol (`''`: untagged posts) by `ts_recv` bucket, scored against the
/// `window` buckets before (see [`elite_pipelines::mentions`]); buckets complete by `until`.
pub async fn mention_spikes(
    wh: &Warehouse,
    symbol: Option<&str>,
    bucket_ns: i64,
    window: usize,
    threshold: f64,
    until: Timestamp,
) -> Result<Vec<MentionRow>> {
    use elite_store::datafusion::prelude::{col, lit};
    let filter = symbol.map(|s| col("symbol").eq(lit(s)));
    let mut by_symbol: std::collections::BTreeMap<String, Vec<Timestamp>> = Default::default();
    for b in wh
        .read(tables::SOCIAL_POSTS.name, At::Latest, filter)
        .await?
    {
        let (Some(sym), Some(tr)) = (strings(&b, "symbol"), times(&b, "ts_recv")) else {
            return Err(Error::Internal("social_posts: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            by_symbol
                .entry(sym.value(i).to_string())
                .or_default()
                .push(Timestamp::from_nanos(tr.value(i).saturating_mul(1000)));
        }
    }
    let mut out = vec![];
    for (s, ts) in by_symbol {
        for Bucket {
            start,
            count,
            median,
            mad,
            z,
            spike,
        } in spikes(&ts, bucket_ns, window, threshold, until)
        {
            out.push(MentionRow {
                symbol: s.clone(),
                bucket_start: start.to_string(),
                mentions: count,
                median,
                mad,
                z,
                spike,
            });
        }
    }
    Ok(out)
}
