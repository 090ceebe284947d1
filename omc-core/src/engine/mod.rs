//! The run engine: one tokenisation run over the three traits.
//!
//! A run first removes the VIDs of registrants that already hold a token (the cleanup filter),
//! then pages through what its [`Selection`] selects in id order, builds each one's `authdata`
//! (leaving out empty values), holds back the records MTS would refuse (reporting MTS's code),
//! submits batches with a bound on how many are outstanding, waits for each batch (MTS's
//! status, then the batch's tokens read back), removes the VIDs whose token was read back, and
//! returns a [`RunReport`] that accounts for every selected registrant.
//!
//! The registry is the ledger of tokens and VIDs: a registrant left pending (a lost callback, a
//! batch MTS forgot) is found again by the next run, and MTS's deterministic tokens make sending
//! it again harmless. What the registry cannot hold (what failed, what is pending since when) a
//! [`RunObserver`] keeps: the run ledger's [`Runner`](crate::runs::Runner) is one.

mod batch;
mod observer;
mod report;
mod settings;

pub use observer::{EMPTY_TOKEN_ID, NO_RESULT, RunObserver, Settled};
pub use report::{CleanupReport, RunReport};
pub use settings::{EngineSettings, WaitPolicy, default_cleanup_filter};

use crate::domain::Domain;
use crate::error::{RegistryError, SinkError};
use crate::ledger::{RunId, RunKind};
use crate::receiver::ids::IdSet;
use crate::registry::{Candidate, CandidateQuery, RegistrantId, Registry};
use crate::rules::{VID_MISSING, build_authdata, mts_verdict};
use crate::seeder::TokenSeeder;
use crate::sink::CallbackSink;
use batch::{Batch, BatchContext};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Why a run could not go on. Per-batch problems do not stop a run; they are in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Reading candidates failed; the run stopped (what was sent is still accounted for).
    #[error("reading candidates failed")]
    Registry(#[source] RegistryError),
    /// The callback sink could not describe its delivery: nothing was sent.
    #[error("the callback sink cannot describe its delivery")]
    Sink(#[source] SinkError),
}

/// What a run selects: one or more passes (Odoo domains on registrants), each paged on its own;
/// a registrant selected by two passes counts once. The engine ANDs "holds a VID" onto each.
#[derive(Debug, Clone)]
pub struct Selection {
    passes: Vec<Domain>,
}

impl Selection {
    /// Every registrant `filter` selects.
    pub fn filter(filter: Domain) -> Self {
        Self {
            passes: vec![filter],
        }
    }

    /// Every registrant one of `passes` selects (an empty list selects nobody).
    pub fn passes(passes: Vec<Domain>) -> Self {
        Self { passes }
    }

    /// The passes.
    pub fn domains(&self) -> &[Domain] {
        &self.passes
    }
}

/// How a run ended: its report (partial when it stopped early) and the error that stopped it.
#[derive(Debug)]
pub struct RunEnd {
    /// What the run did, every selected registrant accounted for.
    pub report: RunReport,
    /// Why it stopped before its end, if it did.
    pub error: Option<EngineError>,
}

/// Drives a [`Registry`], a [`TokenSeeder`] and a [`CallbackSink`].
#[derive(Debug, Clone)]
pub struct Engine {
    registry: Arc<dyn Registry>,
    seeder: Arc<dyn TokenSeeder>,
    sink: Arc<dyn CallbackSink>,
    settings: Arc<EngineSettings>,
}

impl Engine {
    /// An engine over the three traits with `settings`.
    pub fn new(
        registry: Arc<dyn Registry>,
        seeder: Arc<dyn TokenSeeder>,
        sink: Arc<dyn CallbackSink>,
        settings: EngineSettings,
    ) -> Self {
        Self {
            registry,
            seeder,
            sink,
            settings: Arc::new(settings),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    /// One run over every registrant the filter selects, remembering nothing.
    pub async fn run_once(&self) -> Result<RunReport, EngineError> {
        let selection = Selection::filter(self.settings.filter.clone());
        let end = self.run(&selection, None).await;
        match end.error {
            Some(e) => Err(e),
            None => Ok(end.report),
        }
    }

    /// One run over what `selection` selects, telling `observer` (if any) what happens to each
    /// registrant. Never loses the report: a run stopped by an error returns what it did.
    pub async fn run(
        &self,
        selection: &Selection,
        observer: Option<Arc<dyn RunObserver>>,
    ) -> RunEnd {
        let started = tokio::time::Instant::now();
        let mut report = RunReport::default();
        let delivery = match self.sink.delivery().await {
            Ok(delivery) => Arc::new(delivery),
            Err(e) => {
                return RunEnd {
                    report,
                    error: Some(EngineError::Sink(e)),
                };
            }
        };
        let mut error = None;
        if self.settings.remove_vids
            && let Err(e) = self.cleanup(&mut report.cleanup).await
        {
            error = Some(EngineError::Registry(e));
        }
        if error.is_none() {
            let ctx = Arc::new(BatchContext {
                registry: self.registry.clone(),
                seeder: self.seeder.clone(),
                sink: self.sink.clone(),
                settings: self.settings.clone(),
                delivery,
                observer,
            });
            let mut pass = Pass::new(&ctx, selection.passes.len() > 1);
            for domain in &selection.passes {
                if let Err(e) = pass.run(domain, &mut report).await {
                    error = Some(EngineError::Registry(e));
                    break;
                }
            }
            pass.finish(&mut report, error.is_none()).await;
        }
        report.absorb(self.sink.delivery_problems().await);
        report.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            selected = report.selected,
            tokenised = report.tokenised,
            pending = report.pending,
            failed = report.failed_total(),
            vids_removed = report.vids_removed,
            cleanup_vids_removed = report.cleanup.vids_removed,
            refused_callbacks = report.refused_callbacks.values().sum::<u64>(),
            duplicate_groups = report.duplicate_groups.len(),
            "run finished"
        );
        RunEnd { report, error }
    }

    /// Removes the VIDs of the registrants the cleanup filter selects that hold a token (an id
    /// of the token type with a value); a VID beside an empty token id is kept and counted.
    async fn cleanup(&self, cleanup: &mut CleanupReport) -> Result<(), RegistryError> {
        let s = &self.settings;
        let Some(filter) = &s.cleanup_filter else {
            return Ok(());
        };
        let mut after = None;
        loop {
            let query = CandidateQuery {
                filter: filter.clone(),
                fields: Vec::new(),
                after,
                limit: s.page_size.max(1),
            };
            let page = self.registry.candidates(&query).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.id);
            let mut remove = Vec::new();
            for c in page {
                cleanup.selected += 1;
                if c.vid.is_none() {
                    continue;
                }
                if c.has_token {
                    remove.push(c.id);
                } else if c.empty_token_id {
                    tracing::warn!(registrant = %c.id, "VID kept: its token id has no value");
                    cleanup.kept_beside_empty_token_id += 1;
                }
            }
            cleanup.vids_removed +=
                batch::remove_vids(&*self.registry, &remove, s.chunk_size).await;
        }
    }
}

/// The selection passes of one run, and the batches they fill.
struct Pass<'a> {
    ctx: &'a Arc<BatchContext>,
    permits: Arc<Semaphore>,
    tasks: JoinSet<report::BatchOutcome>,
    batch: Batch,
    cleanup: Vec<RegistrantId>,
    seen: Option<IdSet>,
}

impl<'a> Pass<'a> {
    fn new(ctx: &'a Arc<BatchContext>, dedupe: bool) -> Self {
        let s = &ctx.settings;
        Self {
            ctx,
            permits: Arc::new(Semaphore::new(s.max_in_flight.max(1))),
            tasks: JoinSet::new(),
            batch: Batch::with_capacity(s.batch_size),
            cleanup: Vec::new(),
            seen: dedupe.then(IdSet::default),
        }
    }

    /// Pages through one domain, sending what it selects.
    async fn run(&mut self, domain: &Domain, report: &mut RunReport) -> Result<(), RegistryError> {
        let s = self.ctx.settings.clone();
        // OMC selects only registrants holding a VID, whatever the operator's filter says.
        let filter = domain.for_connector(&s.id_types);
        let mut after = None;
        loop {
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
            while let Some(done) = self.tasks.try_join_next() {
                report.merge(batch::joined(done));
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
            self.batch.push(id, written, record);
            if self.batch.len() >= s.batch_size {
                let full = std::mem::replace(&mut self.batch, Batch::with_capacity(s.batch_size));
                self.spawn(full, report).await;
            }
        }
        if let Some(o) = &observer
            && (!settled.tokenised.is_empty() || !settled.failed.is_empty())
        {
            o.settled(settled).await;
        }
    }

    async fn spawn(&mut self, batch: Batch, report: &mut RunReport) {
        // Waiting for a permit here is the back-pressure that bounds what is queued at MTS and
        // what is held in memory.
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            report.merge(batch.unsent(self.ctx, "the engine is shutting down").await);
            return;
        };
        let ctx = self.ctx.clone();
        self.tasks
            .spawn(async move { batch.run(&ctx, permit).await });
    }

    /// Sends the last batch (unless the run stopped early: then it stays pending), removes the
    /// last VIDs, and waits for every batch.
    async fn finish(mut self, report: &mut RunReport, completed: bool) {
        let s = self.ctx.settings.clone();
        let last = std::mem::take(&mut self.batch);
        if !last.is_empty() {
            if completed {
                self.spawn(last, report).await;
            } else {
                report.merge(last.unsent(self.ctx, "the run stopped").await);
            }
        }
        if !self.cleanup.is_empty() {
            report.vids_removed +=
                batch::remove_vids(&*self.ctx.registry, &self.cleanup, s.chunk_size).await;
        }
        while let Some(done) = self.tasks.join_next().await {
            report.merge(batch::joined(done));
        }
    }
}

/// The run's id and kind, as the runner stamps them on the report.
pub(crate) fn stamp(report: &mut RunReport, run: RunId, kind: RunKind) {
    report.run = Some(run);
    report.kind = Some(kind);
}
