//! What every long-running job's command shares: where its checkpoints live, and its
//! operations (status file, endpoints, alerts).

use std::path::PathBuf;

use anyhow::Result;
use elite_jobs::ops::watch::Ops;

use super::user_bail;
use crate::printer::Printer;
use crate::settings::Settings;

/// A long-running job's operations: its status file under `state_dir`, its endpoints when
/// `--metrics-addr` is given, and the config file's `[alerts]`.
pub(crate) async fn start_ops(
    kind: &str,
    name: &str,
    state_dir: &std::path::Path,
    a: &crate::args::OpsArgs,
    settings: &Settings,
    printer: &Printer,
) -> Result<Ops> {
    let health = elite_jobs::ops::health::Health::new(kind, name, Some(state_dir));
    if let Some(addr) = &a.metrics_addr {
        let bound = elite_jobs::ops::server::serve(addr, health.clone()).await?;
        printer.note(format!(
            "{kind} {name}: metrics and health on http://{bound} (/metrics /healthz /readyz /status)"
        ));
    }
    health.beat()?;
    let mut ops = Ops::new(kind, name, health);
    ops.max_data_age = a.max_data_age.map(std::time::Duration::from_secs_f64);
    if let Some(cfg) = &settings.alerts {
        // Only a trader answers chat commands (one process may poll the bot).
        let answers = matches!(kind, "trader" | "live");
        ops = ops.with_alerts(cfg.clone(), &format!("{kind} {name}"), answers)?;
    }
    Ok(ops)
}

/// Where a runner keeps its checkpoints: `--state-dir`, else `<home>/_state` for a local warehouse.
pub(crate) fn state_dir(wh: &elite_store::Warehouse, given: &Option<PathBuf>) -> Result<PathBuf> {
    Ok(match (given, wh.root().scheme()) {
        (Some(d), _) => d.clone(),
        (None, "file") => wh
            .root()
            .to_file_path()
            .map(|p| p.join("_state"))
            .map_err(|_| {
                super::UserError(
                    "cannot turn the warehouse URL into a path; pass --state-dir".into(),
                )
            })?,
        (None, scheme) => user_bail!(
            "the warehouse is on {scheme}://; pass --state-dir for the runner's checkpoints"
        ),
    })
}
