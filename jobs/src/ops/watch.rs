//! What a running trader tells its operator, after every step: metrics from its engine, its
//! readiness checks, the alert rules, and the answers to chat commands. The paper trader calls
//! [`TraderOps::observe`] after each batch of events and each `--follow` tick.

use std::sync::Arc;
use std::time::{Duration, Instant};

use elite_trade::engine::Engine;
use elite_warehouse::Timestamp;

use super::alerts::{AlertConfig, Alerter, Request};
use super::health::Health;
use super::metrics::{EngineView, EngineWatch, Labels, metrics, unix_now};
use super::notify::Telegram;

/// The day an instant closes: that of the instant just before its `ts_recv`, so a daily bar
/// received at the next midnight belongs to its own date (and an intraday bar to its day).
fn trading_day(t: Timestamp) -> chrono::NaiveDate {
    t.add_nanos(-1).to_datetime().date_naive()
}

/// The equity at the last close of `day` (`otherwise` when the journal has none).
fn day_close(engine: &Engine, day: chrono::NaiveDate, otherwise: f64) -> f64 {
    engine
        .journal
        .equity
        .iter()
        .rev()
        .find(|p| trading_day(p.ts) == day)
        .map_or(otherwise, |p| p.equity)
}

/// How a job is operated: where its health goes, its alert rules and channels, its commands.
pub struct Ops {
    pub labels: Labels,
    pub health: Arc<Health>,
    pub alerter: Option<Alerter>,
    /// Chat commands, and the bot that answers them.
    pub commands: Option<(tokio::sync::mpsc::Receiver<Request>, Telegram)>,
    /// Readiness: the latest bar's `ts_recv` at most this old.
    pub max_data_age: Option<Duration>,
    /// Readiness while following: a new bar at least this often.
    pub feed_silent: Option<Duration>,
    /// Readiness: at most this many records waiting.
    pub max_lag: Option<u64>,
}

impl Ops {
    /// Operations of job `kind`/`name` with no alerts, commands or bounds (metrics and health
    /// only).
    pub fn new(kind: &str, name: &str, health: Arc<Health>) -> Ops {
        Ops {
            labels: super::metrics::job(kind, name),
            health,
            alerter: None,
            commands: None,
            max_data_age: None,
            feed_silent: None,
            max_lag: None,
        }
    }

    /// Turn on `cfg`'s alert rules (and their bounds as readiness checks) and, for a job that
    /// `answers` commands (a trader) when Telegram commands are on, start polling for them. Only
    /// one process may poll a bot's updates (Telegram refuses a second `getUpdates`, and what
    /// one process reads is gone for the others), so the other jobs only send.
    pub fn with_alerts(
        mut self,
        cfg: AlertConfig,
        source: &str,
        answers: bool,
    ) -> crate::Result<Ops> {
        let channels = cfg.channels()?;
        if let (Some(tc), Some((tg, _))) = (&cfg.telegram, &channels.telegram)
            && tc.commands
            && answers
        {
            let (rx, _task) = super::alerts::spawn_commands(tg.clone(), tc);
            self.commands = Some((rx, tg.clone()));
        }
        self.max_data_age = self
            .max_data_age
            .or(cfg.max_data_age_s.map(Duration::from_secs_f64));
        self.feed_silent = self
            .feed_silent
            .or(cfg.feed_silent_s.map(Duration::from_secs_f64));
        self.max_lag = self.max_lag.or(cfg.max_lag);
        self.alerter = Some(Alerter::new(cfg, source, channels));
        Ok(self)
    }

    /// Commands received since the last call.
    pub fn pending(&mut self) -> Vec<Request> {
        let mut out = vec![];
        if let Some((rx, _)) = &mut self.commands {
            while let Ok(r) = rx.try_recv() {
                out.push(r);
            }
        }
        out
    }

    /// Wait for the next command (never, without commands).
    pub async fn next_command(&mut self) -> Option<Request> {
        match &mut self.commands {
            Some((rx, _)) => rx.recv().await,
            None => std::future::pending().await,
        }
    }

    /// Answer a command in its chat (in the background).
    pub fn reply(&self, chat_id: i64, text: String) {
        if let Some((_, tg)) = &self.commands {
            let tg = tg.clone();
            tokio::spawn(async move {
                if let Err(e) = tg.send(chat_id, &text).await {
                    tracing::error!(error = %e, "reply not delivered");
                }
            });
        }
    }

    /// The job stopped: on an error, raise the `job_failure` alert; deliver what is queued.
    pub async fn finish(mut self, outcome: Result<(), String>) {
        let why = match &outcome {
            Ok(()) => "finished".to_string(),
            Err(e) => format!("failed: {e}"),
        };
        if let Err(e) = self.health.stop(&why) {
            tracing::warn!(error = %e, "cannot write the status file");
        }
        if let Some(mut a) = self.alerter.take() {
            if let Err(e) = &outcome
                && a.cfg.job_failure
            {
                a.event("job_failure", &format!("stopped on an error: {e}"));
            }
            a.flush(Duration::from_secs(15)).await;
        }
    }
}

/// The trader's operations and what they remember between steps.
pub struct TraderOps {
    pub ops: Ops,
    watch: EngineWatch,
    /// When the last new bar arrived (wall clock), and its `ts_recv`.
    last_bar_at: Instant,
    latest: Option<Timestamp>,
    /// The engine's current day (UTC) and the equity it opened with.
    day: Option<chrono::NaiveDate>,
    day_open: f64,
    /// Following: caught up with what had landed; from now on new bars are news.
    pub following: bool,
    pub view: EngineView,
}

impl TraderOps {
    pub fn new(ops: Ops, engine: &Engine) -> TraderOps {
        let watch = EngineWatch::new(ops.labels.clone(), engine);
        let day = engine.now().map(trading_day);
        TraderOps {
            ops,
            watch,
            last_bar_at: Instant::now(),
            latest: None,
            day,
            day_open: engine.equity(),
            following: false,
            view: EngineView::default(),
        }
    }

    /// The histogram of this trader's event → decision latency.
    pub fn decision_latency(&self) -> prometheus_client::metrics::histogram::Histogram {
        metrics()
            .event_to_decision
            .get_or_create(&self.ops.labels)
            .clone()
    }

    /// After a step: `new_bars` bars processed (the latest with `ts_recv` `latest`), `lag`
    /// records waiting in the topic.
    pub fn observe(&mut self, engine: &Engine, new_bars: u64, latest: Option<Timestamp>, lag: u64) {
        let m = metrics();
        let l = self.ops.labels.clone();
        let view = self.watch.observe(engine);
        if new_bars > 0 {
            m.bars_processed.get_or_create(&l).inc_by(new_bars);
            self.last_bar_at = Instant::now();
        }
        if latest.is_some() {
            self.latest = latest;
        }
        m.consumer_lag
            .get_or_create(&super::metrics::with(&l, "topic", "events"))
            .set(lag as i64);
        let age = self.latest.map(|t| unix_now() - t.as_nanos() as f64 / 1e9);
        if let Some(a) = age {
            m.data_age.get_or_create(&l).set(a);
        }
        let silent = self.last_bar_at.elapsed();

        // Readiness.
        let h = &self.ops.health;
        h.set(
            "kill_switch",
            !view.halted,
            if view.halted {
                "on: every order is refused"
            } else {
                "off"
            },
        );
        if let (Some(bound), Some(a)) = (self.ops.max_data_age, age) {
            h.set(
                "data_fresh",
                a <= bound.as_secs_f64(),
                format!(
                    "latest bar received {a:.0} s ago (bound {} s)",
                    bound.as_secs_f64()
                ),
            );
        }
        if self.following
            && let Some(bound) = self.ops.feed_silent
        {
            h.set(
                "feed",
                silent <= bound,
                format!(
                    "last new bar {:.1} s ago (bound {} s)",
                    silent.as_secs_f64(),
                    bound.as_secs_f64()
                ),
            );
        }
        if let Some(bound) = self.ops.max_lag {
            h.set(
                "lag",
                lag <= bound,
                format!("{lag} records waiting (bound {bound})"),
            );
        }
        h.fact("equity", format!("{:.2}", view.equity));
        h.fact("pnl", format!("{:.2}", view.pnl));
        h.fact("drawdown", format!("{:.4}", view.drawdown));
        if let Some(t) = self.latest {
            h.fact("latest_bar_ts_recv", t);
        }
        if let Err(e) = h.beat() {
            tracing::warn!(error = %e, "cannot write the status file");
        }

        // Alerts.
        let day = engine.now().map(trading_day);
        if let Some(a) = &mut self.ops.alerter {
            if a.cfg.kill_switch {
                for (on, detail) in &view.kill_events {
                    let text = if *on {
                        format!(
                            "KILL SWITCH ON: {detail}; working orders cancelled, positions flattened"
                        )
                    } else {
                        format!("kill switch lifted: {detail}")
                    };
                    a.event("kill_switch", &text);
                }
            }
            if let Some(limit) = a.cfg.drawdown {
                if view.drawdown > limit {
                    a.holds(
                        "drawdown",
                        "drawdown",
                        &format!(
                            "drawdown {:.2}% over the {:.2}% alert (equity {:.2})",
                            view.drawdown * 100.0,
                            limit * 100.0,
                            view.equity
                        ),
                    );
                } else {
                    a.clears(
                        "drawdown",
                        "drawdown",
                        &format!("drawdown back to {:.2}%", view.drawdown * 100.0),
                    );
                }
            }
            if self.following
                && let Some(bound) = a.cfg.feed_silent_s
            {
                if silent.as_secs_f64() > bound {
                    a.holds(
                        "feed_down",
                        "feed_down",
                        &format!(
                            "feed down: no new bar for {:.0} s (latest ts_recv {})",
                            silent.as_secs_f64(),
                            self.latest.map_or("none".into(), |t| t.to_string())
                        ),
                    );
                } else {
                    a.clears("feed_down", "feed_down", "bars arriving again");
                }
            }
            if let (Some(bound), Some(age)) = (a.cfg.max_data_age_s, age) {
                if age > bound {
                    a.holds(
                        "data_stale",
                        "data_stale",
                        &format!(
                            "data stale: latest bar received {age:.0} s ago (bound {bound} s)"
                        ),
                    );
                } else {
                    a.clears("data_stale", "data_stale", "data fresh again");
                }
            }
            if let Some(bound) = a.cfg.max_lag {
                if lag > bound {
                    a.holds(
                        "lag",
                        "lag",
                        &format!("consumer lag {lag} records (bound {bound})"),
                    );
                } else {
                    a.clears("lag", "lag", "consumer caught up");
                }
            }
            if let (Some(prev), Some(d)) = (self.day, day)
                && d != prev
                && self.following
                && a.cfg.daily_pnl
            {
                // The day's close is the equity before the new day's first bar moved it.
                let close = day_close(engine, prev, view.equity);
                let pnl = close - self.day_open;
                a.event(
                    "daily_pnl",
                    &format!(
                        "daily P&L {prev}: {pnl:+.2} ({:+.2}%), equity {close:.2}, drawdown {:.2}%",
                        if self.day_open > 0.0 {
                            pnl / self.day_open * 100.0
                        } else {
                            0.0
                        },
                        view.drawdown * 100.0
                    ),
                );
            }
        }
        if day != self.day {
            if let Some(prev) = self.day {
                self.day_open = day_close(engine, prev, view.equity);
            }
            self.day = day;
        }
        self.view = view;
    }
}
