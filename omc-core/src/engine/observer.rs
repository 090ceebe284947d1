//! What a run tells whoever keeps its memory (the run ledger), batch by batch.

use crate::registry::{RegistrantId, WriteDates};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;

/// How a set of registrants settled: after a batch's wait, or at selection (held back by MTS's
/// rules, found already holding a token).
#[derive(Debug, Default)]
pub struct Settled {
    /// Tokenised now, or found holding a token.
    pub tokenised: Vec<RegistrantId>,
    /// Failed, with MTS's code (or OMC's), and their write dates when selected.
    pub failed: Vec<(RegistrantId, String, WriteDates)>,
    /// Sent, and no result came: still pending, with their write dates when selected.
    pub unanswered: Vec<(RegistrantId, WriteDates)>,
    /// Whether this counts as an attempt for the unanswered: MTS processed the batch and others
    /// in it were tokenised. A batch lost whole (MTS down, callbacks not arriving) counts for
    /// no one, so an outage never fails a population.
    pub counted: bool,
}

/// Follows a run's registrants: the engine asks it which selected registrants to leave out,
/// and tells it what was sent and how each batch settled.
///
/// The run ledger's runner implements it; an engine run without one keeps nothing.
#[async_trait]
pub trait RunObserver: fmt::Debug + Send + Sync {
    /// Of these selected registrants (each with its write dates), those not to send, with the
    /// code they failed with earlier (their record unchanged since).
    async fn screen(
        &self,
        selected: &[(RegistrantId, &WriteDates)],
    ) -> BTreeMap<RegistrantId, String>;

    /// These registrants were sent to MTS in one accepted request.
    async fn sent(&self, ids: &[RegistrantId]);

    /// How a set of registrants settled. Returns the unanswered registrants that are now
    /// failed (no result after the allowed attempts): the engine reports them as failed with
    /// [`NO_RESULT`] instead of pending.
    async fn settled(&self, settled: Settled) -> Vec<RegistrantId>;
}

/// The code of a registrant that stayed pending after the allowed attempts.
pub const NO_RESULT: &str = "OMC-NO-RESULT";

/// The code of a registrant holding a VID beside a token id with no value: not sent (a token
/// could not be stored beside it) and its VID kept.
pub const EMPTY_TOKEN_ID: &str = "OMC-EMPTY-TOKEN-ID";
