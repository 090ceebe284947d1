//! [`MtsClient`]: the [`TokenSeeder`] that talks to a real MTS (or the emulator) over HTTP.

use crate::envelope::{self, EnvelopeMeta};
use crate::error_map::{self, UNKNOWN_REQUEST};
use crate::policy::{RetryPolicy, TimeoutPolicy};
use async_trait::async_trait;
use backon::Retryable as _;
use bytes::Bytes;
use omc_core::sink::redact_url;
use omc_core::{Delivery, RequestId, RequestStatus, SeedRequest, SeederError, TokenSeeder};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, SystemTime};
use url::Url;

const SUBMIT: &str = "POST authtoken/json";
const STATUS: &str = "GET authtoken/status";

/// A [`TokenSeeder`] speaking MTS's HTTP API (`authtoken/json`, `authtoken/status/{id}`).
///
/// Cheap to clone; clones share one connection pool. Build it with [`MtsClient::builder`].
#[derive(Clone)]
pub struct MtsClient {
    http: reqwest::Client,
    base: Url,
    meta: EnvelopeMeta,
    timeouts: TimeoutPolicy,
    retry: RetryPolicy,
}

impl fmt::Debug for MtsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtsClient")
            .field("base_url", &redact_url(&self.base))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Why an [`MtsClient`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL cannot carry MTS's endpoint paths (it is not `http` or `https`).
    #[error("MTS base URL unusable: {message}")]
    BaseUrl {
        /// What is wrong with it.
        message: String,
    },
    /// The CA bundle is not PEM.
    #[error("MTS CA bundle unreadable")]
    CaBundle(#[source] reqwest::Error),
    /// The HTTP client could not be set up (TLS initialisation).
    #[error("MTS HTTP client could not be built")]
    Client(#[source] reqwest::Error),
}

/// Builds an [`MtsClient`]; errors are reported by [`build`](Self::build).
pub struct MtsClientBuilder {
    base: Url,
    meta: EnvelopeMeta,
    timeouts: TimeoutPolicy,
    retry: RetryPolicy,
    ca_bundle: Option<Vec<u8>>,
}

impl fmt::Debug for MtsClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtsClientBuilder")
            .field("base_url", &redact_url(&self.base))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("ca_bundle", &self.ca_bundle.is_some())
            .finish_non_exhaustive()
    }
}

impl MtsClient {
    /// Starts a builder for the MTS at `base_url` (for example `http://mts:8000/v1/mts/`; the
    /// trailing slash is optional). Endpoint paths are resolved relative to it.
    pub fn builder(base_url: Url) -> MtsClientBuilder {
        MtsClientBuilder {
            base: base_url,
            meta: EnvelopeMeta::default(),
            timeouts: TimeoutPolicy::default(),
            retry: RetryPolicy::default(),
            ca_bundle: None,
        }
    }

    /// The MTS base URL, always ending with `/`. May carry credentials: print it with
    /// [`redact_url`].
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The exact body [`submit`](TokenSeeder::submit) posts to `authtoken/json` for `request`
    /// with `delivery`, stamped with the current time: for benchmarks, and for checking what
    /// would be sent. It holds personal data and secrets: never log it. Not part of the API.
    #[doc(hidden)]
    pub fn submission_body(&self, request: &SeedRequest, delivery: &Delivery) -> Vec<u8> {
        envelope::submission(&self.meta, request, delivery, SystemTime::now())
    }

    async fn submit_once(&self, body: Bytes, records: usize) -> Result<RequestId, SeederError> {
        let url = self.endpoint(&["authtoken", "json"]);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(self.timeouts.for_submission(records))
            .send()
            .await
            .map_err(|e| error_map::transport(SUBMIT, e))?;
        let response = read(SUBMIT, response).await?;
        match response.get("request_identifier").and_then(Value::as_str) {
            Some(id) => Ok(RequestId(id.to_owned())),
            None => Err(SeederError::Protocol {
                message: format!("{SUBMIT}: answer without request_identifier"),
            }),
        }
    }

    async fn status_once(&self, request: &RequestId) -> Result<RequestStatus, SeederError> {
        let url = self.endpoint(&["authtoken", "status", &request.0]);
        let sent = self.http.get(url).timeout(self.timeouts.base).send().await;
        let response = sent.map_err(|e| error_map::transport(STATUS, e))?;
        match read(STATUS, response).await {
            Ok(response) => match response.get("status").and_then(Value::as_str) {
                Some(word) => Ok(RequestStatus::from_mts(word)),
                None => Err(SeederError::Protocol {
                    message: format!("{STATUS}: answer without status for request {request}"),
                }),
            },
            Err(SeederError::Rejected {
                http_status: 404,
                code,
                ..
            }) if code == UNKNOWN_REQUEST => Ok(RequestStatus::Gone),
            Err(other) => Err(other),
        }
    }

    /// Asks MTS whether it is alive (`GET ping`). MTS answers a bare JSON string, not an
    /// envelope: `"[<pod> - <worker>] pong"`; anything else (another status, another body:
    /// the URL reaches some other server) is [`SeederError::Protocol`]. A connection error is
    /// [`SeederError::NotDelivered`].
    pub async fn ping(&self) -> Result<(), SeederError> {
        let url = self.endpoint(&["ping"]);
        let sent = self.http.get(url).timeout(self.timeouts.base).send().await;
        let response = sent.map_err(|e| error_map::transport("ping", e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(SeederError::Protocol {
                message: format!("ping: MTS answered HTTP {}", status.as_u16()),
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| error_map::transport("ping", e))?;
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::String(pong)) if pong.ends_with("pong") => Ok(()),
            _ => Err(SeederError::Protocol {
                message: "ping: the answer is not MTS's (a JSON string ending in pong)".into(),
            }),
        }
    }

    /// The mapping keys MTS understands (`GET authtoken/authfields`), in MTS's order: the real
    /// MTS answers `{"response": {"authfields": [...]}}` inside its envelope. A connection
    /// error is [`SeederError::NotDelivered`]; an answer without a list of strings there is
    /// [`SeederError::Protocol`].
    pub async fn authfields(&self) -> Result<Vec<String>, SeederError> {
        const CALL: &str = "GET authtoken/authfields";
        let url = self.endpoint(&["authtoken", "authfields"]);
        let sent = self.http.get(url).timeout(self.timeouts.base).send().await;
        let response = read(CALL, sent.map_err(|e| error_map::transport(CALL, e))?).await?;
        response
            .get("authfields")
            .and_then(Value::as_array)
            .and_then(|fields| {
                fields
                    .iter()
                    .map(|f| f.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| SeederError::Protocol {
                message: format!("{CALL}: the answer has no list of authfields"),
            })
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

async fn read(call: &str, response: reqwest::Response) -> Result<Value, SeederError> {
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| error_map::transport(call, e))?;
    error_map::answer(call, status, &body)
}

/// Status GETs are retried on anything that may pass: no connection, a timeout, a 5xx.
fn status_retryable(error: &SeederError) -> bool {
    match error {
        SeederError::NotDelivered { .. } | SeederError::Uncertain { .. } => true,
        SeederError::Rejected { http_status, .. } => *http_status >= 500,
        _ => false,
    }
}

#[async_trait]
impl TokenSeeder for MtsClient {
    /// Posts the batch, once: a submission is never retried here. Its caller owns that (the
    /// engine's `WaitPolicy::submit_retries`), and retries only an error that
    /// [`is_safe_to_retry`](SeederError::is_safe_to_retry): two owners would multiply the
    /// POSTs and compound the backoffs.
    async fn submit(
        &self,
        request: &SeedRequest,
        delivery: &Delivery,
    ) -> Result<RequestId, SeederError> {
        let body = Bytes::from(self.submission_body(request, delivery));
        let records = request.authdata.len();
        let id = self.submit_once(body, records).await?;
        tracing::debug!(request = %id, records, "MTS accepted a batch");
        Ok(id)
    }

    async fn status(&self, request: &RequestId) -> Result<RequestStatus, SeederError> {
        (|| self.status_once(request))
            .retry(self.retry.backoff())
            .when(status_retryable)
            .await
    }
}

impl MtsClientBuilder {
    /// Sets the timeouts (default [`TimeoutPolicy::default`]).
    pub fn with_timeouts(mut self, timeouts: TimeoutPolicy) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retries of status GETs (default [`RetryPolicy::default`]); submissions are
    /// never retried by the client.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Trusts only the CA certificates of this PEM bundle for `https` (instead of the
    /// built-in roots), for an MTS behind a private CA.
    pub fn with_ca_bundle(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_bundle = Some(pem.into());
        self
    }

    /// Sets the envelope's `id`, `version` and `metadata` strings (default
    /// `"mosip.token.seeder"`, `"1.0"`, `""`).
    pub fn with_envelope(
        mut self,
        id: impl Into<String>,
        version: impl Into<String>,
        metadata: impl Into<String>,
    ) -> Self {
        self.meta = EnvelopeMeta {
            id: id.into(),
            version: version.into(),
            metadata: metadata.into(),
        };
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<MtsClient, BuildError> {
        let mut base = self.base;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(BuildError::BaseUrl {
                message: format!("{} is not an http(s) URL", redact_url(&base)),
            });
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(pem) = &self.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(BuildError::CaBundle)?;
            http = http.tls_certs_only(certs);
        }
        Ok(MtsClient {
            http: http.build().map_err(BuildError::Client)?,
            base,
            meta: self.meta,
            timeouts: self.timeouts,
            retry: self.retry,
        })
    }
}
