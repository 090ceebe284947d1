//! `omc run --http ADDR`: `/healthz` (200 `ok`, or 503 with the reason while the registry or
//! MTS fails its check or the last run failed) and `/metrics` (Prometheus' text format).

use super::diagnose::explain;
use super::metrics::Metrics;
use crate::connector::Connector;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use omc_core::ConnectorConfig;
use omc_core::engine::CancellationToken;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long one health check of the registry and MTS may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The service's health: the registry and MTS, checked at most every `every` (the last answer
/// is kept between checks), and how the last run ended.
pub(super) struct Health {
    connector: Connector,
    config: Arc<ConnectorConfig>,
    every: Duration,
    checked: tokio::sync::Mutex<Option<(Instant, Option<String>)>>,
    last_run: Mutex<Option<String>>,
}

impl Health {
    /// The health of `connector`'s registry and MTS, checked at most every `every`.
    pub(super) fn new(connector: Connector, config: Arc<ConnectorConfig>, every: Duration) -> Self {
        Self {
            connector,
            config,
            every,
            checked: tokio::sync::Mutex::new(None),
            last_run: Mutex::new(None),
        }
    }

    /// How the last run ended: `None` when it ran, or why it failed.
    pub(super) fn last_run(&self, failure: Option<&str>) {
        *self.last_run.lock().unwrap_or_else(|e| e.into_inner()) = failure.map(str::to_owned);
    }

    /// `Ok` when healthy, otherwise the reason (one line).
    pub(super) async fn check(&self) -> Result<(), String> {
        let problem = {
            let mut checked = self.checked.lock().await;
            let due = checked
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() >= self.every);
            if due {
                let problem =
                    match tokio::time::timeout(CHECK_TIMEOUT, self.connector.preflight()).await {
                        Err(_) => Some(format!(
                            "the registry or MTS did not answer within {} s",
                            CHECK_TIMEOUT.as_secs()
                        )),
                        Ok(Err(e)) => Some(explain(&e, &self.config, "the health check failed")),
                        Ok(Ok(())) => None,
                    };
                *checked = Some((Instant::now(), problem));
            }
            checked.as_ref().and_then(|(_, problem)| problem.clone())
        };
        if let Some(problem) = problem {
            return Err(problem);
        }
        let last_run = self.last_run.lock().unwrap_or_else(|e| e.into_inner());
        match &*last_run {
            Some(failure) => Err(format!("the last run failed: {failure}")),
            None => Ok(()),
        }
    }
}

#[derive(Clone)]
struct Served {
    health: Arc<Health>,
    metrics: Metrics,
}

async fn healthz(State(served): State<Served>) -> impl IntoResponse {
    match served.health.check().await {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}

async fn metrics(State(served): State<Served>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        served.metrics.encode(),
    )
}

/// Serves `/healthz` and `/metrics` at `addr` until `cancel`; returns the address bound (port
/// 0 picks one).
pub(super) async fn serve(
    addr: SocketAddr,
    health: Arc<Health>,
    metrics: Metrics,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(self::metrics))
        .with_state(Served { health, metrics });
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { cancel.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::warn!("the /healthz and /metrics server stopped: {e}");
        }
    });
    Ok(bound)
}
