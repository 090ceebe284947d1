//! # OMC: the OpenG2P registry ↔ MOSIP Token Seeder connector
//!
//! One dependency for the whole kit. The crates it re-exports:
//!
//! - [`core`] (`omc-core`): the traits `Registry`, `TokenSeeder` and `CallbackSink`, the
//!   connector configuration, the Odoo domain language, the run engine, in-memory adapters;
//! - [`odoo`] (`omc-odoo`, feature `odoo`): the OpenG2P/Odoo JSON-RPC adapters;
//! - [`mts`] (`omc-mts`, feature `mts`): the MTS adapter.
//!
//! The feature `emulators` adds the MTS and Odoo emulators; the feature `cli` the `omc`
//! command ([`cli::main`]).

pub use omc_core as core;
#[cfg(feature = "mts")]
pub use omc_mts as mts;
#[cfg(feature = "odoo")]
pub use omc_odoo as odoo;

#[cfg(all(feature = "odoo", feature = "mts"))]
pub mod connector;

#[cfg(feature = "cli")]
pub mod cli;
// The printing macros of `cli::output` name it from the crate's root.
#[cfg(feature = "cli")]
use cli::output;
