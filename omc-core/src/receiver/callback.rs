//! The callback path's body: parsed, checked against whom the connector sent, stored through
//! the registry, failures and duplicate groups recorded.

use super::{CallbackReceiver, CallbackResponse, Malformed, REGISTRANT_GONE, lock, parse_results};
use crate::error::RegistryError;
use crate::registry::RegistrantId;
use crate::sink::{RecordFailure, RecordStatus, SeedResult};
use serde_json::{Value, json};
use std::collections::BTreeSet;

impl CallbackReceiver {
    pub(super) async fn callback(&self, body: &[u8]) -> CallbackResponse {
        let results = match parse_results(body, &self.settings.limits) {
            Ok(results) => results,
            Err(malformed) => {
                self.refuse(&format!("malformed: {}", malformed.reason()), 0);
                let status = if matches!(malformed, Malformed::TooLarge { .. }) {
                    413
                } else {
                    400
                };
                return CallbackResponse::refused(
                    status,
                    malformed.reason(),
                    malformed.to_string(),
                );
            }
        };
        let strangers: Vec<RegistrantId> = {
            let state = lock(&self.state);
            results
                .iter()
                .map(|r| r.registrant)
                .filter(|id| !state.sent.contains(*id))
                .collect()
        };
        if !strangers.is_empty() {
            self.refuse("registrant not sent by this connector", results.len());
            return CallbackResponse::refused(
                422,
                "registrant not sent by this connector",
                format!("registrants {strangers:?} were not sent by this connector"),
            );
        }
        match self.store(&results).await {
            Ok(answer) => CallbackResponse::json(200, answer),
            Err(error) => {
                tracing::warn!(
                    results = results.len(),
                    "storing callback results failed: {error}"
                );
                self.refuse("registry unavailable", results.len());
                CallbackResponse::refused(503, "registry unavailable", "retry later".into())
            }
        }
    }

    /// Stores the tokens, records the failures, looks for duplicates; the answer's body.
    async fn store(&self, results: &[SeedResult]) -> Result<Value, RegistryError> {
        let tokens: Vec<_> = results
            .iter()
            .filter_map(|r| Some((r.registrant, r.token.clone()?)))
            .collect();
        // Marked as being stored, so that the engine, reading a token back meanwhile, waits for
        // this store to say whether it wrote it.
        let claimed: Vec<RegistrantId> = tokens.iter().map(|(id, _)| *id).collect();
        self.claim(&claimed);
        let stored = match self.registry.store_tokens(&tokens).await {
            Ok(stored) => stored,
            Err(e) => {
                self.release(&claimed, &[]);
                return Err(e);
            }
        };
        self.release(&claimed, &stored.stored_ids);
        let gone: BTreeSet<RegistrantId> = stored.missing.iter().copied().collect();
        let kept: Vec<_> = tokens
            .iter()
            .filter(|(id, _)| !gone.contains(id))
            .map(|(_, t)| t.clone())
            .collect();
        let groups: BTreeSet<Vec<RegistrantId>> = match self.registry.holders(&kept).await {
            Ok(holders) => holders.into_values().filter(|h| h.len() > 1).collect(),
            Err(e) => {
                tracing::debug!("looking for duplicates failed: {e}");
                BTreeSet::new()
            }
        };
        let mut failed = 0;
        let mut state = lock(&self.state);
        for r in results {
            if gone.contains(&r.registrant) {
                state.failures.insert(
                    r.registrant,
                    RecordFailure {
                        code: REGISTRANT_GONE.into(),
                        message: "the registrant no longer exists or is archived".into(),
                    },
                );
            } else if r.status == RecordStatus::Processed {
                state.failures.remove(&r.registrant);
            } else {
                failed += 1;
                state.failures.insert(
                    r.registrant,
                    RecordFailure {
                        code: r.error_code.clone().unwrap_or_else(|| "UNKNOWN".into()),
                        message: r.error_message.clone().unwrap_or_default(),
                    },
                );
            }
        }
        state
            .problems
            .conflicts
            .extend(stored.conflicts.iter().copied());
        state
            .problems
            .duplicate_groups
            .extend(groups.iter().cloned());
        drop(state);
        tracing::debug!(
            results = results.len(),
            stored = stored.stored,
            unchanged = stored.unchanged,
            conflicts = stored.conflicts.len(),
            failed,
            duplicate_groups = groups.len(),
            "callback stored"
        );
        Ok(json!({
            "received": results.len(),
            "stored": stored.stored,
            "alreadyStored": stored.unchanged,
            "conflicts": stored.conflicts,
            "missing": stored.missing,
            "failures": failed,
            "duplicates": groups,
        }))
    }
}
