//! # OMC: the OpenG2P registry ↔ MOSIP Token Seeder connector
//!
//! One dependency for the whole kit:
//!
//! - at the top, everything of `omc-core`: the traits [`Registry`], [`TokenSeeder`],
//!   [`CallbackSink`] and [`RunLedger`], the connector configuration ([`config`]), the Odoo
//!   domain language ([`domain`]), the run [`engine`] and [`Runner`], the in-memory adapters
//!   ([`memory`]);
//! - [`odoo`] (`omc-odoo`, feature `odoo`): the OpenG2P/Odoo JSON-RPC adapters;
//! - [`mts`] (`omc-mts`, feature `mts`): the MTS adapter;
//! - [`connector`]: a configuration wired to those adapters.
//!
//! `omc-core` is re-exported at the top rather than as a module so that no `omc::core` shadows
//! the standard library's `core` in an embedder's code: `omc::Engine`, `omc::memory::MemoryRegistry`
//! and `omc::odoo::OdooRegistry` read as one kit.
//!
//! The feature `emulators` adds the MTS and Odoo emulators; the feature `cli` the `omc`
//! command (`cli::main`).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use omc_core::*;
#[cfg(feature = "mts")]
#[cfg_attr(docsrs, doc(cfg(feature = "mts")))]
pub use omc_mts as mts;
#[cfg(feature = "odoo")]
#[cfg_attr(docsrs, doc(cfg(feature = "odoo")))]
pub use omc_odoo as odoo;

#[cfg(all(feature = "odoo", feature = "mts"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "odoo", feature = "mts"))))]
pub mod connector;

#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
// The printing macros of `cli::output` name it from the crate's root.
#[cfg(feature = "cli")]
use cli::output;
