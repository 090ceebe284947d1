//! Timeouts and retries of [`MtsClient`](crate::MtsClient), as data.

use std::time::Duration;

/// How long the client waits for MTS.
///
/// MTS validates and stores a submission before it answers, about 15 ms per record, and answers
/// nothing else meanwhile: the POST timeout grows with the batch,
/// `base + per_record × records`. A status GET waits `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutPolicy {
    /// Time to establish the TCP (and TLS) connection. Default 10 s.
    pub connect: Duration,
    /// Time for an answer, whatever the batch size. Default 30 s.
    pub base: Duration,
    /// Time added per record of a submission. Default 50 ms.
    pub per_record: Duration,
}

impl Default for TimeoutPolicy {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            base: Duration::from_secs(30),
            per_record: Duration::from_millis(50),
        }
    }
}

impl TimeoutPolicy {
    /// The timeout of a submission of `records` records.
    pub fn for_submission(&self, records: usize) -> Duration {
        let records = u32::try_from(records).unwrap_or(u32::MAX);
        self.base
            .saturating_add(self.per_record.saturating_mul(records))
    }
}

/// How often and how patiently the client retries the calls that are safe to retry: a status
/// GET after a transient failure, and a submission whose connection was never established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying). Default 3.
    pub max_retries: usize,
    /// Delay before the first retry; it doubles each time. Default 500 ms.
    pub min_delay: Duration,
    /// The longest delay between two attempts. Default 10 s.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    pub(crate) fn backoff(&self) -> backon::ExponentialBuilder {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submission_timeout_grows_with_the_batch() {
        let policy = TimeoutPolicy::default();
        assert_eq!(policy.for_submission(0), Duration::from_secs(30));
        assert_eq!(policy.for_submission(1000), Duration::from_secs(80));
    }
}
