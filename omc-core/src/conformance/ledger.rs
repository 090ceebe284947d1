//! The conformance suite for [`RunLedger`] implementations.
//!
//! Each case runs on a fresh, empty ledger; every failure names what the ledger did and what
//! the contract wants.

use super::{Case, Suite, SuiteReport};
use crate::ledger::{
    EntryState, EntryUpdate, LedgerError, LedgerSummary, LockHolder, RunId, RunKind, RunLedger,
    RunOutcome,
};
use crate::registry::{RegistrantId, WriteDates};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

/// Panics unless `got == want`, naming the check, what the ledger did and what is wanted.
#[track_caller]
fn expect_eq<T: PartialEq + Debug>(got: T, want: T, check: &str) {
    assert!(
        got == want,
        "{check}: the ledger gave {got:?}, the contract wants {want:?}"
    );
}

fn id(n: i64) -> RegistrantId {
    RegistrantId(n)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp(1_700_000_000 + seconds)
}

fn written(partner: &str) -> WriteDates {
    WriteDates {
        partner: Some(partner.into()),
        ids: None,
    }
}

fn pending(since: i64, attempts: u32) -> EntryState {
    EntryState::Pending {
        since: at(since),
        attempts,
    }
}

fn failed(code: &str, when: i64, partner: &str) -> EntryState {
    EntryState::Failed {
        code: code.into(),
        at: at(when),
        written: written(partner),
    }
}

fn fail_update(n: i64, code: &str, when: i64, partner: &str) -> EntryUpdate {
    EntryUpdate::Failed {
        id: id(n),
        code: code.into(),
        at: at(when),
        written: written(partner),
    }
}

fn sent(n: i64, when: i64) -> EntryUpdate {
    EntryUpdate::Sent {
        id: id(n),
        at: at(when),
    }
}

fn unanswered(n: i64, when: i64, counted: bool) -> EntryUpdate {
    EntryUpdate::Unanswered {
        id: id(n),
        at: at(when),
        counted,
    }
}

fn done(n: i64) -> EntryUpdate {
    EntryUpdate::Done { id: id(n) }
}

async fn begin(ledger: &dyn RunLedger, kind: RunKind, start: i64) -> RunId {
    let started = at(start);
    ledger
        .begin_run(kind, started, None)
        .await
        .expect("begin_run")
}

async fn finish(ledger: &dyn RunLedger, run: RunId, end: i64, outcome: RunOutcome) {
    let report = json!({});
    let result = ledger
        .finish_run(run, at(end), outcome, &report, None)
        .await;
    result.expect("finish_run");
}

async fn run_ids(ledger: &dyn RunLedger, limit: usize) -> Vec<RunId> {
    let runs = ledger.runs(limit).await.expect("runs");
    runs.iter().map(|r| r.id).collect()
}

async fn entry(ledger: &dyn RunLedger, n: i64) -> Option<EntryState> {
    let mut found = ledger.entries(&[id(n)]).await.expect("entries");
    found.remove(&id(n))
}

/// What the suite needs: empty ledgers. A closure `Fn() -> impl Future<Output =
/// Arc<dyn RunLedger>>` is a harness.
#[async_trait]
pub trait LedgerHarness: Send + Sync + 'static {
    /// A fresh, empty ledger (called once per case).
    async fn ledger(&self) -> Arc<dyn RunLedger>;
}

#[async_trait]
impl<F, Fut> LedgerHarness for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Arc<dyn RunLedger>> + Send + 'static,
{
    async fn ledger(&self) -> Arc<dyn RunLedger> {
        self().await
    }
}

/// Runs every case, each on a fresh ledger `harness` makes.
pub async fn run(harness: impl LedgerHarness) -> SuiteReport {
    suite()
        .run(Arc::new(harness) as Arc<dyn LedgerHarness>)
        .await
}

/// Runs the suite and panics, listing every failing case with its message, unless all pass;
/// otherwise answers the report.
pub async fn run_ledger_suite(harness: impl LedgerHarness) -> SuiteReport {
    let report = run(harness).await;
    report.assert_passed();
    report
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

/// A case running `part` on a fresh ledger; `part` panics, naming the check, on a failure.
macro_rules! case {
    ($name:literal, $part:ident) => {
        Case::new($name, |harness: Arc<dyn LedgerHarness>| async move {
            let ledger = harness.ledger().await;
            $part(ledger.as_ref()).await;
            Ok(())
        })
    };
}

fn suite() -> Suite<dyn LedgerHarness> {
    Suite::new(
        "RunLedger",
        vec![
            case!("runs_are_recorded_newest_first", runs_are_recorded),
            case!(
                "the_last_completed_run_skips_the_unfinished",
                last_completed_skips_the_unfinished
            ),
            case!(
                "interrupting_marks_only_running_runs",
                interrupt_marks_only_running_runs
            ),
            case!(
                "pruning_drops_only_runs_ended_before_and_keeps_the_watermark",
                prune_drops_only_runs_ended_before
            ),
            case!(
                "each_update_changes_an_entry_as_the_contract_says",
                updates_follow_the_contract
            ),
            case!(
                "a_batch_of_updates_applies_in_order",
                a_batch_applies_in_order
            ),
            case!(
                "pending_and_failed_page_by_id_and_the_summary_counts_them",
                pages_and_summary
            ),
            case!("the_lock_admits_one_holder", the_lock_admits_one_holder),
        ],
    )
}

async fn runs_are_recorded(ledger: &dyn RunLedger) {
    expect_eq(
        ledger.runs(10).await.expect("runs").len(),
        0,
        "runs of an empty ledger",
    );
    let first = begin(ledger, RunKind::Full, 0).await;
    let second = ledger
        .begin_run(RunKind::Delta, at(10), Some(at(-100)))
        .await
        .expect("begin");
    let third = begin(ledger, RunKind::Import, 20).await;
    assert!(
        first < second && second < third,
        "run numbers: the ledger gave {first}, {second}, {third}; the contract wants them rising"
    );
    let report = json!({"selected": 3, "counts": {"tokenised": 2}, "notes": ["a", null]});
    ledger
        .finish_run(first, at(5), RunOutcome::Completed, &report, None)
        .await
        .expect("finish");
    ledger
        .finish_run(
            second,
            at(15),
            RunOutcome::Failed,
            &json!({}),
            Some("MTS unreachable"),
        )
        .await
        .expect("finish");

    let runs = ledger.runs(10).await.expect("runs");
    let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
    expect_eq(ids, vec![third, second, first], "runs(10), newest first");
    let ids = run_ids(ledger, 2).await;
    expect_eq(ids, vec![third, second], "runs(2): the two newest");
    expect_eq(run_ids(ledger, 0).await, vec![], "runs(0)");

    let (r3, r2, r1) = (&runs[0], &runs[1], &runs[2]);
    expect_eq(
        (r1.kind, r1.started, r1.ended, r1.outcome, r1.watermark),
        (
            RunKind::Full,
            at(0),
            Some(at(5)),
            RunOutcome::Completed,
            None,
        ),
        "a completed full run's kind, start, end, outcome, watermark",
    );
    expect_eq(
        r1.report.as_ref(),
        Some(&report),
        "a run's report, read back",
    );
    expect_eq(r1.error.as_deref(), None, "a completed run's error");
    expect_eq(
        (r2.kind, r2.outcome, r2.watermark, r2.error.as_deref()),
        (
            RunKind::Delta,
            RunOutcome::Failed,
            Some(at(-100)),
            Some("MTS unreachable"),
        ),
        "a failed delta run's kind, outcome, watermark, error",
    );
    expect_eq(
        (r3.kind, r3.ended, r3.outcome, r3.report.as_ref()),
        (RunKind::Import, None, RunOutcome::Running, None),
        "a running import's kind, end, outcome, report",
    );
    let unknown = RunId(third.0 + 1000);
    let result = ledger
        .finish_run(unknown, at(30), RunOutcome::Completed, &json!({}), None)
        .await;
    assert!(
        result.is_err(),
        "finishing a run the ledger does not hold: the ledger gave Ok, the contract wants an error"
    );
}

async fn last_completed_skips_the_unfinished(ledger: &dyn RunLedger) {
    let last = |kinds: &'static [RunKind]| async move {
        let run = ledger.last_completed(kinds).await.expect("last_completed");
        run.map(|r| r.id)
    };
    expect_eq(
        last(&[RunKind::Full]).await,
        None,
        "last full run, none yet",
    );
    let full = begin(ledger, RunKind::Full, 0).await;
    finish(ledger, full, 5, RunOutcome::Completed).await;
    let delta = begin(ledger, RunKind::Delta, 10).await;
    finish(ledger, delta, 15, RunOutcome::Completed).await;
    let failed = begin(ledger, RunKind::Delta, 20).await;
    finish(ledger, failed, 25, RunOutcome::Failed).await;
    let interrupted = begin(ledger, RunKind::Full, 30).await;
    finish(ledger, interrupted, 35, RunOutcome::Interrupted).await;
    begin(ledger, RunKind::Delta, 40).await;
    let import = begin(ledger, RunKind::Import, 50).await;
    finish(ledger, import, 55, RunOutcome::Failed).await;

    let check = "last completed full run (a newer one was interrupted)";
    expect_eq(last(&[RunKind::Full]).await, Some(full), check);
    let check = "last completed delta (newer ones failed or are running)";
    expect_eq(last(&[RunKind::Delta]).await, Some(delta), check);
    let check = "last completed full or delta run";
    expect_eq(
        last(&[RunKind::Full, RunKind::Delta]).await,
        Some(delta),
        check,
    );
    let check = "last completed import (it failed)";
    expect_eq(last(&[RunKind::Import]).await, None, check);
    expect_eq(last(&[]).await, None, "last completed run of no kind");
    let record = ledger.last_completed(&[RunKind::Delta]).await;
    let record = record
        .expect("last_completed")
        .map(|r| (r.outcome, r.ended));
    let check = "the last completed delta's outcome and end";
    expect_eq(record, Some((RunOutcome::Completed, Some(at(15)))), check);
}

async fn interrupt_marks_only_running_runs(ledger: &dyn RunLedger) {
    let done = begin(ledger, RunKind::Full, 0).await;
    finish(ledger, done, 5, RunOutcome::Completed).await;
    let a = begin(ledger, RunKind::Delta, 10).await;
    let b = begin(ledger, RunKind::Import, 20).await;
    let n = ledger.interrupt_unfinished(at(30)).await;
    expect_eq(
        n.expect("interrupt"),
        2,
        "runs interrupted (two were running)",
    );
    let runs = ledger.runs(10).await.expect("runs");
    let runs: BTreeMap<RunId, _> = runs.into_iter().map(|r| (r.id, r)).collect();
    for run in [a, b] {
        let r = &runs[&run];
        let check = "an interrupted run's outcome and end";
        expect_eq(
            (r.outcome, r.ended),
            (RunOutcome::Interrupted, Some(at(30))),
            check,
        );
        assert!(
            r.error.is_some(),
            "an interrupted run's error: the ledger gave none, the contract wants a reason"
        );
    }
    let r = &runs[&done];
    let check = "a completed run after interrupt_unfinished (unchanged)";
    expect_eq(
        (r.outcome, r.ended),
        (RunOutcome::Completed, Some(at(5))),
        check,
    );
    let n = ledger.interrupt_unfinished(at(40)).await;
    expect_eq(n.expect("interrupt"), 0, "runs interrupted a second time");
}

async fn prune_drops_only_runs_ended_before(ledger: &dyn RunLedger) {
    let mut ended = Vec::new();
    for end in [10, 20, 30] {
        let run = begin(ledger, RunKind::Full, end - 5).await;
        finish(ledger, run, end, RunOutcome::Completed).await;
        ended.push(run);
    }
    let running = begin(ledger, RunKind::Delta, 0).await;
    let n = ledger.prune_runs(at(20)).await.expect("prune_runs");
    let check = "runs pruned before the second's end (only the first ended before)";
    expect_eq(n, 1, check);
    let check = "runs left after pruning (a running run has no end and stays)";
    let want = vec![running, ended[2], ended[1]];
    expect_eq(run_ids(ledger, 10).await, want, check);
    let n = ledger.prune_runs(at(1000)).await.expect("prune_runs");
    expect_eq(
        n,
        1,
        "runs pruned later (the ended ones but the newest completed full run)",
    );
    let check = "runs left: the running one and the newest completed full run (the watermark)";
    expect_eq(run_ids(ledger, 10).await, vec![running, ended[2]], check);
    let newest = ledger
        .begin_run(RunKind::Full, at(2000), None)
        .await
        .expect("begin_run");
    expect_eq(
        newest > ended[2],
        true,
        "a run's number after pruning is greater than every earlier one",
    );
}

async fn updates_follow_the_contract(ledger: &dyn RunLedger) {
    let (jan, feb) = ("2026-01-01 00:00:00", "2026-02-02 00:00:00");
    let both = WriteDates {
        partner: Some("2026-03-03 00:00:00".into()),
        ids: Some("2026-03-04 00:00:00".into()),
    };
    let refail = EntryUpdate::Failed {
        id: id(1),
        code: "ATS-REQ-002".into(),
        at: at(50),
        written: both.clone(),
    };
    let refailed = EntryState::Failed {
        code: "ATS-REQ-002".into(),
        at: at(50),
        written: both,
    };
    // Each update in a batch of its own, then the entry it touched.
    let steps = [
        (sent(1, 0), 1, Some(pending(0, 0)), "a new Sent"),
        (
            unanswered(1, 5, true),
            1,
            Some(pending(0, 1)),
            "a counted Unanswered on a pending entry (since kept)",
        ),
        (
            unanswered(1, 6, false),
            1,
            Some(pending(0, 1)),
            "an uncounted Unanswered on a pending entry",
        ),
        (
            sent(1, 10),
            1,
            Some(pending(0, 1)),
            "Sent on a pending entry (keeps since and attempts)",
        ),
        (
            fail_update(2, "ATS-REQ-009", 20, jan),
            2,
            Some(failed("ATS-REQ-009", 20, jan)),
            "Failed stores code, time and write dates",
        ),
        (
            unanswered(2, 25, true),
            2,
            Some(failed("ATS-REQ-009", 20, jan)),
            "Unanswered on a failed entry (unchanged)",
        ),
        (
            sent(2, 30),
            2,
            Some(pending(30, 0)),
            "Sent on a failed entry (pending from now, no attempts)",
        ),
        (
            fail_update(1, "OMC-NO-RESULT", 40, feb),
            1,
            Some(failed("OMC-NO-RESULT", 40, feb)),
            "Failed on a pending entry",
        ),
        (
            refail,
            1,
            Some(refailed),
            "Failed on a failed entry (replaced)",
        ),
        (
            unanswered(3, 60, true),
            3,
            Some(pending(60, 1)),
            "a counted Unanswered on no entry",
        ),
        (
            unanswered(4, 61, false),
            4,
            Some(pending(61, 0)),
            "an uncounted Unanswered on no entry",
        ),
        (done(1), 1, None, "Done on a failed entry"),
        (done(3), 3, None, "Done on a pending entry"),
        (done(99), 99, None, "Done on no entry"),
    ];
    for (update, n, want, check) in steps {
        ledger.apply(&[update]).await.expect(check);
        expect_eq(entry(ledger, n).await, want, check);
    }
    ledger.apply(&[]).await.expect("an empty batch");
    let found = ledger
        .entries(&[id(1), id(2), id(3), id(4), id(99)])
        .await
        .expect("entries");
    let want = BTreeMap::from([(id(2), pending(30, 0)), (id(4), pending(61, 0))]);
    expect_eq(
        found,
        want,
        "entries of five registrants (those without one left out)",
    );
    let none = ledger.entries(&[]).await.expect("entries");
    expect_eq(none.len(), 0, "entries of no registrant");
}

async fn a_batch_applies_in_order(ledger: &dyn RunLedger) {
    let jan = "2026-01-01 00:00:00";
    let batch = [
        sent(1, 1),
        unanswered(1, 9, true),
        unanswered(1, 9, true),
        fail_update(2, "ATS-REQ-009", 2, jan),
        done(2),
        done(3),
        fail_update(3, "OMC-NO-RESULT", 3, jan),
        sent(3, 4),
    ];
    ledger.apply(&batch).await.expect("apply");
    let found = ledger
        .entries(&[id(1), id(2), id(3)])
        .await
        .expect("entries");
    let want = BTreeMap::from([(id(1), pending(1, 2)), (id(3), pending(4, 0))]);
    expect_eq(found, want, "one batch, each update seeing those before it");
}

async fn pages_and_summary(ledger: &dyn RunLedger) {
    expect_eq(
        ledger.summary().await.expect("summary"),
        LedgerSummary::default(),
        "empty",
    );
    // 1..=30: multiples of 3 failed (code by parity), the others pending.
    let updates: Vec<EntryUpdate> = (1..=30)
        .map(|n| match n % 3 {
            0 => fail_update(
                n,
                if n % 2 == 0 { "B" } else { "A" },
                n,
                "2026-01-01 00:00:00",
            ),
            _ => sent(n, n),
        })
        .collect();
    ledger.apply(&updates).await.expect("apply");
    let all_pending: Vec<RegistrantId> = (1..=30).filter(|n| n % 3 != 0).map(id).collect();
    let all_failed: Vec<(RegistrantId, String)> = (1..=30)
        .filter(|n| n % 3 == 0)
        .map(|n| (id(n), if n % 2 == 0 { "B" } else { "A" }.to_owned()))
        .collect();

    let mut got = Vec::new();
    let mut after = None;
    // At most as many pages as 20 pending entries fill, and the empty one.
    for _ in 0..=6 {
        let page = ledger.pending(after, 4).await.expect("pending");
        assert!(
            page.len() <= 4,
            "pending(_, 4): the ledger gave {} ids, the contract wants at most 4",
            page.len()
        );
        if let (Some(after), Some(first)) = (after, page.first()) {
            assert!(
                *first > after,
                "pending with `after` = {after}: the ledger's page starts at {first}, the \
                 contract wants only ids greater than `after`"
            );
        }
        let Some(last) = page.last() else { break };
        after = Some(*last);
        got.extend(page);
        tokio::task::yield_now().await;
    }
    expect_eq(
        got,
        all_pending.clone(),
        "pending in pages of 4, ascending, no overlap",
    );
    expect_eq(
        ledger.pending(Some(id(10)), 3).await.expect("pending"),
        vec![id(11), id(13), id(14)],
        "pending after 10, 3 of them",
    );
    expect_eq(
        ledger.pending(None, 0).await.expect("pending"),
        vec![],
        "pending with limit 0",
    );
    expect_eq(
        ledger.pending(Some(id(30)), 10).await.expect("pending"),
        vec![],
        "pending after the last",
    );
    expect_eq(
        ledger.pending(None, 100).await.expect("pending"),
        all_pending,
        "pending in one page",
    );
    expect_eq(
        ledger.failed(None, 100).await.expect("failed"),
        all_failed.clone(),
        "failed in one page, with codes",
    );
    expect_eq(
        ledger.failed(Some(id(9)), 2).await.expect("failed"),
        all_failed[3..5].to_vec(),
        "failed after 9, 2 of them",
    );
    expect_eq(
        ledger.failed(Some(id(29)), 5).await.expect("failed"),
        vec![(id(30), "B".to_owned())],
        "failed after 29",
    );
    let want = LedgerSummary {
        pending: 20,
        failed: BTreeMap::from([("A".to_owned(), 5), ("B".to_owned(), 5)]),
    };
    expect_eq(
        ledger.summary().await.expect("summary"),
        want,
        "summary of 20 pending, 10 failed",
    );
    ledger.apply(&[done(1), done(6)]).await.expect("apply");
    let want = LedgerSummary {
        pending: 19,
        failed: BTreeMap::from([("A".to_owned(), 5), ("B".to_owned(), 4)]),
    };
    expect_eq(
        ledger.summary().await.expect("summary"),
        want,
        "summary after two Done",
    );
}

async fn the_lock_admits_one_holder(ledger: &dyn RunLedger) {
    expect_eq(
        ledger.holder().await.expect("holder"),
        None,
        "holder of a free lock",
    );
    let first = LockHolder {
        pid: 4242,
        what: "omc run".into(),
        since: at(0),
    };
    let guard = ledger
        .lock(first.clone())
        .await
        .expect("lock a free ledger");
    expect_eq(
        ledger.holder().await.expect("holder"),
        Some(first.clone()),
        "holder while locked",
    );
    let second = LockHolder::this_process("omc import", at(5));
    match ledger.lock(second.clone()).await {
        Err(LedgerError::Locked { holder }) => expect_eq(
            (holder.pid, holder.what),
            (first.pid, first.what.clone()),
            "the holder a refused lock names",
        ),
        Err(e) => panic!("a second lock: the ledger failed with {e}, the contract wants Locked"),
        Ok(_) => panic!("a second lock: the ledger granted it, the contract wants Locked"),
    }
    drop(guard);
    expect_eq(
        ledger.holder().await.expect("holder"),
        None,
        "holder after release",
    );
    let again = ledger.lock(second.clone()).await;
    assert!(
        again.is_ok(),
        "lock after the first was dropped: the ledger gave {again:?}, the contract wants it \
         granted"
    );
    expect_eq(
        ledger.holder().await.expect("holder"),
        Some(second),
        "holder after a second lock",
    );
}
