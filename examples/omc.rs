//! OMC's command line: check a configuration, import one from OpenG2P, run a connector, import
//! chosen registrants, and read the run ledger.
//!
//! ```text
//! cargo run --example omc -- config check FILE
//! cargo run --example omc -- config import-openg2p EXPORT.json
//! cargo run --example omc -- run FILE [--once] [--full | --delta]
//! cargo run --example omc -- import FILE --ids 1,2,3 | --ids-file F | --domain D | --csv F
//! cargo run --example omc -- status FILE [--ids] [--json]
//! ```
//!
//! Secrets come from the environment or files named in the configuration; `OMC_*` variables
//! override the file's settings (docs/OPERATIONS.md). The run ledger is the file the
//! configuration's `ledger` names (default `omc-ledger.sqlite` beside the configuration).

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "common/output.rs"]
mod output;
#[path = "common/logging.rs"]
mod logging;

use omc::connector::{Connector, PreflightError};
use omc::core::Domain;
use omc::core::config::{JobType, import_openg2p, sample_result};
use omc::core::engine::{CancellationToken, Progress, RunHooks};
use omc::core::engine::{EngineSettings, RunEnd};
use omc::core::fixture::synthetic_one;
use omc::core::jq::{Output, Program};
use omc::core::ledger::LedgerLock;
use omc::core::ledger::{RunLedger, SqliteLedger};
use omc::core::rules::{build_authdata, mts_verdict};
use omc::core::runs::{Import, RunRequest, Runner, chain, parse_csv, parse_ids};
use omc::core::sink::redact_url;
use omc::core::time::Timestamp;
use omc::core::{Candidate, ConnectorConfig, RegistryError, SinkError};
use serde_json::Value;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::Instrument;

const USAGE: &str = "usage: omc config check FILE
       omc config import-openg2p EXPORT.json
       omc run FILE [--once] [--full | --delta]
       omc import FILE --ids 1,2,3 | --ids-file FILE | --domain DOMAIN | --csv FILE
       omc status FILE [--ids] [--json]
every command takes --log-format text|json (logs on stderr, filtered by RUST_LOG)";

fn load(path: &str) -> Result<ConnectorConfig, String> {
    ConnectorConfig::load(Path::new(path)).map_err(|e| e.to_string())
}

/// Masks personal data in a sample record: keys stay, values become stars.
fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = if k == "id" { v.clone() } else { masked(v) };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        Value::String(s) => Value::String("*".repeat(s.chars().count().min(8))),
        other => other.clone(),
    }
}

fn check(path: &str) -> Result<(), String> {
    let c = load(path)?;
    outln!("connector '{}': no problems found", c.name);
    outln!("  run ledger:     {}", ledger_file(path, &c).display());
    outln!("  MTS:            {}", redact_url(&c.mts_url));
    outln!(
        "  registry:       {} (database {}, login {})",
        redact_url(&c.odoo.base_url),
        c.odoo.database,
        c.odoo.login
    );
    outln!(
        "  job:            {}",
        match c.job_type {
            JobType::Recurring => format!("recurring, every {} minutes", c.interval_minutes),
            JobType::OneTime => "one time".into(),
        }
    );
    outln!("  filter:         {}", c.filter);
    outln!(
        "  OMC adds:       only registrants holding a '{}' and no '{}' are sent",
        c.id_types.vid,
        c.id_types.token
    );
    outln!("  fields:         {}", c.fields.join(", "));
    outln!(
        "  batches:        {} records, {} in flight; VIDs removed after the token is read back: {}",
        c.batch_size,
        c.max_in_flight,
        c.remove_vids
    );
    let sample = synthetic_one(42, 1);
    let candidate = Candidate::new(sample.id, sample.vid, false, sample.fields);
    let record = build_authdata(candidate, &c.fields, &c.mapping.vid);
    let verdict = mts_verdict(record.expose(), &c.mapping, &c.mandatory_fields);
    let request = serde_json::json!({
        "request": {
            "output": "json", "deliverytype": "callback", "lang": c.lang,
            "mapping": c.mapping, "authdata": [masked(&Value::Object(record.into_inner()))]
        }
    });
    outln!("  MTS request for a sample registrant (personal data masked):");
    outln!(
        "{}",
        indent(&serde_json::to_string_pretty(&request).unwrap_or_default())
    );
    match verdict {
        None => outln!("  MTS would accept the sample record."),
        Some(refusal) => outln!(
            "  MTS would refuse the sample record with {}.",
            refusal.code
        ),
    }
    let cb = &c.callback;
    outln!(
        "  callback:       {} {} (auth type {:?}, {} s timeout, {})",
        cb.http_method.as_str(),
        cb.url.as_ref().map_or_else(
            || format!(
                "{}web/dataset/call_kw/g2p.reg.id/create",
                redact_url(&c.odoo.base_url)
            ),
            redact_url
        ),
        cb.auth_type,
        cb.timeout_seconds,
        if cb.bulk { "bulk" } else { "one per record" }
    );
    let format = c.output_format.clone();
    match format {
        None => outln!(
            "  output format:  generated by the callback sink (the token id's JSON-RPC create)"
        ),
        Some(format) => {
            if let Ok(program) = Program::compile(&format)
                && let Output::Value(body) = program.first(&sample_result(true))
            {
                outln!("  callback body for a processed sample (personal data masked):");
                outln!(
                    "{}",
                    indent(&serde_json::to_string_pretty(&masked(&body)).unwrap_or_default())
                );
            }
            outln!(
                "  note: MTS runs jq 1.6; OMC checks output formats with jaq, which differs in a few corners (its README lists them)"
            );
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn import_openg2p_export(path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let report = import_openg2p(&text, path).map_err(|e| e.to_string())?;
    outln!("{}", report.toml);
    for note in &report.notes {
        errln!("note: {note}");
    }
    Ok(())
}

/// The connector, its runner over the configuration's ledger, and the configuration.
/// The configuration, its runner, and a pre-flight check of what a run needs: OMC's login to
/// the registry, both id types, MTS's `ping` (nothing is sent before it passes).
async fn runner(path: &str) -> Result<(ConnectorConfig, Runner), String> {
    let config = load(path)?;
    let connector =
        Connector::new(&config, EngineSettings::from(&config)).map_err(|e| chain(&e))?;
    if let Err(e) = connector.preflight().await {
        let cannot = "the run cannot start";
        return Err(match &e {
            PreflightError::Registry(registry) => explain(registry, &config, cannot),
            _ => explain(&e, &config, cannot),
        });
    }
    let ledger = ledger(path, &config)?;
    let runner = Runner::new(connector.engine, ledger, config.runs.clone());
    Ok((config, runner))
}

/// The configuration's ledger file: `ledger`, or `omc-ledger.sqlite` beside the configuration.
fn ledger_file(path: &str, config: &ConnectorConfig) -> PathBuf {
    config.ledger.clone().unwrap_or_else(|| {
        Path::new(path)
            .parent()
            .unwrap_or(Path::new("."))
            .join("omc-ledger.sqlite")
    })
}

fn ledger(path: &str, config: &ConnectorConfig) -> Result<Arc<dyn RunLedger>, String> {
    let file = ledger_file(path, config);
    Ok(Arc::new(SqliteLedger::open(&file).map_err(|e| chain(&e))?))
}

/// Prints a run's report as one JSON line; an error that stopped it goes to stderr.
fn finish(end: RunEnd, config: &ConnectorConfig) -> Result<(), String> {
    outln!("{}", serde_json::to_string(&end.report).unwrap_or_default());
    match end.error {
        None => Ok(()),
        Some(e) => Err(explain(&e, config, "the run stopped")),
    }
}

/// An error's whole cause chain in one line, its first words saying what to do when the
/// registry is at fault. The engine first reaches the registry when the callback sink reads
/// the token id type, so a wrong login or an unreachable Odoo surfaces through the sink: the
/// line is told from the registry's own error, which is what the operator can act on.
fn explain(error: &(dyn Error + 'static), config: &ConnectorConfig, what: &str) -> String {
    diagnose(error, config).unwrap_or_else(|| format!("{what}: {}", chain(error)))
}

/// What to do about `error`, then its chain, when the registry's configuration is at fault.
fn diagnose(error: &(dyn Error + 'static), config: &ConnectorConfig) -> Option<String> {
    let odoo = format!(
        "Odoo at {} (database {}, login {})",
        redact_url(&config.odoo.base_url),
        config.odoo.database,
        config.odoo.login
    );
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(registry) = e.downcast_ref::<RegistryError>() {
            let said = chain(registry);
            return Some(match registry {
                RegistryError::Unauthenticated { .. } => format!(
                    "check odoo.login, its password and odoo.database: logging in to {odoo} \
                     failed: {said}"
                ),
                // Odoo raising during its login (not a refusal): a database it cannot open.
                RegistryError::Unavailable { .. }
                    if said.contains("common.login") && said.contains("Odoo raised") =>
                {
                    format!("check odoo.database: logging in to {odoo} failed: {said}")
                }
                RegistryError::Unavailable { .. } if said.contains("common.login") => format!(
                    "check odoo.base_url and that Odoo is running: logging in to {odoo} \
                     failed: {said}"
                ),
                RegistryError::PermissionDenied { .. } => {
                    format!("grant the rights docs/OPERATIONS.md lists: {odoo}: {said}")
                }
                RegistryError::Invalid { message } => {
                    let types = [
                        ("token", "token_id_type", &config.id_types.token),
                        ("VID", "vid_id_type", &config.id_types.vid),
                    ];
                    let missing = types.iter().find(|(_, _, name)| {
                        *message == format!("the id type '{name}' does not exist in the registry")
                    });
                    let (what, setting, name) = missing?;
                    format!(
                        "create the id type '{name}' in the registry (g2p.id.type) or set \
                         {setting}: the {what} id type '{name}' does not exist in the registry \
                         ({odoo})"
                    )
                }
                _ => return None,
            });
        }
        if let Some(PreflightError::Mts { .. }) = e.downcast_ref::<PreflightError>() {
            return Some(format!(
                "check mts_url and that MTS is running: {}",
                chain(e)
            ));
        }
        if let Some(SinkError::Misconfigured { message }) = e.downcast_ref::<SinkError>() {
            let token = &config.id_types.token;
            if *message == format!("the id type '{token}' does not exist in the registry") {
                return Some(format!(
                    "create the id type '{token}' in the registry (g2p.id.type) or set \
                     token_id_type: the token id type '{token}' does not exist in the \
                     registry ({odoo})"
                ));
            }
        }
        cause = e.source();
    }
    None
}

/// How a run ended, for the exit status a scheduler acts on (docs/OPERATIONS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// No selected registrant is left pending (exit 0).
    Settled,
    /// Some are pending: the next run sends them again (exit 3).
    Pending,
    /// Stopped by SIGTERM or SIGINT (exit 4 for `--once`; a recurring service exits 0).
    Interrupted,
}

impl Ended {
    fn of(end: &RunEnd, cancel: &CancellationToken) -> Self {
        if cancel.is_cancelled() {
            Self::Interrupted
        } else if end.report.pending > 0 {
            Self::Pending
        } else {
            Self::Settled
        }
    }

    fn code(self) -> ExitCode {
        match self {
            Self::Settled => ExitCode::SUCCESS,
            Self::Pending => ExitCode::from(3),
            Self::Interrupted => ExitCode::from(4),
        }
    }
}

/// Cancels `token` at SIGTERM or SIGINT: the run stops selecting and finishes what it sent.
fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping: no new batch is sent; waiting for the batches already sent");
        token.cancel();
    });
}

/// Logs the run's counts every 10 seconds while it goes, with its rate.
fn log_progress(mut progress: watch::Receiver<Progress>) {
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        tick.tick().await;
        loop {
            tokio::select! {
                changed = progress.changed() => if changed.is_err() { return },
                _ = tick.tick() => {
                    let p = *progress.borrow();
                    let seconds = started.elapsed().as_secs_f64().max(0.001);
                    tracing::info!(
                        selected = p.selected,
                        sent = p.sent,
                        tokenised = p.tokenised,
                        already_tokenised = p.already_tokenised,
                        pending = p.pending,
                        failed = p.failed,
                        per_second = (p.tokenised as f64 / seconds).round(),
                        "progress"
                    );
                }
            }
        }
    });
}

/// One run with signals and progress wired: its end, printed, and how it ended.
async fn one_run(
    runner: &Runner,
    lock: &LedgerLock,
    request: RunRequest,
    config: &ConnectorConfig,
    cancel: &CancellationToken,
) -> Result<Ended, String> {
    let (progress, watched) = watch::channel(Progress::default());
    log_progress(watched);
    let hooks = RunHooks::default()
        .with_progress(progress)
        .with_cancel(cancel.clone());
    let end = runner
        .run_with(lock, request, hooks)
        .instrument(tracing::info_span!("connector", name = %config.name))
        .await
        .map_err(|e| explain(&e, config, "the run could not start"))?;
    let ended = Ended::of(&end, cancel);
    if let Some(why) = &end.report.stopped {
        logging::error("omc", &format!("the run stopped early: {why}"));
    }
    finish(end, config)?;
    Ok(ended)
}

async fn run(path: &str, once: bool, request: RunRequest) -> Result<ExitCode, String> {
    let (config, runner) = runner(path).await?;
    let what = if once { "omc run --once" } else { "omc run" };
    let lock = runner.lock(what).await.map_err(|e| chain(&e))?;
    let cancel = CancellationToken::new();
    cancel_on_signals(cancel.clone());
    if once || config.job_type == JobType::OneTime {
        let ended = one_run(&runner, &lock, request, &config, &cancel).await?;
        return Ok(ended.code());
    }
    // The recurring connector holds the ledger for as long as it runs; a failed run is
    // recorded and the next one comes at its time; a signal ends it after the current run.
    loop {
        if let Err(message) = one_run(&runner, &lock, request.clone(), &config, &cancel).await {
            logging::error("omc", &message);
        }
        if cancel.is_cancelled() {
            return Ok(ExitCode::SUCCESS);
        }
        let interval = Duration::from_secs(60 * u64::from(config.interval_minutes));
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = cancel.cancelled() => return Ok(ExitCode::SUCCESS),
        }
    }
}

async fn manual_import(path: &str, how: &str, value: &str) -> Result<(), String> {
    let read = |file: &str| std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"));
    let import = match how {
        "--ids" => Import::Ids(parse_ids(value, "--ids").map_err(|e| e.to_string())?),
        "--ids-file" => Import::Ids(parse_ids(&read(value)?, value).map_err(|e| e.to_string())?),
        "--csv" => Import::Vids(parse_csv(&read(value)?, value).map_err(|e| e.to_string())?),
        "--domain" => Import::Domain(Domain::parse(value).map_err(|e| format!("--domain: {e}"))?),
        _ => return Err(USAGE.into()),
    };
    let (config, runner) = runner(path).await?;
    let lock = runner.lock("omc import").await.map_err(|e| chain(&e))?;
    let end = runner
        .run(&lock, RunRequest::Import(import))
        .await
        .map_err(|e| explain(&e, &config, "the import could not start"))?;
    finish(end, &config)
}

async fn status(path: &str, ids: bool, json: bool) -> Result<(), String> {
    let config = load(path)?;
    let ledger = ledger(path, &config)?;
    let status = omc::core::runs::status(&*ledger, &config.runs, 20, Timestamp::now())
        .await
        .map_err(|e| chain(&e))?;
    if json {
        outln!("{}", serde_json::to_string(&status).unwrap_or_default());
    } else {
        out!("{}", omc::core::runs::describe(&status));
    }
    if ids {
        let mut after = None;
        loop {
            let page = ledger.pending(after, 1000).await.map_err(|e| chain(&e))?;
            let Some(last) = page.last() else { break };
            after = Some(*last);
            for id in page {
                outln!("pending {id}");
            }
        }
        let mut after = None;
        loop {
            let page = ledger.failed(after, 1000).await.map_err(|e| chain(&e))?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, code) in page {
                outln!("failed {id} {code}");
            }
        }
    }
    Ok(())
}

/// The run requested by `--full` or `--delta` (the ledger decides without either).
fn requested(flags: &[&str]) -> Result<(bool, RunRequest), String> {
    let mut once = false;
    let mut request = RunRequest::Due;
    for flag in flags {
        match *flag {
            "--once" => once = true,
            "--full" => request = RunRequest::Full,
            "--delta" => request = RunRequest::Delta,
            other => return Err(format!("unknown flag '{other}'\n{USAGE}")),
        }
    }
    Ok((once, request))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match logging::init() {
        Ok(args) => args,
        Err(message) => {
            logging::error("omc", &format!("{message}\n{USAGE}"));
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["config", "check", file] => check(file),
        ["config", "import-openg2p", file] => import_openg2p_export(file),
        ["run", file, flags @ ..] if !file.starts_with("--") => match requested(flags) {
            Ok((once, request)) => match run(file, once, request).await {
                Ok(code) => return code,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        ["--help" | "-h" | "help"] => {
            outln!("{USAGE}");
            Ok(())
        }
        ["import", file, how, value] => manual_import(file, how, value).await,
        ["status", file, flags @ ..] if flags.iter().all(|f| matches!(*f, "--ids" | "--json")) => {
            status(file, flags.contains(&"--ids"), flags.contains(&"--json")).await
        }
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            logging::error("omc", &message);
            ExitCode::FAILURE
        }
    }
}
