//! A service that embeds OMC with the self-hosted sink: MTS calls it back, and it stores each
//! token in OpenG2P through `OdooRegistry` itself.
//!
//! It binds one address and tells MTS another (the public URL: behind a reverse proxy they
//! differ; by default `http://<bound address>/`), runs the connector once, prints the run report
//! as JSON, and keeps receiving late callbacks and replays until Ctrl-C (or exits with
//! `--exit-after-run`). Each refused request is logged on stderr as it happens (its reason and
//! counts, never personal data).
//!
//! ```text
//! OMC_ODOO__PASSWORD=... OMC_CALLBACK__PASSWORD=... cargo run --example callback_server -- \
//!     --bind 0.0.0.0:8080 --public-url https://g2p.example/omc/ \
//!     --odoo-url http://odoo:8069/ --odoo-db openg2p --odoo-login omc \
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
#[path = "../common/output.rs"]
mod output;
#[path = "../common/logging.rs"]
mod logging;
mod router;
mod server;

use omc::core::engine::EngineSettings;
use omc::core::receiver::{CallbackReceiver, PayloadLimits, ReceiverSettings};
use omc::core::{Engine, HttpMethod, IdTypes, SelfHostedSink};
use omc::mts::MtsClient;
use omc::odoo::{OdooClient, OdooRegistry};
use router::RequestLimits;
use secrecy::SecretString;
use server::ConnectionLimits;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const USAGE: &str = "usage: callback_server --bind ADDR --odoo-url URL --mts-url URL \
    [--public-url URL] [--odoo-db DB] [--odoo-login LOGIN] [--auth odoo|bearer] \
    [--method POST|PUT|PATCH|GET] [--single] [--exit-after-run] [--max-body-bytes N] \
    [--max-connections N] [--max-requests N] [--header-timeout-secs S] \
    [--body-timeout-secs S] [--request-timeout-secs S]
environment: OMC_ODOO__PASSWORD, and OMC_CALLBACK__PASSWORD with --auth odoo";

struct Args {
    bind: SocketAddr,
    public_url: Option<Url>,
    odoo_url: Url,
    odoo_db: String,
    odoo_login: String,
    mts_url: Url,
    odoo_auth: bool,
    method: HttpMethod,
    bulk: bool,
    exit_after_run: bool,
    max_body_bytes: usize,
    connections: ConnectionLimits,
    requests: RequestLimits,
}

fn parse_args(argv: Vec<String>) -> Result<Args, String> {
    let mut bind = None;
    let mut public_url = None;
    let mut odoo_url = None;
    let mut mts_url = None;
    let mut odoo_db = "openg2p".to_owned();
    let mut odoo_login = "admin".to_owned();
    let (mut odoo_auth, mut bulk, mut exit_after_run) = (false, true, false);
    let mut method = HttpMethod::Post;
    let mut max_body_bytes = PayloadLimits::default().max_bytes;
    let mut connections = ConnectionLimits::default();
    let mut requests = RequestLimits::default();
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let url =
            |text: String, name: &str| text.parse::<Url>().map_err(|e| format!("{name}: {e}"));
        let count = |text: String, name: &str| match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{name}: a positive whole number expected, got '{text}'"
            )),
        };
        let seconds =
            |text: String, name: &str| count(text, name).map(|s| Duration::from_secs(s as u64));
        match flag.as_str() {
            "--help" | "-h" => return Err(USAGE.into()),
            "--bind" => {
                bind = Some(
                    value("--bind")?
                        .parse()
                        .map_err(|e| format!("--bind: {e}"))?,
                )
            }
            "--public-url" => public_url = Some(url(value("--public-url")?, "--public-url")?),
            "--odoo-url" => odoo_url = Some(url(value("--odoo-url")?, "--odoo-url")?),
            "--mts-url" => mts_url = Some(url(value("--mts-url")?, "--mts-url")?),
            "--odoo-db" => odoo_db = value("--odoo-db")?,
            "--odoo-login" => odoo_login = value("--odoo-login")?,
            "--auth" => odoo_auth = value("--auth")? == "odoo",
            "--method" => {
                method = match value("--method")?.to_ascii_uppercase().as_str() {
                    "POST" => HttpMethod::Post,
                    "PUT" => HttpMethod::Put,
                    "PATCH" => HttpMethod::Patch,
                    "GET" => HttpMethod::Get,
                    other => return Err(format!("--method: unknown method '{other}'")),
                }
            }
            "--single" => bulk = false,
            "--exit-after-run" => exit_after_run = true,
            "--max-body-bytes" => max_body_bytes = count(value(&flag)?, &flag)?,
            "--max-connections" => connections.max_connections = count(value(&flag)?, &flag)?,
            "--max-requests" => requests.max_requests = count(value(&flag)?, &flag)?,
            "--header-timeout-secs" => connections.header_timeout = seconds(value(&flag)?, &flag)?,
            "--body-timeout-secs" => requests.body_timeout = seconds(value(&flag)?, &flag)?,
            "--request-timeout-secs" => requests.request_timeout = seconds(value(&flag)?, &flag)?,
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    fn need<T>(v: Option<T>, name: &str) -> Result<T, String> {
        v.ok_or(format!("{name} is required\n{USAGE}"))
    }
    Ok(Args {
        bind: need(bind, "--bind")?,
        public_url,
        odoo_url: need(odoo_url, "--odoo-url")?,
        mts_url: need(mts_url, "--mts-url")?,
        odoo_db,
        odoo_login,
        odoo_auth,
        method,
        bulk,
        exit_after_run,
        max_body_bytes,
        connections,
        requests,
    })
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
    let settings = ReceiverSettings {
        limits: PayloadLimits {
            max_bytes: args.max_body_bytes,
            ..PayloadLimits::default()
        },
        ..ReceiverSettings::default()
    };
    let receiver = Arc::new(CallbackReceiver::new(registry.clone(), settings));
    let listener = server::listen(args.bind).map_err(|e| format!("binding {}: {e}", args.bind))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let public_url = match args.public_url {
        Some(url) => url,
        None => Url::parse(&format!("http://{bound}/")).map_err(|e| e.to_string())?,
    };
    errln!("listening on {bound}, reached by MTS at {public_url}");
    let app = router::router_with(receiver.clone(), &args.requests);
    let server = tokio::spawn(server::serve(listener, app, args.connections));
    let mut sink = SelfHostedSink::new(receiver, public_url)
        .with_http_method(args.method)
        .with_bulk(args.bulk);
    if args.odoo_auth {
        sink = sink.with_odoo_auth(
            args.odoo_db.clone(),
            "mts",
            secret_from_env("OMC_CALLBACK__PASSWORD")?,
        );
    }
    let seeder = MtsClient::builder(args.mts_url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let engine = Engine::new(
        registry,
        Arc::new(seeder),
        Arc::new(sink),
        EngineSettings::default(),
    );
    let report = engine
        .run_once()
        .await
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
    let args = match logging::init().and_then(parse_args) {
        Ok(args) => args,
        Err(message) => {
            errln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            errln!("callback_server: {message}");
            ExitCode::FAILURE
        }
    }
}
