//! News: any RSS 0.9x/1.0/2.0, Atom or JSON Feed (`feed-rs`), SEC EDGAR's Atom feeds, and
//! Yahoo's search API (`/v1/finance/search?q=…`, its `news[]`).
//!
//! An item's identity is its canonical URL (scheme, case, fragment, tracking parameters and a
//! trailing slash do not make a new article), else the feed's GUID, else the hash of its text.
//! The content hash (title + summary) tells a revised article from a re-fetch of the same one.
//! Provider tags are kept — Yahoo's `relatedTickers`, feed categories as `category:…`, an EDGAR
//! filer's CIK as `cik:0000320193` — and the ingest job maps them (and cashtags/names in the text) to
//! symbols through `instrument_aliases`.
//!
//! Items with neither title nor summary, or (Yahoo) without a publish time, are quarantined with
//! the reason. A feed item without any date gets `ts_event = None`: the job uses the time it was
//! received.

use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Which decoder a payload needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewsFormat {
    /// RSS, Atom or JSON Feed.
    Feed,
    /// An SEC EDGAR Atom feed (filings): the filer's CIK becomes a tag.
    Edgar,
    /// Yahoo's search response (`news[]`).
    Yahoo,
    /// NewsAPI `/v2/everything` or `/v2/top-headlines` (`articles[]`).
    NewsApi,
    /// Alpha Vantage `NEWS_SENTIMENT` (`feed[]`, tickers in `ticker_sentiment`).
    AlphaVantage,
}

impl NewsFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rss" | "atom" | "feed" => Ok(Self::Feed),
            "edgar" => Ok(Self::Edgar),
            "yahoo" => Ok(Self::Yahoo),
            "newsapi" => Ok(Self::NewsApi),
            "alphavantage" => Ok(Self::AlphaVantage),
            other => Err(Error::Options(format!(
                "unknown news format {other:?} (rss, atom, edgar, yahoo, newsapi or alphavantage)"
            ))),
        }
    }
}

/// One decoded news item (before tagging).
#[derive(Clone, Debug, PartialEq)]
pub struct NewsItem {
    /// Hex SHA-256 of the canonical URL, else of the GUID, else of the text.
    pub id: String,
    pub guid: Option<String>,
    /// The canonical URL.
    pub url: Option<String>,
    pub title: String,
    /// Plain text (HTML tags removed, whitespace collapsed).
    pub summary: Option<String>,
    pub publisher: Option<String>,
    /// A category: the form type for EDGAR, the feed's first category, Yahoo's `type`.
    pub category: Option<String>,
    /// When it was published (or last updated, when that is all the feed says).
    pub published: Option<Timestamp>,
    /// The provider's own tags (tickers, `cik:…`).
    pub tags: Vec<String>,
    pub content_hash: String,
    /// Where in the payload (`entry 3`, `news[1]`).
    pub location: String,
}

/// What a news payload decoded to.
#[derive(Debug, Default)]
pub struct DecodedNews {
    pub items: Vec<NewsItem>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

/// Hex SHA-256 of length-prefixed parts (identities and content hashes of text items).
pub fn sha_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    format!("{:x}", h.finalize())
}

const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "mc_cid",
    "mc_eid",
    "ncid",
    "cmpid",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
    "soc_src",
    "soc_trk",
    "ref",
    "rss",
    ".tsrc",
    "yptr",
];

/// The URL that identifies an article: https, lower-case host, no fragment, no tracking
/// parameters (`utm_*`, `fbclid`, …), no trailing slash on a non-root path. `None` for a string
/// that is not an absolute http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut u = url::Url::parse(raw.trim()).ok()?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return None;
    }
    u.set_fragment(None);
    if u.scheme() == "http" {
        u.set_scheme("https").ok()?;
    }
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    let path = u.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        u.set_path(path.trim_end_matches('/'));
    }
    let _ = u.set_port(None);
    Some(u.to_string())
}

/// Text of an HTML fragment: tags dropped, the five XML entities and numeric references decoded,
/// whitespace collapsed.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => out.push(c),
        }
    }
    let out = decode_entities(&out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

struct Raw<'a> {
    location: String,
    guid: Option<String>,
    link: Option<&'a str>,
    title: String,
    summary: Option<String>,
    publisher: Option<String>,
    category: Option<String>,
    published: Option<Timestamp>,
    tags: Vec<String>,
}

fn finish(raw: Raw<'_>, source: &str, now: Timestamp, out: &mut DecodedNews, payload: String) {
    out.rows_read += 1;
    let title = raw.title.trim().to_string();
    let summary = raw.summary.filter(|s| !s.is_empty());
    if title.is_empty() && summary.is_none() {
        out.quarantine.push(QuarantineRecord::new(
            source,
            "news",
            raw.location,
            "title: missing or empty, and no summary",
            payload,
            "text",
            now,
        ));
        return;
    }
    let url = raw.link.and_then(canonical_url);
    let content_hash = sha_hex(&[&title, summary.as_deref().unwrap_or("")]);
    let id = match (&url, &raw.guid) {
        (Some(u), _) => sha_hex(&["url", u]),
        (None, Some(g)) => sha_hex(&["guid", g]),
        (None, None) => sha_hex(&["text", &content_hash]),
    };
    out.items.push(NewsItem {
        id,
        guid: raw.guid,
        url,
        title,
        summary,
        publisher: raw.publisher,
        category: raw.category,
        published: raw.published,
        tags: raw.tags,
        content_hash,
        location: raw.location,
    });
}

/// EDGAR entry titles read `4 - Hinge Health, Inc. (0001673743) (Issuer)`: the CIK of an issuer
/// or filer (not of a reporting person) becomes the tag `cik:0001673743`.
fn edgar_tag(title: &str) -> Option<String> {
    let role = title.rsplit('(').next()?.trim_end_matches(')').trim();
    if !matches!(role, "Issuer" | "Filer" | "Subject" | "Filed by") {
        return None;
    }
    let mut parts = title.rsplit('(');
    parts.next();
    let cik = parts.next()?.trim().trim_end_matches(')');
    (cik.len() == 10 && cik.bytes().all(|b| b.is_ascii_digit())).then(|| format!("cik:{cik}"))
}

fn decode_feed(bytes: &[u8], edgar: bool, source: &str, now: Timestamp) -> Result<DecodedNews> {
    // Missing ids stay empty (feed-rs would invent a random UUID): identity is ours to derive.
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser.parse(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not an RSS/Atom/JSON feed: {e}"),
    })?;
    let publisher = feed.title.as_ref().map(|t| plain_text(&t.content));
    let mut out = DecodedNews::default();
    for (i, e) in feed.entries.iter().enumerate() {
        let title = e
            .title
            .as_ref()
            .map(|t| plain_text(&t.content))
            .unwrap_or_default();
        let summary = e
            .summary
            .as_ref()
            .map(|t| plain_text(&t.content))
            .or_else(|| {
                e.content
                    .as_ref()
                    .and_then(|c| c.body.as_deref())
                    .map(plain_text)
            });
        let link = e
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or(e.links.first())
            .map(|l| l.href.as_str());
        let mut tags: Vec<String> = if edgar {
            edgar_tag(&title).into_iter().collect()
        } else {
            e.categories
                .iter()
                .map(|c| format!("category:{}", c.term))
                .collect()
        };
        tags.dedup();
        let published = e
            .published
            .or(e.updated)
            .and_then(|d| Timestamp::from_datetime(&d));
        let payload = format!("{title} | {}", link.unwrap_or(""));
        finish(
            Raw {
                location: format!("entry {}", i + 1),
                guid: (!e.id.is_empty()).then(|| e.id.clone()),
                link,
                title,
                summary,
                publisher: e.source.clone().or_else(|| publisher.clone()),
                category: e.categories.first().map(|c| c.term.clone()),
                published,
                tags,
            },
            source,
            now,
            &mut out,
            payload,
        );
    }
    Ok(out)
}

#[derive(Deserialize)]
struct YahooSearch {
    #[serde(default)]
    news: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct YahooNews {
    uuid: Option<String>,
    title: Option<String>,
    publisher: Option<String>,
    link: Option<String>,
    provider_publish_time: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    related_tickers: Vec<String>,
}

fn decode_yahoo(bytes: &[u8], source: &str, now: Timestamp) -> Result<DecodedNews> {
    let env: YahooSearch = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not a Yahoo search response: {e}"),
    })?;
    let mut out = DecodedNews::default();
    for (i, v) in env.news.into_iter().enumerate() {
        let location = format!("news[{i}]");
        let raw = v.to_string();
        let refuse = |out: &mut DecodedNews, reason: String| {
            out.rows_read += 1;
            out.quarantine.push(QuarantineRecord::new(
                source,
                "news",
                location.clone(),
                reason,
                raw.clone(),
                "json",
                now,
            ));
        };
        let n: YahooNews = match serde_json::from_value(v) {
            Ok(n) => n,
            Err(e) => {
                refuse(&mut out, format!("bad field: {e}"));
                continue;
            }
        };
        let published = match &n.provider_publish_time {
            None => Err("missing".to_string()),
            Some(t) => t
                .as_i64()
                .and_then(Timestamp::from_secs)
                .ok_or_else(|| format!("{t} is not epoch seconds")),
        };
        let published = match published {
            Ok(p) => p,
            Err(why) => {
                refuse(&mut out, format!("providerPublishTime: {why}"));
                continue;
            }
        };
        finish(
            Raw {
                location: location.clone(),
                guid: n.uuid,
                link: n.link.as_deref(),
                title: n.title.map(|t| plain_text(&t)).unwrap_or_default(),
                summary: None,
                publisher: n.publisher,
                category: n.kind,
                published: Some(published),
                tags: n.related_tickers,
            },
            source,
            now,
            &mut out,
            raw.clone(),
        );
    }
    Ok(out)
}

/// Decode one news payload.
pub fn decode_news(
    bytes: &[u8],
    format: NewsFormat,
    source: &str,
    clock: &dyn Clock,
) -> Result<DecodedNews> {
    let now = clock.now();
    match format {
        NewsFormat::Feed => decode_feed(bytes, false, source, now),
        NewsFormat::Edgar => decode_feed(bytes, true, source, now),
        NewsFormat::Yahoo => decode_yahoo(bytes, source, now),
        NewsFormat::NewsApi | NewsFormat::AlphaVantage => decode_api(bytes, format, source, now),
    }
}

/// NewsAPI `articles[]` (`publishedAt` RFC 3339) or Alpha Vantage `feed[]` (`time_published`
/// `YYYYMMDDTHHMMSS`, which its documentation does not place in a zone: read as New York time,
/// the later of the two readings, so an item is never dated before it could have appeared).
fn decode_api(
    bytes: &[u8],
    format: NewsFormat,
    source: &str,
    now: Timestamp,
) -> Result<DecodedNews> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let (list_key, name) = match format {
        NewsFormat::NewsApi => ("articles", "newsapi"),
        _ => ("feed", "alphavantage"),
    };
    let Some(list) = v.get(list_key).and_then(serde_json::Value::as_array) else {
        let message = ["message", "Information", "Note", "Error Message"]
            .iter()
            .find_map(|k| v.get(*k).and_then(serde_json::Value::as_str))
            .unwrap_or("no articles in the response")
            .to_string();
        return Err(Error::Api {
            source_name: name,
            status: None,
            message,
        });
    };
    let mut out = DecodedNews::default();
    for (i, a) in list.iter().enumerate() {
        let location = format!("{list_key}[{i}]");
        let s = |k: &str| {
            a.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        };
        let (time_key, published) = match format {
            NewsFormat::NewsApi => (
                "publishedAt",
                s("publishedAt").and_then(|t| Timestamp::parse_rfc3339(&t).ok()),
            ),
            _ => (
                "time_published",
                s("time_published")
                    .and_then(|t| chrono::NaiveDateTime::parse_from_str(&t, "%Y%m%dT%H%M%S").ok())
                    .and_then(|t| {
                        use chrono::TimeZone;
                        chrono_tz::America::New_York
                            .from_local_datetime(&t)
                            .latest()
                    })
                    .and_then(|t| Timestamp::from_datetime(&t)),
            ),
        };
        let Some(published) = published else {
            out.rows_read += 1;
            out.quarantine.push(QuarantineRecord::new(
                source,
                "news",
                location,
                format!("{time_key}: missing or not a time"),
                a.to_string(),
                "json",
                now,
            ));
            continue;
        };
        let (summary, publisher, tags) = match format {
            NewsFormat::NewsApi => (
                s("description"),
                a.pointer("/source/name")
                    .and_then(|x| x.as_str())
                    .map(str::to_string),
                vec![],
            ),
            _ => (
                s("summary"),
                s("source"),
                a.get("ticker_sentiment")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("ticker").and_then(|x| x.as_str()).map(str::to_string))
                    .collect(),
            ),
        };
        let link = s("url");
        finish(
            Raw {
                location,
                guid: None,
                link: link.as_deref(),
                title: s("title").map(|t| plain_text(&t)).unwrap_or_default(),
                summary: summary.map(|t| plain_text(&t)),
                publisher,
                category: s("category_within_source"),
                published: Some(published),
                tags,
            },
            source,
            now,
            &mut out,
            a.to_string(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls_ignore_scheme_case_fragments_and_tracking() {
        let want = Some("https://example.com/a/b?id=7".to_string());
        assert_eq!(
            canonical_url("http://Example.COM/a/b/?id=7&utm_source=x#top"),
            want
        );
        assert_eq!(
            canonical_url("https://example.com:443/a/b?utm_medium=rss&id=7"),
            want
        );
        assert_eq!(canonical_url("urn:tag:sec.gov,2008:x"), None);
        assert_eq!(
            canonical_url("https://example.com/"),
            Some("https://example.com/".into())
        );
    }

    #[test]
    fn plain_text_drops_tags_and_decodes_entities() {
        assert_eq!(
            plain_text(" <b>Filed:</b> 2025-12-12 &amp; <i>AccNo:</i>&#32;1 &unknown; &#x41;"),
            "Filed: 2025-12-12 & AccNo: 1 &unknown; A"
        );
    }

    #[test]
    fn edgar_tags_issuers_not_reporting_people() {
        assert_eq!(
            edgar_tag("4 - Hinge Health, Inc. (0001673743) (Issuer)"),
            Some("cik:0001673743".into())
        );
        assert_eq!(
            edgar_tag("4 - Perez Daniel Antonio (0002063236) (Reporting)"),
            None
        );
        assert_eq!(edgar_tag("garbage"), None);
    }
}
