//! `elite features build`: materialize a feature set (and forward labels) from the `bars` table
//! at one version into `features` (and `labels`), recording the bars version each row came from.
//! Idempotent on the tables' keys: re-running over the same version adds nothing.

use std::collections::{BTreeMap, HashMap};

use elite_pipelines::features::{FeatureEngine, FeatureSet, forward_labels};
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{FeatureValue, FeaturesBuilder, Label, LabelsBuilder, Symbol, tables};
use serde::{Deserialize, Serialize};

use crate::bars::{BarEvent, BarQuery, read_bars};

/// What a build did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BuildReport {
    pub feature_set: String,
    pub feature_set_version: i32,
    pub bars_version: Option<u64>,
    pub series: usize,
    pub bars: usize,
    pub feature_rows: usize,
    pub feature_rows_added: usize,
    pub label_rows: usize,
    pub label_rows_added: usize,
}

/// Group bars into series (symbol, timeframe), each in ts_event order.
pub fn series(bars: Vec<BarEvent>) -> BTreeMap<(String, String), Vec<BarEvent>> {
    let mut m: BTreeMap<(String, String), Vec<BarEvent>> = BTreeMap::new();
    for b in bars {
        m.entry((b.symbol.to_string(), b.timeframe.to_string()))
            .or_default()
            .push(b);
    }
    for v in m.values_mut() {
        v.sort_by_key(|b| b.ts_event);
    }
    m
}

/// Feature rows of one series (warm-up values are absent, not null).
pub fn feature_rows(
    set: &FeatureSet,
    bars: &[BarEvent],
    source_version: i64,
) -> crate::Result<Vec<FeatureValue>> {
    let mut engine = set.engine();
    let names = set.names();
    let mut vals = Vec::with_capacity(names.len());
    let mut out = vec![];
    for b in bars {
        engine.update(&b.timed(), &mut vals);
        push_rows(set, &names, b, &vals, "bars", source_version, |r| {
            out.push(r)
        })?;
    }
    Ok(out)
}

/// The rows of one bar's feature values (`None`: warming up, no row).
fn push_rows(
    set: &FeatureSet,
    names: &[String],
    b: &BarEvent,
    vals: &[Option<f64>],
    source_table: &str,
    source_version: i64,
    mut out: impl FnMut(FeatureValue),
) -> crate::Result<()> {
    let symbol = Symbol::new(b.symbol.as_ref())?;
    for (name, v) in names.iter().zip(vals) {
        if let Some(v) = v {
            out(FeatureValue {
                symbol: symbol.clone(),
                timeframe: b.timeframe,
                ts_event: b.ts_event,
                ts_recv: b.ts_recv,
                feature_set: set.name.clone(),
                feature_set_version: set.version,
                feature: name.clone(),
                value: *v,
                source_table: source_table.into(),
                source_version,
            });
        }
    }
    Ok(())
}

/// Every feature row `build` would land (labels aside), without landing them: `features build
/// --dry-run`, and the batch side of the live chain's batch = stream test.
pub async fn preview(
    wh: &Warehouse,
    set: &FeatureSet,
    query: &BarQuery,
) -> crate::Result<Vec<FeatureValue>> {
    let (bars, version) = read_bars(wh, query).await?;
    let v = version.map_or(-1, |v| v as i64);
    let mut out = vec![];
    for bars in series(bars).values() {
        out.extend(feature_rows(set, bars, v)?);
    }
    Ok(out)
}

/// A feature set computed bar by bar by the signal runner: one engine per series, the rows
/// of the bars since the last commit, and the engines' state for the runner's checkpoint.
/// Row for row the same as [`build`] over the same bars (the same engine, fed in time order).
pub struct LiveFeatures {
    set: FeatureSet,
    names: Vec<String>,
    engines: HashMap<String, FeatureEngine>,
    vals: Vec<Option<f64>>,
    rows: FeaturesBuilder,
}

/// The engines' state in a checkpoint (with the set it belongs to).
#[derive(Serialize)]
pub struct FeatureStateRef<'a> {
    set: &'a str,
    version: i32,
    engines: &'a HashMap<String, FeatureEngine>,
}

/// [`FeatureStateRef`] read back.
#[derive(Deserialize)]
pub struct FeatureState {
    set: String,
    version: i32,
    engines: HashMap<String, FeatureEngine>,
}

impl LiveFeatures {
    /// Start `set`, from a checkpoint's state when resuming (which must be of the same set).
    pub fn new(set: FeatureSet, resumed: Option<FeatureState>) -> crate::Result<Self> {
        let engines = match resumed {
            None => HashMap::new(),
            Some(s) if s.set == set.name && s.version == set.version => s.engines,
            Some(s) => {
                return Err(crate::Error::Config(format!(
                    "the checkpoint holds feature set {}@v{}, not {}@v{}: start it with --fresh",
                    s.set, s.version, set.name, set.version
                )));
            }
        };
        Ok(Self {
            names: set.names(),
            set,
            engines,
            vals: vec![],
            rows: FeaturesBuilder::default(),
        })
    }

    /// Feed one bar (each series in time order); returns how many feature rows it made.
    pub fn on_bar(
        &mut self,
        b: &BarEvent,
        source_table: &str,
        source_version: i64,
    ) -> crate::Result<usize> {
        let e = self
            .engines
            .entry(format!("{}|{}", b.symbol, b.timeframe))
            .or_insert_with(|| self.set.engine());
        e.update(&b.timed(), &mut self.vals);
        let before = self.rows.len();
        let rows = &mut self.rows;
        push_rows(
            &self.set,
            &self.names,
            b,
            &self.vals,
            source_table,
            source_version,
            |r| rows.push(r),
        )?;
        Ok(self.rows.len() - before)
    }

    /// Land the rows made since the last call (idempotent on the table's key); rows added.
    pub async fn land(&mut self, wh: &Warehouse, meta: CommitMeta) -> crate::Result<u64> {
        if self.rows.is_empty() {
            return Ok(0);
        }
        let batch = std::mem::take(&mut self.rows).finish()?;
        Ok(wh
            .insert_new(&tables::FEATURES, vec![batch], meta)
            .await?
            .rows_added as u64)
    }

    /// The state a checkpoint keeps.
    pub fn state(&self) -> FeatureStateRef<'_> {
        FeatureStateRef {
            set: &self.set.name,
            version: self.set.version,
            engines: &self.engines,
        }
    }
}

/// Build `set` (and labels for `horizons`) over the bars matching `query`.
pub async fn build(
    wh: &Warehouse,
    set: &FeatureSet,
    query: &BarQuery,
    horizons: &[usize],
    progress: &dyn crate::progress::Reporter,
) -> crate::Result<BuildReport> {
    let (bars, version) = read_bars(wh, query).await?;
    let mut report = BuildReport {
        feature_set: set.name.clone(),
        feature_set_version: set.version,
        bars_version: version,
        bars: bars.len(),
        ..Default::default()
    };
    let v = version.map_or(-1, |v| v as i64);
    let all = series(bars);
    report.series = all.len();
    progress.stage("features", Some(all.len() as u64));
    let mut fb = FeaturesBuilder::default();
    let mut lb = LabelsBuilder::default();
    for (i, bars) in all.values().enumerate() {
        for r in feature_rows(set, bars, v)? {
            fb.push(r);
        }
        let closes: Vec<f64> = bars.iter().map(|b| b.bar.close).collect();
        for &h in horizons {
            for (j, l) in forward_labels(&closes, h, 0.0).into_iter().enumerate() {
                let Some((ret, dir)) = l else { continue };
                let (b, known) = (&bars[j], &bars[j + h]);
                lb.push(Label {
                    symbol: Symbol::new(b.symbol.as_ref())?,
                    timeframe: b.timeframe,
                    ts_event: b.ts_event,
                    ts_recv: known.ts_recv,
                    horizon: h as i32,
                    fwd_return: ret,
                    direction: dir,
                    source_version: v,
                });
            }
        }
        progress.progress(i as u64 + 1);
    }
    progress.finish();
    report.feature_rows = fb.len();
    report.label_rows = lb.len();
    let meta = |what: &str| {
        CommitMeta::new(format!("{what}:{}@v{}", set.name, set.version)).with("bars_version", v)
    };
    if !fb.is_empty() {
        report.feature_rows_added = wh
            .insert_new(&tables::FEATURES, vec![fb.finish()?], meta("features"))
            .await?
            .rows_added;
    }
    if !lb.is_empty() {
        report.label_rows_added = wh
            .insert_new(&tables::LABELS, vec![lb.finish()?], meta("labels"))
            .await?
            .rows_added;
    }
    Ok(report)
}
