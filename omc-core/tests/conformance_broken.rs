//! The Registry suite names every failing case: three deliberately broken registries, each
//! failing exactly the cases its fault breaks, and the one ignoring `after` within seconds.
#![cfg(feature = "conformance")]

use async_trait::async_trait;
use omc_core::conformance::registry;
use omc_core::memory::MemoryRegistry;
use omc_core::registry::{Candidate, CandidateQuery, StoreReport};
use omc_core::{IdTypes, RegistrantId, Registry, RegistryError, Token, Vid};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A fault a broken registry has.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// `candidates` answers from the start every time: `query.after` is ignored.
    IgnoresAfter,
    /// `remove_vids` reports every registrant's VID removed and removes none.
    KeepsVids,
    /// `store_tokens` counts a token a registrant already holds as newly stored.
    CountsReplaysAsStored,
}

/// A [`MemoryRegistry`] with one fault.
#[derive(Debug)]
struct Broken {
    inner: MemoryRegistry,
    fault: Fault,
}

#[async_trait]
impl Registry for Broken {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError> {
        let mut query = query.clone();
        if let Fault::IgnoresAfter = self.fault {
            query.after = None;
        }
        self.inner.candidates(&query).await
    }

    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError> {
        self.inner.tokens(ids).await
    }

    async fn store_tokens(
        &self,
        tokens: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError> {
        let mut report = self.inner.store_tokens(tokens).await?;
        if let Fault::CountsReplaysAsStored = self.fault {
            report.stored += report.unchanged;
            report.unchanged = 0;
        }
        Ok(report)
    }

    async fn store_vids(&self, vids: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError> {
        self.inner.store_vids(vids).await
    }

    async fn id_validation(&self, id_type: &str) -> Result<Option<String>, RegistryError> {
        self.inner.id_validation(id_type).await
    }

    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
        match self.fault {
            Fault::KeepsVids => Ok(ids.len()),
            _ => self.inner.remove_vids(ids).await,
        }
    }

    async fn holders(
        &self,
        tokens: &[Token],
    ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError> {
        self.inner.holders(tokens).await
    }
}

async fn suite_against(fault: Fault) -> omc_core::conformance::SuiteReport {
    registry::run(move |seeds, id_types: IdTypes| async move {
        let inner = MemoryRegistry::with_seeds(id_types, seeds);
        Arc::new(Broken { inner, fault }) as Arc<dyn Registry>
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_ignoring_after_fails_the_paging_cases_within_seconds_naming_after() {
    let report = suite_against(Fault::IgnoresAfter).await;
    let paging = [
        "pages_of_the_default_filter_ascend_without_overlap_and_leave_out_the_archived",
        "a_page_holds_only_ids_after_after_and_at_most_limit",
        "archived_registrants_are_found_when_the_filter_mentions_active",
        "a_filter_selects_only_the_registrants_it_matches",
        "a_tokenised_registrant_leaves_the_default_filter",
        "other_id_type_names_are_honoured",
    ];
    assert_eq!(report.failed(), paging, "{report}");
    for case in paging {
        let message = report.failure(case).unwrap_or_default();
        assert!(message.contains("`after`"), "{case}: {message}");
    }
    assert!(
        report.elapsed < Duration::from_secs(5),
        "the suite took {:?}: {report}",
        report.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_keeping_vids_fails_the_removal_case() {
    let report = suite_against(Fault::KeepsVids).await;
    assert_eq!(
        report.failed(),
        ["removing_vids_is_idempotent_and_keeps_the_tokens"],
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_counting_replays_as_stored_fails_the_replay_cases() {
    let report = suite_against(Fault::CountsReplaysAsStored).await;
    assert_eq!(
        report.failed(),
        [
            "a_token_is_stored_once_and_a_replay_changes_nothing",
            "stores_of_one_token_at_once_store_it_once",
        ],
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_case_of_the_registry_suite_passes_on_the_sound_registry() {
    let report = registry::run(|seeds, id_types: IdTypes| async move {
        Arc::new(MemoryRegistry::with_seeds(id_types, seeds)) as Arc<dyn Registry>
    })
    .await;
    assert_eq!(report.passed(), registry::case_names(), "{report}");
}
