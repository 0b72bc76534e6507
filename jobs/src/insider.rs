//! SEC Forms 3/4/5 into `insider_trades`, one row per reported transaction or holding.
//!
//! `ts_recv` is when the filing was public (the submission's acceptance time, else the end of
//! its filing day in New York); a bare XML document says neither, so it is the time of ingest.
//! The issuer's trading symbol is the row's symbol; a filing without one is tagged through a
//! `cik` alias, else lands with `symbol = ''`.

use elite_collectors::Decoded;
use elite_collectors::insider::{self, DecodedFiling, Filing};
use elite_text::tagging::Tagger;
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};

use crate::Result;
use crate::alt::{load_aliases, year};
use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;

impl Ingestor {
    /// Land one filing (bare XML, or an EDGAR `.txt`/`.nc` submission).
    pub async fn ingest_insider_body(
        &self,
        source: &str,
        body: &[u8],
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let content_hash = hash(&[body]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::INSIDER_TRADES.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let DecodedFiling {
            filing: f,
            quarantine,
            rows_read,
        } = insider::decode_filing(body, source, self.clock())?;
        let aliases = load_aliases(self.warehouse()).await?;
        let ts_recv = Timestamp::from_nanos(f.filed.unwrap_or(now).as_nanos().min(now.as_nanos()));
        let mut b = RowsBuilder::new(&tables::INSIDER_TRADES);
        push_filing(&mut b, &f, &aliases, ts_recv, source);
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(
            source,
            &content_hash,
            &tables::INSIDER_TRADES,
            decoded,
            reporter,
        )
        .await
    }

    /// Land one Yahoo `insiderTransactions` response for `symbol`; `fetched_at` dates a saved
    /// response (default now), which is when its rows were known.
    pub async fn ingest_yahoo_insider_body(
        &self,
        source: &str,
        body: &[u8],
        symbol: &str,
        fetched_at: Option<Timestamp>,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("yahoo|{symbol}|{fetched_at:?}");
        let symbol = symbol.trim().to_uppercase();
        self.ingest_filings(source, body, &options, fetched_at, reporter, |body| {
            insider::decode_yahoo_insider(body, &symbol, source, self.clock())
        })
        .await
    }

    /// Land one NSE insider-trading disclosure file (the `corporates-pit` JSON or its CSV).
    /// `ts_recv` is each disclosure's broadcast time, else `fetched_at`, else now.
    pub async fn ingest_nse_insider_body(
        &self,
        source: &str,
        body: &[u8],
        fetched_at: Option<Timestamp>,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("nse|{fetched_at:?}");
        self.ingest_filings(source, body, &options, fetched_at, reporter, |body| {
            elite_collectors::insider_nse::decode_nse_insider(body, source, self.clock())
        })
        .await
    }

    /// Land a file of many one-record filings (Yahoo summaries, NSE disclosures): each known
    /// from its own publication time when it has one, else `fetched_at`, else now (never later
    /// than now). A file already landed with the same `options` is skipped.
    async fn ingest_filings(
        &self,
        source: &str,
        body: &[u8],
        options: &str,
        fetched_at: Option<Timestamp>,
        reporter: &dyn Reporter,
        decode: impl FnOnce(
            &[u8],
        ) -> elite_collectors::Result<
            Vec<(Filing, Vec<elite_warehouse::QuarantineRecord>)>,
        >,
    ) -> Result<IngestReport> {
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::INSIDER_TRADES.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now().as_nanos();
        let fallback = fetched_at.map_or(now, |t| t.as_nanos()).min(now);
        let decoded = decode(body)?;
        let rows_read = decoded.len();
        let mut b = RowsBuilder::new(&tables::INSIDER_TRADES);
        let mut quarantine = vec![];
        for (f, q) in decoded {
            quarantine.extend(q);
            let ts_recv = f.filed.map_or(fallback, |t| t.as_nanos()).min(now);
            push_filing(&mut b, &f, &[], Timestamp::from_nanos(ts_recv), source);
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(
            source,
            &content_hash,
            &tables::INSIDER_TRADES,
            decoded,
            reporter,
        )
        .await
    }
}

/// One row per transaction/holding of `f`; a filing without a trading symbol is tagged through
/// a `cik` alias.
fn push_filing(
    b: &mut RowsBuilder,
    f: &Filing,
    aliases: &[elite_text::tagging::Alias],
    ts_recv: Timestamp,
    source: &str,
) {
    let symbol = match &f.symbol {
        Some(s) => s.trim().to_uppercase(),
        None => Tagger::new(aliases)
            .tag(&[format!("cik:{}", f.issuer_cik)], "")
            .into_iter()
            .next()
            .map(|t| t.symbol)
            .unwrap_or_default(),
    };
    for r in &f.rows {
        b.row()
            .str(&f.accession)
            .str(&f.owner_cik)
            .str(&r.location)
            .str(&symbol)
            .ts(r.ts_event)
            .ts(ts_recv)
            .str(&f.form)
            .str(&f.issuer_cik)
            .opt_str(f.issuer_name.as_deref())
            .str(&f.owner_names)
            .bool(f.is_director)
            .bool(f.is_officer)
            .bool(f.is_ten_percent_owner)
            .bool(f.is_other)
            .opt_str(f.officer_title.as_deref())
            .bool(r.derivative)
            .str(r.row_kind)
            .opt_str(r.security.as_deref())
            .opt_str(r.code.as_deref())
            .opt_str(r.acquired_disposed.as_deref())
            .opt_f64(r.shares)
            .opt_f64(r.price)
            .opt_f64(r.shares_after)
            .opt_str(r.ownership.as_deref())
            .opt_f64(r.exercise_price)
            .opt_f64(r.underlying_shares)
            .opt_str(r.footnotes.as_deref())
            .str(source)
            .i32(year(r.ts_event))
            .end();
    }
}

/// The open-market insider trades (non-derivative transactions coded P or S, with shares) of
/// `symbols`, as the `insider` features read them.
pub async fn read_insider_events(
    wh: &elite_store::Warehouse,
    symbols: &[String],
) -> Result<std::collections::HashMap<String, Vec<elite_pipelines::insider::InsiderEvent>>> {
    use arrow::array::{Array, AsArray};
    use elite_pipelines::insider::InsiderEvent;
    use elite_store::datafusion::prelude::{col, lit};
    let filter = crate::alt::symbols_filter(symbols)
        .and(col("derivative").eq(lit(false)))
        .and(col("row_kind").eq(lit("transaction")))
        .and(col("code").in_list(vec![lit("P"), lit("S")], false));
    let mut out: std::collections::HashMap<String, Vec<InsiderEvent>> = Default::default();
    for b in wh
        .read(
            tables::INSIDER_TRADES.name,
            elite_store::At::Latest,
            Some(filter),
        )
        .await?
    {
        let flags = |name: &str| b.column_by_name(name).map(|c| c.as_boolean().clone());
        let (Some(sym), Some(code), Some(te), Some(tr), Some(officer), Some(director), Some(owner)) = (
            crate::alt::strings(&b, "symbol"),
            crate::alt::strings(&b, "code"),
            crate::alt::times(&b, "ts_event"),
            crate::alt::times(&b, "ts_recv"),
            flags("is_officer"),
            flags("is_director"),
            flags("is_ten_percent_owner"),
        ) else {
            return Err(crate::Error::Internal(
                "insider_trades: a column is missing".into(),
            ));
        };
        let Some(shares) = b
            .column_by_name("shares")
            .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone())
        else {
            return Err(crate::Error::Internal(
                "insider_trades: shares is missing".into(),
            ));
        };
        for i in 0..b.num_rows() {
            if shares.is_null(i) {
                continue;
            }
            let ts = |us: i64| Timestamp::from_nanos(us.saturating_mul(1000));
            out.entry(sym.value(i).to_string())
                .or_default()
                .push(InsiderEvent {
                    ts_event: ts(te.value(i)),
                    ts_recv: ts(tr.value(i)),
                    buy: code.value(i) == "P",
                    shares: shares.value(i),
                    officer: officer.value(i),
                    director: director.value(i),
                    owner: owner.value(i),
                });
        }
    }
    // A deterministic order whatever the files' order (the features sort by publication).
    for v in out.values_mut() {
        v.sort_by(|a, b| {
            (a.ts_recv, a.ts_event, a.buy)
                .cmp(&(b.ts_recv, b.ts_event, b.buy))
                .then(a.shares.total_cmp(&b.shares))
        });
    }
    Ok(out)
}
