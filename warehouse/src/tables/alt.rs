//! Alternative data: news, the sentiment of text, and the aliases that map names to symbols.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Schema};

use super::{TableSpec, f, ts};

/// News items, one row per (item, revision, symbol): an untagged item has `symbol = ''`.
pub static NEWS: TableSpec = TableSpec {
    name: "news",
    description: "news items (feeds, EDGAR, Yahoo) one row per item revision and symbol ('' = untagged); ts_event = published, ts_recv = when Elite had it (or published + the stated backfill delay)",
    // The canonical URL/GUID hash and the content hash: a re-fetch adds nothing, an edited
    // article is a new row with its own ts_recv.
    key: &["id", "content_hash", "symbol"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("source", DataType::Utf8, false),
            f("publisher", DataType::Utf8, true),
            f("category", DataType::Utf8, true),
            f("title", DataType::Utf8, false),
            f("summary", DataType::Utf8, true),
            f("url", DataType::Utf8, true),
            f("guid", DataType::Utf8, true),
            f("content_hash", DataType::Utf8, false),
            f("tagged_by", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Scores of text items by a scorer version.
pub static SENTIMENT: TableSpec = TableSpec {
    name: "sentiment",
    description: "sentiment of each text item revision per scorer version; ts_recv = the item's (the scorers are deterministic)",
    key: &["item_table", "item_id", "content_hash", "symbol", "version"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("item_table", DataType::Utf8, false),
            f("item_id", DataType::Utf8, false),
            f("content_hash", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("scorer", DataType::Utf8, false),
            f("version", DataType::Utf8, false),
            f("score", DataType::Float64, false),
            f("label", DataType::Utf8, false),
            f("detail", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Names, tickers, cashtags, CIKs and ISINs of each symbol.
pub static INSTRUMENT_ALIASES: TableSpec = TableSpec {
    name: "instrument_aliases",
    description: "aliases of symbols (kind: ticker, cashtag, name, cik, isin) used to tag news and posts",
    key: &["alias", "kind", "symbol"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("alias", DataType::Utf8, false),
            f("kind", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("source", DataType::Utf8, false),
        ]))
    }),
};

/// Social posts and comments (Reddit, X), one row per post revision and symbol ('' = untagged).
pub static SOCIAL_POSTS: TableSpec = TableSpec {
    name: "social_posts",
    description: "Reddit posts/comments and X posts, one row per post revision and symbol ('' = untagged); ts_event = created, ts_recv = when Elite had it (or created + the backfill delay)",
    key: &["id", "content_hash", "symbol"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("platform", DataType::Utf8, false),
            f("community", DataType::Utf8, true),
            f("author", DataType::Utf8, true),
            f("title", DataType::Utf8, true),
            f("text", DataType::Utf8, false),
            f("score", DataType::Float64, true),
            f("replies", DataType::Float64, true),
            f("url", DataType::Utf8, true),
            f("content_hash", DataType::Utf8, false),
            f("tagged_by", DataType::Utf8, false),
            f("source", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Macro-economic series, one row per (series, period, vintage).
pub static MACRO_SERIES: TableSpec = TableSpec {
    name: "macro_series",
    description: "macro series (FRED, CSV exports): ts_event = period start, ts_recv = when the value was published (the vintage), so revisions are never seen early",
    key: &["series", "ts_event", "ts_recv"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("series", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("value", DataType::Float64, false),
            f("vintage", DataType::Utf8, true),
            f("source", DataType::Utf8, false),
        ]))
    }),
};

/// SEC Forms 3/4/5: one row per reported transaction or holding, derivative or not.
pub static INSIDER_TRADES: TableSpec = TableSpec {
    name: "insider_trades",
    description: "insider filings (SEC Forms 3/4/5): one row per transaction or holding, with the owner's roles, code, shares, price and cited footnotes; ts_event = transaction date, ts_recv = when the filing was public",
    key: &["accession", "owner_cik", "row"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("accession", DataType::Utf8, false),
            f("owner_cik", DataType::Utf8, false),
            f("row", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("form", DataType::Utf8, false),
            f("issuer_cik", DataType::Utf8, false),
            f("issuer_name", DataType::Utf8, true),
            f("owner_names", DataType::Utf8, false),
            f("is_director", DataType::Boolean, false),
            f("is_officer", DataType::Boolean, false),
            f("is_ten_percent_owner", DataType::Boolean, false),
            f("is_other", DataType::Boolean, false),
            f("officer_title", DataType::Utf8, true),
            f("derivative", DataType::Boolean, false),
            f("row_kind", DataType::Utf8, false),
            f("security", DataType::Utf8, true),
            f("code", DataType::Utf8, true),
            f("acquired_disposed", DataType::Utf8, true),
            f("shares", DataType::Float64, true),
            f("price", DataType::Float64, true),
            f("shares_after", DataType::Float64, true),
            f("ownership", DataType::Utf8, true),
            f("exercise_price", DataType::Float64, true),
            f("underlying_shares", DataType::Float64, true),
            f("footnotes", DataType::Utf8, true),
            f("source", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Earnings: announcements scheduled and quarters reported.
pub static EARNINGS: TableSpec = TableSpec {
    name: "earnings",
    description: "earnings (Yahoo calendarEvents/earningsHistory): kind scheduled (ts_event = expected announcement) or reported (ts_event = quarter end), EPS estimate/actual/surprise; ts_recv = when it was known",
    key: &["symbol", "kind", "ts_event"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("kind", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            ts("period_end", true),
            ts("announce_start", true),
            ts("announce_end", true),
            f("date_is_estimate", DataType::Boolean, true),
            f("eps_estimate", DataType::Float64, true),
            f("eps_actual", DataType::Float64, true),
            f("eps_surprise", DataType::Float64, true),
            f("surprise_pct", DataType::Float64, true),
            f("revenue_estimate", DataType::Float64, true),
            f("source", DataType::Utf8, false),
        ]))
    }),
};

/// Option chain snapshots: one row per contract per snapshot.
pub static OPTIONS_CHAIN: TableSpec = TableSpec {
    name: "options_chain",
    description: "option chain snapshots (Yahoo v7): one row per contract per snapshot with bid/ask/last, volume, open interest, implied volatility and Black-Scholes delta (zero rates); ts_event = the snapshot's quote time, ts_recv = when fetched",
    key: &["contract", "ts_event"],
    partition_by: &["year"],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("contract", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("option_type", DataType::Utf8, false),
            f("strike", DataType::Float64, false),
            ts("expiry", false),
            f("bid", DataType::Float64, true),
            f("ask", DataType::Float64, true),
            f("last", DataType::Float64, true),
            f("volume", DataType::Float64, true),
            f("open_interest", DataType::Float64, true),
            f("implied_vol", DataType::Float64, true),
            f("delta", DataType::Float64, true),
            f("in_the_money", DataType::Boolean, true),
            ts("last_trade", true),
            f("underlying_price", DataType::Float64, true),
            f("source", DataType::Utf8, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Event-study results: the abnormal return after each scored news item.
pub static NEWS_IMPACT: TableSpec = TableSpec {
    name: "news_impact",
    description: "market-model abnormal returns after each scored news item (elite sentiment impact): ts_event = day 0, ts_recv = when day `post` closed",
    key: &["item_id", "symbol", "version", "params"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("item_id", DataType::Utf8, false),
            f("symbol", DataType::Utf8, false),
            f("version", DataType::Utf8, false),
            f("params", DataType::Utf8, false),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("score", DataType::Float64, false),
            f("label", DataType::Utf8, false),
            f("alpha", DataType::Float64, false),
            f("beta", DataType::Float64, false),
            f("ar0", DataType::Float64, false),
            f("car", DataType::Float64, false),
            f("sigma", DataType::Float64, false),
            f("year", DataType::Int32, false),
        ]))
    }),
};

/// Exchange contract rules per instrument, point in time.
pub static CONTRACTS: TableSpec = TableSpec {
    name: "contracts",
    description: "trading rules per instrument from a broker's instrument master (Upstox BOD JSON or option-contract API): lot size, tick size in rupees, freeze quantity, expiry, strike; ts_event = the master's date (rules valid from), ts_recv = when fetched; the trade-runner's [contracts] applies the newest known row",
    key: &["symbol", "ts_event", "source"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("trading_symbol", DataType::Utf8, true),
            f("name", DataType::Utf8, true),
            f("exchange", DataType::Utf8, true),
            f("segment", DataType::Utf8, true),
            f("instrument_type", DataType::Utf8, true),
            f("isin", DataType::Utf8, true),
            f("lot_size", DataType::Int64, false),
            f("tick_size", DataType::Float64, false),
            f("freeze_quantity", DataType::Float64, true),
            ts("expiry", true),
            f("strike", DataType::Float64, true),
            f("underlying_key", DataType::Utf8, true),
            f("weekly", DataType::Boolean, true),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("source", DataType::Utf8, false),
        ]))
    }),
};

/// Exchange circuit limits per instrument and trading day, from broker quotes.
pub static CIRCUIT_LIMITS: TableSpec = TableSpec {
    name: "circuit_limits",
    description: "the exchange's price band per instrument and trading day from Upstox full market quotes (lower/upper_circuit_limit): ts_event = 00:00 IST of the trading day, ts_recv = the quote's time (else the fetch); the trade-runner's [contracts] refuses prices outside the newest known band of the day",
    key: &["symbol", "ts_event", "ts_recv"],
    partition_by: &[],
    schema: LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            f("symbol", DataType::Utf8, false),
            f("trading_symbol", DataType::Utf8, true),
            ts("ts_event", false),
            ts("ts_recv", false),
            f("lower_circuit_limit", DataType::Float64, false),
            f("upper_circuit_limit", DataType::Float64, false),
            f("last_price", DataType::Float64, true),
            f("source", DataType::Utf8, false),
        ]))
    }),
};
