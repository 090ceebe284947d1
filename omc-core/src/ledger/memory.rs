//! [`MemoryLedger`]: a run ledger held in memory, for embedders' tests.

use super::{
    EntryState, EntryUpdate, LedgerError, LedgerLock, LedgerSummary, LockHolder, RunId, RunKind,
    RunLedger, RunOutcome, RunRecord, apply_one,
};
use crate::registry::RegistrantId;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct State {
    runs: BTreeMap<RunId, RunRecord>,
    last_run: i64,
    entries: BTreeMap<RegistrantId, EntryState>,
    holder: Option<LockHolder>,
}

/// A run ledger in memory: what a process remembers while it lives. Clones share one ledger,
/// and its lock holds between them as the file ledger's does between processes.
#[derive(Debug, Clone, Default)]
pub struct MemoryLedger {
    state: Arc<Mutex<State>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Clears the holder when dropped.
struct Release(Arc<Mutex<State>>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).holder = None;
    }
}

fn page<T: Clone>(
    entries: &BTreeMap<RegistrantId, EntryState>,
    after: Option<RegistrantId>,
    limit: usize,
    pick: impl Fn(&EntryState) -> Option<T>,
) -> Vec<(RegistrantId, T)> {
    let start = match after {
        None => i64::MIN,
        Some(RegistrantId(i64::MAX)) => return Vec::new(),
        Some(a) => a.0 + 1,
    };
    entries
        .range(RegistrantId(start)..)
        .filter_map(|(id, e)| pick(e).map(|t| (*id, t)))
        .take(limit)
        .collect()
}

#[async_trait]
impl RunLedger for MemoryLedger {
    async fn lock(&self, holder: LockHolder) -> Result<LedgerLock, LedgerError> {
        let mut state = self.state();
        if let Some(held) = &state.holder {
            return Err(LedgerError::Locked {
                holder: held.clone(),
            });
        }
        state.holder = Some(holder);
        Ok(LedgerLock::new(Release(self.state.clone())))
    }

    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError> {
        Ok(self.state().holder.clone())
    }

    async fn begin_run(
        &self,
        kind: RunKind,
        started: Timestamp,
        watermark: Option<Timestamp>,
    ) -> Result<RunId, LedgerError> {
        let mut state = self.state();
        state.last_run += 1;
        let id = RunId(state.last_run);
        state.runs.insert(
            id,
            RunRecord {
                id,
                kind,
                started,
                ended: None,
                outcome: RunOutcome::Running,
                watermark,
                report: None,
                error: None,
            },
        );
        Ok(id)
    }

    async fn finish_run(
        &self,
        id: RunId,
        ended: Timestamp,
        outcome: RunOutcome,
        report: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        let mut state = self.state();
        let Some(run) = state.runs.get_mut(&id) else {
            return Err(LedgerError::Storage {
                location: "memory".into(),
                message: format!("run {id} is not in the ledger"),
                source: None,
            });
        };
        run.ended = Some(ended);
        run.outcome = outcome;
        run.report = Some(report.clone());
        run.error = error.map(str::to_owned);
        Ok(())
    }

    async fn interrupt_unfinished(&self, at: Timestamp) -> Result<u64, LedgerError> {
        let mut state = self.state();
        let mut n = 0;
        for run in state.runs.values_mut() {
            if run.outcome == RunOutcome::Running {
                run.outcome = RunOutcome::Interrupted;
                run.ended = Some(at);
                run.error = Some("its process ended before the run did".into());
                n += 1;
            }
        }
        Ok(n)
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        Ok(self
            .state()
            .runs
            .values()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn last_completed(&self, kinds: &[RunKind]) -> Result<Option<RunRecord>, LedgerError> {
        Ok(self
            .state()
            .runs
            .values()
            .rev()
            .find(|r| r.outcome == RunOutcome::Completed && kinds.contains(&r.kind))
            .cloned())
    }

    async fn apply(&self, updates: &[EntryUpdate]) -> Result<(), LedgerError> {
        let mut state = self.state();
        for update in updates {
            apply_one(&mut state.entries, update);
        }
        Ok(())
    }

    async fn entries(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, EntryState>, LedgerError> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.entries.get(id).map(|e| (*id, e.clone())))
            .collect())
    }

    async fn pending(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<RegistrantId>, LedgerError> {
        let state = self.state();
        let pick = |e: &EntryState| matches!(e, EntryState::Pending { .. }).then_some(());
        Ok(page(&state.entries, after, limit, pick)
            .into_iter()
            .map(|(id, ())| id)
            .collect())
    }

    async fn failed(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<(RegistrantId, String)>, LedgerError> {
        let state = self.state();
        Ok(page(&state.entries, after, limit, |e| match e {
            EntryState::Failed { code, .. } => Some(code.clone()),
            EntryState::Pending { .. } => None,
        }))
    }

    async fn summary(&self) -> Result<LedgerSummary, LedgerError> {
        let state = self.state();
        let mut summary = LedgerSummary::default();
        for entry in state.entries.values() {
            match entry {
                EntryState::Pending { .. } => summary.pending += 1,
                EntryState::Failed { code, .. } => {
                    *summary.failed.entry(code.clone()).or_default() += 1;
                }
            }
        }
        Ok(summary)
    }

    async fn prune_runs(&self, before: Timestamp) -> Result<u64, LedgerError> {
        let mut state = self.state();
        // The newest completed run of each kind stays: it is the delta's watermark and the
        // full sweep's reference, however old.
        let mut keep = BTreeMap::new();
        for run in state.runs.values() {
            if run.outcome == RunOutcome::Completed {
                keep.insert(run.kind.as_str(), run.id);
            }
        }
        let old: Vec<RunId> = state
            .runs
            .values()
            .filter(|r| r.ended.is_some_and(|e| e < before))
            .filter(|r| !keep.values().any(|k| *k == r.id))
            .map(|r| r.id)
            .collect();
        for id in &old {
            state.runs.remove(id);
        }
        Ok(old.len() as u64)
    }
}
