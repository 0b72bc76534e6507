//! Training and prediction datasets built from a feature set over bars.
//!
//! A [`Dataset`] is a row-major feature matrix with one row per (symbol, bar) whose selected
//! features are all present, plus what each row may and may not know:
//! - `ts_recv` is when the row's features are known (its bar's close arrived): the earliest a
//!   prediction from it can be made;
//! - the label (forward return over `horizon` bars, and its sign) is known only at
//!   `label.known_at`, the `ts_recv` of the bar `horizon` bars later. Validation uses this to
//!   purge training rows whose labels were not yet known when a test period starts.
//!
//! Rows of one series are contiguous and in time order, so a sequence model's input for row `i`
//! is the slice of rows `i−L+1..=i` ([`Dataset::window`]).

use crate::{Result, error::input};
use elite_pipelines::features::{FeatureSet, forward_labels};
use elite_pipelines::resample::TimedBar;
use serde::{Deserialize, Serialize};

/// One symbol's bars in time order.
#[derive(Clone, Debug)]
pub struct Series {
    pub symbol: String,
    pub bars: Vec<TimedBar>,
}

/// What a row's future turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// close[t+h] / close[t] − 1.
    pub fwd_return: f64,
    /// fwd_return > 0.
    pub up: bool,
    /// When the label is known: ts_recv of bar t+h (ns).
    pub known_at: i64,
    /// close[t+1] / close[t] − 1: the one-bar return a position taken at t earns.
    pub next_return: f64,
}

/// One (symbol, bar) row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Index into [`Dataset::symbols`].
    pub series: u32,
    /// Index of the bar within its series.
    pub pos: u32,
    /// ns since the epoch.
    pub ts_event: i64,
    /// ns since the epoch: when the features are known.
    pub ts_recv: i64,
    pub label: Option<Label>,
    /// Market regime from this series' own past closes: bit 1 = volatility above its long-run
    /// level (20-bar vs 250-bar), bit 0 = close above its 100-bar mean; bits 2–3 the rule-based
    /// regime ([`elite_pipelines::regime::rules`]): bit 2 = bull, bit 3 = high volatility.
    pub regime: u8,
}

/// Indices into `set.names()` of the selected features (all, in order, when `select` is None).
fn pick(set: &FeatureSet, select: Option<&[String]>) -> Result<Vec<usize>> {
    let names = set.names();
    match select {
        None => Ok((0..names.len()).collect()),
        Some(sel) => sel
            .iter()
            .map(|s| {
                names.iter().position(|n| n == s).ok_or_else(|| {
                    input(
                        format!("feature {s:?}"),
                        format!("not in feature set {} v{}", set.name, set.version),
                    )
                })
            })
            .collect(),
    }
}

/// The streaming side of [`Dataset::build`] for one symbol: the same feature engine and the same
/// row rule, bar by bar. [`LiveSeries::push`] returns, for a bar that makes a row, a dataset of
/// the last `seq_len` rows (no labels: the future is not known) whose last row is that bar, so a
/// model predicts it through the same [`crate::model::Model::predict`] as in batch.
pub struct LiveSeries {
    template: Dataset,
    pick: Vec<usize>,
    engine: elite_pipelines::features::FeatureEngine,
    vals: Vec<Option<f64>>,
    seq_len: usize,
    bars: u32,
    /// The last `seq_len` rows: (row, features).
    recent: std::collections::VecDeque<(Row, Vec<f64>)>,
}

impl LiveSeries {
    pub fn new(
        set: &FeatureSet,
        select: Option<&[String]>,
        symbol: &str,
        seq_len: usize,
        horizon: usize,
    ) -> Result<Self> {
        let pick = pick(set, select)?;
        let names = set.names();
        Ok(Self {
            template: Dataset {
                feature_set: set.name.clone(),
                feature_set_version: set.version,
                features: pick.iter().map(|&i| names[i].clone()).collect(),
                symbols: vec![symbol.to_string()],
                horizon,
                ..Default::default()
            },
            pick,
            engine: set.engine(),
            vals: vec![],
            seq_len: seq_len.max(1),
            bars: 0,
            recent: Default::default(),
        })
    }

    /// The symbol's scored text items (sets with sentiment features), as in
    /// [`Dataset::build_with_text`].
    pub fn set_text(&mut self, events: Vec<elite_pipelines::sentiment::TextEvent>) {
        self.engine.set_text(events);
    }

    /// The symbol's earnings records (sets with earnings features).
    pub fn set_earnings(&mut self, events: Vec<elite_pipelines::earnings::EarningsEvent>) {
        self.engine.set_earnings(events);
    }

    /// The symbol's records of every alternative-data kind the set reads.
    pub fn set_events(&mut self, events: &elite_pipelines::features::SymbolEvents) {
        let symbol = self.template.symbols[0].clone();
        events.apply(&symbol, &mut self.engine);
    }

    /// Feed the next bar; `Some(dataset)` when it makes a row (its features are all present).
    pub fn push(&mut self, b: &TimedBar) -> Option<Dataset> {
        let pos = self.bars;
        self.bars += 1;
        self.engine.update(b, &mut self.vals);
        let row: Vec<f64> = self
            .pick
            .iter()
            .map(|&j| self.vals[j].filter(|v| v.is_finite()))
            .collect::<Option<_>>()?;
        if self.recent.len() == self.seq_len {
            self.recent.pop_front();
        }
        self.recent.push_back((
            Row {
                series: 0,
                pos,
                ts_event: b.ts_event.as_nanos(),
                ts_recv: b.ts_recv.as_nanos(),
                label: None,
                regime: 0,
            },
            row,
        ));
        let mut ds = self.template.clone();
        for (r, x) in &self.recent {
            ds.rows.push(*r);
            ds.x.extend_from_slice(x);
        }
        Some(ds)
    }
}

/// Features and labels of many series.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub feature_set: String,
    pub feature_set_version: i32,
    pub features: Vec<String>,
    pub symbols: Vec<String>,
    pub horizon: usize,
    /// Row-major, `rows.len() × features.len()`.
    pub x: Vec<f64>,
    pub rows: Vec<Row>,
}

impl Dataset {
    /// Compute `set` (restricted to `select` when given, in that order) over every series, with
    /// labels `horizon` bars ahead. Warm-up bars (any selected feature absent or not finite) are
    /// left out.
    pub fn build(
        set: &FeatureSet,
        select: Option<&[String]>,
        series: &[Series],
        horizon: usize,
    ) -> Result<Self> {
        Self::build_with_text(set, select, series, horizon, &Default::default())
    }

    /// [`Self::build`] with each symbol's scored text items (for sets with sentiment features;
    /// a symbol without items gets the no-news values).
    pub fn build_with_text(
        set: &FeatureSet,
        select: Option<&[String]>,
        series: &[Series],
        horizon: usize,
        text: &std::collections::HashMap<String, Vec<elite_pipelines::sentiment::TextEvent>>,
    ) -> Result<Self> {
        let events = elite_pipelines::features::SymbolEvents {
            text: text.clone(),
            ..Default::default()
        };
        Self::build_with_events(set, select, series, horizon, &events)
    }

    /// [`Self::build`] with each symbol's alternative-data records (scored text, earnings,
    /// insider trades: each read by the sets with its features).
    pub fn build_with_events(
        set: &FeatureSet,
        select: Option<&[String]>,
        series: &[Series],
        horizon: usize,
        events: &elite_pipelines::features::SymbolEvents,
    ) -> Result<Self> {
        if horizon == 0 {
            return Err(input("horizon", "must be at least 1 bar"));
        }
        let pick = pick(set, select)?;
        let names = set.names();
        let mut ds = Dataset {
            feature_set: set.name.clone(),
            feature_set_version: set.version,
            features: pick.iter().map(|&i| names[i].clone()).collect(),
            horizon,
            ..Default::default()
        };
        let mut vals = Vec::with_capacity(names.len());
        for s in series {
            let sid = ds.symbols.len() as u32;
            ds.symbols.push(s.symbol.clone());
            let closes: Vec<f64> = s.bars.iter().map(|b| b.bar.close).collect();
            let labels = forward_labels(&closes, horizon, 0.0);
            let regimes = regimes(&closes);
            let mut engine = set.engine();
            events.apply(&s.symbol, &mut engine);
            for (i, b) in s.bars.iter().enumerate() {
                engine.update(b, &mut vals);
                let row: Option<Vec<f64>> = pick
                    .iter()
                    .map(|&j| vals[j].filter(|v| v.is_finite()))
                    .collect();
                let Some(row) = row else { continue };
                let label = labels[i].and_then(|(r, _)| {
                    let next = s.bars.get(i + 1)?.bar.close / closes[i] - 1.0;
                    Some(Label {
                        fwd_return: r,
                        up: r > 0.0,
                        known_at: s.bars[i + horizon].ts_recv.as_nanos(),
                        next_return: next,
                    })
                });
                ds.x.extend(row);
                ds.rows.push(Row {
                    series: sid,
                    pos: i as u32,
                    ts_event: b.ts_event.as_nanos(),
                    ts_recv: b.ts_recv.as_nanos(),
                    label,
                    regime: regimes[i],
                });
            }
        }
        Ok(ds)
    }

    /// Number of features.
    pub fn p(&self) -> usize {
        self.features.len()
    }

    /// Row `i`'s features.
    pub fn row_x(&self, i: usize) -> &[f64] {
        let p = self.p();
        &self.x[i * p..(i + 1) * p]
    }

    /// The `len` consecutive bars of one series ending at row `i` (row-major, `len × p`), or
    /// `None` when the series has fewer usable bars before `i`.
    pub fn window(&self, i: usize, len: usize) -> Option<&[f64]> {
        let first = (i + 1).checked_sub(len)?;
        let (a, b) = (self.rows[first], self.rows[i]);
        (a.series == b.series && b.pos - a.pos == (len - 1) as u32)
            .then(|| &self.x[first * self.p()..(i + 1) * self.p()])
    }

    /// Rows with a known label and a full window of `seq_len` bars, in row order.
    pub fn usable(&self, seq_len: usize) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows[i].label.is_some() && self.window(i, seq_len.max(1)).is_some())
            .collect()
    }

    /// Feature matrix of `rows` (row-major).
    pub fn matrix(&self, rows: &[usize]) -> Vec<f64> {
        let mut m = Vec::with_capacity(rows.len() * self.p());
        for &i in rows {
            m.extend_from_slice(self.row_x(i));
        }
        m
    }

    /// Labels of `rows` (1 up, 0 not); an error names the first row without one.
    pub fn targets(&self, rows: &[usize]) -> Result<Vec<f64>> {
        rows.iter()
            .map(|&i| {
                self.rows[i]
                    .label
                    .map(|l| if l.up { 1.0 } else { 0.0 })
                    .ok_or_else(|| input(format!("row {i}"), "has no label yet"))
            })
            .collect()
    }

    /// Forward returns of `rows`.
    pub fn returns(&self, rows: &[usize]) -> Result<Vec<f64>> {
        rows.iter()
            .map(|&i| {
                self.rows[i]
                    .label
                    .map(|l| l.fwd_return)
                    .ok_or_else(|| input(format!("row {i}"), "has no label yet"))
            })
            .collect()
    }
}

/// Regime per bar from closes up to and including that bar only.
fn regimes(closes: &[f64]) -> Vec<u8> {
    let n = closes.len();
    let mut out = vec![0u8; n];
    let rets: Vec<f64> = (0..n)
        .map(|i| {
            if i == 0 || closes[i - 1] <= 0.0 || closes[i] <= 0.0 {
                0.0
            } else {
                (closes[i] / closes[i - 1]).ln()
            }
        })
        .collect();
    let sd = |s: &[f64]| {
        let m = s.iter().sum::<f64>() / s.len() as f64;
        (s.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / s.len() as f64).sqrt()
    };
    for i in 0..n {
        let mut r = 0u8;
        if i >= 60 {
            let short = sd(&rets[i + 1 - 20..=i]);
            let long = sd(&rets[(i + 1).saturating_sub(250)..=i]);
            if short > long {
                r |= 2;
            }
        }
        let lo = (i + 1).saturating_sub(100);
        let mean = closes[lo..=i].iter().sum::<f64>() / (i + 1 - lo) as f64;
        if closes[i] > mean {
            r |= 1;
        }
        out[i] = r;
    }
    let rules = elite_pipelines::regime::rules::classify(
        closes,
        &elite_pipelines::regime::rules::RuleOptions::default(),
    );
    for (o, r) in out.iter_mut().zip(rules) {
        if let Some(r) = r {
            *o |= u8::from(r.state / 3 == 0) << 2 | u8::from(r.state % 3 == 2) << 3;
        }
    }
    out
}
