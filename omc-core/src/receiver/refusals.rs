//! Refusals logged as they happen, at a bounded rate: an attack must not flood the log.

use super::throttle::TokioClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most refusal lines logged a second; beyond, lines are dropped and counted.
const REFUSAL_LOG_LINES_PER_SECOND: u32 = 20;

/// The refusal log: a line a refusal, at most [`REFUSAL_LOG_LINES_PER_SECOND`] a second.
pub(super) struct RefusalLog {
    lines: RateLimiter<NotKeyed, InMemoryState, TokioClock>,
    unlogged: AtomicU64,
}

impl RefusalLog {
    pub(super) fn new() -> Self {
        let rate = NonZeroU32::new(REFUSAL_LOG_LINES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        Self {
            lines: RateLimiter::direct_with_clock(Quota::per_second(rate), TokioClock),
            unlogged: AtomicU64::new(0),
        }
    }

    /// Logs one refusal: its reason, how many the report holds for it, how many results the
    /// body carried (0 when it was not read), and how many lines were dropped before.
    pub(super) fn log(&self, reason: &str, count: u64, results: usize) {
        if self.lines.check().is_err() {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let unlogged = self.unlogged.swap(0, Ordering::Relaxed);
        tracing::warn!(
            reason,
            count,
            results,
            unlogged,
            "callback receiver refused a request"
        );
    }
}
