//! What a case answers, and the checks the suites build their messages with.

use std::fmt::{self, Debug, Display};
use std::future::Future;
use std::time::Duration;

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The implementation broke the contract: what it did and what the contract wants.
    Failed(String),
    /// The case does not apply to this implementation or its harness, and why.
    Skipped(String),
}

impl CaseError {
    /// A failure with this message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// A skip with this reason.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::Skipped(reason.into())
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(message) => f.write_str(message),
            Self::Skipped(reason) => write!(f, "skipped: {reason}"),
        }
    }
}

impl std::error::Error for CaseError {}

/// Fails unless `got == want`, naming the check, what the implementation gave and what the
/// contract wants. Only for values safe to print (ids, counts, codes, states).
pub(crate) fn check_eq<T: PartialEq + Debug>(
    got: T,
    want: T,
    check: &str,
) -> Result<(), CaseError> {
    if got == want {
        Ok(())
    } else {
        Err(CaseError::failed(format!(
            "{check}: the implementation gave {got:?}, the contract wants {want:?}"
        )))
    }
}

/// Fails with `message` unless `holds`.
pub(crate) fn check(holds: bool, message: impl FnOnce() -> String) -> Result<(), CaseError> {
    if holds {
        Ok(())
    } else {
        Err(CaseError::failed(message()))
    }
}

/// Turns an implementation's error on the call `what` into a failure naming both.
pub(crate) fn call<E: Display>(what: &str) -> impl FnOnce(E) -> CaseError + '_ {
    move |e| {
        CaseError::failed(format!(
            "{what}: the implementation failed with \"{e}\", the contract wants it to succeed"
        ))
    }
}

/// Polls `probe` every 10 ms until it yields `Some`; after `deadline`, fails with what
/// `waiting` says was last seen.
pub(crate) async fn wait_for<T, F, Fut>(
    what: &str,
    deadline: Duration,
    mut probe: F,
) -> Result<T, CaseError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, String>, CaseError>>,
{
    let start = tokio::time::Instant::now();
    loop {
        let last = match probe().await? {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        if start.elapsed() >= deadline {
            return Err(CaseError::failed(format!(
                "{what}: not within {deadline:?}; last seen: {last}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
