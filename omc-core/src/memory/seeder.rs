//! [`MemorySeeder`]: MTS's `mts-mock` in process, delivering to a [`MemorySink`].

use super::mts_mock::mock_token;
use super::sink::MemorySink;
use crate::authdata::REGISTRANT_KEY;
use crate::error::SeederError;
use crate::mts_rules::{self, MandatoryFields};
use crate::pii::Vid;
use crate::registry::RegistrantId;
use crate::seeder::{RequestId, RequestStatus, SeedRequest, TokenSeeder};
use crate::sink::{Delivery, RecordStatus, SeedResult};
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

/// What the seeder received in one submission (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedRequest {
    /// The request identifier it answered.
    pub id: RequestId,
    /// The registrants whose records it carried.
    pub registrants: Vec<RegistrantId>,
}

/// A token seeder in process: applies MTS's per-record rules, derives tokens as `mts-mock`
/// does, and delivers every result to its [`MemorySink`] before answering.
///
/// Test knobs: [`fail_next`](Self::fail_next) scripts submission errors, and
/// [`lose_deliveries`](Self::lose_deliveries) drops results as a lost callback would.
pub struct MemorySeeder {
    partner_id: String,
    sink: Arc<MemorySink>,
    mandatory: MandatoryFields,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    statuses: HashMap<RequestId, RequestStatus>,
    submitted: Vec<SubmittedRequest>,
    scripted: VecDeque<SeederError>,
    lose_deliveries: bool,
    lost_registrants: std::collections::HashSet<RegistrantId>,
}

impl fmt::Debug for MemorySeeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySeeder")
            .field("partner_id", &self.partner_id)
            .field("requests", &self.lock().submitted.len())
            .finish()
    }
}

impl MemorySeeder {
    /// A seeder deriving tokens for `partner_id` and delivering to `sink`.
    pub fn new(partner_id: impl Into<String>, sink: Arc<MemorySink>) -> Self {
        Self {
            partner_id: partner_id.into(),
            sink,
            mandatory: MandatoryFields::default(),
            state: Mutex::new(State::default()),
        }
    }

    /// Uses another list of mandatory fields, as a deployment of MTS can.
    pub fn with_mandatory_fields(mut self, mandatory: MandatoryFields) -> Self {
        self.mandatory = mandatory;
        self
    }

    /// The next submission fails with `error` (queued; one error per submission).
    pub fn fail_next(&self, error: SeederError) {
        self.lock().scripted.push_back(error);
    }

    /// Whether results are dropped instead of delivered (as lost callbacks are).
    pub fn lose_deliveries(&self, lose: bool) {
        self.lock().lose_deliveries = lose;
    }

    /// Whether the results of these registrants are dropped (a callback lost for some records
    /// of a request while the others arrive).
    pub fn lose_deliveries_for(&self, registrants: &[RegistrantId], lose: bool) {
        let mut state = self.lock();
        for id in registrants {
            if lose {
                state.lost_registrants.insert(*id);
            } else {
                state.lost_registrants.remove(id);
            }
        }
    }

    /// Forgets a request, as MTS does after its retention time.
    pub fn forget(&self, id: &RequestId) {
        self.lock().statuses.remove(id);
    }

    /// Everything submitted so far.
    pub fn submitted(&self) -> Vec<SubmittedRequest> {
        self.lock().submitted.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn result_for(
        &self,
        request: &SeedRequest,
        record: &crate::pii::PersonalRecord,
    ) -> Option<SeedResult> {
        let registrant = RegistrantId(record.0.get(REGISTRANT_KEY)?.as_i64()?);
        let vid = mts_rules::lookup(&record.0, &request.mapping.vid)
            .and_then(|v| v.as_str())
            .map(Vid::new);
        Some(
            match mts_rules::mts_verdict(&record.0, &request.mapping, &self.mandatory) {
                Some(refusal) => SeedResult {
                    registrant,
                    vid,
                    status: RecordStatus::Invalid,
                    token: None,
                    error_code: Some(refusal.code.into()),
                    error_message: Some(refusal.message),
                },
                None => SeedResult {
                    registrant,
                    token: vid.as_ref().map(|v| mock_token(v, &self.partner_id)),
                    vid,
                    status: RecordStatus::Processed,
                    error_code: None,
                    error_message: None,
                },
            },
        )
    }
}

#[async_trait]
impl TokenSeeder for MemorySeeder {
    async fn submit(
        &self,
        request: &SeedRequest,
        _delivery: &Delivery,
    ) -> Result<RequestId, SeederError> {
        let (id, lose, lost) = {
            let mut state = self.lock();
            if let Some(error) = state.scripted.pop_front() {
                return Err(error);
            }
            if request.authdata.is_empty() {
                return Err(SeederError::Rejected {
                    http_status: 400,
                    code: "ATS-REQ-102".into(),
                    message: "authdata must be a non-empty list".into(),
                });
            }
            state.next_id += 1;
            (
                RequestId(format!("memory-{}", state.next_id)),
                state.lose_deliveries,
                state.lost_registrants.clone(),
            )
        };
        let results: Vec<SeedResult> = request
            .authdata
            .iter()
            .filter_map(|r| self.result_for(request, r))
            .collect();
        let any_failed = results.iter().any(|r| r.status != RecordStatus::Processed);
        if !lose {
            let delivered: Vec<SeedResult> = results
                .iter()
                .filter(|r| !lost.contains(&r.registrant))
                .cloned()
                .collect();
            self.sink
                .receive(&delivered)
                .await
                .map_err(|e| SeederError::Uncertain {
                    message: "the in-memory sink failed to store results".into(),
                    source: Some(Box::new(e)),
                })?;
        }
        let mut state = self.lock();
        let status = if any_failed {
            RequestStatus::ProcessedWithErrors
        } else {
            RequestStatus::Processed
        };
        state.statuses.insert(id.clone(), status);
        state.submitted.push(SubmittedRequest {
            id: id.clone(),
            registrants: results.iter().map(|r| r.registrant).collect(),
        });
        Ok(id)
    }

    async fn status(&self, request: &RequestId) -> Result<RequestStatus, SeederError> {
        Ok(self
            .lock()
            .statuses
            .get(request)
            .cloned()
            .unwrap_or(RequestStatus::Gone))
    }
}
