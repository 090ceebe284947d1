//! Conformance suites: what every [`Registry`](crate::Registry) and every
//! [`TokenSeeder`](crate::TokenSeeder) implementation must do.
//!
//! OMC runs them against the in-memory implementations and, over real HTTP, against the Odoo
//! and MTS adapters; an embedder with an implementation of its own runs them too:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use omc_core::{IdTypes, Registry, memory::MemoryRegistry};
//! # async fn example() {
//! omc_core::conformance::registry::run_registry_suite(|seeds, id_types: IdTypes| async move {
//!     Arc::new(MemoryRegistry::with_seeds(id_types, seeds)) as Arc<dyn Registry>
//! })
//! .await;
//! # }
//! ```
//!
//! The suites panic with a message naming the broken expectation.

pub mod domain;
pub mod ledger;
pub mod registry;
pub mod seeder;

use std::future::Future;
use std::time::Duration;

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
