//! Reading a batch's results back: its tokens from the registry, its failures from a receiving
//! sink, until all are there or the deadline passes.

use super::batch::{BatchContext, deadline_after, passed};
use super::report::BatchOutcome;
use crate::registry::RegistrantId;
use crate::seeder::{RequestId, RequestStatus};
use std::collections::BTreeSet;
use tokio::time::sleep;

/// What reading back found.
#[derive(Debug, Default)]
pub(super) struct ReadBack {
    /// Holding a token, which they did not hold when the batch was submitted.
    pub(super) tokenised: Vec<RegistrantId>,
    /// Holding a token a receiving sink did not store (someone else did meanwhile).
    pub(super) already: Vec<RegistrantId>,
    /// Failed, with MTS's code (from a receiving sink).
    pub(super) failed: Vec<(RegistrantId, String)>,
    /// No result yet.
    pub(super) pending: Vec<RegistrantId>,
    /// MTS said it could not make the callbacks (`error_making_callback_request`).
    pub(super) callbacks_failed: bool,
}

impl ReadBack {
    /// Whether any result of the batch was read back.
    pub(super) fn heard(&self) -> bool {
        !(self.tokenised.is_empty() && self.already.is_empty() && self.failed.is_empty())
    }
}

/// Reads the batch's tokens back until all are there, the sink has reported the rest as
/// failed, or the deadline passes; counts the outcome.
pub(super) async fn read_back(
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
    let mut found = ReadBack {
        tokenised: Vec::with_capacity(n),
        ..ReadBack::default()
    };
    // Callbacks come after `processed`; after a callback error or a forgotten request, what
    // arrived has arrived, so one read is enough.
    found.callbacks_failed = status == Some(RequestStatus::ErrorMakingCallbackRequest);
    let mut patient = matches!(
        status,
        Some(RequestStatus::Processed | RequestStatus::ProcessedWithErrors)
    );
    let deadline = deadline_after(wait.readback_deadline(n));
    let mut polls = wait.polls();
    loop {
        let ask: Vec<RegistrantId> = remaining.iter().copied().collect();
        for part in ask.chunks(chunk) {
            read_part(ctx, part, &mut remaining, &mut found, outcome).await;
        }
        if found.heard() {
            // Results arrive: batches waiting for this one to probe may go.
            ctx.halt.open();
        }
        if remaining.is_empty() || !patient || passed(deadline) {
            break;
        }
        sleep(polls.next().unwrap_or(wait.poll_interval)).await;
        // MTS says `processed` before it calls back, and `error_making_callback_request` once
        // a callback could not be made: the rest of the request's callbacks never come. Read
        // once more, then stop waiting.
        match ctx.seeder.status(request).await {
            Ok(RequestStatus::ErrorMakingCallbackRequest) => {
                tracing::info!(%request, "MTS could not make the callbacks; not waiting for them");
                found.callbacks_failed = true;
                patient = false;
            }
            Ok(RequestStatus::Gone) => {
                tracing::info!(%request, "MTS forgot the request; not waiting for its callbacks");
                patient = false;
            }
            _ => {}
        }
    }
    if !remaining.is_empty() {
        tracing::info!(
            pending = remaining.len(),
            "registrants left pending for the next run"
        );
    }
    outcome.pending = remaining.len() as u64;
    outcome.tokenised = found.tokenised.len() as u64;
    outcome.already_tokenised += found.already.len() as u64;
    found.pending = remaining.into_iter().collect();
    found
}

/// Reads one chunk: the tokens, then (from a receiving sink) the failures of the rest.
async fn read_part(
    ctx: &BatchContext,
    part: &[RegistrantId],
    remaining: &mut BTreeSet<RegistrantId>,
    found: &mut ReadBack,
    outcome: &mut BatchOutcome,
) {
    match ctx.registry.tokens(part).await {
        Ok(tokens) => {
            let held: Vec<RegistrantId> = tokens
                .into_keys()
                .filter(|id| remaining.remove(id))
                .collect();
            // A receiving sink knows which of these tokens it stored; the rest were stored by
            // someone else since the batch was submitted.
            match ctx.results.stored_here(&held).await {
                Ok(None) => found.tokenised.extend(held),
                Err(e) => {
                    tracing::debug!("asking the sink which tokens it stored failed: {e}");
                    found.tokenised.extend(held);
                }
                Ok(Some(ours)) => {
                    for id in held {
                        if ours.contains(&id) {
                            found.tokenised.push(id);
                        } else {
                            found.already.push(id);
                        }
                    }
                }
            }
        }
        Err(e) => tracing::debug!("reading tokens back failed: {e}"),
    }
    let left: Vec<_> = part
        .iter()
        .filter(|id| remaining.contains(id))
        .copied()
        .collect();
    if left.is_empty() {
        return;
    }
    match ctx.results.failures(&left).await {
        Ok(failures) => {
            for (id, failure) in failures {
                if remaining.remove(&id) {
                    *outcome.failed.entry(failure.code.clone()).or_default() += 1;
                    found.failed.push((id, failure.code));
                }
            }
        }
        Err(e) => tracing::debug!("reading failures from the sink failed: {e}"),
    }
}
