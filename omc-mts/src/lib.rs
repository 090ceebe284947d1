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
//! A submission is not idempotent: the client makes one POST per `submit` and reports what went
//! wrong as [`SeederError`](omc_core::SeederError); the caller (the engine) retries one that
//! surely never arrived and leaves the rest to reconciliation. Only status GETs are retried by
//! the client ([`RetryPolicy`]).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod envelope;
mod error_map;
mod policy;

#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;

pub use client::{BuildError, MtsClient, MtsClientBuilder};
pub use policy::{RetryPolicy, TimeoutPolicy};
