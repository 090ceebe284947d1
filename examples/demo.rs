//! A whole tokenisation against the emulators, as an OpenG2P operator configures it.
//!
//! Starts the Odoo/OpenG2P emulator and the MTS emulator on free loopback ports, seeds
//! registrants with VIDs, runs the connector once (OpenG2P's default filter and fields), checks
//! the registry afterwards over JSON-RPC, and prints a summary.
//!
//! ```text
//! cargo run --release --example demo -- [--registrants N] [--seed S] [--json]
//!                                        [--mts-url URL --partner-id ID]
//!                                        [--sink odoo|self-hosted|openg2p-api]
//! ```
//!
//! `--sink` picks how results come back: `odoo` (the default: MTS logs in to Odoo and creates
//! each token id through the web client's `call_kw`), `self-hosted` (MTS calls OMC's own
//! receiver, served in process on a loopback port, with bulk callbacks and a per-run bearer
//! secret; the receiver stores the tokens through `OdooRegistry`), or `openg2p-api` (MTS calls
//! OpenG2P's `update_individual` REST API with HTTP Basic, one callback per record).
//!
//! Exits non-zero when any registrant is unaccounted for.

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "../src/cli/output.rs"]
mod output;
#[path = "../src/cli/logging.rs"]
mod logging;

mod common;
#[path = "../src/cli/receiver/router.rs"]
mod router;

use common::{DATABASE, LOGIN, PASSWORD};
use omc::connector::Connector;
use omc::mts::emulator::MtsEmulator;
use omc::odoo::emulator::OdooEmulator;
use omc::odoo::{OdooClient, OdooRegistry, OpenG2pApiSink};
use omc::testing::mock_token;
use omc::testing::synthetic_vid;
use omc::{EngineSettings, IdTypes, RunReport, Token};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// How MTS delivers results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SinkKind {
    /// MTS logs in to Odoo and creates each token id through `call_kw`.
    Odoo,
    /// MTS calls OMC's own receiver, served in process, with bulk callbacks.
    SelfHosted,
    /// MTS calls OpenG2P's `update_individual` REST API.
    #[value(name = "openg2p-api")]
    OpenG2pApi,
}

impl SinkKind {
    fn name(self) -> &'static str {
        match self {
            Self::Odoo => "odoo",
            Self::SelfHosted => "self-hosted",
            Self::OpenG2pApi => "openg2p-api",
        }
    }
}

/// A whole tokenisation against the emulators, with a summary.
#[derive(Debug, clap::Parser)]
#[command(name = "demo", version)]
struct Args {
    #[command(flatten)]
    log: logging::LogArgs,
    /// How MTS delivers results.
    #[arg(long, value_enum, default_value_t = SinkKind::Odoo)]
    sink: SinkKind,
    /// Registrants to create, each with a VID.
    #[arg(long, default_value_t = 1000)]
    registrants: usize,
    /// The registrants' seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// A real MTS to use instead of the emulator.
    #[arg(long)]
    mts_url: Option<Url>,
    /// The partner id of that MTS (its tokens are checked against it).
    #[arg(long, default_value = "mpartner-default-omc")]
    partner_id: String,
}

/// What the registry holds after the run, read over JSON-RPC.
struct Check {
    tokens: usize,
    vids: usize,
    tokens_matching: usize,
}

async fn check_registry(base_url: Url, args: &Args) -> Result<Check, String> {
    let client = common::odoo_client(base_url)?;
    let id_types = IdTypes::default();
    let tokens = common::count_ids(&client, &id_types.token).await? as usize;
    let vids = common::count_ids(&client, &id_types.vid).await? as usize;
    let mut tokens_matching = 0;
    let mut after = 0i64;
    loop {
        let rows = client
            .search_read(
                "g2p.reg.id",
                json!([["id_type", "=", id_types.token], ["id", ">", after]]),
                json!({"fields": ["partner_id", "value"], "limit": 5000, "order": "id asc"}),
            )
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = rows.last() else { break };
        after = last["id"].as_i64().unwrap_or(i64::MAX);
        for row in &rows {
            let partner = row["partner_id"][0].as_i64().unwrap_or(0);
            let value = row["value"].as_str().map(Token::new);
            let expected = mock_token(&synthetic_vid(partner, args.seed), &args.partner_id);
            if value.as_ref() == Some(&expected) {
                tokens_matching += 1;
            }
        }
    }
    Ok(Check {
        tokens,
        vids,
        tokens_matching,
    })
}

fn summary(args: &Args, report: &RunReport, check: &Check, seconds: f64) -> Value {
    json!({
        "sink": args.sink.name(),
        "registrants": args.registrants,
        "selected": report.selected,
        "tokenized": report.tokenised,
        "vids_removed": report.vids_removed,
        "pending": report.pending,
        "failed": report.failed,
        "already_tokenized": report.already_tokenised,
        "requests": report.requests,
        "batch_errors": report.batch_errors,
        "refused_callbacks": report.refused_callbacks,
        "duplicate_groups": report.duplicate_groups.len(),
        "registry_tokens": check.tokens,
        "registry_vids": check.vids,
        "tokens_verified": check.tokens_matching,
        "seconds": seconds,
        "registrants_per_second": if seconds > 0.0 { args.registrants as f64 / seconds } else { 0.0 },
    })
}

fn print_summary(s: &Value) {
    outln!("OMC demo: one tokenisation against the Odoo and MTS emulators");
    for key in [
        "sink",
        "registrants",
        "selected",
        "tokenized",
        "vids_removed",
        "pending",
        "failed",
        "requests",
        "registry_tokens",
        "registry_vids",
        "tokens_verified",
        "seconds",
        "registrants_per_second",
    ] {
        outln!("  {key:<24} {}", s[key]);
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let odoo = OdooEmulator::builder()
        .database(DATABASE)
        .user(LOGIN, PASSWORD)
        .start()
        .await
        .map_err(|e| format!("starting the Odoo emulator: {e}"))?;
    odoo.seed_sample(args.registrants, args.seed);
    let (mts_url, mts) = match &args.mts_url {
        Some(url) => (url.clone(), None),
        None => {
            let mts = MtsEmulator::builder()
                .partner_id(args.partner_id.clone())
                .start()
                .await
                .map_err(|e| format!("starting the MTS emulator: {e}"))?;
            (mts.base_url(), Some(mts))
        }
    };
    let config = common::operator_config("demo", mts_url, odoo.base_url()).build();
    let settings = EngineSettings::from(&config);
    let engine = match args.sink {
        SinkKind::Odoo => {
            Connector::new(&config, settings)
                .map_err(|e| e.to_string())?
                .engine
        }
        SinkKind::SelfHosted => {
            let client = OdooClient::builder()
                .base_url(odoo.base_url())
                .database(DATABASE)
                .login(LOGIN)
                .password(SecretString::from(PASSWORD))
                .build()
                .map_err(|e| e.to_string())?;
            let registry = Arc::new(OdooRegistry::new(client, IdTypes::default()));
            let sink = Arc::new(common::self_hosted(registry).await?);
            Connector::with_sink(&config, settings, sink)
                .map_err(|e| e.to_string())?
                .engine
        }
        SinkKind::OpenG2pApi => {
            let sink = OpenG2pApiSink::new(
                &odoo.base_url(),
                LOGIN,
                SecretString::from(PASSWORD),
                &IdTypes::default(),
            )
            .map_err(|e| e.to_string())?;
            Connector::with_sink(&config, settings, Arc::new(sink))
                .map_err(|e| e.to_string())?
                .engine
        }
    };
    let started = Instant::now();
    let report = engine
        .run_once()
        .await
        .map_err(|e| format!("run failed: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let check = check_registry(odoo.base_url(), &args).await?;
    let s = summary(&args, &report, &check, seconds);
    if args.json {
        outln!("{s}");
    } else {
        print_summary(&s);
    }
    if let Some(mts) = mts {
        mts.shutdown().await;
    }
    odoo.shutdown().await;
    let n = args.registrants as u64;
    let accounted = report.is_balanced()
        && report.selected == n
        && check.tokens as u64 == report.tokenised + report.already_tokenised
        && check.tokens_matching == check.tokens
        && check.vids as u64 == n - report.vids_removed;
    if !accounted {
        errln!("some registrants are unaccounted for");
    }
    Ok(accounted)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = <Args as clap::Parser>::parse();
    args.log.install();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            errln!("demo: {message}");
            ExitCode::FAILURE
        }
    }
}
