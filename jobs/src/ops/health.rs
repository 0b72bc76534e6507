//! Health: what a running job says about itself — alive, and ready (each check with its reason)
//! — served on `/healthz` and `/readyz` and written to a status file that `elite status` reads.
//!
//! The status file (`<state_dir>/status/<job>-<name>.json`) is replaced atomically at every
//! heartbeat, so a reader never sees half of one; a job that stops cleanly marks it stopped, and
//! one that was killed leaves a heartbeat that goes stale (and a pid that is gone).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One readiness check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// A job's status, as served and written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub job: String,
    pub name: String,
    pub pid: u32,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (None: not served).
    pub metrics_addr: Option<String>,
    /// Unix seconds.
    pub started: f64,
    /// Unix seconds of the last heartbeat (the job's loop went round).
    pub heartbeat: f64,
    /// Why the job stopped (None while it runs).
    pub stopped: Option<String>,
    pub checks: Vec<Check>,
    /// A few numbers worth a glance (bars processed, equity, …).
    #[serde(default)]
    pub facts: Vec<(String, String)>,
}

impl Status {
    /// Ready when running and every check passes.
    pub fn ready(&self) -> bool {
        self.stopped.is_none() && self.checks.iter().all(|c| c.ok)
    }

    /// The failing checks, as "name: detail".
    pub fn reasons(&self) -> Vec<String> {
        let mut r: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        if let Some(s) = &self.stopped {
            r.insert(0, format!("stopped: {s}"));
        }
        r
    }

    /// `/readyz`'s body: one line per check.
    pub fn readyz_text(&self) -> String {
        let mut out = format!(
            "{} {} {}\n",
            self.job,
            self.name,
            if self.ready() { "ready" } else { "not ready" }
        );
        if let Some(s) = &self.stopped {
            out.push_str(&format!("FAIL stopped: {s}\n"));
        }
        for c in &self.checks {
            out.push_str(&format!(
                "{} {}: {}\n",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            ));
        }
        out
    }
}

/// A running job's health, shared by its loop (which sets checks and beats) and its server.
pub struct Health {
    status: Mutex<Status>,
    file: Option<PathBuf>,
    /// When the status file was last written (heartbeats write it at most once a second).
    written: Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").field("file", &self.file).finish()
    }
}

/// The status file of job `kind`/`name` under `state_dir`.
pub fn status_file(state_dir: &Path, kind: &str, name: &str) -> PathBuf {
    state_dir.join("status").join(format!("{kind}-{name}.json"))
}

impl Health {
    /// The health of job `kind` named `name`, written under `state_dir` when given.
    pub fn new(kind: &str, name: &str, state_dir: Option<&Path>) -> Arc<Health> {
        let now = super::metrics::unix_now();
        Arc::new(Health {
            status: Mutex::new(Status {
                job: kind.to_string(),
                name: name.to_string(),
                pid: std::process::id(),
                metrics_addr: None,
                started: now,
                heartbeat: now,
                stopped: None,
                checks: vec![],
                facts: vec![],
            }),
            file: state_dir.map(|d| status_file(d, kind, name)),
            written: Mutex::new(None),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Status) -> R) -> R {
        // A poisoned lock only means another thread panicked mid-update; the status is still
        // plain data worth serving.
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }

    pub fn set_addr(&self, addr: String) {
        self.with(|s| s.metrics_addr = Some(addr));
    }

    /// Set check `name` (added on first use, in order).
    pub fn set(&self, name: &str, ok: bool, detail: impl Into<String>) {
        let detail = detail.into();
        self.with(|s| match s.checks.iter_mut().find(|c| c.name == name) {
            Some(c) => {
                c.ok = ok;
                c.detail = detail;
            }
            None => s.checks.push(Check {
                name: name.to_string(),
                ok,
                detail,
            }),
        });
    }

    /// Set fact `name` (added on first use, in order).
    pub fn fact(&self, name: &str, value: impl ToString) {
        let value = value.to_string();
        self.with(|s| match s.facts.iter_mut().find(|f| f.0 == name) {
            Some(f) => f.1 = value,
            None => s.facts.push((name.to_string(), value)),
        });
    }

    pub fn snapshot(&self) -> Status {
        self.with(|s| s.clone())
    }

    /// The loop went round: note the time, and write the status file if it was last written
    /// more than a second ago.
    pub fn beat(&self) -> crate::Result<()> {
        let s = self.with(|s| {
            s.heartbeat = super::metrics::unix_now();
            s.clone()
        });
        let due = {
            let mut w = self.written.lock().unwrap_or_else(|e| e.into_inner());
            let due = w.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1));
            if due {
                *w = Some(std::time::Instant::now());
            }
            due
        };
        if due { self.write(&s) } else { Ok(()) }
    }

    /// The job ended (`why`: "finished", or the error).
    pub fn stop(&self, why: &str) -> crate::Result<()> {
        let s = self.with(|s| {
            s.heartbeat = super::metrics::unix_now();
            s.stopped = Some(why.to_string());
            s.clone()
        });
        self.write(&s)
    }

    fn write(&self, s: &Status) -> crate::Result<()> {
        match &self.file {
            Some(f) => crate::checkpoint::save(f, s),
            None => Ok(()),
        }
    }
}

/// Every status file under `state_dir`, by file name (unreadable ones are reported as errors in
/// place, so one bad file does not hide the others).
pub fn read_all(state_dir: &Path) -> crate::Result<Vec<(PathBuf, crate::Result<Status>)>> {
    let dir = state_dir.join("status");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(crate::Error::Read {
                path: dir.display().to_string(),
                source: e,
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|p| {
            let s = crate::checkpoint::load::<Status>(&p).and_then(|s| {
                s.ok_or_else(|| crate::Error::Internal(format!("{} vanished", p.display())))
            });
            (p, s)
        })
        .collect())
}

/// Ask a running job for its status at `addr` (its `/status`), waiting at most `timeout`.
pub async fn fetch(addr: &str, timeout: std::time::Duration) -> Option<Status> {
    let client = reqwest::Client::builder().timeout(timeout).build().ok()?;
    let resp = client
        .get(format!("http://{addr}/status"))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json::<Status>().await.ok()
}

/// Whether process `pid` is running on this machine.
pub fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
