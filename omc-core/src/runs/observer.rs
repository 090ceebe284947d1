//! The run ledger as the engine's [`RunObserver`]: what each batch did, kept per registrant.

use crate::engine::{NO_RESULT, RunObserver, Settled};
use crate::ledger::{EntryState, EntryUpdate, RunLedger};
use crate::registry::{RegistrantId, WriteDates};
use crate::time::{Clock, Timestamp};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Writes a run's per-registrant outcomes to the ledger. A ledger write that fails is logged
/// and the run goes on: the registry stays the truth, and the worst a lost entry costs is one
/// more MTS request for that registrant.
#[derive(Debug)]
pub(super) struct LedgerObserver {
    pub(super) ledger: Arc<dyn RunLedger>,
    pub(super) clock: Arc<dyn Clock>,
    /// Counted attempts after which an unanswered registrant is failed.
    pub(super) max_attempts: u32,
    /// Whether registrants that failed earlier and have not changed are left out (not for a
    /// manual import, which names them).
    pub(super) screen_failed: bool,
}

impl LedgerObserver {
    async fn apply(&self, updates: &[EntryUpdate]) {
        if updates.is_empty() {
            return;
        }
        if let Err(e) = self.ledger.apply(updates).await {
            tracing::warn!(
                updates = updates.len(),
                "writing the run ledger failed: {e}"
            );
        }
    }
}

/// Whether a registrant's record is unchanged since it failed at `at`: both write dates equal,
/// and both older than the second the failure was recorded in. The registry sends write dates
/// to the second, so a record written in the failure's own second may have changed after it:
/// that one is sent once more rather than left failed.
fn unchanged(then: &WriteDates, now: &WriteDates, at: Timestamp) -> bool {
    let before = |stamp: &Option<String>| {
        stamp
            .as_deref()
            .is_none_or(|s| Timestamp::parse_odoo(s).is_some_and(|t| t < at))
    };
    then == now && before(&now.partner) && before(&now.ids)
}

#[async_trait]
impl RunObserver for LedgerObserver {
    async fn screen(
        &self,
        selected: &[(RegistrantId, &WriteDates)],
    ) -> BTreeMap<RegistrantId, String> {
        if !self.screen_failed || selected.is_empty() {
            return BTreeMap::new();
        }
        let ids: Vec<RegistrantId> = selected.iter().map(|(id, _)| *id).collect();
        let entries = match self.ledger.entries(&ids).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!("reading the run ledger failed; sending every selected: {e}");
                return BTreeMap::new();
            }
        };
        selected
            .iter()
            .filter_map(|(id, now)| match entries.get(id) {
                Some(EntryState::Failed {
                    code, written, at, ..
                }) if unchanged(written, now, *at) => Some((*id, code.clone())),
                _ => None,
            })
            .collect()
    }

    async fn sent(&self, ids: &[RegistrantId]) {
        let at = self.clock.now();
        let updates: Vec<EntryUpdate> = ids
            .iter()
            .map(|id| EntryUpdate::Sent { id: *id, at })
            .collect();
        self.apply(&updates).await;
    }

    async fn settled(&self, settled: Settled) -> Vec<RegistrantId> {
        let at = self.clock.now();
        let mut updates: Vec<EntryUpdate> = settled
            .tokenised
            .iter()
            .map(|id| EntryUpdate::Done { id: *id })
            .collect();
        updates.extend(
            settled
                .failed
                .into_iter()
                .map(|(id, code, written)| EntryUpdate::Failed {
                    id,
                    code,
                    at,
                    written,
                }),
        );
        updates.extend(
            settled
                .unanswered
                .iter()
                .map(|(id, _)| EntryUpdate::Unanswered {
                    id: *id,
                    at,
                    counted: settled.counted,
                }),
        );
        self.apply(&updates).await;
        if !settled.counted || settled.unanswered.is_empty() {
            return Vec::new();
        }
        // Those whose counted attempts reached the limit are failed now.
        let ids: Vec<RegistrantId> = settled.unanswered.iter().map(|(id, _)| *id).collect();
        let entries = match self.ledger.entries(&ids).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!("reading the run ledger failed: {e}");
                return Vec::new();
            }
        };
        let mut given_up = Vec::new();
        let mut updates = Vec::new();
        for (id, written) in settled.unanswered {
            if let Some(EntryState::Pending { attempts, .. }) = entries.get(&id)
                && *attempts >= self.max_attempts
            {
                tracing::info!(registrant = %id, attempts, "no result after the allowed attempts");
                given_up.push(id);
                updates.push(EntryUpdate::Failed {
                    id,
                    code: NO_RESULT.to_owned(),
                    at,
                    written,
                });
            }
        }
        self.apply(&updates).await;
        given_up
    }
}
