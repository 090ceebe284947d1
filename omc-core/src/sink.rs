//! The [`CallbackSink`] trait: where and how MTS delivers results, and how they come back.

use crate::error::SinkError;
use crate::pii::{Token, Vid};
use crate::registry::RegistrantId;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use url::Url;

/// The HTTP method MTS uses for callbacks (it sends the JSON body with each of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// POST (the default).
    #[default]
    Post,
    /// PUT.
    Put,
    /// GET with a JSON body.
    Get,
    /// PATCH.
    Patch,
}

impl HttpMethod {
    /// The method as MTS expects it in `callbackProperties.httpMethod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Get => "GET",
            Self::Patch => "PATCH",
        }
    }
}

/// Header values that may be secret (an HTTP Basic header, an API key). Never printed.
pub type Headers = BTreeMap<String, SecretString>;

/// How MTS authenticates its callbacks.
#[non_exhaustive]
pub enum CallbackAuth {
    /// No authentication (`authType: none`).
    None,
    /// `Authorization: Bearer <token>` on every callback (`authType: staticBearer`).
    StaticBearer {
        /// The bearer token.
        token: SecretString,
    },
    /// MTS logs in to Odoo first and sends the session cookie (`authType: odoo`).
    Odoo {
        /// `.../web/session/authenticate`.
        auth_url: Url,
        /// The Odoo database.
        database: String,
        /// The Odoo login.
        username: String,
        /// The Odoo password.
        password: SecretString,
        /// Extra headers of the login call.
        extra_headers: Headers,
    },
}

impl CallbackAuth {
    /// MTS's `authType` word.
    pub fn auth_type(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StaticBearer { .. } => "staticBearer",
            Self::Odoo { .. } => "odoo",
        }
    }
}

impl fmt::Debug for CallbackAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::StaticBearer { .. } => f.write_str("StaticBearer { token: <secret> }"),
            Self::Odoo {
                auth_url,
                database,
                extra_headers,
                ..
            } => f
                .debug_struct("Odoo")
                .field("auth_url", &redact_url(auth_url))
                .field("database", database)
                .field("username", &"<set>")
                .field("password", &"<secret>")
                .field("extra_headers", &extra_headers.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// The delivery MTS must use for a batch: MTS's `callbackProperties` plus the output format.
pub struct Delivery {
    /// Where MTS calls back.
    pub url: Url,
    /// The callback's HTTP method.
    pub http_method: HttpMethod,
    /// MTS's callback timeout in seconds.
    pub timeout_seconds: u32,
    /// One callback whose body is a JSON array (`true`), or one per record.
    pub call_in_bulk: bool,
    /// The jq program MTS applies to `{"input": record, "output": result}`; `None` sends `.output`.
    pub output_format: Option<String>,
    /// Headers added to every callback. Values are never printed.
    pub extra_headers: Headers,
    /// How MTS authenticates.
    pub auth: CallbackAuth,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("url", &redact_url(&self.url))
            .field("http_method", &self.http_method)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("call_in_bulk", &self.call_in_bulk)
            .field(
                "output_format",
                &self.output_format.as_ref().map(|f| f.len()),
            )
            .field(
                "extra_headers",
                &self.extra_headers.keys().collect::<Vec<_>>(),
            )
            .field("auth", &self.auth)
            .finish()
    }
}

/// A URL without user, password, query or fragment: what may be printed of it.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// How the results of a delivery come back to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultPath {
    /// Someone else stores them (Odoo, OpenG2P's API); the engine learns the outcome only by
    /// reading tokens back, and never sees per-record errors.
    ReadBack,
    /// The sink receives them and stores tokens through the `Registry`; it also knows MTS's
    /// error code for each failed record.
    Received,
}

/// A record's state in a result MTS delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordStatus {
    /// Tokenised.
    Processed,
    /// Authentication failed.
    Error,
    /// Refused at submission by MTS's per-record rules.
    Invalid,
    /// Not yet done.
    Submitted,
    /// Being processed.
    Processing,
}

/// One result as MTS delivers it, keyed by the registrant key the connector put in `authdata`.
#[derive(Clone)]
pub struct SeedResult {
    /// The registrant the record was sent for.
    pub registrant: RegistrantId,
    /// The VID as MTS saw it (absent when it was missing).
    pub vid: Option<Vid>,
    /// The record's state.
    pub status: RecordStatus,
    /// The token, when processed.
    pub token: Option<Token>,
    /// MTS's error code, when not processed.
    pub error_code: Option<String>,
    /// MTS's error message, when not processed.
    pub error_message: Option<String>,
}

impl fmt::Debug for SeedResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedResult")
            .field("registrant", &self.registrant)
            .field("status", &self.status)
            .field("has_token", &self.token.is_some())
            .field("error_code", &self.error_code)
            .finish()
    }
}

/// A failure a receiving sink recorded for a registrant: MTS's own code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFailure {
    /// MTS's `errorCode` (for example `ATS-REQ-010`).
    pub code: String,
    /// MTS's `errorMessage`.
    pub message: String,
}

/// What went wrong delivering results to a receiving sink, for the run report. No personal
/// data: reasons, counts and registrant ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryProblems {
    /// Callbacks (and logins) the sink refused, by reason: a failed authentication, a malformed
    /// body, a registrant the connector did not send. MTS ignores these answers, so this is
    /// where an operator learns of them.
    pub refused: BTreeMap<String, u64>,
    /// Registrants that already held a different token: not overwritten.
    pub conflicts: BTreeSet<RegistrantId>,
    /// Registrants sharing one token (one person registered more than once), each group in
    /// ascending id order.
    pub duplicate_groups: BTreeSet<Vec<RegistrantId>>,
}

impl DeliveryProblems {
    /// True when nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.conflicts.is_empty() && self.duplicate_groups.is_empty()
    }

    /// Adds `other`'s problems to these.
    pub fn merge(&mut self, other: DeliveryProblems) {
        for (reason, n) in other.refused {
            *self.refused.entry(reason).or_default() += n;
        }
        self.conflicts.extend(other.conflicts);
        self.duplicate_groups.extend(other.duplicate_groups);
    }
}

/// Where and how MTS delivers results, and how they come back to the engine.
///
/// Implementations: [`MemorySink`](crate::memory::MemorySink), `omc_odoo::OdooCallbackSink`.
#[async_trait]
pub trait CallbackSink: fmt::Debug + Send + Sync + 'static {
    /// The delivery MTS must use for this run's batches.
    async fn delivery(&self) -> Result<Delivery, SinkError>;

    /// How results come back.
    fn result_path(&self) -> ResultPath;

    /// The failures this sink received for the given registrants (only for
    /// [`ResultPath::Received`]; read-back sinks know none and keep the default).
    async fn failures(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, RecordFailure>, SinkError> {
        let _ = ids;
        Ok(BTreeMap::new())
    }

    /// Of these registrants (found holding a token), those whose token this sink stored itself
    /// in this process; the others' tokens were stored by someone else (another connector, a
    /// late callback of an earlier run) and the engine counts them as already tokenised.
    /// `None` (the default): the sink stores nothing itself, every token read back counts.
    async fn stored(&self, ids: &[RegistrantId]) -> Option<BTreeSet<RegistrantId>> {
        let _ = ids;
        None
    }

    /// Called with a batch's registrants just before the batch is submitted, so that a
    /// receiving sink accepts results for them (and refuses results for anyone else). Read-back
    /// sinks keep the default, which does nothing.
    async fn expect_results(&self, ids: &[RegistrantId]) {
        let _ = ids;
    }

    /// Called when the engine has accounted for these registrants of a batch: each one's token
    /// was read back or its failure was read from [`failures`](Self::failures), or the batch
    /// surely never reached the seeder. A receiving sink may forget what it holds for them
    /// (their failures), so that it holds per-registrant data only for the batches in flight;
    /// registrants still waiting for a result are not passed. Read-back sinks keep the default,
    /// which does nothing.
    async fn results_settled(&self, ids: &[RegistrantId]) {
        let _ = ids;
    }

    /// The delivery problems seen since the last call (the call drains them); the engine
    /// copies them into the report at the end of each run. Read-back sinks see none.
    async fn delivery_problems(&self) -> DeliveryProblems {
        DeliveryProblems::default()
    }
}

/// A sink chosen at run time.
pub type DynCallbackSink = Arc<dyn CallbackSink>;
