//! Operations: what a running job tells its operator while it runs.
//!
//! - [`metrics`]: the process's Prometheus metrics (`/metrics`);
//! - [`health`]: liveness, readiness checks with reasons, and the status file `elite status`
//!   reads;
//! - [`server`]: the HTTP endpoints (`/metrics`, `/healthz`, `/readyz`, `/status`);
//! - [`alerts`]: alert rules, de-duplication and rate limits, and chat commands;
//! - [`notify`]: the Telegram and Discord clients (retries, 429s, redacted secrets);
//! - [`watch`]: the trader's glue — after every step, metrics, checks, alerts.

pub mod alerts;
pub mod health;
pub mod metrics;
pub mod notify;
pub mod server;
pub mod watch;
