//! What the paper and the live trader share: a named, resumable session of one run.
//!
//! A session is the engine, the intake's event sequence, how far it has been processed, the
//! broker reports applied on the way (each with the event offset it was applied before) and how
//! much of the journal is in the warehouse. A commit writes the journal since the last commit,
//! then replaces the checkpoint atomically. A restart is [`replay`]: the intake's events up to the
//! checkpoint with the recorded reports at their offsets — the same code for paper and live —
//! and the rebuilt journal must equal what the checkpoint recorded before anything is traded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use elite_store::Warehouse;
use elite_trade::engine::Engine;
use elite_trade::event::Event;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::inputs::{InputKey, Intake};
use super::journal::{Written, write_journal};
use crate::{Error, Result};

/// A session's checkpoint; `X` is what one kind of trader adds (the live trader: the broker's
/// order ids).
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "X: DeserializeOwned + Default"))]
pub struct Checkpoint<X> {
    pub name: String,
    pub run_id: String,
    /// The `bars` version a paper run replays (`None` for live runs: new bars extend them).
    #[serde(default)]
    pub bars_version: Option<u64>,
    /// Events of the intake processed.
    pub next_offset: u64,
    pub written: Written,
    /// Broker reports applied, each with the event offset it was applied before, in order.
    #[serde(default = "Vec::new")]
    pub reports: Vec<(u64, Event)>,
    /// Inputs that landed after their bar was processed (left out on replay).
    #[serde(default = "BTreeSet::new")]
    pub late: BTreeSet<InputKey>,
    #[serde(default)]
    pub extra: X,
}

/// Read the checkpoint of trader `name` at `path` (none when `fresh` or absent); it must be
/// `name`'s.
pub fn load_checkpoint<X: DeserializeOwned + Default>(
    path: &Path,
    name: &str,
    fresh: bool,
) -> Result<Option<Checkpoint<X>>> {
    if fresh {
        return Ok(None);
    }
    let cp = crate::checkpoint::load::<Checkpoint<X>>(path)?;
    if let Some(c) = &cp
        && c.name != name
    {
        return Err(Error::Internal(format!(
            "checkpoint {} belongs to trader {}",
            path.display(),
            c.name
        )));
    }
    Ok(cp)
}

/// Feed `events[..upto]` to `engine` with each of `reports` before the event at its offset (and
/// those at or past `upto` after the last): how a session is rebuilt.
pub fn replay(
    engine: &mut Engine,
    events: &[Event],
    reports: &[(u64, Event)],
    upto: usize,
) -> Result<()> {
    let mut k = 0;
    for (i, e) in events[..upto.min(events.len())].iter().enumerate() {
        while k < reports.len() && reports[k].0 as usize <= i {
            engine.process(&reports[k].1)?;
            k += 1;
        }
        engine.process(e)?;
    }
    for (_, r) in &reports[k..] {
        engine.process(r)?;
    }
    Ok(())
}

/// One trader's run in progress.
pub struct Session {
    pub name: String,
    /// The checkpoint file.
    pub path: PathBuf,
    pub run_id: String,
    pub engine: Engine,
    pub intake: Intake,
    /// The next event of `intake.events` to process.
    pub offset: usize,
    pub written: Written,
    pub reports: Vec<(u64, Event)>,
}

impl Session {
    /// A session at the start of `intake`, or rebuilt from `cp` (which must be for `run_id`).
    pub fn open<X>(
        name: &str,
        path: PathBuf,
        run_id: String,
        mut engine: Engine,
        intake: Intake,
        cp: Option<&Checkpoint<X>>,
    ) -> Result<Session> {
        let Some(cp) = cp else {
            return Ok(Session {
                name: name.to_string(),
                path,
                run_id,
                engine,
                intake,
                offset: 0,
                written: Written::default(),
                reports: vec![],
            });
        };
        if cp.run_id != run_id {
            return Err(Error::Config(format!(
                "checkpoint {} is for run {} but this config and data make run {run_id}; use --fresh or another --name",
                path.display(),
                cp.run_id
            )));
        }
        let start = cp.next_offset as usize;
        if start > intake.events.len() {
            return Err(Error::Internal(format!(
                "checkpoint offset {start} is past the {} events in the warehouse",
                intake.events.len()
            )));
        }
        replay(&mut engine, &intake.events, &cp.reports, start)?;
        Ok(Session {
            name: name.to_string(),
            path,
            run_id,
            engine,
            intake,
            offset: start,
            written: cp.written,
            reports: cp.reports.clone(),
        })
    }

    /// The rebuilt journal must be what the checkpoint recorded.
    pub fn check_rebuilt<X>(&self, cp: &Checkpoint<X>, extra: &str) -> Result<()> {
        let rebuilt = Written::all_of(&self.engine.journal);
        if rebuilt != cp.written {
            return Err(Error::Internal(format!(
                "replay up to event {} rebuilt {rebuilt:?} but the checkpoint recorded {:?}{extra}: \
                 not trading on a book that does not reconcile",
                cp.next_offset, cp.written
            )));
        }
        Ok(())
    }

    /// Apply a broker report now and keep it for replay before event `before`.
    pub fn record(&mut self, before: u64, r: Event) -> Result<()> {
        self.engine.process(&r)?;
        self.reports.push((before, r));
        Ok(())
    }

    /// Write the journal since the last commit, then the checkpoint (atomically).
    pub async fn commit<X: Serialize>(
        &mut self,
        wh: &Warehouse,
        bars_version: Option<u64>,
        extra: X,
    ) -> Result<usize> {
        let added = write_journal(
            wh,
            &self.run_id,
            &self.engine,
            &self.intake.symbols,
            &mut self.written,
        )
        .await?;
        crate::checkpoint::save(
            &self.path,
            &Checkpoint {
                name: self.name.clone(),
                run_id: self.run_id.clone(),
                bars_version,
                next_offset: self.offset as u64,
                written: self.written,
                reports: self.reports.clone(),
                late: self.intake.late.clone(),
                extra,
            },
        )?;
        Ok(added)
    }
}
