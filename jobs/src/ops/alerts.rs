//! Alert rules and their delivery: the `[alerts]` section of the config file says which rules
//! are on and where messages go; an [`Alerter`] de-duplicates (a condition that holds is
//! re-announced at most every `repeat_after_s`, and once when it clears) and rate-limits (at
//! most `max_per_minute` messages) before queueing for the channels.
//!
//! ```toml
//! [alerts]
//! drawdown = 0.05          # equity 5 % below its peak
//! feed_silent_s = 120      # following, and no new bar for 2 minutes
//! max_data_age_s = 300     # the latest bar's ts_recv older than 5 minutes
//! max_lag = 10000          # records waiting in a topic
//! kill_switch = true       # the kill switch tripped (risk or /halt), or was lifted
//! job_failure = true       # the job stopped on an error
//! daily_pnl = true         # a summary when a trading day closes while following
//! drift = true             # the nightly retrain detected drift
//! [alerts.telegram]        # token from $ELITE_TELEGRAM_TOKEN
//! chats = [123456789]      # where alerts go, and the only chats whose commands are answered
//! allowed_users = [42]     # if set, only these users' commands (in those chats) are answered
//! [alerts.discord]         # webhook URL from $ELITE_DISCORD_WEBHOOK
//! ```

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::metrics::metrics;
use super::notify::{Channels, Discord, Outbox, Secret, Telegram};

fn yes() -> bool {
    true
}
fn telegram_base() -> String {
    "https://api.telegram.org".into()
}
fn telegram_env() -> String {
    "ELITE_TELEGRAM_TOKEN".into()
}
fn discord_env() -> String {
    "ELITE_DISCORD_WEBHOOK".into()
}
fn poll_s() -> u64 {
    25
}

/// The `[alerts]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// Alert while equity is more than this fraction below its peak.
    pub drawdown: Option<f64>,
    /// Alert while following and no new bar has arrived for this many seconds (the feed is
    /// down, or whatever lands the bars).
    pub feed_silent_s: Option<f64>,
    /// Alert while the latest bar's `ts_recv` is older than this many seconds.
    pub max_data_age_s: Option<f64>,
    /// Alert while a consumer is this many records behind its topic.
    pub max_lag: Option<u64>,
    pub kill_switch: bool,
    pub job_failure: bool,
    pub daily_pnl: bool,
    /// The nightly retrain detected drift (PSI, KS, Page-Hinkley, ADWIN).
    pub drift: bool,
    /// A condition that still holds is announced again after this many seconds.
    pub repeat_after_s: f64,
    /// Messages per minute at most (the rest are dropped and counted).
    pub max_per_minute: u32,
    pub telegram: Option<TelegramConfig>,
    pub discord: Option<DiscordConfig>,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            drawdown: None,
            feed_silent_s: None,
            max_data_age_s: None,
            max_lag: None,
            kill_switch: true,
            job_failure: true,
            daily_pnl: true,
            drift: true,
            repeat_after_s: 300.0,
            max_per_minute: 20,
            telegram: None,
            discord: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    #[serde(default = "telegram_base")]
    pub api_base: String,
    /// The environment variable holding the bot token.
    #[serde(default = "telegram_env")]
    pub token_env: String,
    /// Chats alerts go to; commands are answered in these chats only.
    pub chats: Vec<i64>,
    /// If not empty, only these users' commands are answered.
    #[serde(default)]
    pub allowed_users: Vec<i64>,
    /// Answer `/status /positions /pnl /halt /resume`.
    #[serde(default = "yes")]
    pub commands: bool,
    /// Long-polling wait of `getUpdates`, seconds.
    #[serde(default = "poll_s")]
    pub poll_s: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The environment variable holding the webhook URL.
    #[serde(default = "discord_env")]
    pub webhook_env: String,
}

fn env_secret(var: &str, what: &str) -> crate::Result<Secret> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
        _ => Err(crate::Error::Config(format!(
            "[alerts.{what}] is configured but ${var} is not set"
        ))),
    }
}

impl AlertConfig {
    pub fn check(&self) -> crate::Result<()> {
        let bad = |what: &str| Err(crate::Error::Config(format!("[alerts] {what}")));
        if let Some(d) = self.drawdown
            && !(d.is_finite() && d > 0.0 && d < 1.0)
        {
            return bad("drawdown must be a fraction between 0 and 1");
        }
        for (name, v) in [
            ("feed_silent_s", self.feed_silent_s),
            ("max_data_age_s", self.max_data_age_s),
            ("repeat_after_s", Some(self.repeat_after_s)),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return bad(&format!("{name} must be a positive number of seconds"));
            }
        }
        if self.max_per_minute == 0 {
            return bad("max_per_minute must be at least 1");
        }
        if let Some(t) = &self.telegram
            && t.chats.is_empty()
        {
            return bad("telegram.chats must name at least one chat id");
        }
        Ok(())
    }

    /// The channels, with their credentials from the environment.
    pub fn channels(&self) -> crate::Result<Channels> {
        self.check()?;
        let timeout = Duration::from_secs(10);
        let telegram = match &self.telegram {
            Some(t) => Some((
                Telegram::new(
                    &t.api_base,
                    env_secret(&t.token_env, "telegram")?,
                    timeout + Duration::from_secs(t.poll_s),
                )?,
                t.chats.clone(),
            )),
            None => None,
        };
        let discord = match &self.discord {
            Some(d) => Some(Discord::new(
                env_secret(&d.webhook_env, "discord")?,
                timeout,
            )?),
            None => None,
        };
        Ok(Channels { telegram, discord })
    }
}

/// Raises alerts: de-duplicated, rate-limited, queued to the channels.
pub struct Alerter {
    pub cfg: AlertConfig,
    /// Prefixed to every message (e.g. "trader default").
    pub source: String,
    outbox: Outbox,
    /// Conditions that hold: key → when last announced.
    active: HashMap<String, Instant>,
    recent: VecDeque<Instant>,
}

impl Alerter {
    pub fn new(cfg: AlertConfig, source: &str, channels: Channels) -> Alerter {
        Alerter {
            cfg,
            source: source.to_string(),
            outbox: Outbox::spawn(channels),
            active: HashMap::new(),
            recent: VecDeque::new(),
        }
    }

    fn suppressed(&self, rule: &str, reason: &str) {
        metrics()
            .alerts_suppressed
            .get_or_create(&vec![
                ("rule", rule.to_string()),
                ("reason", reason.to_string()),
            ])
            .inc();
    }

    /// Send now unless over the rate limit; returns whether it was queued.
    fn emit(&mut self, rule: &str, text: &str) -> bool {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.cfg.max_per_minute as usize {
            self.suppressed(rule, "rate_limited");
            tracing::warn!(rule, "alert dropped: over the rate limit");
            return false;
        }
        self.recent.push_back(now);
        tracing::info!(rule, "alert: {text}");
        self.outbox
            .send(rule, format!("[elite {}] {text}", self.source));
        true
    }

    /// A one-off event (a kill switch trip, a failure, a daily summary).
    pub fn event(&mut self, rule: &str, text: &str) -> bool {
        self.emit(rule, text)
    }

    /// Condition `key` (of `rule`) holds: announce it, unless it was announced less than
    /// `repeat_after_s` ago.
    pub fn holds(&mut self, rule: &str, key: &str, text: &str) -> bool {
        let repeat = Duration::from_secs_f64(self.cfg.repeat_after_s);
        if let Some(t) = self.active.get(key)
            && t.elapsed() < repeat
        {
            self.suppressed(rule, "duplicate");
            return false;
        }
        let sent = self.emit(rule, text);
        if sent || !self.active.contains_key(key) {
            self.active.insert(key.to_string(), Instant::now());
        }
        sent
    }

    /// Condition `key` no longer holds: say so once if it had been announced.
    pub fn clears(&mut self, rule: &str, key: &str, text: &str) -> bool {
        if self.active.remove(key).is_some() {
            return self.emit(rule, &format!("resolved: {text}"));
        }
        false
    }

    /// Deliver what is queued (at most `timeout`).
    pub async fn flush(self, timeout: Duration) {
        self.outbox.flush(timeout).await
    }
}

/// An operator's command from a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Status,
    Positions,
    Pnl,
    /// Trip the kill switch, with the operator's words.
    Halt(String),
    Resume(String),
    Help,
}

impl Command {
    /// `/halt@elitebot market looks wrong` → `Halt("market looks wrong")`; not a command → None.
    pub fn parse(text: &str) -> Option<Command> {
        let text = text.trim();
        let rest = text.strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let word = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
        let args = args.trim().to_string();
        Some(match word.as_str() {
            "status" => Command::Status,
            "positions" => Command::Positions,
            "pnl" => Command::Pnl,
            "halt" => Command::Halt(args),
            "resume" => Command::Resume(args),
            "help" | "start" => Command::Help,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Positions => "positions",
            Command::Pnl => "pnl",
            Command::Halt(_) => "halt",
            Command::Resume(_) => "resume",
            Command::Help => "help",
        }
    }
}

/// A command to answer, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub command: Command,
    pub chat_id: i64,
    pub user_id: Option<i64>,
}

/// Poll Telegram for commands and pass on those from allowed chats (and users, when listed).
/// Others get no answer: they are logged and counted. Runs until the receiver is dropped.
pub fn spawn_commands(
    tg: Telegram,
    cfg: &TelegramConfig,
) -> (
    tokio::sync::mpsc::Receiver<Request>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let chats = cfg.chats.clone();
    let users = cfg.allowed_users.clone();
    let wait = cfg.poll_s;
    let task = tokio::spawn(async move {
        let mut offset = 0i64;
        loop {
            let updates = match tg.updates(offset, wait).await {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(error = %e, "telegram getUpdates failed; polling again in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            for u in updates {
                offset = offset.max(u.update_id + 1);
                let Some(command) = Command::parse(&u.text) else {
                    continue;
                };
                let allowed = chats.contains(&u.chat_id)
                    && (users.is_empty() || u.user_id.is_some_and(|id| users.contains(&id)));
                metrics()
                    .bot_commands
                    .get_or_create(&vec![
                        ("command", command.name().to_string()),
                        ("allowed", allowed.to_string()),
                    ])
                    .inc();
                if !allowed {
                    tracing::warn!(
                        chat_id = u.chat_id,
                        user_id = u.user_id,
                        command = command.name(),
                        "command from a chat or user not allowed: ignored"
                    );
                    continue;
                }
                let req = Request {
                    command,
                    chat_id: u.chat_id,
                    user_id: u.user_id,
                };
                if tx.send(req).await.is_err() {
                    return;
                }
            }
        }
    });
    (rx, task)
}
