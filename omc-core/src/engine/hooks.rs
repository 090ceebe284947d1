//! What an embedder hands a run besides its selection: a progress channel and a cancellation
//! token; and how the run's batches tell each other to stop.

use super::report::{BatchOutcome, RunReport};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The reason a run cancelled through [`RunHooks::with_cancel`] reports in
/// [`RunReport::stopped`].
pub const CANCELLED: &str = "cancelled: stopped selecting, finished what was sent";

/// The reason a run reports when MTS says it could not make a batch's callbacks
/// (`error_making_callback_request`: the HTTP call itself failed, e.g. connection refused).
pub const CALLBACKS_FAILED: &str = "callbacks are not arriving: MTS could not connect to the \
     callback URL (it reports error_making_callback_request): check callback.url and \
     callback.auth_url, and that MTS can reach them";

/// The reason a run reports when MTS processed a batch and none of its results arrived.
pub const CALLBACKS_NOT_ARRIVING: &str = "callbacks are not arriving: check callback.url, that \
     MTS can reach it, and the callback login";

/// A run's counts so far, as its [`RunReport`] will give them (`sent` as each batch is
/// submitted, the rest as each batch settles). Counts only: no personal data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Registrants selected so far.
    pub selected: u64,
    /// Records MTS accepted so far.
    pub sent: u64,
    /// Registrants tokenised by this run so far.
    pub tokenised: u64,
    /// Registrants found already holding a token so far.
    pub already_tokenised: u64,
    /// Registrants left pending so far.
    pub pending: u64,
    /// Registrants failed so far (all codes).
    pub failed: u64,
    /// Batches submitted to MTS whose results are not settled yet.
    pub in_flight: u64,
}

impl Progress {
    /// The counts of a report.
    pub fn of(report: &RunReport) -> Self {
        Self {
            selected: report.selected,
            sent: report.sent,
            tokenised: report.tokenised,
            already_tokenised: report.already_tokenised,
            pending: report.pending,
            failed: report.failed_total(),
            in_flight: 0,
        }
    }
}

/// What an embedder gives a run besides its selection: where to publish its progress, and a
/// token that cancels it. The default has neither.
///
/// Cancelling means "stop selecting, finish what was sent": the run reads no further page and
/// submits no new batch; batches already submitted are waited for (MTS's status, then their
/// tokens read back, each until its deadline); the registrants selected and not sent are
/// reported pending. A [`Runner`](crate::runs::Runner) records such a run as interrupted.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RunHooks {
    /// Updated as the run goes (see [`Progress`]); at the end it holds the report's counts.
    pub progress: Option<watch::Sender<Progress>>,
    /// Cancelling it stops the run as described above.
    pub cancel: Option<CancellationToken>,
}

impl RunHooks {
    /// Publishes the run's progress on `progress`.
    pub fn with_progress(mut self, progress: watch::Sender<Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Stops the run when `cancel` is cancelled.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = Some(cancel);
        self
    }
}

/// Whether a batch may be submitted now: the first batch of a run goes alone until one of its
/// results is read back, so a run whose callbacks do not arrive stops after one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// No batch is probing: the next one to submit probes.
    Free,
    /// A batch is probing; the others wait.
    Probing,
    /// Results arrive: every batch goes.
    Open,
}

/// The run's shared stop state: the embedder's cancellation, a stop the batches decide
/// (MTS not reachable, callbacks not arriving), the submissions that failed in a row, the
/// probing gate and the progress.
#[derive(Debug)]
pub(super) struct Halt {
    token: CancellationToken,
    reason: Mutex<Option<String>>,
    failures_in_a_row: AtomicU32,
    max_failures: u32,
    gate: watch::Sender<Gate>,
    progress: Option<watch::Sender<Progress>>,
}

impl Halt {
    pub(super) fn new(hooks: RunHooks, max_failures: u32) -> Self {
        let token = hooks
            .cancel
            .map_or_else(CancellationToken::new, |c| c.child_token());
        Self {
            token,
            reason: Mutex::new(None),
            failures_in_a_row: AtomicU32::new(0),
            max_failures,
            gate: watch::Sender::new(Gate::Free),
            progress: hooks.progress,
        }
    }

    /// Whether the run is stopping (cancelled, or stopped by a batch).
    pub(super) fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once the run is stopping.
    pub(super) async fn stopped(&self) {
        self.token.cancelled().await;
    }

    /// Stops the run for `reason` (the first reason given is kept).
    pub(super) fn stop(&self, reason: &str) {
        let mut held = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() && !self.token.is_cancelled() {
            tracing::warn!(reason, "no further batch is submitted");
            *held = Some(reason.to_owned());
        }
        self.token.cancel();
    }

    /// Why the run stopped, if it did.
    pub(super) fn reason(&self) -> Option<String> {
        let held = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        held.clone()
            .or_else(|| self.token.is_cancelled().then(|| CANCELLED.to_owned()))
    }

    /// A batch was submitted: MTS answers.
    pub(super) fn submitted(&self) {
        self.failures_in_a_row.store(0, Ordering::SeqCst);
    }

    /// A batch could not be submitted and MTS gave no answer: after `max_failures` in a row
    /// (0: never) the run stops.
    pub(super) fn not_answered(&self) {
        let n = self.failures_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
        if self.max_failures > 0 && n >= self.max_failures {
            self.stop(&format!(
                "MTS is not reachable: {n} submissions in a row failed"
            ));
        }
    }

    /// Waits until this batch may be submitted: `Some(true)` when it probes (goes alone),
    /// `Some(false)` when results are known to arrive, `None` when the run stopped meanwhile.
    pub(super) async fn admit(&self) -> Option<bool> {
        let mut gate = self.gate.subscribe();
        loop {
            if self.is_stopped() {
                return None;
            }
            let claimed = self.gate.send_if_modified(|g| {
                let free = *g == Gate::Free;
                if free {
                    *g = Gate::Probing;
                }
                free
            });
            if claimed {
                return Some(true);
            }
            if *gate.borrow_and_update() == Gate::Open {
                return Some(false);
            }
            tokio::select! {
                _ = gate.changed() => {}
                () = self.stopped() => return None,
            }
        }
    }

    /// The probing batch read a result back: every batch goes from now on.
    pub(super) fn open(&self) {
        self.gate.send_if_modified(|g| {
            let changed = *g != Gate::Open;
            *g = Gate::Open;
            changed
        });
    }

    /// The probing batch ended without a result read back (not submitted, nothing to send, no
    /// final status): another probes. Nothing changes once the gate is open.
    pub(super) fn release(&self) {
        self.gate.send_if_modified(|g| {
            let probing = *g == Gate::Probing;
            if probing {
                *g = Gate::Free;
            }
            probing
        });
    }

    /// Adds a settled batch's counts to the progress (its `sent` was added at submission).
    pub(super) fn settled(&self, outcome: &BatchOutcome) {
        self.publish(|p| {
            if outcome.requests > 0 {
                p.in_flight = p.in_flight.saturating_sub(1);
            }
            p.tokenised += outcome.tokenised;
            p.already_tokenised += outcome.already_tokenised;
            p.pending += outcome.pending;
            p.failed += outcome.failed.values().sum::<u64>();
        });
    }

    /// Changes the progress (nothing without a progress channel).
    pub(super) fn publish(&self, change: impl FnOnce(&mut Progress)) {
        if let Some(progress) = &self.progress {
            progress.send_modify(change);
        }
    }

    /// Sets the progress to the final report's counts.
    pub(super) fn finish(&self, report: &RunReport) {
        if let Some(progress) = &self.progress {
            progress.send_replace(Progress::of(report));
        }
    }
}
