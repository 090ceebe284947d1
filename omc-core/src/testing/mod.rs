//! Helpers for tests, emulators, demos and benchmarks (feature `testing`): synthetic
//! registrants, the token MTS's `mts-mock` derives, and a sample MTS result.
//!
//! None of this is needed to run a connector; it is what an embedder's own tests, and OMC's,
//! build their registries and expectations from.
//!
//! ```
//! use omc_core::memory::MemoryRegistry;
//! use omc_core::testing::{mock_token, synthetic};
//! use omc_core::IdTypes;
//!
//! let seeds: Vec<_> = synthetic(3, 7).collect();
//! let expected = mock_token(seeds[0].vid.as_ref().expect("a VID"), "mpartner-default-omc");
//! let registry = MemoryRegistry::with_seeds(IdTypes::default(), seeds);
//! assert_eq!(registry.len(), 3);
//! assert_eq!(expected.expose().len(), 43);
//! ```

mod synthetic;

pub use crate::config::sample_result;
pub use crate::memory::mts_mock::mock_token;
pub use synthetic::{synthetic, synthetic_one, synthetic_vid};
