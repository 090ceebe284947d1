//! # omc-odoo
//!
//! OMC's adapters for OpenG2P's registry, which runs on Odoo 17:
//!
//! - [`OdooClient`]: Odoo's external JSON-RPC API (`/jsonrpc`: `common.login`,
//!   `object.execute_kw`), with Odoo's error envelope mapped by exception name
//!   ([`OdooError`], converted to [`omc_core::RegistryError`] in one place);
//! - [`OdooRegistry`]: the [`omc_core::Registry`] over `res.partner`, `g2p.reg.id` and
//!   `g2p.id.type`, with bounded, batched requests;
//! - [`OdooCallbackSink`]: the [`omc_core::CallbackSink`] for MTS's callback auth type `odoo`,
//!   where MTS creates each token id in Odoo itself;
//! - [`OpenG2pApiSink`]: the [`omc_core::CallbackSink`] where MTS calls OpenG2P 17's own
//!   `update_individual` REST API with HTTP Basic;
//! - behind the `emulator` feature, `emulator`: an in-memory Odoo speaking the same HTTP
//!   protocols, for tests, the demo and benchmarks.
//!
//! Personal data never reaches a log, a `Debug` output or an error message: Odoo's own error
//! messages (which may quote values) are dropped and only the exception name is kept.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback_login;
mod client;
mod error;
mod fields;
mod openg2p;
mod registry;
mod sink;

#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;

pub use callback_login::{CHECK_TIMEOUT, CallbackLogin, CallbackLoginError};
pub use client::{OdooClient, OdooClientBuilder};
// The benchmark of reading registrant rows calls the reader directly; not part of the API.
#[doc(hidden)]
pub use client::parse_rows;
pub use error::{ACCESS_DENIED, ACCESS_ERROR, MISSING_ERROR, OdooError, SESSION_EXPIRED};
pub use openg2p::{OpenG2pApiSink, openg2p_output_format};
pub use registry::OdooRegistry;
// Each sink's output format is named for its sink (the self-hosted one is
// `omc_core::receiver::output_format`).
pub use sink::{OdooCallbackSink, output_format as odoo_output_format};
