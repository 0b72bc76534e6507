//! News decoders on recorded payloads (EDGAR Atom, Yahoo search) and the RSS 2.0 spec's sample;
//! expected values read off the payloads by hand.

use elite_collectors::news::{NewsFormat, decode_news};
use elite_warehouse::{FixedClock, Timestamp};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/news/{name}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ))
    .unwrap()
}

fn clock() -> FixedClock {
    FixedClock(Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap())
}

#[test]
fn edgar_atom_feed_in_iso_8859_1() {
    let d = decode_news(
        &fixture("sec_edgar_getcurrent_form4_atom_start0.xml"),
        NewsFormat::Edgar,
        "news:edgar",
        &clock(),
    )
    .unwrap();
    assert_eq!(
        (d.rows_read, d.items.len(), d.quarantine.len()),
        (100, 100, 0)
    );
    let first = &d.items[0];
    assert_eq!(
        first.title,
        "4 - Perez Daniel Antonio (0002063236) (Reporting)"
    );
    assert_eq!(
        first.url.as_deref(),
        Some(
            "https://www.sec.gov/Archives/edgar/data/2063236/000206323625000004/0002063236-25-000004-index.htm"
        )
    );
    assert_eq!(
        first.guid.as_deref(),
        Some("urn:tag:sec.gov,2008:accession-number=0002063236-25-000004")
    );
    assert_eq!(first.category.as_deref(), Some("4"));
    assert_eq!(
        first.summary.as_deref(),
        Some("Filed: 2025-12-12 AccNo: 0002063236-25-000004 Size: 10 KB")
    );
    // <updated>2025-12-12T18:02:43-05:00</updated>
    assert_eq!(first.published.unwrap().to_string(), "2025-12-12T23:02:43Z");
    assert!(first.tags.is_empty(), "a reporting person is not a company");
    assert_eq!(d.items[1].tags, ["cik:0001673743"]);
    // 46 entries name an issuer, 54 a reporting owner.
    assert_eq!(d.items.iter().filter(|i| !i.tags.is_empty()).count(), 46);
    let ids: std::collections::HashSet<_> = d.items.iter().map(|i| &i.id).collect();
    assert_eq!(
        ids.len(),
        100,
        "issuer and owner entries of one filing have their own links"
    );
}

#[test]
fn yahoo_search_news_with_related_tickers() {
    let d = decode_news(
        &fixture("yahoo_search_AAPL.json"),
        NewsFormat::Yahoo,
        "news:yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (4, 4, 0));
    let i = &d.items[0];
    assert_eq!(
        i.title,
        "Why Trump could 'move fast' on Apple's $500B US investment plan"
    );
    assert_eq!(i.publisher.as_deref(), Some("Yahoo Finance Video"));
    assert_eq!(i.category.as_deref(), Some("VIDEO"));
    assert_eq!(i.published.unwrap().to_string(), "2025-02-25T00:20:00Z"); // 1740442800
    assert_eq!(i.tags, ["AAPL"]);
    assert_eq!(d.items[3].tags, ["BRK-B"]);
    assert_eq!(
        i.guid.as_deref(),
        Some("57ea9c09-0c99-3adf-9062-fecfdbe472cc")
    );
}

#[test]
fn yahoo_items_without_a_publish_time_are_quarantined() {
    let body = fixture("yahoo_search_AAPL.json");
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["news"][2]
        .as_object_mut()
        .unwrap()
        .remove("providerPublishTime");
    v["news"][3]["providerPublishTime"] = serde_json::json!("yesterday");
    let d = decode_news(
        &serde_json::to_vec(&v).unwrap(),
        NewsFormat::Yahoo,
        "news:yahoo",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (4, 2, 2));
    assert_eq!(d.quarantine[0].location, "news[2]");
    assert!(
        d.quarantine[0].reason.contains("providerPublishTime"),
        "{:?}",
        d.quarantine[0]
    );
    assert_eq!(d.quarantine[1].location, "news[3]");
    assert!(
        d.quarantine[1].reason.contains("providerPublishTime"),
        "{:?}",
        d.quarantine[1]
    );
    assert!(!d.quarantine[1].raw.is_empty());
}

#[test]
fn rss2_spec_sample() {
    let d = decode_news(
        &fixture("rss2_spec_sample.xml"),
        NewsFormat::Feed,
        "news:liftoff",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (4, 4, 0));
    let i = &d.items[0];
    assert_eq!(i.title, "Star City");
    assert_eq!(i.publisher.as_deref(), Some("Liftoff News"));
    assert_eq!(
        i.url.as_deref(),
        Some("https://liftoff.msfc.nasa.gov/news/2003/news-starcity.asp")
    );
    assert_eq!(i.published.unwrap().to_string(), "2003-06-03T09:39:21Z");
    assert!(
        i.summary
            .as_deref()
            .unwrap()
            .ends_with("at Russia's Star City .")
    );
    // The second item has only a description: kept, identified by its GUID.
    assert_eq!(d.items[1].title, "");
    assert!(d.items[1].url.is_none());
    assert_eq!(
        d.items[1].guid.as_deref(),
        Some("http://liftoff.msfc.nasa.gov/2003/05/30.html#item572")
    );
}

#[test]
fn bad_and_duplicate_feed_items() {
    let d = decode_news(
        &fixture("rss2_bad_items.xml"),
        NewsFormat::Feed,
        "news:bad",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (5, 4, 1));
    assert_eq!(d.quarantine[0].location, "entry 2");
    assert!(
        d.quarantine[0].reason.starts_with("title"),
        "{:?}",
        d.quarantine[0]
    );
    // The tracked link and the canonical one are the same article, same content: same identity.
    assert_eq!(
        d.items[0].url.as_deref(),
        Some("https://example.com/news/acme-beats")
    );
    assert_eq!(d.items[0].id, d.items[1].id);
    assert_eq!(d.items[0].content_hash, d.items[1].content_hash);
    assert_eq!(
        d.items[0].summary.as_deref(),
        Some("Acme Corp reported record profit.")
    );
    assert_eq!(d.items[0].tags, ["category:Earnings"]);
    assert!(
        d.items[3].published.is_none(),
        "an undated item stays undated"
    );
    assert!(decode_news(b"<html>not a feed", NewsFormat::Feed, "news:x", &clock()).is_err());
}

#[test]
fn newsapi_articles_in_the_documented_shape() {
    let d = decode_news(
        &fixture("newsapi_everything_sample.json"),
        NewsFormat::NewsApi,
        "news:newsapi",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (3, 2, 1));
    let a = &d.items[0];
    assert_eq!(a.publisher.as_deref(), Some("Reuters"));
    assert_eq!(
        a.url.as_deref(),
        Some("https://www.example.com/apple-beats")
    );
    assert_eq!(
        a.summary.as_deref(),
        Some("Apple Inc reported record revenue & raised its dividend.")
    );
    assert_eq!(a.published.unwrap().to_string(), "2024-05-02T20:35:00Z");
    assert_eq!(d.quarantine[0].location, "articles[2]");
    assert!(d.quarantine[0].reason.starts_with("publishedAt"));
    let err = decode_news(
        br#"{"status":"error","code":"apiKeyInvalid","message":"Your API key is invalid."}"#,
        NewsFormat::NewsApi,
        "news:newsapi",
        &clock(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("Your API key is invalid"), "{err}");
}

#[test]
fn alpha_vantage_feed_with_ticker_tags_in_new_york_time() {
    let d = decode_news(
        &fixture("alphavantage_news_sentiment_sample.json"),
        NewsFormat::AlphaVantage,
        "news:av",
        &clock(),
    )
    .unwrap();
    assert_eq!((d.rows_read, d.items.len(), d.quarantine.len()), (2, 2, 0));
    assert_eq!(d.items[0].tags, ["MSFT", "GOOG"]);
    // 20240115T093000 read as New York time (EST, UTC−5).
    assert_eq!(
        d.items[0].published.unwrap().to_string(),
        "2024-01-15T14:30:00Z"
    );
    assert_eq!(d.items[0].category.as_deref(), Some("Technology"));
    assert!(d.items[1].tags.is_empty());
    let err = decode_news(
        br#"{"Information":"The **demo** API key is for demo purposes only."}"#,
        NewsFormat::AlphaVantage,
        "news:av",
        &clock(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("demo"), "{err}");
}
