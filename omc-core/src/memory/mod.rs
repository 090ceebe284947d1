//! In-memory implementations of the three traits, for embedders' tests and OMC's own.
//!
//! [`MemorySeeder`] turns VIDs into tokens as MTS's `mts-mock` does and calls back a
//! [`MemorySink`], whose [`CallbackReceiver`](crate::CallbackReceiver) (the self-hosted sink's
//! own receiving code) stores tokens through any [`Registry`](crate::Registry) — typically a
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
pub use sink::MemorySink;
