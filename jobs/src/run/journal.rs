//! The run tables: what the engine journaled (`equity_curve`, `fills`, `orders`, `risk_events`,
//! `audit_log`, `positions`), written incrementally and idempotently, and a finished run's summary
//! (`trades`, `runs`).

use elite_store::{CommitMeta, Warehouse};
use elite_trade::engine::Engine;
use elite_trade::metrics::{TearSheet, round_trips, tear_sheet};
use elite_trade::money::Money;
use elite_warehouse::{Clock, TableSpec, tables};
use serde::{Deserialize, Serialize};

use super::assemble::code_version;
use super::config::RunConfig;
use crate::{Error, Result};

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub name: String,
    pub bars_version: Option<u64>,
    pub symbols: usize,
    pub bars: usize,
    pub orders: usize,
    pub fills: usize,
    pub refusals: usize,
    pub tear_sheet: TearSheet,
    /// Each strategy's own book.
    pub strategies: Vec<StrategySummary>,
    /// Rows landed in the run tables (0 when this run was already recorded).
    pub rows_added: usize,
}

/// One strategy's result, from its own book.
#[derive(Clone, Debug, Serialize)]
pub struct StrategySummary {
    pub strategy: String,
    pub final_weight: f64,
    pub total_return: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub trades: usize,
    pub win_rate: f64,
    pub costs_paid: Money,
}

/// The tear sheet, per-strategy summaries, round trips (`trades`) and the `runs` row of a
/// finished run.
#[allow(clippy::too_many_arguments)]
pub async fn finish_run(
    wh: &Warehouse,
    cfg: &RunConfig,
    run_id: &str,
    mode: &str,
    version: Option<u64>,
    engine: &Engine,
    names: &[String],
    bars: usize,
    clock: &dyn Clock,
) -> Result<RunReport> {
    let j = &engine.journal;
    let sheet = tear_sheet(&j.equity, &j.fills, cfg.initial_cash, cfg.periods_per_year);
    let trips = round_trips(&j.fills);
    let total: f64 = engine.subs.iter().map(|s| s.equity_now()).sum();
    let strategies = engine
        .strategy_names()
        .iter()
        .zip(&engine.subs)
        .map(|(name, sub)| {
            let fills: Vec<_> = j.fills.iter().filter(|f| &f.tag == name).cloned().collect();
            let points: Vec<elite_trade::engine::EquityPoint> = j
                .equity
                .iter()
                .zip(&sub.index)
                .map(|(p, e)| elite_trade::engine::EquityPoint { equity: *e, ..*p })
                .collect();
            let t = tear_sheet(&points, &fills, sub.start, cfg.periods_per_year);
            StrategySummary {
                strategy: name.clone(),
                final_weight: if total > 0.0 {
                    sub.equity_now() / total
                } else {
                    0.0
                },
                total_return: t.total_return,
                sharpe: t.sharpe,
                max_drawdown: t.max_drawdown,
                trades: t.trades,
                win_rate: t.win_rate,
                costs_paid: t.costs_paid,
            }
        })
        .collect();
    let sym = |i: u32| names.get(i as usize).cloned().unwrap_or_default();
    let meta = || CommitMeta::new(mode.to_string()).with("run_id", run_id.to_string());
    let mut added = 0;

    #[derive(Serialize)]
    struct T {
        run_id: String,
        seq: i64,
        strategy: String,
        symbol: String,
        direction: i8,
        max_qty: i64,
        pnl: Money,
        charges: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<T> = trips
        .iter()
        .enumerate()
        .map(|(i, t)| T {
            run_id: run_id.into(),
            seq: i as i64,
            strategy: t.strategy.clone(),
            symbol: sym(t.sym),
            direction: t.direction,
            max_qty: t.max_qty,
            pnl: t.pnl,
            charges: t.charges,
            ts_event: t.open_ts.as_micros(),
            ts_recv: t.close_ts.as_micros(),
        })
        .collect();
    added += insert(wh, &tables::TRADES, &rows, meta()).await?;

    #[derive(Serialize)]
    struct Run<'a> {
        run_id: &'a str,
        name: &'a str,
        mode: &'a str,
        config: &'a str,
        bars_version: Option<u64>,
        code_version: String,
        tear_sheet: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let config_json = serde_json::to_string(cfg)?;
    let row = Run {
        run_id,
        name: &cfg.name,
        mode,
        config: &config_json,
        bars_version: version,
        code_version: code_version(),
        tear_sheet: serde_json::to_string(&sheet)?,
        ts_event: j.equity.last().map_or(0, |p| p.ts.as_micros()),
        ts_recv: clock.now().as_micros(),
    };
    added += insert(wh, &tables::RUNS, &[row], meta()).await?;
    let report = RunReport {
        run_id: run_id.to_string(),
        name: cfg.name.clone(),
        bars_version: version,
        symbols: names.len(),
        bars,
        orders: j.submitted.len(),
        fills: j.fills.len(),
        refusals: j
            .risk
            .iter()
            .filter(|r| r.decision != elite_trade::risk::Decision::Approved)
            .count(),
        tear_sheet: sheet,
        strategies,
        rows_added: added,
    };
    Ok(report)
}

fn to_batch<T: Serialize>(spec: &TableSpec, rows: &[T]) -> Result<arrow::array::RecordBatch> {
    let schema = spec.arrow_schema();
    let mut d = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| Error::from(e).context(spec.name))?;
    d.serialize(rows)
        .map_err(|e| Error::from(e).context(spec.name))?;
    Ok(d.flush()
        .map_err(|e| Error::from(e).context(spec.name))?
        .unwrap_or_else(|| arrow::array::RecordBatch::new_empty(schema)))
}

/// How much of an engine's journal has been written to the warehouse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub equity: usize,
    pub fills: usize,
    pub orders: usize,
    pub risk: usize,
    /// Allocator moves written to `audit_log` (every risk event, order log entry and fill
    /// is one audit row too, so the audit log's length is the sum).
    #[serde(default)]
    pub allocations: usize,
    #[serde(default)]
    pub positions: usize,
}

impl Written {
    /// What has been written of `j` once everything is.
    pub fn all_of(j: &elite_trade::engine::Journal) -> Self {
        Written {
            equity: j.equity.len(),
            fills: j.fills.len(),
            orders: j.order_log.len(),
            risk: j.risk.len(),
            allocations: j.allocations.len(),
            positions: j.positions.len(),
        }
    }

    fn audit_rows(&self) -> usize {
        self.fills + self.orders + self.risk + self.allocations
    }
}

/// Write the journal entries after `w` (equity points, fills, order log, risk events) and
/// advance `w`. Rows are keyed by (run_id, index), so writing the same entries again adds
/// nothing.
pub async fn write_journal(
    wh: &Warehouse,
    run_id: &str,
    engine: &Engine,
    names: &[String],
    w: &mut Written,
) -> Result<usize> {
    let j = &engine.journal;
    let sym = |i: u32| names.get(i as usize).cloned().unwrap_or_default();
    let us = |t: elite_warehouse::Timestamp| t.as_micros();
    let mut added = 0;
    let meta = || CommitMeta::new("trade-runner").with("run_id", run_id.to_string());

    #[derive(Serialize)]
    struct Eq {
        run_id: String,
        ts_event: i64,
        ts_recv: i64,
        cash: Money,
        equity: f64,
        gross: f64,
        net: f64,
        fees: Money,
    }
    let rows: Vec<Eq> = j.equity[w.equity..]
        .iter()
        .map(|p| Eq {
            run_id: run_id.into(),
            ts_event: us(p.ts),
            ts_recv: us(p.ts),
            cash: p.cash,
            equity: p.equity,
            gross: p.gross,
            net: p.net,
            fees: p.fees,
        })
        .collect();
    added += insert(wh, &tables::EQUITY_CURVE, &rows, meta()).await?;

    #[derive(Serialize)]
    struct F {
        run_id: String,
        seq: i64,
        order_id: String,
        strategy: String,
        symbol: String,
        side: &'static str,
        qty: i64,
        price: Money,
        value: Money,
        brokerage: Money,
        stt: Money,
        exchange: Money,
        sebi: Money,
        stamp: Money,
        gst: Money,
        other: Money,
        charges: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<F> = j.fills[w.fills..]
        .iter()
        .enumerate()
        .map(|(i, f)| F {
            run_id: run_id.into(),
            seq: (w.fills + i) as i64,
            order_id: f.order_id.clone(),
            strategy: f.tag.clone(),
            symbol: sym(f.sym),
            side: f.side.as_str(),
            qty: f.qty,
            price: f.price,
            value: f.price.times(f.qty),
            brokerage: f.charges.brokerage,
            stt: f.charges.stt,
            exchange: f.charges.exchange,
            sebi: f.charges.sebi,
            stamp: f.charges.stamp,
            gst: f.charges.gst,
            other: f.charges.other,
            charges: f.charges.total(),
            ts_event: us(f.ts),
            ts_recv: us(f.ts_recv),
        })
        .collect();
    added += insert(wh, &tables::FILLS, &rows, meta()).await?;

    #[derive(Serialize)]
    struct O {
        run_id: String,
        seq: i64,
        order_id: String,
        symbol: String,
        status: String,
        filled: i64,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<O> = j.order_log[w.orders..]
        .iter()
        .enumerate()
        .map(|(i, e)| O {
            run_id: run_id.into(),
            seq: (w.orders + i) as i64,
            order_id: e.order_id.clone(),
            symbol: sym(e.sym),
            status: e.status.clone(),
            filled: e.filled,
            detail: e.detail.clone(),
            ts_event: us(e.ts),
            ts_recv: us(e.ts),
        })
        .collect();
    added += insert(wh, &tables::ORDERS, &rows, meta()).await?;

    #[derive(Serialize)]
    struct R {
        run_id: String,
        seq: i64,
        order_id: String,
        symbol: Option<String>,
        decision: elite_trade::risk::Decision,
        check: String,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<R> = j.risk[w.risk..]
        .iter()
        .enumerate()
        .map(|(i, r)| R {
            run_id: run_id.into(),
            seq: (w.risk + i) as i64,
            order_id: r.order_id.clone(),
            symbol: r.sym.map(sym),
            decision: r.decision,
            check: r.check.clone(),
            detail: r.detail.clone(),
            ts_event: us(r.ts),
            ts_recv: us(r.ts),
        })
        .collect();
    added += insert(wh, &tables::RISK_EVENTS, &rows, meta()).await?;

    // The audit log: the new entries of every stream, merged in event order. Within one instant
    // risk decisions come first, then order events, fills and allocator moves, each stream in
    // its own order; commits fall between bars, so any batching gives the same sequence.
    #[derive(Serialize)]
    struct A {
        run_id: String,
        seq: i64,
        kind: String,
        order_id: Option<String>,
        strategy: Option<String>,
        symbol: Option<String>,
        detail: String,
        ts_event: i64,
        ts_recv: i64,
    }
    let mut audit: Vec<(i64, u8, usize, A)> = vec![];
    // Engine order ids are `<strategy>-<ns>-<n>` (execution children add `-c<k>`).
    let strategy_of = |id: &str| -> Option<String> {
        let base = id.split_once("-c").map_or(id, |(b, k)| {
            if k.bytes().all(|c| c.is_ascii_digit()) {
                b
            } else {
                id
            }
        });
        let mut parts = base.rsplitn(3, '-');
        let (n, ns, name) = (parts.next()?, parts.next()?, parts.next()?);
        (n.bytes().all(|c| c.is_ascii_digit()) && ns.bytes().all(|c| c.is_ascii_digit()))
            .then(|| name.to_string())
    };
    let row = |kind: String,
               order_id: Option<String>,
               strategy: Option<String>,
               symbol: Option<String>,
               detail: String,
               ts: i64| A {
        run_id: run_id.into(),
        seq: 0,
        kind,
        order_id,
        strategy,
        symbol,
        detail,
        ts_event: ts,
        ts_recv: ts,
    };
    for (i, r) in j.risk[w.risk..].iter().enumerate() {
        let kind = format!(
            "risk_{}",
            serde_json::to_value(r.decision)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        );
        let detail = if r.detail.is_empty() {
            r.check.clone()
        } else {
            format!("{}: {}", r.check, r.detail)
        };
        audit.push((
            us(r.ts),
            0,
            i,
            row(
                kind,
                Some(r.order_id.clone()).filter(|s| !s.is_empty()),
                strategy_of(&r.order_id),
                r.sym.map(sym),
                detail,
                us(r.ts),
            ),
        ));
    }
    for (i, e) in j.order_log[w.orders..].iter().enumerate() {
        audit.push((
            us(e.ts),
            1,
            i,
            row(
                format!("order_{}", e.status),
                Some(e.order_id.clone()),
                strategy_of(&e.order_id),
                Some(sym(e.sym)),
                format!("filled {}; {}", e.filled, e.detail),
                us(e.ts),
            ),
        ));
    }
    for (i, f) in j.fills[w.fills..].iter().enumerate() {
        audit.push((
            us(f.ts),
            2,
            i,
            row(
                "fill".into(),
                Some(f.order_id.clone()),
                Some(f.tag.clone()),
                Some(sym(f.sym)),
                format!(
                    "{} {} @ {}, charges {}",
                    f.side.as_str(),
                    f.qty,
                    f.price,
                    f.charges.total()
                ),
                us(f.ts),
            ),
        ));
    }
    let names = engine.strategy_names();
    for (i, (ts, weights)) in j.allocations[w.allocations..].iter().enumerate() {
        let detail = names
            .iter()
            .zip(weights)
            .map(|(n, x)| format!("{n}={x:.4}"))
            .collect::<Vec<_>>()
            .join(", ");
        audit.push((
            us(*ts),
            3,
            i,
            row("allocation".into(), None, None, None, detail, us(*ts)),
        ));
    }
    audit.sort_by_key(|a| (a.0, a.1, a.2));
    let first = w.audit_rows();
    let rows: Vec<A> = audit
        .into_iter()
        .enumerate()
        .map(|(k, (_, _, _, mut a))| {
            a.seq = (first + k) as i64;
            a
        })
        .collect();
    added += insert(wh, &tables::AUDIT_LOG, &rows, meta()).await?;

    #[derive(Serialize)]
    struct P {
        run_id: String,
        seq: i64,
        strategy: String,
        symbol: String,
        qty: i64,
        avg_price: Money,
        basis: Money,
        realized: Money,
        price: Money,
        ts_event: i64,
        ts_recv: i64,
    }
    let rows: Vec<P> = j.positions[w.positions..]
        .iter()
        .enumerate()
        .map(|(i, p)| P {
            run_id: run_id.into(),
            seq: (w.positions + i) as i64,
            strategy: p.strategy.clone(),
            symbol: sym(p.sym),
            qty: p.position.qty,
            avg_price: p.position.avg_price(),
            basis: p.position.basis,
            realized: p.position.realized,
            price: p.price,
            ts_event: us(p.ts),
            ts_recv: us(p.ts),
        })
        .collect();
    added += insert(wh, &tables::POSITIONS, &rows, meta()).await?;
    *w = Written::all_of(j);
    Ok(added)
}

pub(crate) async fn insert<T: Serialize>(
    wh: &Warehouse,
    spec: &'static TableSpec,
    rows: &[T],
    meta: CommitMeta,
) -> Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let batch = to_batch(spec, rows)?;
    Ok(wh.insert_new(spec, vec![batch], meta).await?.rows_added)
}
