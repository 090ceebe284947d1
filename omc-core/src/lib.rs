//! # omc-core
//!
//! The heart of OMC, the OpenG2P registry ↔ MOSIP Token Seeder connector, with no HTTP in it:
//!
//! - the async traits [`Registry`] (where registrants come from and tokens go), [`TokenSeeder`]
//!   (what turns VIDs into tokens), [`CallbackSink`] (what MTS is told: it opens a run's
//!   delivery) and [`RunResults`] (a run's handle on the results that came back);
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
pub mod conformance;

pub use config::ConnectorConfig;
pub use domain::Domain;
pub use engine::{Engine, EngineSettings, RunReport};
pub use error::{RegistryError, SeederError, SinkError};
pub use ledger::{RunKind, RunLedger};
pub use pii::{PersonalRecord, Token, Vid};
pub use receiver::{CallbackReceiver, ReceiverRun, SelfHostedSink};
pub use registry::{
    Candidate, CandidateQuery, IdTypes, RegistrantId, Registry, StoreReport, WriteDates,
};
pub use runs::Runner;
pub use seeder::{Mapping, RequestId, RequestStatus, SeedRequest, TokenSeeder};
pub use sink::{
    CallbackAuth, CallbackSink, Delivery, DeliveryProblems, HttpMethod, ReadBackOnly, RunResults,
    SeedResult, SinkRun,
};
