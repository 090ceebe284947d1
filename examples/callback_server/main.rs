//! A service that embeds OMC with the self-hosted sink: MTS calls it back, and it stores each
//! token in OpenG2P through `OdooRegistry` itself.
//!
//! It binds one address and tells MTS another (the public URL: behind a reverse proxy they
//! differ), runs the connector once, prints the run report as JSON, and keeps receiving late
//! callbacks and replays until Ctrl-C (or exits with `--exit-after-run`).
//!
//! ```text
//! OMC_ODOO__PASSWORD=... OMC_CALLBACK__PASSWORD=... cargo run --example callback_server -- \
//!     --bind 0.0.0.0:8080 --public-url https://g2p.example/omc/ \
//!     --odoo-url http://odoo:8069/ --odoo-db openg2p --odoo-login omc \
//!     --mts-url http://mts:8080/ [--auth odoo|bearer] [--method POST|PUT|PATCH|GET]
//!     [--single] [--exit-after-run]
//! ```
//!
//! With `--auth odoo`, MTS logs in at the receiver as `mts` with `OMC_CALLBACK__PASSWORD`
//! (database: `--odoo-db`); by default it gets a random bearer secret for each run.

// A command-line program: it prints its report.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod router;

use omc::core::engine::EngineSettings;
use omc::core::receiver::{CallbackReceiver, ReceiverSettings};
use omc::core::{Engine, HttpMethod, IdTypes, SelfHostedSink};
use omc::mts::MtsClient;
use omc::odoo::{OdooClient, OdooRegistry};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use url::Url;

struct Args {
    bind: SocketAddr,
    public_url: Url,
    odoo_url: Url,
    odoo_db: String,
    odoo_login: String,
    mts_url: Url,
    odoo_auth: bool,
    method: HttpMethod,
    bulk: bool,
    exit_after_run: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut bind = None;
    let mut public_url = None;
    let mut odoo_url = None;
    let mut mts_url = None;
    let mut odoo_db = "openg2p".to_owned();
    let mut odoo_login = "admin".to_owned();
    let (mut odoo_auth, mut bulk, mut exit_after_run) = (false, true, false);
    let mut method = HttpMethod::Post;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let url =
            |text: String, name: &str| text.parse::<Url>().map_err(|e| format!("{name}: {e}"));
        match flag.as_str() {
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
            other => return Err(format!("unknown argument '{other}' (see the file's doc)")),
        }
    }
    fn need<T>(v: Option<T>, name: &str) -> Result<T, String> {
        v.ok_or(format!("{name} is required"))
    }
    Ok(Args {
        bind: need(bind, "--bind")?,
        public_url: need(public_url, "--public-url")?,
        odoo_url: need(odoo_url, "--odoo-url")?,
        mts_url: need(mts_url, "--mts-url")?,
        odoo_db,
        odoo_login,
        odoo_auth,
        method,
        bulk,
        exit_after_run,
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
    let receiver = Arc::new(CallbackReceiver::new(
        registry.clone(),
        ReceiverSettings::default(),
    ));
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("binding {}: {e}", args.bind))?;
    let app = router::router(receiver.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut sink = SelfHostedSink::new(receiver, args.public_url.clone())
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
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    if !args.exit_after_run {
        eprintln!("receiving late callbacks on {}; Ctrl-C to stop", args.bind);
        let _ = server.await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("callback_server: {message}");
            ExitCode::FAILURE
        }
    }
}
