//! Conformance suites: what every implementation of OMC's traits must do, one named case per
//! behaviour.
//!
//! | trait | suite | harness |
//! |---|---|---|
//! | [`Registry`](crate::Registry) | [`registry::run`] | [`registry::RegistryHarness`] (a closure will do) |
//! | [`TokenSeeder`](crate::TokenSeeder) | [`seeder::run`] | [`seeder::SeederHarness`] |
//! | [`CallbackSink`](crate::CallbackSink) (what MTS is told) | [`sink::delivery::run`] | [`sink::SinkHarness`] |
//! | [`RunResults`](crate::RunResults) (what came back) | [`sink::results::run`] | [`sink::SinkHarness`] (the same) |
//! | [`RunLedger`](crate::ledger::RunLedger) | [`ledger::run`] | a closure making an empty ledger |
//!
//! Each suite runs every case, even after one fails, and answers a [`SuiteReport`] listing each
//! case with its verdict; a failure's message says what the implementation did and what the
//! contract wants. Every case has a time limit ([`Limits::per_case`], 15 s by default) and the
//! whole suite ends within [`Limits::whole`] (60 s, the most it may be), whatever the
//! implementation does; a paging loop fails at the first page that does not advance past
//! `after` instead of running on. An implementer runs a suite in one call:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use omc_core::{IdTypes, Registry, memory::MemoryRegistry};
//! # async fn example() {
//! let report = omc_core::conformance::registry::run(|seeds, id_types: IdTypes| async move {
//!     Arc::new(MemoryRegistry::with_seeds(id_types, seeds)) as Arc<dyn Registry>
//! })
//! .await;
//! report.assert_passed(); // panics listing every failing case and its message
//! # }
//! ```
//!
//! Run suites on a multi-thread runtime (`#[tokio::test(flavor = "multi_thread")]`): a case is
//! a task of its own, so even an implementation that blocks its thread is timed out. Cases run
//! one after another, each on fresh data the harness makes. Messages name registrant ids,
//! counts and codes, never a VID or a token.

pub mod domain;
pub mod ledger;
pub mod registry;
pub mod seeder;
pub mod sink;

mod check;
mod report;

pub use check::CaseError;
pub use report::{CaseOutcome, SuiteReport, Verdict};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What a case's future gives: `Ok` when the implementation behaved as the contract wants.
pub type CaseResult = Result<(), CaseError>;

type CaseFuture = Pin<Box<dyn Future<Output = CaseResult> + Send>>;
type CaseFn<H> = Box<dyn Fn(Arc<H>) -> CaseFuture + Send + Sync>;

/// One behaviour of a contract: a name (a sentence in snake case) and the check.
pub struct Case<H: ?Sized> {
    name: &'static str,
    run: CaseFn<H>,
}

impl<H: ?Sized> fmt::Debug for Case<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case").field("name", &self.name).finish()
    }
}

impl<H: ?Sized + Send + Sync + 'static> Case<H> {
    /// The case `name`, checked by `run` against what the harness gives.
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: Fn(Arc<H>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CaseResult> + Send + 'static,
    {
        Self {
            name,
            run: Box::new(move |harness| Box::pin(run(harness))),
        }
    }

    /// The case's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// How long a suite may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most one case may take, its harness's setup included (default 15 s).
    pub per_case: Duration,
    /// The most the whole suite may take (default and most 60 s): cases not started by then
    /// fail as not run.
    pub whole: Duration,
}

impl Limits {
    /// The most a suite may ever take.
    pub const MOST: Duration = Duration::from_secs(60);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_case: Duration::from_secs(15),
            whole: Self::MOST,
        }
    }
}

/// A list of cases run against one harness.
pub struct Suite<H: ?Sized> {
    name: &'static str,
    cases: Vec<Case<H>>,
    limits: Limits,
}

impl<H: ?Sized> fmt::Debug for Suite<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suite")
            .field("name", &self.name)
            .field("cases", &self.cases.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl<H: ?Sized + Send + Sync + 'static> Suite<H> {
    /// The suite `name` of these cases, with the default [`Limits`].
    pub fn new(name: &'static str, cases: Vec<Case<H>>) -> Self {
        Self {
            name,
            cases,
            limits: Limits::default(),
        }
    }

    /// The same suite with other limits (the whole suite's limit is capped at
    /// [`Limits::MOST`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Limits {
            per_case: limits.per_case,
            whole: limits.whole.min(Limits::MOST),
        };
        self
    }

    /// The names of its cases, in the order they run.
    pub fn case_names(&self) -> Vec<&'static str> {
        self.cases.iter().map(|c| c.name).collect()
    }

    /// Runs every case against `harness`, one after another, each as a task of its own under
    /// its time limit, and reports each verdict. A case that panics fails with the panic's
    /// message; one over its limit is aborted and fails saying so.
    pub async fn run(&self, harness: Arc<H>) -> SuiteReport {
        let start = tokio::time::Instant::now();
        let mut outcomes = Vec::with_capacity(self.cases.len());
        for case in &self.cases {
            let case_start = tokio::time::Instant::now();
            let left = self.limits.whole.saturating_sub(start.elapsed());
            let verdict = if left.is_zero() {
                Verdict::Failed(format!(
                    "not run: the suite's {:?} were spent before it could start",
                    self.limits.whole
                ))
            } else {
                let limit = self.limits.per_case.min(left);
                run_one(case, Arc::clone(&harness), limit).await
            };
            outcomes.push(CaseOutcome {
                name: case.name,
                verdict,
                elapsed: case_start.elapsed(),
            });
        }
        SuiteReport {
            suite: self.name,
            outcomes,
            elapsed: start.elapsed(),
        }
    }
}

async fn run_one<H: ?Sized + Send + Sync + 'static>(
    case: &Case<H>,
    harness: Arc<H>,
    limit: Duration,
) -> Verdict {
    let task = tokio::spawn((case.run)(harness));
    let abort = task.abort_handle();
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(Ok(()))) => Verdict::Passed,
        Ok(Ok(Err(CaseError::Failed(message)))) => Verdict::Failed(message),
        Ok(Ok(Err(CaseError::Skipped(reason)))) => Verdict::Skipped(reason),
        Ok(Err(joined)) => match joined.try_into_panic() {
            Ok(payload) => {
                Verdict::Failed(format!("panicked: {}", panic_message(payload.as_ref())))
            }
            Err(_) => Verdict::Failed("the case's task was cancelled".into()),
        },
        Err(_) => {
            abort.abort();
            Verdict::Failed(format!(
                "did not finish within its time limit of {limit:?}: the implementation never \
                 answered, or answered in a way that kept the case waiting"
            ))
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        "a panic without a message".into()
    }
}

/// Polls `probe` until it yields `Some`, or panics with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_case_ms: u64, whole_ms: u64) -> Limits {
        Limits {
            per_case: Duration::from_millis(per_case_ms),
            whole: Duration::from_millis(whole_ms),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn every_case_runs_and_each_failure_is_named_with_its_message() {
        let suite: Suite<()> = Suite::new(
            "demo",
            vec![
                Case::new("fails", |_| async {
                    Err(CaseError::failed("what and want"))
                }),
                Case::new("panics", |_| async { panic!("a broken assert") }),
                Case::new("hangs", |_| std::future::pending()),
                Case::new("skips", |_| async { Err(CaseError::skipped("not here")) }),
                Case::new("passes", |_| async { Ok(()) }),
            ],
        )
        // Long enough that a loaded machine never times out the cases that do not hang.
        .with_limits(limits(2_000, 20_000));
        let report = suite.run(Arc::new(())).await;
        assert_eq!(report.failed(), ["fails", "panics", "hangs"], "{report}");
        assert_eq!(report.skipped(), ["skips"]);
        assert_eq!(report.passed(), ["passes"]);
        assert_eq!(report.failure("fails"), Some("what and want"));
        assert!(
            report
                .failure("panics")
                .unwrap()
                .contains("a broken assert")
        );
        assert!(report.failure("hangs").unwrap().contains("time limit"));
        let shown = report.to_string();
        assert!(
            shown.contains("5 cases, 1 passed, 3 failed, 1 skipped"),
            "{shown}"
        );
        assert!(shown.contains("FAILED hangs"), "{shown}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_whole_suite_ends_within_its_limit() {
        let hang = || Case::new("hangs", |_: Arc<()>| std::future::pending());
        let suite =
            Suite::new("demo", vec![hang(), hang(), hang(), hang()]).with_limits(limits(200, 500));
        let report = suite.run(Arc::new(())).await;
        assert!(report.elapsed < Duration::from_millis(1_500), "{report}");
        assert_eq!(report.failed().len(), 4, "{report}");
        assert!(report.outcomes[3].verdict != Verdict::Passed);
        let not_run = report
            .outcomes
            .iter()
            .filter(|o| matches!(&o.verdict, Verdict::Failed(m) if m.starts_with("not run")));
        assert!(not_run.count() >= 1, "{report}");
        let capped = Suite::<()>::new("demo", Vec::new()).with_limits(limits(1, 3_600_000));
        assert_eq!(capped.limits.whole, Limits::MOST);
    }
}
