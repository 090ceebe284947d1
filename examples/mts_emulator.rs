//! Runs the MTS emulator on its own, for demos and manual testing against the connector.
//!
//! ```text
//! cargo run --example mts_emulator -- [--host 127.0.0.1] [--port 0] \
//!     [--partner-id mpartner-default-omc] [--record-delay-ms 0]
//! ```
//!
//! Prints the MTS base URL on its first line, then the partner id, and serves until the process
//! is interrupted.

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "../src/cli/output.rs"]
mod output;
#[path = "../src/cli/logging.rs"]
mod logging;

use clap::Parser;
use omc_mts::emulator::MtsEmulator;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

/// The MTS emulator: MOSIP Token Seeder's API with `mts-mock`'s tokens, on loopback by default.
#[derive(Debug, Parser)]
#[command(name = "mts_emulator", version)]
struct Args {
    #[command(flatten)]
    log: logging::LogArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The partner id whose tokens it computes (default: the emulator's own).
    #[arg(long)]
    partner_id: Option<String>,
    /// How long each record takes to process, in milliseconds.
    #[arg(long, default_value_t = 0)]
    record_delay_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    args.log.install();
    let mut emulator = MtsEmulator::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .record_delay(Duration::from_millis(args.record_delay_ms));
    if let Some(partner_id) = &args.partner_id {
        emulator = emulator.partner_id(partner_id.clone());
    }
    let mts = match emulator.start().await {
        Ok(mts) => mts,
        Err(error) => {
            errln!("cannot start the MTS emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    outln!("{}", mts.base_url());
    outln!(
        "MTS emulator at {}: set mts_url to it; tokens for partner id {}",
        mts.base_url(),
        args.partner_id.as_deref().unwrap_or("mpartner-default-omc")
    );
    // Serve until the process is interrupted (Ctrl-C ends it).
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
