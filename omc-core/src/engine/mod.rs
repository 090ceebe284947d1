//! The run engine: one tokenisation run over the three traits.
//!
//! A run first removes the VIDs of registrants that already hold a token (the cleanup filter),
//! then pages through what its [`Selection`] selects in id order, builds each one's `authdata`
//! (leaving out empty values), holds back the records MTS would refuse (reporting MTS's code),
//! submits batches with a bound on how many are outstanding, waits for each batch (MTS's
//! status, then the batch's tokens read back), removes the VIDs whose token was read back, and
//! returns a [`RunReport`] that accounts for every selected registrant. Right before a batch is
//! submitted its registrants' tokens are read: one that holds a token by then (another run's
//! callback, a person) is not sent and counts as already tokenised, so a run counts as
//! tokenised only the tokens that appeared after it submitted them.
//!
//! The registry is the ledger of tokens and VIDs: a registrant left pending (a lost callback, a
//! batch MTS forgot) is found again by the next run, and MTS's deterministic tokens make sending
//! it again harmless. What the registry cannot hold (what failed, what is pending since when) a
//! [`RunObserver`] keeps: the run ledger's [`Runner`](crate::runs::Runner) is one.

mod batch;
mod error;
mod hooks;
mod observer;
mod pass;
mod readback;
mod report;
mod settings;
mod size;

pub use error::{EngineError, RunEnd, RunFailed};
pub use hooks::{CALLBACKS_FAILED, CALLBACKS_NOT_ARRIVING, CANCELLED, Progress, RunHooks};
pub use observer::{EMPTY_TOKEN_ID, NO_RESULT, RunObserver, Settled};
pub use report::{CleanupReport, RunReport};
pub use settings::{EngineSettings, WaitPolicy, default_cleanup_filter};
/// The token that cancels a run ([`RunHooks::with_cancel`]), re-exported from `tokio-util`.
pub use tokio_util::sync::CancellationToken;

use crate::domain::Domain;
use crate::error::RegistryError;
use crate::ledger::{RunId, RunKind};
use crate::registry::{CandidateQuery, Registry};
use crate::seeder::TokenSeeder;
use crate::sink::{CallbackSink, SinkRun};
use batch::BatchContext;
use hooks::Halt;
use pass::Pass;
use std::sync::Arc;

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

    /// The same engine submitting through `seeder` instead (for instance a decorator of the
    /// current one that measures its requests: see [`seeder`](Self::seeder)).
    pub fn with_seeder(mut self, seeder: Arc<dyn TokenSeeder>) -> Self {
        self.seeder = seeder;
        self
    }

    /// The seeder.
    pub fn seeder(&self) -> &Arc<dyn TokenSeeder> {
        &self.seeder
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    /// One run over every registrant the filter selects, remembering nothing: the convenience
    /// over [`run`](Self::run). A run stopped by an error returns [`RunFailed`], which holds
    /// the error and the report of what the run did before it stopped.
    pub async fn run_once(&self) -> Result<RunReport, RunFailed> {
        let selection = Selection::filter(self.settings.filter.clone());
        self.run(&selection, None).await.into_result()
    }

    /// One run over what `selection` selects, telling `observer` (if any) what happens to each
    /// registrant. Never loses the report: a run stopped by an error returns what it did.
    pub async fn run(
        &self,
        selection: &Selection,
        observer: Option<Arc<dyn RunObserver>>,
    ) -> RunEnd {
        self.run_with(selection, observer, RunHooks::default())
            .await
    }

    /// [`run`](Self::run), publishing its progress and stopping when cancelled, as `hooks`
    /// say. A run also stops submitting by itself when MTS is not reachable
    /// ([`EngineSettings::max_consecutive_submit_failures`]) or callbacks are not arriving
    /// (a batch MTS processed with none of its results read back, or
    /// `error_making_callback_request`; the run's first batch goes alone until one of its
    /// results arrives, so that costs one batch). A stopped run says why in
    /// [`RunReport::stopped`], and what it selected and did not send is pending.
    pub async fn run_with(
        &self,
        selection: &Selection,
        observer: Option<Arc<dyn RunObserver>>,
        hooks: RunHooks,
    ) -> RunEnd {
        let started = tokio::time::Instant::now();
        let mut report = RunReport::default();
        let SinkRun { delivery, results } = match self.sink.open_run().await {
            Ok(run) => run,
            Err(e) => {
                return RunEnd {
                    report,
                    error: Some(EngineError::Sink(e)),
                };
            }
        };
        let ctx = Arc::new(BatchContext {
            registry: self.registry.clone(),
            seeder: self.seeder.clone(),
            results,
            settings: self.settings.clone(),
            delivery: Arc::new(delivery),
            observer,
            halt: Halt::new(hooks, self.settings.max_consecutive_submit_failures),
        });
        let mut error = None;
        if self.settings.remove_vids
            && let Err(e) = self.cleanup(&ctx.halt, &mut report.cleanup).await
        {
            error = Some(EngineError::Registry(e));
        }
        if error.is_none() {
            let mut pass = Pass::new(&ctx, selection.passes.len() > 1);
            for domain in &selection.passes {
                if let Err(e) = pass.run(domain, &mut report).await {
                    error = Some(EngineError::Registry(e));
                    break;
                }
            }
            pass.finish(&mut report, error.is_none()).await;
        }
        match ctx.results.take_problems().await {
            Ok(problems) => report.absorb(problems),
            Err(e) => tracing::warn!("the run's delivery problems could not be read: {e}"),
        }
        report.stopped = ctx.halt.reason();
        report.seconds = started.elapsed().as_secs_f64();
        ctx.halt.finish(&report);
        tracing::info!(
            selected = report.selected,
            tokenised = report.tokenised,
            pending = report.pending,
            failed = report.failed_total(),
            vids_removed = report.vids_removed,
            cleanup_vids_removed = report.cleanup.vids_removed,
            refused_callbacks = report.refused_callbacks.values().sum::<u64>(),
            duplicate_groups = report.duplicate_groups.len(),
            stopped = report.stopped.as_deref(),
            "run finished"
        );
        RunEnd { report, error }
    }

    /// Removes the VIDs of the registrants the cleanup filter selects that hold a token (an id
    /// of the token type with a value); a VID beside an empty token id is kept and counted.
    async fn cleanup(&self, halt: &Halt, cleanup: &mut CleanupReport) -> Result<(), RegistryError> {
        let s = &self.settings;
        let Some(filter) = &s.cleanup_filter else {
            return Ok(());
        };
        let mut after = None;
        loop {
            if halt.is_stopped() {
                return Ok(());
            }
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

/// The run's id and kind, as the runner stamps them on the report.
pub(crate) fn stamp(report: &mut RunReport, run: RunId, kind: RunKind) {
    report.run = Some(run);
    report.kind = Some(kind);
}
