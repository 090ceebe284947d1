//! The self-hosted callback receiver: MTS calls the service that embeds OMC, and OMC stores
//! each token through the [`Registry`] itself.
//!
//! [`CallbackReceiver`] knows no HTTP framework: the embedder's server hands it each request's
//! method, path, headers and body ([`CallbackRequest`]) and sends back the
//! [`CallbackResponse`]. It serves three paths:
//!
//! - the callback path (default `/omc/callback`), any of MTS's methods (POST, PUT, PATCH, GET
//!   with a JSON body): authenticates the caller, parses one result or a bulk list (the shape
//!   [`payload::output_format`] makes MTS produce), refuses results for registrants this
//!   connector did not send, stores each token (idempotent: a replay answers "already stored";
//!   a different token is a conflict, never overwritten), records MTS's code and message for
//!   each failure, and reports registrants that share a token as a duplicate group;
//! - `/web/session/authenticate` and `/web/session/logout`, Odoo-compatible, for MTS's
//!   callback auth type `odoo` (a GET with a JSON-RPC body; a `session_id` cookie, or a
//!   JSON-RPC `AccessDenied` error). Sessions are short-lived and accepted on the callback path
//!   only.
//!
//! Every refusal changes nothing and is counted by reason; [`SelfHostedSink`] hands the counts
//! to the engine, which puts them in the run report: MTS ignores refusals, so the report is the
//! only place an operator learns that callbacks were refused.

mod auth;
pub(crate) mod ids;
pub mod payload;
mod sink;

pub use payload::{Malformed, PayloadLimits, output_format, parse_results};
pub use sink::SelfHostedSink;

use crate::error::RegistryError;
use crate::registry::{RegistrantId, Registry};
use crate::sink::{DeliveryProblems, RecordFailure, RecordStatus, SeedResult};
use auth::{Auth, AuthRefusal};
use ids::IdSet;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The code a failure is recorded with when the registrant no longer exists or is archived.
pub const REGISTRANT_GONE: &str = "OMC-REGISTRANT-GONE";

/// The receiver's settings.
#[derive(Debug, Clone)]
pub struct ReceiverSettings {
    /// The path MTS calls back (default `/omc/callback`).
    pub callback_path: String,
    /// Odoo's login path (default `/web/session/authenticate`).
    pub login_path: String,
    /// Odoo's logout path (default `/web/session/logout`).
    pub logout_path: String,
    /// Bounds on a callback body.
    pub limits: PayloadLimits,
    /// How long a session lives (default 15 minutes: MTS logs in right before its callbacks).
    pub session_ttl: Duration,
    /// The most sessions open at once; the oldest is dropped beyond (default 64).
    pub max_sessions: usize,
}

impl Default for ReceiverSettings {
    fn default() -> Self {
        Self {
            callback_path: "/omc/callback".into(),
            login_path: "/web/session/authenticate".into(),
            logout_path: "/web/session/logout".into(),
            limits: PayloadLimits::default(),
            session_ttl: Duration::from_secs(15 * 60),
            max_sessions: 64,
        }
    }
}

/// One HTTP request, as any server framework can give it.
#[derive(Clone, Default)]
pub struct CallbackRequest {
    /// The method (`POST`, `PUT`, `PATCH`, `GET`, ...).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The headers (names in any case). Values may be secret.
    pub headers: Vec<(String, String)>,
    /// The body. Personal data.
    pub body: Vec<u8>,
}

impl fmt::Debug for CallbackRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl CallbackRequest {
    /// A request with no headers.
    pub fn new(method: &str, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn bearer(&self) -> Option<&str> {
        self.headers_named("authorization").find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        })
    }

    fn session(&self) -> Option<&str> {
        self.headers_named("cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == "session_id")
            .map(|(_, value)| value)
    }
}

/// The answer to send back: a status, headers (a `Set-Cookie` after a login) and a JSON body
/// that says what happened, without personal data.
#[derive(Clone)]
pub struct CallbackResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers to set. Values may be secret (a session cookie).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

impl fmt::Debug for CallbackResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackResponse")
            .field("status", &self.status)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body", &self.body)
            .finish()
    }
}

impl CallbackResponse {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    fn refused(status: u16, reason: &str, detail: String) -> Self {
        Self::json(status, json!({"refused": reason, "detail": detail}))
    }

    /// The body as bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.to_string().into_bytes()
    }
}

/// What the receiver remembers between callbacks (no personal data).
#[derive(Default)]
struct State {
    /// Every registrant sent through this receiver's sink: a compact set (about 1 bit an id
    /// for Odoo's dense ids), so that a replay long after its run is still recognised.
    sent: IdSet,
    failures: BTreeMap<RegistrantId, RecordFailure>,
    problems: DeliveryProblems,
}

/// Receives MTS's callbacks for the self-hosted sink. See the [module documentation](self).
pub struct CallbackReceiver {
    registry: Arc<dyn Registry>,
    settings: ReceiverSettings,
    auth: Mutex<Auth>,
    state: Mutex<State>,
}

impl fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("CallbackReceiver")
            .field("registry", &self.registry)
            .field("settings", &self.settings)
            .field("auth", &*lock(&self.auth))
            .field("expected", &state.sent.len())
            .field("failures", &state.failures.len())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl CallbackReceiver {
    /// A receiver storing tokens into `registry`. It accepts no caller until a bearer secret
    /// is made ([`rotate_bearer`](Self::rotate_bearer)) or a user added
    /// ([`add_user`](Self::add_user)).
    pub fn new(registry: Arc<dyn Registry>, settings: ReceiverSettings) -> Self {
        Self {
            auth: Mutex::new(Auth::new(settings.session_ttl, settings.max_sessions)),
            registry,
            settings,
            state: Mutex::new(State::default()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ReceiverSettings {
        &self.settings
    }

    /// A new random bearer secret (256 bits from the OS generator) for a run's callbacks. The
    /// previous one stays valid (late callbacks of the previous run); older ones stop working.
    pub fn rotate_bearer(&self) -> SecretString {
        lock(&self.auth).rotate_bearer()
    }

    /// A user MTS may log in as with auth type `odoo`; only a salted digest of the password is
    /// kept. Adding a user with the same database and login replaces it.
    pub fn add_user(&self, database: &str, login: &str, password: &SecretString) {
        lock(&self.auth).add_user(database, login, password);
    }

    /// How many sessions are open.
    pub fn open_sessions(&self) -> usize {
        lock(&self.auth).open_sessions()
    }

    /// Accepts results for these registrants from now on (the connector is sending them).
    pub fn expect(&self, ids: &[RegistrantId]) {
        let mut state = lock(&self.state);
        for id in ids {
            state.sent.insert(*id);
        }
    }

    /// Forgets the failures recorded for these registrants: the connector has read them into
    /// its report. Keeps what the receiver holds per registrant bounded by the batches in
    /// flight; results for them are still accepted afterwards (a replay is answered as stored).
    pub fn settle(&self, ids: &[RegistrantId]) {
        let mut state = lock(&self.state);
        for id in ids {
            state.failures.remove(id);
        }
    }

    /// How many failures the receiver holds, not yet read by the connector.
    pub fn held_failures(&self) -> usize {
        lock(&self.state).failures.len()
    }

    /// How many registrants the receiver accepts results for.
    pub fn expected(&self) -> usize {
        lock(&self.state).sent.len()
    }

    /// The failures recorded for the given registrants, with MTS's code and message.
    pub fn failures(&self, ids: &[RegistrantId]) -> BTreeMap<RegistrantId, RecordFailure> {
        let state = lock(&self.state);
        ids.iter()
            .filter_map(|id| Some((*id, state.failures.get(id)?.clone())))
            .collect()
    }

    /// The problems seen since the last call, draining them.
    pub fn take_problems(&self) -> DeliveryProblems {
        std::mem::take(&mut lock(&self.state).problems)
    }

    fn refuse(&self, reason: &str) {
        *lock(&self.state)
            .problems
            .refused
            .entry(reason.to_owned())
            .or_default() += 1;
    }

    /// Handles one request. Never panics on any input.
    pub async fn handle(&self, request: CallbackRequest) -> CallbackResponse {
        let path = request.path.as_str();
        if path == self.settings.callback_path {
            self.callback(&request).await
        } else if path == self.settings.login_path {
            self.login(&request)
        } else if path == self.settings.logout_path {
            if let Some(session) = request.session() {
                lock(&self.auth).logout(session);
            }
            CallbackResponse::json(200, json!({"jsonrpc": "2.0", "id": null, "result": true}))
        } else {
            CallbackResponse::refused(404, "not found", "no such path".into())
        }
    }

    fn login(&self, request: &CallbackRequest) -> CallbackResponse {
        if request.body.len() > 64 * 1024 {
            return CallbackResponse::refused(413, "body too large", "login body".into());
        }
        let call: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            call.get("params")
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let session = lock(&self.auth).login(text("db"), text("login"), text("password"));
        let Some(session) = session else {
            self.refuse("login refused: wrong database, login or password");
            return CallbackResponse::json(
                200,
                json!({"jsonrpc": "2.0", "id": id, "error": {
                    "code": 200, "message": "Odoo Server Error",
                    "data": {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied",
                             "arguments": ["Access Denied"], "context": {}}}}),
            );
        };
        let mut response = CallbackResponse::json(
            200,
            json!({"jsonrpc": "2.0", "id": id, "result": {"uid": 1, "db": text("db")}}),
        );
        response.headers.push((
            "set-cookie".into(),
            format!("session_id={session}; HttpOnly; SameSite=Lax; Path=/"),
        ));
        response
    }

    async fn callback(&self, request: &CallbackRequest) -> CallbackResponse {
        let method = request.method.to_ascii_uppercase();
        if !matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "GET") {
            self.refuse("method not allowed");
            return CallbackResponse::refused(405, "method not allowed", method);
        }
        let checked = lock(&self.auth).check(request.bearer(), request.session());
        if let Err(refusal) = checked {
            self.refuse(refusal.reason());
            let status = if refusal == AuthRefusal::NoCredentials {
                401
            } else {
                403
            };
            return CallbackResponse::refused(status, "unauthenticated", refusal.reason().into());
        }
        let results = match parse_results(&request.body, &self.settings.limits) {
            Ok(results) => results,
            Err(malformed) => {
                self.refuse(&format!("malformed: {}", malformed.reason()));
                let status = if matches!(malformed, Malformed::TooLarge { .. }) {
                    413
                } else {
                    400
                };
                return CallbackResponse::refused(
                    status,
                    malformed.reason(),
                    malformed.to_string(),
                );
            }
        };
        let strangers: Vec<RegistrantId> = {
            let state = lock(&self.state);
            results
                .iter()
                .map(|r| r.registrant)
                .filter(|id| !state.sent.contains(*id))
                .collect()
        };
        if !strangers.is_empty() {
            self.refuse("registrant not sent by this connector");
            return CallbackResponse::refused(
                422,
                "registrant not sent by this connector",
                format!("registrants {strangers:?} were not sent by this connector"),
            );
        }
        match self.store(&results).await {
            Ok(answer) => CallbackResponse::json(200, answer),
            Err(error) => {
                tracing::warn!(
                    results = results.len(),
                    "storing callback results failed: {error}"
                );
                self.refuse("registry unavailable");
                CallbackResponse::refused(503, "registry unavailable", "retry later".into())
            }
        }
    }

    /// Stores the tokens, records the failures, looks for duplicates; the answer's body.
    async fn store(&self, results: &[SeedResult]) -> Result<Value, RegistryError> {
        let tokens: Vec<_> = results
            .iter()
            .filter_map(|r| Some((r.registrant, r.token.clone()?)))
            .collect();
        let stored = self.registry.store_tokens(&tokens).await?;
        let gone: BTreeSet<RegistrantId> = stored.missing.iter().copied().collect();
        let kept: Vec<_> = tokens
            .iter()
            .filter(|(id, _)| !gone.contains(id))
            .map(|(_, t)| t.clone())
            .collect();
        let groups: BTreeSet<Vec<RegistrantId>> = match self.registry.holders(&kept).await {
            Ok(holders) => holders.into_values().filter(|h| h.len() > 1).collect(),
            Err(e) => {
                tracing::debug!("looking for duplicates failed: {e}");
                BTreeSet::new()
            }
        };
        let mut failed = 0;
        let mut state = lock(&self.state);
        for r in results {
            if gone.contains(&r.registrant) {
                state.failures.insert(
                    r.registrant,
                    RecordFailure {
                        code: REGISTRANT_GONE.into(),
                        message: "the registrant no longer exists or is archived".into(),
                    },
                );
            } else if r.status == RecordStatus::Processed {
                state.failures.remove(&r.registrant);
            } else {
                failed += 1;
                state.failures.insert(
                    r.registrant,
                    RecordFailure {
                        code: r.error_code.clone().unwrap_or_else(|| "UNKNOWN".into()),
                        message: r.error_message.clone().unwrap_or_default(),
                    },
                );
            }
        }
        state
            .problems
            .conflicts
            .extend(stored.conflicts.iter().copied());
        state
            .problems
            .duplicate_groups
            .extend(groups.iter().cloned());
        drop(state);
        tracing::debug!(
            results = results.len(),
            stored = stored.stored,
            unchanged = stored.unchanged,
            conflicts = stored.conflicts.len(),
            failed,
            duplicate_groups = groups.len(),
            "callback stored"
        );
        Ok(json!({
            "received": results.len(),
            "stored": stored.stored,
            "alreadyStored": stored.unchanged,
            "conflicts": stored.conflicts,
            "missing": stored.missing,
            "failures": failed,
            "duplicates": groups,
        }))
    }
}
