//! What running a suite found.

use std::fmt;
use std::time::Duration;

/// A case's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The implementation behaved as the contract wants.
    Passed,
    /// It did not: what it did and what the contract wants.
    Failed(String),
    /// The case does not apply here, and why.
    Skipped(String),
}

/// One case's verdict and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Every case of one run of a suite, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteReport {
    /// The suite's name.
    pub suite: &'static str,
    /// Each case's outcome.
    pub outcomes: Vec<CaseOutcome>,
    /// How long the whole suite ran.
    pub elapsed: Duration,
}

impl SuiteReport {
    /// The names of the failed cases, in the order they ran.
    pub fn failed(&self) -> Vec<&'static str> {
        self.names(|v| matches!(v, Verdict::Failed(_)))
    }

    /// The names of the skipped cases.
    pub fn skipped(&self) -> Vec<&'static str> {
        self.names(|v| matches!(v, Verdict::Skipped(_)))
    }

    /// The names of the passed cases.
    pub fn passed(&self) -> Vec<&'static str> {
        self.names(|v| *v == Verdict::Passed)
    }

    /// The message of the case `name`'s failure, if it failed.
    pub fn failure(&self, name: &str) -> Option<&str> {
        self.outcomes.iter().find_map(|o| match &o.verdict {
            Verdict::Failed(message) if o.name == name => Some(message.as_str()),
            _ => None,
        })
    }

    /// True when no case failed.
    pub fn is_ok(&self) -> bool {
        self.failed().is_empty()
    }

    /// Panics, listing every failed case with its message, unless no case failed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.is_ok(), "{self}");
    }

    fn names(&self, pick: impl Fn(&Verdict) -> bool) -> Vec<&'static str> {
        self.outcomes
            .iter()
            .filter(|o| pick(&o.verdict))
            .map(|o| o.name)
            .collect()
    }
}

/// A summary line, then one line for each failed or skipped case.
impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} suite: {} cases, {} passed, {} failed, {} skipped, in {:.1?}",
            self.suite,
            self.outcomes.len(),
            self.passed().len(),
            self.failed().len(),
            self.skipped().len(),
            self.elapsed
        )?;
        for outcome in &self.outcomes {
            match &outcome.verdict {
                Verdict::Passed => {}
                Verdict::Failed(message) => write!(f, "\n  FAILED {}: {message}", outcome.name)?,
                Verdict::Skipped(reason) => write!(f, "\n  skipped {}: {reason}", outcome.name)?,
            }
        }
        Ok(())
    }
}
