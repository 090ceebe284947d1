//! The run engine: one tokenisation run over the three traits.
//!
//! A run pages through the candidates in id order, builds each one's `authdata` (leaving out
//! empty values), holds back the records MTS would refuse (reporting MTS's code), submits
//! batches with a bound on how many are outstanding, waits for each batch (MTS's status, then
//! the batch's tokens read back), removes the VIDs whose token was read back, and returns a
//! [`RunReport`] that accounts for every selected registrant.
//!
//! The registry is the ledger: the engine keeps nothing between runs. A registrant left
//! pending (a lost callback, a batch MTS forgot) is selected again by the next run, and MTS's
//! deterministic tokens make sending it again harmless.

mod batch;
mod report;
mod settings;

pub use report::RunReport;
pub use settings::{EngineSettings, WaitPolicy};

use crate::error::{RegistryError, SinkError};
use crate::registry::{CandidateQuery, RegistrantId, Registry};
use crate::rules::{VID_MISSING, build_authdata, mts_verdict};
use crate::seeder::TokenSeeder;
use crate::sink::CallbackSink;
use batch::{Batch, BatchContext};
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

    /// One run over every registrant the filter selects.
    pub async fn run_once(&self) -> Result<RunReport, EngineError> {
        let started = tokio::time::Instant::now();
        let delivery = Arc::new(self.sink.delivery().await.map_err(EngineError::Sink)?);
        let ctx = Arc::new(BatchContext {
            registry: self.registry.clone(),
            seeder: self.seeder.clone(),
            sink: self.sink.clone(),
            settings: self.settings.clone(),
            delivery,
        });
        let s = &self.settings;
        let permits = Arc::new(Semaphore::new(s.max_in_flight.max(1)));
        let mut tasks = JoinSet::new();
        let mut report = RunReport::default();
        let mut batch = Batch::with_capacity(s.batch_size);
        let mut cleanup: Vec<RegistrantId> = Vec::new();
        // OMC selects only registrants holding a VID, whatever the operator's filter says.
        let filter = s.filter.for_connector(&s.id_types);
        let mut after = None;
        let outcome = loop {
            let query = CandidateQuery {
                filter: filter.clone(),
                fields: s.fields.clone(),
                after,
                limit: s.page_size.max(1),
            };
            let page = match self.registry.candidates(&query).await {
                Ok(page) => page,
                Err(e) => break Err(EngineError::Registry(e)),
            };
            let Some(last) = page.last() else {
                break Ok(());
            };
            after = Some(last.id);
            for candidate in page {
                report.selected += 1;
                if candidate.has_token {
                    report.already_tokenised += 1;
                    if candidate.vid.is_some() && s.remove_vids {
                        cleanup.push(candidate.id);
                        // Removed a chunk at a time, so the list never grows with the run.
                        if cleanup.len() >= s.chunk_size.max(1) {
                            report.vids_removed +=
                                batch::remove_vids(&*self.registry, &cleanup, s.chunk_size).await;
                            cleanup.clear();
                        }
                    }
                    continue;
                }
                if candidate.vid.is_none() {
                    report.fail(VID_MISSING);
                    continue;
                }
                let id = candidate.id;
                let record = build_authdata(candidate, &s.fields, &s.mapping.vid);
                if let Some(refusal) = mts_verdict(&record.0, &s.mapping, &s.mandatory_fields) {
                    tracing::debug!(registrant = %id, code = refusal.code, "held back");
                    report.fail(refusal.code);
                    continue;
                }
                batch.push(id, record);
                if batch.len() >= s.batch_size {
                    let full = std::mem::replace(&mut batch, Batch::with_capacity(s.batch_size));
                    spawn(&mut tasks, &ctx, &permits, full, &mut report).await;
                }
            }
            while let Some(done) = tasks.try_join_next() {
                report.merge(done.unwrap_or_default());
            }
        };
        if !batch.is_empty() && outcome.is_ok() {
            spawn(&mut tasks, &ctx, &permits, batch, &mut report).await;
        } else {
            report.pending += batch.len() as u64;
        }
        if !cleanup.is_empty() {
            report.vids_removed +=
                batch::remove_vids(&*self.registry, &cleanup, s.chunk_size).await;
        }
        while let Some(done) = tasks.join_next().await {
            report.merge(done.unwrap_or_default());
        }
        report.absorb(self.sink.delivery_problems().await);
        report.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            selected = report.selected,
            tokenised = report.tokenised,
            pending = report.pending,
            vids_removed = report.vids_removed,
            refused_callbacks = report.refused_callbacks.values().sum::<u64>(),
            duplicate_groups = report.duplicate_groups.len(),
            "run finished"
        );
        outcome.map(|()| report)
    }
}

async fn spawn(
    tasks: &mut JoinSet<report::BatchOutcome>,
    ctx: &Arc<BatchContext>,
    permits: &Arc<Semaphore>,
    batch: Batch,
    report: &mut RunReport,
) {
    // Waiting for a permit here is the back-pressure that bounds what is queued at MTS and
    // what is held in memory.
    let Ok(permit) = permits.clone().acquire_owned().await else {
        report.pending += batch.len() as u64;
        return;
    };
    let ctx = ctx.clone();
    tasks.spawn(async move { batch.run(&ctx, permit).await });
}
