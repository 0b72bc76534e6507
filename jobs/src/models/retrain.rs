//! The nightly retrain: serve production and shadow on the new bars, test for drift (feature
//! PSI and KS, Page-Hinkley and ADWIN on the daily log-loss), and train again when drift, the
//! schedule or a missing production model says so.

use std::collections::BTreeMap;

use elite_models::model::Task;
use elite_store::{CommitMeta, Warehouse};
use elite_warehouse::{Clock, tables};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::{RetrainConfig, TrainConfig};
use super::predictions::read_predictions;
use super::predictions::us;
use super::registry::{current_production, load_registered, parse_ts};
use super::serve::{Served, serve};
use super::train::{TrainReport, load_dataset, train};
use crate::{Error, Result};

/// A drift detection.
#[derive(Clone, Debug, Serialize)]
pub struct Drift {
    pub detector: String,
    pub feature: Option<String>,
    pub value: f64,
    pub threshold: f64,
    /// ns
    pub ts_event: i64,
}

/// Drift of the production model `id`: each feature's distribution on its training rows vs the
/// rows after them (PSI, KS), and its daily log-loss stream — walk-forward predictions up to
/// its training end, then its served predictions — watched by Page-Hinkley and ADWIN; only
/// detections after the training end count.
pub async fn drift(wh: &Warehouse, id: &str, rc: &RetrainConfig) -> Result<Vec<Drift>> {
    use elite_models::drift::{Adwin, PageHinkley, ks_2samp, psi};
    let (row, model) = load_registered(wh, id).await?;
    let mut cfg: TrainConfig = serde_json::from_str(&row.config)
        .map_err(|e| Error::from(e).context(format!("config of {id}")))?;
    cfg.data.version = None;
    let (ds, _) = load_dataset(wh, &cfg).await?;
    let trained_to = parse_ts(&row.ts_event).unwrap_or(i64::MAX);
    let (old, new): (Vec<usize>, Vec<usize>) =
        (0..ds.rows.len()).partition(|&i| ds.rows[i].ts_event <= trained_to);
    let mut out = vec![];
    let last_new = new.iter().map(|&i| ds.rows[i].ts_event).max().unwrap_or(0);
    if new.len() >= 30 {
        for (j, f) in ds.features.iter().enumerate() {
            let a: Vec<f64> = old.iter().map(|&i| ds.row_x(i)[j]).collect();
            let b: Vec<f64> = new.iter().map(|&i| ds.row_x(i)[j]).collect();
            let v = psi(&a, &b, 10);
            if v > rc.psi {
                out.push(Drift {
                    detector: "psi".into(),
                    feature: Some(f.clone()),
                    value: v,
                    threshold: rc.psi,
                    ts_event: last_new,
                });
            }
            let (_, pv) = ks_2samp(&a, &b);
            if pv < rc.ks_p {
                out.push(Drift {
                    detector: "ks".into(),
                    feature: Some(f.clone()),
                    value: pv,
                    threshold: rc.ks_p,
                    ts_event: last_new,
                });
            }
        }
    }
    if model.task() == Task::Classification {
        let mut scores = read_predictions(wh, id, "walk_forward").await?;
        for stage in ["production", "shadow"] {
            scores.extend(read_predictions(wh, id, stage).await?);
        }
        let mut daily: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for (i, r) in ds.rows.iter().enumerate() {
            let (Some(l), Some(p)) = (
                r.label,
                scores.get(&(ds.symbols[r.series as usize].clone(), us(r.ts_event))),
            ) else {
                continue;
            };
            let _ = i;
            let ll = elite_models::metrics::log_loss(&[*p], &[l.up]);
            let e = daily.entry(r.ts_event).or_insert((0.0, 0.0));
            e.0 += ll;
            e.1 += 1.0;
        }
        let mut ph = PageHinkley::new(0.005, rc.page_hinkley);
        let mut ad = Adwin::new(rc.adwin_delta, 2000);
        for (&t, &(s, n)) in &daily {
            let x = s / n;
            let hit_ph = ph.update(x);
            let hit_ad = ad.update(x);
            if t > trained_to {
                if hit_ph {
                    out.push(Drift {
                        detector: "page_hinkley".into(),
                        feature: None,
                        value: x,
                        threshold: rc.page_hinkley,
                        ts_event: t,
                    });
                }
                if hit_ad {
                    out.push(Drift {
                        detector: "adwin".into(),
                        feature: None,
                        value: ad.mean(),
                        threshold: rc.adwin_delta,
                        ts_event: t,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// What the nightly retrain did.
#[derive(Clone, Debug, Serialize)]
pub struct RetrainReport {
    /// `trained` or `up_to_date`.
    pub action: String,
    pub reason: String,
    pub served: Vec<Served>,
    /// Serving by the models this run promoted.
    pub served_after: Vec<Served>,
    pub drift: Vec<Drift>,
    pub train: Option<TrainReport>,
    pub rows_added: usize,
}

/// The nightly job: serve production and shadow on the new bars (A/B record), test for drift,
/// and train + validate + register + promote when drift was detected, when `every` new dates
/// have arrived, when there is no production model, or when forced. Idempotent and resumable
/// (training is: see [`train`]); a run with nothing new does nothing.
pub async fn retrain(
    wh: &Warehouse,
    cfg: &TrainConfig,
    clock: &dyn Clock,
    force: bool,
) -> Result<RetrainReport> {
    let mut cfg = cfg.clone();
    cfg.data.version = None;
    let mut added = 0;
    let current = current_production(wh, &cfg.name).await?;
    let (served, drift_found, reason) = match &current {
        None => (
            vec![],
            vec![],
            "no production model in the group".to_string(),
        ),
        Some((id, _)) => {
            let (served, n) = serve(wh, &cfg.name).await?;
            added += n;
            let d = drift(wh, id, &cfg.retrain).await?;
            let now = us(clock.now().as_nanos());
            #[derive(Serialize)]
            struct Row<'a> {
                event_id: String,
                group: &'a str,
                model_id: &'a str,
                detector: &'a str,
                feature: Option<&'a str>,
                value: f64,
                threshold: f64,
                ts_event: i64,
                ts_recv: i64,
            }
            let rows: Vec<Row<'_>> = d
                .iter()
                .map(|x| Row {
                    event_id: hex::encode(
                        &Sha256::digest(
                            format!("{id}|{}|{:?}|{}", x.detector, x.feature, x.ts_event)
                                .as_bytes(),
                        )[..8],
                    ),
                    group: &cfg.name,
                    model_id: id,
                    detector: &x.detector,
                    feature: x.feature.as_deref(),
                    value: x.value,
                    threshold: x.threshold,
                    ts_event: us(x.ts_event),
                    ts_recv: now,
                })
                .collect();
            added += crate::run::journal::insert(
                wh,
                &tables::DRIFT_EVENTS,
                &rows,
                CommitMeta::new(format!("drift:{}", cfg.name)),
            )
            .await?;
            let new_dates = served
                .iter()
                .find(|s| s.stage == "production")
                .map_or(0, |s| s.rows / served_symbols(s));
            let reason = if force {
                "forced".to_string()
            } else if !d.is_empty() {
                format!(
                    "drift: {}",
                    d.iter()
                        .map(|x| format!(
                            "{}{}",
                            x.detector,
                            x.feature
                                .as_ref()
                                .map_or(String::new(), |f| format!("({f})"))
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else if new_dates >= cfg.retrain.every {
                format!(
                    "schedule: {new_dates} new dates ≥ every = {}",
                    cfg.retrain.every
                )
            } else {
                String::new()
            };
            (served, d, reason)
        }
    };
    if reason.is_empty() {
        return Ok(RetrainReport {
            action: "up_to_date".into(),
            reason: "no drift and fewer new dates than `every`".into(),
            served,
            served_after: vec![],
            drift: drift_found,
            train: None,
            rows_added: added,
        });
    }
    let t = train(wh, &cfg, clock).await?;
    added += t.rows_added;
    // Newly promoted models serve the bars after their training data at once, so the newest
    // bar has a production prediction before the next run.
    let served_after = if t.registered.iter().any(|r| r.stage != "candidate") {
        let (s, n) = serve(wh, &cfg.name).await?;
        added += n;
        s
    } else {
        vec![]
    };
    Ok(RetrainReport {
        action: "trained".into(),
        reason,
        served,
        served_after,
        drift: drift_found,
        train: Some(t),
        rows_added: added,
    })
}

fn served_symbols(s: &Served) -> usize {
    s.latest.len().max(1)
}
