//! Option chains (Yahoo v7, Upstox's put/call chain) into `options_chain`: one row per contract
//! per snapshot, with the provider's delta (Upstox) or the Black-Scholes delta (zero rates) from
//! the quoted implied volatility (Yahoo), so skew and put/call measures are SQL
//! (`options_summary`, `options_history`).

use elite_collectors::Decoded;
use elite_collectors::options::{self, DecodedChain};
use elite_pipelines::options::bs_delta;
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};

use crate::Result;
use crate::alt::year;
use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;

const YEAR_NS: f64 = 365.0 * 86_400e9;

impl Ingestor {
    /// Land one options response — Yahoo v7, or with `upstox` Upstox's put/call option chain;
    /// `fetched_at` dates a saved response (default now).
    pub async fn ingest_options_body(
        &self,
        source: &str,
        body: &[u8],
        fetched_at: Option<Timestamp>,
        upstox: bool,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        // (Yahoo's hash as before this option existed: its re-ingests stay no-ops.)
        let options = if upstox {
            format!("{fetched_at:?}|upstox")
        } else {
            format!("{fetched_at:?}")
        };
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::OPTIONS_CHAIN.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let DecodedChain {
            underlying,
            underlying_price,
            as_of,
            quotes,
            quarantine,
            rows_read,
        } = if upstox {
            options::decode_upstox_chain(body, source, self.clock())?
        } else {
            options::decode_chain(body, source, self.clock())?
        };
        let known = Timestamp::from_nanos(fetched_at.unwrap_or(now).as_nanos().min(now.as_nanos()));
        let ts_event = as_of.unwrap_or(known);
        let ts_recv = if known < ts_event { ts_event } else { known };
        let mut b = RowsBuilder::new(&tables::OPTIONS_CHAIN);
        for q in &quotes {
            let t = (q.expiry.as_nanos() - ts_event.as_nanos()) as f64 / YEAR_NS;
            let delta = match (q.delta, underlying_price, q.implied_vol) {
                (Some(d), _, _) => Some(d),
                (None, Some(s), Some(v)) => bs_delta(s, q.strike, t, v, q.option_type == "call"),
                _ => None,
            };
            b.row()
                .str(&underlying)
                .str(&q.contract)
                .ts(ts_event)
                .ts(ts_recv)
                .str(q.option_type)
                .f64(q.strike)
                .ts(q.expiry)
                .opt_f64(q.bid)
                .opt_f64(q.ask)
                .opt_f64(q.last)
                .opt_f64(q.volume)
                .opt_f64(q.open_interest)
                .opt_f64(q.implied_vol)
                .opt_f64(delta)
                .opt_bool(q.in_the_money)
                .opt_ts(q.last_trade)
                .opt_f64(underlying_price)
                .str(source)
                .i32(year(ts_event))
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(
            source,
            &content_hash,
            &tables::OPTIONS_CHAIN,
            decoded,
            reporter,
        )
        .await
    }
}
