//! The one intake of every run: bars, model predictions and rule-signal events from the
//! warehouse, merged into one sequence of engine [`Event`]s in the order a live stream delivers
//! them (by the time each is known; at one instant inputs before bars, bars in `ts_recv`, symbol,
//! `ts_event` order).
//!
//! A backtest feeds the whole sequence; the paper trader streams it through a
//! [`transport`](crate::transport) topic; the live trader steps through it. [`Intake::refresh`]
//! (`--follow`) reads the tables again and merges what landed since into the part not yet
//! processed, so bars, predictions and signal events that land after a trader started all reach
//! it. An input that lands after its bar was processed, or that would sort before an event already
//! processed, is *late*: strategies could not have used it when it was due, so it is dropped,
//! counted, and remembered (a restart leaves it out as well). Every input that is fed therefore
//! sorts after everything processed before it landed, so a restart's full sort of the intake puts
//! it where the running trader fed it, and replay rebuilds exactly what ran.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use elite_store::Warehouse;
use elite_trade::event::Event;
use elite_trade::inputs::Inputs;
use elite_trade::risk::RegimeRule;
use elite_trade::strategies::{EventConfig, MlConfig, StrategySpec};
use elite_trade::types::{Bar, Sym};
use elite_warehouse::{Symbol, Timeframe, Timestamp};

use super::config::{RunConfig, day};
use crate::bars::{BarQuery, read_bars};
use crate::{Error, Result};

/// An input's identity: (`p|<model>` or `s|<rule>`, symbol, bar ts_event ns).
pub type InputKey = (String, Sym, i64);

fn input_key(e: &Event) -> Option<InputKey> {
    match e {
        Event::Prediction {
            model,
            sym,
            ts_event,
            ..
        } => Some((format!("p|{model}"), *sym, ts_event.as_nanos())),
        Event::Signal {
            rule,
            sym,
            ts_event,
            ..
        } => Some((format!("s|{rule}"), *sym, ts_event.as_nanos())),
        // About the market, not one symbol: keyed to symbol 0's bar of that time.
        Event::Regime {
            scope,
            method,
            ts_event,
            ..
        } => Some((format!("r|{method}|{scope}"), 0, ts_event.as_nanos())),
        _ => None,
    }
}

/// Where an event goes in the sequence: by time known, inputs before bars at one instant.
fn order_key(e: &Event) -> (Timestamp, u8) {
    (e.ts(), u8::from(!e.is_input()))
}

/// Everything a run reads, as one event sequence.
#[derive(Clone, Debug)]
pub struct Intake {
    /// Symbol names; events refer to them by index.
    pub symbols: Vec<String>,
    /// The `bars` table version read (the latest when the config names none).
    pub version: Option<u64>,
    /// Bars, predictions and signal events in delivery order.
    pub events: Vec<Event>,
    /// The bars among `events`, in order (a refresh checks they are unchanged).
    pub bars: Vec<Bar>,
    /// What the strategies need before the first event: the calendars, and an (empty) entry for
    /// every model an `ml` strategy trades.
    pub inputs: Inputs,
    /// What was loaded (model ids, rows, last bar), for the run id.
    pub inputs_id: String,
    seen: HashSet<InputKey>,
    /// Late inputs (see the module docs), never fed.
    pub late: BTreeSet<InputKey>,
}

impl Intake {
    /// Read the config's bars at `version` (the config's, else the latest) with the predictions
    /// and signal events its strategies trade, leaving out the inputs in `late`.
    pub async fn load(
        wh: &Warehouse,
        cfg: &RunConfig,
        version: Option<u64>,
        late: &BTreeSet<InputKey>,
    ) -> Result<Intake> {
        let (bars, symbols, version) = load_bars(wh, cfg, version).await?;
        let (inputs, input_events, inputs_id) = load_inputs(wh, cfg, &symbols).await?;
        let mut seen = HashSet::new();
        let mut events: Vec<Event> = Vec::with_capacity(input_events.len() + bars.len());
        for e in input_events {
            let Some(k) = input_key(&e) else { continue };
            if late.contains(&k) {
                continue;
            }
            seen.insert(k);
            events.push(e);
        }
        events.extend(bars.iter().copied().map(Event::Bar));
        // Stable: bars keep their read order, inputs their table order.
        events.sort_by_key(order_key);
        Ok(Intake {
            symbols,
            version,
            events,
            bars,
            inputs,
            inputs_id,
            seen,
            late: late.clone(),
        })
    }

    /// An intake with no events yet, filled as a stream delivers them (the trader on the live
    /// chain's topics).
    pub fn stream(symbols: Vec<String>, inputs: Inputs, inputs_id: String) -> Intake {
        Intake {
            symbols,
            version: None,
            events: vec![],
            bars: vec![],
            inputs,
            inputs_id,
            seen: HashSet::new(),
            late: BTreeSet::new(),
        }
    }

    /// Bars among `events[from..]`.
    pub fn bars_from(&self, from: usize) -> usize {
        self.events[from.min(self.events.len())..]
            .iter()
            .filter(|e| matches!(e, Event::Bar(_)))
            .count()
    }

    /// Read the tables again (latest versions) and merge what landed since into `events[done..]`
    /// (`done`: events already processed, which stay as they are). The bars already known must be
    /// unchanged and so must the symbol set, or the trader stops. Returns (new bars, new inputs,
    /// late inputs): the late ones are added to [`Intake::late`].
    pub async fn refresh(
        &mut self,
        wh: &Warehouse,
        cfg: &RunConfig,
        done: usize,
    ) -> Result<(usize, usize, usize)> {
        let (bars, symbols, version) = load_bars(wh, cfg, None).await?;
        if symbols != self.symbols {
            return Err(Error::Config(format!(
                "the symbols changed from {:?} to {:?}: restart the trader to trade a new set",
                self.symbols, symbols
            )));
        }
        let n = self.bars.len();
        if bars.len() < n || bars[..n] != self.bars[..] {
            let at = (0..n.min(bars.len()))
                .find(|&i| bars[i] != self.bars[i])
                .unwrap_or(n.min(bars.len()));
            return Err(Error::Internal(format!(
                "the bars this trader has seen changed in the warehouse (first difference at bar {at} of {n}): \
                 not trading on a history that was rewritten"
            )));
        }
        let (_, input_events, _) = load_inputs(wh, cfg, &symbols).await?;
        let done = done.min(self.events.len());
        let processed: HashSet<(Sym, i64)> = self.events[..done]
            .iter()
            .filter_map(|e| match e {
                Event::Bar(b) => Some((b.sym, b.ts_event.as_nanos())),
                _ => None,
            })
            .collect();
        let last = done.checked_sub(1).map(|i| order_key(&self.events[i]));
        let mut fresh: Vec<Event> = vec![];
        let (mut new_inputs, mut late) = (0, 0);
        for e in input_events {
            let Some(k) = input_key(&e) else { continue };
            if self.seen.contains(&k) || self.late.contains(&k) {
                continue;
            }
            if processed.contains(&(k.1, k.2)) || last.is_some_and(|l| order_key(&e) < l) {
                self.late.insert(k);
                late += 1;
                continue;
            }
            self.seen.insert(k);
            new_inputs += 1;
            fresh.push(e);
        }
        let new_bars = bars.len() - n;
        fresh.extend(bars[n..].iter().copied().map(Event::Bar));
        let mut tail = self.events.split_off(done);
        tail.extend(fresh);
        tail.sort_by_key(order_key);
        self.events.extend(tail);
        self.bars = bars;
        self.version = version;
        Ok((new_bars, new_inputs, late))
    }
}

/// The config's bars (filtered to its dates) in `ts_recv` order, the symbol names their indices
/// refer to, and the bars version read.
async fn load_bars(
    wh: &Warehouse,
    cfg: &RunConfig,
    version: Option<u64>,
) -> Result<(Vec<Bar>, Vec<String>, Option<u64>)> {
    let tf = Timeframe::parse(&cfg.data.timeframe)?;
    let symbols = cfg
        .data
        .symbols
        .iter()
        .map(Symbol::new)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let q = BarQuery {
        timeframe: Some(tf),
        symbols,
        version: version.or(cfg.data.version),
    };
    let (events, version) = read_bars(wh, &q).await?;
    let start = cfg
        .data
        .start
        .as_deref()
        .map(|s| day(s, "start"))
        .transpose()?;
    let end = cfg.data.end.as_deref().map(|s| day(s, "end")).transpose()?;
    let mut names: BTreeMap<String, u32> = BTreeMap::new();
    for e in &events {
        names.entry(e.symbol.to_string()).or_insert(0);
    }
    for (i, v) in names.values_mut().enumerate() {
        *v = i as u32;
    }
    let bars: Vec<Bar> = events
        .iter()
        .filter(|e| {
            let d = e.ts_event.to_datetime().date_naive();
            start.is_none_or(|s| d >= s) && end.is_none_or(|x| d <= x)
        })
        .map(|e| Bar {
            sym: names[&*e.symbol],
            ts_event: e.ts_event,
            ts_recv: e.ts_recv,
            open: e.bar.open,
            high: e.bar.high,
            low: e.bar.low,
            close: e.bar.close,
            volume: e.bar.volume,
        })
        .collect();
    if bars.is_empty() {
        return Err(Error::Config(format!(
            "no {} bars for {:?} in the warehouse (version {:?}) between {:?} and {:?}",
            cfg.data.timeframe, cfg.data.symbols, version, cfg.data.start, cfg.data.end
        )));
    }
    let symbols: Vec<String> = names.into_keys().collect();
    Ok((bars, symbols, version))
}

/// The predictions every `ml` strategy names (the one model id that is `model` itself or
/// `model-<12 hex>`, one run's, with rows from `source`), the signal events `event` strategies
/// act on and the calendars they avoid, for the bars' symbols only: the calendars and model
/// entries, the input events, and what was loaded (for the run id).
async fn load_inputs(
    wh: &Warehouse,
    cfg: &RunConfig,
    symbols: &[String],
) -> Result<(Inputs, Vec<Event>, String)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let mut inputs = Inputs::default();
    let mut events: Vec<Event> = vec![];
    let mut ids = vec![];
    for s in &cfg.strategies {
        let StrategySpec::Ml(MlConfig { model, source, .. }) = &s.spec else {
            continue;
        };
        if inputs.predictions.contains_key(model) {
            continue;
        }
        let batches = match wh
            .read(
                "predictions",
                elite_store::At::Latest,
                Some(col("source").eq(lit(source.as_str()))),
            )
            .await
        {
            Ok(b) => b,
            Err(elite_store::Error::EmptyTable { .. }) => vec![],
            Err(e) => return Err(e.into()),
        };
        let matches = |id: &str| model_matches(model, id);
        let mut found: BTreeMap<String, Vec<(String, i64, i64, f64)>> = BTreeMap::new();
        for b in &batches {
            let col_as = |n: &str, t: &DataType| {
                b.column_by_name(n)
                    .and_then(|c| arrow::compute::cast(c, t).ok())
            };
            let (Some(id), Some(sym), Some(te), Some(tr), Some(sc)) = (
                col_as("model_id", &DataType::Utf8),
                col_as("symbol", &DataType::Utf8),
                col_as("ts_event", &DataType::Int64),
                col_as("ts_recv", &DataType::Int64),
                col_as("score", &DataType::Float64),
            ) else {
                continue;
            };
            let (id, sym, te, tr, sc) = (
                id.as_string::<i32>(),
                sym.as_string::<i32>(),
                te.as_primitive::<Int64Type>(),
                tr.as_primitive::<Int64Type>(),
                sc.as_primitive::<Float64Type>(),
            );
            for r in 0..b.num_rows() {
                if matches(id.value(r)) {
                    found.entry(id.value(r).to_string()).or_default().push((
                        sym.value(r).to_string(),
                        te.value(r),
                        tr.value(r),
                        sc.value(r),
                    ));
                }
            }
        }
        let (id, rows) = match found.len() {
            1 => found.into_iter().next().unwrap_or_default(),
            0 => {
                return Err(Error::Config(format!(
                    "strategy {}: no {source} predictions of model {model:?} in the warehouse (run `elite train` first)",
                    s.name
                )));
            }
            _ => {
                return Err(Error::Config(format!(
                    "strategy {}: several runs' {source} predictions match {model:?}: {}; name one exactly",
                    s.name,
                    found.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        };
        // Timestamps in the table are µs; bars carry ns.
        let mut keys = HashSet::new();
        let mut last = i64::MIN;
        for (sym, te, tr, score) in &rows {
            if let Some(k) = symbols.iter().position(|x| x == sym) {
                keys.insert((k as u32, te * 1000));
                last = last.max(*te);
                events.push(Event::Prediction {
                    model: model.clone(),
                    sym: k as u32,
                    ts_event: Timestamp::from_nanos(te * 1000),
                    score: *score,
                    known: Timestamp::from_nanos(tr * 1000),
                });
            }
        }
        ids.push(format!("{model}={id}:{source}:{}@{last}", keys.len()));
        inputs.predictions.insert(model.clone(), Default::default());
    }
    let rule_strategies: Vec<&StrategySpec> = cfg
        .strategies
        .iter()
        .map(|s| &s.spec)
        .filter(|s| matches!(s, StrategySpec::Event(_)))
        .collect();
    if !rule_strategies.is_empty() {
        let (ev, n, last) = load_signal_events(wh, &cfg.data.timeframe, symbols).await?;
        ids.push(format!("signals:{n}@{last}"));
        events.extend(ev);
    }
    if let Some(rule) = &cfg.risk.regime {
        let (ev, n, last) = load_regime_events(wh, rule, &cfg.data.timeframe).await?;
        ids.push(format!("regimes:{}:{}:{n}@{last}", rule.method, rule.scope));
        events.extend(ev);
    }
    add_calendars(wh, cfg, &mut inputs, &mut ids).await?;
    add_contracts(wh, cfg, symbols, &mut inputs, &mut ids).await?;
    Ok((inputs, events, ids.join(",")))
}

/// Whether prediction model id `id` is the `ml` strategy's `model`: the id itself, or `model`
/// followed by `-` and 12 hex digits (one training run's).
pub fn model_matches(model: &str, id: &str) -> bool {
    id == model
        || id
            .strip_prefix(model)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The holiday calendars the `event` strategies avoid, into `inputs` (and what was loaded into
/// `ids`).
async fn add_calendars(
    wh: &Warehouse,
    cfg: &RunConfig,
    inputs: &mut Inputs,
    ids: &mut Vec<String>,
) -> Result<()> {
    for s in &cfg.strategies {
        let spec = &s.spec;
        let StrategySpec::Event(EventConfig {
            calendar: Some(c), ..
        }) = spec
        else {
            continue;
        };
        if inputs.holidays.contains_key(c) {
            continue;
        }
        let days = load_holidays(wh, c).await?;
        if days.is_empty() {
            return Err(Error::Config(format!(
                "calendar {c:?} has no holidays in the warehouse (elite ingest calendar FILE --calendar {c})"
            )));
        }
        ids.push(format!("calendar:{c}:{}", days.len()));
        inputs.holidays.insert(c.clone(), std::sync::Arc::new(days));
    }
    Ok(())
}

/// Every traded symbol's contract rules under `[contracts]` (table rows, then the config's
/// per-symbol rules over them), into `inputs` by symbol index; what was read into `ids`.
async fn add_contracts(
    wh: &Warehouse,
    cfg: &RunConfig,
    symbols: &[String],
    inputs: &mut Inputs,
    ids: &mut Vec<String>,
) -> Result<()> {
    let Some(c) = &cfg.contracts else {
        return Ok(());
    };
    let table = if c.table {
        crate::contracts::read_contracts(wh, symbols).await?
    } else {
        Default::default()
    };
    let mut specs = Vec::with_capacity(symbols.len());
    let mut newest = i64::MIN;
    for s in symbols {
        let row = table.get(s);
        if let Some((_, t)) = row {
            newest = newest.max(t.as_nanos());
        }
        let over = c.symbols.get(s).cloned().unwrap_or_default();
        let (lot, tick, freeze) = match row {
            Some((spec, _)) => (
                over.lot.unwrap_or(spec.lot),
                over.tick.unwrap_or(spec.tick),
                over.freeze.or(spec.freeze),
            ),
            None => match (over.lot, over.tick) {
                (Some(l), Some(t)) => (l, t, over.freeze),
                _ => {
                    return Err(Error::Config(format!(
                        "[contracts]: no lot and tick for {s}: land its instrument master \
                         (elite ingest instruments FILE) or give [contracts.symbols.\"{s}\"] lot and tick"
                    )));
                }
            },
        };
        specs.push(Some(elite_trade::contract::ContractSpec {
            lot,
            tick,
            freeze,
            band: over.band.or(c.band),
        }));
    }
    ids.push(format!("contracts:{}@{newest}", table.len()));
    inputs.contracts = specs;
    if c.circuit_limits {
        let limits = crate::contracts::read_circuit_limits(wh, symbols).await?;
        let n: usize = limits.values().map(Vec::len).sum();
        if n > 0 {
            let newest = limits
                .values()
                .flatten()
                .map(|l| l.known.as_nanos())
                .max()
                .unwrap_or(i64::MIN);
            ids.push(format!("circuit_limits:{n}@{newest}"));
        }
        inputs.circuit_limits = symbols
            .iter()
            .map(|s| limits.get(s).cloned().unwrap_or_default())
            .collect();
    }
    Ok(())
}

/// What a trader on the live chain's topics needs before the first event (an entry per `ml`
/// strategy's model, the `event` strategies' calendars) and what was loaded. The inputs
/// themselves come from the topics.
pub async fn stream_inputs(
    wh: &Warehouse,
    cfg: &RunConfig,
    symbols: &[String],
) -> Result<(Inputs, String)> {
    if cfg.risk.regime.is_some() {
        return Err(Error::Config(
            "risk.regime reads the regimes table, which the live chain does not publish yet: \
             trade this config with --follow on the warehouse"
                .into(),
        ));
    }
    let mut inputs = Inputs::default();
    let mut ids = vec![];
    for s in &cfg.strategies {
        if let StrategySpec::Ml(MlConfig { model, source, .. }) = &s.spec {
            inputs.predictions.entry(model.clone()).or_default();
            ids.push(format!("{model}:{source}"));
        }
    }
    add_calendars(wh, cfg, &mut inputs, &mut ids).await?;
    add_contracts(wh, cfg, symbols, &mut inputs, &mut ids).await?;
    Ok((inputs, ids.join(",")))
}

/// Rule signals of `timeframe` for `symbols` from the `signals` table: the events, their count
/// and the last ts_event (µs).
pub async fn load_signal_events(
    wh: &Warehouse,
    timeframe: &str,
    symbols: &[String],
) -> Result<(Vec<Event>, usize, i64)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "signals",
            elite_store::At::Latest,
            Some(col("timeframe").eq(lit(timeframe))),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => vec![],
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<Event> = vec![];
    let (mut n, mut last) = (0usize, i64::MIN);
    for b in &batches {
        let get = |c: &str, t: &DataType| {
            b.column_by_name(c)
                .and_then(|a| arrow::compute::cast(a, t).ok())
        };
        let (Some(sym), Some(te), Some(tr), Some(rule), Some(dir), Some(st)) = (
            get("symbol", &DataType::Utf8),
            get("ts_event", &DataType::Int64),
            get("ts_recv", &DataType::Int64),
            get("rule", &DataType::Utf8),
            get("direction", &DataType::Int64),
            get("strength", &DataType::Float64),
        ) else {
            continue;
        };
        let (sym, te, tr, rule, dir, st) = (
            sym.as_string::<i32>(),
            te.as_primitive::<Int64Type>(),
            tr.as_primitive::<Int64Type>(),
            rule.as_string::<i32>(),
            dir.as_primitive::<Int64Type>(),
            st.as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            let Some(k) = symbols.iter().position(|x| x == sym.value(r)) else {
                continue;
            };
            out.push(Event::Signal {
                sym: k as u32,
                ts_event: Timestamp::from_nanos(te.value(r) * 1000),
                rule: rule.value(r).to_string(),
                direction: dir.value(r).clamp(-1, 1) as i8,
                strength: st.value(r),
                known: Timestamp::from_nanos(tr.value(r) * 1000),
            });
            n += 1;
            last = last.max(te.value(r));
        }
    }
    if n == 0 {
        return Err(Error::Config(format!(
            "no {timeframe} rule signals for {symbols:?} in the warehouse: run `elite run signals` first"
        )));
    }
    Ok((out, n, last))
}

/// The rows of `regimes` a risk rule reads (its scope and method, at the run's timeframe) as
/// events: the events, their count and the last ts_event (µs).
pub async fn load_regime_events(
    wh: &Warehouse,
    rule: &RegimeRule,
    timeframe: &str,
) -> Result<(Vec<Event>, usize, i64)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "regimes",
            elite_store::At::Latest,
            Some(
                col("scope")
                    .eq(lit(rule.scope.as_str()))
                    .and(col("method").eq(lit(rule.method.as_str())))
                    .and(col("timeframe").eq(lit(timeframe))),
            ),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => vec![],
        Err(e) => return Err(e.into()),
    };
    let mut out = vec![];
    let mut last = i64::MIN;
    for b in &batches {
        let get = |c: &str, t: &DataType| {
            b.column_by_name(c)
                .and_then(|a| arrow::compute::cast(a, t).ok())
        };
        let (Some(te), Some(tr), Some(st), Some(v)) = (
            get("ts_event", &DataType::Int64),
            get("ts_recv", &DataType::Int64),
            get("state", &DataType::Int64),
            get("value", &DataType::Float64),
        ) else {
            continue;
        };
        let (te, tr, st, v) = (
            te.as_primitive::<Int64Type>(),
            tr.as_primitive::<Int64Type>(),
            st.as_primitive::<Int64Type>(),
            v.as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            last = last.max(te.value(r));
            out.push(Event::Regime {
                scope: rule.scope.clone(),
                method: rule.method.clone(),
                ts_event: Timestamp::from_nanos(te.value(r) * 1000),
                state: st.value(r) as i32,
                value: v.value(r),
                known: Timestamp::from_nanos(tr.value(r) * 1000),
            });
        }
    }
    if out.is_empty() {
        return Err(Error::Config(format!(
            "risk.regime: no {timeframe} {} rows for scope {:?} in the regimes table (run `elite regimes …` first)",
            rule.method, rule.scope
        )));
    }
    // One order for equal `known` times: by the bar they describe.
    out.sort_by_key(|e| match e {
        Event::Regime { ts_event, .. } => *ts_event,
        _ => Timestamp::from_nanos(0),
    });
    let n = out.len();
    Ok((out, n, last))
}

/// Holiday dates of `calendar` from the `calendar` table.
pub async fn load_holidays(
    wh: &Warehouse,
    calendar: &str,
) -> Result<std::collections::BTreeSet<chrono::NaiveDate>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Int32Type};
    use elite_store::datafusion::prelude::{col, lit};
    let batches = match wh
        .read(
            "calendar",
            elite_store::At::Latest,
            Some(
                col("calendar")
                    .eq(lit(calendar))
                    .and(col("rule").eq(lit("holiday"))),
            ),
        )
        .await
    {
        Ok(b) => b,
        Err(elite_store::Error::EmptyTable { .. }) => vec![],
        Err(e) => return Err(e.into()),
    };
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut out = std::collections::BTreeSet::new();
    for b in &batches {
        let Some(d) = b
            .column_by_name("date")
            .and_then(|a| arrow::compute::cast(a, &DataType::Int32).ok())
        else {
            continue;
        };
        for v in d.as_primitive::<Int32Type>().values() {
            if let Some(day) = epoch.checked_add_signed(chrono::Duration::days(i64::from(*v))) {
                out.insert(day);
            }
        }
    }
    Ok(out)
}
