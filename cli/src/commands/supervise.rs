//! `elite run pipeline FILE`: the live chain's jobs started together, each as its own `elite`
//! process, and kept running.
//!
//! The file lists the jobs (`[[job]]`: a name and the `elite` arguments) and the topics'
//! transport every job gets (`transport`, as `ELITE_TRANSPORT`; `{home}` in it is the
//! warehouse location, so `file:{home}/_topics` keeps a chain's topics beside its tables). Each job is a separate process,
//! exactly as when started by hand (or by a Procfile): a job that fails is started again (it
//! resumes from its checkpoint, exactly once) up to `max_restarts` times; a job that finishes
//! stays finished; the pipeline ends when every job has finished, or fails when one keeps
//! failing (the others are then stopped). Ctrl-C stops every job (they resume from their
//! checkpoints when started again).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::user_bail;
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    /// Every job's `--transport` (`ELITE_TRANSPORT`); `{home}` stands for the warehouse location.
    #[serde(default)]
    transport: Option<String>,
    /// Restarts allowed per job before the pipeline fails.
    #[serde(default = "d_restarts")]
    max_restarts: u32,
    #[serde(rename = "job")]
    jobs: Vec<JobSpec>,
}

fn d_restarts() -> u32 {
    5
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSpec {
    name: String,
    /// The `elite` arguments (e.g. `["run", "bars", "--from", "ticks"]`).
    args: Vec<String>,
}

/// How one job ended.
#[derive(Debug, Serialize)]
struct JobLine {
    job: String,
    state: String,
    restarts: u32,
    seconds: f64,
}

struct Running {
    spec: JobSpec,
    child: Option<Child>,
    restarts: u32,
    state: Option<String>,
    started: Instant,
    /// Seconds from the start to when it finished, failed for good or was stopped.
    ended: Option<f64>,
}

fn spawn(spec: &JobSpec, file: &PipelineFile, settings: &Settings) -> Result<Child> {
    let exe = std::env::current_exe().context("locating the elite executable")?;
    let mut c = Command::new(exe);
    c.args(&spec.args)
        .env("ELITE_HOME", &settings.home)
        .env("ELITE_NO_PROGRESS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(t) = &file.transport {
        c.env("ELITE_TRANSPORT", t.replace("{home}", &settings.home));
    }
    c.spawn()
        .with_context(|| format!("starting job {}", spec.name))
}

/// Run the pipeline `path` describes until every job has finished (or one keeps failing, or
/// Ctrl-C).
pub async fn run(path: &Path, settings: &Settings, printer: &Printer) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: PipelineFile =
        toml::from_str(&text).map_err(|e| super::UserError(format!("{}: {e}", path.display())))?;
    if file.jobs.is_empty() {
        user_bail!("{}: no [[job]]", path.display());
    }
    for j in &file.jobs {
        if !matches!(j.args.first().map(String::as_str), Some("run" | "ingest")) {
            user_bail!(
                "{}: job {}: a pipeline runs `elite run …` and `elite ingest …` jobs, not {:?}",
                path.display(),
                j.name,
                j.args
            );
        }
    }
    if file.transport.as_deref().is_some_and(|t| t == "embedded") {
        user_bail!(
            "{}: the jobs are separate processes: give them a shared transport (file:DIR or \
             fluvio://HOST:PORT)",
            path.display()
        );
    }
    let mut jobs: Vec<Running> = vec![];
    for spec in file.jobs.iter() {
        let child = spawn(spec, &file, settings)?;
        printer.note(format!("job {} started (pid {})", spec.name, child.id()));
        jobs.push(Running {
            spec: spec.clone(),
            child: Some(child),
            restarts: 0,
            state: None,
            started: Instant::now(),
            ended: None,
        });
    }
    let stop = super::shutdown_signal();
    tokio::pin!(stop);
    let mut failed: Option<String> = None;
    while jobs.iter().any(|j| j.child.is_some()) {
        tokio::select! {
            _ = &mut stop => {
                failed = Some("stopped (Ctrl-C)".into());
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        for j in jobs.iter_mut() {
            let Some(c) = j.child.as_mut() else { continue };
            let Some(status) = c.try_wait()? else {
                continue;
            };
            j.child = None;
            j.ended = Some(j.started.elapsed().as_secs_f64());
            if status.success() {
                j.state = Some("finished".into());
                printer.note(format!("job {} finished", j.spec.name));
                continue;
            }
            if j.restarts >= file.max_restarts {
                let why = format!("failed ({status}) after {} restarts", j.restarts);
                printer.note(format!("job {} {why}", j.spec.name));
                j.state = Some(why.clone());
                failed = Some(format!("job {} {why}", j.spec.name));
                break;
            }
            j.ended = None;
            j.restarts += 1;
            printer.note(format!(
                "job {} exited ({status}); restart {} of {}",
                j.spec.name, j.restarts, file.max_restarts
            ));
            tokio::time::sleep(Duration::from_millis(500)).await;
            j.child = Some(spawn(&j.spec, &file, settings)?);
        }
        if failed.is_some() {
            break;
        }
    }
    for j in jobs.iter_mut() {
        if let Some(mut c) = j.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            j.state = Some("stopped".into());
            j.ended = Some(j.started.elapsed().as_secs_f64());
        }
    }
    let lines: Vec<JobLine> = jobs
        .iter()
        .map(|j| JobLine {
            job: j.spec.name.clone(),
            state: j.state.clone().unwrap_or_default(),
            restarts: j.restarts,
            seconds: (j.ended.unwrap_or_default() * 10.0).round() / 10.0,
        })
        .collect();
    printer.records(&lines)?;
    if let Some(why) = failed {
        anyhow::bail!("pipeline {}: {why}", path.display());
    }
    Ok(())
}
