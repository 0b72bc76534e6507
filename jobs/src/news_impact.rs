//! `news_impact`: the abnormal return after each scored news item, by the market model, landed
//! in the `news_impact` table (the `news_impact_by_label` view aggregates it by sentiment label).
//!
//! Day 0 of an item is the first daily bar that closed after the item was received (`ts_recv`):
//! the first close that could reflect it. The model is fitted on `estimation` days ending `gap`
//! days before day 0; the CAR sums days 0..=post. A result is known only when day `post` has
//! closed, which is its `ts_recv`. The market is a symbol's bars, or `equal-weight`: the mean
//! daily return of every symbol with bars that day.

use std::collections::{BTreeMap, HashMap};

use arrow::array::AsArray;
use elite_pipelines::event_study::{Windows, market_model};
use elite_store::datafusion::prelude::{col, lit};
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::rows::RowsBuilder;
use elite_warehouse::{Timeframe, Timestamp, tables};
use serde::Serialize;

use crate::alt::{strings, times, year};
use crate::bars::{BarQuery, read_bars};
use crate::{Error, Result};

/// What to measure.
#[derive(Clone, Debug)]
pub struct ImpactOptions {
    /// The scorer version whose `sentiment` rows are the events.
    pub version: String,
    /// A symbol, or `equal-weight`.
    pub market: String,
    pub windows: Windows,
}

/// The result per sentiment label.
#[derive(Clone, Debug, Serialize)]
pub struct ImpactSummary {
    pub label: String,
    pub events: usize,
    pub mean_car: f64,
    /// mean / (sd / √n); NaN with fewer than two events.
    pub t_stat: f64,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct ImpactReport {
    pub events_read: usize,
    pub events_measured: usize,
    /// Items whose symbol has no bars, or whose windows do not fit in them.
    pub events_skipped: usize,
    pub rows_added: usize,
    pub params: String,
    pub by_label: Vec<ImpactSummary>,
}

struct Series {
    /// Bar open times, ascending.
    ts_event: Vec<i64>,
    ts_recv: Vec<i64>,
    close: Vec<f64>,
}

/// Run the event study over every scored news item with a symbol.
pub async fn news_impact(wh: &Warehouse, o: &ImpactOptions) -> Result<ImpactReport> {
    let w = o.windows;
    let params = format!(
        "market={};estimation={};gap={};post={}",
        o.market, w.estimation, w.gap, w.post
    );
    // The events.
    let filter = col("version")
        .eq(lit(o.version.as_str()))
        .and(col("symbol").not_eq(lit("")));
    let mut events = vec![];
    for b in wh
        .read(tables::SENTIMENT.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(id), Some(sym), Some(tr), Some(label), Some(score)) = (
            strings(&b, "item_id"),
            strings(&b, "symbol"),
            times(&b, "ts_recv"),
            strings(&b, "label"),
            b.column_by_name("score")
                .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone()),
        ) else {
            return Err(Error::Internal("sentiment: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            events.push((
                id.value(i).to_string(),
                sym.value(i).to_string(),
                tr.value(i).saturating_mul(1000),
                label.value(i).to_string(),
                score.value(i),
            ));
        }
    }
    // Daily closes of every symbol.
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(Timeframe::Days(1)),
            symbols: vec![],
            version: None,
        },
    )
    .await?;
    let mut series: HashMap<String, Series> = HashMap::new();
    let mut sorted: BTreeMap<(String, i64), (i64, f64)> = BTreeMap::new();
    for b in &bars {
        sorted.insert(
            (b.symbol.to_string(), b.ts_event.as_nanos()),
            (b.ts_recv.as_nanos(), b.bar.close),
        );
    }
    for ((sym, te), (tr, c)) in sorted {
        let s = series.entry(sym).or_insert(Series {
            ts_event: vec![],
            ts_recv: vec![],
            close: vec![],
        });
        s.ts_event.push(te);
        s.ts_recv.push(tr);
        s.close.push(c);
    }
    let returns = |s: &Series| -> BTreeMap<i64, f64> {
        (1..s.close.len())
            .map(|i| (s.ts_event[i], s.close[i] / s.close[i - 1] - 1.0))
            .filter(|(_, r)| r.is_finite())
            .collect()
    };
    let market: BTreeMap<i64, f64> = if o.market == "equal-weight" {
        let mut sum: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
        for s in series.values() {
            for (t, r) in returns(s) {
                let e = sum.entry(t).or_default();
                e.0 += r;
                e.1 += 1;
            }
        }
        sum.into_iter()
            .map(|(t, (s, n))| (t, s / n as f64))
            .collect()
    } else {
        let s = series
            .get(&o.market)
            .ok_or_else(|| Error::Config(format!("no daily bars of the market {:?}", o.market)))?;
        returns(s)
    };
    let mut out = RowsBuilder::new(&tables::NEWS_IMPACT);
    let mut cars: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let (mut measured, mut skipped) = (0, 0);
    for (id, sym, recv, label, score) in &events {
        let Some(s) = series.get(sym) else {
            skipped += 1;
            continue;
        };
        // Aligned days: the stock's return and the market's on the same bar.
        let mut idx = vec![];
        let (mut rs, mut rm) = (vec![], vec![]);
        for i in 1..s.close.len() {
            let r = s.close[i] / s.close[i - 1] - 1.0;
            if let Some(m) = market.get(&s.ts_event[i])
                && r.is_finite()
            {
                idx.push(i);
                rs.push(r);
                rm.push(*m);
            }
        }
        let Some(d0) = idx.iter().position(|&i| s.ts_recv[i] > *recv) else {
            skipped += 1;
            continue;
        };
        let Some(r) = market_model(&rs, &rm, d0, w) else {
            skipped += 1;
            continue;
        };
        measured += 1;
        cars.entry(label.clone()).or_default().push(r.car);
        let day0 = Timestamp::from_nanos(s.ts_event[idx[d0]]);
        let known = Timestamp::from_nanos(s.ts_recv[idx[d0 + w.post]]);
        out.row()
            .str(id)
            .str(sym)
            .str(&o.version)
            .str(&params)
            .ts(day0)
            .ts(known)
            .f64(*score)
            .str(label)
            .f64(r.alpha)
            .f64(r.beta)
            .f64(r.ar[0])
            .f64(r.car)
            .f64(r.sigma)
            .i32(year(day0))
            .end();
    }
    let rows_added = if out.is_empty() {
        0
    } else {
        wh.insert_new(
            &tables::NEWS_IMPACT,
            vec![out.finish()?],
            CommitMeta::new("news_impact").with("params", params.as_str()),
        )
        .await?
        .rows_added
    };
    let by_label = cars
        .into_iter()
        .map(|(label, v)| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            ImpactSummary {
                label,
                events: v.len(),
                mean_car: mean,
                t_stat: if v.len() < 2 {
                    f64::NAN
                } else {
                    mean / (sd / n.sqrt())
                },
            }
        })
        .collect();
    Ok(ImpactReport {
        events_read: events.len(),
        events_measured: measured,
        events_skipped: skipped,
        rows_added,
        params,
        by_label,
    })
}
