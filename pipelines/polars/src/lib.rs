//! # elite-polars — Elite's indicators and feature sets on polars DataFrames
//!
//! For feature jobs written against polars: add indicator or feature-set columns to a
//! DataFrame of bars, computed per symbol by the same `update` the batch, SQL and stream paths
//! use (so the values are bit-for-bit those of `elite features build` and the SQL window
//! functions). Its own crate because polars is heavy to compile; nothing else depends on it.
//!
//! The frame must hold `symbol` (string), `high`, `low`, `close`, `volume` (f64) and `open` for
//! feature sets, sorted by symbol then time (checked only for symbol runs: each symbol must be
//! one contiguous run).
//!
//! ```
//! use polars::prelude::*;
//! let df = df!("symbol" => ["A", "A", "A", "B", "B", "B"],
//!              "close" => [1.0, 2.0, 3.0, 10.0, 9.0, 8.0])?;
//! let out = elite_polars::with_indicators(&df, &["sma(2)"])?;
//! let sma: Vec<Option<f64>> = out.column("sma_2")?.f64()?.iter().collect();
//! assert_eq!(sma, [None, Some(1.5), Some(2.5), None, Some(9.5), Some(8.5)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use elite_pipelines::features::FeatureSet;
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::resample::TimedBar;
use elite_pipelines::spec::{IndicatorSpec, Obs};
use polars::prelude::*;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] elite_pipelines::Error),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("symbol {0} appears in more than one run of rows: sort the frame by symbol, then time")]
    Unsorted(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Row ranges of each symbol's contiguous run.
fn runs(df: &DataFrame) -> Result<Vec<(usize, usize)>> {
    let sym = df.column("symbol")?.str()?;
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut start = 0;
    let mut cur: Option<String> = None;
    for (i, s) in sym.iter().enumerate() {
        let s = s.unwrap_or("").to_string();
        if cur.as_deref() != Some(s.as_str()) {
            if let Some(c) = cur.take() {
                out.push((start, i));
                seen.insert(c);
            }
            if seen.contains(&s) {
                return Err(Error::Unsorted(s));
            }
            start = i;
            cur = Some(s);
        }
    }
    if cur.is_some() {
        out.push((start, df.height()));
    }
    Ok(out)
}

fn f64s(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    match df.column(name) {
        Ok(c) => Ok(c.cast(&DataType::Float64)?.f64()?.iter().collect()),
        Err(_) => Ok(vec![None; df.height()]),
    }
}

/// `df` with one column per spec (named by [`IndicatorSpec::column_name`]). A row with a null
/// in a column the indicator reads gives null and leaves the state alone (as in SQL).
pub fn with_indicators(df: &DataFrame, specs: &[&str]) -> Result<DataFrame> {
    let (h, l, c, v) = (
        f64s(df, "high")?,
        f64s(df, "low")?,
        f64s(df, "close")?,
        f64s(df, "volume")?,
    );
    let mut out = df.clone();
    let runs = runs(df)?;
    for text in specs {
        let spec: IndicatorSpec = text.parse()?;
        let need = spec.kind.input().columns();
        let mut vals: Vec<Option<f64>> = Vec::with_capacity(df.height());
        for &(a, b) in &runs {
            let mut ind = spec.build();
            for i in a..b {
                let get = |col: &[Option<f64>], name: &str| {
                    if need.contains(&name) {
                        col[i]
                    } else {
                        Some(0.0)
                    }
                };
                let o = match (
                    get(&h, "high"),
                    get(&l, "low"),
                    get(&c, "close"),
                    get(&v, "volume"),
                ) {
                    (Some(high), Some(low), Some(close), Some(volume)) => Some(Obs {
                        bar: Ohlcv {
                            open: 0.0,
                            high,
                            low,
                            close,
                            volume,
                        },
                        ..Default::default()
                    }),
                    _ => None,
                };
                vals.push(o.and_then(|o| ind.update(&o)));
            }
        }
        out.with_column(Column::new(spec.column_name().into(), vals))?;
    }
    Ok(out)
}

/// `df` with one column per feature of `set` (feature sets read open, high, low, close, volume).
pub fn with_features(df: &DataFrame, set: &FeatureSet) -> Result<DataFrame> {
    let (o, h, l, c, v) = (
        f64s(df, "open")?,
        f64s(df, "high")?,
        f64s(df, "low")?,
        f64s(df, "close")?,
        f64s(df, "volume")?,
    );
    let names = set.names();
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(df.height()); names.len()];
    let mut vals = Vec::with_capacity(names.len());
    for (a, b) in runs(df)? {
        let mut e = set.engine();
        for i in a..b {
            let bar = Ohlcv {
                open: o[i].unwrap_or(f64::NAN),
                high: h[i].unwrap_or(f64::NAN),
                low: l[i].unwrap_or(f64::NAN),
                close: c[i].unwrap_or(f64::NAN),
                volume: v[i].unwrap_or(0.0),
            };
            // Features depend on bar order only; times are not needed here.
            let tb = TimedBar {
                ts_event: Default::default(),
                ts_recv: Default::default(),
                bar,
            };
            e.update(&tb, &mut vals);
            for (k, x) in vals.iter().enumerate() {
                cols[k].push(*x);
            }
        }
    }
    let mut out = df.clone();
    for (name, col) in names.into_iter().zip(cols) {
        out.with_column(Column::new(name.into(), col))?;
    }
    Ok(out)
}
