//! Trades a model's predictions (the `predictions` table) against thresholds.

use serde::{Deserialize, Serialize};

use super::{Inputs, Sizing, bad};
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// Settings of [`StrategySpec::Ml`](super::StrategySpec::Ml).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlConfig {
    /// The model or ensemble whose predictions to trade: its name (`ensemble:stacking`,
    /// `lstm`…), matched to one run's `<name>-<hash>` model id, or an exact model id.
    pub model: String,
    /// `walk_forward` (out-of-sample, the default), `production` or `shadow` (served).
    #[serde(default = "d_source")]
    pub source: String,
    #[serde(default = "d_long_above")]
    pub long_above: f64,
    #[serde(default)]
    pub short_below: Option<f64>,
    #[serde(default = "d_neutral")]
    pub neutral: f64,
    #[serde(default)]
    pub size: Sizing,
}

fn d_source() -> String {
    "walk_forward".into()
}
fn d_long_above() -> f64 {
    0.55
}
fn d_neutral() -> f64 {
    0.5
}

impl Default for MlConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            source: d_source(),
            long_above: d_long_above(),
            short_below: None,
            neutral: d_neutral(),
            size: Sizing::default(),
        }
    }
}

impl MlConfig {
    pub(crate) fn build(
        &self,
        name: &str,
        inputs: &Inputs,
    ) -> Result<Box<dyn Strategy>, crate::Error> {
        let MlConfig {
            model,
            long_above,
            short_below,
            neutral,
            size,
            ..
        } = self;
        if !inputs.predictions.contains_key(model) {
            return Err(bad(
                name,
                format!("no predictions of model {model:?} were loaded"),
            ));
        }
        if short_below.is_some_and(|s| s > *neutral) || *long_above < *neutral {
            return Err(bad(
                name,
                format!(
                    "short_below ≤ neutral ≤ long_above is needed (got {short_below:?}, {neutral}, {long_above})"
                ),
            ));
        }
        Ok(Box::new(MlSignal {
            name: name.into(),
            model: model.clone(),
            long_above: *long_above,
            short_below: *short_below,
            neutral: *neutral,
            size: *size,
            unknown_yet: 0,
        }))
    }
}

/// Trades a model's predictions (see [`MlConfig`]).
struct MlSignal {
    name: String,
    /// The model whose predictions (in [`Ctx::inputs`]) it trades.
    model: String,
    long_above: f64,
    short_below: Option<f64>,
    neutral: f64,
    size: Sizing,
    /// Predictions present for a bar but not yet known at its close (ignored; never traded).
    unknown_yet: u64,
}

impl Strategy for MlSignal {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let Some(&(p, known)) = ctx
            .inputs
            .predictions
            .get(&self.model)
            .and_then(|m| m.get(&(bar.sym, bar.ts_event.as_nanos())))
        else {
            return;
        };
        // A prediction is usable only once it exists: at or before this bar's close.
        if known > ctx.now.as_nanos() {
            self.unknown_yet += 1;
            return;
        }
        let holding = ctx.exposure(bar.sym).signum();
        let dir = if p > self.long_above {
            1
        } else if self.short_below.is_some_and(|s| p < s) {
            -1
        } else if (holding > 0 && p < self.neutral) || (holding < 0 && p > self.neutral) {
            0
        } else {
            holding
        };
        if dir != holding {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}
