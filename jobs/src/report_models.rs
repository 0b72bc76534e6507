//! `elite report GROUP --models`: a model group's walk-forward, read back from the registry and
//! the out-of-sample predictions it recorded.
//!
//! For the group's newest training (the models of its newest config, and the ensembles that
//! training combined from them) each model's `walk_forward` predictions are traded as `elite
//! train` scores them ([`elite_models::metrics::pnl_series`]: long when the prediction says up,
//! short otherwise, equal weight across the symbols of a date, each position earning the bar
//! after its date, less the config's cost per unit of position change) against the same bars
//! version; buy-and-hold of the same rows is the benchmark. Every model then gets the run report's
//! metrics ([`elite_trade::analytics::metrics`]), with the deflated Sharpe deflating for every
//! model and ensemble tried in the group.

use std::collections::{BTreeMap, HashMap};

use elite_models::metrics::{Book, Trading, pnl_series};
use elite_store::Warehouse;
use elite_store::datafusion::prelude::{col, lit};
use elite_trade::analytics::{self, Metrics};
use elite_warehouse::{Symbol, Timeframe};
use serde::{Deserialize, Serialize};

use crate::bars::{BarQuery, read_bars};
use crate::models::TrainConfig;
use crate::models::train::ensemble_id;
use crate::report::read_rows;
use crate::{Error, Result};

#[derive(Deserialize)]
struct ModelRow {
    model_id: String,
    name: String,
    kind: String,
    task: String,
    config: String,
    metrics: String,
    bars_version: Option<i64>,
    ts_recv: String,
}

/// A model or ensemble of the group, and how its predictions become positions.
struct Candidate<'a> {
    name: String,
    model_id: String,
    kind: String,
    /// Long above this score, short below.
    threshold: f64,
    /// Its registry row (base models).
    recorded: Option<&'a ModelRow>,
    /// Its `walk_forward` predictions by (symbol, ts_event µs).
    predictions: HashMap<(String, i64), f64>,
}

/// One model's line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct ModelLine {
    pub name: String,
    pub model_id: String,
    pub kind: String,
    /// Classification scores recorded by `elite train` (absent for ensembles).
    pub accuracy: Option<f64>,
    pub auc: Option<f64>,
    pub turnover: f64,
    /// The long/short book's metrics (benchmark: buy-and-hold of the same rows).
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// The group's report.
#[derive(Clone, Debug, Serialize)]
pub struct GroupReport {
    pub group: String,
    pub timeframe: String,
    pub bars_version: Option<i64>,
    pub symbols: usize,
    pub start: String,
    pub end: String,
    pub cost_bps: f64,
    /// Models and ensembles, then `buy_and_hold`.
    pub models: Vec<ModelLine>,
    /// Dates (ns) and each line's compounded value, for the chart.
    #[serde(skip)]
    pub dates: Vec<i64>,
    #[serde(skip)]
    pub curves: Vec<(String, Vec<f64>)>,
}

fn ts_ns(s: &str) -> i64 {
    crate::models::registry::parse_ts(s).unwrap_or(0)
}

/// The report of model group `group` (see the module docs).
pub async fn group_report(wh: &Warehouse, group: &str) -> Result<GroupReport> {
    let rows: Vec<ModelRow> = read_rows(wh, "models", col("group").eq(lit(group))).await?;
    let newest = rows
        .iter()
        .max_by_key(|r| (ts_ns(&r.ts_recv), r.model_id.clone()))
        .ok_or_else(|| {
            Error::Config(format!(
                "no model group {group:?} in the registry (elite train CONFIG registers one)"
            ))
        })?;
    let cfg: TrainConfig = serde_json::from_str(&newest.config)?;
    // The newest model of each configured name, in config order (the order training registered
    // them, which names its ensembles).
    let mut chosen: Vec<&ModelRow> = vec![];
    for m in &cfg.models {
        if let Some(r) = rows
            .iter()
            .filter(|r| r.name == m.name && r.config == newest.config)
            .max_by_key(|r| ts_ns(&r.ts_recv))
        {
            chosen.push(r);
        }
    }
    let ids: Vec<String> = chosen.iter().map(|r| r.model_id.clone()).collect();
    let mut lines: Vec<Candidate<'_>> = chosen
        .iter()
        .map(|r| Candidate {
            name: r.name.clone(),
            model_id: r.model_id.clone(),
            kind: r.kind.clone(),
            threshold: if r.task == "regression" { 0.0 } else { 0.5 },
            recorded: Some(*r),
            predictions: HashMap::new(),
        })
        .collect();
    if let Some(e) = &cfg.ensemble {
        for m in &e.methods {
            let name = format!("ensemble:{}", m.name());
            lines.push(Candidate {
                model_id: ensemble_id(&name, &ids),
                name,
                kind: "ensemble".into(),
                threshold: 0.5,
                recorded: None,
                predictions: HashMap::new(),
            });
        }
    }
    let tf = Timeframe::parse(&cfg.data.timeframe)?;
    // Each line's predictions; ensembles the training did not record (fewer than two
    // classification members) drop out.
    for l in lines.iter_mut() {
        l.predictions = crate::models::read_predictions(wh, &l.model_id, "walk_forward").await?;
    }
    lines.retain(|l| !l.predictions.is_empty());
    let first = lines.first().map(|l| &l.predictions).ok_or_else(|| {
        Error::Config(format!(
            "model group {group:?} has no walk_forward predictions"
        ))
    })?;
    // The rows: every model predicted the same (symbol, bar) set.
    let mut keys: Vec<(String, i64)> = first.keys().cloned().collect();
    keys.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let symbols: Vec<String> = {
        let mut s: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        s.sort();
        s.dedup();
        s
    };
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(tf),
            symbols: symbols
                .iter()
                .map(Symbol::new)
                .collect::<std::result::Result<Vec<_>, _>>()?,
            version: newest.bars_version.map(|v| v as u64),
        },
    )
    .await?;
    let mut by_sym: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
    for b in &bars {
        by_sym
            .entry(&*b.symbol)
            .or_default()
            .push((b.ts_event.as_nanos() / 1000, b.bar.close));
    }
    let mut next: HashMap<(String, i64), f64> = HashMap::new();
    for (s, v) in by_sym.iter_mut() {
        v.sort_by_key(|x| x.0);
        for w in v.windows(2) {
            next.insert((s.to_string(), w[0].0), w[1].1 / w[0].1 - 1.0);
        }
    }
    keys.retain(|k| next.contains_key(k));
    let sid: HashMap<&str, u32> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let dates: Vec<i64> = keys.iter().map(|k| k.1).collect();
    let series: Vec<u32> = keys.iter().map(|k| sid[k.0.as_str()]).collect();
    let next_r: Vec<f64> = keys.iter().map(|k| next[k]).collect();
    let trading = |book| Trading {
        book,
        cost_bps: cfg.validation.cost_bps,
        periods_per_year: cfg.validation.periods_per_year,
    };
    let ppy = cfg.validation.periods_per_year;
    let hold = pnl_series(
        &dates,
        &series,
        &vec![1.0; keys.len()],
        0.5,
        &next_r,
        &trading(Book::Hold),
    );
    let mut all: Vec<(&Candidate<'_>, elite_models::metrics::PnlSeries)> = vec![];
    for l in &lines {
        let score: Vec<f64> = keys
            .iter()
            .map(|k| l.predictions.get(k).copied().unwrap_or(f64::NAN))
            .collect();
        if score.iter().any(|s| s.is_nan()) {
            return Err(Error::Internal(format!(
                "{}: walk_forward predictions do not cover the group's rows",
                l.name
            )));
        }
        let s = pnl_series(
            &dates,
            &series,
            &score,
            l.threshold,
            &next_r,
            &trading(Book::LongShort),
        );
        all.push((l, s));
    }
    // Trials: every model and ensemble tried; the variance of their per-period Sharpe ratios.
    let sr: Vec<f64> = all
        .iter()
        .map(|(_, s)| analytics::sharpe_per_period(&s.returns))
        .filter(|x| x.is_finite())
        .collect();
    let var = if sr.len() > 1 {
        let m = sr.iter().sum::<f64>() / sr.len() as f64;
        sr.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (sr.len() as f64 - 1.0)
    } else {
        0.0
    };
    let trials = all.len();
    let mut models = vec![];
    let mut curves = vec![];
    let curve = |r: &[f64]| {
        let mut v = 1.0;
        r.iter()
            .map(|x| {
                v *= 1.0 + x;
                v
            })
            .collect::<Vec<f64>>()
    };
    for (l, s) in &all {
        let recorded: Option<serde_json::Value> = l
            .recorded
            .and_then(|r| serde_json::from_str(&r.metrics).ok());
        models.push(ModelLine {
            name: l.name.clone(),
            model_id: l.model_id.clone(),
            kind: l.kind.clone(),
            accuracy: recorded.as_ref().and_then(|m| m["accuracy"].as_f64()),
            auc: recorded.as_ref().and_then(|m| m["auc"].as_f64()),
            turnover: s.turnover,
            metrics: analytics::metrics(&s.returns, Some(&hold.returns), ppy, trials, var),
        });
        curves.push((l.name.clone(), curve(&s.returns)));
    }
    models.push(ModelLine {
        name: "buy_and_hold".into(),
        model_id: String::new(),
        kind: "baseline".into(),
        accuracy: None,
        auc: None,
        turnover: hold.turnover,
        metrics: analytics::metrics(&hold.returns, None, ppy, 1, 0.0),
    });
    curves.push(("buy_and_hold".into(), curve(&hold.returns)));
    let stamp = |us: i64| elite_warehouse::Timestamp::from_nanos(us * 1000).to_string();
    Ok(GroupReport {
        group: group.to_string(),
        timeframe: cfg.data.timeframe.clone(),
        bars_version: newest.bars_version,
        symbols: symbols.len(),
        start: hold.dates.first().map(|d| stamp(*d)).unwrap_or_default(),
        end: hold.dates.last().map(|d| stamp(*d)).unwrap_or_default(),
        cost_bps: cfg.validation.cost_bps,
        models,
        dates: hold.dates.iter().map(|d| d * 1000).collect(),
        curves,
    })
}
