//! Conditional entries from the config: `<operand> <op> <operand>` conditions over bar fields,
//! numbers and indicators.

use elite_pipelines::indicators::Ohlcv;
use serde::{Deserialize, Serialize};

use super::{Sizing, bad};
use crate::engine::{Ctx, Strategy};
use crate::types::Bar;

/// Settings of [`StrategySpec::Conditional`](super::StrategySpec::Conditional).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionalConfig {
    /// Enter when every one holds.
    pub entry: Vec<String>,
    /// Exit when any one holds.
    #[serde(default)]
    pub exit: Vec<String>,
    /// `long` or `short`.
    #[serde(default = "d_direction")]
    pub direction: String,
    #[serde(default)]
    pub size: Sizing,
}

fn d_direction() -> String {
    "long".into()
}

impl Default for ConditionalConfig {
    fn default() -> Self {
        Self {
            entry: vec![],
            exit: vec![],
            direction: d_direction(),
            size: Sizing::default(),
        }
    }
}

impl ConditionalConfig {
    pub(crate) fn build(&self, name: &str) -> Result<Box<dyn Strategy>, crate::Error> {
        let dir = match self.direction.as_str() {
            "long" => 1,
            "short" => -1,
            other => {
                return Err(bad(
                    name,
                    format!("direction {other:?} is not long or short"),
                ));
            }
        };
        if self.entry.is_empty() {
            return Err(bad(name, "needs at least one entry condition"));
        }
        let parse = |list: &[String]| -> Result<Vec<Condition>, crate::Error> {
            list.iter()
                .map(|c| Condition::parse(c).map_err(|m| bad(name, m)))
                .collect()
        };
        let (entry, exit) = (parse(&self.entry)?, parse(&self.exit)?);
        let mut ops = vec![];
        for c in entry.iter().chain(&exit) {
            for o in [&c.left, &c.right] {
                if let Operand::Indicator(spec) = o
                    && !ops.contains(spec)
                {
                    ops.push(*spec);
                }
            }
        }
        Ok(Box::new(ConditionalRule {
            name: name.into(),
            entry,
            exit,
            dir,
            size: self.size,
            indicators: ops,
            state: vec![],
        }))
    }
}

/// One side of a condition.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Operand {
    Field(usize),
    Number(f64),
    Indicator(elite_pipelines::spec::IndicatorSpec),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    CrossesAbove,
    CrossesBelow,
}

/// `<operand> <op> <operand>`.
#[derive(Clone, Debug, PartialEq)]
struct Condition {
    text: String,
    left: Operand,
    op: Op,
    right: Operand,
}

const FIELDS: [&str; 5] = ["open", "high", "low", "close", "volume"];

impl Condition {
    fn parse(text: &str) -> Result<Self, String> {
        let ops = [
            (" crosses_above ", Op::CrossesAbove),
            (" crosses_below ", Op::CrossesBelow),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (at, tok, op) = ops
            .iter()
            .find_map(|(t, o)| text.find(t).map(|i| (i, *t, *o)))
            .ok_or_else(|| {
                format!(
                    "condition {text:?}: expected `<operand> <op> <operand>` with op one of <, <=, >, >=, crosses_above, crosses_below"
                )
            })?;
        let operand = |s: &str| -> Result<Operand, String> {
            let s = s.trim();
            if let Some(i) = FIELDS.iter().position(|f| *f == s) {
                return Ok(Operand::Field(i));
            }
            if let Ok(v) = s.parse::<f64>() {
                return Ok(Operand::Number(v));
            }
            let spec: elite_pipelines::spec::IndicatorSpec =
                s.parse().map_err(|e| format!("condition {text:?}: {e}"))?;
            if spec.kind.input() == elite_pipelines::spec::InputKind::Pair {
                return Err(format!(
                    "condition {text:?}: `{s}` needs a second series, which conditions do not have"
                ));
            }
            Ok(Operand::Indicator(spec))
        };
        Ok(Condition {
            text: text.to_string(),
            left: operand(&text[..at])?,
            op,
            right: operand(&text[at + tok.len()..])?,
        })
    }
}

/// Per-symbol state: indicators, their latest values, and each condition's previous sides.
#[derive(Clone, Debug)]
struct CondState {
    ind: Vec<elite_pipelines::spec::DynIndicator>,
    val: Vec<Option<f64>>,
    prev: Vec<Option<(f64, f64)>>,
}

/// Enters when every entry condition holds, exits when any exit condition does.
struct ConditionalRule {
    name: String,
    entry: Vec<Condition>,
    exit: Vec<Condition>,
    dir: i64,
    size: Sizing,
    indicators: Vec<elite_pipelines::spec::IndicatorSpec>,
    state: Vec<Option<CondState>>,
}

impl Strategy for ConditionalRule {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Ctx<'_>) {
        let i = bar.sym as usize;
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        let n = self.entry.len() + self.exit.len();
        let st = self.state[i].get_or_insert_with(|| CondState {
            ind: self.indicators.iter().map(|s| s.build()).collect(),
            val: vec![None; self.indicators.len()],
            prev: vec![None; n],
        });
        let ohlcv = Ohlcv {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        let obs = elite_pipelines::spec::Obs {
            bar: ohlcv,
            session: bar.ts_event.as_nanos().div_euclid(86_400_000_000_000),
            other: f64::NAN,
        };
        for (k, ind) in st.ind.iter_mut().enumerate() {
            st.val[k] = ind.update(&obs);
        }
        let fields = [bar.open, bar.high, bar.low, bar.close, bar.volume];
        let value = |o: &Operand, st: &CondState| -> Option<f64> {
            match o {
                Operand::Field(f) => Some(fields[*f]),
                Operand::Number(v) => Some(*v),
                Operand::Indicator(s) => {
                    let k = self.indicators.iter().position(|x| x == s)?;
                    st.val[k]
                }
            }
        };
        // Every condition is evaluated on every bar, so crossings see the previous bar.
        let mut truth = Vec::with_capacity(n);
        for (k, c) in self.entry.iter().chain(&self.exit).enumerate() {
            let now = value(&c.left, st).zip(value(&c.right, st));
            let prev = st.prev[k];
            truth.push(match (now, c.op) {
                (None, _) => false,
                (Some((l, r)), Op::Lt) => l < r,
                (Some((l, r)), Op::Le) => l <= r,
                (Some((l, r)), Op::Gt) => l > r,
                (Some((l, r)), Op::Ge) => l >= r,
                (Some((l, r)), Op::CrossesAbove) => prev.is_some_and(|(pl, pr)| pl <= pr) && l > r,
                (Some((l, r)), Op::CrossesBelow) => prev.is_some_and(|(pl, pr)| pl >= pr) && l < r,
            });
            st.prev[k] = now;
        }
        let holding = ctx.exposure(bar.sym).signum();
        let (entry, exit) = truth.split_at(self.entry.len());
        if holding == 0 && entry.iter().all(|t| *t) {
            self.size.go(ctx, bar.sym, self.dir);
        } else if holding != 0 && exit.iter().any(|t| *t) {
            self.size.go(ctx, bar.sym, 0);
        }
    }
}
