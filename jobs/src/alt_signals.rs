//! Alternative data as rule signals, so the `event` strategy (and anything that reads `signals`)
//! acts on news sentiment and earnings surprises exactly as on indicator rules, known-only:
//!
//! - `news_sentiment`: the mean score of a symbol's scored news items that became known during a
//!   bar (after the previous bar's close, up to this one's), when |mean| ≥ the threshold;
//!   direction = its sign, strength = |mean|;
//! - `earnings_surprise`: a reported quarter's surprise, on the first bar that closed after it was
//!   known; direction = its sign, strength = |surprise| (a fraction, capped at 1);
//! - `social_spike` (with [`SocialSpikes`]): a completed bucket of a symbol's social posts whose
//!   mention count is a spike (robust z-score ≥ threshold against the trailing window, see
//!   [`elite_pipelines::mentions`]); known when the bucket ends; direction = the sign of the
//!   mean VADER compound score of the bucket's posts (no signal when it is 0), strength =
//!   z / (2 · threshold), capped at 1.
//!
//! Each signal sits on the first bar whose close (`ts_recv`) is at or after the item's `ts_recv`,
//! and carries that item's `ts_recv` as its own: the decision at that close is the first that
//! could act on it.

use std::collections::{BTreeMap, HashMap};

use arrow::array::AsArray;
use elite_store::datafusion::prelude::{col, lit};
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::{SignalRow, SignalsBuilder, Symbol, Timeframe, Timestamp, tables};
use serde::Serialize;

use crate::alt::{strings, times};
use crate::bars::{BarQuery, read_bars};
use crate::{Error, Result};

/// What an alt-signals run did.
#[derive(Clone, Debug, Serialize)]
pub struct AltSignalsReport {
    pub news_signals: usize,
    pub earnings_signals: usize,
    pub social_signals: usize,
    /// Spikes whose posts' mean sentiment is exactly 0: no direction, no signal.
    pub social_spikes_undirected: usize,
    /// Items of symbols without bars of the timeframe, or after the last bar.
    pub items_unplaced: usize,
    pub rows_added: usize,
}

/// How social posts become `social_spike` signals.
#[derive(Clone, Debug)]
pub struct SocialSpikes {
    pub bucket_ns: i64,
    pub window: usize,
    pub threshold: f64,
    /// Only buckets complete by then count.
    pub until: Timestamp,
}

/// Land `news_sentiment`, `earnings_surprise` (and with `social`, `social_spike`) signals on
/// `timeframe` bars.
pub async fn alt_signals(
    wh: &Warehouse,
    timeframe: Timeframe,
    version: &str,
    threshold: f64,
    social: Option<&SocialSpikes>,
) -> Result<AltSignalsReport> {
    let (bars, _) = read_bars(
        wh,
        &BarQuery {
            timeframe: Some(timeframe),
            symbols: vec![],
            version: None,
        },
    )
    .await?;
    // Per symbol: (bar close, bar open), ascending by close.
    let mut closes: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for b in &bars {
        closes
            .entry(b.symbol.to_string())
            .or_default()
            .push((b.ts_recv.as_nanos(), b.ts_event.as_nanos()));
    }
    closes.values_mut().for_each(|v| v.sort());
    let place = |sym: &str, recv: i64| -> Option<(i64, i64)> {
        let v = closes.get(sym)?;
        v.get(v.partition_point(|(close, _)| *close < recv))
            .copied()
    };
    let mut unplaced = 0;

    // News: mean score per (symbol, bar), known at the latest item's ts_recv.
    let filter = col("version")
        .eq(lit(version))
        .and(col("symbol").not_eq(lit("")));
    let mut news: BTreeMap<(String, i64), (f64, usize, i64)> = BTreeMap::new();
    for b in wh
        .read(tables::SENTIMENT.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(sym), Some(tr), Some(score)) = (
            strings(&b, "symbol"),
            times(&b, "ts_recv"),
            b.column_by_name("score")
                .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone()),
        ) else {
            return Err(Error::Internal("sentiment: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            let recv = tr.value(i).saturating_mul(1000);
            let Some((_, open)) = place(sym.value(i), recv) else {
                unplaced += 1;
                continue;
            };
            let e = news.entry((sym.value(i).to_string(), open)).or_default();
            e.0 += score.value(i);
            e.1 += 1;
            e.2 = e.2.max(recv);
        }
    }
    let mut out = SignalsBuilder::default();
    let push = |out: &mut SignalsBuilder,
                sym: &str,
                open: i64,
                recv: i64,
                rule: &str,
                x: f64,
                detail: String|
     -> Result<()> {
        out.push(SignalRow {
            symbol: Symbol::new(sym)?,
            timeframe,
            ts_event: Timestamp::from_nanos(open),
            ts_recv: Timestamp::from_nanos(recv),
            rule: rule.into(),
            direction: if x > 0.0 { 1 } else { -1 },
            strength: x.abs().min(1.0),
            features: detail,
        });
        Ok(())
    };
    let mut news_signals = 0;
    for ((sym, open), (sum, n, recv)) in &news {
        let mean = sum / *n as f64;
        if mean.abs() >= threshold && mean != 0.0 {
            let detail = serde_json::json!({"mean_score": mean, "items": n, "version": version});
            push(
                &mut out,
                sym,
                *open,
                *recv,
                "news_sentiment",
                mean,
                detail.to_string(),
            )?;
            news_signals += 1;
        }
    }

    // Earnings surprises.
    let filter = col("kind").eq(lit("reported"));
    let mut earnings_signals = 0;
    for b in wh
        .read(tables::EARNINGS.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(sym), Some(tr), Some(sp)) = (
            strings(&b, "symbol"),
            times(&b, "ts_recv"),
            b.column_by_name("surprise_pct")
                .map(|c| c.as_primitive::<arrow::datatypes::Float64Type>().clone()),
        ) else {
            return Err(Error::Internal("earnings: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            use arrow::array::Array;
            if sp.is_null(i) || sp.value(i) == 0.0 || !sp.value(i).is_finite() {
                continue;
            }
            let recv = tr.value(i).saturating_mul(1000);
            let Some((_, open)) = place(sym.value(i), recv) else {
                unplaced += 1;
                continue;
            };
            let detail = serde_json::json!({"surprise_pct": sp.value(i)});
            push(
                &mut out,
                sym.value(i),
                open,
                recv,
                "earnings_surprise",
                sp.value(i),
                detail.to_string(),
            )?;
            earnings_signals += 1;
        }
    }
    let (social_signals, social_spikes_undirected) = match social {
        None => (0, 0),
        Some(cfg) => {
            let (made, undirected, off) =
                social_spike_signals(wh, cfg, &place, &mut |sym, open, end, x, detail| {
                    push(&mut out, sym, open, end, "social_spike", x, detail)
                })
                .await?;
            unplaced += off;
            (made, undirected)
        }
    };
    let rows_added = if out.is_empty() {
        0
    } else {
        wh.insert_new(
            &tables::SIGNALS,
            vec![out.finish()?],
            CommitMeta::new("alt-signals").with("version", version),
        )
        .await?
        .rows_added
    };
    Ok(AltSignalsReport {
        news_signals,
        earnings_signals,
        social_signals,
        social_spikes_undirected,
        items_unplaced: unplaced,
        rows_added,
    })
}

/// The bar (close, open) an item known at a time sits on, of a symbol.
type Place<'a> = dyn Fn(&str, i64) -> Option<(i64, i64)> + 'a;
/// `(symbol, bar open, known, signed strength, detail)` → a signal row.
type Emit<'a> = dyn FnMut(&str, i64, i64, f64, String) -> Result<()> + 'a;

/// Each spike of each symbol's mentions, with the direction of its posts' mean VADER compound:
/// `emit(symbol, bar open, bucket end, signed strength, detail)`. Returns (signals, undirected
/// spikes, spikes after the last bar or of symbols without bars).
async fn social_spike_signals(
    wh: &Warehouse,
    cfg: &SocialSpikes,
    place: &Place<'_>,
    emit: &mut Emit<'_>,
) -> Result<(usize, usize, usize)> {
    let filter = col("symbol").not_eq(lit(""));
    // Per symbol: (ts_recv ns, text).
    let mut posts: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for b in wh
        .read(tables::SOCIAL_POSTS.name, At::Latest, Some(filter))
        .await?
    {
        let (Some(sym), Some(tr), Some(text)) = (
            strings(&b, "symbol"),
            times(&b, "ts_recv"),
            strings(&b, "text"),
        ) else {
            return Err(Error::Internal("social_posts: a column is missing".into()));
        };
        for i in 0..b.num_rows() {
            posts
                .entry(sym.value(i).to_string())
                .or_default()
                .push((tr.value(i).saturating_mul(1000), text.value(i).to_string()));
        }
    }
    let (mut made, mut undirected, mut unplaced) = (0, 0, 0);
    for (sym, mut items) in posts {
        items.sort();
        let times: Vec<Timestamp> = items
            .iter()
            .map(|(t, _)| Timestamp::from_nanos(*t))
            .collect();
        for b in elite_pipelines::mentions::spikes(
            &times,
            cfg.bucket_ns,
            cfg.window,
            cfg.threshold,
            cfg.until,
        ) {
            let (Some(z), true) = (b.z, b.spike) else {
                continue;
            };
            let (start, end) = (b.start.as_nanos(), b.start.as_nanos() + cfg.bucket_ns);
            let lo = items.partition_point(|(t, _)| *t < start);
            let hi = items.partition_point(|(t, _)| *t < end);
            let scores: Vec<f64> = items[lo..hi]
                .iter()
                .map(|(_, text)| elite_text::vader::polarity_scores(text).compound)
                .collect();
            let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
            if mean == 0.0 || !mean.is_finite() {
                undirected += 1;
                continue;
            }
            let Some((_, open)) = place(&sym, end) else {
                unplaced += 1;
                continue;
            };
            let strength = (z / (2.0 * cfg.threshold)).min(1.0);
            let detail = serde_json::json!({
                "bucket_start": b.start.to_string(),
                "mentions": b.count,
                "z": z,
                "mean_compound": mean,
            });
            emit(&sym, open, end, strength.copysign(mean), detail.to_string())?;
            made += 1;
        }
    }
    Ok((made, undirected, unplaced))
}
