//! Runs the MTS emulator on its own, for demos and manual testing against the connector.
//!
//! ```text
//! cargo run --example mts_emulator -- [--host 127.0.0.1] [--port 0] \
//!     [--partner-id mpartner-default-omc] [--record-delay-ms 0]
//! ```
//!
//! Prints the MTS base URL on stdout, then serves until the process is interrupted.

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "common/output.rs"]
mod output;
#[path = "common/logging.rs"]
mod logging;

use omc_mts::emulator::MtsEmulator;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

struct Args {
    host: IpAddr,
    port: u16,
    partner_id: Option<String>,
    record_delay: Duration,
}

const FLAGS: &str =
    "[--host IP] [--port N] [--partner-id ID] [--record-delay-ms N] [--log-format text|json]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        host: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        partner_id: None,
        record_delay: Duration::ZERO,
    };
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            outln!("usage: mts_emulator {FLAGS}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--host" => parsed.host = value.parse().map_err(|e| bad(&e))?,
            "--port" => parsed.port = value.parse().map_err(|e| bad(&e))?,
            "--partner-id" => parsed.partner_id = Some(value),
            "--record-delay-ms" => {
                parsed.record_delay = Duration::from_millis(value.parse().map_err(|e| bad(&e))?);
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() {
    let args = match logging::init().and_then(|args| parse(args.into_iter())) {
        Ok(args) => args,
        Err(message) => {
            errln!("{message}\nusage: mts_emulator {FLAGS}");
            std::process::exit(2);
        }
    };
    let mut emulator = MtsEmulator::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .record_delay(args.record_delay);
    if let Some(partner_id) = args.partner_id {
        emulator = emulator.partner_id(partner_id);
    }
    let mts = match emulator.start().await {
        Ok(mts) => mts,
        Err(error) => {
            errln!("cannot start the MTS emulator: {error}");
            std::process::exit(1);
        }
    };
    outln!("{}", mts.base_url());
    // Serve until the process is interrupted (Ctrl-C ends it).
    std::future::pending::<()>().await;
}
