//! The two roles of a callback sink, one trait each: [`CallbackSink`] describes the delivery
//! (what MTS is told) and opens a run; [`RunResults`] is that run's handle on what came back.
//!
//! A run opens its own [`SinkRun`]: the [`Delivery`] for its batches and its [`RunResults`].
//! Whatever a run needs of a sink (a bearer secret, the registrants it expects results for, the
//! failures and problems it heard) belongs to its handle, so several runs share a sink safely,
//! and dropping the handle retires them. Sinks whose callbacks someone else stores (Odoo,
//! OpenG2P's API) hand out [`ReadBackOnly`]: the engine learns their outcome by reading tokens
//! back.

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
#[non_exhaustive]
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
#[derive(Clone)]
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
#[derive(Clone)]
#[non_exhaustive]
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

impl Delivery {
    /// A delivery to `url`, authenticated by `auth`: POST, a 10 s timeout, one callback per
    /// record, MTS's own body (`.output`) and no extra header; set the other fields after.
    pub fn new(url: Url, auth: CallbackAuth) -> Self {
        Self {
            url,
            http_method: HttpMethod::Post,
            timeout_seconds: 10,
            call_in_bulk: false,
            output_format: None,
            extra_headers: Headers::new(),
            auth,
        }
    }
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

/// The first role: what MTS is told. A sink opens a [`SinkRun`] for each run; runs may be open
/// at once, each with its own delivery and its own [`RunResults`].
///
/// Implementations: [`MemorySink`](crate::memory::MemorySink),
/// [`SelfHostedSink`](crate::SelfHostedSink), `omc_odoo::OdooCallbackSink`,
/// `omc_odoo::OpenG2pApiSink`.
#[async_trait]
pub trait CallbackSink: fmt::Debug + Send + Sync + 'static {
    /// Opens a run: the delivery MTS must use for the run's batches (with a bearer secret of
    /// the run's own, where the sink authenticates callbacks by one) and the handle through
    /// which the run hears its results. Fails when the sink cannot describe a delivery
    /// (missing credentials, an unknown token type, a URL that cannot take a path); nothing is
    /// sent then.
    async fn open_run(&self) -> Result<SinkRun, SinkError>;
}

/// What a sink hands one run.
#[derive(Debug)]
pub struct SinkRun {
    /// What MTS is told for each of the run's batches.
    pub delivery: Delivery,
    /// Where the run hears what came back. Dropping it retires what the sink keeps for the
    /// run (its bearer secret, the registrants it expects, their failures).
    pub results: Box<dyn RunResults>,
}

impl SinkRun {
    /// A run whose results someone else stores: the engine learns the outcome only by reading
    /// tokens back ([`ReadBackOnly`]).
    pub fn read_back(delivery: Delivery) -> Self {
        Self {
            delivery,
            results: Box::new(ReadBackOnly),
        }
    }
}

/// The second role: one run's handle on what came back. A receiving sink stores tokens
/// through the `Registry` itself and hears every result; a read-back sink hears nothing
/// ([`ReadBackOnly`]). Every method concerns this run alone: another run sharing the sink
/// neither sees nor changes what it holds.
#[async_trait]
pub trait RunResults: fmt::Debug + Send + Sync + 'static {
    /// Whether this run hears MTS's failed records: then a batch MTS processed with errors of
    /// which nothing was heard means callbacks are lost. `false` for a read-back sink, where a
    /// failed record leaves no trace.
    fn hears_failures(&self) -> bool;

    /// Accepts results for these registrants from now on: called with a batch's registrants
    /// just before the batch is submitted. A receiving sink refuses results for registrants
    /// no open run expects.
    async fn expect(&self, ids: &[RegistrantId]) -> Result<(), SinkError>;

    /// The failures this run heard for these registrants, with MTS's code and message.
    async fn failures(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, RecordFailure>, SinkError>;

    /// Of these registrants (found holding a token), those whose token this run's callbacks
    /// stored; the others' tokens were stored by someone else (another connector, another
    /// run) and the engine counts them as already tokenised. `None`: the sink stores nothing
    /// itself, every token read back counts. Waits for stores of them under way.
    async fn stored_here(
        &self,
        ids: &[RegistrantId],
    ) -> Result<Option<BTreeSet<RegistrantId>>, SinkError>;

    /// The engine has accounted for these registrants (their token read back, their failure
    /// read, or their batch surely never reached the seeder): the run forgets their failures
    /// and stored tokens, so that it holds per-registrant data only for batches in flight.
    /// Results for them are still accepted until the run ends.
    async fn settle(&self, ids: &[RegistrantId]) -> Result<(), SinkError>;

    /// Takes the delivery problems this run saw since the last call (refused callbacks,
    /// conflicts, duplicate groups), leaving none behind.
    async fn take_problems(&self) -> Result<DeliveryProblems, SinkError>;
}

/// The results of a run whose callbacks someone else stores (Odoo's `call_kw`, OpenG2P's API):
/// it hears no failure, stores nothing and sees no problem; the engine reads tokens back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadBackOnly;

#[async_trait]
impl RunResults for ReadBackOnly {
    fn hears_failures(&self) -> bool {
        false
    }

    async fn expect(&self, _ids: &[RegistrantId]) -> Result<(), SinkError> {
        Ok(())
    }

    async fn failures(
        &self,
        _ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, RecordFailure>, SinkError> {
        Ok(BTreeMap::new())
    }

    async fn stored_here(
        &self,
        _ids: &[RegistrantId],
    ) -> Result<Option<BTreeSet<RegistrantId>>, SinkError> {
        Ok(None)
    }

    async fn settle(&self, _ids: &[RegistrantId]) -> Result<(), SinkError> {
        Ok(())
    }

    async fn take_problems(&self) -> Result<DeliveryProblems, SinkError> {
        Ok(DeliveryProblems::default())
    }
}

/// A sink chosen at run time.
pub type DynCallbackSink = Arc<dyn CallbackSink>;
