//! Runs over a run ledger: the daily delta, full sweeps and manual imports.
//!
//! A [`Runner`] wraps an [`Engine`] and a [`RunLedger`]. Before each run it marks runs whose
//! process died as interrupted and prunes old runs; it then decides what to select:
//!
//! - **full**: every registrant the filter selects;
//! - **delta**: the registrants the filter selects that were written (they or their ids) since
//!   the watermark — the start of the last completed full or delta run, less an overlap — plus
//!   every registrant the ledger holds as pending;
//! - **import**: exactly the registrants an operator names (ids, a domain, or a CSV of
//!   registrant ids and VIDs, checked whole and stored first).
//!
//! Full and delta runs leave out registrants that failed earlier and whose record has not changed
//! since; an import sends whoever it names. The run is recorded in the ledger from start to end,
//! with its report.

mod import;
mod observer;
mod status;

pub use import::{CsvProblem, ImportError, parse_csv, parse_ids};
pub use status::{NextRun, Status, describe, status};

use crate::domain::{Domain, Operator};
use crate::engine::{Engine, RunEnd, RunHooks, Selection};
use crate::error::RegistryError;
use crate::ledger::{
    EntryUpdate, LedgerError, LedgerLock, LockHolder, RunId, RunKind, RunLedger, RunOutcome,
};
use crate::pii::Vid;
use crate::registry::RegistrantId;
use crate::time::{Clock, SystemClock, TimeOfDay, Timestamp};
use observer::LedgerObserver;
use serde_json::json;
use std::sync::Arc;
use tracing::Instrument;

/// How many ids one selection pass names at most.
const IDS_PER_PASS: usize = 1_000;

/// The settings of runs over a ledger (each a setting of the connector's configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunSettings {
    /// How far before the last run's start a delta looks (clock skew, and the registry's
    /// longest write transaction: Odoo stamps `write_date` with the transaction's start).
    pub delta_overlap_minutes: u32,
    /// A full run instead of a delta when the last completed full run is this old.
    pub full_sweep_days: u32,
    /// Counted attempts after which a registrant left without a result is failed.
    pub max_attempts: u32,
    /// Runs are kept in the ledger this long.
    pub retention_days: u32,
    /// A recurring connector's runs fall at this time of day and every `interval_minutes`
    /// after it; without it, `interval_minutes` after the last run's start.
    pub run_at: Option<TimeOfDay>,
    /// After a run that failed or could not run, the next try comes this many seconds later,
    /// doubling at each failure in a row, at most `interval_minutes` apart.
    pub retry_seconds: u32,
    /// A service's `/healthz` asks the registry and MTS at most this often.
    pub health_check_seconds: u32,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            delta_overlap_minutes: 10,
            full_sweep_days: 7,
            max_attempts: 3,
            retention_days: 90,
            run_at: None,
            retry_seconds: 60,
            health_check_seconds: 30,
        }
    }
}

impl RunSettings {
    /// The defaults with these values (for code-built settings).
    pub fn new(
        delta_overlap_minutes: u32,
        full_sweep_days: u32,
        max_attempts: u32,
        retention_days: u32,
    ) -> Self {
        Self {
            delta_overlap_minutes,
            full_sweep_days,
            max_attempts,
            retention_days,
            ..Self::default()
        }
    }

    /// These settings with runs anchored at `run_at`.
    pub fn with_run_at(mut self, run_at: Option<TimeOfDay>) -> Self {
        self.run_at = run_at;
        self
    }

    /// These settings with the first retry after a failed run `seconds` later.
    pub fn with_retry_seconds(mut self, seconds: u32) -> Self {
        self.retry_seconds = seconds;
        self
    }

    /// These settings with `/healthz` asking the registry and MTS at most every `seconds`.
    pub fn with_health_check_seconds(mut self, seconds: u32) -> Self {
        self.health_check_seconds = seconds;
        self
    }
}

/// What to run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunRequest {
    /// What the ledger says is due: a delta, or a full run when there has been no completed
    /// one, or the last is older than the full-sweep period.
    Due,
    /// A full run.
    Full,
    /// A delta (a full run when there is no watermark yet).
    Delta,
    /// A manual import of these registrants.
    Import(Import),
}

/// The registrants a manual import names.
#[derive(Clone)]
#[non_exhaustive]
pub enum Import {
    /// These ids.
    Ids(Vec<RegistrantId>),
    /// The registrants this domain selects, AND-ed with "holds a VID and no token".
    Domain(Domain),
    /// Each registrant is given its VID first (the rows checked whole), then tokenised.
    Vids(Vec<(RegistrantId, Vid)>),
}

impl std::fmt::Debug for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ids(ids) => write!(f, "Ids({} registrants)", ids.len()),
            Self::Domain(d) => write!(f, "Domain({d})"),
            Self::Vids(rows) => write!(f, "Vids({} rows)", rows.len()),
        }
    }
}

/// Why a run could not start (nothing was sent).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The ledger failed, or another run holds it.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A manual import's input was refused: nothing was written.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The registry failed while an import was checked or its VIDs stored.
    #[error("checking the import against the registry failed")]
    Registry(#[source] RegistryError),
}

/// Runs an [`Engine`] over a [`RunLedger`].
#[derive(Debug, Clone)]
pub struct Runner {
    engine: Engine,
    ledger: Arc<dyn RunLedger>,
    settings: RunSettings,
    clock: Arc<dyn Clock>,
}

impl Runner {
    /// A runner of `engine` over `ledger`, reading the system clock.
    pub fn new(engine: Engine, ledger: Arc<dyn RunLedger>, settings: RunSettings) -> Self {
        Self {
            engine,
            ledger,
            settings,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same runner reading `clock` (tests hold it still or move it by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<dyn RunLedger> {
        &self.ledger
    }

    /// Takes the ledger's lock for this process, running `what` (`omc run`, `omc import`, a
    /// service's name). Hold it across runs: a run needs it.
    pub async fn lock(&self, what: &str) -> Result<LedgerLock, LedgerError> {
        self.ledger
            .lock(LockHolder::this_process(what, self.clock.now()))
            .await
    }

    /// What the next due run is.
    pub async fn next(&self) -> Result<NextRun, LedgerError> {
        next_run(&*self.ledger, &self.settings, self.clock.now()).await
    }

    /// The ledger at a glance (read without the lock).
    pub async fn status(&self, runs: usize) -> Result<Status, LedgerError> {
        status(&*self.ledger, &self.settings, runs, self.clock.now()).await
    }

    /// One run of the requested kind. `lock` is the proof that this process holds the
    /// ledger's lock. A run stopped by an error returns its partial report with the error.
    pub async fn run(&self, lock: &LedgerLock, request: RunRequest) -> Result<RunEnd, RunnerError> {
        self.run_with(lock, request, RunHooks::default()).await
    }

    /// [`run`](Self::run) with `hooks`: its progress published, and a cancellation token. A
    /// cancelled run finishes what it sent and is recorded as interrupted, with its report;
    /// a run that stopped by itself ([`RunReport::stopped`](crate::engine::RunReport::stopped):
    /// MTS not reachable, callbacks not arriving) is recorded as failed with that reason.
    /// Neither moves the delta's watermark: what they did not select, the next run does.
    pub async fn run_with(
        &self,
        _lock: &LedgerLock,
        request: RunRequest,
        hooks: RunHooks,
    ) -> Result<RunEnd, RunnerError> {
        let cancel = hooks.cancel.clone();
        let now = self.clock.now();
        let interrupted = self.ledger.interrupt_unfinished(now).await?;
        if interrupted > 0 {
            tracing::warn!(
                runs = interrupted,
                "earlier runs ended without finishing: marked interrupted"
            );
        }
        let retention = i64::from(self.settings.retention_days) * 86_400;
        self.ledger.prune_runs(now.minus_seconds(retention)).await?;
        self.forget_tokenised().await?;
        let (kind, watermark, selection) = match request {
            RunRequest::Import(import) => (RunKind::Import, None, self.import(import).await?),
            RunRequest::Due => self.scheduled(self.next().await?.watermark).await?,
            RunRequest::Full => self.scheduled(None).await?,
            RunRequest::Delta => {
                let next = delta(&*self.ledger, &self.settings).await?;
                self.scheduled(next.watermark).await?
            }
        };
        let run = self.ledger.begin_run(kind, now, watermark).await?;
        // Every line the run logs, its batches' included, carries its number and kind.
        let span = tracing::info_span!("run", run = %run, kind = %kind);
        span.in_scope(|| {
            tracing::info!(
                passes = selection.domains().len(),
                watermark = ?watermark.map(|w| w.to_string()),
                "run started"
            );
        });
        let observer = Arc::new(LedgerObserver {
            ledger: self.ledger.clone(),
            clock: self.clock.clone(),
            max_attempts: self.settings.max_attempts.max(1),
            screen_failed: kind != RunKind::Import,
        });
        let mut end = self
            .engine
            .run_with(&selection, Some(observer), hooks)
            .instrument(span)
            .await;
        crate::engine::stamp(&mut end.report, run, kind);
        let cancelled = cancel.is_some_and(|c| c.is_cancelled());
        let (outcome, error) = match (&end.error, &end.report.stopped) {
            (Some(e), _) => (RunOutcome::Failed, Some(chain(e))),
            (None, Some(reason)) if cancelled => (RunOutcome::Interrupted, Some(reason.clone())),
            (None, Some(reason)) => (RunOutcome::Failed, Some(reason.clone())),
            (None, None) => (RunOutcome::Completed, None),
        };
        let report = serde_json::to_value(&end.report).unwrap_or_else(|_| json!({}));
        self.ledger
            .finish_run(run, self.clock.now(), outcome, &report, error.as_deref())
            .await?;
        Ok(end)
    }

    /// Records in the ledger a run that could not run for `reason` (a pre-flight check failed,
    /// the registry could not be read): a run of the due kind, failed, with an empty report,
    /// so `omc status` shows what happened at its time. Returns its number.
    pub async fn record_failed(
        &self,
        _lock: &LedgerLock,
        reason: &str,
    ) -> Result<RunId, LedgerError> {
        let now = self.clock.now();
        let next = self.next().await?;
        let run = self
            .ledger
            .begin_run(next.kind, now, next.watermark)
            .await?;
        self.ledger
            .finish_run(run, now, RunOutcome::Failed, &json!({}), Some(reason))
            .await?;
        Ok(run)
    }

    /// Drops the ledger's rows of registrants that hold a token by now (tokenised by a late
    /// callback, another connector, or by hand), so the ledger holds only what is open. A
    /// registry that cannot be read leaves them for the next run.
    async fn forget_tokenised(&self) -> Result<(), LedgerError> {
        let registry = self.engine.registry();
        for failed in [false, true] {
            let mut after = None;
            loop {
                let page: Vec<RegistrantId> = if failed {
                    let page = self.ledger.failed(after, IDS_PER_PASS).await?;
                    page.into_iter().map(|(id, _)| id).collect()
                } else {
                    self.ledger.pending(after, IDS_PER_PASS).await?
                };
                let Some(last) = page.last() else { break };
                after = Some(*last);
                match registry.tokens(&page).await {
                    Ok(held) => {
                        let done: Vec<EntryUpdate> = held
                            .into_keys()
                            .map(|id| EntryUpdate::Done { id })
                            .collect();
                        self.ledger.apply(&done).await?;
                    }
                    Err(e) => {
                        tracing::warn!("reading the tokens of open registrants failed: {e}");
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// A delta from `watermark` (a [`NextRun`] has one exactly when it is a delta), or a full
    /// run without one.
    async fn scheduled(
        &self,
        watermark: Option<Timestamp>,
    ) -> Result<(RunKind, Option<Timestamp>, Selection), LedgerError> {
        let filter = self.engine.settings().filter.clone();
        let Some(watermark) = watermark else {
            return Ok((RunKind::Full, None, Selection::filter(filter)));
        };
        let stamp = json!(watermark.to_string());
        let changed = Domain::written_since(&watermark.to_string()).or(Domain::leaf(
            "reg_ids.write_date",
            Operator::Ge,
            stamp,
        ));
        let mut passes = vec![filter.clone().and(changed)];
        let mut after = None;
        loop {
            let pending = self.ledger.pending(after, IDS_PER_PASS).await?;
            let Some(last) = pending.last() else { break };
            after = Some(*last);
            let ids: Vec<i64> = pending.iter().map(|id| id.0).collect();
            passes.push(filter.clone().and(Domain::id_in(&ids)));
        }
        Ok((RunKind::Delta, Some(watermark), Selection::passes(passes)))
    }

    async fn import(&self, import: Import) -> Result<Selection, RunnerError> {
        let ids = match import {
            Import::Domain(domain) => {
                let token = &self.engine.settings().id_types.token;
                let no_token = Domain::any(
                    "reg_ids",
                    true,
                    Domain::leaf("id_type", Operator::Eq, json!(token)),
                );
                return Ok(Selection::filter(domain.and(no_token)));
            }
            Import::Ids(ids) => ids,
            Import::Vids(rows) => {
                let registry = self.engine.registry();
                let id_types = &self.engine.settings().id_types;
                import::store_vids(&**registry, id_types, &rows).await?;
                rows.into_iter().map(|(id, _)| id).collect()
            }
        };
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        Ok(Selection::passes(
            ids.chunks(IDS_PER_PASS).map(Domain::id_in).collect(),
        ))
    }
}

/// The next due run over `ledger` at `now`.
pub async fn next_run(
    ledger: &dyn RunLedger,
    settings: &RunSettings,
    now: Timestamp,
) -> Result<NextRun, LedgerError> {
    let last_full = ledger.last_completed(&[RunKind::Full]).await?;
    let Some(last_full) = last_full else {
        return Ok(NextRun {
            kind: RunKind::Full,
            watermark: None,
            reason: "no full run has completed yet".into(),
        });
    };
    let sweep = i64::from(settings.full_sweep_days) * 86_400;
    if last_full.started <= now.minus_seconds(sweep) {
        return Ok(NextRun {
            kind: RunKind::Full,
            watermark: None,
            reason: format!(
                "the last full run started {} UTC, {} days or more ago",
                last_full.started, settings.full_sweep_days
            ),
        });
    }
    delta(ledger, settings).await
}

/// A delta from the last completed full or delta run; a full run when there is none.
async fn delta(ledger: &dyn RunLedger, settings: &RunSettings) -> Result<NextRun, LedgerError> {
    let Some(last) = ledger
        .last_completed(&[RunKind::Full, RunKind::Delta])
        .await?
    else {
        return Ok(NextRun {
            kind: RunKind::Full,
            watermark: None,
            reason: "no full or delta run has completed yet".into(),
        });
    };
    let overlap = i64::from(settings.delta_overlap_minutes) * 60;
    let watermark = last.started.minus_seconds(overlap);
    Ok(NextRun {
        kind: RunKind::Delta,
        watermark: Some(watermark),
        reason: format!(
            "changes since the {} run {} started ({} UTC) less {} minutes, and the pending",
            last.kind, last.id, last.started, settings.delta_overlap_minutes
        ),
    })
}

/// An error and its causes in one line: `outer: cause: root cause`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.ends_with(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        source = cause.source();
    }
    text
}
