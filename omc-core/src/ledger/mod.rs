//! The run ledger: what OMC remembers between runs, beside the registry.
//!
//! The registry stays the one source of truth for tokens and VIDs; the ledger holds what the
//! registry cannot: every run (kind, start, end, outcome, its report, the watermark it used),
//! and per registrant what is still open — sent and pending (since when, after how many
//! attempts), or failed (MTS's code, when, and the registrant's write dates then, so that it is
//! sent again only when its record changes). A registrant's row is dropped once it is
//! tokenised, and run rows are pruned after a retention period, so the ledger stays bounded.
//!
//! Implementations: [`MemoryLedger`] (embedders' tests) and, behind the `sqlite` feature,
//! `SqliteLedger` (a file, crash-safe, nothing to install). Runs on one ledger never overlap:
//! each takes the ledger's [`lock`](RunLedger::lock) first.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryLedger;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteLedger;

use crate::registry::{RegistrantId, WriteDates};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// What a run selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunKind {
    /// Every registrant the filter selects.
    Full,
    /// The registrants the filter selects that changed since the watermark, plus the pending.
    Delta,
    /// A manual import: exactly the registrants an operator named.
    Import,
}

impl RunKind {
    /// The kind's name as the ledger and reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Delta => "delta",
            Self::Import => "import",
        }
    }

    /// Reads a kind's name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(Self::Full),
            "delta" => Some(Self::Delta),
            "import" => Some(Self::Import),
            _ => None,
        }
    }
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's number in its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunOutcome {
    /// Not ended yet (or its process died: see [`RunLedger::interrupt_unfinished`]).
    Running,
    /// Ran to its end (registrants may still be pending: the report says).
    Completed,
    /// Stopped by an error (the report holds what it did until then).
    Failed,
    /// Stopped from outside (a signal, a crash) before its end.
    Interrupted,
}

impl RunOutcome {
    /// The outcome's name as the ledger writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    /// Reads an outcome's name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(Self::Running),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            "interrupted" => Some(Self::Interrupted),
            _ => None,
        }
    }
}

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run as the ledger remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its number.
    pub id: RunId,
    /// What it selected.
    pub kind: RunKind,
    /// When it started (OMC's clock).
    pub started: Timestamp,
    /// When it ended; `None` while running (or when its process died).
    pub ended: Option<Timestamp>,
    /// How it ended.
    pub outcome: RunOutcome,
    /// For a delta, the `write_date` from which it selected changes.
    pub watermark: Option<Timestamp>,
    /// Its report (a `RunReport` as JSON), once it ended.
    pub report: Option<serde_json::Value>,
    /// Why it failed or was interrupted (no personal data).
    pub error: Option<String>,
}

/// What the ledger holds for one registrant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum EntryState {
    /// Sent, no outcome yet.
    Pending {
        /// When it was first sent without an outcome since.
        since: Timestamp,
        /// Attempts that counted: batches MTS processed in which others were tokenised.
        attempts: u32,
    },
    /// Failed: not sent again until its record changes (or an import names it).
    Failed {
        /// MTS's error code, or OMC's (`OMC-NO-RESULT`).
        code: String,
        /// When it failed.
        at: Timestamp,
        /// The registrant's write dates when it failed.
        written: WriteDates,
    },
}

/// One change to a registrant's entry; a batch of them is applied at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryUpdate {
    /// Sent to MTS at `at`: pending (keeping `since` and `attempts` if it already was).
    Sent {
        /// The registrant.
        id: RegistrantId,
        /// When.
        at: Timestamp,
    },
    /// Tokenised (or found holding a token): its entry is dropped.
    Done {
        /// The registrant.
        id: RegistrantId,
    },
    /// Failed with `code`.
    Failed {
        /// The registrant.
        id: RegistrantId,
        /// MTS's code, or OMC's.
        code: String,
        /// When.
        at: Timestamp,
        /// Its write dates then.
        written: WriteDates,
    },
    /// Sent, and no result came: still pending; `counted` adds one attempt.
    Unanswered {
        /// The registrant.
        id: RegistrantId,
        /// When (the pending entry's `since` if it had none).
        at: Timestamp,
        /// Whether this attempt counts (MTS processed the batch and others in it were
        /// tokenised): batches lost whole count for no one.
        counted: bool,
    },
}

/// How many registrants the ledger holds open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// Registrants sent and still pending.
    pub pending: u64,
    /// Failed registrants by code.
    pub failed: BTreeMap<String, u64>,
}

/// Who holds a ledger's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// The holding process.
    pub pid: u32,
    /// What it runs (`omc run`, `omc import`, a service's name).
    pub what: String,
    /// Since when.
    pub since: Timestamp,
}

impl LockHolder {
    /// This process, running `what`.
    pub fn this_process(what: impl Into<String>, since: Timestamp) -> Self {
        Self {
            pid: std::process::id(),
            what: what.into(),
            since,
        }
    }
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "process {} ({}, since {} UTC)",
            self.pid, self.what, self.since
        )
    }
}

/// A held ledger lock; dropping it releases the lock.
pub struct LedgerLock {
    _release: Box<dyn Send + Sync>,
}

impl LedgerLock {
    /// A lock released by dropping `release` (for implementations of [`RunLedger`]).
    pub fn new(release: impl Send + Sync + 'static) -> Self {
        Self {
            _release: Box::new(release),
        }
    }
}

impl fmt::Debug for LedgerLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerLock")
    }
}

/// Why the ledger could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Another run holds the ledger's lock: runs on one ledger never overlap.
    #[error("another run holds the ledger: {holder}; wait for it to end, or stop it")]
    Locked {
        /// Who holds it.
        holder: LockHolder,
    },
    /// The ledger's storage failed (a file that cannot be opened or written, a full disk).
    #[error("the run ledger {location} failed: {message}")]
    Storage {
        /// The ledger (a file path, or `memory`).
        location: String,
        /// What failed.
        message: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// What OMC remembers between runs.
///
/// Every method is atomic: a process killed during any call leaves the ledger as it was before
/// the call or after it. The [`Runner`](crate::runs::Runner) calls
/// [`interrupt_unfinished`](Self::interrupt_unfinished) under the lock before each run, so a
/// run whose process died shows as interrupted and never moves the watermark.
#[async_trait]
pub trait RunLedger: fmt::Debug + Send + Sync + 'static {
    /// Takes the ledger's lock for `holder`, or refuses with [`LedgerError::Locked`] naming the
    /// process that holds it. The lock is released when the returned value is dropped, and
    /// when the holding process dies.
    async fn lock(&self, holder: LockHolder) -> Result<LedgerLock, LedgerError>;

    /// Who holds the lock now, if anyone (read without taking it).
    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError>;

    /// Records the start of a run and returns its number.
    async fn begin_run(
        &self,
        kind: RunKind,
        started: Timestamp,
        watermark: Option<Timestamp>,
    ) -> Result<RunId, LedgerError>;

    /// Records the end of a run: its outcome, its report, and why it did not complete. A run
    /// the ledger does not hold is an error.
    async fn finish_run(
        &self,
        id: RunId,
        ended: Timestamp,
        outcome: RunOutcome,
        report: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<(), LedgerError>;

    /// Marks every run still `running` as interrupted (their processes died); returns how many.
    async fn interrupt_unfinished(&self, at: Timestamp) -> Result<u64, LedgerError>;

    /// The last `limit` runs, newest first.
    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError>;

    /// The newest completed run of one of `kinds`.
    async fn last_completed(&self, kinds: &[RunKind]) -> Result<Option<RunRecord>, LedgerError>;

    /// Applies a batch of entry updates at once.
    async fn apply(&self, updates: &[EntryUpdate]) -> Result<(), LedgerError>;

    /// The entries of the given registrants; registrants without one are absent.
    async fn entries(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, EntryState>, LedgerError>;

    /// Up to `limit` pending registrants with ids greater than `after`, ascending.
    async fn pending(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<RegistrantId>, LedgerError>;

    /// Up to `limit` failed registrants with ids greater than `after`, ascending, with codes.
    async fn failed(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<(RegistrantId, String)>, LedgerError>;

    /// How many registrants are pending, and failed by code.
    async fn summary(&self) -> Result<LedgerSummary, LedgerError>;

    /// Drops the runs that ended before `before`, except the newest completed run of each kind
    /// (the delta's watermark and the full sweep's reference); returns how many. Run numbers
    /// are never reused.
    async fn prune_runs(&self, before: Timestamp) -> Result<u64, LedgerError>;
}

/// A ledger chosen at run time.
pub type DynRunLedger = Arc<dyn RunLedger>;

/// Applies one update to an entry map (shared by the in-memory ledger and tests).
pub(crate) fn apply_one(entries: &mut BTreeMap<RegistrantId, EntryState>, update: &EntryUpdate) {
    match update {
        EntryUpdate::Sent { id, at } => {
            if !matches!(entries.get(id), Some(EntryState::Pending { .. })) {
                entries.insert(
                    *id,
                    EntryState::Pending {
                        since: *at,
                        attempts: 0,
                    },
                );
            }
        }
        EntryUpdate::Done { id } => {
            entries.remove(id);
        }
        EntryUpdate::Failed {
            id,
            code,
            at,
            written,
        } => {
            entries.insert(
                *id,
                EntryState::Failed {
                    code: code.clone(),
                    at: *at,
                    written: written.clone(),
                },
            );
        }
        EntryUpdate::Unanswered { id, at, counted } => match entries.get_mut(id) {
            Some(EntryState::Pending { attempts, .. }) => {
                if *counted {
                    *attempts = attempts.saturating_add(1);
                }
            }
            Some(EntryState::Failed { .. }) => {}
            None => {
                entries.insert(
                    *id,
                    EntryState::Pending {
                        since: *at,
                        attempts: u32::from(*counted),
                    },
                );
            }
        },
    }
}
