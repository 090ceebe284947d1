//! One batch: submit, wait for MTS, read tokens back, remove VIDs.

use super::observer::{NO_RESULT, RunObserver, Settled};
use super::report::BatchOutcome;
use super::settings::EngineSettings;
use crate::error::SeederError;
use crate::pii::PersonalRecord;
use crate::registry::{RegistrantId, Registry, WriteDates};
use crate::seeder::{RequestId, RequestStatus, SeedRequest, TokenSeeder};
use crate::sink::{CallbackSink, Delivery, ResultPath};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, sleep};

/// What every batch of a run shares.
#[derive(Debug)]
pub(super) struct BatchContext {
    pub(super) registry: Arc<dyn Registry>,
    pub(super) seeder: Arc<dyn TokenSeeder>,
    pub(super) sink: Arc<dyn CallbackSink>,
    pub(super) settings: Arc<EngineSettings>,
    pub(super) delivery: Arc<Delivery>,
    pub(super) observer: Option<Arc<dyn RunObserver>>,
}

/// Registrants, their write dates and their `authdata` records, in the order they were
/// selected.
#[derive(Debug, Default)]
pub(super) struct Batch {
    ids: Vec<RegistrantId>,
    written: Vec<WriteDates>,
    records: Vec<PersonalRecord>,
}

/// The outcome of a batch task; one that panicked leaves its registrants pending (counted by
/// the caller from what it knows: nothing, so the panic is logged).
pub(super) fn joined(done: Result<BatchOutcome, tokio::task::JoinError>) -> BatchOutcome {
    done.unwrap_or_else(|e| {
        tracing::error!("a batch task failed: {e}");
        BatchOutcome::default()
    })
}

impl Batch {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            written: Vec::with_capacity(n),
            records: Vec::with_capacity(n),
        }
    }

    pub(super) fn push(&mut self, id: RegistrantId, written: WriteDates, record: PersonalRecord) {
        self.ids.push(id);
        self.written.push(written);
        self.records.push(record);
    }

    /// A batch that was never submitted: its registrants stay pending.
    pub(super) async fn unsent(self, ctx: &BatchContext, reason: &str) -> BatchOutcome {
        let n = self.ids.len();
        if let Some(o) = &ctx.observer {
            o.settled(Settled {
                unanswered: self.ids.into_iter().zip(self.written).collect(),
                ..Settled::default()
            })
            .await;
        }
        BatchOutcome {
            pending: n as u64,
            error: Some(reason.to_owned()),
            ..BatchOutcome::default()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Runs the batch to its end. `permit` is held while the request is outstanding at MTS.
    pub(super) async fn run(
        self,
        ctx: &BatchContext,
        permit: OwnedSemaphorePermit,
    ) -> BatchOutcome {
        let Batch {
            ids,
            written,
            records,
        } = self;
        let n = ids.len();
        let s = &ctx.settings;
        let request = SeedRequest {
            mapping: s.mapping.clone(),
            lang: s.lang.clone(),
            authdata: records,
        };
        // A receiving sink must know the batch before MTS (or an in-process seeder) calls back.
        ctx.sink.expect_results(&ids).await;
        let submitted = submit(ctx, &request).await;
        // The records' personal data is not needed any more.
        drop(request);
        let mut outcome = BatchOutcome::default();
        let request_id = match submitted {
            Ok(id) => id,
            Err(error) => {
                let reason = error
                    .code()
                    .map_or_else(|| reason_of(&error).to_owned(), str::to_owned);
                tracing::warn!(records = n, %reason, "batch not submitted: {error}");
                if error.is_safe_to_retry() {
                    // It never reached the seeder: no result will come for it.
                    ctx.sink.results_settled(&ids).await;
                }
                if let Some(o) = &ctx.observer {
                    o.settled(Settled {
                        unanswered: ids.into_iter().zip(written).collect(),
                        ..Settled::default()
                    })
                    .await;
                }
                outcome.pending = n as u64;
                outcome.error = Some(reason);
                return outcome;
            }
        };
        outcome.requests = 1;
        outcome.sent = n as u64;
        tracing::debug!(request = %request_id, records = n, "batch submitted");
        if let Some(o) = &ctx.observer {
            o.sent(&ids).await;
        }
        let status = wait_for_status(ctx, &request_id, n).await;
        drop(permit);
        let processed = matches!(
            status,
            Some(RequestStatus::Processed | RequestStatus::ProcessedWithErrors)
        );
        let written: BTreeMap<RegistrantId, WriteDates> =
            ids.iter().copied().zip(written).collect();
        let (tokenised, failed, pending) =
            read_back(ctx, &request_id, ids, status, &mut outcome).await;
        outcome.tokenised = tokenised.len() as u64;
        // Read-back sinks keep the trait's default, which does nothing.
        ctx.sink.results_settled(&tokenised).await;
        let failed_ids: Vec<RegistrantId> = failed.iter().map(|(id, _)| *id).collect();
        ctx.sink.results_settled(&failed_ids).await;
        if let Some(o) = &ctx.observer {
            let mut written = written;
            let mut take = |id: &RegistrantId| written.remove(id).unwrap_or_default();
            let settled = Settled {
                counted: processed && !tokenised.is_empty(),
                failed: failed
                    .into_iter()
                    .map(|(id, code)| {
                        let w = take(&id);
                        (id, code, w)
                    })
                    .collect(),
                unanswered: pending.iter().map(|id| (*id, take(id))).collect(),
                tokenised: tokenised.clone(),
            };
            let given_up = o.settled(settled).await.len() as u64;
            if given_up > 0 {
                outcome.pending -= given_up.min(outcome.pending);
                *outcome.failed.entry(NO_RESULT.to_owned()).or_default() += given_up;
            }
        }
        if s.remove_vids && !tokenised.is_empty() {
            outcome.vids_removed = remove_vids(&*ctx.registry, &tokenised, s.chunk_size).await;
        }
        outcome
    }
}

fn reason_of(error: &SeederError) -> &'static str {
    match error {
        SeederError::NotDelivered { .. } => "seeder not reached",
        SeederError::Uncertain { .. } => "seeder outcome unknown",
        _ => "seeder protocol error",
    }
}

/// Submits, retrying only what surely never arrived.
async fn submit(ctx: &BatchContext, request: &SeedRequest) -> Result<RequestId, SeederError> {
    let wait = &ctx.settings.wait;
    let mut delay = wait.retry_backoff;
    let mut attempt = 0;
    loop {
        match ctx.seeder.submit(request, &ctx.delivery).await {
            Err(e) if e.is_safe_to_retry() && attempt < wait.submit_retries => {
                attempt += 1;
                tracing::info!(attempt, "seeder not reached; retrying the submission");
                sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

/// Polls MTS's status until it is final or the deadline passes; `None` when it never was.
async fn wait_for_status(ctx: &BatchContext, id: &RequestId, n: usize) -> Option<RequestStatus> {
    let wait = &ctx.settings.wait;
    let deadline = Instant::now() + wait.status_deadline(n);
    let mut polls = wait.polls();
    loop {
        match ctx.seeder.status(id).await {
            Ok(status) if status.is_final() => return Some(status),
            Ok(_) => {}
            Err(e) => tracing::debug!(request = %id, "status failed: {e}"),
        }
        if Instant::now() >= deadline {
            tracing::warn!(request = %id, "no final status before the deadline");
            return None;
        }
        sleep(polls.next().unwrap_or(wait.poll_interval)).await;
    }
}

/// What reading back found: the tokenised, the failed (with their codes), the still pending.
type ReadBack = (
    Vec<RegistrantId>,
    Vec<(RegistrantId, String)>,
    Vec<RegistrantId>,
);

/// Reads the batch's tokens back until all are there, the sink has reported the rest as
/// failed, or the deadline passes. Counts the failed and the pending.
async fn read_back(
    ctx: &BatchContext,
    request: &RequestId,
    ids: Vec<RegistrantId>,
    status: Option<RequestStatus>,
    outcome: &mut BatchOutcome,
) -> ReadBack {
    let wait = &ctx.settings.wait;
    let chunk = ctx.settings.chunk_size.max(1);
    let n = ids.len();
    let mut remaining: BTreeSet<RegistrantId> = ids.into_iter().collect();
    let mut tokenised = Vec::with_capacity(n);
    let mut failed = Vec::new();
    // Callbacks come after `processed`; after a callback error or a forgotten request, what
    // arrived has arrived, so one read is enough.
    let mut patient = matches!(
        status,
        Some(RequestStatus::Processed | RequestStatus::ProcessedWithErrors)
    );
    let deadline = Instant::now() + wait.readback_deadline(n);
    let mut polls = wait.polls();
    loop {
        let ask: Vec<RegistrantId> = remaining.iter().copied().collect();
        for part in ask.chunks(chunk) {
            match ctx.registry.tokens(part).await {
                Ok(found) => {
                    for id in found.into_keys() {
                        if remaining.remove(&id) {
                            tokenised.push(id);
                        }
                    }
                }
                Err(e) => tracing::debug!("reading tokens back failed: {e}"),
            }
            if ctx.sink.result_path() == ResultPath::Received {
                let left: Vec<_> = part
                    .iter()
                    .filter(|id| remaining.contains(id))
                    .copied()
                    .collect();
                if let Ok(failures) = ctx.sink.failures(&left).await {
                    for (id, failure) in failures {
                        if remaining.remove(&id) {
                            *outcome.failed.entry(failure.code.clone()).or_default() += 1;
                            failed.push((id, failure.code));
                        }
                    }
                }
            }
        }
        if remaining.is_empty() || !patient || Instant::now() >= deadline {
            break;
        }
        sleep(polls.next().unwrap_or(wait.poll_interval)).await;
        // MTS says `processed` before it calls back, and `error_making_callback_request` once
        // a callback could not be made: the rest of the request's callbacks never come. Read
        // once more, then stop waiting.
        if let Ok(RequestStatus::ErrorMakingCallbackRequest | RequestStatus::Gone) =
            ctx.seeder.status(request).await
        {
            tracing::info!(%request, "MTS could not make the callbacks; not waiting for them");
            patient = false;
        }
    }
    if !remaining.is_empty() {
        tracing::info!(
            pending = remaining.len(),
            "registrants left pending for the next run"
        );
    }
    outcome.pending = remaining.len() as u64;
    (tokenised, failed, remaining.into_iter().collect())
}

/// Removes the VIDs of registrants whose token was read back; failures leave them for the
/// next run (which finds the token and removes the VID then).
pub(super) async fn remove_vids(
    registry: &dyn Registry,
    ids: &[RegistrantId],
    chunk: usize,
) -> u64 {
    let mut removed = 0;
    for part in ids.chunks(chunk.max(1)) {
        match registry.remove_vids(part).await {
            Ok(n) => removed += n as u64,
            Err(e) => tracing::warn!(registrants = part.len(), "removing VIDs failed: {e}"),
        }
    }
    removed
}
