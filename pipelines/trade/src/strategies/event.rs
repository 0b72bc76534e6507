//! Event-driven: acts on rule signals as they are recorded, and on the exchange calendar.

use serde::{Deserialize, Serialize};

use super::{Inputs, Sizing, bad};
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// Settings of [`StrategySpec::Event`](super::StrategySpec::Event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventConfig {
    /// The rules (in the `signals` table) whose events are acted on.
    pub rules: Vec<String>,
    #[serde(default)]
    pub min_strength: f64,
    /// Bars held after the last event.
    #[serde(default = "d_hold")]
    pub hold: usize,
    #[serde(default)]
    pub short: bool,
    /// A calendar in the `calendar` table (e.g. `NYSE`).
    #[serde(default)]
    pub calendar: Option<String>,
    #[serde(default)]
    pub size: Sizing,
}

fn d_hold() -> usize {
    5
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            rules: vec![],
            min_strength: 0.0,
            hold: d_hold(),
            short: false,
            calendar: None,
            size: Sizing::default(),
        }
    }
}

impl EventConfig {
    pub(crate) fn build(
        &self,
        name: &str,
        inputs: &Inputs,
    ) -> Result<Box<dyn Strategy>, crate::Error> {
        if self.rules.is_empty() || self.hold == 0 {
            return Err(bad(name, "needs at least one rule and hold ≥ 1 bar"));
        }
        let holidays = match &self.calendar {
            None => None,
            Some(c) => Some(std::sync::Arc::clone(inputs.holidays.get(c).ok_or_else(
                || bad(name, format!("no holidays of calendar {c:?} were loaded")),
            )?)),
        };
        Ok(Box::new(EventDriven {
            name: name.into(),
            rules: self.rules.clone(),
            min_strength: self.min_strength,
            hold: self.hold,
            short: self.short,
            holidays,
            size: self.size,
            since: vec![],
        }))
    }
}

/// Acts on recorded events (see [`EventConfig`]).
struct EventDriven {
    name: String,
    rules: Vec<String>,
    min_strength: f64,
    hold: usize,
    short: bool,
    holidays: Option<std::sync::Arc<std::collections::BTreeSet<chrono::NaiveDate>>>,
    size: Sizing,
    /// Per symbol: bars since the last event acted on.
    since: Vec<usize>,
}

impl EventDriven {
    /// Whether one of the next two weekdays after `bar`'s date is a holiday of the calendar
    /// (schedules are published in advance, so this is known at the bar's close). Orders decided
    /// now fill at the next bar's open, so exiting now is what leaves the book flat at the close
    /// before the holiday.
    fn holiday_soon(&self, bar: &Bar) -> bool {
        let Some(h) = &self.holidays else {
            return false;
        };
        use chrono::Datelike;
        let mut d = bar.ts_event.to_datetime().date_naive();
        for _ in 0..2 {
            loop {
                d = d.succ_opt().unwrap_or(d);
                if d.weekday().number_from_monday() <= 5 {
                    break;
                }
            }
            if h.contains(&d) {
                return true;
            }
        }
        false
    }
}

impl Strategy for EventDriven {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.since.len() <= i {
            self.since.resize(i + 1, usize::MAX);
        }
        self.since[i] = self.since[i].saturating_add(1);
        let holding = ctx.exposure(bar.sym).signum();
        if self.holiday_soon(bar) {
            if holding != 0 {
                self.size.go(ctx, bar.sym, 0);
            }
            return;
        }
        // The strongest known event of this bar among the rules acted on.
        let now = ctx.now.as_nanos();
        let event = ctx
            .inputs
            .events
            .get(&(bar.sym, bar.ts_event.as_nanos()))
            .into_iter()
            .flatten()
            .filter(|e| {
                e.known <= now
                    && e.strength >= self.min_strength
                    && e.direction != 0
                    && self.rules.contains(&e.rule)
            })
            .max_by(|a, b| a.strength.total_cmp(&b.strength));
        let mut dir = holding;
        if let Some(e) = event {
            let d = i64::from(e.direction.signum());
            dir = if d < 0 && !self.short { 0 } else { d };
            self.since[i] = 0;
        } else if holding != 0 && self.since[i] >= self.hold {
            dir = 0;
        }
        if dir != holding {
            self.size.go(ctx, bar.sym, dir);
        }
    }
}
