//! Named, versioned feature sets and forward labels.
//!
//! A feature set is a list of named expressions over indicator specs; its `version` changes
//! whenever a definition changes, and the `features` table keys rows by (feature set, version),
//! so old materializations stay queryable beside new ones. A [`FeatureEngine`] computes one
//! symbol's features bar by bar with the same `update` as everything else: batch
//! (`elite features build`) and stream (the signal runner) give the same values.
//!
//! Labels look forward and are computed separately ([`forward_labels`]); they are never inputs of
//! a feature. A label's `ts_recv` is the end of the bar `horizon` bars later.

use crate::Result;
use crate::error::spec_err;
use crate::resample::TimedBar;
use crate::spec::{DynIndicator, IndicatorSpec, Obs};
use serde::{Deserialize, Serialize};

/// How a feature is computed from an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// The indicator's value.
    Value(IndicatorSpec),
    /// value / close (price-scale indicators made comparable across symbols).
    OverClose(IndicatorSpec),
    /// close / value − 1 (distance from an average).
    CloseOver(IndicatorSpec),
    /// value / 100 (percent to fraction).
    Percent(IndicatorSpec),
}

impl Expr {
    fn spec(&self) -> IndicatorSpec {
        match *self {
            Expr::Value(s) | Expr::OverClose(s) | Expr::CloseOver(s) | Expr::Percent(s) => s,
        }
    }
    fn apply(&self, v: f64, close: f64) -> Option<f64> {
        let out = match self {
            Expr::Value(_) => v,
            Expr::OverClose(_) => v / close,
            Expr::CloseOver(_) => close / v - 1.0,
            Expr::Percent(_) => v / 100.0,
        };
        out.is_finite().then_some(out)
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Value(s) => write!(f, "{s}"),
            Expr::OverClose(s) => write!(f, "{s} / close"),
            Expr::CloseOver(s) => write!(f, "close / {s} - 1"),
            Expr::Percent(s) => write!(f, "{s} / 100"),
        }
    }
}

/// One named feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureDef {
    pub name: String,
    pub expr: Expr,
}

/// A named, versioned list of features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSet {
    pub name: String,
    pub version: i32,
    /// Indicator-based features.
    pub features: Vec<FeatureDef>,
    /// Append the 158 Alpha158 features (see [`crate::alpha158`]).
    #[serde(default)]
    pub alpha158: bool,
    /// Append higher-timeframe features built from completed higher bars (see [`crate::mtf`]).
    #[serde(default)]
    pub higher: Option<Higher>,
    /// Append the regime and volatility-forecast features (see [`crate::regime::features`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub regime: bool,
    /// Append the sentiment features of the symbol's scored news (see [`crate::sentiment`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sentiment: bool,
    /// Append the earnings features (see [`crate::earnings`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub earnings: bool,
    /// Append the insider-trading features (see [`crate::insider`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insider: bool,
}

/// A higher timeframe for multi-timeframe features: built along a session calendar from the
/// set's own bars, joined as of each bar's `ts_recv` (completed higher bars only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Higher {
    pub calendar: crate::calendar::Calendar,
    pub timeframe: String,
}

/// The higher-timeframe features' names.
pub const HIGHER_FEATURES: [&str; 3] = ["htf_trend", "htf_dist_sma_20", "htf_rsi_14"];

fn spec(s: &str) -> IndicatorSpec {
    // The built-in definitions below are fixed strings, parsed in the `technical_set_parses` test.
    s.parse().unwrap_or(IndicatorSpec {
        kind: crate::spec::Kind::Obv,
        output: 0,
    })
}

impl FeatureSet {
    /// Names of the built-in sets.
    pub const BUILT_IN: &'static [&'static str] = &[
        "technical",
        "alpha158",
        "regime",
        "sentiment",
        "technical+sentiment",
        "earnings",
        "insider",
    ];

    /// `sentiment` v1: aggregates of the symbol's scored news as of each bar (6; see
    /// [`crate::sentiment`]).
    pub fn sentiment() -> Self {
        Self {
            name: "sentiment".into(),
            version: 1,
            features: vec![],
            alpha158: false,
            higher: None,
            regime: false,
            sentiment: true,
            earnings: false,
            insider: false,
        }
    }

    /// `earnings` v1: days to the next announcement, the last surprise and days since it (3;
    /// see [`crate::earnings`]).
    pub fn earnings() -> Self {
        Self {
            name: "earnings".into(),
            version: 1,
            features: vec![],
            alpha158: false,
            higher: None,
            regime: false,
            sentiment: false,
            earnings: true,
            insider: false,
        }
    }

    /// `insider` v1: open-market insider net buying over 30/90 days and by role (7; see
    /// [`crate::insider`]).
    pub fn insider() -> Self {
        Self {
            name: "insider".into(),
            version: 1,
            features: vec![],
            alpha158: false,
            higher: None,
            regime: false,
            sentiment: false,
            earnings: false,
            insider: true,
        }
    }

    /// This set plus the insider features, named `<set>+insider`.
    pub fn with_insider(mut self) -> Self {
        self.name = format!("{}+insider", self.name);
        self.insider = true;
        self
    }

    /// This set plus the earnings features, named `<set>+earnings`.
    pub fn with_earnings(mut self) -> Self {
        self.name = format!("{}+earnings", self.name);
        self.earnings = true;
        self
    }

    /// This set plus the sentiment features, named `<set>+sentiment`.
    pub fn with_sentiment(mut self) -> Self {
        self.name = format!("{}+sentiment", self.name);
        self.sentiment = true;
        self
    }

    /// `regime` v1: market regimes and volatility forecasts as features (5; see
    /// [`crate::regime::features`]).
    pub fn regime() -> Self {
        Self {
            name: "regime".into(),
            version: 1,
            features: vec![],
            alpha158: false,
            higher: None,
            regime: true,
            sentiment: false,
            earnings: false,
            insider: false,
        }
    }

    /// `alpha158` v1: qlib's Alpha158 price/volume features (158).
    pub fn alpha158() -> Self {
        Self {
            name: "alpha158".into(),
            version: 1,
            features: vec![],
            alpha158: true,
            higher: None,
            regime: false,
            sentiment: false,
            earnings: false,
            insider: false,
        }
    }

    /// Every feature name, in output order.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.features.iter().map(|f| f.name.clone()).collect();
        if self.alpha158 {
            v.extend(crate::alpha158::names());
        }
        if self.higher.is_some() {
            v.extend(HIGHER_FEATURES.iter().map(|s| s.to_string()));
        }
        if self.regime {
            v.extend(crate::regime::features::NAMES.iter().map(|s| s.to_string()));
        }
        if self.sentiment {
            v.extend(crate::sentiment::NAMES.iter().map(|s| s.to_string()));
        }
        if self.earnings {
            v.extend(crate::earnings::NAMES.iter().map(|s| s.to_string()));
        }
        if self.insider {
            v.extend(crate::insider::NAMES.iter().map(|s| s.to_string()));
        }
        v
    }

    /// This set plus the higher timeframe's trend (EMA 10 vs 30), distance from its SMA 20 and
    /// RSI 14, as of each bar; named `<set>+<timeframe>` (e.g. `technical+1d`).
    pub fn with_higher(
        mut self,
        calendar: crate::calendar::Calendar,
        timeframe: elite_warehouse::Timeframe,
    ) -> Result<Self> {
        // Fail now, not in the engine, on a timeframe the resampler cannot build.
        crate::resample::Resampler::new(calendar.clone(), timeframe)?;
        self.name = format!("{}+{timeframe}", self.name);
        self.higher = Some(Higher {
            calendar,
            timeframe: timeframe.to_string(),
        });
        Ok(self)
    }

    /// `technical` v1: 24 scale-free technical features.
    pub fn technical() -> Self {
        use Expr::*;
        let f = |name: &str, expr: Expr| FeatureDef {
            name: name.to_string(),
            expr,
        };
        Self {
            name: "technical".into(),
            version: 1,
            features: vec![
                f("ret_1", Percent(spec("roc(1)"))),
                f("ret_5", Percent(spec("roc(5)"))),
                f("ret_20", Percent(spec("roc(20)"))),
                f("rsi_2", Value(spec("rsi(2)"))),
                f("rsi_14", Value(spec("rsi(14)"))),
                f("macd_hist", OverClose(spec("macd(12,26,9).hist"))),
                f("macd_line", OverClose(spec("macd(12,26,9).line"))),
                f("bb_percent_b", Value(spec("bbands(20,2).percent_b"))),
                f("bb_bandwidth", Value(spec("bbands(20,2).bandwidth"))),
                f("atr_14", OverClose(spec("atr(14)"))),
                f("adx_14", Value(spec("adx(14).adx"))),
                f("plus_di_14", Value(spec("adx(14).plus_di"))),
                f("minus_di_14", Value(spec("adx(14).minus_di"))),
                f("stoch_k", Value(spec("stoch(14,3,3).k"))),
                f("stoch_d", Value(spec("stoch(14,3,3).d"))),
                f("willr_14", Value(spec("willr(14)"))),
                f("cci_20", Value(spec("cci(20)"))),
                f("mfi_14", Value(spec("mfi(14)"))),
                f("volatility_20", Value(spec("volatility(20)"))),
                f("zscore_20", Value(spec("zscore(20)"))),
                f("dist_sma_20", CloseOver(spec("sma(20)"))),
                f("dist_sma_50", CloseOver(spec("sma(50)"))),
                f("dist_ema_200", CloseOver(spec("ema(200)"))),
                f("donchian_width_20", OverClose(spec("donchian(20).upper"))),
            ],
            alpha158: false,
            higher: None,
            regime: false,
            sentiment: false,
            earnings: false,
            insider: false,
        }
    }

    /// A built-in set by name.
    pub fn by_name(name: &str) -> Result<Self> {
        match name {
            "technical" => Ok(Self::technical()),
            "alpha158" => Ok(Self::alpha158()),
            "regime" => Ok(Self::regime()),
            "sentiment" => Ok(Self::sentiment()),
            "earnings" => Ok(Self::earnings()),
            "insider" => Ok(Self::insider()),
            other if other.ends_with("+insider") && !other.starts_with('+') => {
                Ok(Self::by_name(&other[..other.len() - "+insider".len()])?.with_insider())
            }
            other if other.ends_with("+earnings") && !other.starts_with('+') => {
                Ok(Self::by_name(&other[..other.len() - "+earnings".len()])?.with_earnings())
            }
            other if other.ends_with("+sentiment") && !other.starts_with('+') => {
                Ok(Self::by_name(&other[..other.len() - "+sentiment".len()])?.with_sentiment())
            }
            other => Err(spec_err(
                other,
                format!(
                    "unknown feature set; built in: {}",
                    Self::BUILT_IN.join(", ")
                ),
            )),
        }
    }

    /// A fresh engine computing this set for one symbol.
    pub fn engine(&self) -> FeatureEngine {
        FeatureEngine {
            exprs: self.features.iter().map(|f| f.expr).collect(),
            inds: self
                .features
                .iter()
                .map(|f| f.expr.spec().build())
                .collect(),
            alpha: self.alpha158.then(crate::alpha158::Alpha158::new),
            mtf: self.higher.as_ref().and_then(|h| {
                let tf = elite_warehouse::Timeframe::parse(&h.timeframe).ok()?;
                crate::mtf::MtfTrend::new(h.calendar.clone(), tf, 10, 30).ok()
            }),
            regime: self
                .regime
                .then(crate::regime::features::RegimeFeatures::new),
            sentiment: self
                .sentiment
                .then(crate::sentiment::SentimentFeatures::default),
            earnings: self
                .earnings
                .then(crate::earnings::EarningsFeatures::default),
            insider: self.insider.then(crate::insider::InsiderFeatures::default),
        }
    }
}

/// Computes a feature set for one symbol, bar by bar. Serializable (the runner checkpoints it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureEngine {
    exprs: Vec<Expr>,
    inds: Vec<DynIndicator>,
    alpha: Option<crate::alpha158::Alpha158>,
    mtf: Option<crate::mtf::MtfTrend>,
    #[serde(default)]
    regime: Option<crate::regime::features::RegimeFeatures>,
    #[serde(default)]
    sentiment: Option<crate::sentiment::SentimentFeatures>,
    #[serde(default)]
    earnings: Option<crate::earnings::EarningsFeatures>,
    #[serde(default)]
    insider: Option<crate::insider::InsiderFeatures>,
}

impl FeatureEngine {
    /// Feed one bar; `out[i]` becomes feature i's value (`None` while warming up).
    pub fn update(&mut self, tb: &TimedBar, out: &mut Vec<Option<f64>>) {
        out.clear();
        let bar = &tb.bar;
        let o = Obs {
            bar: *bar,
            ..Default::default()
        };
        for (e, ind) in self.exprs.iter().zip(self.inds.iter_mut()) {
            out.push(ind.update(&o).and_then(|v| e.apply(v, bar.close)));
        }
        if let Some(a) = self.alpha.as_mut() {
            a.update(bar, out);
        }
        if let Some(m) = self.mtf.as_mut() {
            let h = m.update(tb);
            out.push(h.map(|h| h.trend as f64));
            out.push(h.and_then(|h| h.dist_sma_20));
            out.push(h.and_then(|h| h.rsi_14));
        }
        if let Some(r) = self.regime.as_mut() {
            r.update(bar.close, out);
        }
        if let Some(s) = self.sentiment.as_mut() {
            s.update(tb.ts_recv, out);
        }
        if let Some(e) = self.earnings.as_mut() {
            e.update(tb.ts_recv, out);
        }
        if let Some(i) = self.insider.as_mut() {
            i.update(tb.ts_recv, out);
        }
    }

    /// The symbol's open-market insider trades. No-op for a set without insider features.
    pub fn set_insider(&mut self, events: Vec<crate::insider::InsiderEvent>) {
        if self.insider.is_some() {
            self.insider = Some(crate::insider::InsiderFeatures::new(events));
        }
    }

    /// The symbol's earnings records. No-op for a set without earnings features.
    pub fn set_earnings(&mut self, events: Vec<crate::earnings::EarningsEvent>) {
        if self.earnings.is_some() {
            self.earnings = Some(crate::earnings::EarningsFeatures::new(events));
        }
    }

    /// The symbol's scored text items (batch: all of them, each counted once knowable). No-op
    /// for a set without sentiment features.
    pub fn set_text(&mut self, events: Vec<crate::sentiment::TextEvent>) {
        if self.sentiment.is_some() {
            self.sentiment = Some(crate::sentiment::SentimentFeatures::new(events));
        }
    }

    /// One scored item that arrived while running (the stream form of [`Self::set_text`]).
    pub fn offer_text(&mut self, e: crate::sentiment::TextEvent) {
        if let Some(s) = self.sentiment.as_mut() {
            s.offer(e);
        }
    }
}

/// The alternative-data records feature sets read, per symbol (each kind used only by the sets
/// that have its features).
#[derive(Clone, Debug, Default)]
pub struct SymbolEvents {
    /// Scored text items (sentiment features).
    pub text: std::collections::HashMap<String, Vec<crate::sentiment::TextEvent>>,
    /// Earnings records (earnings features).
    pub earnings: std::collections::HashMap<String, Vec<crate::earnings::EarningsEvent>>,
    /// Open-market insider trades (insider features).
    pub insider: std::collections::HashMap<String, Vec<crate::insider::InsiderEvent>>,
}

impl SymbolEvents {
    /// Give `engine` the records of `symbol` (a symbol without records keeps the no-event values).
    pub fn apply(&self, symbol: &str, engine: &mut FeatureEngine) {
        if let Some(t) = self.text.get(symbol) {
            engine.set_text(t.clone());
        }
        if let Some(e) = self.earnings.get(symbol) {
            engine.set_earnings(e.clone());
        }
        if let Some(i) = self.insider.get(symbol) {
            engine.set_insider(i.clone());
        }
    }
}

/// Forward simple return and direction over `horizon` bars: for bar i, close[i+h] / close[i] − 1
/// and its sign (0 within ±`flat`). `None` for the last `horizon` bars (not yet knowable).
pub fn forward_labels(closes: &[f64], horizon: usize, flat: f64) -> Vec<Option<(f64, i8)>> {
    (0..closes.len())
        .map(|i| {
            let j = i.checked_add(horizon)?;
            let (a, b) = (closes[i], *closes.get(j)?);
            if horizon == 0 || a == 0.0 {
                return None;
            }
            let r = b / a - 1.0;
            let d = if r > flat {
                1
            } else if r < -flat {
                -1
            } else {
                0
            };
            Some((r, d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technical_set_parses() {
        let set = FeatureSet::technical();
        for f in &set.features {
            assert_ne!(
                f.expr.spec().kind,
                crate::spec::Kind::Obv,
                "{} did not parse",
                f.name
            );
        }
        let mut names: Vec<_> = set.features.iter().map(|f| &f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), set.features.len());
    }

    #[test]
    fn labels_look_forward_exactly_horizon_bars() {
        let l = forward_labels(&[100.0, 110.0, 99.0, 99.0], 1, 0.0);
        assert_eq!(l[0], Some((0.10000000000000009, 1)));
        assert_eq!(l[1].map(|x| x.1), Some(-1));
        assert_eq!(l[2], Some((0.0, 0)));
        assert_eq!(l[3], None);
    }
}
