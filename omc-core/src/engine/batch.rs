//! One batch: submit, wait for MTS, read tokens back, remove VIDs.

use super::hooks::{CALLBACKS_FAILED, CALLBACKS_NOT_ARRIVING, CANCELLED, Halt};
use super::observer::{NO_RESULT, RunObserver, Settled};
use super::readback::{ReadBack, read_back};
use super::report::BatchOutcome;
use super::settings::EngineSettings;
use crate::error::SeederError;
use crate::pii::PersonalRecord;
use crate::registry::{RegistrantId, Registry, WriteDates};
use crate::seeder::{RequestId, RequestStatus, SeedRequest, TokenSeeder};
use crate::sink::{Delivery, RunResults};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, sleep};

/// What every batch of a run shares.
#[derive(Debug)]
pub(super) struct BatchContext {
    pub(super) registry: Arc<dyn Registry>,
    pub(super) seeder: Arc<dyn TokenSeeder>,
    /// The run's handle on what comes back.
    pub(super) results: Box<dyn RunResults>,
    pub(super) settings: Arc<EngineSettings>,
    pub(super) delivery: Arc<Delivery>,
    pub(super) observer: Option<Arc<dyn RunObserver>>,
    pub(super) halt: Halt,
}

impl BatchContext {
    /// Why the run is stopping (for batches left unsent).
    pub(super) fn stop_reason(&self) -> String {
        self.halt.reason().unwrap_or_else(|| CANCELLED.to_owned())
    }
}

/// Registrants, their write dates and their `authdata` records, in the order they were
/// selected.
#[derive(Debug, Default)]
pub(super) struct Batch {
    ids: Vec<RegistrantId>,
    written: Vec<WriteDates>,
    records: Vec<PersonalRecord>,
    /// The records' bytes as JSON, when the engine measures them.
    bytes: usize,
}

/// `wait` from now, or `None` (never) when that is beyond what the clock can hold.
pub(super) fn deadline_after(wait: Duration) -> Option<Instant> {
    Instant::now().checked_add(wait)
}

/// Whether `deadline` has passed (never, for no deadline).
pub(super) fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() >= deadline)
}

impl Batch {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            written: Vec::with_capacity(n),
            records: Vec::with_capacity(n),
            bytes: 0,
        }
    }

    /// Adds a record; `bytes` is its size as JSON when the engine measures it (else 0).
    pub(super) fn push(
        &mut self,
        id: RegistrantId,
        written: WriteDates,
        record: PersonalRecord,
        bytes: usize,
    ) {
        self.ids.push(id);
        self.written.push(written);
        self.records.push(record);
        self.bytes += bytes;
    }

    /// The records' bytes as JSON, as measured when they were pushed.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
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

    /// Leaves out the registrants that hold a token by now (another run's callback or a person
    /// stored it since this run selected them) and returns them. A registry that cannot be read
    /// leaves the batch whole.
    async fn take_tokenised(&mut self, ctx: &BatchContext) -> Vec<RegistrantId> {
        let mut held = BTreeSet::new();
        for part in self.ids.chunks(ctx.settings.chunk_size.max(1)) {
            match ctx.registry.tokens(part).await {
                Ok(found) => held.extend(found.into_keys()),
                Err(e) => tracing::debug!("reading tokens before submitting failed: {e}"),
            }
        }
        if held.is_empty() {
            return Vec::new();
        }
        let keep: Vec<bool> = self.ids.iter().map(|id| !held.contains(id)).collect();
        let taken = self.ids.iter().copied().filter(|id| held.contains(id));
        let taken: Vec<RegistrantId> = taken.collect();
        retain_where(&mut self.ids, &keep);
        retain_where(&mut self.written, &keep);
        retain_where(&mut self.records, &keep);
        taken
    }

    /// Runs the batch to its end, and adds what it did to the run's progress. `permit` is held
    /// while the request is outstanding at MTS.
    pub(super) async fn run(
        self,
        ctx: &BatchContext,
        permit: OwnedSemaphorePermit,
    ) -> BatchOutcome {
        let outcome = self.submit_and_wait(ctx, permit).await;
        ctx.halt.settled(&outcome);
        outcome
    }

    async fn submit_and_wait(
        mut self,
        ctx: &BatchContext,
        permit: OwnedSemaphorePermit,
    ) -> BatchOutcome {
        // The run's first batch probes alone: the others wait until its results arrive.
        let Some(probing) = ctx.halt.admit().await else {
            return self.unsent(ctx, &ctx.stop_reason()).await;
        };
        // However the batch ends (even by a panic), a probe that learned nothing lets another
        // batch probe.
        let _probe = probing.then(|| Probe(&ctx.halt));
        let mut outcome = BatchOutcome::default();
        // Read right before submitting: a token the batch's registrants hold now was stored by
        // someone else, and is not sent again; what they hold after this is the batch's doing.
        let already = self.take_tokenised(ctx).await;
        if !already.is_empty() {
            tracing::info!(
                registrants = already.len(),
                "tokenised by someone else since they were selected: not sent"
            );
            settle_already(ctx, &already, &mut outcome).await;
        }
        if self.is_empty() {
            return outcome;
        }
        if ctx.halt.is_stopped() {
            let unsent = self.unsent(ctx, &ctx.stop_reason()).await;
            outcome.pending = unsent.pending;
            outcome.error = unsent.error;
            return outcome;
        }
        let Batch {
            ids,
            written,
            records,
            ..
        } = self;
        let n = ids.len();
        let s = &ctx.settings;
        let request = SeedRequest {
            mapping: s.mapping.clone(),
            lang: s.lang.clone(),
            authdata: records,
        };
        // A receiving sink must know the batch before MTS (or an in-process seeder) calls back.
        if let Err(e) = ctx.results.expect(&ids).await {
            tracing::warn!(
                records = n,
                "batch not submitted: the sink cannot expect it: {e}"
            );
            outcome.pending = n as u64;
            outcome.error = Some("sink unavailable".to_owned());
            if let Some(o) = &ctx.observer {
                o.settled(Settled {
                    unanswered: ids.into_iter().zip(written).collect(),
                    ..Settled::default()
                })
                .await;
            }
            return outcome;
        }
        let submitted = submit(ctx, &request).await;
        // The records' personal data is not needed any more.
        drop(request);
        let request_id = match submitted {
            Ok(id) => {
                ctx.halt.submitted();
                id
            }
            Err(error) => {
                if matches!(
                    error,
                    SeederError::NotDelivered { .. } | SeederError::Uncertain { .. }
                ) {
                    ctx.halt.not_answered();
                }
                not_submitted(ctx, ids, written, &error, &mut outcome).await;
                return outcome;
            }
        };
        outcome.requests = 1;
        outcome.sent = n as u64;
        ctx.halt.publish(|p| {
            p.sent += n as u64;
            p.in_flight += 1;
        });
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
        let silent = match status {
            Some(RequestStatus::Processed) => true,
            Some(RequestStatus::ProcessedWithErrors) => ctx.results.hears_failures(),
            _ => false,
        };
        let found = read_back(ctx, &request_id, ids, status, &mut outcome).await;
        check_callbacks(ctx, &found, silent);
        settle(ctx, found, written, processed, &mut outcome).await;
        outcome
    }
}

/// Stops the run when a batch shows that callbacks are not arriving: MTS said it could not
/// make them, or it processed the batch and none of its results was read back by the deadline
/// (`silent_means_lost`: with `processed_with_errors` every record may have failed, which only
/// a receiving sink hears).
fn check_callbacks(ctx: &BatchContext, found: &ReadBack, silent_means_lost: bool) {
    if found.callbacks_failed {
        ctx.halt.stop(CALLBACKS_FAILED);
    } else if silent_means_lost && !found.heard() {
        ctx.halt.stop(CALLBACKS_NOT_ARRIVING);
    }
}

/// The run's probing batch: when it ends without having opened the gate, another may probe.
struct Probe<'a>(&'a Halt);

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Tells the run's results handle the engine has accounted for `ids`. A handle that cannot
/// forget them only holds them longer: logged, not fatal.
async fn settle_results(ctx: &BatchContext, ids: &[RegistrantId]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = ctx.results.settle(ids).await {
        tracing::debug!(registrants = ids.len(), "settling results failed: {e}");
    }
}

/// A batch the seeder did not take: its registrants stay pending.
async fn not_submitted(
    ctx: &BatchContext,
    ids: Vec<RegistrantId>,
    written: Vec<WriteDates>,
    error: &SeederError,
    outcome: &mut BatchOutcome,
) {
    let reason = error
        .code()
        .map_or_else(|| reason_of(error).to_owned(), str::to_owned);
    tracing::warn!(records = ids.len(), %reason, "batch not submitted: {error}");
    if error.is_safe_to_retry() {
        // It never reached the seeder: no result will come for it.
        settle_results(ctx, &ids).await;
    }
    outcome.pending = ids.len() as u64;
    outcome.error = Some(reason);
    if let Some(o) = &ctx.observer {
        o.settled(Settled {
            unanswered: ids.into_iter().zip(written).collect(),
            ..Settled::default()
        })
        .await;
    }
}

/// Tells the sink and the observer how a submitted batch settled, and removes the VIDs of
/// the registrants found holding a token.
async fn settle(
    ctx: &BatchContext,
    found: ReadBack,
    mut written: BTreeMap<RegistrantId, WriteDates>,
    processed: bool,
    outcome: &mut BatchOutcome,
) {
    // Whoever stored them, they hold a token now.
    let mut tokenised = found.tokenised;
    tokenised.extend(found.already);
    settle_results(ctx, &tokenised).await;
    let failed_ids: Vec<RegistrantId> = found.failed.iter().map(|(id, _)| *id).collect();
    settle_results(ctx, &failed_ids).await;
    if let Some(o) = &ctx.observer {
        let mut take = |id: &RegistrantId| written.remove(id).unwrap_or_default();
        let settled = Settled {
            counted: processed && !tokenised.is_empty(),
            failed: found
                .failed
                .into_iter()
                .map(|(id, code)| {
                    let w = take(&id);
                    (id, code, w)
                })
                .collect(),
            unanswered: found.pending.iter().map(|id| (*id, take(id))).collect(),
            tokenised: tokenised.clone(),
        };
        let given_up = o.settled(settled).await.len() as u64;
        if given_up > 0 {
            outcome.pending -= given_up.min(outcome.pending);
            *outcome.failed.entry(NO_RESULT.to_owned()).or_default() += given_up;
        }
    }
    let s = &ctx.settings;
    if s.remove_vids && !tokenised.is_empty() {
        outcome.vids_removed += remove_vids(&*ctx.registry, &tokenised, s.chunk_size).await;
    }
}

/// Registrants of the batch found holding a token before it was submitted: already tokenised,
/// their VIDs removed.
async fn settle_already(ctx: &BatchContext, ids: &[RegistrantId], outcome: &mut BatchOutcome) {
    outcome.already_tokenised += ids.len() as u64;
    if let Some(o) = &ctx.observer {
        o.settled(Settled {
            tokenised: ids.to_vec(),
            ..Settled::default()
        })
        .await;
    }
    let s = &ctx.settings;
    if s.remove_vids {
        outcome.vids_removed += remove_vids(&*ctx.registry, ids, s.chunk_size).await;
    }
}

/// Keeps the items whose flag in `keep` is set.
fn retain_where<T>(items: &mut Vec<T>, keep: &[bool]) {
    let mut flags = keep.iter();
    items.retain(|_| flags.next().copied().unwrap_or(true));
}

fn reason_of(error: &SeederError) -> &'static str {
    match error {
        SeederError::NotDelivered { .. } => "seeder not reached",
        SeederError::Uncertain { .. } => "seeder outcome unknown",
        _ => "seeder protocol error",
    }
}

/// Submits, retrying only what surely never arrived: the engine is the one owner of submission
/// retries (a seeder makes one attempt per call), so a batch makes at most
/// `submit_retries + 1` submissions.
async fn submit(ctx: &BatchContext, request: &SeedRequest) -> Result<RequestId, SeederError> {
    let wait = &ctx.settings.wait;
    let mut delay = wait.retry_backoff;
    let mut attempt = 0;
    loop {
        match ctx.seeder.submit(request, &ctx.delivery).await {
            Err(e)
                if e.is_safe_to_retry()
                    && attempt < wait.submit_retries
                    && !ctx.halt.is_stopped() =>
            {
                attempt += 1;
                tracing::info!(attempt, "seeder not reached; retrying the submission");
                tokio::select! {
                    () = sleep(delay) => {}
                    () = ctx.halt.stopped() => return Err(e),
                }
                delay = delay.saturating_mul(2);
            }
            other => return other,
        }
    }
}

/// Polls MTS's status until it is final or the deadline passes; `None` when it never was.
async fn wait_for_status(ctx: &BatchContext, id: &RequestId, n: usize) -> Option<RequestStatus> {
    let wait = &ctx.settings.wait;
    let deadline = deadline_after(wait.status_deadline(n));
    let mut polls = wait.polls();
    loop {
        match ctx.seeder.status(id).await {
            Ok(status) if status.is_final() => return Some(status),
            Ok(_) => {}
            Err(e) => tracing::debug!(request = %id, "status failed: {e}"),
        }
        if passed(deadline) {
            tracing::warn!(request = %id, "no final status before the deadline");
            return None;
        }
        sleep(polls.next().unwrap_or(wait.poll_interval)).await;
    }
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
