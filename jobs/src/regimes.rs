//! `elite regimes hmm|rules|stress`: market regimes from the `bars` table, landed point in time in
//! the `regimes` table (see [`elite_pipelines::regime`]).
//!
//! Every row describes one bar and is known when that bar was (`ts_recv`): HMM states are filtered
//! with models refitted on the rows up to a refit point, rule states read closes up to the bar,
//! and the stress index reads the universe's closes up to the day. Rows are keyed by (scope,
//! timeframe, method, ts_event) and never rewritten: a re-run lands only bars that are new, and
//! each row stays what could be known then.

use std::collections::BTreeMap;

use elite_pipelines::regime::hmm::{self, Hmm, HmmOptions};
use elite_pipelines::regime::rules::{RuleOptions, classify, label};
use elite_pipelines::regime::stress::{LEVELS, StressOptions, level, stress_index};
use elite_pipelines::regime::{hmm_label, walk_forward};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Timeframe, Timestamp, tables};
use serde::Serialize;

use crate::bars::aligned_closes;
use crate::{Error, Result};

/// Which regime model.
#[derive(Clone, Debug)]
pub enum Method {
    /// A Gaussian HMM with `states` states on (return, `window`-bar volatility), refitted every
    /// `refit` rows once `min_train` rows exist.
    Hmm {
        states: usize,
        window: usize,
        refit: usize,
        min_train: usize,
    },
    Rules(RuleOptions),
    /// The stress index of the symbols' universe, named `scope`.
    Stress {
        scope: String,
        opts: StressOptions,
    },
}

/// What to classify.
#[derive(Clone, Debug)]
pub struct RegimeOptions {
    pub method: Method,
    /// One symbol (hmm, rules) or the universe (stress; empty = every symbol at the timeframe).
    pub symbols: Vec<String>,
    pub timeframe: Timeframe,
}

/// A `regimes` row.
#[derive(Clone, Debug, Serialize)]
pub struct RegimeRow {
    pub scope: String,
    pub timeframe: String,
    pub method: String,
    pub ts_event: i64,
    pub ts_recv: i64,
    pub state: i32,
    pub label: String,
    pub value: f64,
    pub detail: String,
}

/// The newest row, for people.
#[derive(Clone, Debug, Serialize)]
pub struct Latest {
    /// The bar it describes.
    pub as_of: String,
    /// When it was known.
    pub known: String,
    pub state: i32,
    pub label: String,
    pub value: f64,
    pub detail: String,
}

/// What a run found and landed.
#[derive(Clone, Debug, Serialize)]
pub struct RegimeRun {
    pub scope: String,
    pub method: String,
    pub timeframe: String,
    /// Bars classified (rows with a state).
    pub rows: usize,
    /// Rows new to the `regimes` table.
    pub rows_added: usize,
    /// Bars per label.
    pub counts: BTreeMap<String, usize>,
    /// The newest row.
    pub latest: Option<Latest>,
    /// The last HMM fitted (hmm only).
    pub model: Option<Hmm>,
}

/// One symbol's positive closes by `ts_event`, with when each was known.
struct Series {
    ts_event: Vec<Timestamp>,
    ts_recv: Vec<Timestamp>,
    closes: Vec<f64>,
}

async fn series(wh: &Warehouse, symbol: &str, tf: Timeframe) -> Result<Series> {
    let a = aligned_closes(wh, &[symbol.to_string()], tf).await?;
    Ok(Series {
        ts_event: a.dates,
        ts_recv: a.known,
        closes: a.closes.into_iter().map(|c| c[0]).collect(),
    })
}

/// The HMM's defaults (those of the `hmm_turbulent` feature): other settings name their method
/// `hmm<K>_w<window>_r<refit>_m<min_train>` so rows of different settings never share a key.
pub const HMM_DEFAULTS: (usize, usize, usize) = (20, 63, 504);

fn method_name(m: &Method) -> String {
    match m {
        Method::Hmm {
            states,
            window,
            refit,
            min_train,
        } if (*window, *refit, *min_train) != HMM_DEFAULTS => {
            format!("hmm{states}_w{window}_r{refit}_m{min_train}")
        }
        Method::Hmm { states, .. } => format!("hmm{states}"),
        Method::Rules(_) => "rules".into(),
        Method::Stress { .. } => "stress".into(),
    }
}

fn one_symbol(opts: &RegimeOptions) -> Result<&str> {
    match opts.symbols.as_slice() {
        [s] => Ok(s),
        _ => Err(Error::Config(format!(
            "{} classifies one symbol; got {}",
            method_name(&opts.method),
            opts.symbols.len()
        ))),
    }
}

/// Classify and land.
pub async fn regimes(wh: &Warehouse, opts: &RegimeOptions) -> Result<RegimeRun> {
    let method = method_name(&opts.method);
    let timeframe = opts.timeframe.to_string();
    let mut model = None;
    let row = |scope: &str,
               te: Timestamp,
               tr: Timestamp,
               state: i32,
               label: String,
               value: f64,
               detail: String| {
        RegimeRow {
            scope: scope.to_string(),
            timeframe: timeframe.clone(),
            method: method.clone(),
            ts_event: te.as_nanos().div_euclid(1000),
            ts_recv: tr.as_nanos().div_euclid(1000),
            state,
            label,
            value,
            detail,
        }
    };
    let (scope, rows): (String, Vec<RegimeRow>) = match &opts.method {
        Method::Hmm {
            states,
            window,
            refit,
            min_train,
        } => {
            let sym = one_symbol(opts)?;
            let s = series(wh, sym, opts.timeframe).await?;
            let xs = hmm::features(&s.closes, *window);
            let hopts = HmmOptions {
                states: *states,
                ..HmmOptions::default()
            };
            if xs.len() < *min_train {
                return Err(Error::Config(format!(
                    "{sym} {timeframe}: {} feature rows; the HMM needs --min-train {min_train}",
                    xs.len()
                )));
            }
            let (filtered, last) = walk_forward(&xs, &hopts, *min_train, *refit);
            model = last;
            let rows = filtered
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let f = f.as_ref()?;
                    // Feature row i describes close i + window.
                    let t = i + window;
                    let detail = serde_json::json!({
                        "probs": f.probs,
                        "fitted_through": s.ts_event[f.fitted_through + window].to_string(),
                    });
                    Some(row(
                        sym,
                        s.ts_event[t],
                        s.ts_recv[t],
                        f.state as i32,
                        hmm_label(f.state, *states),
                        f.probs[f.state],
                        detail.to_string(),
                    ))
                })
                .collect();
            (sym.to_string(), rows)
        }
        Method::Rules(ro) => {
            let sym = one_symbol(opts)?;
            let s = series(wh, sym, opts.timeframe).await?;
            let rows = classify(&s.closes, ro)
                .iter()
                .enumerate()
                .filter_map(|(t, st)| {
                    let st = st.as_ref()?;
                    let detail = serde_json::json!({"vol_pct": st.vol_pct, "trend": st.trend});
                    Some(row(
                        sym,
                        s.ts_event[t],
                        s.ts_recv[t],
                        i32::from(st.state),
                        label(st.state),
                        st.trend,
                        detail.to_string(),
                    ))
                })
                .collect();
            (sym.to_string(), rows)
        }
        Method::Stress { scope, opts: so } => {
            let u = aligned_closes(wh, &opts.symbols, opts.timeframe).await?;
            if u.symbols.len() < 2 {
                return Err(Error::Config(format!(
                    "the stress index needs at least 2 symbols with {} bars; found {}",
                    opts.timeframe,
                    u.symbols.len()
                )));
            }
            let (dates, recv, panel) = (u.dates, u.known, u.closes);
            let points = stress_index(&panel, so);
            let rows = points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let v = p.index?;
                    // Point i is the return into close i + 1.
                    let lv = level(v);
                    let detail = serde_json::json!({
                        "vol": p.vol, "corr": p.corr, "dispersion": p.dispersion,
                        "drawdown": p.drawdown, "symbols": panel[0].len(),
                    });
                    Some(row(
                        scope,
                        dates[i + 1],
                        recv[i + 1],
                        i32::from(lv),
                        LEVELS[lv as usize].into(),
                        v,
                        detail.to_string(),
                    ))
                })
                .collect();
            (scope.clone(), rows)
        }
    };
    let mut counts = BTreeMap::new();
    for r in &rows {
        *counts.entry(r.label.clone()).or_insert(0) += 1;
    }
    let rows_added = crate::run::journal::insert(
        wh,
        &tables::REGIMES,
        &rows,
        CommitMeta::new(format!("regimes:{method}:{scope}")),
    )
    .await?;
    Ok(RegimeRun {
        scope,
        method,
        timeframe,
        rows: rows.len(),
        rows_added,
        counts,
        latest: rows.last().map(|r| Latest {
            as_of: Timestamp::from_nanos(r.ts_event * 1000).to_string(),
            known: Timestamp::from_nanos(r.ts_recv * 1000).to_string(),
            state: r.state,
            label: r.label.clone(),
            value: r.value,
            detail: r.detail.clone(),
        }),
        model,
    })
}
