//! A service that embeds OMC with the self-hosted sink: MTS calls it back, and it stores each
//! token in OpenG2P through `OdooRegistry` itself.
//!
//! It binds one address and tells MTS another (the public URL: behind a reverse proxy they
//! differ; by default `http://<bound address>/`), runs the connector once, prints the run report
//! as JSON, and keeps receiving late callbacks and replays until Ctrl-C (or exits with
//! `--exit-after-run`): the run's own receiver run (and its bearer secret) ends with the run, so
//! a receiver run of the service's keeps expecting every registrant the run sent, for
//! callbacks over an Odoo-style session (`--auth odoo`). Each refused request is logged on stderr as it happens (its reason and
//! counts, never personal data).
//!
//! ```text
//! OMC_ODOO__PASSWORD=... OMC_CALLBACK__PASSWORD=... cargo run --example callback_server -- \
//!     --bind 0.0.0.0:8080 --public-url https://g2p.example/omc/ \
//!     --odoo-url http://odoo:8069/ --odoo-db omc --odoo-login omc \
//!     --mts-url http://mts:8080/ [--auth odoo|bearer] [--method POST|PUT|PATCH|GET]
//!     [--single] [--exit-after-run] [--max-body-bytes N] [--max-connections N]
//!     [--max-requests N] [--header-timeout-secs S] [--body-timeout-secs S]
//!     [--request-timeout-secs S]
//! ```
//!
//! With `--auth odoo`, MTS logs in at the receiver as `mts` with `OMC_CALLBACK__PASSWORD`
//! (database: `--odoo-db`); by default it gets a random bearer secret for each run.
//!
//! Under abuse: a request's credentials are checked from its head before any of its body is
//! read; a callback body is at most `--max-body-bytes` (default 8 MiB), a login body 4 KiB;
//! at most `--max-connections` connections (512) and `--max-requests` requests (32) are served
//! at once; a head must arrive within `--header-timeout-secs` (10), a body may pause at most
//! `--body-timeout-secs` (10), and a request takes at most `--request-timeout-secs` (60).
//! Logins are throttled per login and per address, with a backoff after failures.

#[macro_use]
#[path = "../../src/cli/output.rs"]
mod output;
#[path = "../../src/cli/logging.rs"]
mod logging;
#[path = "../../src/cli/receiver/router.rs"]
mod router;
#[path = "../../src/cli/receiver/server.rs"]
mod server;

use clap::Parser;
use omc::engine::{EngineSettings, RunObserver, Selection, Settled};
use omc::mts::MtsClient;
use omc::odoo::{OdooClient, OdooRegistry};
use omc::receiver::{CallbackReceiver, PayloadLimits, ReceiverRun, ReceiverSettings};
use omc::{Engine, HttpMethod, IdTypes, RegistrantId, SelfHostedSink, WriteDates};
use router::RequestLimits;
use secrecy::SecretString;
use server::ConnectionLimits;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Keeps every registrant the run sent expected by a receiver run of the service's own, so that
/// late callbacks and replays over an Odoo-style session are received after the engine's run
/// (and what it expected) has ended; it forgets each one's failures once the run settled it.
#[derive(Debug)]
struct KeepExpected(ReceiverRun);

#[omc::async_trait]
impl RunObserver for KeepExpected {
    async fn screen(
        &self,
        _selected: &[(RegistrantId, &WriteDates)],
    ) -> BTreeMap<RegistrantId, String> {
        BTreeMap::new()
    }

    async fn sent(&self, ids: &[RegistrantId]) {
        self.0.expect(ids);
    }

    async fn settled(&self, settled: Settled) -> Vec<RegistrantId> {
        let ids = settled.tokenised.iter().copied();
        let ids = ids.chain(settled.failed.iter().map(|(id, _, _)| *id));
        self.0.settle(&ids.collect::<Vec<_>>());
        Vec::new()
    }
}

/// A service embedding OMC with the self-hosted sink (environment: OMC_ODOO__PASSWORD, and
/// OMC_CALLBACK__PASSWORD with --auth odoo).
#[derive(Debug, Parser)]
#[command(name = "callback_server", version)]
struct Args {
    #[command(flatten)]
    log: logging::LogArgs,
    /// The address to listen on.
    #[arg(long)]
    bind: SocketAddr,
    /// The URL MTS calls back (default: http://<bound address>/).
    #[arg(long)]
    public_url: Option<Url>,
    /// The registry's Odoo.
    #[arg(long)]
    odoo_url: Url,
    /// The registry's database.
    #[arg(long, default_value = "omc")]
    odoo_db: String,
    /// OMC's login to the registry.
    #[arg(long, default_value = "admin")]
    odoo_login: String,
    /// MTS's base URL.
    #[arg(long)]
    mts_url: Url,
    /// How MTS authenticates its callbacks: odoo (a login) or bearer (a secret per run).
    #[arg(long, value_enum, default_value_t = Auth::Bearer)]
    auth: Auth,
    /// The callbacks' HTTP method.
    #[arg(long, value_parser = method, default_value = "POST")]
    method: HttpMethod,
    /// One callback per record instead of bulk delivery.
    #[arg(long)]
    single: bool,
    /// Exit after the run instead of receiving late callbacks.
    #[arg(long)]
    exit_after_run: bool,
    /// The largest callback body, in bytes (default 8 MiB).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_body_bytes: Option<u64>,
    /// Connections served at once (default 512).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// Requests served at once (default 32).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: Option<u64>,
    /// Seconds a request's head may take to arrive (default 10).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: Option<u64>,
    /// Seconds a body may pause (default 10).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_secs: Option<u64>,
    /// Seconds a request may take (default 60).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_secs: Option<u64>,
}

/// How MTS authenticates its callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Auth {
    /// MTS logs in at the receiver as `mts` (database: --odoo-db).
    Odoo,
    /// A random bearer secret for each run.
    Bearer,
}

/// An HTTP method MTS can call back with.
fn method(text: &str) -> Result<HttpMethod, String> {
    match text.to_ascii_uppercase().as_str() {
        "POST" => Ok(HttpMethod::Post),
        "PUT" => Ok(HttpMethod::Put),
        "PATCH" => Ok(HttpMethod::Patch),
        "GET" => Ok(HttpMethod::Get),
        other => Err(format!("unknown method '{other}': POST, PUT, PATCH or GET")),
    }
}

impl Args {
    fn connections(&self) -> ConnectionLimits {
        let mut limits = ConnectionLimits::default();
        if let Some(n) = self.max_connections {
            limits.max_connections = n as usize;
        }
        if let Some(s) = self.header_timeout_secs {
            limits.header_timeout = Duration::from_secs(s);
        }
        limits
    }

    fn requests(&self) -> RequestLimits {
        let mut limits = RequestLimits::default();
        if let Some(n) = self.max_requests {
            limits.max_requests = n as usize;
        }
        if let Some(s) = self.body_timeout_secs {
            limits.body_timeout = Duration::from_secs(s);
        }
        if let Some(s) = self.request_timeout_secs {
            limits.request_timeout = Duration::from_secs(s);
        }
        limits
    }
}

fn secret_from_env(name: &str) -> Result<SecretString, String> {
    std::env::var(name)
        .map(SecretString::from)
        .map_err(|_| format!("{name} must be set"))
}

async fn run(args: Args) -> Result<(), String> {
    let client = OdooClient::builder()
        .base_url(args.odoo_url.clone())
        .database(args.odoo_db.clone())
        .login(args.odoo_login.clone())
        .password(secret_from_env("OMC_ODOO__PASSWORD")?)
        .build()
        .map_err(|e| e.to_string())?;
    let registry = Arc::new(OdooRegistry::new(client, IdTypes::default()));
    let mut settings = ReceiverSettings::default();
    settings.limits = PayloadLimits {
        max_bytes: args
            .max_body_bytes
            .map_or(PayloadLimits::default().max_bytes, |n| n as usize),
        ..PayloadLimits::default()
    };
    let receiver = Arc::new(CallbackReceiver::new(registry.clone(), settings));
    let listener = server::listen(args.bind).map_err(|e| format!("binding {}: {e}", args.bind))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let public_url = match args.public_url.clone() {
        Some(url) => url,
        None => Url::parse(&format!("http://{bound}/")).map_err(|e| e.to_string())?,
    };
    errln!("listening on {bound}, reached by MTS at {public_url}");
    let app = router::router_with(receiver.clone(), &args.requests());
    let late = Arc::new(KeepExpected(receiver.open_run()));
    let server = tokio::spawn(server::serve(listener, app, args.connections()));
    let mut sink = SelfHostedSink::new(receiver, public_url)
        .with_http_method(args.method)
        .with_bulk(!args.single);
    if args.auth == Auth::Odoo {
        sink = sink.with_odoo_auth(
            args.odoo_db.clone(),
            "mts",
            secret_from_env("OMC_CALLBACK__PASSWORD")?,
        );
    }
    let seeder = MtsClient::builder(args.mts_url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let settings = EngineSettings::default();
    let selection = Selection::filter(settings.filter.clone());
    let engine = Engine::new(registry, Arc::new(seeder), Arc::new(sink), settings);
    let report = engine
        .run(&selection, Some(late.clone()))
        .await
        .into_result()
        .map_err(|e| format!("run failed: {e}"))?;
    outln!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    if !args.exit_after_run {
        errln!("receiving late callbacks on {bound}; Ctrl-C to stop");
        let _ = server.await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    args.log.install();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            errln!("callback_server: {message}");
            ExitCode::FAILURE
        }
    }
}
