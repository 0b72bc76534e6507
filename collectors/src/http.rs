//! A small HTTP GET client with retries and exponential backoff, shared by the API collectors.
//!
//! Retries connection failures, timeouts, HTTP 429 and 5xx; other statuses are returned to the
//! caller to decode (APIs put their error envelope in the body). Headers given as secret (access
//! tokens) are never logged.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;

/// URLs as the client takes them.
pub use reqwest::Url;

use crate::{Error, Result};

/// Retry policy: `attempts` tries, sleeping `base * 2^n` (capped at `max`) between them.
#[derive(Clone, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_millis(250),
            max: Duration::from_secs(8),
        }
    }
}

/// GET with retries.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    retry: Retry,
    source_name: &'static str,
}

impl HttpClient {
    pub fn new(source_name: &'static str, retry: Retry) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("elite/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Network {
                source_name,
                url: String::new(),
                attempts: 0,
                reason: e.to_string(),
            })?;
        Ok(Self {
            client,
            retry,
            source_name,
        })
    }

    /// GET `url`; returns the final status and body (after retrying retryable failures).
    pub async fn get(&self, url: &reqwest::Url, headers: HeaderMap) -> Result<(u16, Bytes)> {
        let mut last = String::new();
        for attempt in 0..self.retry.attempts.max(1) {
            if attempt > 0 {
                let wait = self
                    .retry
                    .base
                    .saturating_mul(1 << (attempt - 1).min(16))
                    .min(self.retry.max);
                tokio::time::sleep(wait).await;
            }
            tracing::debug!(source = self.source_name, %url, attempt, "GET");
            match self
                .client
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await
            {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await;
                    match body {
                        Ok(body) if status == 429 || status >= 500 => {
                            last = format!(
                                "HTTP {status}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(200)])
                            );
                        }
                        Ok(body) => return Ok((status, body)),
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(e) => last = e.to_string(),
            }
            tracing::warn!(source = self.source_name, %url, attempt, reason = %last, "retrying");
        }
        Err(Error::Network {
            source_name: self.source_name,
            url: url.to_string(),
            attempts: self.retry.attempts,
            reason: last,
        })
    }
}
