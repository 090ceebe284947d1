//! Timeouts and retries of [`MtsClient`](crate::MtsClient), as data.

use std::time::Duration;

/// How long the client waits for MTS.
///
/// MTS validates and stores a submission before it answers, about 15 ms per record, and answers
/// nothing else meanwhile: the POST timeout grows with the batch,
/// `base + per_record × records` (saturating). The defaults give 10,000 records 530 s: MTS
/// storing them (~150 s) after another batch of the same size (~150 s more), with room to
/// spare. A status GET waits `base`.
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
            base: omc_core::seeder::SUBMIT_TIMEOUT_BASE,
            per_record: omc_core::seeder::SUBMIT_TIMEOUT_PER_RECORD,
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

/// How often and how patiently the client retries a status GET after a transient failure (no
/// connection, a timeout, a 5xx): it is idempotent.
///
/// A submission is never retried by the client: one `submit` is one POST. Its caller owns the
/// retries of a submission that surely never arrived (the engine's `WaitPolicy`), so that one
/// policy decides how many POSTs a batch may make.
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

    #[test]
    fn a_submission_may_wait_for_mts_storing_it_and_another_batch() {
        // MTS stores a POST's records before it answers, ~15 ms each, one POST at a time: with
        // the engine's two batches in flight, a POST may wait for the other one first.
        let storing = |records: u32| Duration::from_millis(15) * records;
        let policy = TimeoutPolicy::default();
        for records in [1, 500, 2_000, 10_000] {
            assert!(
                policy.for_submission(records as usize) >= storing(records) * 3,
                "{records} records"
            );
        }
    }
}
