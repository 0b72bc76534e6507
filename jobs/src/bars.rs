//! Reading bars back from the warehouse as typed, time-ordered series.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use elite_pipelines::indicators::Ohlcv;
use elite_store::{At, Warehouse};
use elite_warehouse::{Symbol, Timeframe, Timestamp};

/// One bar as the pipelines see it.
#[derive(Clone, Debug, PartialEq)]
pub struct BarEvent {
    pub symbol: Arc<str>,
    pub timeframe: Timeframe,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub bar: Ohlcv,
}

impl BarEvent {
    /// The bar with its times, as the pipelines' state machines take it.
    pub fn timed(&self) -> elite_pipelines::resample::TimedBar {
        elite_pipelines::resample::TimedBar {
            ts_event: self.ts_event,
            ts_recv: self.ts_recv,
            bar: self.bar,
        }
    }
}

/// Which bars to read.
#[derive(Clone, Debug, Default)]
pub struct BarQuery {
    pub timeframe: Option<Timeframe>,
    pub symbols: Vec<Symbol>,
    /// Table version to read; latest when `None`.
    pub version: Option<u64>,
}

/// Bars matching `q`, ordered by (ts_recv, symbol, ts_event) — the order a live stream delivers
/// them — and the table version they were read at (`None` if the table is empty).
pub async fn read_bars(
    wh: &Warehouse,
    q: &BarQuery,
) -> crate::Result<(Vec<BarEvent>, Option<u64>)> {
    let at = q.version.map_or(At::Latest, At::Version);
    let Some(table) = wh.load("bars", at).await? else {
        return Ok((vec![], None));
    };
    let version = table.version();
    let at = version.map_or(At::Latest, At::Version);
    // Symbol and timeframe are filtered by the store (partition pruning on symbol).
    use elite_store::datafusion::prelude::{Expr, col, lit};
    let mut filter: Option<Expr> = None;
    let mut and = |e: Expr| {
        filter = Some(match filter.take() {
            Some(f) => f.and(e),
            None => e,
        })
    };
    if let Some(tf) = q.timeframe {
        and(col("timeframe").eq(lit(tf.to_string())));
    }
    if !q.symbols.is_empty() {
        and(col("symbol").in_list(q.symbols.iter().map(|s| lit(s.as_str())).collect(), false));
    }
    let batches = wh.read("bars", at, filter).await?;
    let mut out = vec![];
    let mut names: BTreeMap<String, Arc<str>> = BTreeMap::new();
    for b in &batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| crate::Error::Internal(format!("bars has no column {name}")))
        };
        let sym = arrow::compute::cast(col("symbol")?, &arrow::datatypes::DataType::Utf8)?;
        let tf = arrow::compute::cast(col("timeframe")?, &arrow::datatypes::DataType::Utf8)?;
        let (sym, tf) = (sym.as_string::<i32>(), tf.as_string::<i32>());
        let te = col("ts_event")?.as_primitive::<TimestampMicrosecondType>();
        let tr = col("ts_recv")?.as_primitive::<TimestampMicrosecondType>();
        let f = |n: &str| col(n).map(|c| c.as_primitive::<Float64Type>().clone());
        let (o, h, l, c, v) = (f("open")?, f("high")?, f("low")?, f("close")?, f("volume")?);
        for i in 0..b.num_rows() {
            let s = sym.value(i);
            // Timeframes are validated when bars are written; one that does not parse is a bug.
            let timeframe = Timeframe::parse(tf.value(i)).map_err(|e| {
                crate::Error::Internal(format!("bars row with timeframe {:?}: {e}", tf.value(i)))
            })?;
            let symbol = Arc::clone(names.entry(s.to_string()).or_insert_with(|| Arc::from(s)));
            out.push(BarEvent {
                symbol,
                timeframe,
                ts_event: Timestamp::from_nanos(te.value(i) * 1000),
                ts_recv: Timestamp::from_nanos(tr.value(i) * 1000),
                bar: Ohlcv::new(
                    o.value(i),
                    h.value(i),
                    l.value(i),
                    c.value(i),
                    if v.is_valid(i) { v.value(i) } else { 0.0 },
                ),
            });
        }
    }
    out.sort_by(|a, b| (a.ts_recv, &a.symbol, a.ts_event).cmp(&(b.ts_recv, &b.symbol, b.ts_event)));
    Ok((out, version))
}

/// Closes of several symbols on the dates all of them have a bar (positive and finite), in date
/// order: the symbols found (sorted; every symbol with bars at `tf` when `symbols` is empty), the
/// dates, when each date was fully known (the latest `ts_recv` among its bars) and the closes
/// (date × symbol).
#[derive(Clone, Debug, Default)]
pub struct Aligned {
    pub symbols: Vec<String>,
    pub dates: Vec<Timestamp>,
    pub known: Vec<Timestamp>,
    pub closes: Vec<Vec<f64>>,
}

/// See [`Aligned`].
pub async fn aligned_closes(
    wh: &Warehouse,
    symbols: &[String],
    tf: Timeframe,
) -> crate::Result<Aligned> {
    let syms = symbols
        .iter()
        .map(Symbol::new)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(tf),
            symbols: syms,
            version: None,
        },
    )
    .await?;
    let names: std::collections::BTreeSet<&str> = bars.iter().map(|b| &*b.symbol).collect();
    let names: Vec<&str> = names.into_iter().collect();
    let col: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut by_date: BTreeMap<Timestamp, (Timestamp, Vec<f64>)> = BTreeMap::new();
    for b in &bars {
        let e = by_date
            .entry(b.ts_event)
            .or_insert_with(|| (b.ts_recv, vec![f64::NAN; names.len()]));
        e.0 = e.0.max(b.ts_recv);
        e.1[col[&*b.symbol]] = b.bar.close;
    }
    let mut out = Aligned {
        symbols: names.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    for (d, (r, c)) in by_date {
        if c.iter().all(|x| x.is_finite() && *x > 0.0) {
            out.dates.push(d);
            out.known.push(r);
            out.closes.push(c);
        }
    }
    Ok(out)
}
