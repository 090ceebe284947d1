//! The [`TokenSeeder`] trait: what turns VIDs into tokens (MTS, or the in-memory seeder).

use crate::error::SeederError;
use crate::pii::PersonalRecord;
use crate::sink::Delivery;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a seeder client waits for the answer to a submission by default: this, plus
/// [`SUBMIT_TIMEOUT_PER_RECORD`] a record (MTS stores a request's records before answering).
pub const SUBMIT_TIMEOUT_BASE: Duration = Duration::from_secs(30);

/// See [`SUBMIT_TIMEOUT_BASE`].
pub const SUBMIT_TIMEOUT_PER_RECORD: Duration = Duration::from_millis(50);

/// About how long one MTS process takes to store a record of a submission before answering
/// it (measured on mts-mock), one submission at a time.
pub const MTS_STORE_PER_RECORD: Duration = Duration::from_millis(15);

/// MTS's `mapping`: for each MTS field, the path to it in an `authdata` record.
///
/// The default agrees with OMC's default field list; `vid` is the key OMC adds itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mapping {
    /// Where the VID is.
    pub vid: String,
    /// The name parts, joined by MTS with a space.
    pub name: Vec<String>,
    /// Where the gender is.
    pub gender: String,
    /// Where the date of birth is.
    pub dob: String,
    /// Where the phone number is.
    pub phone_number: String,
    /// Where the email address is.
    pub email_id: String,
    /// The address parts, joined by MTS with `", "`.
    pub full_address: Vec<String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            vid: "vid".into(),
            name: vec!["given_name".into(), "family_name".into()],
            gender: "gender".into(),
            dob: "birthdate".into(),
            phone_number: "phone".into(),
            email_id: "email".into(),
            full_address: vec!["address".into()],
        }
    }
}

/// One batch of records for the seeder: MTS's `authdata` with the mapping and language.
#[derive(Clone)]
pub struct SeedRequest {
    /// How MTS finds its fields in each record.
    pub mapping: Mapping,
    /// MOSIP's language code (`eng` by default).
    pub lang: String,
    /// The records, each with the connector's registrant key under `id`. Personal data.
    pub authdata: Vec<PersonalRecord>,
}

impl fmt::Debug for SeedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedRequest")
            .field("mapping", &self.mapping)
            .field("lang", &self.lang)
            .field("records", &self.authdata.len())
            .finish()
    }
}

/// MTS's request identifier. Safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub String);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state of a seeder request, as MTS's `authtoken/status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestStatus {
    /// Accepted, not started.
    Submitted,
    /// Accepted, some records invalid.
    SubmittedWithErrors,
    /// Being processed.
    Processing,
    /// Processed; callbacks are being made or are done (it says nothing about delivery).
    Processed,
    /// Processed, some records failed.
    ProcessedWithErrors,
    /// A callback failed with a connection error or timeout: the rest were never made.
    ErrorMakingCallbackRequest,
    /// The seeder no longer knows the request (MTS deletes requests after 6 hours).
    Gone,
    /// A state OMC does not know.
    #[serde(untagged)]
    Other(String),
}

impl RequestStatus {
    /// True once nothing more will happen on the seeder's side for this request, apart from
    /// callbacks still being made after `processed`.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Processed
                | Self::ProcessedWithErrors
                | Self::ErrorMakingCallbackRequest
                | Self::Gone
        )
    }

    /// Parses MTS's status word.
    pub fn from_mts(word: &str) -> Self {
        serde_json::from_value(serde_json::Value::String(word.to_owned()))
            .unwrap_or_else(|_| Self::Other(word.to_owned()))
    }
}

/// What turns VIDs into tokens.
///
/// Implementations: [`MemorySeeder`](crate::memory::MemorySeeder) and `omc_mts::MtsClient`.
#[async_trait]
pub trait TokenSeeder: fmt::Debug + Send + Sync + 'static {
    /// Submits one batch with callback delivery and returns the seeder's request identifier.
    ///
    /// Not idempotent: each call makes a new request. An error that
    /// [`is_safe_to_retry`](SeederError::is_safe_to_retry) surely never arrived.
    async fn submit(
        &self,
        request: &SeedRequest,
        delivery: &Delivery,
    ) -> Result<RequestId, SeederError>;

    /// The state of a request; [`RequestStatus::Gone`] once the seeder has forgotten it.
    async fn status(&self, request: &RequestId) -> Result<RequestStatus, SeederError>;
}

/// A seeder chosen at run time.
pub type DynTokenSeeder = Arc<dyn TokenSeeder>;
