//! # omc-core
//!
//! The heart of OMC, the OpenG2P registry ↔ MOSIP Token Seeder connector, with no HTTP in it:
//!
//! - the async traits [`Registry`] (where registrants come from and tokens go), [`TokenSeeder`]
//!   (what turns VIDs into tokens) and [`CallbackSink`] (where and how MTS delivers results);
//! - the connector configuration model ([`config`]);
//! - the Odoo domain language ([`domain`]);
//! - the run engine that drives the traits ([`engine`]);
//! - the self-hosted callback receiver and its sink ([`receiver`]), framework-free, for services
//!   that want MTS to call them;
//! - in-memory implementations of the three traits for embedders' tests ([`memory`]), and, behind
//!   the `conformance` feature, the conformance suites every implementation must pass; behind
//!   the `testing` feature, synthetic registrants and `mts-mock`'s tokens for tests
//!   (`testing`).
//!
//! Personal data (names, VIDs, tokens, birthdates) lives in the newtypes of [`pii`], whose `Debug`
//! never shows it.
//!
//! # Wiring an engine
//!
//! An [`Engine`] drives one [`Registry`], one [`TokenSeeder`] and one [`CallbackSink`], each held
//! as an `Arc<dyn …>` so that the adapters are chosen at run time. Over the in-memory adapters
//! (with the `testing` feature for synthetic registrants) a whole run needs no network:
//!
//! ```
//! # #[cfg(feature = "testing")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
//! use omc_core::testing::{mock_token, synthetic};
//! use omc_core::{Engine, EngineSettings, IdTypes, RegistrantId, Registry};
//! use std::sync::Arc;
//!
//! // 20 registrants with complete demographics and a VID each.
//! let seeds: Vec<_> = synthetic(20, 1).collect();
//! let first_vid = seeds[0].vid.clone().expect("a VID");
//! let registry = Arc::new(MemoryRegistry::with_seeds(IdTypes::default(), seeds));
//! // MTS's results come back through the sink, which stores tokens in the registry.
//! let sink = Arc::new(MemorySink::new(registry.clone()));
//! let seeder = Arc::new(MemorySeeder::new("mpartner-default-omc", sink.clone()));
//!
//! let mut settings = EngineSettings::default();
//! settings.batch_size = 8;
//! let engine = Engine::new(registry.clone(), seeder, sink, settings);
//! let report = engine.run_once().await.expect("the run completes");
//!
//! assert_eq!((report.selected, report.tokenised, report.vids_removed), (20, 20, 20));
//! assert!(report.is_balanced()); // every registrant accounted for exactly once
//! let tokens = registry.tokens(&[RegistrantId(1)]).await.unwrap();
//! assert_eq!(tokens[&RegistrantId(1)], mock_token(&first_vid, "mpartner-default-omc"));
//! # });
//! ```
//!
//! A [`Runner`] wraps an engine with a [`RunLedger`] for recurring runs (full, delta,
//! imports). To bring your own registry, see [`Registry`]'s contract and [`registry`]'s example.
//!
//! The traits are `async_trait` traits: implement them under [`macro@async_trait`], re-exported
//! here so that an implementation needs no dependency of its own on the `async-trait` crate.
//! (Rustdoc shows each async method in its expanded form, returning a boxed `Send` future.)

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod authdata;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod idcheck;
// MTS's output formats run with jaq: shared with the MTS emulator and `omc config check`, not
// part of the API.
#[doc(hidden)]
pub mod jq;
pub mod ledger;
pub mod memory;
pub mod mts_rules;
pub mod pii;
pub mod receiver;
pub mod registry;
pub mod runs;
pub mod seeder;
pub mod sink;
pub mod time;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// The attribute OMC's traits are declared with, and their implementations must carry
/// (`#[omc_core::async_trait]`).
pub use async_trait::async_trait;

pub use config::ConnectorConfig;
pub use domain::Domain;
pub use engine::{Engine, EngineSettings, RunReport};
pub use error::{RegistryError, SeederError, SinkError};
pub use ledger::{RunKind, RunLedger};
pub use pii::{PersonalRecord, Token, Vid};
pub use receiver::{CallbackReceiver, SelfHostedSink};
pub use registry::{
    Candidate, CandidateQuery, IdTypes, RegistrantId, Registry, StoreReport, WriteDates,
};
pub use runs::Runner;
pub use seeder::{Mapping, RequestId, RequestStatus, SeedRequest, TokenSeeder};
pub use sink::{
    CallbackAuth, CallbackSink, Delivery, DeliveryProblems, HttpMethod, ResultPath, SeedResult,
};
