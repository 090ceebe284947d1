//! What a run did, accounting for every selected registrant.

use crate::ledger::{RunId, RunKind};
use crate::registry::RegistrantId;
use crate::sink::DeliveryProblems;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a run did. Every selected registrant is in exactly one of `already_tokenised`,
/// `tokenised`, `pending` and `failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The run's number in the run ledger (absent for a run without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunId>,
    /// What the run selected (absent for a run without a ledger).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<RunKind>,
    /// Registrants the filter selected.
    pub selected: u64,
    /// Selected registrants that already held a token: when selected, or when their batch was
    /// about to be submitted (someone else, another run or a person, stored it since). They
    /// were not sent.
    pub already_tokenised: u64,
    /// Records MTS accepted in a request.
    pub sent: u64,
    /// Registrants tokenised by this run: holding no token when their batch was submitted, and
    /// one when it was read back.
    pub tokenised: u64,
    /// VIDs removed (of registrants tokenised now or earlier).
    pub vids_removed: u64,
    /// Registrants with no outcome yet: the next run selects them again.
    pub pending: u64,
    /// Failures by MTS error code: held back by MTS's rules before sending, or reported by MTS;
    /// `OMC-NO-RESULT` for registrants still unanswered after the allowed attempts,
    /// `OMC-EMPTY-TOKEN-ID` for a VID beside a token id with no value.
    pub failed: BTreeMap<String, u64>,
    /// Of `failed`, registrants that failed in an earlier run and whose record has not changed
    /// since: not sent again.
    pub failed_unchanged: u64,
    /// The VIDs removed from registrants that already held a token before this run.
    pub cleanup: CleanupReport,
    /// MTS requests made.
    pub requests: u64,
    /// Batches that failed as a whole, by MTS error code or OMC's reason (`batch task
    /// panicked` for a batch whose task panicked: its registrants are pending).
    pub batch_errors: BTreeMap<String, u64>,
    /// Callbacks (and logins) a receiving sink refused, by reason (for example a wrong
    /// password: MTS ignores the refusal, so the report is where it shows).
    pub refused_callbacks: BTreeMap<String, u64>,
    /// Registrants that already held a different token than MTS delivered: not overwritten.
    pub conflicts: Vec<RegistrantId>,
    /// Registrants sharing one token (one person registered more than once).
    pub duplicate_groups: Vec<Vec<RegistrantId>>,
    /// Why the run submitted nothing more before the end of its selection, if it stopped
    /// early: cancelled ([`CANCELLED`](super::CANCELLED)), MTS not reachable, or callbacks
    /// not arriving ([`CALLBACKS_NOT_ARRIVING`](super::CALLBACKS_NOT_ARRIVING)). What it
    /// selected and did not send is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Wall time of the run.
    pub seconds: f64,
}

impl RunReport {
    /// Counts one failure with `code`.
    pub(crate) fn fail(&mut self, code: &str) {
        *self.failed.entry(code.to_owned()).or_default() += 1;
    }

    /// The number of failed registrants.
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Whether every selected registrant is accounted for exactly once.
    pub fn is_balanced(&self) -> bool {
        self.selected
            == self.already_tokenised + self.tokenised + self.pending + self.failed_total()
    }

    /// Copies what a receiving sink saw into the report.
    pub(crate) fn absorb(&mut self, problems: DeliveryProblems) {
        for (reason, n) in problems.refused {
            *self.refused_callbacks.entry(reason).or_default() += n;
        }
        self.conflicts.extend(problems.conflicts);
        self.duplicate_groups.extend(problems.duplicate_groups);
    }

    pub(crate) fn merge(&mut self, batch: BatchOutcome) {
        self.sent += batch.sent;
        self.tokenised += batch.tokenised;
        self.already_tokenised += batch.already_tokenised;
        self.vids_removed += batch.vids_removed;
        self.pending += batch.pending;
        self.requests += batch.requests;
        for (code, n) in batch.failed {
            *self.failed.entry(code).or_default() += n;
        }
        if let Some(error) = batch.error {
            *self.batch_errors.entry(error).or_default() += 1;
        }
    }
}

/// The VIDs of registrants already holding a token (selected by the cleanup filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    /// Registrants the cleanup filter selected.
    pub selected: u64,
    /// VIDs removed: their registrant holds a token.
    pub vids_removed: u64,
    /// VIDs kept because the registrant's token id has no value (not a token).
    pub kept_beside_empty_token_id: u64,
}

/// What one batch did.
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    pub(crate) sent: u64,
    pub(crate) tokenised: u64,
    pub(crate) already_tokenised: u64,
    pub(crate) vids_removed: u64,
    pub(crate) pending: u64,
    pub(crate) requests: u64,
    pub(crate) failed: BTreeMap<String, u64>,
    pub(crate) error: Option<String>,
}
