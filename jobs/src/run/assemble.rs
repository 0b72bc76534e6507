//! Assembling a run: the engine a config describes, and the run's id.

use elite_trade::broker::Broker;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::inputs::Inputs;
use sha2::{Digest, Sha256};

use super::config::RunConfig;
use crate::{Error, Result};

/// The engine a config describes, over `symbols`, with `inputs` (calendars and model entries:
/// [`Intake::inputs`](super::inputs::Intake)) and `broker` working its orders (the fill simulator
/// when `None`).
pub fn build_engine(
    cfg: &RunConfig,
    symbols: &[String],
    inputs: &Inputs,
    broker: Option<Box<dyn Broker>>,
) -> Result<Engine> {
    let ecfg = EngineConfig {
        initial_cash: cfg.initial_cash,
        fills: cfg.fills.clone(),
        costs: cfg.costs.clone(),
        risk: cfg.risk.clone(),
        allocator: cfg.allocator.clone(),
        execution: cfg.execution.clone(),
        periods_per_year: cfg.periods_per_year,
        rules: cfg.rules.clone(),
    };
    let mut engine = match broker {
        Some(b) => Engine::with_broker(ecfg, symbols.len(), b),
        None => Engine::new(ecfg, symbols.len()),
    };
    let mut seen = std::collections::HashSet::new();
    for s in &cfg.strategies {
        if !seen.insert(s.name.as_str()) {
            return Err(Error::Config(format!(
                "backtest config: two strategies are named {:?}",
                s.name
            )));
        }
        let built = s.spec.build_with(&s.name, symbols, inputs)?;
        engine.add(built, s.weight);
    }
    if inputs.contracts.iter().any(Option::is_some) {
        let mut c = elite_trade::contract::Contracts::new(inputs.contracts.clone())
            .map_err(|e| Error::Config(format!("[contracts]: {e}")))?;
        for (sym, limits) in inputs.circuit_limits.iter().enumerate() {
            c.set_limits(sym as elite_trade::types::Sym, limits.clone());
        }
        engine.set_contracts(c);
    }
    engine.inputs = inputs.clone();
    Ok(engine)
}

/// A run's id: a hash of the mode, the config, the bars version, the predictions it read (when
/// any) and the code version.
pub fn run_id(
    cfg: &RunConfig,
    version: Option<u64>,
    inputs_id: &str,
    mode: &str,
) -> Result<String> {
    let config_json = serde_json::to_string(cfg)?;
    let mut h = Sha256::new();
    if mode != "backtest" {
        h.update(format!("{mode}|").as_bytes());
    }
    h.update(config_json.as_bytes());
    if !inputs_id.is_empty() {
        h.update(format!("|predictions:{inputs_id}").as_bytes());
    }
    h.update(format!("|bars@{version:?}|{}", code_version()).as_bytes());
    Ok(hex::encode(&h.finalize()[..8]))
}

/// `elite <version>` plus the commit when the build knew it.
pub fn code_version() -> String {
    match option_env!("ELITE_GIT_SHA") {
        Some(sha) => format!("elite {} ({sha})", env!("CARGO_PKG_VERSION")),
        None => format!("elite {}", env!("CARGO_PKG_VERSION")),
    }
}
