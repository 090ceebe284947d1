//! In-memory implementations of the three traits, for embedders' tests and OMC's own.
//!
//! [`MemorySeeder`] turns VIDs into tokens as MTS's `mts-mock` does and delivers each result to
//! a [`MemorySink`], which stores tokens through any [`Registry`](crate::Registry) — typically a
//! [`MemoryRegistry`]. Together they run the whole engine without a network.

pub(crate) mod mts_mock;
mod record;
mod registry;
mod seed;
mod seeder;
mod sink;

pub use registry::MemoryRegistry;
pub use seed::RegistrantSeed;
pub use seeder::{MemorySeeder, SubmittedRequest};
pub use sink::{MemorySink, ReceiveReport};
