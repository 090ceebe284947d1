//! The service's metrics, in Prometheus' text format (`/metrics`): registrants by outcome, runs
//! by outcome, MTS requests and their latency, batches in flight, the last completed run.
//! Counts and times only: no personal data.

use async_trait::async_trait;
use omc_core::engine::Progress;
use omc_core::ledger::RunOutcome;
use omc_core::sink::Delivery;
use omc_core::time::Timestamp;
use omc_core::{RequestId, RequestStatus, SeedRequest, SeederError, TokenSeeder};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// One label, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// An MTS request's labels: which call, and whether MTS answered it.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    operation: &'static str,
    result: &'static str,
}

/// An MTS call's latency label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: &'static str,
}

/// The service's metrics; clones share them.
#[derive(Clone)]
pub(super) struct Metrics {
    registry: Arc<Registry>,
    registrants: Family<Outcome, Counter>,
    records_sent: Counter,
    runs: Family<Outcome, Counter>,
    running: Gauge,
    in_flight: Gauge,
    mts_requests: Family<Call, Counter>,
    mts_latency: Family<Operation, Histogram>,
    last_completed: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("omc");
        let registrants = Family::<Outcome, Counter>::default();
        registry.register(
            "registrants",
            "Registrants settled by runs, by outcome (tokenised, already_tokenised, pending, \
             failed)",
            registrants.clone(),
        );
        let records_sent = Counter::default();
        registry.register("records_sent", "Records MTS accepted", records_sent.clone());
        let runs = Family::<Outcome, Counter>::default();
        registry.register(
            "runs",
            "Runs ended, by outcome (completed, failed, interrupted)",
            runs.clone(),
        );
        let running = Gauge::default();
        registry.register("run_in_progress", "1 while a run goes", running.clone());
        let in_flight = Gauge::default();
        registry.register(
            "batches_in_flight",
            "Batches submitted to MTS whose results are not settled yet",
            in_flight.clone(),
        );
        let mts_requests = Family::<Call, Counter>::default();
        registry.register(
            "mts_requests",
            "Requests to MTS, by operation (submit, status) and result (ok, error)",
            mts_requests.clone(),
        );
        let mts_latency = Family::<Operation, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "mts_request_duration_seconds",
            "How long MTS took to answer, by operation",
            mts_latency.clone(),
        );
        let last_completed = Gauge::default();
        registry.register(
            "last_completed_run_timestamp_seconds",
            "When the last completed run ended (Unix time)",
            last_completed.clone(),
        );
        // Every outcome shows from the start, at 0, so that a rate or an alert over it never
        // meets a missing series.
        for outcome in ["tokenised", "already_tokenised", "pending", "failed"] {
            registrants.get_or_create(&Outcome { outcome }).inc_by(0);
        }
        for outcome in [
            RunOutcome::Completed,
            RunOutcome::Failed,
            RunOutcome::Interrupted,
        ] {
            runs.get_or_create(&Outcome {
                outcome: outcome.as_str(),
            })
            .inc_by(0);
        }
        Self {
            registry: Arc::new(registry),
            registrants,
            records_sent,
            runs,
            running,
            in_flight,
            mts_requests,
            mts_latency,
            last_completed,
        }
    }
}

impl Metrics {
    /// The metrics in Prometheus' text format.
    pub(super) fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!("encoding the metrics failed: {e}");
        }
        text
    }

    /// A run started.
    pub(super) fn run_started(&self) {
        self.running.set(1);
    }

    /// A run ended with `outcome`.
    pub(super) fn run_ended(&self, outcome: RunOutcome) {
        self.running.set(0);
        self.in_flight.set(0);
        self.runs
            .get_or_create(&Outcome {
                outcome: outcome.as_str(),
            })
            .inc();
        if outcome == RunOutcome::Completed {
            self.last_completed.set(Timestamp::now().0);
        }
    }

    /// A run's progress moved from `before` to `now`: the counters take the difference.
    pub(super) fn progress(&self, before: &Progress, now: &Progress) {
        let counts = [
            ("tokenised", before.tokenised, now.tokenised),
            (
                "already_tokenised",
                before.already_tokenised,
                now.already_tokenised,
            ),
            ("pending", before.pending, now.pending),
            ("failed", before.failed, now.failed),
        ];
        for (outcome, was, is) in counts {
            if is > was {
                self.registrants
                    .get_or_create(&Outcome { outcome })
                    .inc_by(is - was);
            }
        }
        if now.sent > before.sent {
            self.records_sent.inc_by(now.sent - before.sent);
        }
        self.in_flight
            .set(i64::try_from(now.in_flight).unwrap_or(i64::MAX));
    }

    fn mts_call(&self, operation: &'static str, ok: bool, started: Instant) {
        let result = if ok { "ok" } else { "error" };
        self.mts_requests
            .get_or_create(&Call { operation, result })
            .inc();
        self.mts_latency
            .get_or_create(&Operation { operation })
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A seeder that counts and times every request it passes on.
#[derive(Debug)]
pub(super) struct Metered {
    inner: Arc<dyn TokenSeeder>,
    metrics: Metrics,
}

impl Metered {
    /// Measures `inner`'s requests into `metrics`.
    pub(super) fn new(inner: Arc<dyn TokenSeeder>, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl TokenSeeder for Metered {
    async fn submit(
        &self,
        request: &SeedRequest,
        delivery: &Delivery,
    ) -> Result<RequestId, SeederError> {
        let started = Instant::now();
        let result = self.inner.submit(request, delivery).await;
        self.metrics.mts_call("submit", result.is_ok(), started);
        result
    }

    async fn status(&self, request: &RequestId) -> Result<RequestStatus, SeederError> {
        let started = Instant::now();
        let result = self.inner.status(request).await;
        self.metrics.mts_call("status", result.is_ok(), started);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_the_counters_by_the_difference() {
        let metrics = Metrics::default();
        let before = Progress::default();
        let mut now = before;
        now.sent = 10;
        now.tokenised = 7;
        now.failed = 1;
        now.in_flight = 2;
        metrics.progress(&before, &now);
        let mut later = now;
        later.tokenised = 9;
        later.in_flight = 0;
        metrics.progress(&now, &later);
        metrics.run_ended(RunOutcome::Completed);
        let text = metrics.encode();
        for line in [
            "omc_registrants_total{outcome=\"pending\"} 0",
            "omc_runs_total{outcome=\"interrupted\"} 0",
            "omc_registrants_total{outcome=\"tokenised\"} 9",
            "omc_registrants_total{outcome=\"failed\"} 1",
            "omc_records_sent_total 10",
            "omc_batches_in_flight 0",
            "omc_runs_total{outcome=\"completed\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
