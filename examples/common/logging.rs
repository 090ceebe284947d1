//! The example programs' logs: a `tracing` subscriber writing to stderr (stdout stays the
//! program's output), filtered by `RUST_LOG` (default `info`; `RUST_LOG=debug` shows each
//! batch), human-readable (coloured on a terminal) or, with `--log-format json`, one JSON
//! object a line for log collectors.
//!
//! Every example program includes this file after `output.rs`
//! (`#[path = "common/logging.rs"] mod logging;`) and starts with [`init`].

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Set when the logs are JSON lines, so that [`error`] writes one too.
static JSON: AtomicBool = AtomicBool::new(false);

/// Takes `--log-format text|json` (or `--log-format=json`) out of the program's arguments,
/// installs the subscriber and returns the other arguments. An unknown format installs the
/// text format and is the error.
pub(crate) fn init() -> Result<Vec<String>, String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut format = Ok("text".to_owned());
    if let Some(at) = args
        .iter()
        .position(|a| a == "--log-format" || a.starts_with("--log-format="))
    {
        let flag = args.remove(at);
        format = match flag.split_once('=') {
            Some((_, value)) => Ok(value.to_owned()),
            None if at < args.len() => Ok(args.remove(at)),
            None => Err("--log-format needs a value: text or json".to_owned()),
        };
    }
    let json = match format.as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        Ok(other) => {
            format = Err(format!("--log-format: '{other}' is neither text nor json"));
            false
        }
        Err(_) => false,
    };
    install(json);
    format.map(|_| args)
}

/// Installs the subscriber: `RUST_LOG`'s directives (invalid ones ignored), `info` without it.
fn install(json: bool) {
    JSON.store(json, Ordering::Relaxed);
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .from_env_lossy();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A closed stderr is no reason to print about it on stderr (and panic).
        .log_internal_errors(false);
    let installed = if json {
        builder.json().with_ansi(false).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    if let Err(error) = installed {
        crate::output::stderr(format_args!("logging not installed: {error}\n"));
    }
}

/// Says on stderr why the program stops: the message as it is, or, with `--log-format json`,
/// as a JSON line like the logs' (`level`, `target`, `fields.message`).
#[allow(dead_code)] // each program uses its own part of this module
pub(crate) fn error(target: &str, message: &str) {
    if JSON.load(Ordering::Relaxed) {
        let line = serde_json::json!({
            "level": "ERROR",
            "fields": { "message": message },
            "target": target,
        });
        crate::output::stderr(format_args!("{line}\n"));
    } else {
        crate::output::stderr(format_args!("{message}\n"));
    }
}
