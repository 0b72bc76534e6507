//! Exchange contract rules (Upstox's instrument master) into `contracts`, and back out for the
//! trade-runner's `[contracts]`.
//!
//! A master is dated: its rows hold from `ts_event` (`--as-of`, default the day it was fetched)
//! and were known at `ts_recv` (`--fetched-at` for a saved file, else now; never later than now).
//! The key is (symbol, ts_event, source): one row per instrument per master date, so a lot size
//! that changes lands as a new row and the old one stays for the dates it held.

use std::collections::HashMap;

use elite_collectors::Decoded;
use elite_collectors::upstox_instruments::{DecodedContracts, decode_contracts};
use elite_trade::Money;
use elite_trade::contract::ContractSpec;
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timestamp, tables};

use crate::Result;
use crate::ingest::{IngestReport, Ingestor, hash};
use crate::progress::Reporter;

/// How a master's rows are dated.
#[derive(Clone, Debug, Default)]
pub struct ContractsOptions {
    /// When a saved master was fetched (default: now).
    pub fetched_at: Option<Timestamp>,
    /// The date its rules hold from (default: the fetch time's UTC day).
    pub as_of: Option<Timestamp>,
}

impl Ingestor {
    /// Land one instrument master (the BOD JSON array or an option-contract response).
    pub async fn ingest_contracts_body(
        &self,
        source: &str,
        body: &[u8],
        opts: &ContractsOptions,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("{:?}|{:?}", opts.fetched_at, opts.as_of);
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::CONTRACTS.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let known = Timestamp::from_nanos(
            opts.fetched_at
                .unwrap_or(now)
                .as_nanos()
                .min(now.as_nanos()),
        );
        const DAY: i64 = 86_400_000_000_000;
        let valid_from = opts
            .as_of
            .unwrap_or_else(|| Timestamp::from_nanos(known.as_nanos().div_euclid(DAY) * DAY));
        let DecodedContracts {
            rows,
            quarantine,
            rows_read,
            indices: _,
        } = decode_contracts(body, source, self.clock())?;
        let mut b = RowsBuilder::new(&tables::CONTRACTS);
        for r in rows {
            b.row()
                .str(&r.symbol)
                .opt_str(r.trading_symbol.as_deref())
                .opt_str(r.name.as_deref())
                .opt_str(r.exchange.as_deref())
                .opt_str(r.segment.as_deref())
                .opt_str(r.instrument_type.as_deref())
                .opt_str(r.isin.as_deref())
                .i64(r.lot_size)
                .f64(r.tick_size)
                .opt_f64(r.freeze_quantity)
                .opt_ts(r.expiry)
                .opt_f64(r.strike)
                .opt_str(r.underlying_key.as_deref())
                .opt_bool(r.weekly)
                .ts(valid_from)
                .ts(known)
                .str(source)
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine,
            rows_read,
        };
        self.land(source, &content_hash, &tables::CONTRACTS, decoded, reporter)
            .await
    }
}

/// The newest contract rules of each of `symbols` (matched on the instrument key or the trading
/// symbol), as lot, tick and freeze quantity. Symbols without a row are absent.
pub async fn read_contracts(
    wh: &elite_store::Warehouse,
    symbols: &[String],
) -> Result<HashMap<String, (ContractSpec, Timestamp)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let list = |c: &str| col(c).in_list(symbols.iter().map(|s| lit(s.as_str())).collect(), false);
    let filter = list("symbol").or(list("trading_symbol"));
    let mut out: HashMap<String, (ContractSpec, Timestamp)> = HashMap::new();
    for b in wh
        .read(
            tables::CONTRACTS.name,
            elite_store::At::Latest,
            Some(filter),
        )
        .await?
    {
        let (Some(sym), Some(trading), Some(te)) = (
            crate::alt::strings(&b, "symbol"),
            crate::alt::strings(&b, "trading_symbol"),
            crate::alt::times(&b, "ts_event"),
        ) else {
            return Err(crate::Error::Internal(
                "contracts: a column is missing".into(),
            ));
        };
        let col = |n: &str| {
            b.column_by_name(n)
                .ok_or_else(|| crate::Error::Internal(format!("contracts: no column {n}")))
        };
        let lot = col("lot_size")?.as_primitive::<Int64Type>().clone();
        let tick = col("tick_size")?.as_primitive::<Float64Type>().clone();
        let freeze = col("freeze_quantity")?
            .as_primitive::<Float64Type>()
            .clone();
        for i in 0..b.num_rows() {
            let ts = Timestamp::from_nanos(te.value(i).saturating_mul(1000));
            let spec = ContractSpec {
                lot: lot.value(i),
                tick: Money::from_f64(tick.value(i)).ok_or_else(|| {
                    crate::Error::Config(format!(
                        "contracts: tick {} of {} is not a money amount",
                        tick.value(i),
                        sym.value(i)
                    ))
                })?,
                freeze: (!freeze.is_null(i)).then(|| freeze.value(i).floor() as i64),
                band: None,
            };
            let mut names = vec![sym.value(i)];
            if !trading.is_null(i) {
                names.push(trading.value(i));
            }
            for name in names {
                if !symbols.iter().any(|s| s == name) {
                    continue;
                }
                match out.get(name) {
                    Some((_, t)) if t.as_nanos() >= ts.as_nanos() => {}
                    _ => {
                        out.insert(name.to_string(), (spec.clone(), ts));
                    }
                }
            }
        }
    }
    Ok(out)
}

impl Ingestor {
    /// Land one Upstox full-market-quote response's circuit limits. A quote is dated by its own
    /// timestamp; one without is dated by `fetched_at` (a saved file), else now.
    pub async fn ingest_circuit_limits_body(
        &self,
        source: &str,
        body: &[u8],
        fetched_at: Option<Timestamp>,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let options = format!("{fetched_at:?}");
        let content_hash = hash(&[body, options.as_bytes()]);
        if let Some(cp) = self.checkpoint(source, &content_hash).await? {
            return Ok(Self::skipped(
                source.into(),
                tables::CIRCUIT_LIMITS.name,
                content_hash,
                cp,
            ));
        }
        let now = self.clock().now();
        let fetched =
            Timestamp::from_nanos(fetched_at.unwrap_or(now).as_nanos().min(now.as_nanos()));
        let d = elite_collectors::upstox_quotes::decode_circuit_limits(
            body,
            source,
            fetched,
            self.clock(),
        )?;
        let mut b = RowsBuilder::new(&tables::CIRCUIT_LIMITS);
        for r in &d.rows {
            let known = r.quoted.unwrap_or(fetched).as_nanos().min(now.as_nanos());
            b.row()
                .str(&r.symbol)
                .opt_str(r.trading_symbol.as_deref())
                .ts(r.day)
                .ts(Timestamp::from_nanos(known))
                .f64(r.lower)
                .f64(r.upper)
                .opt_f64(r.last_price)
                .str(source)
                .end();
        }
        let decoded = Decoded {
            batch: b.finish()?,
            quarantine: d.quarantine,
            rows_read: d.rows_read,
        };
        self.land(
            source,
            &content_hash,
            &tables::CIRCUIT_LIMITS,
            decoded,
            reporter,
        )
        .await
    }
}

/// Every circuit-limit row of `symbols` (matched on the instrument key or the trading symbol),
/// per symbol as asked, sorted by publication.
pub async fn read_circuit_limits(
    wh: &elite_store::Warehouse,
    symbols: &[String],
) -> Result<HashMap<String, Vec<elite_trade::contract::CircuitLimit>>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    use elite_store::datafusion::prelude::{col, lit};
    let list = |c: &str| col(c).in_list(symbols.iter().map(|s| lit(s.as_str())).collect(), false);
    let filter = list("symbol").or(list("trading_symbol"));
    let mut out: HashMap<String, Vec<elite_trade::contract::CircuitLimit>> = HashMap::new();
    for b in wh
        .read(
            tables::CIRCUIT_LIMITS.name,
            elite_store::At::Latest,
            Some(filter),
        )
        .await?
    {
        let (Some(sym), Some(trading), Some(te), Some(tr)) = (
            crate::alt::strings(&b, "symbol"),
            crate::alt::strings(&b, "trading_symbol"),
            crate::alt::times(&b, "ts_event"),
            crate::alt::times(&b, "ts_recv"),
        ) else {
            return Err(crate::Error::Internal(
                "circuit_limits: a column is missing".into(),
            ));
        };
        let num = |n: &str| {
            b.column_by_name(n)
                .map(|c| c.as_primitive::<Float64Type>().clone())
                .ok_or_else(|| crate::Error::Internal(format!("circuit_limits: no column {n}")))
        };
        let (lo, hi) = (num("lower_circuit_limit")?, num("upper_circuit_limit")?);
        for i in 0..b.num_rows() {
            let limit = elite_trade::contract::CircuitLimit {
                day: Timestamp::from_nanos(te.value(i).saturating_mul(1000)),
                known: Timestamp::from_nanos(tr.value(i).saturating_mul(1000)),
                lower: lo.value(i),
                upper: hi.value(i),
            };
            let mut names = vec![sym.value(i)];
            if !trading.is_null(i) {
                names.push(trading.value(i));
            }
            for name in names {
                if symbols.iter().any(|s| s == name) {
                    out.entry(name.to_string()).or_default().push(limit);
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|l| (l.known, l.day));
    }
    Ok(out)
}
