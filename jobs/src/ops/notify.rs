//! Where alerts go: Telegram (Bot API `sendMessage`, and `getUpdates` for commands) and Discord
//! (an incoming webhook). Both retry what is worth retrying — HTTP 429 after the `retry_after`
//! the provider asks for, 5xx and network failures with a doubling backoff — and give up after a
//! few attempts, counting the failure. Tokens and webhook URLs are [`Secret`]s: they never reach
//! a log line, an error or `Debug` (reqwest's errors are stripped of their URL, which holds the
//! Telegram token and the Discord webhook's).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

pub use elite_warehouse::Secret;

use super::metrics::metrics;

/// Why a channel did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{channel}: request failed: {source}")]
    Http {
        channel: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{channel}: HTTP {status}: {detail}")]
    Refused {
        channel: &'static str,
        status: u16,
        detail: String,
    },
    #[error("{channel}: still rate limited after {attempts} attempts")]
    RateLimited {
        channel: &'static str,
        attempts: u32,
    },
}

impl NotifyError {
    fn http(channel: &'static str) -> impl Fn(reqwest::Error) -> NotifyError {
        move |e| NotifyError::Http {
            channel,
            source: e.without_url(),
        }
    }
}

/// How hard to try.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    /// First backoff after a network failure or a 5xx (doubles each time).
    pub backoff: Duration,
    /// The longest `retry_after` obeyed; a longer one is waited this long.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// What one HTTP attempt came to.
enum Attempt<T> {
    Done(T),
    /// Try again after this long.
    Again(Duration, NotifyError),
    Fail(NotifyError),
}

async fn with_retry<T, F, Fut>(
    channel: &'static str,
    retry: Retry,
    mut f: F,
) -> Result<T, NotifyError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<T>>,
{
    let mut last = None;
    let mut limited = 0u32;
    for k in 0..retry.attempts.max(1) {
        match f().await {
            Attempt::Done(t) => return Ok(t),
            Attempt::Fail(e) => return Err(e),
            Attempt::Again(wait, e) => {
                if matches!(e, NotifyError::RateLimited { .. }) {
                    limited += 1;
                }
                tracing::warn!(channel, attempt = k + 1, wait_s = wait.as_secs_f64(), error = %e, "retrying");
                last = Some(e);
                if k + 1 < retry.attempts {
                    tokio::time::sleep(wait.min(retry.max_wait)).await;
                }
            }
        }
    }
    Err(match last {
        Some(NotifyError::RateLimited { .. }) | None => NotifyError::RateLimited {
            channel,
            attempts: limited,
        },
        Some(e) => e,
    })
}

/// Classify a response: 2xx done, 429 again after the provider's wait, 5xx again after the
/// backoff, anything else a failure with the provider's description.
async fn classify(
    channel: &'static str,
    resp: Result<reqwest::Response, reqwest::Error>,
    backoff: Duration,
) -> Attempt<serde_json::Value> {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Attempt::Again(backoff, NotifyError::http(channel)(e)),
    };
    let status = resp.status();
    let header_wait = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let body = resp.bytes().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        return Attempt::Done(json);
    }
    let detail = json
        .get("description")
        .or_else(|| json.get("message"))
        .and_then(|d| d.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
    if status.as_u16() == 429 {
        // Telegram: {"parameters": {"retry_after": 3}}; Discord: {"retry_after": 0.5} and the
        // Retry-After header.
        let secs = json
            .pointer("/parameters/retry_after")
            .or_else(|| json.get("retry_after"))
            .and_then(|v| v.as_f64())
            .or(header_wait)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(1.0);
        return Attempt::Again(
            Duration::from_secs_f64(secs),
            NotifyError::RateLimited {
                channel,
                attempts: 1,
            },
        );
    }
    let err = NotifyError::Refused {
        channel,
        status: status.as_u16(),
        detail,
    };
    if status.is_server_error() {
        Attempt::Again(backoff, err)
    } else {
        Attempt::Fail(err)
    }
}

/// A Telegram bot.
#[derive(Clone, Debug)]
pub struct Telegram {
    client: reqwest::Client,
    /// `https://api.telegram.org` (a local server in tests).
    pub api_base: String,
    token: Secret,
    pub retry: Retry,
}

/// A chat message from `getUpdates`.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    pub update_id: i64,
    pub chat_id: i64,
    pub user_id: Option<i64>,
    pub text: String,
}

#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
}
#[derive(Deserialize)]
struct Message {
    chat: Chat,
    from: Option<User>,
    text: Option<String>,
}
#[derive(Deserialize)]
struct Chat {
    id: i64,
}
#[derive(Deserialize)]
struct User {
    id: i64,
}

impl Telegram {
    pub fn new(api_base: &str, token: Secret, timeout: Duration) -> Result<Self, NotifyError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(NotifyError::http("telegram"))?;
        Ok(Telegram {
            client,
            api_base: api_base.trim_end_matches('/').to_string(),
            token,
            retry: Retry::default(),
        })
    }

    fn url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.api_base, self.token.expose())
    }

    /// Send `text` to `chat_id`.
    pub async fn send(&self, chat_id: i64, text: &str) -> Result<(), NotifyError> {
        let body = json!({ "chat_id": chat_id, "text": text });
        let backoff = self.retry.backoff;
        let mut k = 0u32;
        with_retry("telegram", self.retry, || {
            let req = self.client.post(self.url("sendMessage")).json(&body);
            let wait = backoff * 2u32.pow(k.min(10));
            k += 1;
            async move { classify("telegram", req.send().await, wait).await }
        })
        .await
        .map(|_| ())
    }

    /// Messages after `offset` (long polling up to `wait_s` seconds); each update's id + 1 is
    /// the next offset.
    pub async fn updates(&self, offset: i64, wait_s: u64) -> Result<Vec<Incoming>, NotifyError> {
        let body = json!({ "offset": offset, "timeout": wait_s, "allowed_updates": ["message"] });
        let backoff = self.retry.backoff;
        let v = with_retry("telegram", self.retry, || {
            let req = self.client.post(self.url("getUpdates")).json(&body);
            async move { classify("telegram", req.send().await, backoff).await }
        })
        .await?;
        let updates: Vec<Update> = v
            .get("result")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| NotifyError::Refused {
                channel: "telegram",
                status: 200,
                detail: format!("getUpdates result: {e}"),
            })?
            .unwrap_or_default();
        Ok(updates
            .into_iter()
            .map(|u| {
                let (chat_id, user_id, text) = match u.message {
                    Some(m) => (m.chat.id, m.from.map(|f| f.id), m.text.unwrap_or_default()),
                    None => (0, None, String::new()),
                };
                Incoming {
                    update_id: u.update_id,
                    chat_id,
                    user_id,
                    text,
                }
            })
            .collect())
    }
}

/// A Discord incoming webhook.
#[derive(Clone, Debug)]
pub struct Discord {
    client: reqwest::Client,
    url: Secret,
    pub retry: Retry,
}

impl Discord {
    pub fn new(url: Secret, timeout: Duration) -> Result<Self, NotifyError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(NotifyError::http("discord"))?;
        Ok(Discord {
            client,
            url,
            retry: Retry::default(),
        })
    }

    pub async fn send(&self, text: &str) -> Result<(), NotifyError> {
        // Discord caps content at 2000 characters.
        let content: String = text.chars().take(2000).collect();
        let body = json!({ "content": content, "username": "elite" });
        let backoff = self.retry.backoff;
        let mut k = 0u32;
        with_retry("discord", self.retry, || {
            let req = self.client.post(self.url.expose()).json(&body);
            let wait = backoff * 2u32.pow(k.min(10));
            k += 1;
            async move { classify("discord", req.send().await, wait).await }
        })
        .await
        .map(|_| ())
    }
}

/// Where alerts go.
#[derive(Clone, Debug, Default)]
pub struct Channels {
    /// The bot and the chats alerts go to.
    pub telegram: Option<(Telegram, Vec<i64>)>,
    pub discord: Option<Discord>,
}

impl Channels {
    pub fn is_empty(&self) -> bool {
        self.telegram.is_none() && self.discord.is_none()
    }

    /// Deliver `text` (alert rule `rule`) to every channel; failures are counted and logged,
    /// never raised (an alert that cannot be sent must not stop trading).
    pub async fn deliver(&self, rule: &str, text: &str) {
        let m = metrics();
        if let Some((tg, chats)) = &self.telegram {
            for chat in chats {
                let labels = vec![
                    ("channel", "telegram".to_string()),
                    ("rule", rule.to_string()),
                ];
                match tg.send(*chat, text).await {
                    Ok(()) => {
                        m.alerts_sent.get_or_create(&labels).inc();
                    }
                    Err(e) => {
                        m.alerts_failed.get_or_create(&labels).inc();
                        tracing::error!(rule, error = %e, "alert not delivered");
                    }
                }
            }
        }
        if let Some(d) = &self.discord {
            let labels = vec![
                ("channel", "discord".to_string()),
                ("rule", rule.to_string()),
            ];
            match d.send(text).await {
                Ok(()) => {
                    m.alerts_sent.get_or_create(&labels).inc();
                }
                Err(e) => {
                    m.alerts_failed.get_or_create(&labels).inc();
                    tracing::error!(rule, error = %e, "alert not delivered");
                }
            }
        }
    }
}

/// A queue in front of [`Channels`]: sending never waits on the network (a 429's wait or a
/// slow provider holds up the queue's task, not the trader).
pub struct Outbox {
    tx: Option<tokio::sync::mpsc::UnboundedSender<(String, String)>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Outbox {
    pub fn spawn(channels: Channels) -> Outbox {
        if channels.is_empty() {
            return Outbox {
                tx: None,
                task: None,
            };
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
        let task = tokio::spawn(async move {
            while let Some((rule, text)) = rx.recv().await {
                channels.deliver(&rule, &text).await;
            }
        });
        Outbox {
            tx: Some(tx),
            task: Some(task),
        }
    }

    /// Queue `text` for every channel.
    pub fn send(&self, rule: &str, text: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((rule.to_string(), text));
        }
    }

    /// Deliver what is queued (waiting at most `timeout`), then stop.
    pub async fn flush(mut self, timeout: Duration) {
        self.tx = None;
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(timeout, t).await;
        }
    }
}
