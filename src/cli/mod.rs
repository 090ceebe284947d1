//! The `omc` command (feature `cli`): check a configuration, import one from OpenG2P, run a
//! connector (once, or as a service with `/healthz` and `/metrics`), import chosen registrants,
//! and read the run ledger.
//!
//! ```text
//! omc config check FILE [--online]
//! omc config import-openg2p EXPORT.json
//! omc run FILE [--once] [--full | --delta] [--http ADDR]
//! omc import FILE (--ids 1,2,3 | --ids-file F | --domain D | --csv F)
//! omc status FILE [--ids] [--json]
//! ```
//!
//! Secrets come from the environment or files named in the configuration; `OMC_*` variables
//! override the file's settings (docs/OPERATIONS.md). The run ledger is the file the
//! configuration's `ledger` names (default `omc-ledger.sqlite` beside the configuration).

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
pub(crate) mod output;
mod check;
mod diagnose;
mod http;
mod ledger;
pub(crate) mod logging;
mod metrics;
mod online;
mod progress;
mod receiver;
mod service;

use clap::{Args, Parser, Subcommand};
use logging::LogArgs;
use omc_core::ConnectorConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The OpenG2P registry ↔ MOSIP Token Seeder connector.
#[derive(Debug, Parser)]
#[command(name = "omc", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a configuration, or write one from an OpenG2P connector's export.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the connector: as a service on its schedule (the daily delta), or once.
    Run(RunArgs),
    /// Tokenise chosen registrants now (a manual import).
    Import(ImportArgs),
    /// What the run ledger remembers: the last runs, what is pending or failed, the next run.
    Status(StatusArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Check a configuration and show what a run would send; with --online, also against
    /// the running registry and MTS.
    Check {
        /// The connector's configuration (TOML).
        file: PathBuf,
        /// Also log in to the registry as OMC and as MTS would, check the id types, the
        /// filters and fields against the registry's own model and count what the filter
        /// selects, and ask MTS for its ping and authfields (one line per check; exit 1 if
        /// one fails).
        #[arg(long)]
        online: bool,
    },
    /// Write a configuration (TOML, on stdout) from an OpenG2P `mts.connector` export (JSON).
    #[command(name = "import-openg2p")]
    ImportOpenG2p {
        /// The export.
        export: PathBuf,
    },
}

/// `omc run`'s arguments.
#[derive(Debug, Args)]
struct RunArgs {
    /// The connector's configuration (TOML).
    file: PathBuf,
    /// One run, then exit with its status (a recurring connector otherwise runs on its
    /// schedule until SIGTERM).
    #[arg(long)]
    once: bool,
    /// A full run over every registrant the filter selects (otherwise what the ledger says is
    /// due: a delta, or a full sweep).
    #[arg(long, conflicts_with = "delta")]
    full: bool,
    /// A delta: the registrants changed since the last completed run, and the pending.
    #[arg(long)]
    delta: bool,
    /// Serve /healthz and /metrics (Prometheus) at this address, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
}

/// `omc import`'s arguments.
#[derive(Debug, Args)]
struct ImportArgs {
    /// The connector's configuration (TOML).
    file: PathBuf,
    #[command(flatten)]
    chosen: Chosen,
}

/// Which registrants an import tokenises: exactly one of these.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Chosen {
    /// Registrant ids, separated by commas or spaces.
    #[arg(long, value_name = "IDS")]
    ids: Option<String>,
    /// A file of registrant ids, one per line (or separated by commas).
    #[arg(long, value_name = "FILE")]
    ids_file: Option<PathBuf>,
    /// An Odoo domain, AND-ed with "holds a VID and no token".
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// A CSV of `registrant_id,vid` rows: the VIDs are stored, then tokenised.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// `omc status`'s arguments.
#[derive(Debug, Args)]
struct StatusArgs {
    /// The connector's configuration (TOML).
    file: PathBuf,
    /// Also list every pending and failed registrant id (with its code).
    #[arg(long)]
    ids: bool,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the `omc` command with the process's arguments and returns its exit status
/// (docs/OPERATIONS.md: 0 done, 1 could not run, 2 wrong command line, 3 some pending,
/// 4 interrupted).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; a wrong command line to stderr.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    cli.log.install();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            logging::error("omc", &format!("cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    logging::clear_bar();
    match result {
        Ok(code) => code,
        Err(message) => {
            logging::error("omc", &message);
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Config(ConfigCommand::Check { file, online }) => {
            let config = check::check(&file)?;
            if online {
                Ok(online::check(&config).await)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Config(ConfigCommand::ImportOpenG2p { export }) => check::import_openg2p(&export),
        Command::Run(args) => service::run(args).await,
        Command::Import(args) => ledger::import(&args.file, args.chosen).await,
        Command::Status(args) => ledger::status(&args.file, args.ids, args.json).await,
    }
}

/// The configuration at `path`, or every problem it has in one message.
fn load(path: &Path) -> Result<ConnectorConfig, String> {
    ConnectorConfig::load(path).map_err(|e| e.to_string())
}
