//! `elite status`: every long-running job this warehouse's state directory knows of — running
//! or not, ready or why not — from the status files the jobs write and, for a running job with
//! an endpoint, its live `/status`.

use anyhow::Result;
use serde::Serialize;

use crate::args::StatusArgs;
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Row {
    job: String,
    name: String,
    state: String,
    ready: bool,
    reasons: String,
    heartbeat_age_s: Option<f64>,
    pid: Option<u32>,
    endpoint: Option<String>,
    facts: String,
}

pub async fn run(a: StatusArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let wh = settings.warehouse()?;
    let dir = super::pipelines::state_dir(&wh, &a.state_dir)?;
    let now = elite_jobs::ops::metrics::unix_now();
    let mut rows = vec![];
    for (path, s) in elite_jobs::ops::health::read_all(&dir)? {
        let s = match s {
            Ok(s) => s,
            Err(e) => {
                rows.push(Row {
                    job: path.display().to_string(),
                    name: String::new(),
                    state: "unreadable".into(),
                    ready: false,
                    reasons: e.to_string(),
                    heartbeat_age_s: None,
                    pid: None,
                    endpoint: None,
                    facts: String::new(),
                });
                continue;
            }
        };
        let alive = s.stopped.is_none() && elite_jobs::ops::health::pid_alive(s.pid);
        // A running job with an endpoint answers for itself (fresher than its file).
        let live = match (&s.metrics_addr, alive) {
            (Some(addr), true) => {
                elite_jobs::ops::health::fetch(addr, std::time::Duration::from_secs(2)).await
            }
            _ => None,
        };
        let answered = live.is_some();
        let s = live.unwrap_or(s);
        let state = match (&s.stopped, alive, answered) {
            (Some(why), _, _) => format!("stopped ({why})"),
            (None, true, true) => "running".into(),
            (None, true, false) if s.metrics_addr.is_some() => {
                "running (endpoint not answering)".into()
            }
            (None, true, false) => "running".into(),
            (None, false, _) => format!("gone (pid {} is not running)", s.pid),
        };
        let ready = alive && s.ready();
        let mut reasons = s.reasons();
        if !alive && s.stopped.is_none() {
            reasons.insert(0, "not running".into());
        }
        rows.push(Row {
            job: s.job.clone(),
            name: s.name.clone(),
            state,
            ready,
            reasons: reasons.join("; "),
            heartbeat_age_s: Some(((now - s.heartbeat).max(0.0) * 10.0).round() / 10.0),
            pid: Some(s.pid),
            endpoint: s.metrics_addr.clone(),
            facts: s
                .facts
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    if rows.is_empty() {
        printer.note(format!(
            "no job has run with state directory {} yet",
            dir.display()
        ));
        return Ok(());
    }
    printer.records(&rows)
}
