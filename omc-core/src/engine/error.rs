//! How a run ends: its report, and the error that stopped it early, if one did.

use super::report::RunReport;
use crate::error::{RegistryError, SinkError};
use std::fmt;

/// Why a run could not go on. Per-batch problems do not stop a run; they are in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Reading candidates failed; the run stopped (what was sent is still accounted for).
    #[error("reading candidates failed")]
    Registry(#[source] RegistryError),
    /// The callback sink could not describe its delivery: nothing was sent.
    #[error("the callback sink cannot describe its delivery")]
    Sink(#[source] SinkError),
}

/// How a run ended: its report (partial when it stopped early) and the error that stopped it.
#[derive(Debug)]
pub struct RunEnd {
    /// What the run did, every selected registrant accounted for.
    pub report: RunReport,
    /// Why it stopped before its end, if it did.
    pub error: Option<EngineError>,
}

impl RunEnd {
    /// The report when the run completed, or the error with the partial report.
    pub fn into_result(self) -> Result<RunReport, RunFailed> {
        match self.error {
            None => Ok(self.report),
            Some(error) => Err(RunFailed {
                report: Box::new(self.report),
                error,
            }),
        }
    }
}

/// A run that an error stopped early ([`Engine::run_once`](super::Engine::run_once)'s error):
/// the [`EngineError`], and the report of what the run did before it stopped, every selected
/// registrant accounted for (what was sent stays pending, to be found by the next run).
///
/// It is displayed as its [`EngineError`] and has the same [`source`](std::error::Error::source),
/// so a caller printing the chain sees what it saw before the report was kept.
#[derive(Debug)]
pub struct RunFailed {
    report: Box<RunReport>,
    error: EngineError,
}

impl RunFailed {
    /// What stopped the run.
    pub fn error(&self) -> &EngineError {
        &self.error
    }

    /// What the run did before it stopped.
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    /// The report and the error.
    pub fn into_parts(self) -> (RunReport, EngineError) {
        (*self.report, self.error)
    }
}

impl fmt::Display for RunFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for RunFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl From<RunFailed> for EngineError {
    fn from(failed: RunFailed) -> Self {
        failed.error
    }
}
