//! The emulator's memory of requests and records, with MTS's states and retention.

use super::props::CallbackSpec;
use omc_core::jq::Program;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request's state, as `authtoken/status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestState {
    Submitted,
    SubmittedWithErrors,
    Processing,
    Processed,
    ProcessedWithErrors,
    ErrorMakingCallbackRequest,
}

impl RequestState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::SubmittedWithErrors => "submitted_with_errors",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::ProcessedWithErrors => "processed_with_errors",
            Self::ErrorMakingCallbackRequest => "error_making_callback_request",
        }
    }
}

/// A record's state, as its callback reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordState {
    Submitted,
    Processing,
    Processed,
    Invalid,
}

impl RecordState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Invalid => "invalid",
        }
    }
}

/// One `authdata` record and its result. Personal data: never printed.
pub(crate) struct StoredRecord {
    /// The record as sent.
    pub(crate) input: Map<String, Value>,
    pub(crate) vid: Option<String>,
    pub(crate) state: RecordState,
    pub(crate) token: Option<String>,
    pub(crate) error_code: Option<String>,
    pub(crate) error_message: Option<String>,
}

impl StoredRecord {
    /// `{"input": record, "output": result}`, what the output format is applied to.
    pub(crate) fn callback_input(&self) -> Value {
        json!({
            "input": self.input,
            "output": {
                "vid": self.vid,
                "status": self.state.as_str(),
                "token": self.token,
                "errorCode": self.error_code,
                "errorMessage": self.error_message,
            }
        })
    }
}

/// One request.
pub(crate) struct StoredRequest {
    pub(crate) created: Instant,
    pub(crate) state: RequestState,
    pub(crate) callback: Option<Arc<CallbackSpec>>,
    pub(crate) output_format: Option<Arc<Program>>,
    pub(crate) records: Vec<StoredRecord>,
}

/// Every request the emulator still knows.
pub(crate) struct Store {
    retention: Duration,
    requests: HashMap<String, StoredRequest>,
}

impl Store {
    pub(crate) fn new(retention: Duration) -> Self {
        Self {
            retention,
            requests: HashMap::new(),
        }
    }

    /// Forgets requests older than the retention, as MTS's cleanup does.
    fn expire(&mut self) {
        let retention = self.retention;
        self.requests.retain(|_, r| r.created.elapsed() < retention);
    }

    pub(crate) fn insert(&mut self, id: String, request: StoredRequest) {
        self.expire();
        self.requests.insert(id, request);
    }

    /// The request, unless unknown or expired.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoredRequest> {
        self.expire();
        self.requests.get_mut(id)
    }
}
