//! An MTS emulator: a real HTTP server speaking MTS's API the way its `mts-mock` branch does.
//!
//! It refuses envelopes with MTS's HTTP statuses and codes (including the JSON `false` trap),
//! applies MTS's per-record rules, processes requests one at a time in arrival order on one
//! worker, derives `mts-mock` tokens ([`omc_core::testing::mock_token`]) and makes the callbacks
//! as MTS does: one per record or one bulk call, `outputFormat` applied, each on a new
//! connection, Odoo login and logout around them, no retries, and
//! `error_making_callback_request` after a connection error or a timeout. Requests are
//! forgotten after the retention. Like MTS, it takes a submission of any size, and handles one
//! request at a time: a POST (which can be given MTS's time to store each record,
//! [`MtsEmulator::submit_record_delay`]) holds every other call until it has answered. What it does not emulate: `csv` output (refused with
//! `ATS-REQ-102`), `download` results (accepted and processed, no file endpoint), OAuth
//! callbacks (accepted, then `error_making_callback_request`), the CSV and ODK endpoints.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let mts = omc_mts::emulator::MtsEmulator::builder().start().await?;
//! println!("MTS emulator at {}", mts.base_url());
//! mts.shutdown().await;
//! # Ok(()) }
//! ```

mod callback;
mod props;
mod pyjson;
mod routes;
mod store;
mod validate;
mod worker;

use omc_core::mts_rules::MandatoryFields;
use omc_core::sink::redact_url;
use omc_core::{PersonalRecord, RequestId};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use store::{Store, StoredRequest};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use url::Url;

/// Configures and starts an emulator.
#[derive(Debug, Clone)]
pub struct MtsEmulator {
    config: Config,
    bind: SocketAddr,
    api_prefix: String,
}

#[derive(Debug, Clone)]
struct Config {
    partner_id: String,
    record_delay: Duration,
    submit_record_delay: Duration,
    retention: Duration,
    mandatory: MandatoryFields,
}

impl MtsEmulator {
    /// The defaults: partner `mpartner-default-omc`, `127.0.0.1:0`, no path prefix, no
    /// per-record delays, 6 hours' retention, MTS's default mandatory fields.
    pub fn builder() -> Self {
        Self {
            config: Config {
                partner_id: "mpartner-default-omc".into(),
                record_delay: Duration::ZERO,
                submit_record_delay: Duration::ZERO,
                retention: Duration::from_secs(6 * 3600),
                mandatory: MandatoryFields::default(),
            },
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_prefix: String::new(),
        }
    }

    /// The partner id tokens are derived with.
    pub fn partner_id(mut self, partner_id: impl Into<String>) -> Self {
        self.config.partner_id = partner_id.into();
        self
    }

    /// Where to listen (port 0 picks a free port; see [`RunningMts::addr`]).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// A path prefix before every endpoint (MTS's `api_path_prefix`, e.g. `v1/mts/`).
    pub fn api_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let trimmed = prefix.trim_matches('/');
        self.api_prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        };
        self
    }

    /// Simulated processing time per record on the worker (for benchmarks).
    pub fn record_delay(mut self, delay: Duration) -> Self {
        self.config.record_delay = delay;
        self
    }

    /// Simulated time a submission takes per record before it is answered: MTS validates and
    /// stores each record inside the POST's handler (about 15 ms each: 10,000 records take
    /// about 150 s), answering no other call meanwhile. For benchmarks and timeout tests.
    pub fn submit_record_delay(mut self, delay: Duration) -> Self {
        self.config.submit_record_delay = delay;
        self
    }

    /// How long requests are kept after their creation, processed or not.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.config.retention = retention;
        self
    }

    /// The fields a record is invalid without (a deployment setting of MTS).
    pub fn mandatory_fields(mut self, mandatory: MandatoryFields) -> Self {
        self.config.mandatory = mandatory;
        self
    }

    /// Binds and starts serving in the background on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<RunningMts> {
        let listener = tokio::net::TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let base_url = Url::parse(&format!("http://{addr}/{}", self.api_prefix))
            .map_err(std::io::Error::other)?;
        let callbacks = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(std::io::Error::other)?;
        let (queue, queued) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(self.config.retention)),
            config: self.config,
            callbacks,
            queue,
            received: Mutex::new(Vec::new()),
            counters: Counters::default(),
            busy: AtomicUsize::new(0),
            idle: Notify::new(),
            serving: tokio::sync::Mutex::new(()),
        });
        let worker = tokio::spawn(worker::run(shared.clone(), queued));
        let router = routes::router(shared.clone(), &self.api_prefix);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(RunningMts {
            addr,
            base_url,
            shared,
            stop: Some(stop),
            server,
            worker,
        })
    }
}

/// A running emulator. Dropping it stops serving; [`shutdown`](Self::shutdown) also waits.
pub struct RunningMts {
    addr: SocketAddr,
    base_url: Url,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
}

impl fmt::Debug for RunningMts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningMts")
            .field("base_url", &redact_url(&self.base_url))
            .field("partner_id", &self.shared.config.partner_id)
            .finish_non_exhaustive()
    }
}

impl RunningMts {
    /// The MTS base URL to give [`MtsClient::builder`](crate::MtsClient::builder).
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every `authtoken/json` submission received so far, accepted or refused, in order.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        lock(&self.shared.received).clone()
    }

    /// Counts of the callbacks (and Odoo logins and logouts) made so far.
    pub fn callbacks_made(&self) -> CallbackStats {
        let c = &self.shared.counters;
        CallbackStats {
            calls: c.calls.load(Ordering::Relaxed),
            answered: c.answered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            logins: c.logins.load(Ordering::Relaxed),
            logouts: c.logouts.load(Ordering::Relaxed),
        }
    }

    /// Waits until every accepted request is processed and its callbacks made, or `timeout`
    /// passes; true when idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let busy = || self.shared.busy.load(Ordering::SeqCst);
        let idle = async {
            loop {
                let idle = self.shared.idle.notified();
                if busy() == 0 {
                    return;
                }
                idle.await;
            }
        };
        // `timeout` saturates: `Duration::MAX` waits as long as it takes.
        tokio::time::timeout(timeout, idle).await.is_ok() || busy() == 0
    }

    /// Stops accepting connections, lets open ones finish, and stops the worker.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        self.worker.abort();
    }
}

impl Drop for RunningMts {
    fn drop(&mut self) {
        self.server.abort();
        self.worker.abort();
    }
}

/// What the emulator received in one submission (for tests).
///
/// `authdata` holds the records as sent, in memory only; `Debug` never shows them.
#[derive(Clone)]
pub struct ReceivedRequest {
    /// The identifier given, when accepted.
    pub request_id: Option<RequestId>,
    /// The HTTP status answered.
    pub http_status: u16,
    /// The MTS error code answered (`ATS-REQ-101` when every record was invalid).
    pub error_code: Option<String>,
    /// How many records it held (0 when refused).
    pub records: usize,
    /// `callbackProperties.authType`, for an accepted callback delivery.
    pub auth_type: Option<String>,
    /// `callbackProperties.url`, for an accepted callback delivery.
    pub callback_url: Option<Url>,
    /// `callbackProperties.callInBulk`, for an accepted callback delivery.
    pub call_in_bulk: Option<bool>,
    /// The records as sent (empty when refused). Personal data.
    pub authdata: Vec<PersonalRecord>,
}

impl ReceivedRequest {
    fn refused(http_status: u16, code: &str) -> Self {
        Self {
            request_id: None,
            http_status,
            error_code: Some(code.to_owned()),
            records: 0,
            auth_type: None,
            callback_url: None,
            call_in_bulk: None,
            authdata: Vec::new(),
        }
    }
}

impl fmt::Debug for ReceivedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedRequest")
            .field("request_id", &self.request_id)
            .field("http_status", &self.http_status)
            .field("error_code", &self.error_code)
            .field("records", &self.records)
            .field("auth_type", &self.auth_type)
            .field("callback_url", &self.callback_url.as_ref().map(redact_url))
            .field("call_in_bulk", &self.call_in_bulk)
            .finish_non_exhaustive()
    }
}

/// Callback counters of a [`RunningMts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackStats {
    /// Callbacks attempted.
    pub calls: u64,
    /// Callbacks answered (whatever the HTTP status).
    pub answered: u64,
    /// Callbacks that failed with a connection error or a timeout.
    pub failed: u64,
    /// Odoo logins attempted.
    pub logins: u64,
    /// Odoo logouts attempted.
    pub logouts: u64,
}

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    answered: AtomicU64,
    failed: AtomicU64,
    logins: AtomicU64,
    logouts: AtomicU64,
}

/// State shared by the routes and the worker.
struct Shared {
    config: Config,
    store: Mutex<Store>,
    callbacks: reqwest::Client,
    queue: mpsc::UnboundedSender<String>,
    received: Mutex<Vec<ReceivedRequest>>,
    counters: Counters,
    /// Requests accepted and not yet fully handled by the worker.
    busy: AtomicUsize,
    idle: Notify,
    /// Held by each HTTP call while it is served: MTS's process answers one at a time.
    serving: tokio::sync::Mutex<()>,
}

impl Shared {
    fn lock_store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    fn record(&self, received: ReceivedRequest) {
        lock(&self.received).push(received);
    }

    fn enqueue(&self, id: String, request: StoredRequest) {
        self.lock_store().insert(id.clone(), request);
        self.busy.fetch_add(1, Ordering::SeqCst);
        if self.queue.send(id).is_err() {
            self.finished_one();
        }
    }

    fn finished_one(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
