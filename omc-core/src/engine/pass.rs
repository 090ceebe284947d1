//! The selection passes of one run: paging, screening, filling batches and spawning them.

use super::batch::{self, Batch, BatchContext};
use super::hooks::Halt;
use super::observer::{EMPTY_TOKEN_ID, Settled};
use super::report::{BatchOutcome, RunReport};
use super::size;
use crate::authdata::build_authdata;
use crate::domain::Domain;
use crate::error::RegistryError;
use crate::mts_rules::{VID_MISSING, mts_verdict};
use crate::receiver::ids::IdSet;
use crate::registry::{Candidate, CandidateQuery, RegistrantId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinError, JoinSet};
use tracing::Instrument;

/// The reason a batch whose task panicked is reported with.
const PANICKED: &str = "batch task panicked";

/// The selection passes of one run, and the batches they fill.
pub(super) struct Pass<'a> {
    ctx: &'a Arc<BatchContext>,
    permits: Arc<Semaphore>,
    tasks: JoinSet<BatchOutcome>,
    /// The number of registrants of each batch task: a task that panics returns no outcome,
    /// and its registrants are counted pending from this.
    sizes: HashMap<Id, u64>,
    batch: Batch,
    /// With `max_request_bytes`: the bytes of a request besides its records (an upper bound).
    envelope_bytes: Option<usize>,
    cleanup: Vec<RegistrantId>,
    seen: Option<IdSet>,
}

impl<'a> Pass<'a> {
    pub(super) fn new(ctx: &'a Arc<BatchContext>, dedupe: bool) -> Self {
        let s = &ctx.settings;
        Self {
            ctx,
            permits: Arc::new(Semaphore::new(s.max_in_flight.max(1))),
            tasks: JoinSet::new(),
            sizes: HashMap::new(),
            batch: Batch::with_capacity(s.batch_size),
            envelope_bytes: s
                .max_request_bytes
                .map(|_| size::envelope_bytes(&ctx.delivery, &s.mapping, &s.lang)),
            cleanup: Vec::new(),
            seen: dedupe.then(IdSet::default),
        }
    }

    /// Pages through one domain, sending what it selects.
    pub(super) async fn run(
        &mut self,
        domain: &Domain,
        report: &mut RunReport,
    ) -> Result<(), RegistryError> {
        let s = self.ctx.settings.clone();
        // OMC selects only registrants holding a VID, whatever the operator's filter says.
        let filter = domain.for_connector(&s.id_types);
        let mut after = None;
        loop {
            if self.ctx.halt.is_stopped() {
                // Stop selecting; what was sent is waited for in `finish`.
                return Ok(());
            }
            let query = CandidateQuery {
                filter: filter.clone(),
                fields: s.fields.clone(),
                after,
                limit: s.page_size.max(1),
            };
            let mut page = self.ctx.registry.candidates(&query).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.id);
            if let Some(seen) = &mut self.seen {
                page.retain(|c| {
                    let new = !seen.contains(c.id);
                    seen.insert(c.id);
                    new
                });
            }
            self.page(page, report).await;
            while let Some(done) = self.tasks.try_join_next_with_id() {
                let outcome = self.joined(done);
                report.merge(outcome);
            }
        }
    }

    async fn page(&mut self, page: Vec<Candidate>, report: &mut RunReport) {
        let s = self.ctx.settings.clone();
        let observer = self.ctx.observer.clone();
        let skip = match &observer {
            Some(o) => {
                let to_send: Vec<_> = page
                    .iter()
                    .filter(|c| !c.has_token && c.vid.is_some())
                    .map(|c| (c.id, &c.written))
                    .collect();
                o.screen(&to_send).await
            }
            None => BTreeMap::new(),
        };
        let mut settled = Settled::default();
        let mut shown = Shown::of(report);
        for candidate in page {
            report.selected += 1;
            let id = candidate.id;
            if candidate.has_token {
                report.already_tokenised += 1;
                settled.tokenised.push(id);
                if candidate.vid.is_some() && s.remove_vids {
                    self.cleanup.push(id);
                    // Removed a chunk at a time, so the list never grows with the run.
                    if self.cleanup.len() >= s.chunk_size.max(1) {
                        report.vids_removed +=
                            batch::remove_vids(&*self.ctx.registry, &self.cleanup, s.chunk_size)
                                .await;
                        self.cleanup.clear();
                    }
                }
                continue;
            }
            if let Some(code) = skip.get(&id) {
                report.fail(code);
                report.failed_unchanged += 1;
                continue;
            }
            let code = if candidate.vid.is_none() {
                Some(VID_MISSING)
            } else if candidate.empty_token_id {
                Some(EMPTY_TOKEN_ID)
            } else {
                None
            };
            if let Some(code) = code {
                report.fail(code);
                settled
                    .failed
                    .push((id, code.to_owned(), candidate.written));
                continue;
            }
            let written = candidate.written.clone();
            let record = build_authdata(candidate, &s.fields, &s.mapping.vid);
            if let Some(refusal) = mts_verdict(&record.0, &s.mapping, &s.mandatory_fields) {
                tracing::debug!(registrant = %id, code = refusal.code, "held back");
                report.fail(refusal.code);
                settled.failed.push((id, refusal.code.to_owned(), written));
                continue;
            }
            let bytes = self
                .envelope_bytes
                .map_or(0, |_| size::record_bytes(&record));
            if self.would_overflow(bytes) {
                shown.publish(&self.ctx.halt, report);
                self.send(report).await;
            }
            self.batch.push(id, written, record, bytes);
            if self.batch.len() >= s.batch_size {
                shown.publish(&self.ctx.halt, report);
                self.send(report).await;
            }
        }
        shown.publish(&self.ctx.halt, report);
        if let Some(o) = &observer
            && (!settled.tokenised.is_empty() || !settled.failed.is_empty())
        {
            o.settled(settled).await;
        }
    }

    /// Whether a record of `bytes` would take the batch's request over `max_request_bytes`
    /// (never for an empty batch: a record too large on its own goes alone).
    fn would_overflow(&self, bytes: usize) -> bool {
        let (Some(max), Some(envelope)) =
            (self.ctx.settings.max_request_bytes, self.envelope_bytes)
        else {
            return false;
        };
        if self.batch.is_empty() {
            if envelope.saturating_add(bytes) > max {
                tracing::warn!(
                    bytes,
                    max_request_bytes = max,
                    "a record too large for max_request_bytes on its own: sent alone"
                );
            }
            return false;
        }
        envelope
            .saturating_add(self.batch.bytes())
            .saturating_add(bytes)
            > max
    }

    /// Sends the batch being filled and starts a new one.
    async fn send(&mut self, report: &mut RunReport) {
        let n = self.ctx.settings.batch_size;
        let full = std::mem::replace(&mut self.batch, Batch::with_capacity(n));
        self.spawn(full, report).await;
    }

    async fn spawn(&mut self, batch: Batch, report: &mut RunReport) {
        // Waiting for a permit here is the back-pressure that bounds what is queued at MTS and
        // what is held in memory; a run that stops meanwhile sends nothing more.
        let permit = tokio::select! {
            biased;
            () = self.ctx.halt.stopped() => None,
            permit = self.permits.clone().acquire_owned() => permit.ok(),
        };
        let Some(permit) = permit else {
            let reason = if self.ctx.halt.is_stopped() {
                self.ctx.stop_reason()
            } else {
                "the engine is shutting down".to_owned()
            };
            self.unsent(batch, &reason, report).await;
            return;
        };
        let ctx = self.ctx.clone();
        let n = batch.len() as u64;
        let task = self
            .tasks
            .spawn(async move { batch.run(&ctx, permit).await }.in_current_span());
        self.sizes.insert(task.id(), n);
    }

    /// A batch task's outcome; one that panicked (or was cancelled) leaves its registrants
    /// pending: the next run selects them again. The panic itself was printed by the panic
    /// hook; it is not repeated here, since a panic message could quote anything.
    fn joined(&mut self, done: Result<(Id, BatchOutcome), JoinError>) -> BatchOutcome {
        match done {
            Ok((id, outcome)) => {
                self.sizes.remove(&id);
                outcome
            }
            Err(e) => {
                let pending = self.sizes.remove(&e.id()).unwrap_or_default();
                let what = if e.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                };
                tracing::error!(
                    registrants = pending,
                    "a batch task {what}: its registrants are left pending"
                );
                let outcome = BatchOutcome {
                    pending,
                    error: Some(PANICKED.to_owned()),
                    ..BatchOutcome::default()
                };
                self.ctx.halt.settled(&outcome);
                outcome
            }
        }
    }

    /// Reports a batch that is not sent: its registrants are pending.
    async fn unsent(&self, batch: Batch, reason: &str, report: &mut RunReport) {
        let outcome = batch.unsent(self.ctx, reason).await;
        self.ctx.halt.settled(&outcome);
        report.merge(outcome);
    }

    /// Sends the last batch (unless the run stopped early: then it stays pending), removes the
    /// last VIDs, and waits for every batch.
    pub(super) async fn finish(mut self, report: &mut RunReport, completed: bool) {
        let s = self.ctx.settings.clone();
        let last = std::mem::take(&mut self.batch);
        if !last.is_empty() {
            if completed {
                self.spawn(last, report).await;
            } else {
                self.unsent(last, "the run stopped", report).await;
            }
        }
        if !self.cleanup.is_empty() {
            report.vids_removed +=
                batch::remove_vids(&*self.ctx.registry, &self.cleanup, s.chunk_size).await;
        }
        while let Some(done) = self.tasks.join_next_with_id().await {
            let outcome = self.joined(done);
            report.merge(outcome);
        }
    }
}

/// The selection's counts already added to the progress (batches add their own).
struct Shown {
    selected: u64,
    already_tokenised: u64,
    failed: u64,
}

impl Shown {
    fn of(report: &RunReport) -> Self {
        Self {
            selected: report.selected,
            already_tokenised: report.already_tokenised,
            failed: report.failed_total(),
        }
    }

    /// Adds what was counted at selection since the last call to the progress. Only for use
    /// while a page is screened: no batch outcome is merged then (an unsent batch adds
    /// pending only, which it publishes itself).
    fn publish(&mut self, halt: &Halt, report: &RunReport) {
        let now = Self::of(report);
        halt.publish(|p| {
            p.selected += now.selected - self.selected;
            p.already_tokenised += now.already_tokenised - self.already_tokenised;
            p.failed += now.failed - self.failed;
        });
        *self = now;
    }
}
