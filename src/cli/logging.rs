//! The programs' logs: a `tracing` subscriber writing to stderr (stdout stays the program's
//! output), filtered by `RUST_LOG` (default `info`; `RUST_LOG=debug` shows each batch),
//! human-readable (coloured on a terminal) or, with `--log-format json`, one JSON object a line
//! for log collectors.
//!
//! The `omc` command and every example program share this file (the examples include it with
//! `#[path = "../src/cli/logging.rs"] mod logging;` after `output.rs`): each flattens
//! [`LogArgs`] into its `clap` arguments and calls [`LogArgs::install`] first.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Set when the logs are JSON lines, so that [`error`] writes one too.
static JSON: AtomicBool = AtomicBool::new(false);

/// The live progress line on a terminal, if one is drawn: log lines are written above it.
static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// The logging flags every program takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LogArgs {
    /// Logs on stderr as text or JSON lines (filtered by RUST_LOG, default info).
    #[arg(long, value_enum, default_value_t, global = true)]
    pub(crate) log_format: LogFormat,
}

impl LogArgs {
    /// Installs the subscriber: `RUST_LOG`'s directives (invalid ones ignored), `info` without
    /// it.
    pub(crate) fn install(&self) {
        let json = self.log_format == LogFormat::Json;
        JSON.store(json, Ordering::Relaxed);
        let filter = EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .from_env_lossy();
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(|| AboveTheBar)
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
            super::output::stderr(format_args!("logging not installed: {error}\n"));
        }
    }
}

/// Whether logs are human-readable lines on a terminal (where a live progress line fits).
#[allow(dead_code)] // each program uses its own part of this module
pub(crate) fn on_a_terminal() -> bool {
    !JSON.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// Draws `bar` below the log lines until [`clear_bar`].
#[allow(dead_code)] // each program uses its own part of this module
pub(crate) fn show_bar(bar: indicatif::ProgressBar) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
}

/// Removes the progress line.
#[allow(dead_code)] // each program uses its own part of this module
pub(crate) fn clear_bar() {
    if let Some(bar) = BAR.lock().unwrap_or_else(|e| e.into_inner()).take() {
        bar.finish_and_clear();
    }
}

/// Stderr, with the progress line (if any) lifted while a log line is written.
struct AboveTheBar;

impl Write for AboveTheBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Says on stderr why the program stops: the message as it is, or, with `--log-format json`,
/// as a JSON line like the logs' (`level`, `target`, `fields.message`).
#[allow(dead_code)] // each program uses its own part of this module
pub(crate) fn error(target: &str, message: &str) {
    clear_bar();
    if JSON.load(Ordering::Relaxed) {
        let line = serde_json::json!({
            "level": "ERROR",
            "fields": { "message": message },
            "target": target,
        });
        super::output::stderr(format_args!("{line}\n"));
    } else {
        super::output::stderr(format_args!("{message}\n"));
    }
}
