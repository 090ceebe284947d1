//! The self-hosted callback receiver: MTS calls the service that embeds OMC, and OMC stores
//! each token through the [`Registry`] itself.
//!
//! [`CallbackReceiver`] knows no HTTP framework. The embedder's server hands it each request in
//! two steps, so that nothing of a body is read before its sender is known:
//! [`authorize`](CallbackReceiver::authorize) decides on the [`RequestHead`] (method, path,
//! headers, the caller's address) and either answers at once (unknown path, wrong method, no or
//! wrong credentials, a throttled address, a logout) or admits the request ([`Authorized`]),
//! saying how much body to read at most; [`handle_body`](CallbackReceiver::handle_body) then
//! takes that body. [`handle`](CallbackReceiver::handle) does both for a whole
//! [`CallbackRequest`].
//!
//! Each run opens a [`ReceiverRun`] ([`CallbackReceiver::open_run`]): a bearer secret of its
//! own and the registrants it expects, kept until the handle is dropped, so runs open at once
//! never revoke each other's secret. A callback carrying a run's bearer counts for that run; one
//! of an Odoo-style session for every open run expecting its registrants. The receiver serves
//! three paths:
//!
//! - the callback path (default `/omc/callback`), any of MTS's methods (POST, PUT, PATCH, GET
//!   with a JSON body): authenticates the caller, parses one result or a bulk list (the shape
//!   [`payload::output_format`] makes MTS produce), refuses results for registrants the
//!   caller's run (for a session: every open run) did not send, stores each token (idempotent: a replay answers "already stored";
//!   a different token is a conflict, never overwritten), records MTS's code and message for
//!   each failure, and reports registrants that share a token as a duplicate group;
//! - `/web/session/authenticate` and `/web/session/logout`, Odoo-compatible, for MTS's
//!   callback auth type `odoo` (a GET with a JSON-RPC body of at most 4 KiB; a `session_id`
//!   cookie, `Secure` when the sink's public URL is https, or a JSON-RPC `AccessDenied` error).
//!   Logins are throttled per login and per address, with a backoff after failures
//!   ([`LoginThrottle`]). Sessions are short-lived and accepted on the callback path only.
//!
//! Every refusal changes nothing, is logged as it happens (`warn`, its reason and counts, never
//! personal data or credentials; past 20 lines a second the lines are dropped and counted on
//! the next one) and is counted by reason: for the caller's run once the caller is known, for
//! every open run before (a wrong bearer may be any run's); each run takes its own
//! ([`ReceiverRun::take_problems`]) and the engine puts them in the run report.

mod auth;
mod callback;
pub(crate) mod ids;
pub mod payload;
mod refusals;
mod request;
mod run;
mod sink;
mod throttle;

pub use payload::{Malformed, PayloadLimits, output_format, parse_results};
pub use request::{Authorized, BodyRefusal, CallbackRequest, CallbackResponse, RequestHead};
pub use run::ReceiverRun;
pub use sink::SelfHostedSink;
pub use throttle::LoginThrottle;

use crate::registry::{RegistrantId, Registry};
use crate::sink::DeliveryProblems;
use auth::{Auth, AuthRefusal, Caller};
use refusals::RefusalLog;
use request::Route;
use run::RunState;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The code a failure is recorded with when the registrant no longer exists or is archived.
pub const REGISTRANT_GONE: &str = "OMC-REGISTRANT-GONE";

/// The receiver's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// How logins are throttled.
    pub login_throttle: LoginThrottle,
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
            login_throttle: LoginThrottle::default(),
        }
    }
}

/// The most bytes of a login body read: its JSON-RPC call carries a database, a login and a
/// password.
const LOGIN_MAX_BYTES: usize = 4 * 1024;

/// The reason a throttled login is refused with.
const LOGIN_THROTTLED: &str = "login throttled: too many attempts";

/// What the receiver remembers between callbacks (no personal data).
#[derive(Default)]
struct State {
    /// The open runs, by key: what each expects, stored and heard.
    runs: BTreeMap<u64, RunState>,
    /// The key of the next run opened.
    next_run: u64,
    /// Registrants with a store under way here, and how many.
    storing: BTreeMap<RegistrantId, u32>,
    /// Every problem since they were last taken, whichever run it concerned.
    problems: DeliveryProblems,
}

impl State {
    /// The open runs expecting `id`.
    fn runs_expecting(&self, id: RegistrantId) -> Vec<u64> {
        self.runs
            .iter()
            .filter(|(_, run)| run.expected.contains(id))
            .map(|(key, _)| *key)
            .collect()
    }
}

/// Receives MTS's callbacks for the self-hosted sink. See the [module documentation](self).
pub struct CallbackReceiver {
    registry: Arc<dyn Registry>,
    settings: ReceiverSettings,
    auth: Mutex<Auth>,
    throttle: throttle::Throttle,
    state: Mutex<State>,
    refusals: RefusalLog,
    /// Whether session cookies are marked `Secure` (the sink's public URL is https).
    secure_cookies: AtomicBool,
    /// Woken when a store ends, for [`ReceiverRun::stored`] waiting on it.
    stores_ended: tokio::sync::Notify,
}

impl fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("CallbackReceiver")
            .field("registry", &self.registry)
            .field("settings", &self.settings)
            .field("auth", &*lock(&self.auth))
            .field("open_runs", &state.runs.len())
            .field(
                "expected",
                &state.runs.values().map(|r| r.expected.len()).sum::<usize>(),
            )
            .field(
                "failures",
                &state.runs.values().map(|r| r.failures.len()).sum::<usize>(),
            )
            .field(
                "secure_cookies",
                &self.secure_cookies.load(Ordering::Relaxed),
            )
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Odoo's JSON-RPC `AccessDenied` error, with `message`.
fn access_denied(id: Value, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {
        "code": 200, "message": "Odoo Server Error",
        "data": {"name": "odoo.exceptions.AccessDenied", "message": message,
                 "arguments": [message], "context": {}}}})
}

impl CallbackReceiver {
    /// A receiver storing tokens into `registry`. It accepts no caller until a run is opened
    /// ([`open_run`](Self::open_run), which makes the run's bearer secret) or a user added
    /// ([`add_user`](Self::add_user)), and no result until a run expects it.
    pub fn new(registry: Arc<dyn Registry>, settings: ReceiverSettings) -> Self {
        Self {
            auth: Mutex::new(Auth::new(settings.session_ttl, settings.max_sessions)),
            throttle: throttle::Throttle::new(settings.login_throttle.clone()),
            registry,
            settings,
            state: Mutex::new(State::default()),
            refusals: RefusalLog::new(),
            secure_cookies: AtomicBool::new(false),
            stores_ended: tokio::sync::Notify::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ReceiverSettings {
        &self.settings
    }

    /// The receiver is reached at `public_url`: its session cookies are `Secure` when that is
    /// https.
    pub(crate) fn served_at(&self, public_url: &url::Url) {
        self.secure_cookies
            .store(public_url.scheme() == "https", Ordering::Relaxed);
    }

    /// Opens a run: a new random bearer secret (256 bits from the OS generator) for its
    /// callbacks, and an empty set of registrants it expects results for. Runs open at once
    /// each keep their own; dropping the handle retires the run's secret and everything the
    /// receiver holds for it.
    pub fn open_run(self: &Arc<Self>) -> ReceiverRun {
        let key = {
            let mut state = lock(&self.state);
            let key = state.next_run;
            state.next_run += 1;
            state.runs.insert(key, RunState::default());
            key
        };
        let bearer = lock(&self.auth).add_bearer(key);
        ReceiverRun::new(self.clone(), key, bearer)
    }

    /// Forgets the run `key`: its bearer secret stops working, its expected registrants,
    /// failures and problems are dropped.
    fn close_run(&self, key: u64) {
        lock(&self.auth).retire(key);
        lock(&self.state).runs.remove(&key);
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

    /// How many failures the open runs hold, not yet settled by the engine.
    pub fn held_failures(&self) -> usize {
        let state = lock(&self.state);
        state.runs.values().map(|r| r.failures.len()).sum()
    }

    /// How many registrants the open runs accept results for (a registrant two runs expect
    /// counts twice).
    pub fn expected(&self) -> usize {
        let state = lock(&self.state);
        state.runs.values().map(|r| r.expected.len()).sum()
    }

    /// How many runs are open.
    pub fn open_runs(&self) -> usize {
        lock(&self.state).runs.len()
    }

    /// Marks registrants as being stored here.
    fn claim(&self, ids: &[RegistrantId]) {
        let mut state = lock(&self.state);
        for id in ids {
            *state.storing.entry(*id).or_default() += 1;
        }
    }

    /// After a store: the claimed registrants are no longer being stored; those it stored are
    /// recorded as stored by the runs `targets` names for them (runs closed meanwhile are
    /// skipped).
    fn release(
        &self,
        claimed: &[RegistrantId],
        stored: &[RegistrantId],
        targets: &BTreeMap<RegistrantId, Vec<u64>>,
    ) {
        {
            let mut state = lock(&self.state);
            for id in claimed {
                if let Some(n) = state.storing.get_mut(id) {
                    *n -= 1;
                    if *n == 0 {
                        state.storing.remove(id);
                    }
                }
            }
            for id in stored {
                for key in targets.get(id).into_iter().flatten() {
                    if let Some(run) = state.runs.get_mut(key) {
                        run.stored.insert(*id);
                    }
                }
            }
        }
        self.stores_ended.notify_waiters();
    }

    /// Takes every problem seen since the last call, whichever run it concerned (each run
    /// takes its own through [`ReceiverRun::take_problems`]).
    pub fn take_problems(&self) -> DeliveryProblems {
        std::mem::take(&mut lock(&self.state).problems)
    }

    /// Counts a refusal by its reason, and logs it; `results` is how many results the body
    /// carried (0 when it was not read). It counts for the run `run` when the caller is known
    /// to be that run's, else for every open run (a refusal before the caller is known may
    /// concern any of them).
    fn refuse(&self, reason: &str, results: usize, run: Option<u64>) {
        let count = {
            let mut state = lock(&self.state);
            let state = &mut *state;
            for (key, open) in &mut state.runs {
                if run.is_none_or(|r| r == *key) {
                    *open.problems.refused.entry(reason.to_owned()).or_default() += 1;
                }
            }
            let count = state.problems.refused.entry(reason.to_owned()).or_default();
            *count += 1;
            *count
        };
        self.refusals.log(reason, count, results);
    }

    /// Handles one whole request: [`authorize`](Self::authorize), then
    /// [`handle_body`](Self::handle_body). Never panics on any input.
    pub async fn handle(&self, request: CallbackRequest) -> CallbackResponse {
        match self.authorize(&request.head) {
            Ok(authorized) => self.handle_body(authorized, &request.body).await,
            Err(answer) => answer,
        }
    }

    /// Decides on a request from its head alone, before any of its body is read: `Ok` admits
    /// it (read at most [`Authorized::max_body_bytes`] of the body, then call
    /// [`handle_body`](Self::handle_body)); `Err` is the answer to send without reading the
    /// body: an unknown path (404), a method MTS does not use (405), missing or wrong
    /// credentials on the callback path (401, 403), a login from an address locked by its
    /// failures (429), or a logout, done here (it needs no body). Never panics.
    pub fn authorize(&self, head: &RequestHead) -> Result<Authorized, CallbackResponse> {
        let path = head.path.as_str();
        if path == self.settings.callback_path {
            let method = head.method.to_ascii_uppercase();
            if !matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "GET") {
                self.refuse("method not allowed", 0, None);
                return Err(CallbackResponse::refused(405, "method not allowed", method));
            }
            let checked = lock(&self.auth).check(head.bearer(), head.session());
            let caller = match checked {
                Ok(caller) => caller,
                Err(refusal) => {
                    self.refuse(refusal.reason(), 0, None);
                    let status = if refusal == AuthRefusal::NoCredentials {
                        401
                    } else {
                        403
                    };
                    return Err(CallbackResponse::refused(
                        status,
                        "unauthenticated",
                        refusal.reason().into(),
                    ));
                }
            };
            Ok(Authorized {
                route: Route::Callback { caller },
                max_body_bytes: self.settings.limits.max_bytes,
            })
        } else if path == self.settings.login_path {
            if let Some(wait) = self.throttle.address_locked(head.peer) {
                self.refuse(LOGIN_THROTTLED, 0, None);
                return Err(Self::throttled(Value::Null, wait));
            }
            Ok(Authorized {
                route: Route::Login { peer: head.peer },
                max_body_bytes: LOGIN_MAX_BYTES,
            })
        } else if path == self.settings.logout_path {
            if let Some(session) = head.session() {
                lock(&self.auth).logout(session);
            }
            Err(CallbackResponse::json(
                200,
                json!({"jsonrpc": "2.0", "id": null, "result": true}),
            ))
        } else {
            Err(CallbackResponse::refused(
                404,
                "not found",
                "no such path".into(),
            ))
        }
    }

    /// Handles the body of a request [`authorize`](Self::authorize) admitted. A body longer
    /// than [`Authorized::max_body_bytes`] is refused unread. Never panics on any input.
    pub async fn handle_body(&self, authorized: Authorized, body: &[u8]) -> CallbackResponse {
        if body.len() > authorized.max_body_bytes {
            return self.refuse_body(authorized, BodyRefusal::TooLarge);
        }
        match authorized.route {
            Route::Callback { caller } => self.callback(body, caller).await,
            Route::Login { peer } => self.login(body, peer),
        }
    }

    /// The answer to an admitted request whose body could not be read; the refusal is counted
    /// and logged like any other.
    pub fn refuse_body(&self, authorized: Authorized, refusal: BodyRefusal) -> CallbackResponse {
        let limit = authorized.max_body_bytes;
        let run = match authorized.route {
            Route::Callback {
                caller: Caller::Run(run),
            } => Some(run),
            _ => None,
        };
        let (status, reason, counted) = match (refusal, authorized.route) {
            (BodyRefusal::TooLarge, Route::Callback { .. }) => {
                (413, "body too large", "malformed: body too large")
            }
            (BodyRefusal::TooLarge, Route::Login { .. }) => {
                (413, "body too large", "login refused: body too large")
            }
            (BodyRefusal::TimedOut, _) => (408, "body timed out", "body not received in time"),
            (BodyRefusal::Broken, _) => (400, "body cut off", "body cut off or badly framed"),
        };
        self.refuse(counted, 0, run);
        let detail = match refusal {
            BodyRefusal::TooLarge => format!("the body is larger than the limit of {limit} bytes"),
            BodyRefusal::TimedOut | BodyRefusal::Broken => counted.into(),
        };
        CallbackResponse::refused(status, reason, detail)
    }

    /// A throttled login's answer: Odoo's own words for it, and when to try again.
    fn throttled(id: Value, wait: Duration) -> CallbackResponse {
        let mut answer = CallbackResponse::json(
            429,
            access_denied(
                id,
                "Too many login failures, please wait a bit before trying again.",
            ),
        );
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        answer
            .headers
            .push(("retry-after".into(), seconds.max(1).to_string()));
        answer
    }

    fn login(&self, body: &[u8], peer: Option<IpAddr>) -> CallbackResponse {
        let call: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            call.get("params")
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let key = auth::login_key(text("db"), text("login"));
        if let Err(wait) = self.throttle.admit(&key, peer) {
            self.refuse(LOGIN_THROTTLED, 0, None);
            return Self::throttled(id, wait);
        }
        let session = lock(&self.auth).login(text("db"), text("login"), text("password"));
        self.throttle.record(&key, peer, session.is_some());
        let Some(session) = session else {
            self.refuse("login refused: wrong database, login or password", 0, None);
            return CallbackResponse::json(200, access_denied(id, "Access Denied"));
        };
        let mut response = CallbackResponse::json(
            200,
            json!({"jsonrpc": "2.0", "id": id, "result": {"uid": 1, "db": text("db")}}),
        );
        let secure = if self.secure_cookies.load(Ordering::Relaxed) {
            "; Secure"
        } else {
            ""
        };
        response.headers.push((
            "set-cookie".into(),
            format!("session_id={session}; HttpOnly; SameSite=Lax; Path=/{secure}"),
        ));
        response
    }
}
