//! The end-to-end benchmark: one whole tokenisation with the emulators in child processes, so
//! that the CPU time and memory it reports are OMC's own.
//!
//! ```text
//! cargo run --release --example bench -- --registrants N [--sink odoo|self-hosted]
//!                                         [--latency-ms L] [--batch-size B] [--in-flight F]
//!                                         [--poll-ms P] [--seed S] [--ledger FILE] [--json]
//! ```
//!
//! The program starts itself twice more (the hidden flags `--serve-odoo N SEED` and
//! `--serve-mts DELAY_MS`): an Odoo emulator seeded with N synthetic registrants and an MTS
//! emulator taking `--latency-ms` per record (default 0). Each prints its URL and serves until
//! its stdin closes; both are killed when the benchmark exits. The parent then runs one
//! tokenisation as the demo does (`--sink odoo`, the default: MTS stores the tokens through
//! Odoo's `call_kw`; `self-hosted`: bulk callbacks to OMC's receiver, served in this process)
//! and counts the registry's tokens and VIDs over JSON-RPC. With `--ledger FILE` the run is a
//! full run of a `Runner` over a new SQLite run ledger in FILE (what `omc run --full` does),
//! so that the ledger's cost shows against the same run without one. Batches of 500 with 2 in flight and
//! OMC's default polling (20 ms after a submission, growing to 250 ms between polls; `--poll-ms`
//! sets the longest wait) unless the flags say otherwise.
//!
//! Reported: wall seconds of the run, registrants per second, OMC's CPU seconds per 1,000
//! registrants (user + system time of this process only, from `/proc/self/stat`), OMC's peak
//! RSS (`VmHWM`), each emulator's CPU seconds during the run (what the machine's two cores were
//! also doing), MTS requests and the callbacks MTS made. Linux only. Exits non-zero unless
//! every registrant ends with a token and without a VID.

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
use omc::engine::WaitPolicy;
use omc::ledger::SqliteLedger;
use omc::mts::emulator::MtsEmulator;
use omc::odoo::OdooRegistry;
use omc::odoo::emulator::OdooEmulator;
use omc::runs::{RunRequest, RunSettings, Runner};
use omc::{Engine, EngineSettings, IdTypes, RunReport};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{ChildStdout, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

const USAGE: &str = "usage: bench --registrants N [--sink odoo|self-hosted] [--latency-ms L] \
                     [--batch-size B] [--in-flight F] [--poll-ms P] [--seed S] \
                     [--ledger FILE] [--json] [--log-format text|json]";

struct Args {
    registrants: usize,
    self_hosted: bool,
    latency_ms: u64,
    batch_size: usize,
    in_flight: usize,
    poll_ms: u64,
    seed: u64,
    ledger: Option<std::path::PathBuf>,
    json: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        registrants: 10_000,
        self_hosted: false,
        latency_ms: 0,
        batch_size: 500,
        in_flight: 2,
        poll_ms: 250,
        seed: 7,
        ledger: None,
        json: false,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--json" => args.json = true,
            "--help" | "-h" => return Err(USAGE.into()),
            _ => {
                let value = it.next().ok_or(format!("{flag} needs a value"))?;
                let number = || -> Result<u64, String> {
                    value
                        .parse()
                        .map_err(|_| format!("{flag} takes a whole number, got '{value}'"))
                };
                match flag.as_str() {
                    "--registrants" => args.registrants = number()? as usize,
                    "--latency-ms" => args.latency_ms = number()?,
                    "--batch-size" => args.batch_size = number()? as usize,
                    "--in-flight" => args.in_flight = number()? as usize,
                    "--poll-ms" => args.poll_ms = number()?,
                    "--seed" => args.seed = number()?,
                    "--ledger" => args.ledger = Some(value.clone().into()),
                    "--sink" => {
                        args.self_hosted = match value.as_str() {
                            "odoo" => false,
                            "self-hosted" => true,
                            other => return Err(format!("--sink: unknown sink '{other}'")),
                        }
                    }
                    other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
                }
            }
        }
    }
    Ok(args)
}

/// The emulator children: serve until stdin closes, then (MTS) print the callback counts.
async fn serve_child(kind: &str, params: &[String]) -> Result<(), String> {
    let number = |i: usize| -> Result<u64, String> {
        params
            .get(i)
            .and_then(|p| p.parse().ok())
            .ok_or(format!("{kind}: a number expected"))
    };
    let (stdin_closed, closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = stdin_closed.send(());
    });
    if kind == "--serve-odoo" {
        let odoo = OdooEmulator::builder()
            .database(DATABASE)
            .user(LOGIN, PASSWORD)
            .start()
            .await
            .map_err(|e| e.to_string())?;
        odoo.seed_sample(number(0)? as usize, number(1)?);
        outln!("{}", odoo.base_url());
        let _ = closed.await;
    } else {
        let mts = MtsEmulator::builder()
            .record_delay(Duration::from_millis(number(0)?))
            .start()
            .await
            .map_err(|e| e.to_string())?;
        outln!("{}", mts.base_url());
        let _ = closed.await;
        let stats = mts.callbacks_made();
        outln!(
            "{}",
            json!({"calls": stats.calls, "answered": stats.answered, "failed": stats.failed,
                   "requests": mts.received().len()})
        );
    }
    Ok(())
}

/// An emulator child process, killed when dropped.
struct Child {
    process: std::process::Child,
    stdout: BufReader<ChildStdout>,
}

impl Child {
    /// Starts this program with `args` and reads the URL it prints.
    fn spawn(args: &[String]) -> Result<(Self, Url), String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut process = std::process::Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", args[0]))?;
        let stdout = process.stdout.take().ok_or("no child stdout")?;
        let mut child = Self {
            process,
            stdout: BufReader::new(stdout),
        };
        let line = child.line().ok_or(format!("{} printed no URL", args[0]))?;
        let url = line
            .trim()
            .parse()
            .map_err(|e| format!("{}: {e}", args[0]))?;
        Ok((child, url))
    }

    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(n) if n > 0 => Some(line),
            _ => None,
        }
    }

    /// Closes the child's stdin and reads what it prints on the way out.
    fn finish(&mut self) -> Option<Value> {
        drop(self.process.stdin.take());
        serde_json::from_str(&self.line()?).ok()
    }
}

impl Child {
    /// The child's CPU time so far, in seconds.
    fn cpu_seconds(&self, ticks_per_second: f64) -> f64 {
        process_cpu_seconds(&self.process.id().to_string(), ticks_per_second)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// This process's user + system CPU time, in seconds.
fn cpu_seconds(ticks_per_second: f64) -> f64 {
    process_cpu_seconds("self", ticks_per_second)
}

/// The user + system CPU time of process `pid` (`self` for this one), in seconds.
fn process_cpu_seconds(pid: &str, ticks_per_second: f64) -> f64 {
    let mut stat = String::new();
    let read = std::fs::File::open(format!("/proc/{pid}/stat"))
        .and_then(|mut f| f.read_to_string(&mut stat));
    if read.is_err() {
        return 0.0;
    }
    // Fields after the parenthesised command name start at the third (state): utime and stime
    // are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / ticks_per_second
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// This process's peak resident set size, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The engine, configured as the demo does (OMC's default polling unless `--poll-ms` says
/// otherwise) with the benchmark's batching.
async fn engine(args: &Args, odoo_url: Url, mts_url: Url) -> Result<Engine, String> {
    let config = common::operator_config("bench", mts_url, odoo_url.clone())
        .with_batch_size(args.batch_size)
        .with_max_in_flight(args.in_flight)
        .build();
    let mut settings = EngineSettings::from(&config);
    settings.wait = {
        let mut wait = WaitPolicy::default();
        wait.poll_interval = Duration::from_millis(args.poll_ms);
        wait
    };
    let connector = if args.self_hosted {
        let registry = Arc::new(OdooRegistry::new(
            common::odoo_client(odoo_url)?,
            IdTypes::default(),
        ));
        let sink = Arc::new(common::self_hosted(registry).await?);
        Connector::with_sink(&config, settings, sink)
    } else {
        Connector::new(&config, settings)
    };
    Ok(connector.map_err(|e| e.to_string())?.engine)
}

/// What one run measured.
struct Measured {
    report: RunReport,
    seconds: f64,
    cpu_seconds: f64,
    /// The Odoo and MTS emulators' CPU seconds during the run.
    emulators_cpu_seconds: (f64, f64),
    tokens: u64,
    vids: u64,
    callbacks: Value,
}

fn summary(args: &Args, m: &Measured) -> Value {
    let n = args.registrants as f64;
    let per_thousand = if n > 0.0 {
        m.cpu_seconds * 1000.0 / n
    } else {
        0.0
    };
    json!({
        "sink": if args.self_hosted { "self-hosted" } else { "odoo" },
        "ledger": args.ledger.is_some(),
        "registrants": args.registrants,
        "tokenized": m.report.tokenised,
        "seconds": m.seconds,
        "registrants_per_second": if m.seconds > 0.0 { n / m.seconds } else { 0.0 },
        "omc_cpu_seconds": m.cpu_seconds,
        "omc_cpu_seconds_per_1000": per_thousand,
        "omc_cpu_share_of_wall": if m.seconds > 0.0 { m.cpu_seconds / m.seconds } else { 0.0 },
        "peak_rss_mb": peak_rss_mb(),
        "odoo_emulator_cpu_seconds": m.emulators_cpu_seconds.0,
        "mts_emulator_cpu_seconds": m.emulators_cpu_seconds.1,
        "mts_requests": m.report.requests,
        "mts_callbacks": m.callbacks["calls"],
        "mts_callbacks_failed": m.callbacks["failed"],
        "registry_tokens": m.tokens,
        "registry_vids": m.vids,
        "pending": m.report.pending,
        "failed": m.report.failed_total(),
        "batch_errors": m.report.batch_errors,
        "latency_ms": args.latency_ms,
        "batch_size": args.batch_size,
        "in_flight": args.in_flight,
        "poll_ms": args.poll_ms,
    })
}

async fn run(args: &Args) -> Result<bool, String> {
    let (odoo, odoo_url) = Child::spawn(&[
        "--serve-odoo".into(),
        args.registrants.to_string(),
        args.seed.to_string(),
    ])?;
    let (mut mts, mts_url) = Child::spawn(&["--serve-mts".into(), args.latency_ms.to_string()])?;
    let engine = engine(args, odoo_url.clone(), mts_url).await?;
    let ticks = clock_ticks();
    let cpu_before = cpu_seconds(ticks);
    let emulators_before = (odoo.cpu_seconds(ticks), mts.cpu_seconds(ticks));
    let started = Instant::now();
    let report = match &args.ledger {
        None => engine.run_once().await.map_err(|e| format!("run: {e}"))?,
        Some(path) => with_ledger(engine, path).await?,
    };
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds(ticks) - cpu_before;
    let emulators_cpu_seconds = (
        odoo.cpu_seconds(ticks) - emulators_before.0,
        mts.cpu_seconds(ticks) - emulators_before.1,
    );
    let client = common::odoo_client(odoo_url)?;
    let id_types = IdTypes::default();
    let measured = Measured {
        tokens: common::count_ids(&client, &id_types.token).await?,
        vids: common::count_ids(&client, &id_types.vid).await?,
        callbacks: mts.finish().unwrap_or(Value::Null),
        report,
        seconds,
        cpu_seconds,
        emulators_cpu_seconds,
    };
    let s = summary(args, &measured);
    if args.json {
        outln!("{s}");
    } else {
        outln!("OMC bench: one tokenisation, emulators in child processes");
        for (key, value) in s.as_object().into_iter().flatten() {
            outln!("  {key:<26} {value}");
        }
    }
    let n = args.registrants as u64;
    Ok(measured.report.tokenised == n && measured.tokens == n && measured.vids == 0)
}

/// One full run of a `Runner` over a new SQLite ledger at `path`.
async fn with_ledger(engine: Engine, path: &std::path::Path) -> Result<RunReport, String> {
    for stale in [path.to_owned(), path.with_extension("sqlite-wal")] {
        let _ = std::fs::remove_file(stale);
    }
    let ledger = SqliteLedger::open(path).map_err(|e| format!("ledger: {e}"))?;
    let runner = Runner::new(engine, Arc::new(ledger), RunSettings::default());
    let lock = runner.lock("bench").await.map_err(|e| e.to_string())?;
    let end = runner
        .run(&lock, RunRequest::Full)
        .await
        .map_err(|e| format!("run: {e}"))?;
    match end.error {
        None => Ok(end.report),
        Some(e) => Err(format!("run: {e}")),
    }
}

/// The logging flags, and the bench's own (read by `parse_args`).
#[derive(Debug, clap::Parser)]
#[command(name = "bench", disable_help_flag = true)]
struct Cli {
    #[command(flatten)]
    log: logging::LogArgs,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    cli.log.install();
    let argv = cli.rest;
    if let Some(kind @ ("--serve-odoo" | "--serve-mts")) = argv.first().map(String::as_str) {
        return match serve_child(kind, &argv[1..]).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                errln!("bench {kind}: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args(argv.into_iter()) {
        Ok(args) => args,
        Err(message) => {
            errln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            errln!("bench: not every registrant was tokenised");
            ExitCode::FAILURE
        }
        Err(message) => {
            errln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}
