//! The ledger at a glance, as `omc status` prints it.

use super::{RunSettings, next_run};
use crate::ledger::{
    LedgerError, LedgerSummary, LockHolder, RunKind, RunLedger, RunOutcome, RunRecord,
};
use crate::time::Timestamp;
use serde_json::Value;
use std::fmt::Write;

/// What the next run will be, as `omc status` tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NextRun {
    /// Its kind.
    pub kind: RunKind,
    /// For a delta, the `write_date` it selects changes from.
    pub watermark: Option<Timestamp>,
    /// Why this kind.
    pub reason: String,
}

/// The ledger at a glance: the last runs, what is open, who holds the lock, what is next.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// The last runs, newest first.
    pub runs: Vec<RunRecord>,
    /// Pending and failed registrants.
    pub open: LedgerSummary,
    /// Who holds the lock now.
    pub holder: Option<LockHolder>,
    /// The next run of a recurring connector.
    pub next: NextRun,
}

/// The last `runs` runs of `ledger`, what is open, who holds it and what is next at `now`,
/// read without its lock. A run still marked running while nobody holds the lock has lost its process: it
/// shows as interrupted (the next run records it so).
pub async fn status(
    ledger: &dyn RunLedger,
    settings: &RunSettings,
    runs: usize,
    now: Timestamp,
) -> Result<Status, LedgerError> {
    let holder = ledger.holder().await?;
    let mut runs = ledger.runs(runs).await?;
    if holder.is_none() {
        for run in &mut runs {
            if run.outcome == RunOutcome::Running {
                run.outcome = RunOutcome::Interrupted;
            }
        }
    }
    Ok(Status {
        runs,
        open: ledger.summary().await?,
        holder,
        next: next_run(ledger, settings, now).await?,
    })
}

fn count(report: Option<&Value>, key: &str) -> u64 {
    report
        .and_then(|r| r.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The status as text: one line a run (kind, start, duration, outcome, counts, failures by
/// code), then what is open, who holds the ledger and what the next run will be.
pub fn describe(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<6}  {:<19}  {:>8}  {:<11}  {:>8} {:>9} {:>9} {:>7} {:>6}  failures",
        "run",
        "kind",
        "started (UTC)",
        "seconds",
        "outcome",
        "selected",
        "tokenised",
        "already",
        "pending",
        "failed"
    );
    for run in &status.runs {
        let report = run.report.as_ref();
        let seconds = run
            .ended
            .map_or_else(|| "-".to_owned(), |e| (e.0 - run.started.0).to_string());
        let by_code = report
            .and_then(|r| r.get("failed"))
            .and_then(Value::as_object);
        let failures: Vec<String> = by_code
            .into_iter()
            .flatten()
            .map(|(code, n)| format!("{code}×{n}"))
            .collect();
        let failed: u64 = by_code
            .into_iter()
            .flat_map(|f| f.values())
            .filter_map(Value::as_u64)
            .sum();
        let _ = writeln!(
            out,
            "{:>5}  {:<6}  {:<19}  {:>8}  {:<11}  {:>8} {:>9} {:>9} {:>7} {:>6}  {}",
            run.id.0,
            run.kind.as_str(),
            run.started.to_string(),
            seconds,
            run.outcome.as_str(),
            count(report, "selected"),
            count(report, "tokenised"),
            count(report, "already_tokenised"),
            count(report, "pending"),
            failed,
            failures.join(" "),
        );
        if let Some(error) = &run.error {
            let _ = writeln!(out, "       {error}");
        }
    }
    if status.runs.is_empty() {
        let _ = writeln!(out, "(no runs yet)");
    }
    let failed: Vec<String> = status
        .open
        .failed
        .iter()
        .map(|(code, n)| format!("{code}×{n}"))
        .collect();
    let _ = writeln!(
        out,
        "open: {} pending, {} failed{}",
        status.open.pending,
        status.open.failed.values().sum::<u64>(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(" "))
        }
    );
    match &status.holder {
        Some(holder) => {
            let _ = writeln!(out, "ledger held by {holder}");
        }
        None => {
            let _ = writeln!(out, "ledger free");
        }
    }
    let _ = writeln!(
        out,
        "next run: {} ({})",
        status.next.kind, status.next.reason
    );
    out
}
