//! Pairs trading on a cointegrated pair's spread z-score.

use serde::{Deserialize, Serialize};

use super::bad;
use crate::engine::{Ctx, Strategy};
use crate::types::{Bar, Sym};

/// Settings of [`StrategySpec::Pairs`](super::StrategySpec::Pairs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairsConfig {
    pub a: String,
    pub b: String,
    #[serde(default = "d_lookback")]
    pub lookback: usize,
    /// |z| at which a position is opened.
    #[serde(default = "d_entry")]
    pub entry: f64,
    /// |z| under which it is closed.
    #[serde(default = "d_half")]
    pub exit: f64,
    /// Each leg's share of capital.
    #[serde(default = "d_half")]
    pub size: f64,
    #[serde(default = "d_true")]
    pub require_cointegration: bool,
}

fn d_lookback() -> usize {
    60
}
fn d_entry() -> f64 {
    2.0
}
fn d_half() -> f64 {
    0.5
}
fn d_true() -> bool {
    true
}

impl Default for PairsConfig {
    fn default() -> Self {
        Self {
            a: String::new(),
            b: String::new(),
            lookback: d_lookback(),
            entry: d_entry(),
            exit: d_half(),
            size: d_half(),
            require_cointegration: d_true(),
        }
    }
}

impl PairsConfig {
    pub(crate) fn build(
        &self,
        name: &str,
        symbols: &[String],
    ) -> Result<Box<dyn Strategy>, crate::Error> {
        let PairsConfig {
            a,
            b,
            lookback,
            entry,
            exit,
            size,
            require_cointegration,
        } = self;
        let find = |s: &str| {
            symbols
                .iter()
                .position(|x| x == s)
                .map(|i| i as Sym)
                .ok_or_else(|| bad(name, format!("symbol {s} is not in the data")))
        };
        if *lookback < 10 || *entry <= *exit || *size <= 0.0 {
            return Err(bad(
                name,
                format!(
                    "lookback ≥ 10, entry > exit and size > 0 are needed (got {lookback}, {entry}, {exit}, {size})"
                ),
            ));
        }
        Ok(Box::new(Pairs {
            name: name.into(),
            a: find(a)?,
            b: find(b)?,
            lookback: *lookback,
            entry: *entry,
            exit: *exit,
            size: *size,
            require_cointegration: *require_cointegration,
            last: (f64::NAN, f64::NAN),
            hist: std::collections::VecDeque::new(),
            state: 0,
        }))
    }
}

struct Pairs {
    name: String,
    a: Sym,
    b: Sym,
    lookback: usize,
    entry: f64,
    exit: f64,
    size: f64,
    require_cointegration: bool,
    last: (f64, f64),
    /// Log prices (a, b) at the end of each completed instant where both traded.
    hist: std::collections::VecDeque<(f64, f64)>,
    /// +1 long the spread (long a, short b), −1 short it, 0 flat.
    state: i8,
}

impl Pairs {
    fn decide(&mut self, ctx: &mut Ctx<'_>) {
        let (la, lb): (Vec<f64>, Vec<f64>) = self.hist.iter().copied().unzip();
        let Some(st) = crate::pairs::pair_stat(&la, &lb) else {
            return;
        };
        let (pa, pb) = (ctx.prices[self.a as usize], ctx.prices[self.b as usize]);
        if !(pa > 0.0 && pb > 0.0) {
            return;
        }
        let want: i8 = if self.state != 0 && st.z.abs() < self.exit {
            0
        } else if self.state == 0 && (st.cointegrated || !self.require_cointegration) {
            if st.z > self.entry {
                -1
            } else if st.z < -self.entry {
                1
            } else {
                0
            }
        } else {
            self.state
        };
        if want == self.state {
            return;
        }
        self.state = want;
        let notional = self.size * ctx.capital;
        let qa = (notional / pa).trunc() as i64 * want as i64;
        let qb = -(st.beta * notional / pb).trunc() as i64 * want as i64;
        ctx.target_qty(self.a, qa);
        ctx.target_qty(self.b, qb);
    }
}

impl Strategy for Pairs {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_bar(&mut self, bar: &Bar, _ctx: &mut Ctx<'_>) {
        if bar.sym == self.a {
            self.last.0 = bar.close;
        } else if bar.sym == self.b {
            self.last.1 = bar.close;
        }
    }
    fn on_instant_close(&mut self, ctx: &mut Ctx<'_>) {
        if self.last.0 > 0.0 && self.last.1 > 0.0 {
            self.hist.push_back((self.last.0.ln(), self.last.1.ln()));
            while self.hist.len() > self.lookback {
                self.hist.pop_front();
            }
            if self.hist.len() == self.lookback {
                self.decide(ctx);
            }
        }
    }
}
