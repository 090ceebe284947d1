//! [`ReceiverRun`]: one run's handle on the receiver, owning the run's bearer secret and what
//! the receiver holds for it.

use super::ids::IdSet;
use super::{CallbackReceiver, lock};
use crate::error::SinkError;
use crate::registry::RegistrantId;
use crate::sink::{DeliveryProblems, RecordFailure, RunResults};
use async_trait::async_trait;
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// What the receiver holds for one open run (no personal data).
#[derive(Default)]
pub(super) struct RunState {
    /// The registrants the run sent: a compact set (about 1 bit an id for Odoo's dense ids).
    pub(super) expected: IdSet,
    /// Registrants whose token this run's callbacks stored, until the engine settles them.
    pub(super) stored: BTreeSet<RegistrantId>,
    /// MTS's failures heard for the run's registrants, until the engine settles them.
    pub(super) failures: BTreeMap<RegistrantId, RecordFailure>,
    /// The problems seen for the run since they were last taken.
    pub(super) problems: DeliveryProblems,
}

/// One run's handle on a [`CallbackReceiver`] ([`CallbackReceiver::open_run`]): its bearer
/// secret, the registrants it expects results for, and what came back for them. Callbacks
/// carrying the run's bearer count for this run alone; callbacks of an Odoo-style session
/// count for every open run that expects their registrants. Dropping the handle retires the
/// secret (callbacks carrying it are refused from then on) and everything held for the run.
pub struct ReceiverRun {
    receiver: Arc<CallbackReceiver>,
    key: u64,
    bearer: SecretString,
}

impl fmt::Debug for ReceiverRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverRun")
            .field("key", &self.key)
            .field("bearer", &"<secret>")
            .finish()
    }
}

impl Drop for ReceiverRun {
    fn drop(&mut self) {
        self.receiver.close_run(self.key);
    }
}

impl ReceiverRun {
    pub(super) fn new(receiver: Arc<CallbackReceiver>, key: u64, bearer: SecretString) -> Self {
        Self {
            receiver,
            key,
            bearer,
        }
    }

    /// The run's bearer secret, for MTS's `Authorization: Bearer` (auth type `staticBearer`).
    pub fn bearer(&self) -> &SecretString {
        &self.bearer
    }

    /// The receiver.
    pub fn receiver(&self) -> &Arc<CallbackReceiver> {
        &self.receiver
    }

    /// Runs `f` on what the receiver holds for this run.
    fn with<T>(&self, f: impl FnOnce(&mut RunState) -> T) -> Option<T> {
        let mut state = lock(&self.receiver.state);
        state.runs.get_mut(&self.key).map(f)
    }

    /// Accepts results for these registrants from now on (the run is sending them).
    pub fn expect(&self, ids: &[RegistrantId]) {
        self.with(|run| {
            for id in ids {
                run.expected.insert(*id);
            }
        });
    }

    /// The failures heard for these registrants, with MTS's code and message.
    pub fn failures(&self, ids: &[RegistrantId]) -> BTreeMap<RegistrantId, RecordFailure> {
        self.with(|run| {
            ids.iter()
                .filter_map(|id| Some((*id, run.failures.get(id)?.clone())))
                .collect()
        })
        .unwrap_or_default()
    }

    /// How many failures the run holds, not yet settled.
    pub fn held_failures(&self) -> usize {
        self.with(|run| run.failures.len()).unwrap_or_default()
    }

    /// Of `ids`, the registrants whose token this run's callbacks stored. Waits for the stores
    /// of them under way at the receiver to end, so that a token read back while it was still
    /// being stored is counted by the run whose callback wrote it, and by no other.
    pub async fn stored(&self, ids: &[RegistrantId]) -> BTreeSet<RegistrantId> {
        let receiver = &self.receiver;
        loop {
            let ended = receiver.stores_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            {
                let state = lock(&receiver.state);
                if !ids.iter().any(|id| state.storing.contains_key(id)) {
                    let Some(run) = state.runs.get(&self.key) else {
                        return BTreeSet::new();
                    };
                    return ids
                        .iter()
                        .filter(|id| run.stored.contains(id))
                        .copied()
                        .collect();
                }
            }
            ended.await;
        }
    }

    /// Forgets the failures and stored tokens held for these registrants: the engine has
    /// read them. Results for them are still accepted until the run ends (a replay is answered
    /// as stored).
    pub fn settle(&self, ids: &[RegistrantId]) {
        self.with(|run| {
            for id in ids {
                run.failures.remove(id);
                run.stored.remove(id);
            }
        });
    }

    /// Takes the problems seen for this run since the last call.
    pub fn take_problems(&self) -> DeliveryProblems {
        self.with(|run| std::mem::take(&mut run.problems))
            .unwrap_or_default()
    }
}

#[async_trait]
impl RunResults for ReceiverRun {
    fn hears_failures(&self) -> bool {
        true
    }

    async fn expect(&self, ids: &[RegistrantId]) -> Result<(), SinkError> {
        ReceiverRun::expect(self, ids);
        Ok(())
    }

    async fn failures(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, RecordFailure>, SinkError> {
        Ok(ReceiverRun::failures(self, ids))
    }

    async fn stored_here(
        &self,
        ids: &[RegistrantId],
    ) -> Result<Option<BTreeSet<RegistrantId>>, SinkError> {
        Ok(Some(self.stored(ids).await))
    }

    async fn settle(&self, ids: &[RegistrantId]) -> Result<(), SinkError> {
        ReceiverRun::settle(self, ids);
        Ok(())
    }

    async fn take_problems(&self) -> Result<DeliveryProblems, SinkError> {
        Ok(ReceiverRun::take_problems(self))
    }
}
