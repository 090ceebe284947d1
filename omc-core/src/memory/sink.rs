//! [`MemorySink`]: receives results directly and stores tokens through a registry.

use crate::error::{RegistryError, SinkError};
use crate::registry::{RegistrantId, Registry};
use crate::sink::{
    CallbackAuth, CallbackSink, Delivery, HttpMethod, RecordFailure, RecordStatus, ResultPath,
    SeedResult,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// What one delivery to the sink did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveReport {
    /// Tokens newly stored.
    pub stored: usize,
    /// Tokens already stored (replays).
    pub unchanged: usize,
    /// Registrants holding a different token: not overwritten.
    pub conflicts: Vec<RegistrantId>,
    /// Failures recorded with MTS's code.
    pub failures: usize,
}

/// A sink that receives results in process (from [`MemorySeeder`](super::MemorySeeder)) and
/// stores each token through its registry; it remembers MTS's code for every failure.
pub struct MemorySink {
    registry: Arc<dyn Registry>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    failures: BTreeMap<RegistrantId, RecordFailure>,
    received: usize,
    recording: Option<Vec<SeedResult>>,
}

impl fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemorySink")
            .field("registry", &self.registry)
            .field("received", &state.received)
            .field("failures", &state.failures.len())
            .finish()
    }
}

impl MemorySink {
    /// A sink storing tokens into `registry`.
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self {
            registry,
            state: Mutex::new(State::default()),
        }
    }

    /// Keeps a copy of every result received, for tests ([`recorded`](Self::recorded)).
    pub fn recording(self) -> Self {
        self.lock().recording = Some(Vec::new());
        self
    }

    /// The results received so far, when [`recording`](Self::recording).
    pub fn recorded(&self) -> Vec<SeedResult> {
        self.lock().recording.clone().unwrap_or_default()
    }

    /// Receives delivered results: stores the tokens of processed records, records the others'
    /// failures. A result received twice stores one token.
    pub async fn receive(&self, results: &[SeedResult]) -> Result<ReceiveReport, RegistryError> {
        let tokens: Vec<_> = results
            .iter()
            .filter(|r| r.status == RecordStatus::Processed)
            .filter_map(|r| Some((r.registrant, r.token.clone()?)))
            .collect();
        let stored = self.registry.store_tokens(&tokens).await?;
        let mut state = self.lock();
        state.received += results.len();
        if let Some(recording) = state.recording.as_mut() {
            recording.extend_from_slice(results);
        }
        let mut failures = 0;
        for r in results {
            if matches!(r.status, RecordStatus::Error | RecordStatus::Invalid) {
                failures += 1;
                state.failures.insert(
                    r.registrant,
                    RecordFailure {
                        code: r.error_code.clone().unwrap_or_else(|| "UNKNOWN".into()),
                        message: r.error_message.clone().unwrap_or_default(),
                    },
                );
            } else if r.status == RecordStatus::Processed {
                state.failures.remove(&r.registrant);
            }
        }
        Ok(ReceiveReport {
            stored: stored.stored,
            unchanged: stored.unchanged,
            conflicts: stored.conflicts,
            failures,
        })
    }

    /// How many results it has received.
    pub fn received(&self) -> usize {
        self.lock().received
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl CallbackSink for MemorySink {
    async fn delivery(&self) -> Result<Delivery, SinkError> {
        Ok(Delivery {
            url: "memory://omc/callback"
                .parse()
                .map_err(|_| SinkError::Misconfigured {
                    message: "memory sink URL".into(),
                })?,
            http_method: HttpMethod::Post,
            timeout_seconds: 10,
            call_in_bulk: true,
            output_format: None,
            extra_headers: BTreeMap::new(),
            auth: CallbackAuth::None,
        })
    }

    fn result_path(&self) -> ResultPath {
        ResultPath::Received
    }

    async fn failures(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, RecordFailure>, SinkError> {
        let state = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| Some((*id, state.failures.get(id)?.clone())))
            .collect())
    }
}
