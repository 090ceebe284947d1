//! The engine's settings, and how long it waits for MTS.

use crate::config::ConnectorConfig;
use crate::domain::Domain;
use crate::registry::IdTypes;
use crate::rules::MandatoryFields;
use crate::seeder::Mapping;
use std::time::Duration;

/// How long the engine waits for a batch, and how it retries. Deadlines grow with the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Between two status or read-back polls.
    pub poll_interval: Duration,
    /// Waiting for MTS's final status: this plus `status_per_record` per record.
    pub status_base: Duration,
    /// See `status_base` (MTS processes ~45 records a second per process).
    pub status_per_record: Duration,
    /// Reading tokens back after the final status: this plus `readback_per_record` per record.
    pub readback_base: Duration,
    /// See `readback_base`.
    pub readback_per_record: Duration,
    /// Retries of a submission that surely never arrived (connection refused).
    pub submit_retries: u32,
    /// The first retry's delay, doubled at each retry.
    pub retry_backoff: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            status_base: Duration::from_secs(60),
            status_per_record: Duration::from_millis(100),
            readback_base: Duration::from_secs(30),
            readback_per_record: Duration::from_millis(20),
            submit_retries: 3,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

impl WaitPolicy {
    /// How long to wait for MTS's final status for `records` records.
    pub fn status_deadline(&self, records: usize) -> Duration {
        self.status_base + self.status_per_record * records as u32
    }

    /// How long to read tokens back for `records` records.
    pub fn readback_deadline(&self, records: usize) -> Duration {
        self.readback_base + self.readback_per_record * records as u32
    }
}

/// What the engine needs from a connector's configuration.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The registry filter (the operator's; the engine ANDs "holds a VID" onto it).
    pub filter: Domain,
    /// The VID and token id type names.
    pub id_types: IdTypes,
    /// The registrant fields to send.
    pub fields: Vec<String>,
    /// MTS's mapping.
    pub mapping: Mapping,
    /// MOSIP language.
    pub lang: String,
    /// MTS's mandatory fields.
    pub mandatory_fields: MandatoryFields,
    /// Records per MTS request.
    pub batch_size: usize,
    /// Registrants per page read from the registry.
    pub page_size: usize,
    /// MTS requests outstanding at once.
    pub max_in_flight: usize,
    /// Registrants per read-back or removal call.
    pub chunk_size: usize,
    /// Remove VIDs once their token is read back.
    pub remove_vids: bool,
    /// Waiting and retrying.
    pub wait: WaitPolicy,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            filter: Domain::openg2p_default(),
            id_types: IdTypes::default(),
            fields: crate::config::default_fields(),
            mapping: Mapping::default(),
            lang: "eng".into(),
            mandatory_fields: MandatoryFields::default(),
            batch_size: 500,
            page_size: 500,
            max_in_flight: 2,
            chunk_size: 1000,
            remove_vids: true,
            wait: WaitPolicy::default(),
        }
    }
}

impl From<&ConnectorConfig> for EngineSettings {
    fn from(config: &ConnectorConfig) -> Self {
        Self {
            filter: config.filter.clone(),
            id_types: config.id_types.clone(),
            fields: config.fields.clone(),
            mapping: config.mapping.clone(),
            lang: config.lang.clone(),
            mandatory_fields: config.mandatory_fields.clone(),
            batch_size: config.batch_size,
            page_size: config.batch_size,
            max_in_flight: config.max_in_flight,
            remove_vids: config.remove_vids,
            ..Self::default()
        }
    }
}
