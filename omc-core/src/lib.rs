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
//!   the `conformance` feature, the conformance suites every implementation must pass.
//!
//! Personal data (names, VIDs, tokens, birthdates) lives in the newtypes of [`pii`], whose `Debug`
//! never shows it.
//!
//! The traits are `async_trait` traits: implement them under [`macro@async_trait`], re-exported
//! here so that an implementation needs no dependency of its own on the `async-trait` crate.
//! (Rustdoc shows each async method in its expanded form, returning a boxed `Send` future.)

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod fixture;
pub mod idcheck;
pub mod jq;
pub mod ledger;
pub mod memory;
pub mod pii;
pub mod receiver;
pub mod registry;
pub mod rules;
pub mod runs;
pub mod seeder;
pub mod sink;
pub mod time;
pub mod token;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

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
