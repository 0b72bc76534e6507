//! The operator's endpoints of a running job, served over HTTP/1 on `--metrics-addr`:
//! `/metrics` (Prometheus, OpenMetrics text), `/healthz` (alive), `/readyz` (ready, or 503 with
//! the failing checks) and `/status` (the [`Status`](super::health::Status) as JSON, for
//! `elite status`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::health::Health;
use super::metrics::metrics;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serve `health` and the process's metrics on `addr` (`HOST:PORT`; port 0 picks a free one).
/// Returns the bound address (also set on `health`); the server runs on the current tokio
/// runtime until the process ends.
pub async fn serve(addr: &str, health: Arc<Health>) -> crate::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| crate::Error::Serve {
            addr: addr.to_string(),
            source,
        })?;
    let bound = listener
        .local_addr()
        .map_err(|source| crate::Error::Serve {
            addr: addr.to_string(),
            source,
        })?;
    health.set_addr(bound.to_string());
    let app = Router::new()
        .route(
            "/metrics",
            get(|| async { ([(header::CONTENT_TYPE, OPENMETRICS)], metrics().encode()) }),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .with_state(health);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics server stopped");
        }
    });
    Ok(bound)
}

type State = axum::extract::State<Arc<Health>>;

async fn healthz(axum::extract::State(h): State) -> impl IntoResponse {
    let s = h.snapshot();
    let age = super::metrics::unix_now() - s.heartbeat;
    (
        StatusCode::OK,
        format!(
            "{} {} alive (pid {}, last heartbeat {age:.1} s ago)\n",
            s.job, s.name, s.pid
        ),
    )
}

async fn readyz(axum::extract::State(h): State) -> impl IntoResponse {
    let s = h.snapshot();
    let code = if s.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, s.readyz_text())
}

async fn status(axum::extract::State(h): State) -> impl IntoResponse {
    axum::Json(h.snapshot())
}
