//! What strategies may read beyond bars: model predictions, rule-signal events and holiday
//! calendars. The engine holds one [`Inputs`], fills it from [`Event::Prediction`] and
//! [`Event::Signal`] as they arrive, and lends it to strategies through
//! [`crate::engine::Ctx::inputs`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::event::Event;
use crate::types::Sym;

/// One model's predictions, as a strategy reads them: (symbol index, bar ts_event ns) →
/// (score, ts_recv ns: when the prediction could first be known).
pub type Predictions = HashMap<(Sym, i64), (f64, i64)>;

/// One recorded rule signal: rule, direction, strength, and when it was known (ts_recv, ns).
#[derive(Clone, Debug, PartialEq)]
pub struct SignalEvent {
    pub rule: String,
    pub direction: i8,
    pub strength: f64,
    pub known: i64,
}

/// Signal events by (symbol index, bar ts_event ns), each list in rule order.
pub type Events = HashMap<(Sym, i64), Vec<SignalEvent>>;

/// Side inputs: predictions by the `model` name the config uses, rule-signal events, and
/// holidays per calendar (UTC dates; schedules are published in advance, so they are static).
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub predictions: HashMap<String, Predictions>,
    pub events: Events,
    pub holidays: HashMap<String, Arc<BTreeSet<chrono::NaiveDate>>>,
    /// Exchange contract rules by symbol index (empty: orders go as asked).
    pub contracts: Vec<Option<crate::contract::ContractSpec>>,
    /// The exchange's circuit limits by symbol index, over time (empty: the spec's band).
    pub circuit_limits: Vec<Vec<crate::contract::CircuitLimit>>,
}

impl Inputs {
    /// Store a prediction or a signal event; false for any other event. A second prediction
    /// of the same model for the same bar replaces the first; signal events of one bar are
    /// kept in rule order (arrival order within a rule).
    pub fn add(&mut self, e: &Event) -> bool {
        match e {
            Event::Prediction {
                model,
                sym,
                ts_event,
                score,
                known,
            } => {
                self.predictions
                    .entry(model.clone())
                    .or_default()
                    .insert((*sym, ts_event.as_nanos()), (*score, known.as_nanos()));
                true
            }
            Event::Signal {
                sym,
                ts_event,
                rule,
                direction,
                strength,
                known,
            } => {
                let list = self.events.entry((*sym, ts_event.as_nanos())).or_default();
                let at = list.partition_point(|x| x.rule <= *rule);
                list.insert(
                    at,
                    SignalEvent {
                        rule: rule.clone(),
                        direction: *direction,
                        strength: *strength,
                        known: known.as_nanos(),
                    },
                );
                true
            }
            _ => false,
        }
    }
}
