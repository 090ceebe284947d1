//! # omc-mts
//!
//! OMC's adapter for the MOSIP Token Seeder (MTS): [`MtsClient`], an
//! [`omc_core::TokenSeeder`] speaking MTS's HTTP API with reqwest, and, behind the `emulator`
//! feature, `emulator::MtsEmulator`, a real HTTP server that answers like MTS's `mts-mock`
//! branch (same refusals, same tokens, same callbacks) for tests, demos and benchmarks.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use omc_mts::{MtsClient, TimeoutPolicy};
//! let client = MtsClient::builder("http://mts.local:8000/v1/mts/".parse()?)
//!     .with_timeouts(TimeoutPolicy::default())
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! A submission is not idempotent: the client retries it only when the connection was never
//! established, and reports everything else as [`SeederError`](omc_core::SeederError) for the
//! caller's reconciliation to settle.

mod client;
mod envelope;
mod error_map;
mod policy;

#[cfg(feature = "emulator")]
pub mod emulator;

pub use client::{BuildError, MtsClient, MtsClientBuilder};
pub use policy::{RetryPolicy, TimeoutPolicy};
