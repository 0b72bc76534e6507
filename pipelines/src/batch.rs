//! Batch forms: run an indicator over Arrow arrays (one series, in time order) with the same
//! `update` the stream uses. A row with a null in any column the indicator reads gives a null
//! and does not touch the state (the stream skips such records the same way).

use crate::indicators::Ohlcv;
use crate::spec::{IndicatorSpec, InputKind, Obs};
use arrow_array::{Array, Float64Array, Int64Array};

/// Input columns of one series (one symbol, ordered by time). Columns an indicator does not
/// read may be `None`.
#[derive(Clone, Copy, Default)]
pub struct Columns<'a> {
    pub high: Option<&'a Float64Array>,
    pub low: Option<&'a Float64Array>,
    pub close: Option<&'a Float64Array>,
    pub volume: Option<&'a Float64Array>,
    pub session: Option<&'a Int64Array>,
    /// The second series of pair indicators.
    pub other: Option<&'a Float64Array>,
}

impl Columns<'_> {
    /// The observation at row `i`, or `None` when a column the input kind needs is null or absent.
    pub fn obs(&self, kind: InputKind, i: usize) -> Option<Obs> {
        fn get(a: Option<&Float64Array>, i: usize) -> Option<f64> {
            let a = a?;
            (i < a.len() && a.is_valid(i)).then(|| a.value(i))
        }
        let mut o = Obs::default();
        let need: &[&str] = kind.columns();
        for c in need {
            match *c {
                "high" => o.bar.high = get(self.high, i)?,
                "low" => o.bar.low = get(self.low, i)?,
                "close" | "x" => o.bar.close = get(self.close, i)?,
                "volume" => o.bar.volume = get(self.volume, i)?,
                "y" => o.other = get(self.other, i)?,
                "session" => {
                    let s = self.session?;
                    if i >= s.len() || s.is_null(i) {
                        return None;
                    }
                    o.session = s.value(i);
                }
                _ => {}
            }
        }
        Some(o)
    }
}

/// Run `spec` over `len` rows of `cols`.
pub fn run(spec: &IndicatorSpec, cols: &Columns<'_>, len: usize) -> Float64Array {
    let kind = spec.kind.input();
    let mut ind = spec.build();
    (0..len)
        .map(|i| cols.obs(kind, i).and_then(|o| ind.update(&o)))
        .collect()
}

/// Run `spec` over plain bars (a convenience for tests and jobs that hold `Ohlcv` values).
pub fn run_bars(spec: &IndicatorSpec, bars: &[Ohlcv]) -> Vec<Option<f64>> {
    let mut ind = spec.build();
    bars.iter()
        .map(|b| {
            ind.update(&Obs {
                bar: *b,
                ..Default::default()
            })
        })
        .collect()
}
