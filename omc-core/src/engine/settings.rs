//! The engine's settings, and how long it waits for MTS.

use crate::config::ConnectorConfig;
use crate::domain::Domain;
use crate::mts_rules::MandatoryFields;
use crate::registry::IdTypes;
use crate::seeder::Mapping;
use std::time::Duration;

/// How long the engine waits for a batch, and how it retries. Deadlines grow with the batch.
///
/// Start from [`WaitPolicy::default`] and set the fields to change (new fields may come).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitPolicy {
    /// The first status poll after a submission, and the first read-back poll: each later
    /// poll waits half as long again as the one before, up to `poll_interval`. A fast seeder
    /// is noticed within tens of milliseconds; a slow one (MTS's 45 records a second) costs a
    /// poll every `poll_interval`.
    pub first_poll: Duration,
    /// The longest wait between two status or read-back polls.
    pub poll_interval: Duration,
    /// Waiting for MTS's final status: this plus `status_per_record` per record.
    pub status_base: Duration,
    /// See `status_base` (MTS processes ~45 records a second per process).
    pub status_per_record: Duration,
    /// Reading tokens back after the final status: this plus `readback_per_record` per record.
    pub readback_base: Duration,
    /// See `readback_base`.
    pub readback_per_record: Duration,
    /// Retries of a submission that surely never arrived (connection refused): one batch
    /// makes at most `submit_retries + 1` submissions. The engine is the only one to retry a
    /// submission (a [`TokenSeeder`](crate::TokenSeeder) makes one attempt per call).
    pub submit_retries: u32,
    /// The first retry's delay, doubled at each retry (saturating).
    pub retry_backoff: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            first_poll: Duration::from_millis(20),
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
    /// The waits between polls: `first_poll`, then half as long again each time (at least a
    /// millisecond more), never more than `poll_interval`.
    pub fn polls(&self) -> impl Iterator<Item = Duration> + use<> {
        let cap = self.poll_interval;
        let grow = move |d: &Duration| {
            let next = d.saturating_add(*d / 2);
            Some(
                next.max(d.saturating_add(Duration::from_millis(1)))
                    .min(cap),
            )
        };
        std::iter::successors(Some(self.first_poll.min(cap)), grow)
    }

    /// How long to wait for MTS's final status for `records` records (saturating: a policy
    /// of very long waits never overflows).
    pub fn status_deadline(&self, records: usize) -> Duration {
        per_record(self.status_base, self.status_per_record, records)
    }

    /// How long to read tokens back for `records` records (saturating).
    pub fn readback_deadline(&self, records: usize) -> Duration {
        per_record(self.readback_base, self.readback_per_record, records)
    }
}

/// `base + each × records`, saturating.
fn per_record(base: Duration, each: Duration, records: usize) -> Duration {
    let records = u32::try_from(records).unwrap_or(u32::MAX);
    base.saturating_add(each.saturating_mul(records))
}

/// The default cleanup filter: registrants holding an id of both types (the engine then
/// removes a VID only where the token id has a value).
pub fn default_cleanup_filter(id_types: &IdTypes) -> Domain {
    Domain::holds_id_type(&id_types.vid).and(Domain::holds_id_type(&id_types.token))
}

/// What the engine needs from a connector's configuration.
///
/// Start from [`EngineSettings::default`] or a configuration (`EngineSettings::from(&config)`)
/// and set the fields to change (new fields may come):
///
/// ```
/// use omc_core::EngineSettings;
///
/// let mut settings = EngineSettings::default();
/// settings.batch_size = 100;
/// settings.wait.submit_retries = 0;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// The most bytes one MTS request may take (for a proxy in front of MTS that refuses larger
    /// bodies; MTS itself has no limit), or `None` for no limit. A batch is sent early, before
    /// `batch_size` records, when one more record would take its request over this; a record
    /// too large on its own is sent alone. The engine measures each record as JSON and bounds
    /// the rest of the envelope from above (its callback properties, output format and mapping,
    /// plus 1 KiB for MTS's keys and the envelope's short strings).
    pub max_request_bytes: Option<usize>,
    /// Registrants per page read from the registry.
    pub page_size: usize,
    /// MTS requests outstanding at once.
    pub max_in_flight: usize,
    /// Registrants per read-back or removal call.
    pub chunk_size: usize,
    /// Remove VIDs once their token is read back.
    pub remove_vids: bool,
    /// Before each run (when `remove_vids` is on), the VIDs of the registrants this filter
    /// selects are removed where the registrant holds a token; `None` turns this off.
    pub cleanup_filter: Option<Domain>,
    /// Waiting and retrying.
    pub wait: WaitPolicy,
    /// After this many batches in a row could not be submitted and MTS gave no answer (not
    /// reached, or no answer in time; each after its own retries), the run submits nothing
    /// more: the rest of what it selected is reported pending, with the reason in
    /// [`RunReport::stopped`](super::RunReport::stopped). 0 never stops.
    pub max_consecutive_submit_failures: u32,
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
            max_request_bytes: None,
            page_size: 500,
            max_in_flight: 2,
            chunk_size: 1000,
            remove_vids: true,
            cleanup_filter: Some(default_cleanup_filter(&IdTypes::default())),
            wait: WaitPolicy::default(),
            max_consecutive_submit_failures: 3,
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
            max_request_bytes: config.max_request_bytes,
            remove_vids: config.remove_vids,
            cleanup_filter: Some(
                config
                    .cleanup_filter
                    .clone()
                    .unwrap_or_else(|| default_cleanup_filter(&config.id_types)),
            ),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn very_long_waits_saturate() {
        let forever = WaitPolicy {
            first_poll: Duration::MAX,
            poll_interval: Duration::MAX,
            status_base: Duration::MAX,
            status_per_record: Duration::MAX,
            readback_base: Duration::from_secs(1),
            readback_per_record: Duration::MAX,
            ..WaitPolicy::default()
        };
        assert_eq!(forever.status_deadline(usize::MAX), Duration::MAX);
        assert_eq!(forever.readback_deadline(10), Duration::MAX);
        assert_eq!(forever.readback_deadline(0), Duration::from_secs(1));
        let waits: Vec<_> = forever.polls().take(3).collect();
        assert_eq!(waits, [Duration::MAX; 3]);
    }

    #[test]
    fn polls_grow_by_half_to_the_interval() {
        let ms = Duration::from_millis;
        let waits: Vec<_> = WaitPolicy::default().polls().take(9).collect();
        assert_eq!(waits[..3], [ms(20), ms(30), ms(45)]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(waits[7..], [ms(250), ms(250)]);
        let from_zero = WaitPolicy {
            first_poll: Duration::ZERO,
            ..WaitPolicy::default()
        };
        let waits: Vec<_> = from_zero.polls().take(3).collect();
        assert_eq!(waits, [ms(0), ms(1), ms(2)], "never stuck at zero");
        let flat = WaitPolicy {
            first_poll: ms(500),
            ..WaitPolicy::default()
        };
        assert!(flat.polls().take(3).all(|w| w == ms(250)));
    }
}
