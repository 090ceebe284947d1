//! The callback path's body: parsed, checked against whom the open runs sent, stored through
//! the registry, failures and duplicate groups recorded for the runs the results belong to.

use super::auth::Caller;
use super::{CallbackReceiver, CallbackResponse, Malformed, REGISTRANT_GONE, lock, parse_results};
use crate::error::RegistryError;
use crate::registry::RegistrantId;
use crate::sink::{RecordFailure, RecordStatus, SeedResult};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The reason results for registrants no open run expects are refused with.
const NOT_SENT: &str = "registrant not sent by this connector";

impl CallbackReceiver {
    pub(super) async fn callback(&self, body: &[u8], caller: Caller) -> CallbackResponse {
        let run = match caller {
            Caller::Run(run) => Some(run),
            Caller::Session => None,
        };
        let results = match parse_results(body, &self.settings.limits) {
            Ok(results) => results,
            Err(malformed) => {
                self.refuse(&format!("malformed: {}", malformed.reason()), 0, run);
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
        // Whose each result is: the bearer's run when it expects the registrant; for a session,
        // every open run expecting it.
        let targets: BTreeMap<RegistrantId, Vec<u64>> = {
            let state = lock(&self.state);
            results
                .iter()
                .map(|r| {
                    let runs = match run {
                        Some(key) => state
                            .runs
                            .get(&key)
                            .filter(|open| open.expected.contains(r.registrant))
                            .map(|_| vec![key])
                            .unwrap_or_default(),
                        None => state.runs_expecting(r.registrant),
                    };
                    (r.registrant, runs)
                })
                .collect()
        };
        let strangers: Vec<RegistrantId> = targets
            .iter()
            .filter(|(_, runs)| runs.is_empty())
            .map(|(id, _)| *id)
            .collect();
        if !strangers.is_empty() {
            self.refuse(NOT_SENT, results.len(), run);
            return CallbackResponse::refused(
                422,
                NOT_SENT,
                format!("registrants {strangers:?} were not sent by this connector"),
            );
        }
        match self.store(&results, &targets).await {
            Ok(answer) => CallbackResponse::json(200, answer),
            Err(error) => {
                tracing::warn!(
                    results = results.len(),
                    "storing callback results failed: {error}"
                );
                self.refuse("registry unavailable", results.len(), run);
                CallbackResponse::refused(503, "registry unavailable", "retry later".into())
            }
        }
    }

    /// Stores the tokens, records the failures for the runs `targets` names, looks for
    /// duplicates; the answer's body.
    async fn store(
        &self,
        results: &[SeedResult],
        targets: &BTreeMap<RegistrantId, Vec<u64>>,
    ) -> Result<Value, RegistryError> {
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
                self.release(&claimed, &[], targets);
                return Err(e);
            }
        };
        self.release(&claimed, &stored.stored_ids, targets);
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
            let failure = if gone.contains(&r.registrant) {
                Some(RecordFailure {
                    code: REGISTRANT_GONE.into(),
                    message: "the registrant no longer exists or is archived".into(),
                })
            } else if r.status == RecordStatus::Processed {
                None
            } else {
                failed += 1;
                Some(RecordFailure {
                    code: r.error_code.clone().unwrap_or_else(|| "UNKNOWN".into()),
                    message: r.error_message.clone().unwrap_or_default(),
                })
            };
            for key in targets.get(&r.registrant).into_iter().flatten() {
                let Some(run) = state.runs.get_mut(key) else {
                    continue;
                };
                match &failure {
                    Some(failure) => run.failures.insert(r.registrant, failure.clone()),
                    None => run.failures.remove(&r.registrant),
                };
            }
        }
        // The conflicts and duplicate groups concern every run the callback's results are for.
        let concerned: BTreeSet<u64> = targets.values().flatten().copied().collect();
        let held = &mut *state;
        let runs = held
            .runs
            .iter_mut()
            .filter(|(key, _)| concerned.contains(key))
            .map(|(_, run)| &mut run.problems);
        for problems in runs.chain([&mut held.problems]) {
            problems.conflicts.extend(stored.conflicts.iter().copied());
            problems.duplicate_groups.extend(groups.iter().cloned());
        }
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
