//! The [`RunResults`](crate::sink::RunResults) suite: a run's handle on what came back. Every
//! sink's runs pass the cases that deliver nothing; the cases that deliver results as MTS would
//! are skipped for a read-back sink, whose runs hear no failure.

use super::super::check::{CaseError, call, check, check_eq, wait_for};
use super::super::{Case, CaseResult, Suite, SuiteReport};
use super::{SinkHarness, open_run, processed, refused, registrants};
use crate::registry::RegistrantId;
use crate::sink::{Delivery, SeedResult, SinkRun};
use std::sync::Arc;

/// Runs every case against `harness`.
pub async fn run(harness: impl SinkHarness) -> SuiteReport {
    suite().run(Arc::new(harness) as Arc<dyn SinkHarness>).await
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

pub(super) fn suite() -> Suite<dyn SinkHarness> {
    Suite::new(
        "RunResults",
        vec![
            Case::new(
                "a_fresh_run_holds_no_failure_and_no_stored_token",
                fresh_run_knows_nothing,
            ),
            Case::new("taking_the_problems_leaves_none_behind", problems_taken),
            Case::new(
                "a_delivered_failure_is_read_with_its_code_and_a_success_holds_none",
                failure_read,
            ),
            Case::new(
                "a_token_the_run_stored_is_reported_as_stored_by_it",
                stored_by_the_run,
            ),
            Case::new(
                "a_result_for_a_registrant_no_run_expects_is_refused_and_stores_nothing",
                stranger_refused,
            ),
            Case::new(
                "runs_sharing_the_sink_each_hear_their_own_results",
                runs_apart,
            ),
            Case::new(
                "a_finished_run_s_callbacks_are_refused",
                finished_run_refused,
            ),
        ],
    )
}

/// Delivers `results` through the harness, or skips when the run hears no results or the
/// harness cannot deliver.
async fn deliver(
    harness: &dyn SinkHarness,
    run: &SinkRun,
    delivery: &Delivery,
    results: &[SeedResult],
) -> CaseResult {
    if !run.results.hears_failures() {
        return Err(CaseError::skipped(
            "a read-back sink's runs hear no results themselves",
        ));
    }
    match harness.deliver(delivery, results).await {
        None => Err(CaseError::skipped("the harness cannot deliver results")),
        Some(Err(e)) => Err(CaseError::failed(format!(
            "delivering results as MTS would: {e}"
        ))),
        Some(Ok(())) => Ok(()),
    }
}

async fn expect(run: &SinkRun, ids: &[RegistrantId]) -> CaseResult {
    run.results.expect(ids).await.map_err(call("expect"))
}

/// Of `ids`, those the run says it stored (none when it stores nothing itself).
async fn stored_by(run: &SinkRun, ids: &[RegistrantId]) -> Result<Vec<RegistrantId>, CaseError> {
    let stored = run
        .results
        .stored_here(ids)
        .await
        .map_err(call("stored_here"))?;
    Ok(stored.unwrap_or_default().into_iter().collect())
}

/// Waits until `run` says it stored `id`'s token.
async fn wait_stored(harness: &dyn SinkHarness, run: &SinkRun, id: RegistrantId) -> CaseResult {
    wait_for(
        &format!("registrant {id}'s token, stored by the run"),
        harness.patience(),
        || async move {
            Ok(if stored_by(run, &[id]).await?.contains(&id) {
                Ok(())
            } else {
                Err("not among those the run stored".to_owned())
            })
        },
    )
    .await
}

/// Waits until `run` holds a failure for `id`; its code.
async fn wait_failure(
    harness: &dyn SinkHarness,
    run: &SinkRun,
    id: RegistrantId,
) -> Result<String, CaseError> {
    wait_for(
        &format!("the failure delivered for registrant {id}"),
        harness.patience(),
        || async move {
            let found = run
                .results
                .failures(&[id])
                .await
                .map_err(call("failures"))?;
            Ok(match found.get(&id) {
                Some(f) => Ok(f.code.clone()),
                None => Err("no failure held for it".to_owned()),
            })
        },
    )
    .await
}

async fn fresh_run_knows_nothing(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let run = open_run(harness.as_ref()).await?;
    let failures = run.results.failures(&ids).await.map_err(call("failures"))?;
    check_eq(
        failures.keys().copied().collect::<Vec<_>>(),
        vec![],
        "failures of registrants nothing was delivered for",
    )?;
    check_eq(
        stored_by(&run, &ids).await?,
        vec![],
        "registrants whose token the run stored, before anything was delivered",
    )?;
    let problems = run
        .results
        .take_problems()
        .await
        .map_err(call("take_problems"))?;
    check(problems.is_empty(), || {
        format!("a fresh run's problems: {problems:?}, the contract wants none")
    })
}

async fn problems_taken(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let run = open_run(harness.as_ref()).await?;
    // A result for a registrant the run never said it sent: a problem for a receiving sink,
    // nothing to deliver for a read-back one.
    if run.results.hears_failures()
        && let Some(Err(e)) = harness.deliver(&run.delivery, &[processed(ids[7])]).await
    {
        return Err(CaseError::failed(format!(
            "delivering results as MTS would: {e}"
        )));
    }
    let _first = run
        .results
        .take_problems()
        .await
        .map_err(call("take_problems"))?;
    let second = run
        .results
        .take_problems()
        .await
        .map_err(call("take_problems"))?;
    check(second.is_empty(), || {
        format!(
            "problems taken a second time with nothing delivered in between: the \
             implementation gave {second:?} again, the contract wants none left behind"
        )
    })
}

async fn failure_read(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let (ok, bad) = (ids[0], ids[1]);
    let run = open_run(harness.as_ref()).await?;
    expect(&run, &[ok, bad]).await?;
    let results = [processed(ok), refused(bad, "ATS-REQ-011")];
    deliver(harness.as_ref(), &run, &run.delivery, &results).await?;
    let code = wait_failure(harness.as_ref(), &run, bad).await?;
    let found = run
        .results
        .failures(&[ok])
        .await
        .map_err(call("failures"))?;
    check_eq(
        (found.contains_key(&ok), code.as_str()),
        (false, "ATS-REQ-011"),
        &format!(
            "failures after a processed result for {ok} and an invalid one for {bad}: \
             (a failure for {ok}, the code for {bad})"
        ),
    )?;
    // Once settled, a run may forget them (the contract allows, not requires, it).
    run.results.settle(&[ok, bad]).await.map_err(call("settle"))
}

async fn stored_by_the_run(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let id = ids[2];
    let run = open_run(harness.as_ref()).await?;
    expect(&run, &[id]).await?;
    deliver(harness.as_ref(), &run, &run.delivery, &[processed(id)]).await?;
    wait_stored(harness.as_ref(), &run, id).await?;
    run.results.settle(&[id]).await.map_err(call("settle"))
}

async fn stranger_refused(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let (expected, stranger) = (ids[3], ids[4]);
    let run = open_run(harness.as_ref()).await?;
    expect(&run, &[expected]).await?;
    deliver(
        harness.as_ref(),
        &run,
        &run.delivery,
        &[processed(stranger)],
    )
    .await?;
    // Delivered after the stranger: once it is heard, the stranger's callback was answered.
    deliver(
        harness.as_ref(),
        &run,
        &run.delivery,
        &[refused(expected, "ATS-REQ-009")],
    )
    .await?;
    wait_failure(harness.as_ref(), &run, expected).await?;
    check_eq(
        stored_by(&run, &[stranger]).await?,
        vec![],
        &format!(
            "registrants the run stored, after a result for {stranger}, which it never expected"
        ),
    )?;
    let problems = run
        .results
        .take_problems()
        .await
        .map_err(call("take_problems"))?;
    check(!problems.refused.is_empty(), || {
        format!(
            "the run's problems after a result for registrant {stranger}, which no run \
             expected: {problems:?}, the contract wants the callback refused and counted"
        )
    })
}

async fn runs_apart(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let (x, y) = (ids[5], ids[6]);
    let a = open_run(harness.as_ref()).await?;
    let b = open_run(harness.as_ref()).await?;
    expect(&a, &[x]).await?;
    expect(&b, &[y]).await?;
    deliver(harness.as_ref(), &a, &a.delivery, &[processed(x)]).await?;
    deliver(
        harness.as_ref(),
        &b,
        &b.delivery,
        &[refused(y, "IDA-MLC-009")],
    )
    .await?;
    wait_stored(harness.as_ref(), &a, x).await?;
    let code = wait_failure(harness.as_ref(), &b, y).await?;
    check_eq(
        code.as_str(),
        "IDA-MLC-009",
        &format!("the code of {y}'s failure"),
    )?;
    check_eq(
        stored_by(&b, &[x]).await?,
        vec![],
        &format!("registrants the second run stored, when the first run's callback stored {x}"),
    )?;
    let crossed = a.results.failures(&[y]).await.map_err(call("failures"))?;
    check_eq(
        crossed.keys().copied().collect::<Vec<_>>(),
        vec![],
        &format!("failures the first run holds, when the second run's callback failed {y}"),
    )?;
    for (which, run) in [("first", &a), ("second", &b)] {
        let problems = run
            .results
            .take_problems()
            .await
            .map_err(call("take_problems"))?;
        check(problems.refused.is_empty(), || {
            format!(
                "the {which} run's refused callbacks: {:?}, the contract wants every callback \
                 of two runs open at once accepted",
                problems.refused
            )
        })?;
    }
    Ok(())
}

async fn finished_run_refused(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let ids = registrants(harness.as_ref())?;
    let id = ids[7];
    let open = open_run(harness.as_ref()).await?;
    let finished = open_run(harness.as_ref()).await?;
    expect(&finished, &[id]).await?;
    let SinkRun { delivery, results } = finished;
    let hears = results.hears_failures();
    drop(results);
    if !hears {
        return Err(CaseError::skipped(
            "a read-back sink's runs hear no results themselves",
        ));
    }
    deliver(harness.as_ref(), &open, &delivery, &[processed(id)]).await?;
    let problems = wait_for(
        "the refusal of a finished run's callback, among the open run's problems",
        harness.patience(),
        || async {
            let problems = open
                .results
                .take_problems()
                .await
                .map_err(call("take_problems"))?;
            Ok(if problems.refused.is_empty() {
                Err(format!("{problems:?}"))
            } else {
                Ok(problems)
            })
        },
    )
    .await?;
    check_eq(
        stored_by(&open, &[id]).await?,
        vec![],
        &format!(
            "registrants the open run stored, after a finished run's callback for {id} ({problems:?})"
        ),
    )
}
